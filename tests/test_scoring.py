"""Scoring in SQL against hand calculations from ML-PEG's definition (DESIGN.md, Scoring).

A small benchmark tree is written into tmp_path: category `cat_a` (weight 1) holds `alpha`
(metrics mae w=1, maxe w=3) and `beta` (metric mae w=1, benchmark weight 2); category
`cat_b` (weight 0.5) holds `gamma` (metric mae, weight 1). Each view computes errors of
per-system energies against references, so every expected number below is arithmetic on
the energies written in the test.
"""

from __future__ import annotations

import math
from pathlib import Path

import duckdb
import pytest
from ase import Atoms
from helpers import prediction, predictions_part, references_part

from mlpeg import catalog
from mlpeg.warehouse.connect import reader, writer
from mlpeg.warehouse.ingest import ingest

VIEWS = """
create schema if not exists {schema};
-- grain: one row per (model, system)
create or replace view {schema}.points as
select
    p.model_key, p.system, 'energy' as quantity, p.energy as pred, r.value as ref, 'eV' as unit,
    p.state, p.structure_id,
from benchmark_predictions as p
join reference_values as r
    on r.benchmark_key = '{key}' and r.system = p.system and r.quantity = 'energy'
where p.benchmark_key = '{key}';
-- grain: one row per (model, metric)
create or replace view {schema}.metrics as
select model_key, 'mae' as metric_key, avg(abs(pred - ref)) filter (where state = 'ok') as value
from {schema}.points group by model_key
union all
select model_key, 'maxe', max(abs(pred - ref)) filter (where state = 'ok')
from {schema}.points group by model_key;
"""

BENCHMARK_YML = """
key: {key}
title: {key}
category: {category}
description: test benchmark
level_of_theory: test
cost: quick
metrics:
{metrics}
"""

CALC = "def tasks():\n    return []\n\n\ndef references():\n    return []\n"


def _metric(key: str, good: float, bad: float, weight: float) -> str:
    return f"  - {{key: {key}, unit: eV, good: {good}, bad: {bad}, weight: {weight}}}"


def write_tree(root: Path) -> Path:
    layout = {
        ("cat_a", "alpha"): [_metric("mae", 0.0, 1.0, 1), _metric("maxe", 0.0, 2.0, 3)],
        ("cat_a", "beta"): [_metric("mae", 0.0, 1.0, 1), _metric("maxe", 0.0, 1.0, 0)],
        ("cat_b", "gamma"): [_metric("mae", 0.0, 1.0, 1), _metric("maxe", 0.0, 1.0, 0)],
    }
    (root / "cat_a").mkdir(parents=True)
    (root / "cat_b").mkdir(parents=True)
    (root / "cat_a" / "category.yml").write_text(
        "key: cat_a\ntitle: A\nweight: 1\nbenchmark_weights: {beta: 2}\n"
    )
    (root / "cat_b" / "category.yml").write_text("key: cat_b\ntitle: B\nweight: 0.5\n")
    for (category, key), metrics in layout.items():
        folder = root / category / key
        folder.mkdir()
        (folder / "benchmark.yml").write_text(
            BENCHMARK_YML.format(key=key, category=category, metrics="\n".join(metrics))
        )
        (folder / "calc.py").write_text(CALC)
        (folder / "views.sql").write_text(VIEWS.format(schema=key, key=key))
    return root


H2 = Atoms("H2", positions=[[0, 0, 0], [0, 0, 0.74]])
H2O = Atoms("OH2", positions=[[0, 0, 0], [0.76, 0.59, 0], [-0.76, 0.59, 0]])


@pytest.fixture
def scored(tmp_path, monkeypatch, test_models, warehouse) -> Path:
    """Warehouse with model-a and model-b on alpha and beta; nobody ran gamma.

    alpha refs: s1 = 1.0, s2 = 2.0.  model-a preds 1.5, 2.25 → errors 0.5, 0.25
    model-b preds: s1 = 0.0 (error 1.0), s2 failed.
    beta ref: s1 = 0.0. model-a pred 0.1; model-b pred 3.0.
    """
    monkeypatch.setenv("MLPEG_BENCHMARKS", str(write_tree(tmp_path / "benchmarks")))
    catalog.clear_cache()
    landing = tmp_path / "landing"
    references_part(landing, "alpha", [("s1", "energy", 1.0), ("s2", "energy", 2.0)])
    references_part(landing, "beta", [("s1", "energy", 0.0)])
    predictions_part(
        landing,
        [prediction("s1", "x", H2, 1.5), prediction("s2", "x", H2O, 2.25)],
        model="model-a",
        benchmark="alpha",
        run_id="a-alpha",
    )
    predictions_part(
        landing,
        [
            prediction("s1", "x", H2, 0.0),
            prediction("s2", "x", H2O, None, state="failed", error="boom"),
        ],
        model="model-b",
        benchmark="alpha",
        run_id="b-alpha",
    )
    predictions_part(
        landing,
        [prediction("s1", "x", H2, 0.1)],
        model="model-a",
        benchmark="beta",
        run_id="a-beta",
    )
    predictions_part(
        landing,
        [prediction("s1", "x", H2, 3.0)],
        model="model-b",
        benchmark="beta",
        run_id="b-beta",
    )
    with writer(warehouse) as con:
        report = ingest(con, [landing])
    assert not report.rejected, report.rejected
    return warehouse


def score(value: float | None, good: float, bad: float) -> float | None:
    """ML-PEG's normalisation, written out independently of the SQL."""
    if value is None or math.isnan(value):
        return None
    if good == bad:
        return 1.0 if value == good else 0.0
    return min(1.0, max(0.0, (value - bad) / (good - bad)))


def rows(con: duckdb.DuckDBPyConnection, query: str) -> dict:
    result = con.execute(query).fetchall()
    return {tuple(r[:-1]) if len(r) > 2 else r[0]: r[-1] for r in result}


def test_metric_score_macro_edge_cases(warehouse):
    with writer(warehouse) as con:
        cases = [
            (0.5, 0.0, 1.0),
            (1.5, 0.0, 1.0),
            (-0.5, 0.0, 1.0),  # inside, above bad, below good
            (0.8, 1.0, 0.0),
            (0.2, 1.0, 0.0),
            (3.0, 1.0, 0.0),  # reversed: higher is better
            (2.0, 2.0, 2.0),
            (2.5, 2.0, 2.0),  # good == bad
        ]
        for value, good, bad in cases:
            got = con.execute("select metric_score(?, ?, ?)", [value, good, bad]).fetchone()[0]
            assert got == pytest.approx(score(value, good, bad)), (value, good, bad)
        assert con.execute("select metric_score(null, 0, 1)").fetchone()[0] is None
        assert con.execute("select metric_score('nan'::double, 0, 1)").fetchone()[0] is None


def test_metric_scores_by_hand(scored):
    with reader(scored) as con:
        values = rows(con, "select model_key, benchmark_key, metric_key, value from metric_scores")
        states = rows(con, "select model_key, benchmark_key, metric_key, state from metric_scores")
    # model-a on alpha: MAE = (0.5 + 0.25) / 2, max error 0.5
    assert values[("model-a", "alpha", "mae")] == pytest.approx(0.375)
    assert values[("model-a", "alpha", "maxe")] == pytest.approx(0.5)
    # model-b: s2 failed, so only s1 counts (error 1.0) — the failure does not poison the MAE
    assert values[("model-b", "alpha", "mae")] == pytest.approx(1.0)
    assert states[("model-b", "alpha", "mae")] == "ok"
    # gamma was never run: a distinct state, not a blank
    assert values[("model-a", "gamma", "mae")] is None
    assert states[("model-a", "gamma", "mae")] == "not_run"


def test_benchmark_category_overall_by_hand(scored):
    with reader(scored) as con:
        bench = rows(con, "select model_key, benchmark_key, score from benchmark_scores")
        cat = rows(con, "select model_key, category_key, score from category_scores")
        cat_state = rows(con, "select model_key, category_key, state from category_scores")
        overall = rows(con, "select model_key, score from overall_scores")
        board = con.execute(
            "select model_key, overall, cat_a, cat_b, cat_b__state from leaderboard"
        ).fetchall()
    # alpha, model-a: mae 0.375 → 0.625 (w 1); maxe 0.5 on [0, 2] → 0.75 (w 3)
    alpha_a = (1 * score(0.375, 0, 1) + 3 * score(0.5, 0, 2)) / 4
    assert bench[("model-a", "alpha")] == pytest.approx(alpha_a)
    # beta: the zero-weight maxe is ignored; mae 0.1 → 0.9
    assert bench[("model-a", "beta")] == pytest.approx(0.9)
    # model-b: alpha mae 1.0 → 0, maxe 1.0 → 0.5; beta 3.0 → 0 (clipped)
    alpha_b = (1 * 0.0 + 3 * 0.5) / 4
    assert bench[("model-b", "alpha")] == pytest.approx(alpha_b)
    assert bench[("model-b", "beta")] == pytest.approx(0.0)
    # category cat_a: beta weighs 2 (category.yml), alpha 1
    cat_a = (alpha_a + 2 * 0.9) / 3
    assert cat[("model-a", "cat_a")] == pytest.approx(cat_a)
    # cat_b was not run: no score, state not_run, and it does not drag the overall down
    assert cat[("model-a", "cat_b")] is None
    assert cat_state[("model-a", "cat_b")] == "not_run"
    assert overall["model-a"] == pytest.approx(cat_a)
    assert overall["model-b"] == pytest.approx(alpha_b / 3)
    assert [r[0] for r in board] == ["model-a", "model-b"]
    assert board[0][1] == pytest.approx(cat_a) and board[0][3] is None
    assert board[0][4] == "not_run"


def test_overrides_reversed_thresholds_and_zero_weights(scored):
    with reader(scored) as con:
        con.execute(
            "set variable mlpeg_metric_overrides = "
            "[{'benchmark_key': 'alpha', 'metric_key': 'mae', 'good': 1.0, 'bad': 0.0},"
            " {'benchmark_key': 'alpha', 'metric_key': 'maxe', 'weight': 0.0}]"
        )
        bench = rows(con, "select model_key, benchmark_key, score from benchmark_scores")
        # reversed: higher MAE now scores higher; maxe weight 0 leaves only mae
        assert bench[("model-a", "alpha")] == pytest.approx(score(0.375, 1.0, 0.0))
        assert bench[("model-b", "alpha")] == pytest.approx(1.0)
        con.execute("set variable mlpeg_benchmark_weights = map {'alpha': 0.0, 'beta': 0.0}")
        cat = rows(con, "select model_key, category_key, score from category_scores")
        # all weights zero: no score at all rather than a division by zero
        assert cat[("model-a", "cat_a")] is None
        con.execute("reset variable mlpeg_benchmark_weights")
        con.execute("set variable mlpeg_category_weights = map {'cat_a': 0.0}")
        assert rows(con, "select model_key, score from overall_scores")["model-a"] is None


def test_element_filter_keeps_states_apart(scored):
    with reader(scored) as con:
        con.execute("set variable mlpeg_excluded_elements = ['O']")
        values = rows(con, "select model_key, benchmark_key, metric_key, value from metric_scores")
        points = rows(con, "select model_key, system, state from alpha.points")
        # s2 (water) is filtered: model-a's MAE is now over s1 alone
        assert values[("model-a", "alpha", "mae")] == pytest.approx(0.5)
        assert points[("model-a", "s2")] == "filtered"
        # model-b's s2 had failed; the user's filter wins, so it shows as filtered
        assert points[("model-b", "s2")] == "filtered"
        con.execute("set variable mlpeg_excluded_elements = ['H']")
        states = rows(con, "select model_key, benchmark_key, metric_key, state from metric_scores")
        assert states[("model-a", "alpha", "mae")] == "filtered"
        assert (
            rows(con, "select model_key, benchmark_key, state from benchmark_scores")[
                ("model-a", "gamma")
            ]
            == "not_run"
        )


def test_all_failed_is_failed_not_missing(tmp_path, monkeypatch, test_models, warehouse):
    monkeypatch.setenv("MLPEG_BENCHMARKS", str(write_tree(tmp_path / "benchmarks")))
    catalog.clear_cache()
    landing = tmp_path / "landing"
    references_part(landing, "alpha", [("s1", "energy", 1.0)])
    predictions_part(
        landing,
        [prediction("s1", "x", H2, None, state="failed", error="x")],
        model="model-a",
        benchmark="alpha",
    )
    predictions_part(
        landing,
        [prediction("s1", "x", H2, None, state="unsupported")],
        model="model-b",
        benchmark="alpha",
        run_id="run-2",
    )
    with writer(warehouse) as con:
        ingest(con, [landing])
        states = rows(con, "select model_key, benchmark_key, metric_key, state from metric_scores")
        scores = rows(con, "select model_key, benchmark_key, score from benchmark_scores")
    assert states[("model-a", "alpha", "mae")] == "failed"
    assert states[("model-b", "alpha", "mae")] == "unsupported"
    assert scores[("model-a", "alpha")] is None


def test_latest_run_wins_and_history_stays(scored, tmp_path):
    from datetime import timedelta

    from helpers import T0

    later = tmp_path / "later"
    predictions_part(
        later,
        [prediction("s1", "x", H2, 1.0), prediction("s2", "x", H2O, 2.0)],
        model="model-a",
        benchmark="alpha",
        run_id="a-alpha-2",
        ended=T0 + timedelta(days=1),
    )
    with writer(scored) as con:
        ingest(con, [later])
        latest = rows(con, "select model_key, benchmark_key, metric_key, value from metric_scores")
        assert latest[("model-a", "alpha", "mae")] == pytest.approx(0.0)
        con.execute(f"set variable mlpeg_as_of = '{(T0 + timedelta(hours=2)).isoformat()}'")
        before = rows(con, "select model_key, benchmark_key, metric_key, value from metric_scores")
        assert before[("model-a", "alpha", "mae")] == pytest.approx(0.375)
        assert (
            con.execute(
                "select count(*) from predictions where model_key = 'model-a' "
                "and benchmark_key = 'alpha'"
            ).fetchone()[0]
            == 4
        )
