"""Scoring views on stored per-run rows vs the live union of every benchmark's views.

    python bench/scoring_views.py [WAREHOUSE] [--repeat 5]

WAREHOUSE defaults to the ML-PEG-size synthetic warehouse of ``bench/app.py`` (built
there with ``--build-only``); ``warehouse/mlpeg.duckdb`` after ``make run`` works too.
Each query runs ``--repeat`` times on one read-only connection, first with the stored rows
(``run_points``/``run_metrics``, the default) and then with ``mlpeg_live = true`` (the
baseline: what every query cost before the rows were stored). Prints the median of each
and their ratio.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from mlpeg.warehouse.connect import reader

HERE = Path(__file__).resolve().parent
DEFAULT = HERE / "results" / "app" / "warehouse" / "mlpeg.duckdb"
QUERIES = {
    "leaderboard": "select * from leaderboard",
    "metric_scores": "select * from metric_scores",
    "benchmark_scores of one category": (
        "select * from benchmark_scores where category_key = "
        "(select min(category_key) from categories)"
    ),
    "all_points of one benchmark": (
        "select * from all_points where benchmark_key = "
        "(select min(benchmark_key) from selected_runs)"
    ),
}


def median_seconds(con, sql: str, repeat: int) -> tuple[float, int]:
    """Median wall time of ``sql`` over ``repeat`` runs, and its row count."""
    times, rows = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        rows = len(con.execute(sql).fetchall())
        times.append(time.perf_counter() - start)
    return statistics.median(times), rows


def main() -> None:
    """Time every query both ways and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("warehouse", type=Path, nargs="?", default=DEFAULT)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    console = Console()
    table = Table(title=f"Scoring views on {args.warehouse}", header_style="bold")
    for column in ("query", "rows", "stored (ms)", "live (ms)", "live / stored"):
        table.add_column(column, justify="right" if column != "query" else "left")
    with reader(args.warehouse) as con:
        n_benchmarks = con.execute("select count(*) from benchmarks").fetchone()[0]
        n_runs = con.execute("select count(*) from selected_runs").fetchone()[0]
        for name, sql in QUERIES.items():
            con.execute("reset variable mlpeg_live")
            stored, rows = median_seconds(con, sql, args.repeat)
            con.execute("set variable mlpeg_live = true")
            live, live_rows = median_seconds(con, sql, args.repeat)
            con.execute("reset variable mlpeg_live")
            assert rows == live_rows, (name, rows, live_rows)
            ratio = f"{live / stored:.0f}×"
            table.add_row(name, f"{rows:,}", f"{stored * 1e3:.0f}", f"{live * 1e3:.0f}", ratio)
    console.print(table)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    console.print(
        f"{n_benchmarks} benchmarks, {n_runs} selected runs; median of {args.repeat}; "
        f"{os.cpu_count()} CPUs, load average {load}."
    )


if __name__ == "__main__":
    main()
