"""X23 as ML-PEG's ``calc_X23.py`` writes it: ``outputs/<model>/<system>.xyz``.

Each file holds two frames, the crystal then the isolated molecule, each with its energy
and the info keys ``system``, ``ref`` (DMC lattice energy, kJ/mol per molecule) and
``num_molecules``. ML-PEG's analysis divides by ``num_molecules``; mlpeg's X23 view
divides by the atom ratio len(solid) / len(molecule), so a file whose ``num_molecules``
disagrees with that ratio is imported with a note saying so.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from ase.units import kJ, mol

from mlpeg.calc.tasks import Reference
from mlpeg.catalog import Benchmark
from mlpeg.importers.extxyz import Frame
from mlpeg.importers.mapping import ImportedFile, ImportedPrediction, SkipFile

#: Info keys ML-PEG's X23 calc writes on both frames.
REQUIRED_INFO = ("system", "ref", "num_molecules")
ROLES = ("solid", "molecule")
#: Other spellings of X23 systems seen in public X23 data sets.
ALIASES = {
    "cyclohexanedione": "cyhexo",
    "cyclohexane_1_4_dione": "cyhexo",
    "14cyclohexanedione": "cyhexo",
    "naphthalene": "naphtalene",
    "hexamethylenetetramine": "hexamine",
}


def canonical_system(name: str) -> str:
    """Return mlpeg's X23 system name for an ML-PEG one.

    Lower-cases, drops a leading number (``02acetic_acid``, ``02_acetic_acid``) and maps
    the spellings in :data:`ALIASES`.
    """
    text = re.sub(r"^\d+[_\-\s]*", "", name.strip().lower())
    text = re.sub(r"[\s\-]+", "_", text)
    return ALIASES.get(text, text)


def _number(path: Path, frame: int, key: str, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise SkipFile(
            f"{path}: frame {frame} has {key}={value!r}, which is not a number."
        ) from None
    if not math.isfinite(number):
        raise SkipFile(f"{path}: frame {frame} has {key}={value!r}, which is not finite.")
    return number


class X23Mapping:
    """Map ML-PEG X23 output files onto the X23 benchmark's systems and roles."""

    patterns = ("*.xyz", "*.extxyz")
    needs_benchmark_references = False

    def __init__(self, benchmark: Benchmark) -> None:
        module = benchmark.calc_module()
        self.benchmark = benchmark
        self.systems = {module.system(folder) for folder in module.FOLDERS}

    def read_file(self, path: Path, frames: list[Frame]) -> ImportedFile:
        """Map one ``<system>.xyz`` (solid then molecule) to two predictions and a reference.

        Raises
        ------
        SkipFile
            When the file has other than two frames, lacks an info key or an energy, or
            names a system X23 does not have.
        """
        if len(frames) != 2:
            raise SkipFile(
                f"{path}: holds {len(frames)} frames; ML-PEG's X23 calc writes two "
                "(the solid, then the molecule)."
            )
        solid, molecule = frames
        missing = [key for key in REQUIRED_INFO if key not in solid.info]
        if missing:
            raise SkipFile(
                f"{path}: the solid (frame 1) lacks the info key '{missing[0]}' "
                f"(ML-PEG's X23 calc writes {', '.join(REQUIRED_INFO)})."
            )
        for index, frame in enumerate(frames, start=1):
            if frame.energy is None:
                raise SkipFile(f"{path}: frame {index} has no energy.")
        names = [str(solid.info["system"]), str(molecule.info.get("system", solid.info["system"]))]
        if canonical_system(names[0]) != canonical_system(names[1]):
            raise SkipFile(
                f"{path}: the solid is system {names[0]!r} but the molecule {names[1]!r}."
            )
        system = canonical_system(names[0])
        if system not in self.systems:
            raise SkipFile(
                f"{path}: system {names[0]!r} is not one of the 23 X23 systems "
                f"({', '.join(sorted(self.systems))})."
            )
        ref_kj_per_mol = _number(path, 1, "ref", solid.info["ref"])
        num_molecules = _number(path, 1, "num_molecules", solid.info["num_molecules"])
        notes = []
        if len(molecule) == 0 or len(solid) % len(molecule):
            raise SkipFile(
                f"{path}: the solid's {len(solid)} atoms are not a whole number of "
                f"molecules of {len(molecule)} atoms."
            )
        ratio = len(solid) / len(molecule)
        if num_molecules != ratio:
            notes.append(
                f"{path}: num_molecules={num_molecules:g} but the solid holds "
                f"{ratio:g} molecules by atom count; mlpeg uses {ratio:g}."
            )
        reference = Reference(
            system=system,
            quantity="lattice_energy",
            value=ref_kj_per_mol * kJ / mol,
            unit="eV",
            level_of_theory=self.benchmark.level_of_theory,
            source="ML-PEG calc output (info 'ref')",
        )
        predictions = [
            ImportedPrediction(system, role, frame)
            for role, frame in zip(ROLES, frames, strict=True)
        ]
        return ImportedFile(predictions, [reference], notes)


def mapping(benchmark: Benchmark) -> X23Mapping:
    """Return the mapping ``mlpeg ingest --from-ml-peg`` uses for X23's output files."""
    return X23Mapping(benchmark)
