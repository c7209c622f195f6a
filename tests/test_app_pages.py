"""Every page of the Streamlit app (AppTest) on the warehouse of tests/app_helpers.py.

Numbers shown must equal what the SQL views return for the same parameters, read here
through a plain read-only connection with the same SET VARIABLEs; a few are also checked
against the hand-computed errors of app_helpers.
"""

from __future__ import annotations

import pandas as pd
import pytest
from app_helpers import EV, app_warehouse, metric_score
from streamlit import dataframe_util
from streamlit.testing.v1 import AppTest

from mlpeg.appdata.params import MetricOverride, ScoringParams, apply
from mlpeg.paths import REPO_ROOT
from mlpeg.warehouse.connect import reader

APP = str(REPO_ROOT / "streamlit_app" / "app.py")


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    root = tmp_path_factory.mktemp("pages")
    path = app_warehouse(root)
    return path


@pytest.fixture
def app(warehouse, monkeypatch) -> AppTest:
    monkeypatch.setenv("MLPEG_WAREHOUSE", str(warehouse))
    monkeypatch.delenv("MLPEG_APP_NO_SQL", raising=False)
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def view(warehouse, sql: str, params: ScoringParams | None = None) -> pd.DataFrame:
    """What the views return for ``params``, through a plain reader (not the app's store)."""
    with reader(warehouse) as con:
        apply(con, params or ScoringParams())
        return con.sql(sql).df()


def shown(at: AppTest, index: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (values, displayed text) of the index-th table on the page.

    Cells without a value hold a huge sentinel (so they sort as the worst) and show their
    state's label; the values returned here have them back as NaN.
    """
    proto = at.dataframe[index].proto
    display = dataframe_util.convert_arrow_bytes_to_pandas_df(
        proto.arrow_data.styler.display_values
    )
    values = at.dataframe[index].value
    for column in values.select_dtypes("number"):
        values[column] = values[column].mask(values[column].abs() >= 1e13)
    return values, display


def run(target) -> AppTest:
    """Run the app (after a widget change) and check no exception reached the page."""
    at = target.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


# -- summary ----------------------------------------------------------------------------------


def test_summary_equals_the_leaderboard_view(app, warehouse):
    values, display = shown(app)
    expected = view(warehouse, "select * from leaderboard")
    assert list(values["Model"]) == list(expected["model_key"])
    assert list(values.columns) == ["Model", "Overall", "Molecular Crystals", "Toy category"]
    pd.testing.assert_series_equal(values["Overall"], expected["overall"], check_names=False)
    pd.testing.assert_series_equal(values["Toy category"], expected["toy"], check_names=False)
    model_b = list(values["Model"]).index("model-b")
    assert display.loc[model_b, "Toy category"] == "not run"  # a state, never a blank


def test_weight_sliders_are_drawn_only_when_opened(app):
    assert not app.slider  # closed: nothing drawn
    app.session_state["cw::panel"] = True
    run(app)
    assert [s.key for s in app.slider] == ["cw::molecular_crystal", "cw::toy"]


def test_category_weight_slider_rescore(app, warehouse):
    app.session_state["cw::panel"] = True
    run(app)
    run(app.slider(key="cw::toy").set_value(0.25))
    values, _ = shown(app)
    expected = view(
        warehouse, "select * from leaderboard", ScoringParams(category_weights=(("toy", 0.25),))
    )
    assert dict(zip(values["Model"], values["Overall"], strict=True)) == pytest.approx(
        dict(zip(expected["model_key"], expected["overall"], strict=True))
    )
    a = dict(zip(values["Model"], values["Overall"], strict=True))["model-a"]
    x23, toy = metric_score(0.2 / 3 * EV, 0, 100), (metric_score(0.4 / 3, 0, 1) + 0.85) / 2
    assert a == pytest.approx((x23 + 0.25 * toy) / 1.25)


def test_preset_weights_categories(app):
    app.session_state["cw::panel"] = True
    run(app.pills(key="weight_preset").set_value("Molecules"))
    assert app.slider(key="cw::molecular_crystal").value == 1.0
    assert app.slider(key="cw::toy").value == 0.0
    values, _ = shown(app)
    # only Molecular Crystals counts now
    assert list(values["Overall"]) == pytest.approx(list(values["Molecular Crystals"]))


def test_model_filter_and_csv(app):
    run(app.multiselect(key="summary_models").set_value(["model-a", "model-c"]))
    values, _ = shown(app)
    assert list(values["Model"]) == ["model-a", "model-c"]
    assert app.download_button[0].label == "Download CSV"


def test_element_filter_in_the_sidebar_rescore(app, warehouse):
    run(app.multiselect(key="excluded_elements").set_value(["Cl"]))
    values, _ = shown(app)
    expected = view(
        warehouse, "select * from leaderboard", ScoringParams(excluded_elements=("Cl",))
    )
    toy = dict(zip(values["Model"], values["Toy category"], strict=True))
    assert toy["model-a"] == pytest.approx(
        float(expected.set_index("model_key").at["model-a", "toy"])
    )
    # only h2 is left for model-a (error 0.1 eV): MAE score 0.9, MAXE score 0.95
    assert toy["model-a"] == pytest.approx((0.9 + 0.95) / 2)


# -- category ---------------------------------------------------------------------------------


def test_category_page(app, warehouse):
    app.switch_page("app_pages/category.py")
    run(app)
    run(app.selectbox(key="category").set_value("toy"))
    values, display = shown(app)
    expected = view(warehouse, "select * from benchmark_scores where category_key = 'toy'")
    scores = dict(zip(expected["model_key"], expected["score"], strict=True))
    for model, score in zip(values["Model"], values["TOY"], strict=True):
        if model == "model-b":
            assert pd.isna(score)
        else:
            assert score == pytest.approx(scores[model])
    row = list(values["Model"]).index("model-b")
    assert display.loc[row, "TOY"] == "not run"
    assert [link.label for link in app.get("page_link")] == ["TOY — Toy energies"]


# -- benchmark --------------------------------------------------------------------------------


def _open_benchmark(app: AppTest, key: str, metric: str | None = None) -> AppTest:
    app.switch_page("app_pages/benchmark.py")
    app.session_state["thresholds_panel"] = True  # the editor is drawn only when open
    run(app)
    run(app.selectbox(key="benchmark").set_value(key))
    if metric is not None:
        run(app.button_group(key="metric").set_value(metric))
    return app


def test_benchmark_metrics_raw_and_normalised(app, warehouse):
    _open_benchmark(app, "X23")
    values, _ = shown(app, 1)  # table 0 is the threshold editor
    expected = view(warehouse, "select * from metric_scores where benchmark_key = 'X23'")
    raw = dict(zip(expected["model_key"], expected["value"], strict=True))
    for model, value in zip(values["Model"], values["MAE [kJ/mol]"], strict=True):
        assert value == pytest.approx(raw[model])
    assert raw["model-a"] == pytest.approx(0.2 / 3 * EV)
    levels = dict(zip(values["Model"], values["Training level of theory"], strict=True))
    assert levels == {"model-a": "DMC", "model-b": "⚠ PBE", "model-c": "⚠ unknown"}
    assert "model-b (PBE)" in app.warning[0].value
    run(app.toggle(key="normalised").set_value(True))
    values, _ = shown(app, 1)
    scores = dict(zip(expected["model_key"], expected["score"], strict=True))
    for model, score in zip(values["Model"], values["MAE"], strict=True):
        assert score == pytest.approx(scores[model])


def test_benchmark_threshold_edit_rescore(app, warehouse):
    _open_benchmark(app, "X23")
    app.session_state["metric_overrides"] = {("X23", "MAE"): {"bad": 50.0}}
    run(app.toggle(key="normalised").set_value(True))
    values, _ = shown(app, 1)
    params = ScoringParams(metric_overrides=(MetricOverride("X23", "MAE", bad=50.0),))
    expected = view(warehouse, "select * from metric_scores where benchmark_key = 'X23'", params)
    scores = dict(zip(expected["model_key"], expected["score"], strict=True))
    assert dict(zip(values["Model"], values["MAE"], strict=True)) == pytest.approx(scores)
    assert scores["model-a"] == pytest.approx(metric_score(0.2 / 3 * EV, 0, 50))
    editor = app.data_editor[0].value
    assert editor.loc[0, "bad"] == 50.0 and editor.loc[0, "default_bad"] == 100.0


def test_benchmark_scatter_and_structure(app, warehouse):
    _open_benchmark(app, "X23")
    assert app.button_group(key="metric").value is None
    assert not app.get("plotly_chart")  # no metric chosen yet
    run(app.button_group(key="metric").set_value("MAE"))
    assert len(app.get("plotly_chart")) == 1
    run(app.selectbox(key="inspect_model").set_value("model-a"))
    run(app.selectbox(key="inspect_system").set_value("hydrogen_sulfide"))
    details = dict(
        zip(*[app.dataframe[2].value[c] for c in app.dataframe[2].value.columns], strict=True)
    )
    point = view(
        warehouse,
        "select * from x23.points where model_key = 'model-a' and system = 'hydrogen_sulfide'",
    ).iloc[0]
    assert float(details["prediction [kJ/mol]"]) == pytest.approx(point["pred"])
    assert float(details["error [kJ/mol]"]) == pytest.approx(-0.1 * EV)
    assert app.radio(key="inspect_structure").options == ["structure", "molecule"]
    assert len(app.get("iframe")) == 1  # the 3Dmol viewer


def test_relaxation_frames_can_be_animated(app):
    _open_benchmark(app, "TOY", "MAE")
    run(app.selectbox(key="inspect_model").set_value("model-a"))
    run(app.selectbox(key="inspect_system").set_value("h2"))
    assert app.toggle(key="animate").label == "Animate 3 frames"  # input + 2 output frames


# -- elements, models, history, SQL -----------------------------------------------------------


def test_elements_page_counts_filtered_predictions(app):
    app.switch_page("app_pages/elements.py")
    run(app)
    assert "24 predictions are scored" in app.markdown[0].value
    run(app.multiselect(key="excluded_elements").set_value(["S"]))
    # hydrogen_sulfide, solid and molecule, in three X23 runs of the latest selection
    assert "6 of 24 predictions are filtered" in app.markdown[0].value


def test_model_card(app):
    app.switch_page("app_pages/models.py")
    run(app)
    run(app.selectbox(key="model").set_value("model-a"))
    fields = app.dataframe[0].value
    card = dict(zip(fields.iloc[:, 0], fields.iloc[:, 1], strict=True))
    assert card["training level of theory"] == "DMC" and card["parameters"] == "1,234"
    speed = app.dataframe[1].value.set_index("benchmark_key")
    # median of three solids at 0.5 s and three molecules at 0.1 s (tests/app_helpers.py)
    assert speed.at["X23", "median_s_per_structure"] == pytest.approx(0.3)
    # single points over X23 and TOY (three at 0.01 s, 2 atoms each): the fifth of nine
    # per-atom times is CO2's or H2S's 0.1 s / 3 atoms; the fifth per structure is 0.1 s
    summary = next(m.value for m in app.markdown if "µs per atom" in m.value)
    assert summary == (
        "Single points on **an unrecorded device**: median **33,333 µs per atom**, "
        "0.1 s per structure (9 structures, 2 benchmarks)."
    )
    runs = app.dataframe[2].value.set_index("run_id")
    assert set(runs.index) == {"run-a1", "run-a2", "run-a-toy"}
    assert bool(runs.at["run-a2", "is_selected"]) and not bool(runs.at["run-a1", "is_selected"])


def test_history_as_of_a_run_and_diff(app):
    app.switch_page("app_pages/history.py")
    run(app)
    run(app.radio(key="history_mode").set_value("a run"))
    run(app.selectbox(key="history_run").set_value("run-a1"))
    values, _ = shown(app)
    # as of run-a1 (T0 + 1 h, like every run but run-a2): model-a's X23 is its older run
    x23 = dict(zip(values["Model"], values["Molecular Crystals"], strict=True))
    assert x23["model-a"] == pytest.approx(metric_score(0.1 * EV, 0, 100))
    metrics = app.dataframe[1].value
    assert metrics.loc[0, "value_a"] == pytest.approx(0.1 * EV)
    assert metrics.loc[0, "value_b"] == pytest.approx(0.2 / 3 * EV)


def test_sql_page_runs_queries_and_refuses_writes(app):
    app.switch_page("app_pages/sql.py")
    run(app)
    app.text_area(key="sql_text").set_value("select count(*) as n from runs")
    run(app.button(key="sql_run").click())
    assert app.dataframe[0].value["n"].tolist() == [6]
    assert [b.label for b in app.download_button] == ["Download CSV", "Download Parquet"]
    app.text_area(key="sql_text").set_value("delete from runs")
    run(app.button(key="sql_run").click())
    assert app.error[0].value == (
        "The SQL page runs read-only queries only; a DELETE statement is refused."
    )
    app.text_area(key="sql_text").set_value("select * from read_csv('/etc/passwd')")
    run(app.button(key="sql_run").click())
    assert app.error[0].value.startswith("Refused by the warehouse")


def test_no_sql_hides_the_sql_page(warehouse, monkeypatch):
    monkeypatch.setenv("MLPEG_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("MLPEG_APP_NO_SQL", "1")
    at = AppTest.from_file(APP, default_timeout=120).run()
    with pytest.raises(ValueError):
        at.switch_page("app_pages/sql.py")


def test_script_run_timings_are_logged_once_per_run(warehouse, monkeypatch, tmp_path):
    """MLPEG_APP_TIMINGS gets one line per script run (bench/app.py reads it); fragments
    drawn inside a full run are not logged again."""
    import json

    log = tmp_path / "runs.jsonl"
    monkeypatch.setenv("MLPEG_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("MLPEG_APP_TIMINGS", str(log))
    at = run(AppTest.from_file(APP, default_timeout=120))
    run(at)
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [line["run"] for line in lines] == ["Summary", "Summary"]
    assert all(0 < line["seconds"] < 120 for line in lines)
