"""Ingest throughput: `mlpeg ingest` of 1M synthetic prediction rows vs reading them.

Writes 50 landing parts (one per model) of 20,000 predictions each: 20,000 distinct
12-atom structures shared by all models, with energies, forces and properties. Then, in
separate processes so that peak memory is each phase's own:

* read: ``pyarrow.parquet.read_table`` of every part (the floor any ingest pays);
* duckdb: plain DuckDB ``create table as select * from read_parquet(...)`` of the same
  files into a new database file (DuckDB's own path, no validation or dedup);
* install: create an empty warehouse (schema, catalogue, views; once per warehouse);
* ingest: open that warehouse, validate every part and load it, publish the snapshot,
  with the seconds of each stage.

Prints rows/s, wall and CPU seconds, the ratios ingest/read and ingest/duckdb (target
ingest/read >= 0.5) and peak RSS. ``--models 250`` gives 5M rows (memory must grow far less
than the row count). On a shared machine wall times move with the load; CPU seconds less.
``--repeats 3`` alternates the phases three times and reports medians (and the ratio of
each repeat), so that a change in the machine's load hits both sides of a ratio.
Run: ``python bench/ingest.py [--models 50] [--rows-per-model 20000] [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa

from mlpeg.enums import PartKind
from mlpeg.landing import PREDICTIONS_SCHEMA, run_metadata, write_part
from mlpeg.structures import STRUCTURE_TYPE

N_ATOMS = 12


def structures(n: int, rng: np.random.Generator) -> pa.StructArray:
    positions = rng.uniform(0, 8, size=(n * N_ATOMS, 3))
    flat_positions = pa.FixedSizeListArray.from_arrays(pa.array(positions.ravel()), 3)
    offsets = pa.array(np.arange(0, (n + 1) * N_ATOMS, N_ATOMS, dtype=np.int32))
    numbers = pa.ListArray.from_arrays(
        offsets, pa.array(rng.choice([1, 6, 7, 8], size=n * N_ATOMS).astype(np.int16))
    )
    cells = pa.FixedSizeListArray.from_arrays(pa.array(np.tile(np.eye(3).ravel() * 20.0, n)), 9)
    pbc = pa.FixedSizeListArray.from_arrays(pa.array(np.zeros(n * 3, dtype=bool)), 3)
    return pa.StructArray.from_arrays(
        [
            pa.array([f"{i:032x}" for i in range(n)]),
            numbers,
            pa.ListArray.from_arrays(offsets, flat_positions),
            cells,
            pbc,
            pa.array(["{}"] * n),
        ],
        fields=list(STRUCTURE_TYPE),
    )


def write_parts(folder: Path, n_models: int, n_rows: int, *, with_forces: bool = True) -> int:
    rng = np.random.default_rng(0)
    structs = structures(n_rows, rng)
    offsets = pa.array(np.arange(0, (n_rows + 1) * N_ATOMS, N_ATOMS, dtype=np.int32))
    empty_frames = pa.array([[]] * n_rows, type=pa.list_(STRUCTURE_TYPE))
    now = datetime(2026, 1, 1, tzinfo=UTC)
    for m in range(n_models):
        forces = pa.FixedSizeListArray.from_arrays(
            pa.array(rng.normal(0, 0.1, size=n_rows * N_ATOMS * 3)), 3
        )
        props = pa.MapArray.from_arrays(
            pa.array(np.arange(0, n_rows + 1, dtype=np.int32)),
            pa.array(["volume"] * n_rows),
            pa.array(rng.uniform(10, 20, n_rows)),
        )
        run_id = f"bench-run-{m:03d}"
        table = pa.table(
            {
                "run_id": [run_id] * n_rows,
                "model_key": [f"bench-{m:03d}"] * n_rows,
                "benchmark_key": ["X23"] * n_rows,
                "system": [f"s{i}" for i in range(n_rows)],
                "role": ["solid"] * n_rows,
                "task": ["single_point"] * n_rows,
                "settings_hash": ["bench"] * n_rows,
                "structure": structs,
                "frames": empty_frames,
                "energy": rng.normal(-50, 5, n_rows),
                "forces": pa.ListArray.from_arrays(offsets, forces)
                if with_forces
                else pa.nulls(n_rows, type=PREDICTIONS_SCHEMA.field("forces").type),
                "stress": pa.nulls(n_rows, type=pa.list_(pa.float64(), 6)),
                "properties": props,
                "state": ["ok"] * n_rows,
                "error": pa.nulls(n_rows, type=pa.string()),
                "wall_time_s": rng.uniform(0.01, 0.1, n_rows),
                "computed_at": pa.array([now] * n_rows, type=pa.timestamp("us", tz="UTC")),
            },
            schema=PREDICTIONS_SCHEMA,
        )
        run = run_metadata(
            run_id=run_id,
            model_key=f"bench-{m:03d}",
            benchmark_key="X23",
            started_at=now,
            ended_at=now,
        )
        write_part(table, kind=PartKind.PREDICTIONS, folder=folder, name=run_id, run=run)
    return n_models * n_rows


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def phase_read(folder: Path, warehouse: Path) -> dict:
    import pyarrow.parquet as pq

    start = time.perf_counter()
    rows = sum(pq.read_table(p).num_rows for p in sorted(folder.glob("*.parquet")))
    return {"rows": rows, "seconds": time.perf_counter() - start}


def phase_duckdb(folder: Path, warehouse: Path) -> dict:
    import duckdb

    target = warehouse.with_name("plain.duckdb")
    target.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    con = duckdb.connect(str(target))
    files = [str(p) for p in sorted(folder.glob("*.parquet"))]
    con.execute("create table predictions as select * from read_parquet(?)", [files])
    rows = con.execute("select count(*) from predictions").fetchone()[0]
    con.close()
    seconds = time.perf_counter() - start
    return {"rows": rows, "seconds": seconds, "mib": target.stat().st_size / 2**20}


def phase_install(folder: Path, warehouse: Path) -> dict:
    from mlpeg.warehouse.connect import writer

    start = time.perf_counter()
    with writer(warehouse):
        pass
    return {"rows": 0, "seconds": time.perf_counter() - start}


def phase_ingest(folder: Path, warehouse: Path) -> dict:
    # DuckDB imports pandas the first time it is handed an Arrow table (~0.5 s, once per
    # process); like every other import, that is start-up, not ingest (bench/vs_ml_peg.py
    # does the same)
    import pandas  # noqa: F401

    from mlpeg.warehouse import connect
    from mlpeg.warehouse.ingest import ingest

    start = time.perf_counter()
    with connect.write_lock(warehouse):
        con = connect.connect_writer(warehouse)
        opened = time.perf_counter()
        report = ingest(con, [folder])
        stored = con.execute("select count(*) from predictions").fetchone()[0]
        loaded = time.perf_counter()
        con.close()
        closed = time.perf_counter()
        connect.publish_snapshot(warehouse)
    published = time.perf_counter()
    assert not report.rejected, report.rejected[0].message
    timed = report.stages if hasattr(report, "stages") else None  # a --baseline has none
    stages = {"open warehouse": opened - start, **(timed.seconds if timed else {})}
    stages |= {"close (checkpoint)": closed - loaded, "publish snapshot": published - closed}
    return {
        "rows": stored,
        "seconds": published - start,
        "stages": stages,
        "stage_cpu": timed.cpu_seconds if timed else {},
        "mib": warehouse.stat().st_size / 2**20,
    }


PHASES = {
    "read": phase_read,
    "duckdb": phase_duckdb,
    "install": phase_install,
    "ingest": phase_ingest,
}


def child(phase: str, folder: Path, warehouse: Path, code: Path | None = None) -> dict:
    """Run one phase in a fresh process; return its result, CPU seconds and peak RSS.

    ``code``: an older checkout of mlpeg to run the phase with (``--baseline``).
    """
    env = os.environ.copy()
    if code is not None:
        env["PYTHONPATH"] = str(code)
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--phase",
            phase,
            "--folder",
            str(folder),
            "--warehouse",
            str(warehouse),
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    if out.returncode:
        sys.exit(f"phase {phase} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _median_run(found: list[dict]) -> dict:
    """Return the run with the median wall time."""
    return sorted(found, key=lambda result: result["seconds"])[len(found) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=50)
    parser.add_argument("--rows-per-model", type=int, default=20_000)
    parser.add_argument(
        "--no-forces",
        action="store_true",
        help="energy-only rows, like lattice- and reaction-energy benchmarks",
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        help="an older checkout of mlpeg: also ingest with it, in the same run",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=1,
        help="run read, duckdb and ingest this many times, alternating; report medians",
    )
    parser.add_argument("--phase", choices=list(PHASES))
    parser.add_argument("--folder", type=Path)
    parser.add_argument("--warehouse", type=Path)
    args = parser.parse_args()
    if args.phase:
        cpu = _cpu()
        result = PHASES[args.phase](args.folder, args.warehouse)
        result["cpu_seconds"] = _cpu() - cpu
        result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        models = tmp_path / "models.yml"
        models.write_text(
            "".join(
                f"bench-{m:03d}: {{family: mock, checkpoint: zeros, trained_on_dispersion: true}}\n"
                for m in range(args.models)
            )
        )
        os.environ["MLPEG_MODELS"] = str(models)
        landing = tmp_path / "landing"
        start = time.perf_counter()
        total = write_parts(
            landing, args.models, args.rows_per_model, with_forces=not args.no_forces
        )
        size = sum(p.stat().st_size for p in landing.glob("*.parquet")) / 2**20
        print(
            f"wrote {total:,} rows in {args.models} parts ({size:.0f} MiB) "
            f"in {time.perf_counter() - start:.1f} s"
        )
        template = tmp_path / "template" / "mlpeg.duckdb"
        results = {"install": child("install", landing, template)}
        runs: dict[str, list[dict]] = {"read": [], "duckdb": [], "ingest": [], "baseline": []}
        for repeat in range(args.repeats):  # alternate, so that a change of load hits all
            warehouse = tmp_path / f"wh{repeat}" / "mlpeg.duckdb"
            warehouse.parent.mkdir()
            shutil.copyfile(template, warehouse)
            for phase in ("read", "duckdb", "ingest"):
                runs[phase].append(child(phase, landing, warehouse))
            if args.baseline:
                old = tmp_path / f"old{repeat}" / "mlpeg.duckdb"
                child("install", landing, old, args.baseline)
                runs["baseline"].append(child("ingest", landing, old, args.baseline))
        results |= {phase: _median_run(found) for phase, found in runs.items() if found}
    if args.repeats > 1:
        pairs = zip(runs["read"], runs["ingest"], strict=True)
        ratios = [read["seconds"] / ingested["seconds"] for read, ingested in pairs]
        print("ratio ingest/read per repeat: " + ", ".join(f"{ratio:.3f}" for ratio in ratios))
        print(f"medians of {args.repeats} repeats:")
    read, plain, loaded = results["read"], results["duckdb"], results["ingest"]
    assert loaded["rows"] == total == read["rows"] == plain["rows"], (loaded, total)
    rows = [("pyarrow read", read), ("duckdb CTAS", plain), ("mlpeg ingest", loaded)]
    if "baseline" in results:
        rows.append(("baseline", results["baseline"]))
    for label, result in rows:
        print(
            f"{label:13s}: {total / result['seconds']:12,.0f} rows/s  "
            f"({result['seconds']:6.2f} s wall, {result['cpu_seconds']:6.2f} s CPU, "
            f"peak RSS {result['peak_rss_mb']:5.0f} MiB)"
        )
    install = results["install"]
    print(f"install (once per warehouse, not in the ingest): {install['seconds']:.2f} s")
    print("ingest stages, wall s (thread CPU s); hash, read, validate run in a read-ahead thread:")
    for stage, seconds in sorted(loaded["stages"].items(), key=lambda item: -item[1]):
        cpu = loaded["stage_cpu"].get(stage)
        print(f"  {stage:28s} {seconds:7.2f}" + (f"  ({cpu:5.2f})" if cpu is not None else ""))
    print(f"stored: mlpeg {loaded['mib']:.0f} MiB, plain DuckDB {plain['mib']:.0f} MiB")
    compared = [("read", read), ("duckdb", plain)]
    if "baseline" in results:
        compared.append(("baseline", results["baseline"]))
    for base, result in compared:
        print(
            f"ratio ingest/{base:8s} = {result['seconds'] / loaded['seconds']:.3f} wall, "
            f"{result['cpu_seconds'] / loaded['cpu_seconds']:.3f} CPU"
            + ("  (target >= 0.5)" if base == "read" else "")
        )


if __name__ == "__main__":
    main()
