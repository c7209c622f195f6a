"""Builders of synthetic landing parts for tests (real schema, hand-chosen numbers)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
from ase import Atoms

from mlpeg.enums import PartKind
from mlpeg.landing import PREDICTIONS_SCHEMA, REFERENCES_SCHEMA, run_metadata, write_part
from mlpeg.structures import atoms_to_row

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def prediction(
    system: str,
    role: str,
    atoms: Atoms,
    energy: float | None,
    *,
    state: str = "ok",
    error: str | None = None,
    forces: Any = None,
    properties: dict[str, float] | None = None,
) -> dict[str, Any]:
    """One prediction row (without run/model/benchmark, filled by ``predictions_part``)."""
    return {
        "system": system,
        "role": role,
        "task": "single_point",
        "settings_hash": "test",
        "structure": atoms_to_row(atoms),
        "frames": [],
        "energy": energy,
        "forces": forces,
        "stress": None,
        "properties": list((properties or {}).items()),
        "state": state,
        "error": error,
        "wall_time_s": 0.01,
        "computed_at": T0,
    }


def predictions_part(
    folder: Path,
    rows: list[dict[str, Any]],
    *,
    model: str,
    benchmark: str,
    run_id: str = "run-1",
    ended: datetime | None = None,
    name: str | None = None,
    dispersion: str | None = None,
    band: str | None = None,
    d3: dict[str, Any] | None = None,
    device: str | None = None,
) -> Path:
    """Write a predictions part for one (run, model, benchmark).

    ``dispersion``, ``band`` and ``d3`` (the D3 settings) are recorded as ``mlpeg calc``
    records them; left out, the part reads as one written before they were recorded.
    """
    full = [{"run_id": run_id, "model_key": model, "benchmark_key": benchmark, **r} for r in rows]
    table = pa.Table.from_pylist(full, schema=PREDICTIONS_SCHEMA)
    ended = ended or T0 + timedelta(hours=1)
    run = run_metadata(
        run_id=run_id,
        model_key=model,
        benchmark_key=benchmark,
        started_at=ended - timedelta(minutes=5),
        ended_at=ended,
        dispersion=dispersion,
        band=band,
        model={"d3": d3} if d3 else None,
        device=device,
    )
    return write_part(
        table,
        kind=PartKind.PREDICTIONS,
        folder=folder,
        name=name or f"{benchmark}__{model}__{run_id}",
        run=run,
    )


def references_part(
    folder: Path, benchmark: str, rows: list[tuple[str, str, float]], unit: str = "eV"
) -> Path:
    """Write a references part from (system, quantity, value) tuples."""
    table = pa.Table.from_pylist(
        [
            {
                "benchmark_key": benchmark,
                "system": s,
                "quantity": q,
                "value": v,
                "unit": unit,
                "uncertainty": None,
                "level_of_theory": "test",
                "source": "test",
            }
            for s, q, v in rows
        ],
        schema=REFERENCES_SCHEMA,
    )
    return write_part(
        table, kind=PartKind.REFERENCES, folder=folder, name=f"{benchmark}__references"
    )


def synthetic_parts(
    folder: Path,
    *,
    n_parts: int,
    n_rows: int,
    models: list[str],
    benchmark: str = "X23",
    seed: int = 0,
) -> int:
    """Write ``n_parts`` predictions parts of ``n_rows`` 3-atom structures; return row total.

    Built with vectorised Arrow so that thousands of rows cost milliseconds. Each part is
    its own run of ``models[i % len(models)]``; structures are shared between parts.
    """
    import numpy as np

    from mlpeg.structures import STRUCTURE_TYPE

    rng = np.random.default_rng(seed)
    n_atoms = 3
    offsets = pa.array(np.arange(0, (n_rows + 1) * n_atoms, n_atoms, dtype=np.int32))
    positions = pa.FixedSizeListArray.from_arrays(
        pa.array(rng.uniform(0, 5, n_rows * n_atoms * 3)), 3
    )
    structures = pa.StructArray.from_arrays(
        [
            pa.array([f"{seed:08x}{i:024x}" for i in range(n_rows)]),
            pa.ListArray.from_arrays(
                offsets, pa.array(np.tile([8, 1, 1], n_rows).astype(np.int16))
            ),
            pa.ListArray.from_arrays(offsets, positions),
            pa.FixedSizeListArray.from_arrays(pa.array(np.tile(np.eye(3).ravel() * 10, n_rows)), 9),
            pa.FixedSizeListArray.from_arrays(pa.array(np.zeros(n_rows * 3, dtype=bool)), 3),
            pa.array(["{}"] * n_rows),
        ],
        fields=list(STRUCTURE_TYPE),
    )
    for index in range(n_parts):
        model = models[index % len(models)]
        run_id = f"synthetic-{seed}-{index:03d}"
        columns = {
            "run_id": [run_id] * n_rows,
            "model_key": [model] * n_rows,
            "benchmark_key": [benchmark] * n_rows,
            "system": [f"s{i}" for i in range(n_rows)],
            "role": ["solid"] * n_rows,
            "task": ["single_point"] * n_rows,
            "settings_hash": ["x"] * n_rows,
            "structure": structures,
            "frames": pa.array([[]] * n_rows, type=pa.list_(STRUCTURE_TYPE)),
            "energy": rng.normal(-10, 1, n_rows),
            "forces": pa.ListArray.from_arrays(
                offsets,
                pa.FixedSizeListArray.from_arrays(
                    pa.array(rng.normal(0, 0.1, n_rows * n_atoms * 3)), 3
                ),
            ),
            "stress": pa.nulls(n_rows, type=pa.list_(pa.float64(), 6)),
            "properties": pa.array([[]] * n_rows, type=pa.map_(pa.string(), pa.float64())),
            "state": ["ok"] * n_rows,
            "error": pa.nulls(n_rows, type=pa.string()),
            "wall_time_s": np.full(n_rows, 0.01),
            "computed_at": pa.array([T0] * n_rows, type=pa.timestamp("us", tz="UTC")),
        }
        table = pa.table(columns, schema=PREDICTIONS_SCHEMA)
        ended = T0 + timedelta(hours=index + 1)
        run = run_metadata(
            run_id=run_id, model_key=model, benchmark_key=benchmark, started_at=T0, ended_at=ended
        )
        write_part(table, kind=PartKind.PREDICTIONS, folder=folder, name=run_id, run=run)
    return n_parts * n_rows


def only_benchmark(tmp_path: Path, monkeypatch: Any, key: str = "X23") -> None:
    """Point ``MLPEG_BENCHMARKS`` at a copy of the catalogue holding one molecular crystal set.

    A fresh warehouse then installs in about a second; for tests that need no other
    benchmark's views (``monkeypatch`` undoes it after the test).
    """
    import shutil

    from mlpeg import catalog
    from mlpeg.paths import REPO_ROOT

    source = REPO_ROOT / "benchmarks" / "molecular_crystal"
    target = tmp_path / "benchmarks" / "molecular_crystal"
    shutil.copytree(source / key, target / key)
    shutil.copy(source / "category.yml", target / "category.yml")
    monkeypatch.setenv("MLPEG_BENCHMARKS", str(target.parent))
    catalog.clear_cache()
