"""Folmsbee: conformer energies of 694 drug-like molecules against DLPNO-CCSD(T).

ghutchis/conformer-benchmark holds ``geometries/{Neutral_jobs,CHG_jobs}/<molecule>/<name>.xyz``
(B3LYP-D3BJ geometries), the charge of each charged molecule in
``geometries/CHG-charges.txt`` (``<molecule> CHARGE=<q>``) and absolute energies (Eh) in
``energies/ccsdt.txt`` (``<molecule> <name>.out.bz2 FINAL SINGLE POINT ENERGY <E>``).

As in mlipaudit's conformer-selection benchmark (which ML-PEG runs), each molecule's energies
are relative to its lowest-reference conformer, for the reference and for the model alike;
that conformer is a point of its molecule too (0 = 0), so it counts in the per-molecule MAE
and RMSE. Geometries without a reference energy (240) and molecules left with one conformer
(8, which would score perfectly whatever the model) are skipped and listed in
:data:`SKIPPED` when the data is loaded.
"""

import re
from collections.abc import Callable
from pathlib import Path

from ase import Atoms
from ase.units import Hartree

from mlpeg.data import RemoteFile, fetch, read_manifest
from mlpeg.errors import DataError
from mlpeg.reactions import Reaction, ReactionBenchmark, ReactionData
from mlpeg.refdata import read_xyz
from mlpeg.sources import LazyStructures, pinned, set_charge_spin

MANIFEST = Path(__file__).with_name("data.sha256.gz")
ENERGIES = "energies/ccsdt.txt"
CHARGES = "geometries/CHG-charges.txt"
GEOMETRY = re.compile(r"^geometries/(Neutral_jobs|CHG_jobs)/([^/]+)/([^/]+)\.xyz$")
LEVEL = "DLPNO-CCSD(T)/TZ//B3LYP-D3BJ"
SOURCE = "Folmsbee, Hutchison, Int. J. Quantum Chem. 121, e26381 (2021)"
#: The quick band: every 60th molecule in name order (12 molecules, 115 conformers).
QUICK_STEP = 60
#: What the last load left out, and why: (file or molecule, reason).
SKIPPED: list[tuple[str, str]] = []


def read_energies(path: Path) -> dict[tuple[str, str], float]:
    """(molecule, geometry name) → energy (Eh) from ``ccsdt.txt``."""
    energies = {}
    for lineno, line in enumerate(path.read_text().splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        try:
            key, value = (fields[0], fields[1].removesuffix(".out.bz2")), float(fields[-1])
        except (IndexError, ValueError):
            raise DataError(f"{path}:{lineno}: cannot read '{line.strip()}'.") from None
        if key in energies:
            raise DataError(f"{path}:{lineno}: {key[0]} {key[1]} has two energies.")
        energies[key] = value
    return energies


def read_charges(path: Path) -> dict[str, int]:
    """Molecule → charge from ``CHG-charges.txt``."""
    charges = {}
    for lineno, line in enumerate(path.read_text().splitlines(), start=1):
        match = re.fullmatch(r"\s*(\S+)\s+CHARGE=(-?\d+)\s*", line)
        if match is None:
            if line.strip():
                raise DataError(f"{path}:{lineno}: expected '<molecule> CHARGE=<q>'.")
            continue
        charges[match.group(1)] = int(match.group(2))
    return charges


def conformer_reader(remote: RemoteFile, charge: int) -> Callable[[], Atoms]:
    """Reads one conformer when called: its charge from the file, a singlet."""

    def read() -> Atoms:
        path = fetch(remote)
        try:
            return set_charge_spin(read_xyz(path), charge, 1)
        except DataError as exc:
            raise DataError(f"{path}: {exc}") from exc

    return read


def load(manifest: Path = MANIFEST) -> ReactionData:
    """Every molecule's conformer energies; structures are read when computed."""
    files = read_manifest(manifest)
    energies = read_energies(pinned(files, ENERGIES, manifest))
    charges = read_charges(pinned(files, CHARGES, manifest))
    molecules: dict[str, dict[str, tuple[RemoteFile, int]]] = {}
    for path, remote in files.items():
        match = GEOMETRY.match(path)
        if match is None:
            continue
        folder, molecule, name = match.groups()
        if folder == "CHG_jobs" and molecule not in charges:
            raise DataError(f"{manifest}: charged molecule {molecule} is not in {CHARGES}.")
        charge = charges.get(molecule, 0) if folder == "CHG_jobs" else 0
        molecules.setdefault(molecule, {})[name] = (remote, charge)
    orphans = sorted(f"{m} {n}" for m, n in energies if n not in molecules.get(m, {}))
    if orphans:
        raise DataError(f"{manifest}: energies without a geometry: {', '.join(orphans[:5])}.")
    SKIPPED.clear()
    reactions, readers = [], {}
    for molecule in sorted(molecules):
        conformers = {}
        for name in sorted(molecules[molecule]):
            if (molecule, name) in energies:
                conformers[name] = energies[molecule, name]
            else:
                SKIPPED.append((f"{molecule}/{name}", "no reference energy"))
        if len(conformers) < 2:
            if conformers:
                SKIPPED.append((molecule, "one conformer with a reference energy"))
            continue
        lowest = min(conformers, key=conformers.get)
        for name, energy in conformers.items():
            readers[f"{molecule}/{name}"] = conformer_reader(*molecules[molecule][name])
            species = ((f"{molecule}/{name}", 1.0), (f"{molecule}/{lowest}", -1.0))
            if name == lowest:  # its own zero: a point with prediction and reference 0
                species = ((f"{molecule}/{name}", 0.0),)
            relative = (energy - conformers[lowest]) * Hartree
            reactions.append(Reaction(f"{molecule}/{name}", species, relative, molecule))
    return ReactionData(reactions, LazyStructures(readers), "conformer_energy", LEVEL, SOURCE)


def quick(reactions):
    """The quick band: the conformers of every :data:`QUICK_STEP`-th molecule."""
    molecules = sorted({r.subset for r in reactions})[::QUICK_STEP]
    return [r for r in reactions if r.subset in molecules]


BENCHMARK = ReactionBenchmark(load, quick=quick)
tasks, references, reactions = BENCHMARK.tasks, BENCHMARK.references, BENCHMARK.reactions
