"""Li diffusion in LiFePO4 along [010] (path b) and [001] (path c): climbing-image NEB.

ML-PEG's end points are 111-atom supercells with one Li vacancy; the path-b end point lists
its atoms in another order, so each end point is first matched atom by atom to the start.
Both end points are relaxed (positions) by the model before the band.
"""

from pathlib import Path

from ase.io import read

from mlpeg.calc.kinds import NEB
from mlpeg.calc.tasks import Reference, Task
from mlpeg.data import fetch, read_manifest
from mlpeg.materials import reorder_like

FILES = read_manifest(Path(__file__).with_name("data.sha256"))
DATA = "ml_peg/calcs/nebs/li_diffusion/data"
BARRIERS = {"path_b": 0.27, "path_c": 2.5}  # eV, Morgan, Van der Ven, Ceder (2004)


def _structure(name: str):
    atoms = read(fetch(FILES[f"{DATA}/{name}.cif"]))
    atoms.info.update(charge=0, spin=1)
    return atoms


#: Band settings. Quick (the default): 3 images and 0.1 eV/Å, 6–30 minutes per path for
#: CHGNet or SevenNet on two CPU cores (a force call on the 111-atom cell takes 1–2 s).
#: Full (``--full``): 7 images and 0.05 eV/Å, as the benchmark is defined.
QUICK = {"n_images": 3, "fmax": 0.1, "max_steps": 200, "endpoint_fmax": 0.1}
FULL = {"n_images": 7, "fmax": 0.05, "max_steps": 500, "endpoint_fmax": 0.05}


def tasks(*, full: bool = False) -> list[Task]:
    start = _structure("LiFePO4_start_bc")
    settings = FULL if full else QUICK
    return [
        Task(
            path,
            "neb",
            start,
            NEB(
                final=reorder_like(start, _structure(f"LiFePO4_end_{path[-1]}")),
                climb=True,
                relax_endpoints=True,
                **settings,
            ),
        )
        for path in BARRIERS
    ]


def references() -> list[Reference]:
    return [
        Reference(
            path,
            "barrier",
            value,
            "eV",
            None,
            "GGA (Perdew–Wang)",
            "Morgan, Van der Ven, Ceder, Electrochem. Solid-State Lett. 7, A30 (2004)",
        )
        for path, value in BARRIERS.items()
    ]
