"""OpenFF_Tors: 59 torsion drives × 24 dihedral angles, energies relative to each drive's first.

One JSON file holds every drive: its mapped SMILES (the atom map ``[X:n]`` gives the element
of geometry row n − 1), charge, multiplicity, the 24 MP2-optimised geometries (Bohr) and their
MP2/heavy-aug-cc-pVTZ energies (Eh). As in ML-PEG, the reference of a drive is its first
angle (−165°), so a drive gives 23 relative energies.
"""

import json
import re
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.data import atomic_numbers
from ase.units import Bohr, Hartree

from mlpeg.data import read_manifest
from mlpeg.errors import DataError
from mlpeg.reactions import Reaction, ReactionBenchmark, ReactionData
from mlpeg.sources import pinned, set_charge_spin

MANIFEST = Path(__file__).with_name("data.sha256")
DATA = "data/MP2_heavy-aug-cc-pVTZ_torsiondrive_data.json"
LEVEL = "MP2/heavy-aug-cc-pVTZ"
SOURCE = "Behara et al., J. Phys. Chem. B 128, 7888 (2024)"
#: The quick band: every 12th drive (2 neutral, 1 anionic, 2 cationic; 115 points).
QUICK_DRIVES = ("0", "12", "24", "36", "48")
#: A bracket atom of a SMILES: [isotope] symbol [chirality] [H count] [charge] :map.
BRACKET = re.compile(r"^\d*([A-Z][a-z]?|[bcnops]|se|as)(@*)(H\d*)?([+-]\d*)*:(\d+)$")
CHARGES = {-1: "anion", 0: "neutral", 1: "cation"}


def mapped_elements(smiles: str) -> list[str]:
    """Elements ordered by atom-map number (1, 2, ...) of a SMILES whose atoms are all mapped.

    Raises
    ------
    DataError
        When an atom is unmapped, a map number repeats or is missing, or a symbol is unknown.
    """
    if re.search(r"[A-Za-z]", re.sub(r"\[[^\]]*\]", "", smiles)):
        raise DataError(f"'{smiles}': an atom outside brackets has no map number.")
    by_map: dict[int, str] = {}
    for token in re.findall(r"\[([^\]]*)\]", smiles):
        match = BRACKET.match(token)
        symbol = match.group(1).capitalize() if match else None
        if symbol not in atomic_numbers:
            raise DataError(f"'{smiles}': cannot read the mapped atom [{token}].")
        number = int(match.group(5))
        if number in by_map:
            raise DataError(f"'{smiles}': map number {number} is used twice.")
        by_map[number] = symbol
    if sorted(by_map) != list(range(1, len(by_map) + 1)):
        raise DataError(f"'{smiles}': map numbers are not 1..{len(by_map)}.")
    return [by_map[n] for n in range(1, len(by_map) + 1)]


def drive_data(name: str, drive: dict) -> tuple[list[Reaction], dict[str, Atoms]]:
    """The 23 relative energies of one drive and its 24 structures."""
    meta = drive["metadata"]
    symbols = mapped_elements(meta["mapped_smiles"])
    charge, multiplicity = int(meta["mol_charge"]), int(meta["mol_multiplicity"])
    energies, geometries = drive["final_energies"], drive["final_geometries"]
    if len(energies) != len(geometries) or len(energies) < 2:
        raise DataError(f"drive {name}: {len(energies)} energies for {len(geometries)} geometries.")
    structures = {}
    for i, geometry in enumerate(geometries):
        positions = np.asarray(geometry, dtype=float) * Bohr
        if positions.shape != (len(symbols), 3):
            raise DataError(
                f"drive {name}, angle {i}: geometry of shape {positions.shape}, "
                f"expected ({len(symbols)}, 3) from the SMILES."
            )
        atoms = Atoms(symbols, positions=positions)
        structures[f"{name}/{i}"] = set_charge_spin(atoms, charge, multiplicity)
    subset = CHARGES.get(charge, "charged")
    reactions = [
        Reaction(
            f"{name}/{i}",
            ((f"{name}/{i}", 1.0), (f"{name}/0", -1.0)),
            (energies[i] - energies[0]) * Hartree,
            subset,
        )
        for i in range(1, len(energies))
    ]
    return reactions, structures


def load(manifest: Path = MANIFEST) -> ReactionData:
    """Read the 59 drives (1,357 relative energies, 1,416 structures) pinned in ``manifest``."""
    path = pinned(read_manifest(manifest), DATA, manifest)
    try:
        drives = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: not valid JSON ({exc}).") from exc
    reactions, structures = [], {}
    for name in sorted(drives, key=int):
        try:
            drive_reactions, drive_structures = drive_data(name, drives[name])
        except DataError as exc:
            raise DataError(f"{path}: {exc}") from exc
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(f"{path}: drive {name} cannot be read ({exc!r}).") from exc
        reactions += drive_reactions
        structures |= drive_structures
    return ReactionData(reactions, structures, "conformer_energy", LEVEL, SOURCE)


def quick(reactions):
    """The quick band: the drives of :data:`QUICK_DRIVES`."""
    return [r for r in reactions if r.name.split("/")[0] in QUICK_DRIVES]


BENCHMARK = ReactionBenchmark(load, quick=quick)
tasks, references, reactions = BENCHMARK.tasks, BENCHMARK.references, BENCHMARK.reactions
