"""Provenance of every run, queryable in SQL; unsupported elements stay "unsupported"."""

from __future__ import annotations

import importlib.metadata

import pytest

from mlpeg import catalog
from mlpeg.calc.runner import run_tasks, write_references
from mlpeg.models import registry
from mlpeg.warehouse.connect import writer
from mlpeg.warehouse.ingest import Outcome, ingest

GE_SB_TE_SHA256 = "3f1251c8655192faf9d28f2f857533f66507bb7abee3f1781c6a71336f26da3f"


@pytest.fixture(scope="module")
def x23_two_systems():
    x23 = catalog.get_benchmark("X23")
    module = x23.calc_module()
    tasks = [task for task in module.tasks() if task.system in ("ammonia", "co2")]
    return x23, module, tasks


def test_ge_sb_te_model_on_x23_is_unsupported_with_its_provenance(
    tmp_path, warehouse, x23_two_systems
):
    x23, module, tasks = x23_two_systems
    landing = tmp_path / "landing"
    spec = registry.get_model("mace-ge-sb-te")
    summary = run_tasks(tasks, spec, x23, landing=landing, device="cpu")
    assert (summary.n_ok, summary.n_failed, summary.n_unsupported) == (0, 0, 4)
    assert summary.model_key == "mace-ge-sb-te"  # one model, one key: D3 is on the run
    write_references(module.references(), x23, landing=landing)
    with writer(warehouse) as con:
        assert not ingest(con, [landing]).rejected
        states = con.execute(
            "select distinct state, error from predictions where model_key = ?",
            [summary.model_key],
        ).fetchall()
        scored = con.execute(
            "select state, score from benchmark_scores where model_key = ? and benchmark_key = ?",
            [summary.model_key, "X23"],
        ).fetchall()
        run = con.execute(
            """
            select family, checkpoint, checkpoint_sha256, d3->>'backend', d3->>'damping',
                   (d3->>'cutoff')::double, versions->>'torch', versions->>'mace-torch',
                   versions->>'e3nn', versions->>'mlpeg', device, dtype, host, code_version,
                   ended_at >= started_at, dispersion
            from runs where model_key = ?
            """,
            [summary.model_key],
        ).fetchone()
    assert set(states) == {
        ("unsupported", "elements not supported by mace-ge-sb-te: H, N"),
        ("unsupported", "elements not supported by mace-ge-sb-te: C, O"),
    }
    assert scored == [("unsupported", None)]  # neither failed nor not run
    family, checkpoint, sha256, backend, damping, cutoff, *versions = run[:10]
    assert family == "mace" and checkpoint.endswith("/training/mace_swa.model")
    assert sha256 == GE_SB_TE_SHA256
    assert (backend, damping) == ("dftd3", "bj") and cutoff == pytest.approx(50.27, abs=0.01)
    assert versions == [
        importlib.metadata.version(name) for name in ("torch", "mace-torch", "e3nn", "mlpeg")
    ]
    device, dtype, host, code_version, ordered, dispersion = run[10:]
    assert (device, dtype, ordered) == ("cpu", "float64", True)
    assert dispersion == "d3bj"  # X23 adds D3(BJ) to models trained without dispersion
    assert host and code_version


def test_a_model_without_weights_file_records_nulls_not_guesses(
    tmp_path, warehouse, test_models, x23_two_systems
):
    x23, _, tasks = x23_two_systems
    landing = tmp_path / "landing"
    run_tasks(tasks, registry.get_model("model-a"), x23, landing=landing, device="cpu")
    with writer(warehouse) as con:
        assert ingest(con, [landing]).count(Outcome.LOADED) == 1
        row = con.execute(
            "select family, checkpoint, checkpoint_sha256, d3 from runs where model_key = ?",
            ["model-a"],
        ).fetchone()
    assert row == ("mock", "zeros", None, None)  # trained with dispersion: no D3 added
