"""Extensivity: two metal slabs apart and together, 100 Å apart, in one tall periodic cell.

For a model whose energy is a sum of local terms, E(A + B) = E(A) + E(B) exactly when A and B
are farther apart than its receptive field. Al(111) and Ag(111) share an in-plane cell at
a = 4.07 Å (both within 0.5 % of experiment), so neither slab is strained.
"""

from ase import Atoms
from ase.build import fcc111

from mlpeg.calc.tasks import Reference, SinglePoint, Task

LATTICE_CONSTANT = 4.07  # Å, common to both slabs
GAP = 100.0  # Å between the slabs, on both sides (the cell is periodic along z)


def slabs(*, size: tuple[int, int, int] = (3, 3, 6)) -> dict[str, Atoms]:
    """Return slab ``a`` (Al), slab ``b`` (Ag) and ``combined``, all in the same tall cell."""
    first = fcc111("Al", size=size, a=LATTICE_CONSTANT, periodic=False)
    second = fcc111("Ag", size=size, a=LATTICE_CONSTANT, periodic=False)
    thickness = first.positions[:, 2].max() - first.positions[:, 2].min()
    second.translate((0, 0, thickness + GAP))
    cell = first.cell.array.copy()
    cell[2] = (0, 0, 2 * (thickness + GAP))
    structures = {"a": first, "b": second, "combined": first + second}
    for atoms in structures.values():
        atoms.set_cell(cell)
        atoms.pbc = True
        atoms.info.update(charge=0, spin=1)
    return structures


def tasks(*, full: bool = False) -> list[Task]:
    size = (4, 4, 8) if full else (3, 3, 6)
    return [
        Task("slabs", role, atoms, SinglePoint(("energy",)))
        for role, atoms in slabs(size=size).items()
    ]


def references() -> list[Reference]:
    return []  # E(A + B) − E(A) − E(B) must be zero
