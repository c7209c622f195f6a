"""Score parity with ML-PEG: metric → benchmark → category → overall, edge cases included.

Expected numbers come from ML-PEG's scoring as published (``scoring_and_normalisation.rst``
and the definition restated in shared/DESIGN.md, "Scoring"), written out below in plain
Python independently of the SQL:

* metric score = clip((v − bad) / (good − bad), 0, 1); good == bad gives 1 if v == good
  else 0; either direction of good and bad;
* a weighted mean skips metrics with weight 0 and metrics without a score (None); with
  nothing left it is None (all weights zero, or nothing scored).

One difference is deliberate and pinned here: ML-PEG's table code turns a NaN metric
into a NaN benchmark score (one NaN hides every other metric), while mlpeg (DESIGN.md:
"over metrics with weight > 0 and a score") gives a NaN metric no score, marks it
``failed``, and scores the benchmark on the rest.
"""

from __future__ import annotations

import math
from pathlib import Path

import duckdb
import pytest
from ase import Atoms
from conftest import TEST_MODELS
from helpers import prediction, predictions_part
from hypothesis import given, settings
from hypothesis import strategies as st

from mlpeg import catalog
from mlpeg.models import registry
from mlpeg.paths import SQL_DIR
from mlpeg.warehouse.connect import writer
from mlpeg.warehouse.ingest import ingest

NAN_SENTINEL = -999.0  # a metric value written as this energy comes out of the view as NaN


def ml_peg_metric_score(value: float | None, good: float, bad: float) -> float | None:
    """ML-PEG's normalisation: None stays None, NaN stays NaN, else clipped linear."""
    if value is None:
        return None
    if math.isnan(value):
        return math.nan
    if good == bad:
        return 1.0 if value == good else 0.0
    return max(min(1.0, (value - bad) / (good - bad)), 0.0) + 0.0


def ml_peg_weighted_score(pairs: list[tuple[float | None, float]]) -> float | None:
    """ML-PEG's weighted score of a table row: skip weight 0 and None; NaN poisons."""
    total = weight_sum = 0.0
    for score, weight in pairs:
        if weight == 0 or score is None:
            continue
        if math.isnan(score):
            return math.nan
        total += score * weight
        weight_sum += weight
    return total / weight_sum if weight_sum > 0 else None


def design_weighted_score(pairs: list[tuple[float | None, float]]) -> float | None:
    """DESIGN.md's rule: as ML-PEG, except that a NaN score counts as no score."""
    kept = [(s, w) for s, w in pairs if s is not None and not math.isnan(s)]
    return ml_peg_weighted_score(kept)


# --- the macros against ML-PEG's functions, on generated numbers -------------------------


@pytest.fixture(scope="module")
def macros() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute((SQL_DIR / "macros.sql").read_text())
    return con


finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)
values = st.one_of(st.none(), st.just(math.nan), finite, st.sampled_from([0.0, 1.0, -1.0]))


@settings(max_examples=200, deadline=None)
@given(value=values, good=finite, bad=finite, same=st.booleans())
def test_metric_score_macro_matches_ml_peg(macros, value, good, bad, same):
    if same:
        bad = good
    expected = ml_peg_metric_score(value, good, bad)
    got = macros.execute("select metric_score(?::double, ?, ?)", [value, good, bad]).fetchone()[0]
    if expected is None or math.isnan(expected):
        assert got is None  # ML-PEG: None → None and NaN → NaN; mlpeg: no score for both
    else:
        assert got == expected


scores = st.one_of(st.none(), st.floats(min_value=0.0, max_value=1.0))
weights = st.one_of(st.just(0.0), st.floats(min_value=0.0, max_value=10.0))


@settings(max_examples=200, deadline=None)
@given(pairs=st.lists(st.tuples(scores, weights), min_size=1, max_size=6))
def test_weighted_mean_macro_matches_ml_peg(macros, pairs):
    expected = ml_peg_weighted_score(pairs)
    got = macros.execute(
        "select weighted_mean(s, w) from (select unnest(?::double[]) as s, unnest(?::double[]) "
        "as w)",
        [[s for s, _ in pairs], [w for _, w in pairs]],
    ).fetchone()[0]
    if expected is None:
        assert got is None
    else:
        assert got == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_hand_examples_of_the_definition(macros):
    def score(value, good, bad):
        return macros.execute(
            "select metric_score(?::double, ?, ?)", [value, good, bad]
        ).fetchone()[0]

    assert score(3.0, 1.0, 5.0) == 0.5  # ML-PEG docs: good 1, bad 5 kcal/mol, value 3 → 0.5
    assert score(0.5, 1.0, 5.0) == 1.0  # better than good: clipped to 1
    assert score(7.0, 1.0, 5.0) == 0.0  # worse than bad: clipped to 0
    assert score(0.75, 1.0, 0.0) == 0.75  # higher is better: good 1, bad 0
    assert score(2.0, 2.0, 2.0) == 1.0  # good == bad, value equal → 1
    assert score(2.1, 2.0, 2.0) == 0.0  # good == bad, value different → 0
    assert score(None, 0.0, 1.0) is None
    assert score(math.nan, 0.0, 1.0) is None


# --- the full stack on hand-made parts ---------------------------------------------------

#: (category, benchmark) → metrics as (key, good, bad, weight)
LAYOUT = {
    ("cat_a", "B1"): [("m1", 0, 10, 1), ("m2", 5, 1, 2), ("m3", 3, 3, 1), ("m4", 0, 1, 0)],
    ("cat_a", "B2"): [("n1", 0, 2, 0), ("n2", 0, 2, 0)],  # all weights zero
    ("cat_b", "B3"): [("p1", 1, 0, 1), ("p2", 0, 4, 1)],
    ("cat_c", "B4"): [("q1", 0, 1, 1)],  # category weight zero
}
CATEGORIES = {
    "cat_a": "weight: 1\nbenchmark_weights: {B1: 2, B2: 1}",
    "cat_b": "weight: 3",
    "cat_c": "weight: 0",
}
#: metric values per model and benchmark; None = no row (metric not computed)
VALUES = {
    "model-a": {
        "B1": {"m1": 2.5, "m2": 4.0, "m3": 3.0, "m4": 0.9},
        "B2": {"n1": 1.0, "n2": 0.0},
        "B3": {"p1": 0.25, "p2": 5.0},
        "B4": {"q1": 0.5},
    },
    "model-b": {
        "B1": {"m1": NAN_SENTINEL, "m2": 0.0, "m3": 2.0, "m4": 0.0},
        "B2": {"n1": 0.5, "n2": 0.5},
        "B3": {"p1": 1.5, "p2": 1.0},
        "B4": {"q1": 0.0},
    },
    "model-c": {  # never ran B3; no m2 row
        "B1": {"m1": 12.0, "m3": 3.0, "m4": 0.5},
        "B2": {"n1": 0.0, "n2": 2.0},
        "B4": {"q1": 2.0},
    },
}

VIEWS = """
create schema if not exists {schema};
-- grain: one row per (model, metric): each prediction carries one metric value as energy
create or replace view {schema}.points as
select
    model_key, system, 'value' as quantity, energy as pred, null::double as ref,
    'u' as unit, state, structure_id,
from benchmark_predictions
where benchmark_key = '{key}';
-- grain: one row per (model, metric); the sentinel energy stands for a NaN metric
create or replace view {schema}.metrics as
select
    model_key, system as metric_key,
    case when energy = {nan} then 'nan'::double else energy end as value,
from benchmark_predictions
where benchmark_key = '{key}' and state = 'ok';
"""


def _write_tree(root: Path) -> Path:
    for category, body in CATEGORIES.items():
        (root / category).mkdir(parents=True)
        (root / category / "category.yml").write_text(
            f"key: {category}\ntitle: {category}\n{body}\n"
        )
    for (category, key), metrics in LAYOUT.items():
        folder = root / category / key
        folder.mkdir()
        lines = "\n".join(
            f"  - {{key: {m}, unit: u, good: {g}, bad: {b}, weight: {w}}}" for m, g, b, w in metrics
        )
        (folder / "benchmark.yml").write_text(
            f"key: {key}\ntitle: {key}\ncategory: {category}\ndescription: parity\n"
            f"level_of_theory: test\ncost: quick\nmetrics:\n{lines}\n"
        )
        (folder / "calc.py").write_text(
            "def tasks():\n    return []\n\n\ndef references():\n    return []\n"
        )
        (folder / "views.sql").write_text(
            VIEWS.format(schema=key.lower(), key=key, nan=NAN_SENTINEL)
        )
    return root


@pytest.fixture(scope="module")
def parity_warehouse(tmp_path_factory):
    """One warehouse for the module: building it is the slow part."""
    root = tmp_path_factory.mktemp("parity")
    models = root / "models.yml"
    models.write_text(TEST_MODELS)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLPEG_MODELS", str(models))
        patch.setenv("MLPEG_BENCHMARKS", str(_write_tree(root / "benchmarks")))
        catalog.clear_cache()
        registry.clear_cache()
        landing = root / "landing"
        atom = Atoms("H", positions=[[0, 0, 0]])
        for model, benchmarks in VALUES.items():
            for benchmark, metrics in benchmarks.items():
                rows = [prediction(m, "value", atom, value) for m, value in metrics.items()]
                predictions_part(
                    landing, rows, model=model, benchmark=benchmark, run_id=f"{model}-{benchmark}"
                )
        with writer(root / "wh" / "mlpeg.duckdb") as con:
            report = ingest(con, [landing])
            assert not report.rejected, report.rejected
            yield con
    catalog.clear_cache()
    registry.clear_cache()


def _expected() -> dict[str, dict]:
    """Every score by ML-PEG's definition (NaN treated as no score, as DESIGN.md says)."""
    metric, benchmark, category, overall = {}, {}, {}, {}
    benchmark_weights = {"B1": 2.0, "B2": 1.0, "B3": 1.0, "B4": 1.0}
    category_weights = {"cat_a": 1.0, "cat_b": 3.0, "cat_c": 0.0}
    for model, ran in VALUES.items():
        by_category: dict[str, list] = {}
        for (cat, bench), metrics in LAYOUT.items():
            pairs = []
            for key, good, bad, weight in metrics:
                value = ran.get(bench, {}).get(key)
                value = math.nan if value == NAN_SENTINEL else value
                score = ml_peg_metric_score(value, good, bad)
                metric[(model, bench, key)] = None if score is None or math.isnan(score) else score
                pairs.append((score, weight))
            benchmark[(model, bench)] = design_weighted_score(pairs)
            by_category.setdefault(cat, []).append(
                (benchmark[(model, bench)], benchmark_weights[bench])
            )
        for cat, pairs in by_category.items():
            category[(model, cat)] = design_weighted_score(pairs)
        overall[model] = design_weighted_score(
            [(category[(model, cat)], w) for cat, w in category_weights.items()]
        )
    return {"metric": metric, "benchmark": benchmark, "category": category, "overall": overall}


def _close(got: float | None, expected: float | None) -> bool:
    if expected is None:
        return got is None
    return got is not None and math.isclose(got, expected, rel_tol=1e-12, abs_tol=1e-15)


def test_every_score_matches_the_definition(parity_warehouse):
    con = parity_warehouse
    expected = _expected()
    metric = {
        (m, b, k): s
        for m, b, k, s in con.execute(
            "select model_key, benchmark_key, metric_key, score from metric_scores"
        ).fetchall()
    }
    benchmark = dict(
        ((m, b), s)
        for m, b, s in con.execute(
            "select model_key, benchmark_key, score from benchmark_scores"
        ).fetchall()
    )
    category = dict(
        ((m, c), s)
        for m, c, s in con.execute(
            "select model_key, category_key, score from category_scores"
        ).fetchall()
    )
    overall = dict(con.execute("select model_key, score from overall_scores").fetchall())
    assert metric.keys() == expected["metric"].keys()
    for level, got in (
        ("metric", metric),
        ("benchmark", benchmark),
        ("category", category),
        ("overall", overall),
    ):
        wrong = {
            k: (got.get(k), v) for k, v in expected[level].items() if not _close(got.get(k), v)
        }
        assert not wrong, f"{level} scores differ (got, expected): {wrong}"


def test_hand_arithmetic_of_model_a(parity_warehouse):
    con = parity_warehouse
    # B1: m1 = (2.5−10)/(0−10) = 0.75; m2 = (4−1)/(5−1) = 0.75; m3 = 1 (3 == good == bad);
    # m4 has weight 0 → (0.75·1 + 0.75·2 + 1·1) / 4 = 0.8125
    # B2: all weights zero → no score; cat_a = B1 alone = 0.8125
    # B3: p1 = (0.25−0)/(1−0) = 0.25; p2 = (5−4)/(0−4) → −0.25 → clipped 0 → 0.125
    # overall: cat_c has weight 0 → (0.8125·1 + 0.125·3) / 4 = 0.296875
    b1, b2, b3 = (
        con.execute(
            "select score from benchmark_scores where model_key = 'model-a' and benchmark_key = ?",
            [key],
        ).fetchone()[0]
        for key in ("B1", "B2", "B3")
    )
    assert b1 == pytest.approx(0.8125)
    assert b2 is None
    assert b3 == pytest.approx(0.125)
    overall = con.execute(
        "select score from overall_scores where model_key = 'model-a'"
    ).fetchone()[0]
    assert overall == pytest.approx(0.296875)


def test_nan_metric_is_failed_and_does_not_poison_its_benchmark(parity_warehouse):
    con = parity_warehouse
    value, score, state = con.execute(
        "select value, score, state from metric_scores "
        "where model_key = 'model-b' and benchmark_key = 'B1' and metric_key = 'm1'"
    ).fetchone()
    assert math.isnan(value) and score is None and state == "failed"
    # m2 = (0−1)/(5−1) → 0; m3 = 0 (2 ≠ 3); m1 (NaN) and m4 (weight 0) left out:
    # (0·2 + 0·1) / 3 = 0. ML-PEG's table code would show "NaN" for the whole benchmark.
    b1 = con.execute(
        "select score, state from benchmark_scores where model_key = 'model-b' "
        "and benchmark_key = 'B1'"
    ).fetchone()
    assert b1 == (0.0, "ok")
    pairs = [(ml_peg_metric_score(math.nan, 0, 10), 1), (0.0, 2), (0.0, 1), (1.0, 0)]
    assert math.isnan(ml_peg_weighted_score(pairs))


def test_none_is_not_run_and_metric_without_points_is_not_run(parity_warehouse):
    con = parity_warehouse
    states = dict(
        con.execute(
            "select benchmark_key, state from benchmark_scores where model_key = 'model-c'"
        ).fetchall()
    )
    assert states["B3"] == "not_run"
    m2 = con.execute(
        "select value, score, state from metric_scores "
        "where model_key = 'model-c' and benchmark_key = 'B1' and metric_key = 'm2'"
    ).fetchone()
    # ran B1, but its metrics view has no m2 row for model-c (no point of m2 was computed,
    # as with `--subset`): not run. A metric whose points all failed is 'failed' instead.
    assert m2 == (None, None, "not_run")
    # model-c's cat_b holds only B3, which it never ran: no category score, and the
    # overall score is cat_a's alone (cat_c weighs 0)
    cat_b = con.execute(
        "select score, state from category_scores where model_key = 'model-c' "
        "and category_key = 'cat_b'"
    ).fetchone()
    assert cat_b == (None, "not_run")
