"""Diatomics: energy and forces of element pairs on a 0.18–6.0 Å grid of 100 distances.

The quick set is a handful of pairs; ``tasks(full=True)`` gives every homonuclear and
heteronuclear pair of elements 1–118 (7,021 pairs, 702,100 single points), of which each
model computes those it supports and records the others as unsupported.
"""

from itertools import combinations

import numpy as np
from ase import Atoms
from ase.data import chemical_symbols

from mlpeg.calc.tasks import Reference, SinglePoint, Task

DISTANCES = np.linspace(0.18, 6.0, 100)  # Å, as ML-PEG
BOX = 20.0  # Å; non-periodic, but some models need a cell. 20 − 6 Å > every model's cutoff.
QUICK_PAIRS = (("H", "H"), ("O", "O"), ("Fe", "Fe"), ("C", "O"))
ELEMENTS = chemical_symbols[1:]


def pairs(*, full: bool = False) -> list[tuple[str, str]]:
    """Return the element pairs: homonuclear first, then heteronuclear (``full``)."""
    if not full:
        return list(QUICK_PAIRS)
    return [(symbol, symbol) for symbol in ELEMENTS] + list(combinations(ELEMENTS, 2))


def diatomic(first: str, second: str, distance: float) -> Atoms:
    """Return the pair ``distance`` Å apart along z, centred in the box (charge 0, singlet)."""
    centre, half = BOX / 2, distance / 2
    atoms = Atoms(
        [first, second],
        positions=[(centre, centre, centre - half), (centre, centre, centre + half)],
        cell=[BOX, BOX, BOX],
        pbc=False,
    )
    atoms.info.update(charge=0, spin=1)
    return atoms


def tasks(*, full: bool = False) -> list[Task]:
    return [
        Task(f"{first}-{second}", f"{index:03d}", diatomic(first, second, distance), SinglePoint())
        for first, second in pairs(full=full)
        for index, distance in enumerate(DISTANCES)
    ]


def references() -> list[Reference]:
    return []  # physical behaviour needs no reference
