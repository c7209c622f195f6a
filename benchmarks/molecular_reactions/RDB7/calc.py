"""RDB7: forward barrier heights of 11,926 gas-phase reactions of up to 7 heavy atoms.

``data/rdb7/barriers/forward/data.csv`` lists ``rxn,smiles,dE0`` (barrier in kcal/mol) and
``data/rdb7/geometries/forward/rxnNNNNNN/{rNNNNNN,tsNNNNNN}.xyz`` the reactant and TS of each
row. Indices run to 11,960 with 35 absent: an absent index is no reaction at all. Many rows
share a reactant whose file is byte-identical (1,155 distinct reactant files), so reactants
are merged by the sha256 the manifest pins and each is computed once. Structures are read
only when computed (the quick band reads 96 of 23,852 files).
"""

import csv
from collections.abc import Callable
from pathlib import Path

from ase import Atoms

from mlpeg.data import RemoteFile, fetch, read_manifest
from mlpeg.errors import DataError
from mlpeg.reactions import KCAL_PER_MOL, Reaction, ReactionBenchmark, ReactionData
from mlpeg.refdata import read_xyz
from mlpeg.sources import LazyStructures, pinned, set_charge_spin

MANIFEST = Path(__file__).with_name("data.sha256.gz")
TABLE = "data/rdb7/barriers/forward/data.csv"
GEOMETRIES = "data/rdb7/geometries/forward/"
LEVEL = "CCSD(T)-F12/cc-pVDZ-F12//ωB97X-D3/def2-TZVP"
SOURCE = "Spiekermann, Pattanaik, Green, Sci. Data 9, 417 (2022), via heid-lab/reaction_database"
#: The quick band: every 250th row of data.csv (48 reactions).
QUICK_STEP = 250


def read_table(path: Path) -> list[tuple[int, float]]:
    """Return (index, forward barrier in kcal/mol) rows of ``data.csv``.

    Raises
    ------
    DataError
        When the header is not ``rxn,smiles,dE0``, a row cannot be read, or an index repeats.
    """
    with open(path, newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header != ["rxn", "smiles", "dE0"]:
            raise DataError(f"{path}: header {header}, expected ['rxn', 'smiles', 'dE0'].")
        rows, seen = [], set()
        for lineno, row in enumerate(reader, start=2):
            try:
                index, barrier = int(row[0]), float(row[2])
            except (IndexError, ValueError):
                raise DataError(f"{path}:{lineno}: cannot read {row}.") from None
            if index in seen:
                raise DataError(f"{path}:{lineno}: reaction {index} is listed twice.")
            seen.add(index)
            rows.append((index, barrier))
    return rows


def species_reader(remote: RemoteFile) -> Callable[[], Atoms]:
    """Reads a reactant or TS when called: a neutral singlet (RDB7 holds only those)."""

    def read() -> Atoms:
        path = fetch(remote)
        try:
            return set_charge_spin(read_xyz(path), 0, 1)
        except DataError as exc:
            raise DataError(f"{path}: {exc}") from exc

    return read


def load(manifest: Path = MANIFEST) -> ReactionData:
    """The 11,926 reactions and their species (read lazily) pinned in ``manifest``."""
    files = read_manifest(manifest)
    rows = read_table(pinned(files, TABLE, manifest))
    folders = {p.split("/")[4] for p in files if p.startswith(GEOMETRIES)}
    indices = {f"rxn{index:06d}" for index, _ in rows}
    if folders != indices:
        extra, missing = sorted(folders - indices), sorted(indices - folders)
        raise DataError(
            f"{manifest}: geometry folders without a barrier: {extra[:5] or 'none'}; "
            f"barriers without geometries: {missing[:5] or 'none'}."
        )
    readers, by_sha, reactions = {}, {}, []
    for index, barrier in rows:
        species = []
        for role in ("ts", "r"):
            path = f"{GEOMETRIES}rxn{index:06d}/{role}{index:06d}.xyz"
            remote = files.get(path)
            if remote is None:
                raise DataError(f"{manifest}: does not list {path}.")
            name = by_sha.setdefault(remote.sha256, f"{role}{index:06d}")  # same bytes: once
            readers.setdefault(name, species_reader(remote))
            species.append((name, 1.0 if role == "ts" else -1.0))
        reactions.append(Reaction(f"rxn{index:06d}", tuple(species), barrier * KCAL_PER_MOL))
    return ReactionData(reactions, LazyStructures(readers), "barrier_height", LEVEL, SOURCE)


def quick(reactions):
    """The quick band: every :data:`QUICK_STEP`-th row of ``data.csv``."""
    return reactions[::QUICK_STEP]


BENCHMARK = ReactionBenchmark(load, quick=quick)
tasks, references, reactions = BENCHMARK.tasks, BENCHMARK.references, BENCHMARK.reactions
