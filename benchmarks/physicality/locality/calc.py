"""Locality: forces on acetone alone, with 20 distant ghost Ne atoms, and with one distant H.

Acetone (ASE's G2 geometry) sits at the centre of a 60 Å periodic box. The ghost Ne atoms lie
at least 40 Å from its centre of mass and 3 Å from one another; each of 30 hydrogen atoms
(seeded placements, one per structure) lies 20–50 Å from it, distances measured with the
minimum-image convention. A model with a finite receptive field must give the solute the
same forces in every structure.
"""

import numpy as np
from ase import Atoms
from ase.build import molecule

from mlpeg.calc.tasks import Reference, SinglePoint, Task

BOX = 60.0  # Å
SEED = 42
N_GHOSTS, GHOST_DISTANCE, GHOST_SEPARATION = 20, 40.0, 3.0  # -, Å, Å
N_HYDROGENS, H_NEAREST, H_FARTHEST = 30, 20.0, 50.0  # -, Å, Å


def solute() -> Atoms:
    """Return acetone centred in the periodic box."""
    atoms = molecule("CH3COCH3")
    atoms.set_cell([BOX, BOX, BOX])
    atoms.center()
    atoms.pbc = True
    atoms.info.update(charge=0, spin=1)
    return atoms


def _offsets(rng: np.random.Generator, accept, count: int) -> list[np.ndarray]:
    """Draw points uniformly in the box around the centre until ``count`` are accepted."""
    chosen: list[np.ndarray] = []
    while len(chosen) < count:
        offset = rng.uniform(-BOX / 2, BOX / 2, size=3)  # its own minimum image
        if accept(offset, chosen):
            chosen.append(offset)
    return chosen


def _minimum_image(vector: np.ndarray) -> np.ndarray:
    return vector - BOX * np.round(vector / BOX)


def with_ghosts(atoms: Atoms) -> Atoms:
    """Return ``atoms`` plus the ghost Ne atoms."""
    centre = atoms.get_center_of_mass()

    def far_and_apart(offset: np.ndarray, chosen: list[np.ndarray]) -> bool:
        apart = all(
            np.linalg.norm(_minimum_image(offset - other)) >= GHOST_SEPARATION for other in chosen
        )
        return np.linalg.norm(offset) >= GHOST_DISTANCE and apart

    ghosts = _offsets(np.random.default_rng(SEED), far_and_apart, N_GHOSTS)
    return atoms + Atoms(["Ne"] * N_GHOSTS, positions=[centre + o for o in ghosts])


def with_hydrogens(atoms: Atoms) -> list[Atoms]:
    """Return one copy of ``atoms`` per distant hydrogen placement."""
    centre = atoms.get_center_of_mass()
    rng = np.random.default_rng(SEED)

    def in_shell(offset: np.ndarray, chosen: list[np.ndarray]) -> bool:
        return H_NEAREST <= np.linalg.norm(offset) <= H_FARTHEST

    offsets = _offsets(rng, in_shell, N_HYDROGENS)
    return [atoms + Atoms("H", positions=[centre + offset]) for offset in offsets]


def tasks(*, full: bool = False) -> list[Task]:
    alone = solute()
    structures = {"solute": alone, "ghosts": with_ghosts(alone)}
    structures |= {f"h_{i:02d}": atoms for i, atoms in enumerate(with_hydrogens(alone))}
    return [
        Task("acetone", role, atoms, SinglePoint(("energy", "forces")))
        for role, atoms in structures.items()
    ]


def references() -> list[Reference]:
    return []  # the solute's forces must not change
