"""Load landing parts into the warehouse, each in its own transaction.

A part is identified by the sha256 of its bytes: ingesting it again changes nothing. A part
that fails validation is rejected with one sentence naming file, row and field, and the
other parts still load. Nothing already stored is ever deleted, except reference values
that a newer references part for the same (benchmark, system, quantity) replaces.
"""

from __future__ import annotations

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
from mlpeg.errors import PartRejected
from mlpeg.models.registry import D3_SUFFIX
from mlpeg.warehouse import cache
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


_INSERT_STRUCTURES = """
insert into structures
with candidates as (
    select structure as s from part
    union all
    select unnest(frames) as s from part
),
new_ids as (
    select s.structure_id from candidates
    except
    select structure_id from structures
),
new_structures as (
    select distinct on (s.structure_id) s
    from candidates
    semi join new_ids on candidates.s.structure_id = new_ids.structure_id
)
select
    s.structure_id,
    s.numbers,
    s.positions,
    s.cell,
    s.pbc,
    s.info::json,
    len(s.numbers),
    list_sort(list_distinct(list_transform(s.numbers, lambda z: chemical_symbol(z)))),
from new_structures
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
insert into runs (
    run_id, model_key, benchmark_key, started_at, ended_at, host, device, dtype, versions,
    code_version, status, family, checkpoint, checkpoint_sha256, d3, dispersion, band
)
values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
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
    model = run.get("model") or {}  # family, checkpoint and sha256, D3 settings
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
            model.get("family"),
            model.get("checkpoint"),
            model.get("checkpoint_sha256"),
            model.get("d3"),
            run_dispersion(run),
            run.get("band"),
        ],
    )


def run_dispersion(run: dict) -> str:
    """Return a part's ``dispersion``; parts from before it was recorded: from the D3 settings."""
    dispersion = run.get("dispersion")
    if dispersion is None:
        dispersion = "d3bj" if (run.get("model") or {}).get("d3") else "none"
    return dispersion


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


def _prepare(path: Path, known: _Known) -> _Prepared:
    """Hash, read and validate a part; touches no database, so it can run in a thread."""
    try:
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
        table, metadata = read_part(path)
        table, metadata = legacy_d3_part(table, metadata, known.models)
        kind = PartKind(metadata["kind"])
        if kind == PartKind.PREDICTIONS:
            validate_predictions(
                path, table, metadata, known_models=known.models, known_benchmarks=known.benchmarks
            )
        elif kind == PartKind.REACTIONS:
            validate_reactions(path, table, known_benchmarks=known.benchmarks)
        else:
            validate_references(path, table, known_benchmarks=known.benchmarks)
    except PartRejected as exc:
        return _Prepared(path, digest, result=PartResult(path, Outcome.REJECTED, message=str(exc)))
    return _Prepared(path, digest, table, kind, metadata)


def _load(con: duckdb.DuckDBPyConnection, prepared: _Prepared, known: _Known) -> PartResult:
    """Load a prepared part in its own transaction."""
    if prepared.result is not None:
        return prepared.result
    path, table, kind = prepared.path, prepared.table, prepared.kind
    if prepared.digest in known.part_digests:  # the same bytes twice in one call
        return PartResult(path, Outcome.SKIPPED, message="already ingested")
    con.register("part", table)
    con.execute("begin transaction")
    try:
        if kind == PartKind.PREDICTIONS:
            _load_predictions(con, table, prepared.metadata.get("run") or {}, path)
        elif kind == PartKind.REACTIONS:
            _load_reactions(con)
        else:
            _load_references(con)
        run_id = table.column("run_id")[0].as_py() if "run_id" in table.column_names else None
        # the stored points and metrics these rows feed, in the same transaction
        if kind == PartKind.PREDICTIONS:
            cache.refresh(con, run_ids=[run_id])
        else:
            keys = pc.unique(table.column("benchmark_key")).to_pylist()
            cache.refresh(con, benchmark_keys=keys)
        con.execute(
            "insert into parts (part_sha256, file_name, size_bytes, kind, run_id, n_rows) "
            "values (?, ?, ?, ?, ?, ?)",
            [prepared.digest, path.name, path.stat().st_size, str(kind), run_id, table.num_rows],
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
    known.part_digests.add(prepared.digest)
    return PartResult(path, Outcome.LOADED, rows=table.num_rows)


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
    known = _Known.read(con)
    return _load(con, _prepare(path, known), known)


def ingest_parts(con: duckdb.DuckDBPyConnection, paths: Iterable[Path]) -> Iterator[PartResult]:
    """Ingest parts in order, yielding each outcome (for progress bars).

    The next part is read and validated in a background thread while the current one is
    written (pyarrow and DuckDB both release the GIL), so reading overlaps writing.
    """
    known = _Known.read(con)
    paths = list(paths)
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(_prepare, paths[0], known) if paths else None
        for index in range(len(paths)):
            prepared = pending.result()
            if index + 1 < len(paths):
                pending = pool.submit(_prepare, paths[index + 1], known)
            yield _load(con, prepared, known)


def ingest(con: duckdb.DuckDBPyConnection, paths: Iterable[Path]) -> IngestReport:
    """Ingest every part found under ``paths`` and return the report."""
    return IngestReport(list(ingest_parts(con, find_parts(paths))))
