"""Vacancy formation energies of transition metals in fcc and hcp (Angsten et al. 2014).

The PBE tables give each element's volume per atom and vacancy formation energy. Each
crystal is built with ASE at that volume (hcp with the ideal c/a, then its shape relaxed
by the model at constant volume), repeated, one atom removed and the rest relaxed at fixed
cell; the view forms E_vac = E_defect − (N − 1)/N · E_perfect.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import NamedTuple

from ase import Atoms
from ase.build import bulk

from mlpeg.calc.tasks import Reference, Task
from mlpeg.data import fetch, read_manifest
from mlpeg.defects import VacancyAtVolume
from mlpeg.errors import DataError

FILES = read_manifest(Path(__file__).with_name("data.sha256"))
TABLES = {
    "fcc": "benchmarks/vacancy_migration/Table-A1-fcc.csv",
    "hcp": "benchmarks/vacancy_migration/Table-A2-hcp.csv",
}
#: d-block elements, groups 3–12 (La, not Lu, in group 3 as in the tables).
TRANSITION_METALS = frozenset(
    {
        *("Sc", "Ti", "V", "Cr", "Mn", "Fe", "Co", "Ni", "Cu", "Zn"),
        *("Y", "Zr", "Nb", "Mo", "Tc", "Ru", "Rh", "Pd", "Ag", "Cd"),
        *("La", "Hf", "Ta", "W", "Re", "Os", "Ir", "Pt", "Au", "Hg"),
    }
)
QUICK = ("Cu_fcc", "Ag_fcc", "Pt_fcc", "Ti_hcp", "Zr_hcp")
#: Supercell repetitions of the cubic fcc cell (4 atoms) and the hcp cell (2 atoms).
SUPERCELLS = {
    False: {"fcc": (2, 2, 2), "hcp": (3, 3, 2)},  # 32 and 36 atoms
    True: {"fcc": (3, 3, 3), "hcp": (4, 4, 3)},  # 108 and 96 atoms
}
SOURCE = "Angsten, Mayeshiba, Wu, Morgan, New J. Phys. 16, 015018 (2014), via mlip-arena"


class Entry(NamedTuple):
    """One crystal of the tables: element, structure, PBE volume and E_vac."""

    symbol: str
    structure: str
    volume_per_atom: float
    e_vac: float
    magnetic: bool

    @property
    def system(self) -> str:
        return f"{self.symbol}_{self.structure}"


def read_table(path: Path, structure: str) -> list[Entry]:
    """Read one table; a magnetic row (``Co_mag``) replaces the non-magnetic one.

    Raises
    ------
    DataError
        When a column is missing or a value is not a number (naming file and line).
    """
    entries: dict[str, Entry] = {}
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {"symbol", "volume_per_atom", "e_vacform"} - set(reader.fieldnames or ())
        if missing:
            raise DataError(f"{path}: missing column(s) {', '.join(sorted(missing))}.")
        for row in reader:
            symbol, _, tag = row["symbol"].partition("_")
            try:
                entry = Entry(
                    symbol,
                    structure,
                    float(row["volume_per_atom"]),
                    float(row["e_vacform"]),
                    tag == "mag",
                )
            except ValueError as exc:
                raise DataError(f"{path}:{reader.line_num}: {exc}.") from exc
            if entry.magnetic or symbol not in entries:
                entries[symbol] = entry
    return list(entries.values())


def entries(*, full: bool = True) -> list[Entry]:
    """Return the transition-metal crystals (the quick subset unless ``full``)."""
    found = [
        entry
        for structure, name in TABLES.items()
        for entry in read_table(fetch(FILES[name]), structure)
        if entry.symbol in TRANSITION_METALS
    ]
    return found if full else [entry for entry in found if entry.system in QUICK]


def crystal(entry: Entry) -> Atoms:
    """Return the cubic fcc or the ideal-c/a hcp cell at the entry's volume per atom."""
    if entry.structure == "fcc":
        atoms = bulk(entry.symbol, "fcc", a=(4 * entry.volume_per_atom) ** (1 / 3), cubic=True)
    else:  # V/atom = (√3/4) a² c with c = √(8/3) a
        a = (entry.volume_per_atom / (3**0.5 / 4 * (8 / 3) ** 0.5)) ** (1 / 3)
        atoms = bulk(entry.symbol, "hcp", a=a, c=(8 / 3) ** 0.5 * a)
    atoms.info.update(charge=0, spin=1)
    return atoms


def tasks(*, full: bool = False) -> list[Task]:
    return [
        Task(
            entry.system,
            "vacancy",
            crystal(entry),
            VacancyAtVolume(
                supercell=SUPERCELLS[full][entry.structure], relax_shape=entry.structure == "hcp"
            ),
        )
        for entry in entries(full=full)
    ]


def references() -> list[Reference]:
    return [
        Reference(entry.system, "vacancy_formation_energy", entry.e_vac, "eV", None, "PBE", SOURCE)
        for entry in entries(full=True)
    ]
