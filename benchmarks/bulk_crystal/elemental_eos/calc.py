"""Elemental equations of state: the Δ-test of Lejaeghere et al., Science 351, aad3000 (2016).

71 elemental crystals with their WIEN2k (PBE, all-electron) V0, B0 and B0' ship with ASE as
``ase.collections.dcdft``; each crystal is computed at seven volumes from 94 % to 106 % of the
WIEN2k V0, as in the Δ protocol, and the views fit a Birch–Murnaghan curve to each.
"""

import hashlib
from pathlib import Path

import ase.collections
from ase import Atoms
from ase.collections import dcdft
from ase.units import GPa

from mlpeg.calc.tasks import Reference, SinglePoint, Task
from mlpeg.errors import DataError
from mlpeg.materials import volume_scan

#: sha256 of ase/collections/dcdft.json in ASE 3.29.0: the references must not change unseen.
DCDFT_SHA256 = "150e0700f334871e82aa6b73379748e854d1a419f49588966c3125156dedb6de"
VOLUME_FACTORS = (0.94, 0.96, 0.98, 1.00, 1.02, 1.04, 1.06)
QUICK_ELEMENTS = ("Li", "Al", "Si", "Ti", "Fe", "Cu", "Mo", "Ag", "Pt", "W")
SOURCE = "Lejaeghere et al., Science 351, aad3000 (2016); WIEN2k via ase.collections.dcdft"


def _checked_data() -> dict[str, dict[str, float]]:
    path = Path(ase.collections.__file__).with_name("dcdft.json")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != DCDFT_SHA256:
        raise DataError(
            f"{path} has sha256 {digest}, not the pinned {DCDFT_SHA256}; the Δ-test references "
            "changed with this ASE version."
        )
    return dcdft.data


def elements(*, full: bool = False) -> list[str]:
    """Return the elements of the set (the quick subset unless ``full``)."""
    return list(dcdft.names) if full else list(QUICK_ELEMENTS)


def crystal(symbol: str) -> Atoms:
    """Return the Δ-test crystal of an element without magnetic moments or calculator."""
    source = dcdft[symbol]
    atoms = Atoms(source.numbers, cell=source.cell, pbc=True)
    atoms.set_scaled_positions(source.get_scaled_positions())
    return atoms


def tasks(*, full: bool = False) -> list[Task]:
    data = _checked_data()
    return [
        Task(symbol, role, atoms, SinglePoint(("energy",)))
        for symbol in elements(full=full)
        for role, atoms in volume_scan(
            crystal(symbol), data[symbol]["wien2k_volume"], VOLUME_FACTORS
        )
    ]


def references() -> list[Reference]:
    data = _checked_data()
    quantities = (("v0", "wien2k_volume", 1.0, "Å^3/atom"), ("b0", "wien2k_B", GPa, "eV/Å^3"))
    quantities += (("b0_prime", "wien2k_Bp", 1.0, "1"),)
    return [
        Reference(symbol, quantity, data[symbol][key] * factor, unit, None, "PBE (WIEN2k)", SOURCE)
        for symbol in dcdft.names
        for quantity, key, factor, unit in quantities
    ]
