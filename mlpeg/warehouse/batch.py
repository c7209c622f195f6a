"""Write predictions parts in batches: one transaction per batch of whole parts.

DuckDB stores a table in row groups of 122,880 rows. A transaction that appends fewer rows
logs them to the write-ahead log and copies them into the file again at the next
checkpoint, rewriting the last, partly filled row group each time; one that appends more
writes full row groups straight into the file ("optimistic writes"). And one ``insert`` of
many row groups is written by all of DuckDB's threads at once, while an insert of one part
(typically 10³–10⁵ rows) runs on one thread. So a batch is one transaction that collects
parts and writes their predictions with one insert when it commits.

A part is appended to the open batch as soon as it is read: its clash check and its new
structures are written at once (later parts of the batch point at them), its predictions,
its run and its ``parts`` row are kept in memory (:attr:`Batch.pending`) and written at
commit. The batch commits once it holds :func:`batch_rows` rows or :data:`BATCH_BYTES` of
Arrow data, at the end of the ingest, before a references or reactions part, and before a
second part of a run it already holds (so that the second part is checked against the
first). At commit it also computes the stored points and metrics of every run in it
(``cache.refresh``: once per benchmark and batch, not once per part). Each part is still
all-in or all-out: a crash or kill -9 loses the open batch and nothing before it, and
``parts`` (which makes ingest resumable) commits with the rows it describes.

Everything a part can be rejected for is checked before its first row is appended: its
values (in Arrow, before it reaches the writer), a clash with stored rows of its run, and
its new structures. A DuckDB error after that rolls the whole batch back; the caller then
writes the batch's parts again, each in a transaction of its own, so that only the part at
fault is rejected.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from mlpeg.errors import MlpegError, PartRejected
from mlpeg.structures import STRUCTURE_TYPE
from mlpeg.warehouse import cache
from mlpeg.warehouse.stages import Stages
from mlpeg.warehouse.validate import read_structures, validate_structures

#: A batch commits once it holds this many rows (three DuckDB row groups) ...
#: Measured with bench/ingest.py (1M rows, 50 parts of 20,000, 2 cores): batches of ~2 row
#: groups leave a third of the file as free blocks and cost 1.4x the CPU (DuckDB merges the
#: partly filled row groups of each thread again), 3 or more write the file once.
BATCH_ROWS = 368_640
#: ... or this many bytes of Arrow data: the batch's rows wait in memory until it commits,
#: so this bounds an ingest's memory whatever the number of parts.
BATCH_BYTES = 256 << 20
#: DuckDB settings while ingesting: flush each full row group at once instead of buffering
#: five, and keep at most this much of the written file cached (it spills beyond that).
INGEST_SETTINGS = {"write_buffer_row_group_count": "1", "memory_limit": "256MiB"}


def batch_rows() -> int:
    """Rows per batch: ``MLPEG_INGEST_BATCH_ROWS`` if set, else :data:`BATCH_ROWS`.

    Raises
    ------
    MlpegError
        If the variable is set to anything but a positive integer.
    """
    value = os.environ.get("MLPEG_INGEST_BATCH_ROWS", "").strip()
    if not value:
        return BATCH_ROWS
    if not value.isdigit() or int(value) < 1:
        raise MlpegError(f"MLPEG_INGEST_BATCH_ROWS must be a positive integer, not {value!r}.")
    return int(value)


@dataclass
class PendingPart:
    """A validated predictions part on its way into a batch.

    ``table`` holds of each structure only its id and atomic numbers; the whole structures
    that the warehouse lacks are read by :func:`append`.
    """

    position: int
    path: Path
    digest: str
    table: pa.Table
    run: dict

    @property
    def run_id(self) -> str:
        """The part's run (a part holds one)."""
        return self.table.column("run_id")[0].as_py()


@dataclass(frozen=True)
class Appended:
    """What a batch keeps of a part after appending it (not its rows)."""

    position: int
    path: Path
    digest: str
    run_id: str
    rows: int
    nbytes: int


@dataclass
class Batch:
    """The open batch transaction: the parts appended to it so far.

    ``pending`` holds the parts whose predictions, run and ``parts`` rows are not written
    yet (:func:`flush` writes them).
    """

    parts: list[Appended] = field(default_factory=list)
    pending: list[PendingPart] = field(default_factory=list)
    rows: int = 0
    nbytes: int = 0
    #: The structure ids of the last part appended, all stored by now: the next part of
    #: another model on the same structures has the same ids and needs no lookup.
    stored_ids: pa.ChunkedArray | None = None

    @property
    def is_open(self) -> bool:
        """Whether a transaction is open (a part was appended since the last commit)."""
        return bool(self.parts)

    def add(self, part: Appended, pending: PendingPart) -> None:
        """Record an appended part and keep its rows for :func:`flush`."""
        self.parts.append(part)
        self.pending.append(pending)
        self.rows += part.rows
        self.nbytes += part.nbytes

    def clear(self) -> None:
        """Forget the parts (after commit or rollback)."""
        self.parts.clear()
        self.pending.clear()
        self.rows = self.nbytes = 0
        self.stored_ids = None

    def is_full(self, max_rows: int) -> bool:
        """Whether it is time to commit."""
        return self.rows >= max_rows or self.nbytes >= BATCH_BYTES

    def holds_digest(self, digest: str) -> bool:
        """Whether the same bytes are already in the batch."""
        return any(part.digest == digest for part in self.parts)

    def holds_run(self, run_id: str) -> bool:
        """Whether a part of this run is already in the batch."""
        return any(part.run_id == run_id for part in self.parts)


@contextmanager
def ingest_settings(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Apply :data:`INGEST_SETTINGS` for the block, then restore the previous values."""
    saved = {
        name: con.execute("select current_setting(?)", [name]).fetchall()[0][0]
        for name in INGEST_SETTINGS
    }
    for name, value in INGEST_SETTINGS.items():
        con.execute(f"set {name} = '{value}'")
    try:
        yield
    finally:
        for name, value in saved.items():
            con.execute(f"set {name} = '{value}'")


def _structure_ids(table: pa.Table) -> pa.ChunkedArray:
    return pc.struct_field(table.column("structure"), "structure_id")


def new_structures(
    con: duckdb.DuckDBPyConnection, part: PendingPart, stored_ids: pa.ChunkedArray | None = None
) -> pa.Array:
    """Read and validate the structures of a part that the warehouse does not hold yet.

    One query finds the ids not stored (earlier parts of the open batch included); only
    their rows are read from the file. In ``mlpeg calc`` output and the bench, the first
    model's part brings the structures and every later part points at them; a part whose
    ids equal ``stored_ids`` (ids known to be stored) skips the query.

    Raises
    ------
    PartRejected
        If one of them is malformed (naming file, row and field).
    """
    ids = _structure_ids(part.table)
    if stored_ids is not None and ids.equals(stored_ids):
        return pa.array([], type=STRUCTURE_TYPE)
    con.register("part_structure_ids", pa.table({"structure_id": ids}))
    try:
        missing = con.sql(
            "select distinct structure_id from part_structure_ids "
            "anti join structures using (structure_id)"
        ).to_arrow_table()
    finally:
        con.unregister("part_structure_ids")
    if missing.num_rows == 0:
        return pa.array([], type=STRUCTURE_TYPE)
    mask = pc.is_in(ids, value_set=missing.column("structure_id").combine_chunks())
    rows = pc.indices_nonzero(mask.combine_chunks())
    structures = read_structures(part.path, rows)
    validate_structures(part.path, structures, rows)
    return structures


def clash(con: duckdb.DuckDBPyConnection, part: PendingPart) -> str | None:
    """Return why a part repeats a stored (system, role) of its run, or ``None``.

    Runs new to the warehouse (the usual case) cost one lookup in ``runs``; a resumed
    run's part is compared with the rows stored for that run (open batch included).
    """
    run_id = part.run_id
    if not con.execute("select run_id from runs where run_id = ?", [run_id]).fetchall():
        return None
    con.register("resumed_part", part.table.select(["system", "role"]))
    try:
        found = con.execute(
            "select system, role from predictions join resumed_part using (system, role) "
            "where run_id = ? limit 1",
            [run_id],
        ).fetchall()
    finally:
        con.unregister("resumed_part")
    if not found:
        return None
    return (
        f"{part.path.name}: run {run_id} already holds (system, role) = {found[0]}; "
        "a resumed run must not repeat a structure."
    )


_INSERT_STRUCTURES = """
insert into structures
with candidates as (
    select s from part_new_structures
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
    run_id, model_key, benchmark_key, system, role, task, settings_hash, structure_id,
    list_transform(frames, lambda f: f.structure_id),
    energy, forces, stress, properties, state, error, wall_time_s, computed_at,
from batch_predictions
"""

_RUN_COLUMNS = (
    "run_id, model_key, benchmark_key, started_at, ended_at, host, device, dtype, versions, "
    "code_version, status, family, checkpoint, checkpoint_sha256, d3, dispersion, band"
)
_PARTS_COLUMNS = "part_sha256, file_name, size_bytes, kind, run_id, n_rows"


def _values(n_rows: int, n_columns: int) -> str:
    """Return ``(?, ?), (?, ?)``: the placeholders of a VALUES list."""
    row = "(" + ", ".join("?" * n_columns) + ")"
    return ", ".join([row] * n_rows)


def run_dispersion(run: dict) -> str:
    """Return a part's ``dispersion``; parts from before it was recorded: from the D3 settings."""
    dispersion = run.get("dispersion")
    if dispersion is None:
        dispersion = "d3bj" if (run.get("model") or {}).get("d3") else "none"
    return dispersion


def _run_row(part: PendingPart) -> list:
    table, run = part.table, part.run
    computed = table.column("computed_at")
    model = run.get("model") or {}  # family, checkpoint and sha256, D3 settings
    return [
        part.run_id,
        table.column("model_key")[0].as_py(),
        table.column("benchmark_key")[0].as_py(),
        run.get("started_at") or pc.min(computed).as_py(),
        run.get("ended_at") or pc.max(computed).as_py(),
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
    ]


def _upsert_runs(con: duckdb.DuckDBPyConnection, parts: list[PendingPart]) -> None:
    """Insert or extend the runs of ``parts`` (one statement; at most one part per run)."""
    rows = [_run_row(part) for part in parts]
    con.execute(
        f"insert into runs ({_RUN_COLUMNS}) values {_values(len(rows), len(rows[0]))} "
        "on conflict (run_id) do update set "
        "started_at = least(runs.started_at, excluded.started_at), "
        "ended_at = greatest(runs.ended_at, excluded.ended_at), "
        "status = excluded.status",
        [value for row in rows for value in row],
    )


def _insert_parts_rows(con: duckdb.DuckDBPyConnection, parts: list[PendingPart]) -> None:
    """Record ``parts`` as ingested (one statement)."""
    rows = [
        [p.digest, p.path.name, p.path.stat().st_size, "predictions", p.run_id, p.table.num_rows]
        for p in parts
    ]
    con.execute(
        f"insert into parts ({_PARTS_COLUMNS}) values {_values(len(rows), len(rows[0]))}",
        [value for row in rows for value in row],
    )


def append(
    con: duckdb.DuckDBPyConnection, batch: Batch, part: PendingPart, stages: Stages
) -> Appended:
    """Check a validated part and write its new structures into the open batch.

    Its predictions, run and ``parts`` rows are written by :func:`flush`; the caller keeps
    the part in :attr:`Batch.pending` until then.

    Raises
    ------
    PartRejected
        Before anything of the part is written: it clashes with stored rows of its run
        or holds a malformed new structure.
    """
    with stages.time("check clashes"):
        message = clash(con, part)
    if message:
        raise PartRejected(message)
    with stages.time("read new structures"):
        structures = new_structures(con, part, batch.stored_ids)
    frames = part.table.column("frames")
    if len(structures) or pc.sum(pc.list_value_length(frames)).as_py():
        con.register("part", part.table)
        con.register("part_new_structures", pa.table({"s": structures}))
        try:
            with stages.time("insert structures"):
                con.execute(_INSERT_STRUCTURES)
        finally:
            con.unregister("part")
            con.unregister("part_new_structures")
    batch.stored_ids = _structure_ids(part.table)
    table = part.table
    return Appended(
        part.position, part.path, part.digest, part.run_id, table.num_rows, table.nbytes
    )


def _prediction_rows(table: pa.Table) -> pa.Table:
    """Return a part's rows with the structure's id in place of the structure."""
    ids = pc.struct_field(table.column("structure"), "structure_id")
    return table.drop_columns(["structure"]).append_column("structure_id", ids)


def flush(con: duckdb.DuckDBPyConnection, batch: Batch, stages: Stages) -> None:
    """Write the pending parts' predictions (one insert), runs and ``parts`` rows.

    The transaction stays open. The batch holds at most one part per run (a second part of
    a run commits the batch first), so no run is upserted twice.
    """
    if not batch.pending:
        return
    with stages.time("insert predictions"):
        rows = pa.concat_tables([_prediction_rows(part.table) for part in batch.pending])
        con.register("batch_predictions", rows)
        try:
            con.execute(_INSERT_PREDICTIONS)
        finally:
            con.unregister("batch_predictions")
    with stages.time("runs and parts rows"):
        _upsert_runs(con, batch.pending)
        _insert_parts_rows(con, batch.pending)
    batch.pending.clear()


def commit(con: duckdb.DuckDBPyConnection, batch: Batch, stages: Stages) -> None:
    """Write the pending rows, compute the batch's stored points and metrics, commit.

    Raises
    ------
    duckdb.Error, MlpegError
        When a benchmark's views fail on the new rows; the caller rolls back.
    """
    flush(con, batch, stages)
    # the stored points and metrics these rows feed, in the same transaction
    with stages.time("stored points and metrics"):
        cache.refresh(con, run_ids=sorted({part.run_id for part in batch.parts}))
    with stages.time("commit"):
        con.execute("commit")
