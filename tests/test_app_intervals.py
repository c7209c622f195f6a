"""The summary page's 95 % intervals (AppTest): error bars equal to ``score_intervals``."""

from __future__ import annotations

import json

import pytest
from app_helpers import app_warehouse
from streamlit.testing.v1 import AppTest

from mlpeg import catalog
from mlpeg.models import registry
from mlpeg.paths import REPO_ROOT
from mlpeg.warehouse import intervals
from mlpeg.warehouse.connect import reader, writer

APP = str(REPO_ROOT / "streamlit_app" / "app.py")


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    """The app tests' warehouse, resampled (the suite turns resampling off by default)."""
    root = tmp_path_factory.mktemp("intervals")
    path = app_warehouse(root)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLPEG_BENCHMARKS", str(root / "benchmarks"))
        patch.setenv("MLPEG_MODELS", str(root / "models.yml"))
        catalog.clear_cache()
        registry.clear_cache()
        with writer(path) as con:
            intervals.update(con, settings=intervals.BootstrapSettings())
        catalog.clear_cache()
        registry.clear_cache()
    return path


def _chart(at: AppTest) -> dict:
    """The figure of the intervals chart (the summary page's only plotly chart)."""
    (chart,) = at.get("plotly_chart")
    return json.loads(chart.proto.spec)["data"][0]


def _expected(warehouse, level: str, category: str | None = None) -> dict:
    with reader(warehouse) as con:
        rows = con.execute(
            "select model_key, score, lo, hi from score_intervals "
            "where level = ? and (? is null or category_key = ?) and score is not null",
            [level, category, category],
        ).fetchall()
    return {model: (score, lo, hi) for model, score, lo, hi in rows}


def test_summary_shows_intervals_as_error_bars(warehouse, monkeypatch):
    monkeypatch.setenv("MLPEG_WAREHOUSE", str(warehouse))
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception, [e.value for e in at.exception]
    toggle = at.toggle(key="summary_intervals")
    assert toggle.value and "1,000 resamples, seed 19" in toggle.help
    assert "2.5th and 97.5th percentiles" in toggle.help

    for scope, level, category in (
        ("Overall", "overall", None),
        ("Toy category", "category", "toy"),
    ):
        at.selectbox(key="summary_interval_scope").set_value(scope).run()
        assert not at.exception, [e.value for e in at.exception]
        trace = _chart(at)
        expected = _expected(warehouse, level, category)
        assert sorted(trace["y"]) == sorted(expected)
        assert len(expected) >= 2
        for model, score, plus, minus in zip(
            trace["y"],
            trace["x"],
            trace["error_x"]["array"],
            trace["error_x"]["arrayminus"],
            strict=True,
        ):
            point, lo, hi = expected[model]
            assert score == pytest.approx(point)
            if lo is None:  # no interval (model-c rests on one usable point): a bare marker
                assert plus == minus == 0
            else:
                assert (score - minus, score + plus) == pytest.approx((lo, hi)), model
        assert sum(lo is not None for _, lo, _ in expected.values()) >= 1

    at.toggle(key="summary_intervals").set_value(False).run()
    assert not at.get("plotly_chart")


def test_compare_page_shows_each_benchmark_interval(warehouse, monkeypatch):
    monkeypatch.setenv("MLPEG_WAREHOUSE", str(warehouse))
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page("app_pages/compare.py").run()
    at.selectbox(key="compare_a").set_value("model-a").run()
    at.selectbox(key="compare_b").set_value("model-b").run()
    assert not at.exception, [e.value for e in at.exception]
    shown = at.dataframe[0].value.set_index("Benchmark")
    with reader(warehouse) as con:
        rows = con.execute(
            "select benchmark_key, lo, hi from score_intervals "
            "where level = 'benchmark' and model_key = 'model-a' and lo is not null"
        ).fetchall()
    assert rows
    for benchmark, lo, hi in rows:
        assert shown.loc[benchmark, "95 % interval A"] == f"{lo:.3f} – {hi:.3f}"
