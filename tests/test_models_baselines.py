"""Baselines (kind: baseline) are marked on the leaderboard, CLI and app, and hidden on request."""

from __future__ import annotations

import pytest
from app_helpers import MODELS_YML, app_warehouse
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from mlpeg import catalog
from mlpeg.cli import app as cli
from mlpeg.models import registry
from mlpeg.paths import REPO_ROOT
from mlpeg.warehouse.connect import reader, writer

APP = str(REPO_ROOT / "streamlit_app" / "app.py")


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    """The app tests' warehouse, with model-c registered as a baseline method."""
    root = tmp_path_factory.mktemp("baselines")
    path = app_warehouse(root)
    models = root / "models.yml"
    models.write_text(
        MODELS_YML.replace(
            "elements: [H, C, N, O]}", "elements: [H, C, N, O],\n          kind: baseline}"
        )
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLPEG_BENCHMARKS", str(root / "benchmarks"))
        patch.setenv("MLPEG_MODELS", str(models))
        catalog.clear_cache()
        registry.clear_cache()
        with writer(path):  # the catalogue sync stores each model's kind
            pass
    catalog.clear_cache()
    registry.clear_cache()
    return path


def test_leaderboard_view_carries_each_models_kind(warehouse):
    with reader(warehouse) as con:
        kinds = dict(con.sql("select model_key, model_kind from leaderboard").fetchall())
    assert kinds == {"model-a": "mlip", "model-b": "mlip", "model-c": "baseline"}


def test_cli_marks_baselines_and_hides_them_on_request(warehouse, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    runner = CliRunner()
    shown = runner.invoke(cli, ["leaderboard", "--warehouse", str(warehouse)])
    assert shown.exit_code == 0, shown.output
    assert "model-c (baseline)" in shown.output and "not an MLIP" in shown.output
    hidden = runner.invoke(cli, ["leaderboard", "--warehouse", str(warehouse), "--no-baselines"])
    assert hidden.exit_code == 0, hidden.output
    assert "model-c" not in hidden.output and "model-a" in hidden.output
    category = ["leaderboard", "--warehouse", str(warehouse), "-c", "toy", "--no-baselines"]
    hidden = runner.invoke(cli, category)
    assert "model-c" not in hidden.output and "model-a" in hidden.output


def test_app_summary_marks_baselines_and_its_toggle_hides_them(warehouse, monkeypatch):
    monkeypatch.setenv("MLPEG_WAREHOUSE", str(warehouse))
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception, [e.value for e in at.exception]
    assert "model-c (baseline)" in list(at.dataframe[0].value["Model"])
    at.toggle(key="summary_baselines").set_value(False).run()
    assert not at.exception
    assert list(at.dataframe[0].value["Model"]).count("model-c (baseline)") == 0
    assert set(at.dataframe[0].value["Model"]) == {"model-a", "model-b"}
