"""Oxidation states of aqueous iron: Fe–O distances in Fe(II) and Fe(III) chloride solutions.

ML-PEG's start structures (one Fe, two or three Cl⁻ and 112 water molecules in a cubic box)
are run with NVT molecular dynamics; the views build the Fe–O radial distribution function
from the stored frames and compare its first peak with the experimental ranges. A model
that tells the oxidation states apart gives Fe(III) a shorter Fe–O distance.
"""

from __future__ import annotations

from pathlib import Path

from ase.io import read

from mlpeg.calc.kinds import MolecularDynamics
from mlpeg.calc.tasks import Reference, Task
from mlpeg.data import fetch, read_manifest
from mlpeg.errors import DataError
from mlpeg.models.capabilities import IMPLICIT_STATE_KEY

FILES = read_manifest(Path(__file__).with_name("data.sha256"))
DATA = "ml_peg/calcs/physicality/oxidation_states/data"
SALTS = ("Fe2Cl", "Fe3Cl")
#: Experimental first-shell Fe–O distance ranges (Å), as ML-PEG's analysis states them.
PEAK_RANGES = {"Fe2Cl": (2.0, 2.2), "Fe3Cl": (1.9, 2.05)}
#: Full: ML-PEG's 40,000 steps of 0.5 fs (20 ps), a frame every 100 steps. Quick: 40 steps.
BANDS = {
    False: {"n_steps": 40, "frame_stride": 4},
    True: {"n_steps": 40_000, "frame_stride": 100},
}
SOURCE = "Experimental Fe–O distance ranges as used by ML-PEG (oxidation_states analysis)"


def structure(salt: str):
    """Return ML-PEG's start structure of one salt solution (charge 0, its spin)."""
    path = fetch(FILES[f"{DATA}/{salt}_start.xyz"])
    try:
        atoms = read(path, index=0)
    except Exception as exc:
        raise DataError(f"{path}: cannot read the structure ({exc}).") from exc
    if (atoms.numbers == 26).sum() != 1 or not atoms.cell.orthorhombic:
        raise DataError(f"{path}: expected one Fe atom in an orthorhombic box.")
    atoms.info = {
        "charge": int(atoms.info.get("charge", 0)),
        "spin": int(atoms.info.get("spin", 1)),
        # the question is whether a model infers Fe(II) or Fe(III) from the chlorides and
        # waters around it: a spin-blind model runs the box as it is, as in ML-PEG
        IMPLICIT_STATE_KEY: True,
    }
    return atoms


def tasks(*, full: bool = False) -> list[Task]:
    band = BANDS[full]
    return [
        Task(
            salt,
            "nvt",
            structure(salt),
            MolecularDynamics(
                ensemble="nvt",
                n_steps=band["n_steps"],
                timestep_fs=0.5,
                temperature_K=300.0,
                friction_per_fs=0.02,
                frame_stride=band["frame_stride"],
                seed=0,
            ),
        )
        for salt in SALTS
    ]


def references() -> list[Reference]:
    return [
        Reference(salt, quantity, value, "Å", None, "experiment", SOURCE)
        for salt, (low, high) in PEAK_RANGES.items()
        for quantity, value in (("peak_low", low), ("peak_high", high))
    ]
