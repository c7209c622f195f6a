"""Cost of the bootstrap intervals on a warehouse the size of ML-PEG.

    python bench/intervals.py [--models 50] [--repeat 20] [--resamples 1000]

Uses the synthetic warehouse of ``bench/app.py`` (77 benchmarks, 50 models, one benchmark
with 2,000 systems; built there, or here when missing) on a copy, and measures

1. computing every score's interval at ingest: :func:`mlpeg.warehouse.intervals.update`
   for every run (resampling, then the default intervals), against the baseline of the
   same run: recomputing every run's stored points and metrics (``cache.refresh``), what
   ingest already does;
2. reading them: ``score_intervals`` (the stored default intervals) against reading the
   ``leaderboard`` view on the same connection; and, once, the live path that weights or
   thresholds set by a user take (``mlpeg_live``);
3. what they add to the file.

Issue 19's targets: every interval computed in under a minute, read in under 100 ms.
Numbers depend on the machine and its load (printed); ratios are against the baselines
measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import time
from dataclasses import asdict
from pathlib import Path

from rich.console import Console
from rich.table import Table

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import app  # noqa: E402
import app_warehouse  # noqa: E402

from mlpeg import catalog  # noqa: E402
from mlpeg.models import registry  # noqa: E402
from mlpeg.warehouse import cache, intervals  # noqa: E402
from mlpeg.warehouse.connect import connect_reader, connect_writer  # noqa: E402

console = Console(width=None if sys.stdout.isatty() else 150)
COMPUTE_TARGET_S = 60.0
READ_TARGET_S = 0.1


CPU_SECONDS: dict[str, float] = {}


def timed(function, label: str | None = None) -> tuple[float, object]:
    """Wall seconds of ``function()`` and its value; its process CPU seconds under ``label``."""
    start, cpu = time.perf_counter(), time.process_time()
    value = function()
    if label is not None:
        CPU_SECONDS[label] = time.process_time() - cpu
    return time.perf_counter() - start, value


def median_read(con, sql: str, repeat: int) -> tuple[float, int]:
    times, rows = [], 0
    for _ in range(repeat):
        seconds, result = timed(lambda: con.execute(sql).fetchall())
        times.append(seconds)
        rows = len(result)
    return statistics.median(times), rows


def source_warehouse(root: Path, spec: app_warehouse.SyntheticSpec) -> Path:
    """The synthetic warehouse of bench/app.py, built if missing (never written here)."""
    stamp = root / "spec.json"
    if stamp.is_file() and json.loads(stamp.read_text()) == asdict(spec):
        os.environ["MLPEG_BENCHMARKS"] = str(root / "benchmarks")
        os.environ["MLPEG_MODELS"] = str(root / "models.yml")
        catalog.clear_cache()
        registry.clear_cache()
        return root / "mlpeg.duckdb"
    return app.build(root, spec, rebuild=False)


def main() -> None:
    """Build or reuse the synthetic warehouse, then time computing and reading intervals."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "results" / "app")
    parser.add_argument("--models", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--resamples", type=int, default=intervals.DEFAULT_RESAMPLES)
    args = parser.parse_args()
    spec = app_warehouse.SyntheticSpec(n_models=args.models)
    source = source_warehouse(args.out / "warehouse", spec)
    work = args.out / "intervals"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    copy = work / "mlpeg.duckdb"
    shutil.copyfile(source, copy)
    settings = intervals.BootstrapSettings(n_resamples=args.resamples)
    console.print(
        f"load: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; "
        f"{settings.n_resamples:,} resamples, seed {settings.seed}"
    )

    con = connect_writer(copy)  # installs this checkout's views if they changed
    try:
        con.execute("checkpoint")
        size_before = copy.stat().st_size
        n_runs = con.execute("select count(*) from runs").fetchall()[0][0]
        n_points = con.execute("select count(*) from run_points").fetchall()[0][0]
        con.execute("begin transaction")
        refresh_s, _ = timed(lambda: cache.refresh(con), "refresh")
        con.execute("commit")
        con.execute("delete from run_bootstrap")  # every run out of date
        batches: list[float] = []
        started = time.perf_counter()

        def progress(done: int, total: int) -> None:
            batches.append(time.perf_counter() - started)

        update_s, report = timed(
            lambda: intervals.update(con, settings=settings, progress=progress), "update"
        )
        resample_s = batches[-1] if batches else 0.0
        n_resampled = con.execute("select count(*) from run_metric_resamples").fetchall()[0][0]
        n_cached = con.execute("select count(*) from score_interval_cache").fetchall()[0][0]
        con.execute("checkpoint")
    finally:
        con.close()
    size_after = copy.stat().st_size

    reader_con = connect_reader(copy)
    try:
        leaderboard_s, n_board = median_read(reader_con, "select * from leaderboard", args.repeat)
        all_s, n_all = median_read(reader_con, "select * from score_intervals", args.repeat)
        overall_s, _ = median_read(
            reader_con, "select * from score_intervals where level = 'overall'", args.repeat
        )
        # a user's weight: the intervals are computed from the stored resamples
        category = reader_con.execute("select min(category_key) from categories").fetchall()[0][0]
        reader_con.execute(f"set variable mlpeg_category_weights = map(['{category}'], [2.0])")
        live_s, (n_live, _) = timed(
            lambda: (len(reader_con.execute("select * from score_intervals").fetchall()), 0),
            "live",
        )
    finally:
        reader_con.close()

    table = Table(title=f"Bootstrap intervals on {copy}", header_style="bold")
    for column in ("what", "seconds", "CPU s", "target", "baseline (s)", "ratio", "note"):
        table.add_column(column, justify="left" if column in ("what", "note") else "right")
    table.add_row(
        "compute every interval (update, all runs)",
        f"{update_s:.2f}",
        f"{CPU_SECONDS['update']:.1f}",
        f"{COMPUTE_TARGET_S:.0f}",
        f"{refresh_s:.2f}",
        f"{update_s / refresh_s:.2f}×",
        f"{report.n_runs:,} runs, {n_points:,} points → {n_resampled:,} resampled metric values",
    )
    table.add_row(
        "  of which resampling the runs",
        f"{resample_s:.2f}",
        "",
        "",
        "",
        "",
        f"{len(batches)} batches (benchmark × generation)",
    )
    table.add_row(
        "  of which the default intervals (cache)",
        f"{update_s - resample_s:.2f}",
        "",
        "",
        "",
        "",
        f"{n_cached:,} scores",
    )
    table.add_row(
        "read score_intervals (all levels)",
        f"{all_s:.4f}",
        "",
        f"{READ_TARGET_S}",
        f"{leaderboard_s:.4f}",
        f"{all_s / leaderboard_s:.2f}×",
        f"{n_all:,} rows; baseline: the leaderboard view ({n_board} rows)",
    )
    table.add_row(
        "read score_intervals, overall only",
        f"{overall_s:.4f}",
        "",
        f"{READ_TARGET_S}",
        f"{leaderboard_s:.4f}",
        f"{overall_s / leaderboard_s:.2f}×",
        "",
    )
    table.add_row(
        "live path (a category weight set)",
        f"{live_s:.2f}",
        f"{CPU_SECONDS['live']:.1f}",
        "",
        "",
        "",
        f"{n_live:,} rows from the stored resamples",
    )
    table.caption = (
        f"{n_runs:,} runs; file {size_before / 2**20:.0f} MiB → {size_after / 2**20:.0f} MiB; "
        f"CPU s: process CPU time (all DuckDB threads), the load-independent cost; "
        f"baseline refresh took {CPU_SECONDS['refresh']:.1f} CPU s. "
        f"Baselines measured in the same run: cache.refresh() recomputes every run's stored "
        f"points and metrics; the leaderboard view is what the app's first page reads."
    )
    console.print(table)


if __name__ == "__main__":
    main()
