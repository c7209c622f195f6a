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


#: Quick band (the default): single points on 5 images interpolated (IDPP) between the
#: end points as given, with nothing relaxed: 7 force calls per path, about a minute per
#: model on two CPU cores. Without relaxation its barrier is an upper bound of the NEB
#: barrier, so quick-band scores are labelled as such.
#: Full (``--full``): end points relaxed, then a climbing-image NEB with 7 images and
#: fmax 0.05 eV/Å, as the benchmark is defined (a job for a GPU: a force call on the
#: 111-atom cell takes 1–2 s on two CPU cores).
QUICK = {"n_images": 5, "max_steps": 0, "relax_endpoints": False}
FULL = {
    "n_images": 7,
    "fmax": 0.05,
    "max_steps": 500,
    "relax_endpoints": True,
    "endpoint_fmax": 0.05,
}


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
