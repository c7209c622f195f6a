"""The SQL page: one read-only statement, a row limit and a time limit.

Two independent guards keep a query from changing or reading anything it should not:

1. before running, the statement is parsed (``duckdb.extract_statements``) and only a
   single ``SELECT`` (including ``WITH``, ``FROM``-first, ``DESCRIBE``, ``SHOW``,
   ``SUMMARIZE``) or ``EXPLAIN`` is accepted;
2. the connection itself is read-only with external access off and its configuration
   locked (:func:`mlpeg.warehouse.connect.connect_reader`), so even a statement that got
   past the first guard cannot write, ``ATTACH``, ``COPY``, ``INSTALL``/``LOAD`` or read a
   file (``read_csv('/etc/passwd')`` is refused by DuckDB).

A timer thread interrupts the query when the time limit passes.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from mlpeg.appdata.store import AppStore
from mlpeg.errors import MlpegError

ALLOWED = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}

EXAMPLES: dict[str, str] = {
    "Leaderboard": "select * from leaderboard",
    "Worst points of a benchmark": (
        "select model_key, system, pred, ref, abs(pred - ref) as abs_error\n"
        "from all_points\nwhere benchmark_key = 'X23' and state = 'ok'\n"
        "order by abs_error desc\nlimit 20"
    ),
    "Metric scores": (
        "select benchmark_key, metric_key, model_key, value, unit, score, state\n"
        "from metric_scores\norder by benchmark_key, metric_key, score desc"
    ),
    "Failed and unsupported predictions": (
        "select benchmark_key, model_key, system, role, stored_state, error\n"
        "from benchmark_predictions\nwhere stored_state != 'ok'"
    ),
    "Runs and their provenance": (
        "select run_id, model_key, benchmark_key, ended_at, host, device, versions\n"
        "from runs\norder by ended_at desc"
    ),
    "Seconds per structure": (
        "select model_key, benchmark_key, avg(wall_time_s) as seconds_per_structure\n"
        "from benchmark_predictions\ngroup by all\norder by seconds_per_structure desc"
    ),
    "Tables and views": (
        "select table_schema, table_name, table_type\nfrom information_schema.tables\n"
        "order by table_schema, table_name"
    ),
}


class QueryRefused(MlpegError):
    """The SQL page will not run this statement (not a single read-only query)."""


class QueryFailed(MlpegError):
    """The statement ran and DuckDB refused it or it failed."""


class QueryTimedOut(QueryFailed):
    """The statement ran past the time limit and was interrupted."""


@dataclass(frozen=True)
class PageResult:
    """Rows of a SQL page query; ``truncated`` when more rows than the limit exist."""

    table: pa.Table
    truncated: bool
    seconds: float


def check_statement(sql: str) -> str:
    """Return the single read-only statement in ``sql``, or refuse it in one sentence.

    Raises
    ------
    QueryRefused
        For empty input, several statements, or any statement that is not a query.
    """
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise QueryRefused(f"The SQL does not parse: {str(exc).splitlines()[0]}") from exc
    if not statements:
        raise QueryRefused("Write one SELECT statement.")
    if len(statements) > 1:
        raise QueryRefused(f"Run one statement at a time (got {len(statements)}).")
    statement = statements[0]
    if statement.type not in ALLOWED:
        kind = statement.type.name.replace("_", " ")
        raise QueryRefused(
            f"The SQL page runs read-only queries only; a {kind} statement is refused."
        )
    return statement.query


def _explain(exc: duckdb.Error) -> str:
    message = str(exc).splitlines()[0]
    if isinstance(exc, duckdb.PermissionException):
        return f"Refused by the warehouse (external access is off): {message}"
    if "read-only" in message:
        return f"Refused by the warehouse (it is open read-only): {message}"
    return message


def run_query(
    store: AppStore, sql: str, *, max_rows: int = 1000, timeout_s: float = 10.0
) -> PageResult:
    """Run one read-only query with a row limit and a time limit.

    Parameters
    ----------
    store
        The warehouse (read-only, external access off).
    sql
        One ``SELECT`` or ``EXPLAIN`` statement.
    max_rows
        Return at most this many rows (``truncated`` says whether there were more).
    timeout_s
        Interrupt the query after this many seconds.

    Returns
    -------
    PageResult
        The rows, whether they were cut at ``max_rows``, and the time taken.

    Raises
    ------
    QueryRefused
        If the statement is not a single read-only query.
    QueryTimedOut
        If it ran past ``timeout_s``.
    QueryFailed
        If DuckDB refused or failed it (message in one sentence).
    """
    import time

    statement = check_statement(sql)
    if max_rows < 1:
        raise QueryRefused("The row limit must be at least 1.")
    with store.cursor() as cursor:
        fired = threading.Event()

        def interrupt() -> None:
            fired.set()
            cursor.interrupt()

        timer = threading.Timer(timeout_s, interrupt)
        start = time.perf_counter()
        timer.start()
        try:
            relation = cursor.sql(statement)
            if relation is None:
                raise QueryRefused("The statement returned no rows.")
            table = relation.limit(max_rows + 1).to_arrow_table()
        except duckdb.Error as exc:
            if fired.is_set():
                raise QueryTimedOut(
                    f"The query ran longer than {timeout_s:g} s and was stopped."
                ) from exc
            raise QueryFailed(_explain(exc)) from exc
        finally:
            timer.cancel()
        seconds = time.perf_counter() - start
    truncated = table.num_rows > max_rows
    return PageResult(table.slice(0, max_rows), truncated, seconds)
