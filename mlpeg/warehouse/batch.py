"""Write predictions parts in batches: one transaction per batch of whole parts.

DuckDB stores a table in row groups of 122,880 rows. A transaction that inserts fewer rows
logs them to the write-ahead log and copies them into the file again at the next
checkpoint, rewriting the last, partly filled row group each time; one that inserts more
writes full row groups straight into the file. Parts are typically 10³–10⁵ rows, so
committing each on its own costs about twice the work of committing them together.

A batch therefore gathers validated parts until it holds :func:`batch_rows` rows (or
:data:`BATCH_BYTES` of Arrow data, which bounds memory) and writes them in one transaction:
the new structures, the predictions, the runs, one ``parts`` row per part, and the stored
points and metrics of every run in the batch (``cache.refresh``, once per benchmark and
batch). Each part is still all-in or all-out: a crash or kill loses the whole batch and
nothing before it, and ``parts`` (which makes ingest resumable) commits with the rows.
Everything a part can be rejected for is checked before the transaction starts; a DuckDB
error inside one rolls the batch back and its parts are written again one at a time, so
the good ones load and the bad one is rejected alone.
"""

from __future__ import annotations

import os
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

#: A batch is written once it holds this many rows (two DuckDB row groups).
BATCH_ROWS = 245_760
#: ... or this many bytes of Arrow data, whichever comes first.
BATCH_BYTES = 256 << 20


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
    """A validated predictions part waiting in a batch.

    ``table`` holds of each structure only its id and atomic numbers; the whole structures
    that the warehouse lacks are read when the batch is written.
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


@dataclass
class Batch:
    """Parts gathered for one transaction, at most one part per run."""

    parts: list[PendingPart] = field(default_factory=list)
    rows: int = 0
    nbytes: int = 0

    def add(self, part: PendingPart) -> None:
        """Add a part."""
        self.parts.append(part)
        self.rows += part.table.num_rows
        self.nbytes += part.table.nbytes

    def clear(self) -> None:
        """Empty the batch (after writing it)."""
        self.parts.clear()
        self.rows = self.nbytes = 0

    def holds_run(self, run_id: str) -> bool:
        """Whether a part of this run is already in the batch."""
        return any(part.run_id == run_id for part in self.parts)

    def holds_digest(self, digest: str) -> bool:
        """Whether the same bytes are already in the batch."""
        return any(part.digest == digest for part in self.parts)

    def is_full(self, max_rows: int) -> bool:
        """Whether it is time to write the batch."""
        return self.rows >= max_rows or self.nbytes >= BATCH_BYTES


def _structure_ids(part: PendingPart) -> pa.ChunkedArray:
    return pc.struct_field(part.table.column("structure"), "structure_id")


def new_structures(
    con: duckdb.DuckDBPyConnection, parts: list[PendingPart]
) -> tuple[pa.Array, dict[int, str]]:
    """Read and validate the structures of a batch that the warehouse does not hold.

    The ids not yet stored are found in one query; each is read from the first part that
    holds it (in the bench and in ``mlpeg calc`` output, the first model's part; the
    others point at the same ids and are not read again).

    Returns
    -------
    tuple
        The new structures (:data:`~mlpeg.structures.STRUCTURE_TYPE`, possibly with
        repeats), and the messages of parts rejected for a bad structure, by position.
    """
    rejected: dict[int, str] = {}
    ids = pa.table(
        {"structure_id": pa.chunked_array([c for p in parts for c in _structure_ids(p).chunks])}
    )
    con.register("batch_structure_ids", ids)
    try:
        missing = con.sql(
            "select distinct structure_id from batch_structure_ids "
            "anti join structures using (structure_id)"
        ).to_arrow_table()
    finally:
        con.unregister("batch_structure_ids")
    needed = missing.column("structure_id").combine_chunks()
    found: list[pa.Array] = []
    for part in parts:
        if len(needed) == 0:
            break
        part_ids = _structure_ids(part)
        mask = pc.is_in(part_ids, value_set=needed)
        if not pc.any(mask).as_py():
            continue
        rows = pc.indices_nonzero(mask.combine_chunks())
        try:
            structures = read_structures(part.path, rows)
            validate_structures(part.path, structures, rows)
        except PartRejected as exc:
            rejected[part.position] = str(exc)
            continue  # another part may hold a good copy of these ids
        found.append(structures)
        needed = pc.filter(needed, pc.invert(pc.is_in(needed, value_set=part_ids.take(rows))))
    if found:
        return pa.concat_arrays(found), rejected
    return pa.array([], type=STRUCTURE_TYPE), rejected


def clashes(con: duckdb.DuckDBPyConnection, parts: list[PendingPart]) -> dict[int, str]:
    """Parts of runs already stored that repeat a stored (system, role) of their run.

    A batch holds at most one part per run, so only stored rows can clash; runs new to
    the warehouse (the usual case) cost one lookup in ``runs``.
    """
    by_run = {part.run_id: part for part in parts}
    stored = con.execute(
        "select run_id from runs where list_contains(?::varchar[], run_id)", [list(by_run)]
    ).fetchall()
    messages = {}
    for (run_id,) in stored:
        part = by_run[run_id]
        con.register("resumed_part", part.table.select(["system", "role"]))
        try:
            clash = con.execute(
                "select system, role from predictions join resumed_part using (system, role) "
                "where run_id = ? limit 1",
                [run_id],
            ).fetchall()
        finally:
            con.unregister("resumed_part")
        if clash:
            messages[part.position] = (
                f"{part.path.name}: run {run_id} already holds (system, role) = {clash[0]}; "
                "a resumed run must not repeat a structure."
            )
    return messages


_INSERT_STRUCTURES = """
insert into structures
with candidates as (
    select s from batch_new_structures
    union all
    select unnest(frames) as s from batch
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
from batch
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


def run_dispersion(run: dict) -> str:
    """Return a part's ``dispersion``; parts from before it was recorded: from the D3 settings."""
    dispersion = run.get("dispersion")
    if dispersion is None:
        dispersion = "d3bj" if (run.get("model") or {}).get("d3") else "none"
    return dispersion


def _upsert_run(con: duckdb.DuckDBPyConnection, part: PendingPart) -> None:
    table, run = part.table, part.run
    computed = table.column("computed_at")
    model = run.get("model") or {}  # family, checkpoint and sha256, D3 settings
    con.execute(
        _UPSERT_RUN,
        [
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
        ],
    )


def write(
    con: duckdb.DuckDBPyConnection,
    parts: list[PendingPart],
    structures: pa.Array,
    stages: Stages,
) -> None:
    """Insert a batch inside the caller's transaction (see the module docstring)."""
    batch = pa.concat_tables([part.table.replace_schema_metadata(None) for part in parts])
    con.register("batch", batch)
    con.register("batch_new_structures", pa.table({"s": structures}))
    try:
        with stages.time("insert structures"):
            con.execute(_INSERT_STRUCTURES)
        with stages.time("insert predictions"):
            con.execute(_INSERT_PREDICTIONS)
        with stages.time("runs and parts rows"):
            for part in parts:
                _upsert_run(con, part)
            records = pa.table(
                {
                    "part_sha256": [part.digest for part in parts],
                    "file_name": [part.path.name for part in parts],
                    "size_bytes": [part.path.stat().st_size for part in parts],
                    "run_id": [part.run_id for part in parts],
                    "n_rows": [part.table.num_rows for part in parts],
                }
            )
            con.register("batch_parts", records)
            con.execute(
                "insert into parts (part_sha256, file_name, size_bytes, kind, run_id, n_rows) "
                "select part_sha256, file_name, size_bytes, 'predictions', run_id, n_rows "
                "from batch_parts"
            )
        # the stored points and metrics these rows feed, in the same transaction
        with stages.time("stored points and metrics"):
            cache.refresh(con, run_ids=[part.run_id for part in parts])
    finally:
        for name in ("batch", "batch_new_structures", "batch_parts"):
            con.unregister(name)
