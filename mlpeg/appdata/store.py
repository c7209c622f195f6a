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
sessions*: a cursor on which the scoring inputs (``all_metrics`` and
``point_state_counts``, see :data:`INPUTS`; Arrow tables registered on the cursor) and
``metric_scores`` (a temporary table) exist under the same names, so the scoring views
above them read those instead. They hold exactly what the views return:

* benchmarks holding none of the excluded elements are read from the rows stored per run
  at ingest (``run_points``, ``run_metrics``), all in one query per input;
* benchmarks holding exactly one of them, from that element's precomputed filter
  (:mod:`mlpeg.appdata.exclusions`; ``precompute=True`` evaluates them in the background
  for every version of the warehouse);
* the others from their own views with the filter set, cached per benchmark and keyed by
  the excluded elements they actually contain;
* ``metric_scores`` is recomputed from the view when the thresholds change;
* weights only change the small views on top, which are always run.

The scoring itself stays in the SQL views, unchanged; ``materialise=False`` reads them
directly (the tests and the bench compare both).

Concurrency
-----------
While an mlpeg writer holds the file, readers open its published snapshot when there is
one; without a snapshot a reader would block the writer, so the connection is closed as
soon as the app is idle. If the file cannot be opened in time, the last result of the same
query is served and flagged stale rather than failing the page.
"""

from __future__ import annotations

import atexit
import contextlib
import queue
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from mlpeg.appdata import exclusions
from mlpeg.appdata.params import ScoringParams, apply
from mlpeg.errors import MlpegError, WarehouseBusy
from mlpeg.warehouse import connect


@dataclass(frozen=True)
class _Input:
    """A scoring input a session holds as an Arrow table registered under the same name.

    ``stored`` reads it for a list of benchmarks from the rows stored per run; ``live``
    from one benchmark's own view (``{schema}``), with the element filter set.
    """

    name: str
    stored: str
    live: str


#: What the scoring views read of the benchmarks: their metrics, and their points counted
#: per state (``point_state_counts``, under ``benchmark_coverage``).
INPUTS = (
    _Input(
        "all_metrics",
        stored="select benchmark_key, model_key, metric_key, value from run_metrics "
        "semi join selected_runs using (run_id) where list_contains(?::varchar[], benchmark_key)",
        live="select ?::varchar as benchmark_key, model_key, metric_key, value "
        'from "{schema}".metrics',
    ),
    _Input(
        "point_state_counts",
        stored="select benchmark_key, model_key, state, count(*) as n_points from run_points "
        "semi join selected_runs using (run_id) where list_contains(?::varchar[], benchmark_key) "
        "group by all",
        live="select ?::varchar as benchmark_key, model_key, state, count(*) as n_points "
        'from "{schema}".points group by all',
    ),
)

#: How many benchmark views are read at once when a scoring session is built.
PARALLEL_READS = 4

ELEMENTS_SQL = """
select
    benchmark_key,
    list_sort(list_distinct(flatten(list(elements)))) as elements,
    count(*) as n_predictions,
from benchmark_predictions
group by benchmark_key
"""


#: Every store of this process, closed at exit so no background query is cut off mid-way.
_OPEN_STORES: weakref.WeakSet[AppStore] = weakref.WeakSet()


@atexit.register
def _close_open_stores() -> None:
    for store in list(_OPEN_STORES):
        with contextlib.suppress(Exception):
            store.close()


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
    precompute
        Evaluate every benchmark's single-element filters in the background whenever a new
        version of the warehouse is opened (see :mod:`mlpeg.appdata.exclusions`).
    on_precomputed
        Called with (benchmarks evaluated, seconds) when a background precompute ends.
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
        precompute: bool = False,
        on_precomputed: Callable[[int, float], None] | None = None,
    ) -> None:
        self.path = Path(path)
        self.timeout_s = timeout_s
        self.materialise = materialise
        self.cache_entries = cache_entries
        self.sessions_per_version = sessions_per_version
        self.idle_close_s = idle_close_s
        self.precompute = precompute
        self.on_precomputed = on_precomputed
        self._exclusions: dict[str, exclusions.ExclusionResults] = {}
        self._exclusions_version: tuple | None = None
        self._stop = threading.Event()
        self._precompute_thread: threading.Thread | None = None
        self._precompute_cursor: duckdb.DuckDBPyConnection | None = None
        _OPEN_STORES.add(self)
        #: Where the last materialised session read its benchmarks from (counts per source).
        self.last_sources: dict[str, int] = {}
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
                if self._exclusions_version != version:
                    self._exclusions = {}
                    self._exclusions_version = version
                    if self.precompute:
                        self._start_precompute()
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
        self._stop_precompute()
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

    def _live_part(
        self,
        cursors: queue.Queue,
        benchmark: dict,
        source: _Input,
        params: ScoringParams,
        present: list[str],
    ) -> pa.Table:
        """One benchmark's rows of ``source``, from its own view with the filter (cached)."""
        excluded = tuple(sorted(set(params.excluded_elements) & set(present)))
        key = (benchmark["benchmark_key"], source.name, excluded, params.as_of, params.run_ids)
        with self._lock:
            cached = self._parts.get(key)
        if cached is not None:
            return cached
        part_params = ScoringParams(
            excluded_elements=excluded, as_of=params.as_of, run_ids=params.run_ids
        )
        sql = source.live.format(schema=benchmark["schema_name"])
        cursor = cursors.get()
        try:
            table = self._read(cursor, sql, [benchmark["benchmark_key"]], part_params)
        finally:
            cursors.put(cursor)
        with self._lock:
            self._parts[key] = table
        return table

    def _element_listing(self, root: duckdb.DuckDBPyConnection, runs: ScoringParams) -> list:
        """Return each benchmark's elements and prediction count in the selected runs.

        Cached per version: sessions with an element filter and the precompute share it.
        """
        key = ("elements", runs.as_of, runs.run_ids)
        with self._lock:
            cached = self._parts.get(key)
        if cached is None:
            cached = self._plain(root, ELEMENTS_SQL, [], runs)
            with self._lock:
                self._parts[key] = cached
        return cached.to_pylist()

    def _elements(self, root: duckdb.DuckDBPyConnection, runs: ScoringParams) -> dict:
        """Return each benchmark's elements in the selected runs."""
        return {row["benchmark_key"]: row["elements"] for row in self._element_listing(root, runs)}

    def _precomputed(
        self, benchmark_key: str, params: ScoringParams, present: list[str]
    ) -> tuple[pa.Table, pa.Table] | None:
        """Return the benchmark's precomputed inputs for ``params``, if they apply."""
        excluded = set(params.excluded_elements) & set(present)
        if len(excluded) != 1 or params.as_of is not None or params.run_ids is not None:
            return None
        with self._lock:
            results = self._exclusions.get(benchmark_key)
        (element,) = excluded
        if results is None or element not in results.elements:
            return None
        return results.for_element(element)

    def _materialise(
        self, root: duckdb.DuckDBPyConnection, session: _Session, params: ScoringParams
    ) -> None:
        runs_only = ScoringParams(as_of=params.as_of, run_ids=params.run_ids)
        benchmarks = self._plain(
            root, "select benchmark_key, schema_name from benchmarks", [], runs_only
        ).to_pylist()
        elements = self._elements(root, runs_only) if params.excluded_elements else {}
        # Benchmarks the filter does not touch come from the stored rows in one query per
        # input; those holding exactly one excluded element from the precomputed filters
        # when they are ready; the others are read in parallel from their own views, each
        # worker on its own cursor (made here, since a connection is not to be shared
        # between threads while it makes cursors).
        excluded = set(params.excluded_elements)
        untouched, precomputed, live = [], {}, []
        for bench in benchmarks:
            key = bench["benchmark_key"]
            present = elements.get(key, [])
            if not excluded & set(present):
                untouched.append(key)
            elif (tables := self._precomputed(key, params, present)) is not None:
                precomputed[key] = tables
            else:
                live.append(bench)
        self.last_sources = {
            "stored": len(untouched),
            "precomputed": len(precomputed),
            "live": len(live),
        }
        cursors: queue.Queue = queue.Queue()
        for _ in range(min(PARALLEL_READS, len(live))):
            cursors.put(root.cursor())
        try:
            with ThreadPoolExecutor(max_workers=PARALLEL_READS) as pool:
                for index, source in enumerate(INPUTS):
                    stored = self._plain(root, source.stored, [untouched], runs_only)
                    parts = [
                        stored,
                        *(tables[index] for tables in precomputed.values()),
                        *pool.map(
                            lambda bench, source=source: self._live_part(
                                cursors,
                                bench,
                                source,
                                params,
                                elements.get(bench["benchmark_key"], []),
                            ),
                            live,
                        ),
                    ]
                    rows = pa.concat_tables(
                        [part.cast(stored.schema) for part in parts], promote_options="none"
                    )
                    session.cursor.register(source.name, rows)
        finally:
            while not cursors.empty():
                cursors.get().close()

    # -- single-element filters, precomputed -------------------------------------------------

    def precompute_exclusions(self) -> int:
        """Evaluate every benchmark under each of its single-element filters (see exclusions).

        Runs benchmark by benchmark on the current version of the warehouse and stops when
        it changes; sessions built meanwhile read the benchmarks not done yet live.

        Returns
        -------
        int
            How many benchmarks were evaluated.
        """
        version = self.version()
        with self._connection(version) as root:
            listing = self._element_listing(root, ScoringParams())
            schemas = {
                row["benchmark_key"]: row["schema_name"]
                for row in self._plain(
                    root, "select benchmark_key, schema_name from benchmarks", [], ScoringParams()
                ).to_pylist()
            }
        evaluated = 0
        for row in sorted(listing, key=lambda r: r["n_predictions"]):
            key, present = row["benchmark_key"], list(row["elements"] or [])
            if key not in schemas or not present:
                continue
            if self._stop.is_set() or self.version() != version:
                break
            if row["n_predictions"] * len(present) > exclusions.MAX_SCENARIO_ROWS:
                continue
            with self._lock:
                if key in self._exclusions:
                    continue
            with self._connection(version) as root:
                if self._root_version != version:
                    break
                with self._lock:
                    cursor = root.cursor()
                    self._precompute_cursor = cursor
                try:
                    results = exclusions.evaluate(cursor, key, schemas[key], present)
                except duckdb.Error:
                    if self._stop.is_set():
                        break
                    continue  # its views fail: a filter reads it live and says why there
                finally:
                    with self._lock:
                        self._precompute_cursor = None
                    cursor.close()
                with self._lock:
                    if self._exclusions_version != version:
                        break
                    self._exclusions[key] = results
            evaluated += 1
        return evaluated

    def _start_precompute(self) -> None:
        """Precompute the single-element filters of the version just opened, in the background."""

        def work() -> None:
            started = time.perf_counter()
            with contextlib.suppress(MlpegError, duckdb.Error):
                evaluated = self.precompute_exclusions()
                if self.on_precomputed is not None:
                    self.on_precomputed(evaluated, time.perf_counter() - started)

        thread = threading.Thread(target=work, name="mlpeg-exclusions", daemon=True)
        self._precompute_thread = thread
        thread.start()

    def _stop_precompute(self) -> None:
        """Interrupt a background precompute and wait for it to end."""
        self._stop.set()
        with self._lock:
            cursor = self._precompute_cursor
        if cursor is not None:
            with contextlib.suppress(duckdb.Error):
                cursor.interrupt()
        thread = self._precompute_thread
        if thread is not None and thread.is_alive() and thread is not threading.current_thread():
            thread.join(timeout=30)
            with self._lock:  # cut short: the next open of this version starts it again
                self._exclusions_version = None
        self._precompute_thread = None
        self._stop.clear()

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
                for source in INPUTS:
                    with contextlib.suppress(duckdb.Error, KeyError):
                        session.cursor.unregister(source.name)
                with contextlib.suppress(duckdb.Error):
                    session.cursor.execute("drop table if exists temp.metric_scores")
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
