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
) -> Path:
    """Write a predictions part for one (run, model, benchmark)."""
    full = [{"run_id": run_id, "model_key": model, "benchmark_key": benchmark, **r} for r in rows]
    table = pa.Table.from_pylist(full, schema=PREDICTIONS_SCHEMA)
    ended = ended or T0 + timedelta(hours=1)
    run = run_metadata(
        run_id=run_id,
        model_key=model,
        benchmark_key=benchmark,
        started_at=ended - timedelta(minutes=5),
        ended_at=ended,
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
