"""Bytes per prediction row in the landing Parquet and in DuckDB, and ingest rows/s.

The inputs of ``docs/scaling.md``: writes the synthetic parts of ``bench/ingest.py``
(12-atom structures with energies, forces and properties; ``--no-forces`` for
energy-only rows), ingests them with ``mlpeg ingest``'s code into a fresh warehouse, and
reports per row: landing Parquet bytes, the DuckDB file's bytes (predictions, structures
and the stored per-run points), the read snapshot's bytes, and the ingest rate. Run:
``python bench/storage.py [--models 10] [--rows-per-model 20000] [--no-forces]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from ingest import write_parts  # bench/ingest.py: the same synthetic parts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=10)
    parser.add_argument("--rows-per-model", type=int, default=20_000)
    parser.add_argument("--no-forces", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "models.yml").write_text(
            "".join(
                f"bench-{m:03d}: {{family: mock, checkpoint: zeros, trained_on_dispersion: true}}\n"
                for m in range(args.models)
            )
        )
        os.environ["MLPEG_MODELS"] = str(root / "models.yml")
        from mlpeg.warehouse.connect import snapshot_path, writer
        from mlpeg.warehouse.ingest import ingest

        landing = root / "landing"
        total = write_parts(
            landing, args.models, args.rows_per_model, with_forces=not args.no_forces
        )
        parquet = sum(p.stat().st_size for p in landing.glob("*.parquet"))
        warehouse = root / "wh" / "mlpeg.duckdb"
        start = time.perf_counter()
        with writer(warehouse) as con:
            report = ingest(con, [landing])
            stored = con.execute("select count(*) from predictions").fetchone()[0]
            n_structures = con.execute("select count(*) from structures").fetchone()[0]
        seconds = time.perf_counter() - start  # includes publishing the snapshot
        assert not report.rejected and stored == total, (stored, total)
        duck = warehouse.stat().st_size
        snapshot = snapshot_path(warehouse).stat().st_size
    kind = "energy only" if args.no_forces else "energy + forces (12 atoms) + properties"
    print(f"{total:,} prediction rows ({kind}), {n_structures:,} distinct structures")
    print(f"landing Parquet : {parquet / total:8.0f} B/row  ({parquet / 2**20:.1f} MiB)")
    print(f"DuckDB warehouse: {duck / total:8.0f} B/row  ({duck / 2**20:.1f} MiB)")
    print(f"read snapshot   : {snapshot / total:8.0f} B/row  ({snapshot / 2**20:.1f} MiB)")
    print(f"ingest          : {total / seconds:8.0f} rows/s ({seconds:.1f} s, snapshot included)")


if __name__ == "__main__":
    main()
