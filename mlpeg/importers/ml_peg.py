"""Import an ML-PEG calc outputs tree into the warehouse.

ML-PEG's calc step writes ``<category>/<benchmark>/outputs/<model>/*.xyz`` (inside an
ML-PEG checkout: ``ml_peg/calcs/...``), with energies as calculator results and labels
and references in ``atoms.info``. For every benchmark mlpeg defines and has a mapping for
(:mod:`mlpeg.importers.mapping`), each model folder becomes one predictions landing part
and the references found become one references part; both are then ingested like any
part, so they are validated, and ingesting them again changes nothing.

Decisions
---------
- Run ids are content hashes (``ml-peg-<hash of benchmark, model and file bytes>``): the
  same files import once, even from a copy of the tree; changed files make a new run,
  which becomes the latest, and the old one stays in the history.
- A prediction's ``computed_at`` is its file's modification time: when ML-PEG computed it.
- Model folders are looked up in ``models.yml`` and keep their name. Each run records the
  dispersion the benchmark declares for that model (``d3bj`` where the benchmark adds D3
  and the model is not known to be trained with dispersion, as ML-PEG's calcs add it;
  else ``none``), so it is scored like a ``mlpeg calc`` run. A folder
  that names no known model is registered in the warehouse's ``models`` table with family
  ``imported`` and dispersion ``unknown``, so that fifty ML-PEG models import in one
  command; ``known_models_only`` refuses them instead. Registered models appear on the
  leaderboard but cannot be run by ``mlpeg calc`` (no calculator).
- References are taken from the files only where the warehouse has none for that system;
  where it has one, it is kept and any difference is reported, so importing never
  replaces reference data already stored. A mapping whose files carry no usable
  reference (ML-PEG's DMC-ICE13 refs are PBE-D3, mlpeg's are DMC) loads the benchmark's
  own references from its ``calc.py`` instead, as ``mlpeg calc`` does.
- Model folders are read (hashed, parsed, written as parts) in worker processes, one per
  core but one for a large tree (:mod:`mlpeg.importers.reading`); the parts are ingested in plan
  order as they come, and the warehouse is the same for any number of workers.
- A file that cannot be imported is skipped with one sentence saying why; the other files
  of the model still import. A non-finite energy, force or stress becomes a ``failed``
  prediction, as in ``mlpeg calc``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import duckdb
import pyarrow as pa

from mlpeg import catalog
from mlpeg.calc.tasks import Reference
from mlpeg.enums import Dispersion, PartKind
from mlpeg.errors import MlpegError
from mlpeg.importers.mapping import BenchmarkMapping, mapping_for
from mlpeg.importers.reading import (
    FileOutcome,
    FileStatus,
    FolderRead,
    FolderReader,
    FolderTask,
    worker_count,
)
from mlpeg.landing import REFERENCES_SCHEMA, write_part
from mlpeg.models import registry
from mlpeg.warehouse.ingest import Outcome, PartResult, ingest_part, ingest_parts

OUTPUTS = "outputs"
IMPORTED_FAMILY = "imported"
#: References closer than this (eV) count as equal.
REFERENCE_TOLERANCE_EV = 1e-6


class ModelStatus(StrEnum):
    """What the import did with one model folder of one benchmark."""

    LOADED = "loaded"
    UNCHANGED = "unchanged"
    REJECTED = "rejected"
    EMPTY = "nothing to import"


@dataclass(frozen=True)
class OutputsFolder:
    """An ML-PEG ``<category>/<benchmark>/outputs`` folder."""

    category: str
    name: str
    path: Path


@dataclass(frozen=True)
class ModelJob:
    """One model folder of one benchmark, ready to import."""

    benchmark: catalog.Benchmark
    mapping: BenchmarkMapping
    folder: Path
    model_key: str
    is_known: bool
    files: tuple[Path, ...]


@dataclass
class ImportPlan:
    """What an import will read: jobs, and ML-PEG folders it will not read, with why."""

    root: Path
    jobs: list[ModelJob] = field(default_factory=list)
    skipped_folders: list[tuple[str, str]] = field(default_factory=list)

    @property
    def n_files(self) -> int:
        """Number of output files the jobs will read."""
        return sum(len(job.files) for job in self.jobs)

    @property
    def unknown_models(self) -> list[str]:
        """Model keys that are neither in models.yml nor already in the warehouse."""
        return sorted({job.model_key for job in self.jobs if not job.is_known})


@dataclass(frozen=True)
class ModelOutcome:
    """The outcome of one (benchmark, model) folder."""

    benchmark_key: str
    model_key: str
    folder: Path
    run_id: str
    status: ModelStatus
    n_files: int
    n_imported: int
    registered: bool = False
    part: PartResult | None = None


@dataclass
class ImportReport:
    """Everything one import did, per folder, per model and per file."""

    files: list[FileOutcome] = field(default_factory=list)
    models: list[ModelOutcome] = field(default_factory=list)
    skipped_folders: list[tuple[str, str]] = field(default_factory=list)
    references: list[PartResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def files_with(self, status: FileStatus) -> list[FileOutcome]:
        """Return the file outcomes with this status."""
        return [outcome for outcome in self.files if outcome.status == status]

    @property
    def registered_models(self) -> list[str]:
        """Models this import registered with family ``imported``."""
        return sorted({m.model_key for m in self.models if m.registered})

    @property
    def rejected(self) -> list[PartResult]:
        """Parts that ingest rejected."""
        parts = [m.part for m in self.models if m.part is not None] + self.references
        return [part for part in parts if part.outcome == Outcome.REJECTED]

    @property
    def exit_code(self) -> int:
        """0 when every file imported (or was already in), else 1."""
        return 1 if self.rejected or self.files_with(FileStatus.SKIPPED) else 0


def _normalised(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def find_outputs(root: Path) -> list[OutputsFolder]:
    """Find the ``<category>/<benchmark>/outputs`` folders of an ML-PEG tree.

    Parameters
    ----------
    root
        An ML-PEG checkout, its ``ml_peg/calcs`` folder, a folder laid out like it, or
        one ``<benchmark>`` folder holding ``outputs/``.

    Returns
    -------
    list[OutputsFolder]
        Sorted by category and benchmark.

    Raises
    ------
    MlpegError
        If ``root`` is not a folder or holds no outputs folder.
    """
    if not root.is_dir():
        raise MlpegError(f"{root}: no such folder (expected an ML-PEG calc outputs tree).")
    candidates = []
    if (root / OUTPUTS).is_dir():
        candidates.append(root / OUTPUTS)
    for base in (root, root / "ml_peg" / "calcs", root / "calcs"):
        candidates.extend(sorted(base.glob(f"*/*/{OUTPUTS}")))
    found: dict[Path, OutputsFolder] = {}
    for outputs in candidates:
        if outputs.is_dir():
            folder = OutputsFolder(outputs.parent.parent.name, outputs.parent.name, outputs)
            found.setdefault(outputs.resolve(), folder)
    if not found:
        raise MlpegError(
            f"{root} holds no ML-PEG calc outputs: expected "
            "<category>/<benchmark>/outputs/<model>/*.xyz, or an ML-PEG checkout."
        )
    return sorted(found.values(), key=lambda f: (f.category, f.name))


def resolve_model_key(folder_name: str, benchmark: catalog.Benchmark) -> str:
    """Return the model key an ML-PEG model folder stands for: its name."""
    return folder_name


def declared_dispersion(folder_name: str, benchmark: catalog.Benchmark) -> str:
    """Return the dispersion an imported run records: the benchmark's declared choice.

    A model in models.yml gets what ``mlpeg calc`` would add; an unknown model, which
    ML-PEG's calcs treated as trained without dispersion, gets D3(BJ) on a ``d3``
    benchmark.
    """
    spec = registry.all_models().get(folder_name)
    if spec is not None:
        return str(spec.declared_dispersion(benchmark.dispersion))
    return str(Dispersion.D3BJ if benchmark.dispersion == "d3" else Dispersion.NONE)


def plan_import(con: duckdb.DuckDBPyConnection, root: Path) -> ImportPlan:
    """Work out which model folders of which benchmarks an import reads.

    Parameters
    ----------
    con
        A warehouse connection (to see which models are already known).
    root
        The ML-PEG tree.

    Returns
    -------
    ImportPlan
        The jobs, and the ML-PEG benchmark folders that will not be read, with why.
    """
    known = {row[0] for row in con.execute("select model_key from models").fetchall()}
    return plan_tree(root, known=frozenset(known))


def plan_tree(root: Path, *, known: frozenset[str] = frozenset()) -> ImportPlan:
    """Plan an import without a warehouse: as :func:`plan_import`, given the known models."""
    plan = ImportPlan(root=root)
    benchmarks = {_normalised(b.key): b for b in catalog.benchmarks().values()}
    for outputs in find_outputs(root):
        label = f"{outputs.category}/{outputs.name}"
        benchmark = benchmarks.get(_normalised(outputs.name))
        if benchmark is None:
            plan.skipped_folders.append((label, "mlpeg has no benchmark of this name"))
            continue
        mapping = mapping_for(benchmark)
        if mapping is None:
            plan.skipped_folders.append((label, f"no ML-PEG importer for {benchmark.key} yet"))
            continue
        for folder in sorted(p for p in outputs.path.iterdir() if p.is_dir()):
            if folder.name.startswith("."):
                continue
            files = sorted(
                {p for pattern in mapping.patterns for p in folder.glob(pattern) if p.is_file()}
            )
            model_key = resolve_model_key(folder.name, benchmark)
            plan.jobs.append(
                ModelJob(benchmark, mapping, folder, model_key, model_key in known, tuple(files))
            )
    return plan


def _register(con: duckdb.DuckDBPyConnection, jobs: list[ModelJob], root: Path) -> set[str]:
    """Add unknown models to the warehouse's models table; return the keys added."""
    new = {job.model_key: job for job in jobs if not job.is_known}
    if not new:
        return set()
    con.execute(
        "insert or ignore into models (model_key, base_model, family, checkpoint, dispersion, "
        "training_sets, notes, is_test_only) "
        "select unnest(?::varchar[]), unnest(?::varchar[]), ?, 'ml-peg:' || unnest(?::varchar[]), "
        "'unknown', [], ?, false",
        [
            list(new),
            [job.folder.name for job in new.values()],
            IMPORTED_FAMILY,
            [job.folder.name for job in new.values()],
            f"imported from ML-PEG calc outputs in {root}",
        ],
    )
    return set(new)


def _unregister_unused(con: duckdb.DuckDBPyConnection, keys: set[str]) -> set[str]:
    """Remove registered models that ended up with no predictions; return those kept."""
    if not keys:
        return set()
    con.execute(
        "delete from models where family = ? and list_contains(?, model_key) "
        "and model_key not in (select model_key from predictions)",
        [IMPORTED_FAMILY, sorted(keys)],
    )
    kept = con.execute(
        "select model_key from models where list_contains(?, model_key)", [sorted(keys)]
    ).fetchall()
    return {row[0] for row in kept}


@dataclass
class _Prepared:
    """One model folder read: its files' outcomes, its part (if any) and references."""

    job: ModelJob
    run_id: str
    files: list[FileOutcome]
    n_imported: int = 0
    unchanged: bool = False
    part: Path | None = None
    references: list[tuple[Reference, Path]] = field(default_factory=list)


def folder_task(job: ModelJob, root: Path, landing: Path) -> FolderTask:
    """Return what a reader needs to read one job's folder and write its part."""
    # Run ids hash the key the model had before D3 became a property of the run (models.yml
    # models with D3 added were '<model>-D3'), so files imported before the change are
    # still recognised as imported.
    dispersion = declared_dispersion(job.folder.name, job.benchmark)
    known = job.folder.name in registry.all_models()
    id_key = job.model_key + registry.D3_SUFFIX if known and dispersion == "d3bj" else job.model_key
    return FolderTask(
        job.benchmark.key,
        job.model_key,
        id_key,
        job.folder,
        job.files,
        root,
        dispersion,
        landing,
        job.mapping,
    )


def start_reading(
    plan: ImportPlan,
    *,
    landing: Path,
    workers: int | None = None,
    skip: frozenset[str] = frozenset(),
) -> FolderReader:
    """Start reading a plan's folders (in worker processes for a large one); see run_import.

    Raises
    ------
    MlpegError
        If ``workers`` is negative.
    """
    tasks = [folder_task(job, plan.root, landing) for job in plan.jobs]
    count = worker_count(workers, plan.n_files, len(tasks))
    return FolderReader(tasks, workers=count, skip=skip)


def _prepare_model(job: ModelJob, read: FolderRead, *, imported: set[str]) -> _Prepared:
    """Take one folder's reading: unchanged if its run is in, else its part to ingest."""
    bench_key, model_key = job.benchmark.key, job.model_key
    prepared = _Prepared(job, read.run_id, list(read.unreadable))
    if read.run_id in imported or not read.was_parsed:
        prepared.files.extend(
            FileOutcome(shown, bench_key, model_key, FileStatus.UNCHANGED, "already imported")
            for shown in read.readable
        )
        prepared.unchanged = True
        return prepared
    prepared.files.extend(read.parsed)
    prepared.n_imported = read.n_imported
    prepared.references = read.references
    prepared.part = read.part
    return prepared


def _outcome(prepared: _Prepared, part: PartResult | None, registered: bool) -> ModelOutcome:
    job = prepared.job
    if prepared.unchanged:
        status = ModelStatus.UNCHANGED
    elif part is None:
        status = ModelStatus.EMPTY
    elif part.outcome == Outcome.REJECTED:
        status = ModelStatus.REJECTED
    elif part.outcome == Outcome.SKIPPED:
        status = ModelStatus.UNCHANGED
    else:
        status = ModelStatus.LOADED
    return ModelOutcome(
        job.benchmark.key,
        job.model_key,
        job.folder,
        prepared.run_id,
        status,
        len(job.files),
        prepared.n_imported,
        registered=registered and status == ModelStatus.LOADED,
        part=part,
    )


def _import_references(
    con: duckdb.DuckDBPyConnection,
    benchmark: catalog.Benchmark,
    found: list[tuple[Reference, Path]],
    *,
    landing: Path,
) -> tuple[PartResult | None, list[str]]:
    """Store the references found where the warehouse has none; report disagreements."""
    notes = []
    chosen: dict[tuple[str, str], tuple[Reference, Path]] = {}
    for reference, shown in found:
        key = (reference.system, reference.quantity)
        if key not in chosen:
            chosen[key] = (reference, shown)
            continue
        first, first_shown = chosen[key]
        if abs(first.value - reference.value) > REFERENCE_TOLERANCE_EV:
            notes.append(
                f"{shown}: reference {reference.quantity} of {reference.system} is "
                f"{reference.value:.6f} eV but {first_shown} says {first.value:.6f} eV; "
                "mlpeg keeps the first."
            )
    stored = {
        (system, quantity): value
        for system, quantity, value in con.execute(
            "select system, quantity, value from reference_values where benchmark_key = ?",
            [benchmark.key],
        ).fetchall()
    }
    new = []
    for key, (reference, shown) in chosen.items():
        if key not in stored:
            new.append(reference)
        elif abs(stored[key] - reference.value) > REFERENCE_TOLERANCE_EV:
            notes.append(
                f"{shown}: reference {reference.quantity} of {reference.system} is "
                f"{reference.value:.6f} eV but the warehouse holds {stored[key]:.6f} eV; "
                "mlpeg scores against the stored value."
            )
    if not new:
        return None, notes
    rows = [{"benchmark_key": benchmark.key, **reference.__dict__} for reference in new]
    digest = hashlib.blake2b(repr(sorted(map(repr, new))).encode(), digest_size=8).hexdigest()
    part = write_part(
        pa.Table.from_pylist(rows, schema=REFERENCES_SCHEMA),
        kind=PartKind.REFERENCES,
        folder=landing,
        name=f"{benchmark.key}__references__ml-peg-{digest}",
    )
    return ingest_part(con, part), notes


def _benchmark_references(
    con: duckdb.DuckDBPyConnection, benchmark: catalog.Benchmark, *, landing: Path
) -> tuple[list[PartResult], str]:
    """Load a benchmark's own references (and stoichiometry) when the warehouse has none.

    Returns the ingest results, and a note when the data could not be loaded.
    """
    stored = con.execute(
        "select count(*) from reference_values where benchmark_key = ?", [benchmark.key]
    ).fetchone()[0]
    if stored:
        return [], ""
    from mlpeg.calc.runner import write_references

    try:
        module = benchmark.calc_module()
        parts = [write_references(module.references(), benchmark, landing=landing)]
        if hasattr(module, "reactions"):
            from mlpeg.reactions import write_reactions

            parts.append(write_reactions(module.reactions(), benchmark, landing=landing))
    except MlpegError as exc:
        return [], (
            f"{benchmark.key}: predictions imported, but its reference data could not be "
            f"loaded ({exc}); it is scored once 'mlpeg calc -b {benchmark.key}' or a later "
            "import can load them."
        )
    return list(ingest_parts(con, parts)), ""


def run_import(
    con: duckdb.DuckDBPyConnection,
    plan: ImportPlan,
    *,
    landing: Path,
    known_models_only: bool = False,
    on_file: Callable[[], None] | None = None,
    workers: int | None = None,
    reader: FolderReader | None = None,
) -> ImportReport:
    """Import what a plan lists: write landing parts, then ingest them.

    Parameters
    ----------
    con
        A read-write warehouse connection.
    plan
        From :func:`plan_import`.
    landing
        The warehouse's landing folder.
    known_models_only
        Refuse model folders that name no known model, instead of registering them.
    on_file
        Called after each output file (progress bars).
    workers
        Worker processes reading the folders (see
        :func:`mlpeg.importers.reading.worker_count`; 0: this process; None: one per core
        but one, for a large import). The result is the same for any number.
    reader
        Reading already started (:func:`start_reading`) for this plan, e.g. while the
        warehouse was being opened; it is used if its folders are the plan's (it may read
        folders already imported, which are then reported unchanged), else closed.

    Returns
    -------
    ImportReport
        Per folder, model and file.

    Raises
    ------
    MlpegError
        With ``known_models_only``, when a model folder names no known model (before
        anything is written); when ``workers`` is negative.
    """
    if known_models_only and plan.unknown_models:
        raise MlpegError(
            f"{plan.root}: model folders {', '.join(plan.unknown_models)} name no model in "
            "models.yml; add them there, or import without --known-models-only to register "
            f"them as family '{IMPORTED_FAMILY}'."
        )
    tick = on_file or (lambda: None)
    registered = _register(con, plan.jobs, plan.root)
    rows = con.execute("select run_id from runs where starts_with(run_id, 'ml-peg-')").fetchall()
    imported = {row[0] for row in rows}
    tasks = [folder_task(job, plan.root, landing) for job in plan.jobs]
    if reader is None or reader.tasks != tasks:  # none started, or for another plan
        if reader is not None:
            reader.close()
        reader = start_reading(plan, landing=landing, workers=workers, skip=frozenset(imported))
    prepared: list[_Prepared] = []

    def parts_as_read() -> Iterator[Path]:  # a stream: ingest may start on the first
        for job, read in zip(plan.jobs, reader, strict=True):
            prepared.append(_prepare_model(job, read, imported=imported))
            for _ in job.files:
                tick()
            if prepared[-1].part is not None:
                yield prepared[-1].part

    with reader:
        ingested = list(ingest_parts(con, parts_as_read()))
    parts = [p.part for p in prepared if p.part is not None]
    results = dict(zip(parts, ingested, strict=True))
    registered = _unregister_unused(con, registered)
    report = ImportReport(skipped_folders=list(plan.skipped_folders))
    found: dict[str, list[tuple[Reference, Path]]] = {}
    for item in prepared:
        part = results.get(item.part) if item.part is not None else None
        report.models.append(_outcome(item, part, item.job.model_key in registered))
        report.files.extend(item.files)
        report.notes.extend(f.message for f in item.files if f.status == FileStatus.IMPORTED)
        if part is not None and part.outcome == Outcome.LOADED:
            found.setdefault(item.job.benchmark.key, []).extend(item.references)
    benchmarks = {job.benchmark.key: job.benchmark for job in plan.jobs}
    loaded = {m.benchmark_key for m in report.models if m.status == ModelStatus.LOADED}
    for job in plan.jobs:
        if job.benchmark.key in loaded and job.mapping.needs_benchmark_references:
            loaded.discard(job.benchmark.key)
            parts, note = _benchmark_references(con, job.benchmark, landing=landing)
            report.references.extend(parts)
            report.notes.extend([note] if note else [])
    for key, references in found.items():
        part, notes = _import_references(con, benchmarks[key], references, landing=landing)
        report.notes.extend(notes)
        if part is not None:
            report.references.append(part)
    report.notes = [note for note in report.notes if note]
    return report


def import_tree(
    con: duckdb.DuckDBPyConnection,
    root: Path,
    *,
    landing: Path,
    known_models_only: bool = False,
    workers: int | None = None,
) -> ImportReport:
    """Plan and run the import of an ML-PEG calc outputs tree (see :func:`run_import`)."""
    plan = plan_import(con, root)
    return run_import(
        con, plan, landing=landing, known_models_only=known_models_only, workers=workers
    )
