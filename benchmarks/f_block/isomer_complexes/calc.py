"""isomer_complexes: relative energies of lanthanide complex isomers (grimme-lab/GFN-FF_Ln_An).

Each ``isomer_structures/<system>/iso<N>/`` holds ``orca.xyz`` (its comment line ends with
the r2SCAN-3c energy, ``E <Eh>``), ``.CHRG`` (total charge) and ``.UHF`` (the number of
unpaired electrons, xtb's convention): the multiplicity is UHF + 1. Every isomer is one
single point (system ``<system>/iso<N>``); the views take each energy relative to the
lowest of its system, for the model and for the reference alike, as ML-PEG does.
"""

import functools
from dataclasses import dataclass
from pathlib import Path

from ase import Atoms
from ase.units import Hartree

from mlpeg.calc.tasks import Reference, SinglePoint, Task
from mlpeg.data import fetch, read_manifest
from mlpeg.errors import DataError
from mlpeg.reactions import in_vacuum_box
from mlpeg.refdata import parse_xyz

MANIFEST = Path(__file__).with_name("data.sha256")
ROOT = "isomer_structures/"
ROLE = "isomer"
QUANTITY = "relative_energy"
LEVEL_OF_THEORY = "r2SCAN-3c"
SOURCE = "Rose, Bursch, Mewes, Grimme (2024), extended GFN-FF (grimme-lab/GFN-FF_Ln_An)"

#: ML-PEG leaves out systems with actinium or thorium (its EXCLUDE_ELEMENTS = (89, 90)).
EXCLUDED_ELEMENTS = frozenset({89, 90})


@dataclass(frozen=True)
class Isomer:
    """One isomer: its structure (charge, multiplicity) and r2SCAN-3c energy in eV."""

    name: str
    system: str
    atoms: Atoms
    energy_ev: float


def _integer(path: str, text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise DataError(f"{path}: expected one integer, got '{text.strip()[:40]}'.") from None


def read_isomer(name: str, xyz: str, chrg: str, uhf: str) -> Isomer:
    """Build one isomer from the texts of its three files.

    Parameters
    ----------
    name
        ``<system>/iso<N>``.
    xyz, chrg, uhf
        Contents of ``orca.xyz``, ``.CHRG`` and ``.UHF``.

    Raises
    ------
    DataError
        An unreadable file, no energy on the comment line, or a number of unpaired
        electrons that the electron count cannot have.
    """
    where = f"{ROOT}{name}"
    atoms = parse_xyz(xyz, source=f"{where}/orca.xyz")
    tokens = xyz.splitlines()[1].split()
    try:
        if tokens[-2] != "E":
            raise ValueError
        energy = float(tokens[-1]) * Hartree
    except (IndexError, ValueError):
        raise DataError(f"{where}/orca.xyz:2: expected '... E <energy in Eh>'.") from None
    charge = _integer(f"{where}/.CHRG", chrg)
    unpaired = _integer(f"{where}/.UHF", uhf)
    electrons = int(atoms.numbers.sum()) - charge
    if unpaired < 0 or (electrons - unpaired) % 2:
        raise DataError(
            f"{where}: {unpaired} unpaired electrons (.UHF) is impossible with {electrons} "
            "electrons."
        )
    atoms.info.clear()
    atoms.info.update({"charge": charge, "multiplicity": unpaired + 1, "spin": unpaired + 1})
    return Isomer(name, name.split("/")[0], atoms, energy)


@dataclass
class Loaded:
    """The isomers used, and the systems left out with the reason."""

    isomers: list[Isomer]
    excluded: dict[str, str]


def load_isomers(manifest: Path = MANIFEST) -> Loaded:
    """Read every isomer pinned in the manifest.

    Raises
    ------
    DataError
        A missing or corrupt file, an isomer folder without one of its three files, or a
        system with a single isomer (nothing to compare).
    """
    files = read_manifest(manifest)
    folders = sorted(
        {path.removeprefix(ROOT).rsplit("/", 1)[0] for path in files if path.startswith(ROOT)}
    )
    isomers: list[Isomer] = []
    excluded: dict[str, str] = {}
    for name in folders:
        texts = []
        for member in ("orca.xyz", ".CHRG", ".UHF"):
            path = f"{ROOT}{name}/{member}"
            if path not in files:
                raise DataError(f"{manifest}: {name} has no {member}.")
            texts.append(fetch(files[path]).read_text())
        isomer = read_isomer(name, *texts)
        if EXCLUDED_ELEMENTS & set(isomer.atoms.numbers.tolist()):
            excluded[name] = "contains Ac or Th (left out as in ML-PEG)"
            continue
        isomers.append(isomer)
    counts: dict[str, int] = {}
    for isomer in isomers:
        counts[isomer.system] = counts.get(isomer.system, 0) + 1
    lonely = [system for system, n in counts.items() if n < 2]
    if lonely:
        raise DataError(f"{manifest}: system {lonely[0]} has a single isomer.")
    return Loaded(isomers, excluded)


@functools.cache
def load() -> Loaded:
    """The benchmark's isomers (read once)."""
    return load_isomers()


def tasks(*, full: bool = False) -> list[Task]:
    """One energy per isomer; the quick band is the whole benchmark (22 small complexes)."""
    del full
    return [
        Task(i.name, ROLE, in_vacuum_box(i.atoms), SinglePoint(("energy",))) for i in load().isomers
    ]


def references() -> list[Reference]:
    """Each isomer's r2SCAN-3c energy relative to the lowest isomer of its system (eV)."""
    lowest: dict[str, float] = {}
    for i in load().isomers:
        lowest[i.system] = min(lowest.get(i.system, i.energy_ev), i.energy_ev)
    return [
        Reference(
            i.name, QUANTITY, i.energy_ev - lowest[i.system], "eV", None, LEVEL_OF_THEORY, SOURCE
        )
        for i in load().isomers
    ]
