"""CMRAds200: 8 adsorbates on 25 transition-metal surfaces at full coverage, single points.

``CMR.zip`` holds the structures (``CMRads_structures.extxyz``, one frame per species,
named by ``sys_formula``: 1×1 three-layer slabs, the slabs with an adsorbate, and the gas
molecules) and ``reactions_dict.csv`` (per reaction: species, stoichiometric coefficients,
RPA and PBE adsorption energies in eV). Each species is computed once per model and the
reaction energies Σ c·E are formed in SQL, against the PBE column.
"""

from __future__ import annotations

import csv
import functools
import io
from pathlib import Path

from ase import Atoms

from mlpeg.adsorption import band_tasks
from mlpeg.calc.tasks import Reference, Task
from mlpeg.data import fetch, read_manifest
from mlpeg.errors import DataError
from mlpeg.reactions import Reaction, ReactionData
from mlpeg.zipdata import read_member_frames, zip_members

FILES = read_manifest(Path(__file__).with_name("data.sha256"))
ARCHIVE = "CMR.zip"
STRUCTURES = "CMRads_structures.extxyz"
REACTIONS = "reactions_dict.csv"
LEVEL = "PBE"
SOURCE = "CMR adsorption database, Schmidt & Thygesen, J. Phys. Chem. C 122, 4381 (2018)"

#: Spin multiplicities (2S+1) of the gas molecules; slabs carry none (left to the model).
GAS_SPIN = {"H2": 1, "N2": 1, "O2": 3, "CO": 1, "NO": 2, "H2O": 1, "CH4": 1}

#: Quick band: all eight adsorbates on five metals across the d series (Ni, Cu, Ru, Pd, Pt):
#: 40 of the 200 reactions.
QUICK_METALS = ("Ni", "Cu", "Ru", "Pd", "Pt")


def _species(atoms: Atoms) -> Atoms:
    bare = Atoms(atoms.numbers, atoms.positions, cell=atoms.cell, pbc=atoms.pbc)
    bare.info["charge"] = 0
    name = atoms.info["sys_formula"]
    if name in GAS_SPIN:
        bare.info["spin"] = GAS_SPIN[name]
    return bare


def load(path: Path | None = None) -> ReactionData:
    """Read species and reactions from the archive.

    Parameters
    ----------
    path
        ``CMR.zip``; the pinned mirror file when None.

    Returns
    -------
    ReactionData
        200 reactions named ``<adsorbate>-<metal>`` (subset = adsorbate) over 232 species.

    Raises
    ------
    DataError
        When a member is missing or does not parse, a species is named twice, a row's
        species and coefficients differ in number, or a reaction names a species that has
        no structure.
    """
    path = path or fetch(FILES[ARCHIVE])
    members = zip_members(path)
    structures: dict[str, Atoms] = {}
    for atoms in read_member_frames(members, STRUCTURES, archive=path):
        name = atoms.info.get("sys_formula")
        if not name or name in structures:
            raise DataError(
                f"{path}: {STRUCTURES} has a frame without or with a repeated sys_formula ({name})."
            )
        structures[name] = _species(atoms)
    if REACTIONS not in members:
        raise DataError(f"{path} has no member '{REACTIONS}'.")
    reactions = []
    for row in csv.DictReader(io.StringIO(members[REACTIONS].decode())):
        name = row[""]
        species = row["Systems"].split(",")
        coefficients = row["Stoichiometry"].split(",")
        if len(species) != len(coefficients):
            raise DataError(
                f"{path}: {REACTIONS} row '{name}' has {len(species)} species and "
                f"{len(coefficients)} coefficients."
            )
        try:
            pairs = tuple((s, float(c)) for s, c in zip(species, coefficients, strict=True))
            reference = float(row["PBE_ads"])
        except ValueError as exc:
            raise DataError(
                f"{path}: {REACTIONS} row '{name}' has a non-numeric value ({exc})."
            ) from exc
        reactions.append(Reaction(name, pairs, reference, subset=name.split("-")[0]))
    return ReactionData(reactions, structures, "adsorption_energy", LEVEL, SOURCE)


@functools.cache
def _data() -> ReactionData:
    return load()


def tasks(*, full: bool = False) -> list[Task]:
    """Single points of the quick band's species, or of all 232 with ``full``."""
    data = _data()
    quick = [r.name for r in data.reactions if r.name.split("-")[1] in QUICK_METALS]
    return band_tasks(data, None if full else quick)


def references() -> list[Reference]:
    """PBE adsorption energy of each reaction (eV)."""
    return _data().references()


def reactions() -> list[Reaction]:
    """The stoichiometry of each reaction."""
    return _data().reactions
