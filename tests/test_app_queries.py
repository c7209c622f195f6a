"""The app's query layer (mlpeg.appdata) against hand-computed numbers and the views.

The warehouse is tests/app_helpers.py: errors are chosen so every score below is a line of
arithmetic (1 eV = 96.48533212331 kJ/mol; X23 MAE thresholds good 0, bad 100 kJ/mol;
TOY MAE good 0, bad 1 eV and MAXE good 0, bad 2 eV).
"""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest
from app_helpers import EV, app_warehouse, metric_score
from helpers import T0

from mlpeg.appdata import queries
from mlpeg.appdata.params import MetricOverride, ScoringParams
from mlpeg.appdata.store import AppStore
from mlpeg.warehouse.connect import reader


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    root = tmp_path_factory.mktemp("app")
    path = app_warehouse(root)
    return path


@pytest.fixture(scope="module")
def store(warehouse):
    store = AppStore(warehouse)
    yield store
    store.close()


X23_A = metric_score(0.2 / 3 * EV, 0.0, 100.0)  # errors +0.1, 0, −0.1 eV
X23_C = metric_score(0.1 * EV, 0.0, 100.0)  # errors −0.1, −0.1 eV
TOY_A = (metric_score(0.4 / 3, 0.0, 1.0) + metric_score(0.3, 0.0, 2.0)) / 2
TOY_C = (metric_score(0.2, 0.0, 1.0) + metric_score(0.2, 0.0, 2.0)) / 2


def by_model(table) -> dict[str, dict]:
    return {row["model_key"]: row for row in table.to_pylist()}


def test_leaderboard_scores_by_hand(store):
    rows = by_model(queries.leaderboard(store, ScoringParams()))
    assert rows["model-a"]["molecular_crystal"] == pytest.approx(X23_A)
    assert rows["model-a"]["toy"] == pytest.approx(TOY_A)
    assert rows["model-a"]["overall"] == pytest.approx((X23_A + TOY_A) / 2)
    assert rows["model-c"]["overall"] == pytest.approx((X23_C + TOY_C) / 2)
    # model-b never ran TOY: that category is not run, not zero, and not in its overall.
    assert rows["model-b"]["toy"] is None
    assert rows["model-b"]["toy__state"] == "not_run"
    assert rows["model-b"]["overall"] == pytest.approx(1.0)


def test_category_weights_rescore_in_sql(store):
    params = ScoringParams(category_weights=(("toy", 0.25),))
    rows = by_model(queries.leaderboard(store, params))
    assert rows["model-a"]["overall"] == pytest.approx((X23_A + 0.25 * TOY_A) / 1.25)


def test_threshold_override_rescore_in_sql(store):
    params = ScoringParams(metric_overrides=(MetricOverride("X23", "MAE", bad=50.0),))
    scores = {
        (r["model_key"], r["metric_key"]): r
        for r in queries.metric_scores(store, params, "X23").to_pylist()
    }
    assert scores[("model-a", "MAE")]["score"] == pytest.approx(metric_score(0.2 / 3 * EV, 0, 50))
    definitions = queries.metric_definitions(store, params, "X23").to_pylist()
    assert definitions[0]["bad"] == 50.0 and definitions[0]["good"] == 0.0
    rows = by_model(queries.leaderboard(store, params))
    assert rows["model-a"]["molecular_crystal"] == pytest.approx(metric_score(0.2 / 3 * EV, 0, 50))


def test_element_filter_drops_points_not_benchmarks(store):
    params = ScoringParams(excluded_elements=("Cl",))
    scores = {
        (r["model_key"], r["metric_key"]): r
        for r in queries.metric_scores(store, params, "TOY").to_pylist()
    }
    # HCl and NaCl hold Cl: model-a keeps only h2 (error 0.1).
    assert scores[("model-a", "MAE")]["value"] == pytest.approx(0.1)
    assert scores[("model-a", "MAE")]["n_ok"] == 1
    states = {
        r["system"]: r["state"]
        for r in queries.points(
            store, params, queries.benchmark_info(store, "TOY"), model_key="model-c"
        ).to_pylist()
    }
    # filtered wins over unsupported: the user's filter explains why there is no value
    assert states == {"h2": "ok", "hcl": "filtered", "nacl": "filtered"}
    n_predictions, n_filtered = queries.filtered_count(store, params)
    assert n_filtered == 4  # hcl and nacl, for model-a and model-c
    assert n_predictions == 6 * 3 + 3 + 3  # three X23 runs of 6, two TOY runs of 3


def test_excluding_every_element_of_a_benchmark_marks_it_filtered(store):
    params = ScoringParams(excluded_elements=("C", "H"))  # NH3, CO2 and SH2 all go
    rows = by_model(queries.leaderboard(store, params))
    assert rows["model-a"]["molecular_crystal__state"] == "filtered"
    assert rows["model-a"]["molecular_crystal"] is None


@pytest.mark.parametrize(
    "params",
    [
        ScoringParams(),
        ScoringParams(excluded_elements=("S",)),
        ScoringParams(metric_overrides=(MetricOverride("TOY", "MAXE", good=0.1, weight=3.0),)),
        ScoringParams(benchmark_weights=(("X23", 0.5),), category_weights=(("toy", 2.0),)),
        ScoringParams(as_of=T0 + timedelta(hours=2)),
    ],
)
def test_materialised_sessions_equal_the_views(warehouse, store, params):
    plain = AppStore(warehouse, materialise=False)
    try:
        for sql in (
            "select * from leaderboard order by model_key",
            "select * from metric_scores order by all",
            "select * from category_scores order by all",
        ):
            assert store.query(sql, (), params, scoring=True).table.equals(
                plain.query(sql, (), params, scoring=True).table
            ), sql
    finally:
        plain.close()


def test_leaderboard_equals_a_plain_reader(warehouse, store):
    with reader(warehouse) as con:
        expected = con.sql("select * from leaderboard order by model_key").to_arrow_table()
    shown = queries.leaderboard(store, ScoringParams()).sort_by("model_key")
    assert shown.equals(expected)


def test_history_as_of_reads_the_older_run(store):
    params = ScoringParams(as_of=T0 + timedelta(hours=2))  # before run-a2 ended (T0 + 2 days)
    scores = by_model(queries.metric_scores(store, params, "X23"))
    assert scores["model-a"]["value"] == pytest.approx(0.1 * EV)  # errors +0.2, 0, −0.1


def test_run_diff_compares_points_and_metrics(store):
    benchmark = queries.benchmark_info(store, "X23")
    diff = queries.run_diff(store, ScoringParams(), benchmark, "model-a", "run-a1", "run-a2")
    points = {row["system"]: row for row in diff.points.to_pylist()}
    assert points["ammonia"]["pred_change"] == pytest.approx(-0.1 * EV)
    assert points["carbon_dioxide"]["pred_change"] == pytest.approx(0.0)
    metrics = diff.metrics.to_pylist()[0]
    assert metrics["value_a"] == pytest.approx(0.1 * EV)
    assert metrics["value_b"] == pytest.approx(0.2 / 3 * EV)


def test_frames_come_in_order(store):
    points = queries.points(
        store, ScoringParams(), queries.benchmark_info(store, "TOY"), model_key="model-a"
    )
    h2 = next(row for row in points.to_pylist() if row["system"] == "h2")
    frames = queries.frames(store, ScoringParams(), "TOY", "model-a", h2["structure_id"])
    distances = [abs(f["positions"][1][2] - f["positions"][0][2]) for f in frames]
    assert distances == pytest.approx([0.77, 0.74])


def test_level_of_theory_mismatch(store):
    rows = {
        r["model_key"]: r
        for r in queries.level_of_theory(store, ScoringParams(), "X23").to_pylist()
    }
    assert rows["model-a"]["is_mismatch"] is False  # DMC, as the reference
    assert rows["model-b"]["is_mismatch"] is True  # PBE
    assert rows["model-c"]["is_mismatch"] is True  # unknown


def test_model_speed_is_the_median_wall_time_per_structure_and_atom(store):
    speed = queries.model_speed(store, ScoringParams(), "model-a").to_pylist()
    x23 = next(row for row in speed if row["benchmark_key"] == "X23")
    assert (x23["n_structures"], x23["n_failed"], x23["n_unsupported"]) == (6, 0, 0)
    # three solids (two molecules each) in 0.5 s, three molecules in 0.1 s
    assert x23["median_s_per_structure"] == pytest.approx((0.5 + 0.1) / 2)
    assert x23["total_s"] == pytest.approx(3 * 0.5 + 3 * 0.1)
    # per atom: NH3 0.1/4, CO2 0.1/3, H2S 0.1/3 and the solids 0.5/8, 0.5/6, 0.5/6 s
    per_atom = sorted([0.1 / 4, 0.1 / 3, 0.1 / 3, 0.5 / 8, 0.5 / 6, 0.5 / 6])
    assert x23["median_us_per_atom"] == pytest.approx(1e6 * (per_atom[2] + per_atom[3]) / 2)
    c = queries.model_speed(store, ScoringParams(), "model-c").to_pylist()
    assert next(row for row in c if row["benchmark_key"] == "X23")["n_unsupported"] == 2


def test_model_runs_mark_the_scored_run(store):
    runs = {
        r["run_id"]: r for r in queries.model_runs(store, ScoringParams(), "model-a").to_pylist()
    }
    assert runs["run-a2"]["is_selected"] and not runs["run-a1"]["is_selected"]


def test_appdata_does_not_import_streamlit():
    code = (
        "import sys, mlpeg.appdata.queries, mlpeg.appdata.sqlpage, mlpeg.appdata.figures, "
        "mlpeg.appdata.structure_html; print('streamlit' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
