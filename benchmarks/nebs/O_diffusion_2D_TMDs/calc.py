"""O adatom diffusion on 2H MX2 monolayers (Mo, W; S, Se, Te): climbing-image NEB.

Each monolayer is built with ``ase.build.mx2`` at the in-plane lattice constant ML-PEG
documents (from Liu et al.), as an n×n supercell with 20 Å of vacuum. One O atom sits on
top of a chalcogen of the upper layer; the end point has it on top of the neighbouring
chalcogen along a. Each model relaxes both end points and runs a climbing-image NEB; the
barrier is the highest image minus the initial one. The PBE reference barriers are
``REF_VALUES`` in ML-PEG's analysis file, read here with ``ast`` (never retyped).
"""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

from ase import Atoms
from ase.build import mx2

from mlpeg.calc.kinds import NEB
from mlpeg.calc.tasks import Reference, Task
from mlpeg.data import fetch, read_manifest
from mlpeg.errors import DataError

FILES = read_manifest(Path(__file__).with_name("data.sha256"))
ANALYSIS = "ml_peg/analysis/nebs/O_diffusion_2D_TMDs/analyse_O_diffusion_2D_TMDs.py"
SOURCE = "Liu et al., RSC Adv. (2015), doi 10.1039/C4RA17320A, via ML-PEG's REF_VALUES"

#: In-plane lattice constants (Å) from ML-PEG's documentation of the benchmark (Liu et al.).
LATTICE = {
    "MoS2": 3.183,
    "MoSe2": 3.318,
    "MoTe2": 3.547,
    "WS2": 3.182,
    "WSe2": 3.317,
    "WTe2": 3.551,
}
#: Initial O height above the chalcogen (Å): ML-PEG's "around 1.5–1.7 Å depending on the
#: chalcogen atom", taken as 1.5 (S), 1.6 (Se) and 1.7 (Te).
O_HEIGHT = {"S": 1.5, "Se": 1.6, "Te": 1.7}
VACUUM = 10.0  # Å on each side of the layer

#: Full band as ML-PEG: 6×6 supercells, 11 images; the band relaxed to 0.05 eV/Å.
FULL = {"size": 6, "compounds": tuple(LATTICE), "n_images": 11, "fmax": 0.05, "max_steps": 500}
#: Quick band: 3×3 supercells of MoS2 and WTe2 (the highest and lowest reference
#: barriers), 3 images, 0.1 eV/Å.
QUICK = {"size": 3, "compounds": ("MoS2", "WTe2"), "n_images": 3, "fmax": 0.1, "max_steps": 300}


def read_ref_values(path: Path) -> dict[str, float]:
    """Return the ``REF_VALUES`` dict assigned at the top level of a Python file.

    Parameters
    ----------
    path
        ML-PEG's analysis module (read as text and parsed, never imported).

    Returns
    -------
    dict
        Compound → barrier (eV).

    Raises
    ------
    DataError
        When the file does not parse or assigns no literal ``REF_VALUES`` dict of numbers.
    """
    try:
        tree = ast.parse(path.read_text(), filename=str(path))
    except (OSError, SyntaxError, ValueError) as exc:
        raise DataError(f"Cannot parse {path} as Python ({exc}).") from exc
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if any(isinstance(t, ast.Name) and t.id == "REF_VALUES" for t in targets):
            try:
                values = ast.literal_eval(node.value)
            except ValueError as exc:
                raise DataError(f"{path}: REF_VALUES is not a literal ({exc}).") from exc
            if not isinstance(values, dict) or not all(
                isinstance(v, int | float) for v in values.values()
            ):
                raise DataError(f"{path}: REF_VALUES is not a dict of numbers.")
            return {str(k): float(v) for k, v in values.items()}
    raise DataError(f"{path} assigns no REF_VALUES.")


@functools.cache
def barriers() -> dict[str, float]:
    """The reference PBE barriers (eV) from the pinned analysis file."""
    values = read_ref_values(fetch(FILES[ANALYSIS]))
    missing = set(LATTICE) - set(values)
    if missing:
        raise DataError(f"REF_VALUES has no barrier for {', '.join(sorted(missing))}.")
    return values


def end_points(compound: str, size: int) -> tuple[Atoms, Atoms]:
    """Return the monolayer with O on top of one upper chalcogen, and on the next one.

    Parameters
    ----------
    compound
        ``MoS2``, ``MoSe2``, ``MoTe2``, ``WS2``, ``WSe2`` or ``WTe2``.
    size
        The supercell is size × size primitive cells.

    Returns
    -------
    (Atoms, Atoms)
        Initial and final structures, the same atoms in the same order.

    Notes
    -----
    The layer thickness (chalcogen–chalcogen height) starts equal to the lattice constant,
    within 2 % of the PBE thicknesses of these monolayers; each model relaxes it.
    """
    a = LATTICE[compound]
    layer = mx2(compound, kind="2H", a=a, thickness=a, size=(size, size, 1), vacuum=VACUUM)
    chalcogen = re.fullmatch(r"(?:Mo|W)(S|Se|Te)2", compound)[1]
    top = max(range(len(layer)), key=lambda i: (layer.positions[i, 2], -layer.positions[i, 0]))
    if layer[top].symbol != chalcogen:
        raise DataError(f"{compound}: the highest atom is {layer[top].symbol}, not {chalcogen}.")
    ends = []
    for shift in (0.0, 1.0):
        atoms = layer.copy()
        x, y, z = layer.positions[top] + shift * layer.cell[0] / size
        atoms.append("O")
        atoms.positions[-1] = (x, y, z + O_HEIGHT[chalcogen])
        atoms.info.update(charge=0, spin=1)
        ends.append(atoms)
    return ends[0], ends[1]


def tasks(*, full: bool = False) -> list[Task]:
    """One climbing-image NEB per compound of the band."""
    band = FULL if full else QUICK
    tasks = []
    for compound in band["compounds"]:
        initial, final = end_points(compound, band["size"])
        kind = NEB(
            final=final,
            n_images=band["n_images"],
            climb=True,
            fmax=band["fmax"],
            max_steps=band["max_steps"],
            relax_endpoints=True,
            endpoint_fmax=band["fmax"],
            interpolation="idpp",
            require_convergence=True,
        )
        tasks.append(Task(compound, "neb", initial, kind))
    return tasks


def references() -> list[Reference]:
    """The PBE barrier of each compound (eV)."""
    return [
        Reference(compound, "barrier", value, "eV", None, "PBE", SOURCE)
        for compound, value in barriers().items()
        if compound in LATTICE
    ]
