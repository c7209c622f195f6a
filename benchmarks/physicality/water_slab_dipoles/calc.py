"""Water slab dipoles: does a model keep a 38 Å water slab from polarising?

ML-PEG's slab of 192 water molecules is run with NVT molecular dynamics; the views compute
the total z dipole per unit area of each stored frame with fixed point charges
(q_O = −0.5562 e, q_H = +0.2781 e) and compare it with the dipole at which the potential drop
across the slab would close water's band gap (4.45 V · ε₀).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from ase.io import read
from scipy.constants import e, epsilon_0

from mlpeg.calc.kinds import MolecularDynamics
from mlpeg.calc.tasks import Reference, Task
from mlpeg.data import fetch, read_manifest
from mlpeg.errors import DataError

FILES = read_manifest(Path(__file__).with_name("data.sha256"))
SLAB = "ml_peg/calcs/physicality/water_slab_dipoles/data/init_38A_slab.xyz"
#: |P_z|/A above 4.45 V · ε₀ closes the gap (arXiv:2603.04228), in e/Å.
BREAKDOWN = 4.45 * epsilon_0 / e * 1e-10
#: Full: ML-PEG's 200,000 steps of 1 fs, a frame every 500. Quick: 40 steps, every 4.
BANDS = {
    False: {"n_steps": 40, "frame_stride": 4},
    True: {"n_steps": 200_000, "frame_stride": 500},
}
SOURCE = "4.45 V · ε₀ band-gap criterion (arXiv:2603.04228), as ML-PEG"


def slab():
    """Return ML-PEG's slab (upper-triangular cell, as ML-PEG sets it; charge 0, spin 1)."""
    path = fetch(FILES[SLAB])
    try:
        atoms = read(path, index=-1)
    except Exception as exc:
        raise DataError(f"{path}: cannot read the slab ({exc}).") from exc
    if (
        sorted(set(atoms.numbers)) != [1, 8]
        or (atoms.numbers == 1).sum() != 2 * (atoms.numbers == 8).sum()
    ):
        raise DataError(f"{path}: expected water only (O, H, H).")
    atoms.set_cell(np.triu(atoms.cell.array))
    atoms.info = {"charge": 0, "spin": 1}
    return atoms


def tasks(*, full: bool = False) -> list[Task]:
    band = BANDS[full]
    kind = MolecularDynamics(
        ensemble="nvt",
        n_steps=band["n_steps"],
        timestep_fs=1.0,
        temperature_K=300.0,
        friction_per_fs=0.01,
        frame_stride=band["frame_stride"],
        seed=0,
    )
    return [Task("slab_38A", "nvt", slab(), kind)]


def references() -> list[Reference]:
    return [Reference("slab_38A", "breakdown_dipole", BREAKDOWN, "e/Å", None, None, SOURCE)]
