"""Per-run points and metrics: computed when a run lands, read by every scoring query.

Planning the union of every benchmark's ``points`` and ``metrics`` views costs DuckDB
10–20 ms per benchmark on each query, whatever the data size: seconds for ML-PEG's 77
benchmarks. A run is one (model, benchmark) calculation, so its points and metrics
depend only on its own predictions and its benchmark's references and views. They are
evaluated once per run, by the benchmark's own views, and stored in ``run_points`` and
``run_metrics``. The ``all_points`` / ``all_metrics`` views read them for any run
selection; with an element filter set (which changes which points count) or
``mlpeg_live`` true they evaluate the views live instead.

Writers keep the tables in step inside the transaction that changes their inputs:
ingest of a predictions part refreshes its run, of a references or reactions part every
run of that benchmark, and an install that changed any view refreshes everything.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import duckdb

from mlpeg import catalog
from mlpeg.errors import ConfigError
from mlpeg.warehouse.sqlgraph import METRIC_COLUMNS, POINT_COLUMNS

#: Per-connection settings that change what the benchmark views return.
_SELECTION_VARIABLES = (
    "mlpeg_run_ids",
    "mlpeg_as_of",
    "mlpeg_excluded_elements",
    "mlpeg_exclusion_scenarios",
)


@contextmanager
def _plain_selection(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Clear the selection variables for the block and put them back after it."""
    saved = {
        name: con.execute(f"select getvariable('{name}')").fetchone()[0]
        for name in _SELECTION_VARIABLES
    }
    for name in _SELECTION_VARIABLES:
        con.execute(f"reset variable {name}")
    # Restored only on success: after an error the transaction is aborted and nothing runs
    # until the caller rolls it back, and every caller then gives the connection up.
    yield
    for name, value in saved.items():
        if value is None:
            con.execute(f"reset variable {name}")
        else:
            con.execute(f"set variable {name} = ?", [value])


def _batches(con: duckdb.DuckDBPyConnection, where: str, args: list) -> list[tuple[str, list]]:
    """Group runs into (benchmark, run ids) batches with at most one run per model.

    ``selected_runs`` keeps one run per (model, benchmark), so a model's older and newer
    runs go in separate batches ("generations").
    """
    rows = con.execute(
        f"""
        select benchmark_key, generation, list(run_id order by run_id)
        from (
            select
                benchmark_key,
                run_id,
                row_number() over (
                    partition by benchmark_key, model_key order by ended_at, run_id
                ) as generation,
            from runs
            where benchmark_key in (select benchmark_key from benchmarks) and ({where})
        )
        group by all
        order by all
        """,
        args,
    ).fetchall()
    return [(benchmark_key, run_ids) for benchmark_key, _, run_ids in rows]


def refresh(
    con: duckdb.DuckDBPyConnection,
    *,
    run_ids: Sequence[str] | None = None,
    benchmark_keys: Sequence[str] | None = None,
) -> int:
    """Recompute the stored points and metrics of some runs, or of all of them.

    Parameters
    ----------
    con
        A read-write connection, normally inside the caller's transaction.
    run_ids
        Refresh these runs.
    benchmark_keys
        Refresh every run of these benchmarks. With neither argument, every run, and rows
        of benchmarks no longer in the catalogue are dropped.

    Returns
    -------
    int
        How many runs were evaluated.
    """
    if run_ids is not None:
        where, args = "list_contains(?::varchar[], run_id)", [list(run_ids)]
    elif benchmark_keys is not None:
        where, args = "list_contains(?::varchar[], benchmark_key)", [list(benchmark_keys)]
    else:
        where, args = "true", []
    for table in ("run_points", "run_metrics"):
        con.execute(f"delete from {table} where {where}", args)
    benchmarks = catalog.benchmarks()
    evaluated = 0
    with _plain_selection(con):
        for benchmark_key, batch in _batches(con, where, args):
            schema = benchmarks[benchmark_key].schema_name
            con.execute("set variable mlpeg_run_ids = ?", [batch])
            for view, columns, table in (
                ("points", POINT_COLUMNS, "run_points"),
                ("metrics", METRIC_COLUMNS, "run_metrics"),
            ):
                listed = ", ".join(f"computed.{column}" for column in columns)
                try:
                    con.execute(
                        f"insert into {table} (run_id, benchmark_key, {', '.join(columns)}) "
                        f"select selected.run_id, ?, {listed} "
                        f"from {schema}.{view} as computed "
                        "join selected_runs as selected "
                        "on selected.model_key = computed.model_key "
                        "and selected.benchmark_key = ?",
                        [benchmark_key, benchmark_key],
                    )
                except duckdb.Error as exc:
                    raise ConfigError(
                        f"{benchmarks[benchmark_key].views_sql}: {schema}.{view} fails on "
                        f"run {', '.join(batch)}: {str(exc).splitlines()[0]}"
                    ) from exc
            evaluated += len(batch)
    return evaluated
