"""Shared fixtures: the offline data mirror, a private cache and tiny warehouses."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mlpeg import catalog
from mlpeg.calc.execute import clear_calculators
from mlpeg.models import registry
from mlpeg.paths import REPO_ROOT

MIRROR = Path(os.environ.get("MLPEG_TEST_MIRROR", REPO_ROOT.parent / "shared" / "data"))


@pytest.fixture(autouse=True)
def _restore_main_module():
    """Undo what streamlit's AppTest leaves behind: it runs the app as ``__main__``, and
    multiprocessing's spawn would then re-run the app script in every worker process a
    later test starts."""
    import sys

    main = sys.modules["__main__"]
    saved = {name: getattr(main, name) for name in ("__file__", "__spec__") if hasattr(main, name)}
    yield
    sys.modules["__main__"] = main
    for name in ("__file__", "__spec__"):
        if name in saved:
            setattr(main, name, saved[name])
        elif hasattr(main, name):
            delattr(main, name)


@pytest.fixture(autouse=True)
def _torch_default_dtype_restored():
    """Put torch's global default dtype back after each test.

    Some packages' calculators set it when built (MACE's ``default_dtype="float64"``); a
    test that builds one directly would otherwise leave float64 behind, and a float32
    model (CHGNet, SevenNet, matgl) in a later test fails on mixed dtypes. mlpeg's own
    factory keeps the dtype (``registry.make_calculator``); this keeps the tests
    independent of their order.
    """
    import sys

    torch = sys.modules.get("torch")
    before = torch.get_default_dtype() if torch is not None else None
    yield
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_default_dtype(before or torch.float32)


@pytest.fixture(autouse=True)
def _offline_data(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory):
    """Read data from the mirror into a per-session cache; never from the network."""
    monkeypatch.setenv("MLPEG_DATA_MIRROR", str(MIRROR))
    monkeypatch.setenv("MLPEG_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))
    monkeypatch.setenv("MLPEG_LOCK_TIMEOUT", "10")
    # bootstrap intervals off (each writer would resample what it wrote: ~0.5 s a test);
    # tests/test_intervals.py and tests/test_app_intervals.py turn them on
    monkeypatch.setenv("MLPEG_BOOTSTRAP_RESAMPLES", "0")
    yield
    catalog.clear_cache()
    registry.clear_cache()
    clear_calculators()  # each test builds its own models


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    """Path of a fresh warehouse file in a temporary folder (not yet created)."""
    return tmp_path / "wh" / "mlpeg.duckdb"


def pytest_report_header() -> list[str]:
    return [f"data mirror: {MIRROR} ({'present' if MIRROR.is_dir() else 'MISSING'})"]


TEST_MODELS = """
model-a: {family: mock, checkpoint: zeros, trained_on_dispersion: true}
model-b: {family: mock, checkpoint: zeros, trained_on_dispersion: true}
model-c: {family: mock, checkpoint: zeros, trained_on_dispersion: false, elements: [H, C, N, O]}
mock: {family: mock, checkpoint: zeros, trained_on_dispersion: true, test_only: true}
error: {family: error, checkpoint: raises, trained_on_dispersion: true, test_only: true}
"""


@pytest.fixture
def test_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A models.yml of leaderboard-visible mock models (model-a, model-b, model-c)."""
    path = tmp_path / "models.yml"
    path.write_text(TEST_MODELS)
    monkeypatch.setenv("MLPEG_MODELS", str(path))
    registry.clear_cache()
    return path
