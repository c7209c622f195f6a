"""Ingest throughput: `mlpeg ingest` of 1M synthetic prediction rows vs pyarrow reading them.

Writes 50 landing parts (one per model) of 20,000 predictions each: 20,000 distinct
12-atom structures shared by all models, with energies, forces and properties. Then, in
separate processes so that peak memory is each phase's own:

* baseline: ``pyarrow.parquet.read_table`` of every part (the floor any ingest pays);
* ingest: open the warehouse, validate every part and load it (one transaction each).

Prints rows/s of both, their ratio (target ≥ 0.5) and peak RSS. Run:
``python bench/ingest.py [--models 50] [--rows-per-model 20000]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
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


def phase_read(folder: Path) -> dict:
    import pyarrow.parquet as pq

    start = time.perf_counter()
    rows = sum(pq.read_table(p).num_rows for p in sorted(folder.glob("*.parquet")))
    return {"rows": rows, "seconds": time.perf_counter() - start}


def phase_ingest(folder: Path, warehouse: Path) -> dict:
    from mlpeg.warehouse.connect import writer
    from mlpeg.warehouse.ingest import ingest

    start = time.perf_counter()
    with writer(warehouse) as con:
        report = ingest(con, [folder])
        stored = con.execute("select count(*) from predictions").fetchone()[0]
    assert not report.rejected, report.rejected[0].message
    return {"rows": stored, "seconds": time.perf_counter() - start}


def child(phase: str, folder: Path, warehouse: Path) -> dict:
    """Run one phase in a fresh process; return its result and peak RSS."""
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
        env=os.environ.copy(),
    )
    if out.returncode:
        sys.exit(f"phase {phase} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=50)
    parser.add_argument("--rows-per-model", type=int, default=20_000)
    parser.add_argument(
        "--no-forces",
        action="store_true",
        help="energy-only rows, like lattice- and reaction-energy benchmarks",
    )
    parser.add_argument("--phase", choices=["read", "ingest"])
    parser.add_argument("--folder", type=Path)
    parser.add_argument("--warehouse", type=Path)
    args = parser.parse_args()
    if args.phase:
        result = (
            phase_read(args.folder)
            if args.phase == "read"
            else phase_ingest(args.folder, args.warehouse)
        )
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
        read = child("read", landing, tmp_path / "wh" / "mlpeg.duckdb")
        loaded = child("ingest", landing, tmp_path / "wh" / "mlpeg.duckdb")
    assert loaded["rows"] == total, loaded
    read_rate = read["rows"] / read["seconds"]
    ingest_rate = loaded["rows"] / loaded["seconds"]
    print(
        f"pyarrow read : {read_rate:12,.0f} rows/s  ({read['seconds']:.2f} s, "
        f"peak RSS {read['peak_rss_mb']:.0f} MiB)"
    )
    print(
        f"mlpeg ingest : {ingest_rate:12,.0f} rows/s  ({loaded['seconds']:.2f} s, "
        f"peak RSS {loaded['peak_rss_mb']:.0f} MiB)"
    )
    print(f"ratio ingest/read = {ingest_rate / read_rate:.3f}  (target >= 0.5)")


if __name__ == "__main__":
    main()
