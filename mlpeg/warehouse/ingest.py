"""Load landing parts into the warehouse, each part all-in or all-out.

A part is identified by the sha256 of its bytes: ingesting it again changes nothing. A part
that fails validation is rejected with one sentence naming file, row and field, and the
other parts still load. Nothing already stored is ever deleted, except reference values
that a newer references part for the same (benchmark, system, quantity) replaces.

Predictions parts are committed in batches of whole parts (:mod:`mlpeg.warehouse.batch`
says why and what that keeps), references and reactions parts one per transaction.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from mlpeg.data import sha256_of
from mlpeg.enums import PartKind
from mlpeg.errors import MlpegError, PartRejected
from mlpeg.models.registry import D3_SUFFIX
from mlpeg.warehouse import batch, cache
from mlpeg.warehouse.stages import Stages
from mlpeg.warehouse.validate import (
    read_part,
    validate_predictions,
    validate_reactions,
    validate_references,
)


class Outcome(StrEnum):
    """What ingest did with one part."""

    LOADED = "loaded"
    SKIPPED = "skipped"
    REJECTED = "rejected"


@dataclass(frozen=True)
class PartResult:
    """The outcome of ingesting one part."""

    path: Path
    outcome: Outcome
    rows: int = 0
    message: str = ""


@dataclass
class IngestReport:
    """Totals over one ``mlpeg ingest`` call."""

    results: list[PartResult] = field(default_factory=list)
    stages: Stages = field(default_factory=Stages)

    def count(self, outcome: Outcome) -> int:
        """Return the number of parts with this outcome."""
        return sum(1 for result in self.results if result.outcome == outcome)

    @property
    def rows_loaded(self) -> int:
        """Rows loaded from the parts that loaded."""
        return sum(r.rows for r in self.results if r.outcome == Outcome.LOADED)

    @property
    def rejected(self) -> list[PartResult]:
        """The rejected parts, with their messages."""
        return [r for r in self.results if r.outcome == Outcome.REJECTED]


#: Name endings of the parts every run of a benchmark is scored against (written by
#: ``mlpeg calc``); loading them first lets each run's stored rows be computed once.
_SHARED_PARTS = ("__references.parquet", "__reactions.parquet")


#: Parts read and validated ahead of the one being written, so that reading goes on while a
#: batch is inserted (a part's keys are ~8 MB of Arrow per 20,000 rows with forces).
READ_AHEAD = 4


def _load_order(path: Path) -> tuple[bool, Path]:
    return (not path.name.endswith(_SHARED_PARTS), path)


def find_parts(paths: Iterable[Path]) -> list[Path]:
    """Expand files and folders into the ``*.parquet`` parts they hold.

    A folder's parts are sorted by name, references and stoichiometry first: loading them
    after the predictions would recompute every run's stored points and metrics again.
    """
    parts: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = (p for p in path.rglob("*.parquet") if not p.name.startswith("."))
            parts.extend(sorted(found, key=_load_order))
        elif path.exists():
            parts.append(path)
        else:
            raise PartRejected(f"{path}: no such file or folder.")
    return parts


def legacy_d3_part(
    table: pa.Table, metadata: dict, known_models: set[str]
) -> tuple[pa.Table, dict]:
    """Read a part written under a former ``<model>-D3`` key as a run of ``<model>``.

    Parts written before D3 became a property of the run name the model ``<model>-D3``;
    their rows are the model's, with D3(BJ) added. Other parts are returned unchanged.
    """
    run = metadata.get("run") or {}
    key = run.get("model_key")
    if metadata.get("kind") != str(PartKind.PREDICTIONS) or not key or key in known_models:
        return table, metadata
    base = key.removesuffix(D3_SUFFIX)
    if base == key or base not in known_models:
        return table, metadata
    index = table.schema.get_field_index("model_key")
    column = pa.array([base] * table.num_rows, type=table.schema.field(index).type)
    table = table.set_column(index, table.schema.field(index), column)
    return table, {**metadata, "run": {**run, "model_key": base, "dispersion": "d3bj"}}


def _load_reactions(con: duckdb.DuckDBPyConnection) -> None:
    # A newer stoichiometry of a reaction replaces all of that reaction's species rows.
    con.execute(
        "delete from reaction_species where (benchmark_key, reaction) in "
        "(select distinct (benchmark_key, reaction) from part)"
    )
    con.execute("insert into reaction_species by name select * from part")


def _load_references(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "delete from reference_values where (benchmark_key, system, quantity) in "
        "(select (benchmark_key, system, quantity) from part)"
    )
    con.execute("insert into reference_values by name select * from part")


@dataclass(frozen=True)
class _Known:
    """What validation needs from the warehouse, read once per ingest call."""

    part_digests: set[str]
    models: set[str]
    benchmarks: set[str]

    @classmethod
    def read(cls, con: duckdb.DuckDBPyConnection) -> _Known:
        def column(query: str) -> set[str]:
            return {row[0] for row in con.execute(query).fetchall()}

        return cls(
            column("select part_sha256 from parts"),
            column("select model_key from models"),
            column("select benchmark_key from benchmarks"),
        )


@dataclass(frozen=True)
class _Prepared:
    """A part read and validated, ready to load (or the result that ends it early)."""

    path: Path
    digest: str = ""
    table: pa.Table | None = None
    kind: PartKind | None = None
    metadata: dict | None = None
    result: PartResult | None = None


def _prepare(path: Path, known: _Known, stages: Stages) -> _Prepared:
    """Hash, read and validate a part; touches no database, so it runs in a thread."""
    try:
        with stages.time("hash"):
            digest = sha256_of(path)
    except OSError as exc:
        return _Prepared(
            path, result=PartResult(path, Outcome.REJECTED, message=f"{path.name}: {exc.strerror}")
        )
    if digest in known.part_digests:
        return _Prepared(
            path, digest, result=PartResult(path, Outcome.SKIPPED, message="already ingested")
        )
    try:
        with stages.time("read"):
            table, metadata = read_part(path, keys_only=True)
        with stages.time("validate"):
            table, metadata = legacy_d3_part(table, metadata, known.models)
            kind = PartKind(metadata["kind"])
            if kind == PartKind.PREDICTIONS:
                validate_predictions(
                    path,
                    table,
                    metadata,
                    known_models=known.models,
                    known_benchmarks=known.benchmarks,
                )
            elif kind == PartKind.REACTIONS:
                validate_reactions(path, table, known_benchmarks=known.benchmarks)
            else:
                validate_references(path, table, known_benchmarks=known.benchmarks)
    except PartRejected as exc:
        return _Prepared(path, digest, result=PartResult(path, Outcome.REJECTED, message=str(exc)))
    return _Prepared(path, digest, table, kind, metadata)


def _rejected(path: Path, exc: Exception) -> PartResult:
    message = str(exc) if isinstance(exc, PartRejected) else str(exc).splitlines()[0]
    if not isinstance(exc, PartRejected):
        message = f"{path.name}: {message}"
    return PartResult(path, Outcome.REJECTED, message=message)


def _load_shared(con: duckdb.DuckDBPyConnection, prepared: _Prepared, known: _Known) -> PartResult:
    """Load a references or reactions part in its own transaction."""
    path, table, kind = prepared.path, prepared.table, prepared.kind
    con.register("part", table)
    con.execute("begin")
    try:
        if kind == PartKind.REACTIONS:
            _load_reactions(con)
        else:
            _load_references(con)
        # every stored run of these benchmarks is scored against them: same transaction
        keys = pc.unique(table.column("benchmark_key")).to_pylist()
        cache.refresh(con, benchmark_keys=keys)
        con.execute(
            "insert into parts (part_sha256, file_name, size_bytes, kind, run_id, n_rows) "
            "values (?, ?, ?, ?, null, ?)",
            [prepared.digest, path.name, path.stat().st_size, str(kind), table.num_rows],
        )
    except (PartRejected, duckdb.Error) as exc:
        con.execute("rollback")
        return _rejected(path, exc)
    except BaseException:
        con.execute("rollback")
        raise
    finally:
        con.unregister("part")
    con.execute("commit")
    known.part_digests.add(prepared.digest)
    return PartResult(path, Outcome.LOADED, rows=table.num_rows)


def _pending(prepared: _Prepared, position: int) -> batch.PendingPart:
    run = prepared.metadata.get("run") or {}
    return batch.PendingPart(position, prepared.path, prepared.digest, prepared.table, run)


class _Writer:
    """The open batch of one ingest call, and the outcome of each part it settles."""

    def __init__(
        self, con: duckdb.DuckDBPyConnection, known: _Known, stages: Stages, max_rows: int
    ) -> None:
        self.con, self.known, self.stages, self.max_rows = con, known, stages, max_rows
        self.batch = batch.Batch()

    def place(self, prepared: _Prepared, position: int) -> dict[int, PartResult]:
        """Take the next part; return the outcomes this settles (by position)."""
        if prepared.result is not None:
            return {position: prepared.result}
        path, known = prepared.path, self.known
        # the same bytes twice in one call
        if self.batch.holds_digest(prepared.digest) or prepared.digest in known.part_digests:
            return {position: PartResult(path, Outcome.SKIPPED, message="already ingested")}
        if prepared.kind != PartKind.PREDICTIONS:
            settled = self.commit()  # keep the load order: predictions before it go first
            with self.stages.time("references and reactions"):
                settled[position] = _load_shared(self.con, prepared, known)
            return settled
        return self.append(_pending(prepared, position))

    def append(self, part: batch.PendingPart) -> dict[int, PartResult]:
        """Append a predictions part to the batch; commit the batch when it is full."""
        con = self.con
        # a second part of a run is checked against the first, which must be written
        settled = self.commit() if self.batch.holds_run(part.run_id) else {}
        if not self.batch.is_open:
            con.execute("begin transaction")
        try:
            appended = batch.append(con, self.batch, part, self.stages)
        except PartRejected as exc:  # nothing of the part was written: the batch goes on
            if not self.batch.is_open:
                con.execute("rollback")
            return settled | {part.position: _rejected(part.path, exc)}
        except (duckdb.Error, MlpegError) as exc:
            con.execute("rollback")
            settled |= self._again(self._drop())
            settled[part.position] = _rejected(part.path, exc)
            return settled
        except BaseException:
            con.execute("rollback")
            self._drop()
            raise
        self.batch.add(appended, part)
        return settled | (self.commit() if self.batch.is_full(self.max_rows) else {})

    def commit(self) -> dict[int, PartResult]:
        """Commit the open batch (if any); return the outcome of each of its parts."""
        if not self.batch.is_open:
            return {}
        try:
            batch.commit(self.con, self.batch, self.stages)
        except (duckdb.Error, MlpegError) as exc:
            self.con.execute("rollback")
            parts = self._drop()
            if len(parts) == 1:
                return {parts[0].position: _rejected(parts[0].path, exc)}
            return self._again(parts)
        except BaseException:
            self.con.execute("rollback")
            self._drop()
            raise
        parts = self._drop()
        self.known.part_digests.update(part.digest for part in parts)
        return {
            part.position: PartResult(part.path, Outcome.LOADED, rows=part.rows) for part in parts
        }

    def rollback(self) -> None:
        """Give up the open batch (the caller stopped early)."""
        if self.batch.is_open:
            self.con.execute("rollback")
            self._drop()

    def _drop(self) -> list[batch.Appended]:
        parts = list(self.batch.parts)
        self.batch.clear()
        return parts

    def _again(self, parts: list[batch.Appended]) -> dict[int, PartResult]:
        """Write the parts of a rolled-back batch again, each in a transaction of its own."""
        settled: dict[int, PartResult] = {}
        for part in parts:
            prepared = _prepare(part.path, self.known, self.stages)
            if prepared.result is not None:
                settled[part.position] = prepared.result
                continue
            settled |= self.append(_pending(prepared, part.position))
            settled |= self.commit()
        return settled


def ingest_part(con: duckdb.DuckDBPyConnection, path: Path) -> PartResult:
    """Validate and load one part in its own transaction.

    Parameters
    ----------
    con
        A read-write connection (from :func:`mlpeg.warehouse.connect.connect_writer`).
    path
        The part.

    Returns
    -------
    PartResult
        Loaded, skipped (already ingested) or rejected with the reason.
    """
    (result,) = ingest_parts(con, [path])
    return result


def ingest_parts(
    con: duckdb.DuckDBPyConnection, paths: Iterable[Path], *, stages: Stages | None = None
) -> Iterator[PartResult]:
    """Ingest parts, yielding each outcome in the order of ``paths`` (for progress bars).

    Predictions parts are appended to a batch transaction that commits every
    :func:`~mlpeg.warehouse.batch.batch_rows` rows (:mod:`mlpeg.warehouse.batch`);
    references and reactions parts each load in a transaction of their own. A loaded
    part is yielded once its batch has committed. Up to :data:`READ_AHEAD` parts are read
    and validated in a background thread, also while a batch is written (pyarrow and
    DuckDB release the GIL).

    Parameters
    ----------
    con
        A read-write connection.
    paths
        The parts, in load order (see :func:`find_parts`); a stream is taken as it comes.
    stages
        Where to add the seconds spent per stage (``bench/ingest.py`` prints them).
    """
    stages = stages if stages is not None else Stages()
    known = _Known.read(con)
    source = iter(paths)  # taken as it comes: a stream (the ML-PEG import's) starts at once
    writer = _Writer(con, known, stages, batch.batch_rows())
    outcomes: dict[int, PartResult] = {}
    emitted = 0
    try:
        with batch.ingest_settings(con), ThreadPoolExecutor(max_workers=1) as pool:
            ahead = deque(
                pool.submit(_prepare, path, known, stages)
                for path in itertools.islice(source, READ_AHEAD)
            )
            position = 0
            while ahead:
                prepared = ahead.popleft().result()
                following = next(source, None)
                if following is not None:
                    ahead.append(pool.submit(_prepare, following, known, stages))
                outcomes |= writer.place(prepared, position)
                position += 1
                if not ahead:  # that was the last part
                    outcomes |= writer.commit()
                while emitted in outcomes:
                    yield outcomes.pop(emitted)
                    emitted += 1
    finally:
        writer.rollback()


def ingest(con: duckdb.DuckDBPyConnection, paths: Iterable[Path]) -> IngestReport:
    """Ingest every part found under ``paths`` and return the report."""
    report = IngestReport()
    report.results = list(ingest_parts(con, find_parts(paths), stages=report.stages))
    return report
