"""The Speed, Element errors and Compare pages, and profiles in the app (AppTest).

On the warehouse of tests/app_helpers.py; what a page shows must equal what the views
return through a plain read-only connection.
"""

from __future__ import annotations

import pytest
from app_helpers import app_warehouse
from streamlit.testing.v1 import AppTest

from mlpeg.appdata.params import ScoringParams, apply
from mlpeg.paths import REPO_ROOT
from mlpeg.warehouse.connect import reader

APP = str(REPO_ROOT / "streamlit_app" / "app.py")


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    return app_warehouse(tmp_path_factory.mktemp("insights"))


@pytest.fixture
def app(warehouse, monkeypatch) -> AppTest:
    monkeypatch.setenv("MLPEG_WAREHOUSE", str(warehouse))
    return AppTest.from_file(APP, default_timeout=120)


def run(at: AppTest) -> AppTest:
    at = at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def view(warehouse, sql: str, params: ScoringParams | None = None) -> list[tuple]:
    with reader(warehouse) as con:
        apply(con, params or ScoringParams())
        return con.sql(sql).fetchall()


def table(at: AppTest, key: str):
    return next(frame.value for frame in at.dataframe if frame.proto.id and key in frame.proto.id)


def test_speed_page_shows_the_pareto_view(app, warehouse):
    at = run(app)
    at.switch_page("app_pages/speed.py")
    at = run(at)
    shown = at.dataframe[0].value
    expected = view(
        warehouse,
        "select model_key, score, us_per_atom, is_pareto from model_pareto "
        "where scope = 'overall' order by us_per_atom, model_key",
    )
    assert list(shown["Model"]) == [row[0] for row in expected]
    assert list(shown["Score"]) == pytest.approx([row[1] for row in expected])
    assert list(shown["µs per atom"]) == pytest.approx([row[2] for row in expected])
    assert list(shown["On the front"]) == [row[3] for row in expected]
    at = run(at.selectbox(key="speed_scope").set_value("toy"))
    assert "model-b" not in list(at.dataframe[0].value["Model"])  # never ran TOY
    assert any("Not placed" in c.value and "model-b" in c.value for c in at.caption)


def test_a_profile_in_the_url_weights_every_page(app, warehouse):
    app.query_params["profile"] = "Molecules"  # lists molecular_crystal, not toy
    at = run(app)
    values = at.dataframe[0].value
    assert list(values["Overall"]) == pytest.approx(list(values["Molecular Crystals"]))
    assert at.pills(key="weight_preset").value == "Molecules"
    at = run(at.pills(key="weight_preset").set_value("Category defaults"))
    assert "profile" not in at.query_params
    expected = dict(view(warehouse, "select model_key, overall from leaderboard"))
    shown = at.dataframe[0].value
    assert dict(zip(shown["Model"], shown["Overall"], strict=True)) == pytest.approx(expected)


def test_choosing_a_profile_puts_it_in_the_url(app):
    at = run(app)
    at = run(at.pills(key="weight_preset").set_value("Reactivity"))
    assert at.query_params["profile"] == "Reactivity"
    # Reactivity lists neither category of this warehouse: both weigh 0, with a warning
    assert at.session_state["cw::toy"] == at.session_state["cw::molecular_crystal"] == 0.0
    assert any("Every category weight is 0" in w.value for w in at.warning)


def test_element_errors_page_and_worst_points(app, warehouse):
    at = run(app)
    at.switch_page("app_pages/element_errors.py")
    at = run(at)
    assert at.selectbox(key="element_errors_model").value == "model-a"
    shown = at.dataframe[0].value
    expected = dict(
        view(
            warehouse,
            "select element, mean_relative_error from element_errors where model_key = 'model-a'",
        )
    )
    assert dict(zip(shown["Element"], shown["Relative error"], strict=True)) == pytest.approx(
        expected
    )
    at = run(at.selectbox(key="element_errors_element").set_value("Cl"))
    worst = at.dataframe[2].value
    assert list(worst["system"]) == ["nacl", "hcl"]
    assert list(worst["relative_error"]) == pytest.approx([2.0, 0.0])


def test_compare_page_side_by_side_and_disagreements(app, warehouse):
    at = run(app)
    at.switch_page("app_pages/compare.py")
    at = run(at)
    at = run(at.selectbox(key="compare_a").set_value("model-a"))
    at = run(at.selectbox(key="compare_b").set_value("model-c"))
    shown = at.dataframe[0].value
    scores = dict(
        view(
            warehouse,
            "select model_key || '/' || benchmark_key, score from benchmark_scores "
            "where model_key in ('model-a', 'model-c')",
        )
    )
    for _, row in shown.iterrows():
        assert row["A: model-a"] == pytest.approx(scores[f"model-a/{row['Benchmark']}"])
        assert row["B: model-c"] == pytest.approx(scores[f"model-c/{row['Benchmark']}"])
    points = at.dataframe[1].value
    # both computed X23 ammonia (+0.1 and −0.1 eV: 0.2 eV apart = 3.5 X23 scales),
    # carbon_dioxide (0 and −0.1: 1.75) and TOY h2 (−1.1 and −0.8: 0.3 / 0.15 = 2)
    assert list(points["system"]) == ["ammonia", "h2", "carbon_dioxide"]
    assert list(points["relative_difference"]) == pytest.approx([3.5, 2.0, 1.75])
