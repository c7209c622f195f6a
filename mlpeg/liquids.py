"""Liquid water boxes built with ASE, and the densities of water trajectories."""

from __future__ import annotations

import numpy as np
from ase import Atoms
from ase.build import molecule
from ase.units import _amu

#: Molar mass of H2O (g/mol), IUPAC standard atomic weights.
WATER_MOLAR_MASS = 18.01528
#: Grams per amu times cm³ per Å³ folded: ρ[g/cm³] = mass[amu] · AMU_PER_A3_TO_G_PER_CM3 / V[Å³].
AMU_PER_A3_TO_G_PER_CM3 = _amu * 1e3 / 1e-24


def density_g_cm3(mass_amu: float, volume_a3: float) -> float:
    """Return the density in g/cm³ of ``mass_amu`` atomic mass units in ``volume_a3`` Å³."""
    return float(mass_amu * AMU_PER_A3_TO_G_PER_CM3 / volume_a3)


def _random_rotation(rng: np.random.Generator) -> np.ndarray:
    q = rng.normal(size=4)
    a, b, c, d = q / np.linalg.norm(q)
    return np.array(
        [
            [a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c)],
            [2 * (b * c + a * d), a * a - b * b + c * c - d * d, 2 * (c * d - a * b)],
            [2 * (b * d - a * c), 2 * (c * d + a * b), a * a - b * b - c * c + d * d],
        ]
    )


def water_box(
    n_per_side: int, *, density: float = 1.0, seed: int = 0, min_distance: float = 1.7
) -> Atoms:
    """Return a periodic cubic box of n³ randomly oriented water molecules.

    Molecules sit on a simple-cubic grid sized for ``density`` (g/cm³); each is rotated at
    random (seeded) until no atom is closer than ``min_distance`` Å to an atom of a
    molecule already placed (minimum image).

    Parameters
    ----------
    n_per_side
        Molecules along each edge (n³ molecules, 3 n³ atoms).
    density
        Target density in g/cm³.
    seed
        Seed of the orientations (the box is reproducible).
    min_distance
        Smallest intermolecular atom–atom distance accepted (Å).

    Returns
    -------
    Atoms
        The box, oxygen first in each molecule (O, H, H), with charge 0 and spin 1.
    """
    n_molecules = n_per_side**3
    mass = n_molecules * WATER_MOLAR_MASS  # amu
    length = (mass * AMU_PER_A3_TO_G_PER_CM3 / density) ** (1 / 3)
    spacing = length / n_per_side
    rng = np.random.default_rng(seed)
    template = molecule("H2O")
    template.positions -= template.positions[0]
    box = Atoms(cell=np.eye(3) * length, pbc=True)
    for index in np.ndindex(n_per_side, n_per_side, n_per_side):
        centre = (np.array(index) + 0.5) * spacing
        for _ in range(200):
            trial = template.copy()
            trial.positions = trial.positions @ _random_rotation(rng).T + centre
            if not len(box) or _min_image_distance(box, trial) >= min_distance:
                break
        else:
            raise ValueError(f"no orientation keeps {min_distance} Å at density {density}")
        box += trial
    box.info.update(charge=0, spin=1)
    return box


def _min_image_distance(box: Atoms, trial: Atoms) -> float:
    lengths = box.cell.lengths()
    delta = trial.positions[:, None, :] - box.positions[None, :, :]
    delta -= np.round(delta / lengths) * lengths
    return float(np.sqrt((delta**2).sum(axis=2)).min())
