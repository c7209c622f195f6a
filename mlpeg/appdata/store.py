"""Read-only access to the warehouse for a long-running app, shared by all its sessions.

One read-only DuckDB connection (``connect_reader``: external access off, configuration
locked) is opened per version of the file being read and shared through cursors. When
ingest publishes new data the version changes, the connection is reopened once no query is
running, and cached results of the old version are never served again.

Why materialise
---------------
Without an element filter the plain scoring views read the points and metrics stored per
run (:mod:`mlpeg.warehouse.cache`) and are fast. With one, ``all_points``/``all_metrics``
evaluate every benchmark's views live, and DuckDB plans that union anew for each query:
seconds with tens of benchmarks. The store therefore runs the scoring views on *scoring
sessions*:
a cursor on which ``all_points`` and ``all_metrics`` (the generated unions) and
``metric_scores`` exist as temporary tables of the same names, so the scoring views above
them read those instead. They hold exactly what the views return:

* the benchmarks holding none of the excluded elements are read from the rows stored per
  run at ingest (``run_points``, ``run_metrics``), all in one query per union; each of the
  others from its own ``points``/``metrics`` views with the filter set, cached per
  benchmark and keyed by the excluded elements it actually contains (excluding an element
  that only two benchmarks hold evaluates two benchmarks' views);
* ``metric_scores`` is recomputed from the view when the thresholds change;
* weights only change the small views on top, which are always run.

The scoring itself stays in the SQL views, unchanged; ``materialise=False`` reads them
directly (the bench compares both).

Concurrency
-----------
While an mlpeg writer holds the file, readers open its published snapshot when there is
one; without a snapshot a reader would block the writer, so the connection is closed as
soon as the app is idle. If the file cannot be opened in time, the last result of the same
query is served and flagged stale rather than failing the page.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from mlpeg.appdata.params import ScoringParams, apply
from mlpeg.errors import MlpegError, WarehouseBusy
from mlpeg.warehouse import connect
from mlpeg.warehouse.cache import METRIC_COLUMNS, POINT_COLUMNS

#: The generated unions (view name -> the columns each benchmark view contributes).
UNIONS: dict[str, list[str]] = {"points": POINT_COLUMNS, "metrics": METRIC_COLUMNS}

#: How many benchmark views are read at once when a scoring session is built.
PARALLEL_READS = 4

ELEMENTS_SQL = """
select benchmark_key, list_sort(list_distinct(flatten(list(elements)))) as elements,
from benchmark_predictions
group by benchmark_key
"""


@dataclass
class _Session:
    """A cursor with the benchmark unions (and metric scores) materialised."""

    cursor: duckdb.DuckDBPyConnection
    ready: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    scored_with: tuple | None = None  # metric overrides metric_scores was built with
    closed: bool = False
    error: BaseException | None = None


@dataclass(frozen=True)
class QueryResult:
    """A query's rows, and whether they come from an older version of the warehouse."""

    table: pa.Table
    stale: bool = False


class AppStore:
    """Thread-safe, cached, read-only access to one warehouse.

    Parameters
    ----------
    path
        The warehouse file (its published snapshot is read when there is one).
    timeout_s
        How long to wait for the file when a writer without a snapshot holds it.
    materialise
        Use scoring sessions (see the module docstring); off reads the views directly.
    cache_entries
        How many query results to keep.
    sessions_per_version
        How many element-filter / run-selection combinations to keep materialised.
    idle_close_s
        Close the connection after this long without queries when it would block a writer.
    """

    def __init__(
        self,
        path: Path,
        *,
        timeout_s: float = 15.0,
        materialise: bool = True,
        cache_entries: int = 512,
        sessions_per_version: int = 4,
        idle_close_s: float = 1.0,
    ) -> None:
        self.path = Path(path)
        self.timeout_s = timeout_s
        self.materialise = materialise
        self.cache_entries = cache_entries
        self.sessions_per_version = sessions_per_version
        self.idle_close_s = idle_close_s
        self._lock = threading.Condition(threading.RLock())
        self._root: duckdb.DuckDBPyConnection | None = None
        self._root_version: tuple | None = None
        self._users = 0
        self._last_release = 0.0
        self._sessions: OrderedDict[tuple, _Session] = OrderedDict()
        self._parts: dict[tuple, pa.Table] = {}
        self._cache: OrderedDict[tuple, pa.Table] = OrderedDict()
        self._last_good: dict[tuple, pa.Table] = {}
        self._timer: threading.Timer | None = None

    # -- versions and the shared connection ------------------------------------------------

    def read_file(self) -> Path:
        """Return the file a reader opens now (the published snapshot when there is one)."""
        read_target = getattr(connect, "read_target", None)
        return read_target(self.path) if read_target is not None else self.path

    def version(self) -> tuple:
        """Return an identity of the data readers see now; it changes on every publish."""
        target = self.read_file()
        parts: list[Any] = [str(target)]
        for path in (target, target.with_name(target.name + ".wal")):
            try:
                stat = path.stat()
            except FileNotFoundError:
                parts.append(None)
                continue
            parts.append((stat.st_ino, stat.st_mtime_ns, stat.st_size))
        if parts[1] is None:
            raise MlpegError(
                f"No warehouse at {self.path}: run 'mlpeg run' or 'mlpeg ingest' first, "
                "or pass --warehouse."
            )
        return tuple(parts)

    def _blocks_writers(self) -> bool:
        return self._root_version is not None and Path(self._root_version[0]) == self.path

    def _close_locked(self) -> None:
        for session in self._sessions.values():
            with session.lock, contextlib.suppress(duckdb.Error):
                session.closed = True
                session.cursor.close()
        self._sessions.clear()
        self._parts.clear()
        if self._root is not None:
            with contextlib.suppress(duckdb.Error):
                self._root.close()
        self._root = None
        self._root_version = None

    @contextlib.contextmanager
    def _connection(self, version: tuple) -> Iterator[duckdb.DuckDBPyConnection]:
        """Yield the shared connection for ``version``, reopening it when the data changed."""
        with self._lock:
            while self._root_version != version and self._users > 0:
                self._lock.wait(timeout=self.timeout_s)
            if self._root_version != version:
                self._close_locked()
                self._root = connect.connect_reader(self.path, timeout_s=self.timeout_s)
                self._root_version = version
            self._users += 1
            root = self._root
        try:
            yield root
        finally:
            with self._lock:
                self._users -= 1
                self._last_release = time.monotonic()
                self._lock.notify_all()
                if self._users == 0 and self._blocks_writers():
                    self._schedule_idle_close()

    def _schedule_idle_close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = threading.Timer(self.idle_close_s, self._close_if_idle)
        self._timer.daemon = True
        self._timer.start()

    def _close_if_idle(self) -> None:
        with self._lock:
            idle = time.monotonic() - self._last_release >= self.idle_close_s * 0.9
            if self._users == 0 and idle and self._blocks_writers():
                self._close_locked()

    def close(self) -> None:
        """Close every connection and forget cached results (the next query reopens)."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            self._close_locked()
            self._cache.clear()

    # -- scoring sessions --------------------------------------------------------------------

    @staticmethod
    def _read(
        cursor: duckdb.DuckDBPyConnection, sql: str, args: list, params: ScoringParams
    ) -> pa.Table:
        apply(cursor, params)
        return cursor.sql(sql, params=args).to_arrow_table()

    def _plain(
        self, root: duckdb.DuckDBPyConnection, sql: str, args: list, params: ScoringParams
    ) -> pa.Table:
        cursor = root.cursor()
        try:
            return self._read(cursor, sql, args, params)
        finally:
            cursor.close()

    def _union_part(
        self,
        cursors: queue.Queue,
        benchmark: dict,
        view: str,
        params: ScoringParams,
        present: list[str],
    ) -> pa.Table:
        """One benchmark's rows of ``all_<view>``, from its own view with the filter (cached)."""
        excluded = tuple(sorted(set(params.excluded_elements) & set(present)))
        key = (benchmark["benchmark_key"], view, excluded, params.as_of, params.run_ids)
        with self._lock:
            cached = self._parts.get(key)
        if cached is not None:
            return cached
        columns = ", ".join(UNIONS[view])
        sql = (
            f"select ?::varchar as benchmark_key, {columns} "
            f'from "{benchmark["schema_name"]}".{view}'
        )
        part_params = ScoringParams(
            excluded_elements=excluded, as_of=params.as_of, run_ids=params.run_ids
        )
        cursor = cursors.get()
        try:
            table = self._read(cursor, sql, [benchmark["benchmark_key"]], part_params)
        finally:
            cursors.put(cursor)
        with self._lock:
            self._parts[key] = table
        return table

    def _materialise(
        self, root: duckdb.DuckDBPyConnection, session: _Session, params: ScoringParams
    ) -> None:
        runs_only = ScoringParams(as_of=params.as_of, run_ids=params.run_ids)
        benchmarks = self._plain(
            root, "select benchmark_key, schema_name from benchmarks", [], runs_only
        ).to_pylist()
        elements = {
            row["benchmark_key"]: row["elements"]
            for row in self._plain(root, ELEMENTS_SQL, [], runs_only).to_pylist()
        }
        # Benchmarks the filter does not touch come from the stored rows in one query per
        # view; the others are read in parallel from their own views, each worker on its own
        # cursor (made here, since a connection is not to be shared between threads while
        # it makes cursors).
        excluded = set(params.excluded_elements)
        touched = [b for b in benchmarks if excluded & set(elements.get(b["benchmark_key"], []))]
        untouched = [b["benchmark_key"] for b in benchmarks if b not in touched]
        cursors: queue.Queue = queue.Queue()
        for _ in range(PARALLEL_READS):
            cursors.put(root.cursor())
        try:
            with ThreadPoolExecutor(max_workers=PARALLEL_READS) as pool:
                for view in UNIONS:
                    stored = self._plain(
                        root,
                        f"select benchmark_key, {', '.join(UNIONS[view])} from run_{view} "
                        "semi join selected_runs using (run_id) "
                        "where list_contains(?::varchar[], benchmark_key)",
                        [untouched],
                        runs_only,
                    )
                    parts = [
                        stored,
                        *pool.map(
                            lambda bench, view=view: self._union_part(
                                cursors,
                                bench,
                                view,
                                params,
                                elements.get(bench["benchmark_key"], []),
                            ),
                            touched,
                        ),
                    ]
                    rows = pa.concat_tables(parts, promote_options="permissive")
                    name = f"all_{view}"
                    session.cursor.register(f"{name}_rows", rows)
                    session.cursor.execute(
                        f"create or replace temp table {name} as select * from {name}_rows"
                    )
                    session.cursor.unregister(f"{name}_rows")
        finally:
            while not cursors.empty():
                cursors.get().close()

    def _session(self, root: duckdb.DuckDBPyConnection, params: ScoringParams) -> _Session:
        key = params.data_key()
        evicted: list[_Session] = []
        with self._lock:
            session = self._sessions.get(key)
            if session is not None:
                self._sessions.move_to_end(key)
                creator = False
            else:
                session = _Session(cursor=root.cursor())
                self._sessions[key] = session
                creator = True
                while len(self._sessions) > self.sessions_per_version:
                    evicted.append(self._sessions.popitem(last=False)[1])
        for old in evicted:
            with old.lock, contextlib.suppress(duckdb.Error):
                old.closed = True
                old.cursor.close()
        if creator:
            try:
                with session.lock:
                    if self.materialise:
                        self._materialise(root, session, params)
            except duckdb.Error as exc:  # fall back to the plain views on this session
                session.error = exc
                for name in ("all_points", "all_metrics", "metric_scores"):
                    with contextlib.suppress(duckdb.Error):
                        session.cursor.execute(f"drop table if exists temp.{name}")
            finally:
                session.ready.set()
        session.ready.wait()
        return session

    def _score(self, session: _Session, params: ScoringParams) -> None:
        """Make the session's ``metric_scores`` match the user's thresholds (lock held)."""
        overrides = params.metric_overrides
        if not self.materialise or session.error is not None or session.scored_with == overrides:
            return
        database = session.cursor.execute("select current_database()").fetchall()[0][0]
        session.cursor.execute("drop table if exists temp.metric_scores")
        session.cursor.execute(
            f'create temp table metric_scores as select * from "{database}".main.metric_scores'
        )
        session.scored_with = overrides

    def prepare(self, params: ScoringParams | None = None) -> None:
        """Materialise the scoring session for ``params`` now (e.g. at app start)."""
        params = params or ScoringParams()
        version = self.version()
        with self._connection(version) as root:
            session = self._session(root, params)
            with session.lock:
                if not session.closed:
                    apply(session.cursor, params)
                    self._score(session, params)

    # -- queries -------------------------------------------------------------------------------

    def query(
        self,
        sql: str,
        args: tuple | list = (),
        params: ScoringParams | None = None,
        *,
        scoring: bool = False,
    ) -> QueryResult:
        """Run one ``SELECT`` with the user's parameters and return its rows (cached).

        Parameters
        ----------
        sql
            The statement, with ``?`` placeholders.
        args
            Values for the placeholders.
        params
            The user's choices, set as SQL variables before the query.
        scoring
            The query reads the scoring views; run it on a scoring session.

        Returns
        -------
        QueryResult
            The rows as Arrow, flagged stale if the warehouse could not be read in time.
        """
        params = params or ScoringParams()
        args = tuple(args)
        identity = (sql, args, params, scoring)
        version = self.version()
        key = (version, *identity)
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                return QueryResult(cached)
        try:
            table = self._run(version, sql, list(args), params, scoring=scoring)
        except WarehouseBusy:
            stale = self._last_good.get(identity)
            if stale is None:
                raise
            return QueryResult(stale, stale=True)
        with self._lock:
            self._cache[key] = table
            while len(self._cache) > self.cache_entries:
                self._cache.popitem(last=False)
            self._last_good[identity] = table
        return QueryResult(table)

    def _run(
        self, version: tuple, sql: str, args: list, params: ScoringParams, *, scoring: bool
    ) -> pa.Table:
        with self._connection(version) as root:
            if not scoring:
                return self._plain(root, sql, args, params)
            while True:  # a session evicted between lookup and use is looked up again
                session = self._session(root, params)
                with session.lock:
                    if session.closed:
                        continue
                    apply(session.cursor, params)
                    self._score(session, params)
                    return session.cursor.sql(sql, params=args).to_arrow_table()

    @contextlib.contextmanager
    def cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Yield a fresh read-only cursor (no parameters set, nothing materialised)."""
        with self._connection(self.version()) as root:
            cursor = root.cursor()
            try:
                yield cursor
            finally:
                cursor.close()
