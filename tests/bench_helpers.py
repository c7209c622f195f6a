"""Shared by tests/test_bench_*.py: run tasks with a tiny real model, or ingest hand-made rows,
into a warehouse in a temporary folder and read a benchmark's views back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers import predictions_part
from materials_helpers import assert_declared_checks

from mlpeg import catalog
from mlpeg.calc.runner import run_tasks, write_references
from mlpeg.models import registry
from mlpeg.warehouse.connect import writer
from mlpeg.warehouse.ingest import ingest

EMT_MODELS = """
emt: {family: emt, checkpoint: builtin, trained_on_dispersion: true,
      elements: [Al, Cu, Ag, Au, Ni, Pd, Pt, H, C, N, O]}
"""


def query(warehouse: Path, sql: str) -> list[tuple[Any, ...]]:
    """Run one read query on a warehouse and return its rows."""
    with writer(warehouse) as con:
        return con.execute(sql).fetchall()


def run_with_emt(key: str, tasks: list, folder: Path) -> tuple[Any, Path]:
    """Run ``tasks`` of ``key`` with ASE's EMT and ingest them; return (summary, warehouse)."""
    landing = folder / "landing"
    with pytest.MonkeyPatch.context() as patch:
        (folder / "models.yml").write_text(EMT_MODELS)
        patch.setenv("MLPEG_MODELS", str(folder / "models.yml"))
        registry.clear_cache()
        bench = catalog.get_benchmark(key)
        write_references(bench.calc_module().references(), bench, landing=landing)
        summary = run_tasks(tasks, registry.get_model("emt"), bench, landing=landing, device="cpu")
        warehouse = folder / "wh" / "mlpeg.duckdb"
        with writer(warehouse) as con:
            assert not ingest(con, [landing]).rejected
            assert_declared_checks(con, key)
        registry.clear_cache()
    return summary, warehouse


def ingest_rows(
    key: str,
    rows: list[dict],
    folder: Path,
    *,
    model: str = "model-a",
    references: list | None = None,
) -> Path:
    """Write references (the benchmark's own unless given) and hand-made prediction rows;
    ingest them; return the warehouse file."""
    landing = folder / "landing"
    bench = catalog.get_benchmark(key)
    if references is None:
        references = bench.calc_module().references()
    write_references(references, bench, landing=landing)
    predictions_part(landing, rows, model=model, benchmark=key)
    warehouse = folder / "wh" / "mlpeg.duckdb"
    with writer(warehouse) as con:
        assert not ingest(con, [landing]).rejected
        assert_declared_checks(con, key)
    return warehouse
