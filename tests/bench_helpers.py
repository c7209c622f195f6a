"""Shared by tests/test_bench_*.py: run tasks with a tiny real model, ingest hand-made rows,
or build a warehouse of hand-chosen species energies for a reaction-shaped benchmark (its
real references and stoichiometry), and read a benchmark's views back."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from ase import Atoms
from conftest import MIRROR, TEST_MODELS
from helpers import prediction, predictions_part
from materials_helpers import assert_declared_checks

from mlpeg import catalog
from mlpeg.calc.runner import run_tasks, write_references
from mlpeg.data import fetch, read_manifest
from mlpeg.models import registry
from mlpeg.reactions import write_reactions
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


@contextlib.contextmanager
def offline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Read data from the mirror into the session's cache, for module-scoped fixtures (which
    run before the function-scoped fixture of conftest.py that does the same)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLPEG_DATA_MIRROR", str(MIRROR))
        patch.setenv("MLPEG_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))
        yield


def reaction_warehouse(
    root: Path,
    key: str,
    energies: Mapping[str, float | None],
    structures: Mapping[str, Atoms],
    queries: Mapping[str, str],
    *,
    model: str = "model-a",
) -> dict:
    """Ingest a benchmark's references, reactions and the given species energies (eV).

    A species whose energy is None is stored as a failed prediction. Returns each query's
    rows and the number of rows the benchmark's declared ``checks:`` held on.
    """
    models = root / "models.yml"
    models.write_text(TEST_MODELS)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLPEG_DATA_MIRROR", str(MIRROR))
        patch.setenv("MLPEG_MODELS", str(models))
        registry.clear_cache()
        bench = catalog.get_benchmark(key)
        module = bench.calc_module()
        landing = root / "landing"
        write_references(module.references(), bench, landing=landing)
        write_reactions(module.reactions(), bench, landing=landing)
        rows = [
            prediction(
                name,
                "species",
                structures[name],
                energy,
                state="ok" if energy is not None else "failed",
                error=None if energy is not None else "test failure",
            )
            for name, energy in energies.items()
        ]
        predictions_part(landing, rows, model=model, benchmark=key, run_id=f"{key}-run")
        with writer(root / "wh" / "mlpeg.duckdb", publish=False) as con:
            report = ingest(con, [landing])
            assert not report.rejected, [r.message for r in report.rejected]
            results = {name: con.execute(sql).fetchall() for name, sql in queries.items()}
            results["n_checked"] = assert_declared_checks(con, key)
        registry.clear_cache()
    return results


def patched_source(
    tmp_path: Path,
    manifest: Path,
    edits: Mapping[str, bytes | None],
    monkeypatch: pytest.MonkeyPatch,
    *,
    keep: Callable[[str], bool] = lambda path: True,
) -> Path:
    """A private mirror holding a manifest's files with some edited; return its manifest.

    Every kept file of ``manifest`` is copied from the real mirror (raw layout), except that
    a path in ``edits`` gets the given bytes (and its new sha256 in the returned manifest),
    or is left out of the manifest when its value is None. The data mirror and cache are
    pointed at private folders, so nothing edited reaches the shared cache.
    """
    files = read_manifest(manifest)
    mirror, cache = tmp_path / "mirror", tmp_path / "cache"
    monkeypatch.setenv("MLPEG_DATA_MIRROR", str(MIRROR))  # the originals, whatever came before
    monkeypatch.setenv("MLPEG_CACHE", str(tmp_path / "originals"))
    lines = []
    for path, remote in files.items():
        if not keep(path) or (path in edits and edits[path] is None):
            continue
        data = edits.get(path)
        if data is None:
            data = fetch(remote).read_bytes()
        target = mirror / remote.relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        lines.append(f"{hashlib.sha256(data).hexdigest()}  {remote.relpath}")
    patched = tmp_path / manifest.name.removesuffix(".gz")
    patched.write_text("\n".join(lines) + "\n")
    monkeypatch.setenv("MLPEG_DATA_MIRROR", str(mirror))
    monkeypatch.setenv("MLPEG_CACHE", str(cache))
    return patched
