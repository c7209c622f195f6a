"""Load landing parts into the warehouse, each in its own transaction.

A part is identified by the sha256 of its bytes: ingesting it again changes nothing. A part
that fails validation is rejected with one sentence naming file, row and field, and the
other parts still load. Nothing already stored is ever deleted, except reference values
that a newer references part for the same (benchmark, system, quantity) replaces.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import duckdb
import pyarrow as pa

from mlpeg.data import sha256_of
from mlpeg.enums import PartKind
from mlpeg.errors import PartRejected
from mlpeg.warehouse.validate import read_part, validate_predictions, validate_references


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


def find_parts(paths: Iterable[Path]) -> list[Path]:
    """Expand files and folders into the sorted list of ``*.parquet`` parts they hold."""
    parts: list[Path] = []
    for path in paths:
        if path.is_dir():
            parts.extend(p for p in sorted(path.rglob("*.parquet")) if not p.name.startswith("."))
        elif path.exists():
            parts.append(path)
        else:
            raise PartRejected(f"{path}: no such file or folder.")
    return parts


_INSERT_STRUCTURES = """
insert or ignore into structures
select
    s.structure_id,
    s.numbers,
    s.positions,
    s.cell,
    s.pbc,
    s.info::json,
    len(s.numbers),
    list_sort(list_distinct(list_transform(s.numbers, lambda z: chemical_symbol(z)))),
from (
    select distinct on (s.structure_id) s
    from (select unnest(list_prepend(structure, frames)) as s from part)
)
"""

_INSERT_PREDICTIONS = """
insert into predictions
select
    run_id, model_key, benchmark_key, system, role, task, settings_hash,
    structure.structure_id,
    list_transform(frames, lambda f: f.structure_id),
    energy, forces, stress, properties, state, error, wall_time_s, computed_at,
from part
"""

_UPSERT_RUN = """
insert into runs values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
on conflict (run_id) do update set
    started_at = least(runs.started_at, excluded.started_at),
    ended_at = greatest(runs.ended_at, excluded.ended_at),
    status = excluded.status
"""


def _load_predictions(
    con: duckdb.DuckDBPyConnection, table: pa.Table, run: dict, path: Path
) -> None:
    run_id = table.column("run_id")[0].as_py()
    clash = con.execute(
        "select system, role from predictions join part using (run_id, system, role) limit 1"
    ).fetchone()
    if clash:
        raise PartRejected(
            f"{path.name}: run {run_id} already holds (system, role) = {clash}; "
            "a resumed run must not repeat a structure."
        )
    con.execute(_INSERT_STRUCTURES)
    con.execute(_INSERT_PREDICTIONS)
    computed = table.column("computed_at")
    con.execute(
        _UPSERT_RUN,
        [
            run_id,
            table.column("model_key")[0].as_py(),
            table.column("benchmark_key")[0].as_py(),
            run.get("started_at") or min(computed.to_pylist()),
            run.get("ended_at") or max(computed.to_pylist()),
            run.get("host"),
            run.get("device"),
            run.get("dtype"),
            run.get("versions") or {},
            run.get("code_version"),
            run.get("status", "completed"),
        ],
    )


def _load_references(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "delete from reference_values where (benchmark_key, system, quantity) in "
        "(select (benchmark_key, system, quantity) from part)"
    )
    con.execute("insert into reference_values by name select * from part")


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
    try:
        digest = sha256_of(path)
    except OSError as exc:
        return PartResult(path, Outcome.REJECTED, message=f"{path.name}: {exc.strerror}")
    if con.execute("select 1 from parts where part_sha256 = ?", [digest]).fetchone():
        return PartResult(path, Outcome.SKIPPED, message="already ingested")
    try:
        table, metadata = read_part(path)
        kind = PartKind(metadata["kind"])
        known_benchmarks = {
            row[0] for row in con.execute("select benchmark_key from benchmarks").fetchall()
        }
        if kind == PartKind.PREDICTIONS:
            known_models = {
                row[0] for row in con.execute("select model_key from models").fetchall()
            }
            validate_predictions(
                path, table, metadata, known_models=known_models, known_benchmarks=known_benchmarks
            )
        else:
            validate_references(path, table, known_benchmarks=known_benchmarks)
    except PartRejected as exc:
        return PartResult(path, Outcome.REJECTED, message=str(exc))
    con.register("part", table)
    con.execute("begin transaction")
    try:
        if kind == PartKind.PREDICTIONS:
            _load_predictions(con, table, metadata.get("run") or {}, path)
        else:
            _load_references(con)
        run_id = table.column("run_id")[0].as_py() if "run_id" in table.column_names else None
        con.execute(
            "insert into parts (part_sha256, file_name, size_bytes, kind, run_id, n_rows) "
            "values (?, ?, ?, ?, ?, ?)",
            [digest, path.name, path.stat().st_size, str(kind), run_id, table.num_rows],
        )
    except PartRejected as exc:
        con.execute("rollback")
        return PartResult(path, Outcome.REJECTED, message=str(exc))
    except duckdb.Error as exc:
        con.execute("rollback")
        return PartResult(
            path, Outcome.REJECTED, message=f"{path.name}: {str(exc).splitlines()[0]}"
        )
    except BaseException:
        con.execute("rollback")
        raise
    finally:
        con.unregister("part")
    con.execute("commit")
    return PartResult(path, Outcome.LOADED, rows=table.num_rows)


def ingest_parts(con: duckdb.DuckDBPyConnection, paths: Iterable[Path]) -> Iterator[PartResult]:
    """Ingest parts one by one, yielding each outcome (for progress bars)."""
    for path in paths:
        yield ingest_part(con, path)


def ingest(con: duckdb.DuckDBPyConnection, paths: Iterable[Path]) -> IngestReport:
    """Ingest every part found under ``paths`` and return the report."""
    return IngestReport(list(ingest_parts(con, find_parts(paths))))
