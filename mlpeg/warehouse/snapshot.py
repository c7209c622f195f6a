"""Materialise the scores readers ask for most in the read snapshot, while publishing it.

Readers (``mlpeg leaderboard``, the app, ``mlpeg sql``) open the snapshot that every write
publishes (:func:`mlpeg.warehouse.connect.publish_snapshot`). Evaluating the scoring views
there means DuckDB binds the whole view stack, over every benchmark, on each query: about
a hundred milliseconds for ``select * from leaderboard`` with 52 benchmarks, whatever the
data size. The snapshot is a copy that only the publisher writes, so before it is renamed
into place the default scores are computed once and stored:

* each view of :data:`MATERIALISED` is evaluated into the table
  ``materialised.<view>`` (in dependency order, each reading the one before);
* the view is renamed ``<view>_live``, unchanged;
* a view of the old name dispatches when the query is bound: while no variable that the
  views read (:data:`SCORING_VARIABLES`: ``mlpeg_profile``, weights, thresholds, element
  filters, run selection, ``mlpeg_live``; and any other a view reads) is set on the
  connection, it reads the stored table; with any of them set, the live view.

So ``select * from leaderboard`` is a scan of a stored table under the default weights, and
profiles, custom weights and filters give the same numbers as before. Set
``mlpeg_live = true`` to evaluate the views live without changing anything else (e.g. over
temporary views that shadow their inputs). The writer's own file keeps only the live views;
the stored tables are derived and rebuilt at every publish.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

#: Scoring views stored in the snapshot, each after those it reads.
MATERIALISED = (
    "metric_scores",
    "benchmark_scores",
    "category_scores",
    "overall_scores",
    "leaderboard",
)

#: The schema of the stored tables.
SCHEMA = "materialised"

#: Appended to a stored view's name for its live definition.
LIVE_SUFFIX = "_live"

#: The variables of mlpeg's own views and macros (sql/, benchmarks/; a test keeps this
#: list complete). Listing the macros of a database costs DuckDB tens of milliseconds, so
#: only views are searched for more when publishing (e.g. a user's benchmark views).
SCORING_VARIABLES = (
    "mlpeg_as_of",
    "mlpeg_benchmark_weights",
    "mlpeg_category_weights",
    "mlpeg_excluded_elements",
    "mlpeg_exclusion_scenarios",
    "mlpeg_live",
    "mlpeg_metric_overrides",
    "mlpeg_profile",
    "mlpeg_run_ids",
)

GETVARIABLE = re.compile(r"getvariable\(\s*'([A-Za-z_][A-Za-z0-9_]*)'\s*\)", re.IGNORECASE)


def view_variables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Return every variable that a view of the warehouse reads, sorted.

    Parameters
    ----------
    con
        A connection to the warehouse.

    Returns
    -------
    list[str]
        The names passed to ``getvariable`` in the SQL of its views.
    """
    texts = con.execute(
        "select sql from duckdb_views() where not internal and not temporary "
        "and sql ilike '%getvariable%'"
    ).fetchall()
    return sorted({name for (text,) in texts for name in GETVARIABLE.findall(text)})


def defaults_condition(variables: list[str]) -> str:
    """Return the SQL condition that holds while none of ``variables`` is set."""
    return " and ".join(f"getvariable('{name}') is null" for name in variables) or "true"


def _dispatcher(view: str, condition: str) -> str:
    stored = f"select * from {SCHEMA}.{view}".replace("'", "''")
    live = f"select * from {view}{LIVE_SUFFIX}".replace("'", "''")
    return (
        f"create view {view} as select * from query(\n"
        f"    case when {condition} then '{stored}' else '{live}' end\n)"
    )


def materialise(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Store the default scores in the open (read-write) snapshot copy ``con``.

    Runs in one transaction: on an error nothing is changed and the error is raised.

    Parameters
    ----------
    con
        A read-write connection to the copy about to be published, with no variable set.

    Returns
    -------
    list[str]
        The views now read from stored tables by default (those of :data:`MATERIALISED`
        the warehouse has; none when it has no scoring views).
    """
    views = {
        name
        for (name,) in con.execute(
            "select view_name from duckdb_views() where schema_name = 'main' and not temporary"
        ).fetchall()
    }
    wanted = [view for view in MATERIALISED if view in views]
    if not wanted:
        return []
    condition = defaults_condition(sorted({*SCORING_VARIABLES, *view_variables(con)}))
    con.execute("begin transaction")
    try:
        con.execute(f"create schema if not exists {SCHEMA}")
        for view in wanted:
            con.execute(f"create or replace table {SCHEMA}.{view} as select * from {view}")
            con.execute(f"alter view {view} rename to {view}{LIVE_SUFFIX}")
            con.execute(_dispatcher(view, condition))
    except BaseException:
        con.execute("rollback")
        raise
    con.execute("commit")
    return wanted


def live_view(con: duckdb.DuckDBPyConnection, view: str) -> str:
    """Return the name of the live definition of main-schema ``view``.

    In a published snapshot that is ``<view>_live`` for the views of :data:`MATERIALISED`
    (the view of the plain name only dispatches); everywhere else ``view`` itself.
    """
    if view.lower() not in MATERIALISED:
        return view
    stored = con.execute(
        "select count(*) from duckdb_tables() where schema_name = ? and table_name = ?",
        [SCHEMA, view.lower()],
    ).fetchall()[0][0]
    return f"{view.lower()}{LIVE_SUFFIX}" if stored else view


def prepare(path: Path, config: dict[str, object] | None = None) -> list[str]:
    """Open the snapshot copy at ``path`` read-write, materialise it and close it.

    Parameters
    ----------
    path
        A closed copy of the warehouse that no one else has open.
    config
        DuckDB settings for the connection (e.g. ``threads``).

    Returns
    -------
    list[str]
        The views materialised (see :func:`materialise`).
    """
    con = duckdb.connect(str(path), config=config or {})
    try:
        return materialise(con)
    finally:
        con.close()
