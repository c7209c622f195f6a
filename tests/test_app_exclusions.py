"""Single-element filters evaluated in one pass (mlpeg.appdata.exclusions) and their use.

The warehouse is tests/app_helpers.py. Scenario results must equal what the views return
with that one element excluded, and sessions built from them must equal the plain views.
"""

from __future__ import annotations

import threading
import time

import pyarrow as pa
import pytest
from app_helpers import EV, app_warehouse, h2_molecule
from helpers import prediction, predictions_part

from mlpeg import catalog
from mlpeg.appdata import exclusions
from mlpeg.appdata.params import ScoringParams, apply
from mlpeg.appdata.store import AppStore
from mlpeg.models import registry
from mlpeg.warehouse.connect import reader, writer
from mlpeg.warehouse.ingest import ingest

SCORING_QUERIES = (
    "select * from leaderboard order by model_key",
    "select * from metric_scores order by all",
    "select * from category_scores order by all",
    "select * from benchmark_coverage order by all",
)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    return app_warehouse(tmp_path_factory.mktemp("exclusions"))


def _sorted(table: pa.Table) -> list[dict]:
    return sorted(table.to_pylist(), key=lambda row: [str(v) for v in row.values()])


def _benchmark_elements(con) -> dict[str, list[str]]:
    rows = con.sql(
        "select benchmark_key, schema_name, list_sort(list_distinct(flatten(list(elements)))) "
        "from benchmark_predictions join benchmarks using (benchmark_key) group by all"
    ).fetchall()
    return {schema: elements for _, schema, elements in rows}


def test_every_scenario_equals_the_views_with_that_element_excluded(warehouse):
    with reader(warehouse) as con:
        for schema, elements in _benchmark_elements(con).items():
            results = exclusions.evaluate(con, "B", schema, elements)
            assert results.elements == tuple(elements)
            for element in elements:
                metrics, states = results.for_element(element)
                apply(con, ScoringParams(excluded_elements=(element,)))
                expected_metrics = con.sql(
                    f"select 'B' as benchmark_key, model_key, metric_key, value "
                    f"from {schema}.metrics"
                ).to_arrow_table()
                expected_states = con.sql(
                    f"select 'B' as benchmark_key, model_key, state, count(*) as n_points "
                    f"from {schema}.points group by all"
                ).to_arrow_table()
                apply(con, ScoringParams())
                assert _sorted(metrics) == _sorted(expected_metrics), (schema, element)
                assert _sorted(states) == _sorted(expected_states), (schema, element)


def test_scenario_value_by_hand(warehouse):
    """Excluding S drops hydrogen_sulfide: model-a's X23 errors +0.1 and 0 eV remain."""
    with reader(warehouse) as con:
        results = exclusions.evaluate(con, "X23", "x23", ["C", "H", "N", "O", "S"])
        metrics, states = results.for_element("S")
        mae = {row["model_key"]: row["value"] for row in metrics.to_pylist()}
        assert mae["model-a"] == pytest.approx(0.05 * EV)
        counts = {(r["model_key"], r["state"]): r["n_points"] for r in states.to_pylist()}
        assert counts[("model-a", "filtered")] == 1 and counts[("model-a", "ok")] == 2
        # The cursor is left as it was: no scenario, plain rows.
        assert (
            con.execute("select getvariable('mlpeg_exclusion_scenarios')").fetchall()[0][0] is None
        )
        assert ("model-a",) in con.execute("select distinct model_key from x23.points").fetchall()


@pytest.mark.parametrize(
    ("excluded", "sources"),
    [
        (("S",), {"stored": 1, "precomputed": 1, "live": 0}),  # only X23 holds S
        (("Cl",), {"stored": 1, "precomputed": 1, "live": 0}),  # only TOY holds Cl
        (("Cl", "S"), {"stored": 0, "precomputed": 2, "live": 0}),  # one in each
        (("C", "H"), {"stored": 0, "precomputed": 1, "live": 1}),  # X23 holds both
    ],
)
def test_sessions_from_precomputed_filters_equal_the_views(warehouse, excluded, sources):
    store = AppStore(warehouse)
    plain = AppStore(warehouse, materialise=False)
    try:
        assert store.precompute_exclusions() == 2
        params = ScoringParams(excluded_elements=excluded)
        for sql in SCORING_QUERIES:
            shown = store.query(sql, (), params, scoring=True).table
            assert shown.equals(plain.query(sql, (), params, scoring=True).table), sql
        assert store.last_sources == sources
    finally:
        store.close()
        plain.close()


def test_history_with_a_filter_is_read_live(warehouse):
    """Precomputed filters hold the latest runs only; another selection reads the views."""
    from datetime import timedelta

    from helpers import T0

    store = AppStore(warehouse)
    plain = AppStore(warehouse, materialise=False)
    try:
        store.precompute_exclusions()
        params = ScoringParams(excluded_elements=("S",), as_of=T0 + timedelta(hours=2))
        sql = SCORING_QUERIES[1]
        shown = store.query(sql, (), params, scoring=True).table
        assert shown.equals(plain.query(sql, (), params, scoring=True).table)
        assert store.last_sources["precomputed"] == 0
    finally:
        store.close()
        plain.close()


def test_new_data_drops_the_precomputed_filters(tmp_path, monkeypatch):
    """After an ingest, filters computed on the old version are never served."""
    monkeypatch.setenv("MLPEG_BENCHMARKS", str(tmp_path / "benchmarks"))
    monkeypatch.setenv("MLPEG_MODELS", str(tmp_path / "models.yml"))
    catalog.clear_cache()
    registry.clear_cache()
    warehouse = app_warehouse(tmp_path)
    store = AppStore(warehouse)
    params = ScoringParams(excluded_elements=("Cl",))
    sql = "select * from metric_scores where benchmark_key = 'TOY' order by all"
    try:
        store.precompute_exclusions()
        before = store.query(sql, (), params, scoring=True).table.to_pylist()
        assert {row["value"] for row in before if row["model_key"] == "model-b"} <= {None}
        part = predictions_part(
            tmp_path / "later",
            [prediction("h2", "main", h2_molecule(0.80), -1.25)],
            model="model-b",
            benchmark="TOY",
            run_id="run-b-toy",
        )
        with writer(warehouse) as con:
            assert not ingest(con, [part]).rejected
        after = {
            (row["model_key"], row["metric_key"]): row["value"]
            for row in store.query(sql, (), params, scoring=True).table.to_pylist()
        }
        assert after[("model-b", "MAE")] == pytest.approx(0.25)  # h2 only: |−1.25 − (−1.0)|
        assert store.last_sources == {"stored": 1, "precomputed": 0, "live": 1}
        assert store.precompute_exclusions() == 2
        store.query(sql, (), ScoringParams(excluded_elements=("H",)), scoring=True)
        assert store.last_sources["precomputed"] == 2
    finally:
        store.close()


def test_background_precompute_fills_and_close_stops_it(warehouse):
    store = AppStore(warehouse, precompute=True)
    try:
        store.prepare()  # opening the version starts the background work
        thread = store._precompute_thread
        assert thread is not None
        thread.join(timeout=120)
        params = ScoringParams(excluded_elements=("S",))
        store.query("select * from leaderboard", (), params, scoring=True)
        assert store.last_sources["precomputed"] == 1
    finally:
        store.close()


def test_close_interrupts_a_running_precompute_and_reopening_restarts_it(warehouse, monkeypatch):
    started = threading.Event()
    real_evaluate = exclusions.evaluate

    def endless(cursor, *args):  # a query that would run for many minutes
        started.set()
        cursor.execute("select count(*) from range(1000000000000)").fetchall()

    monkeypatch.setattr(exclusions, "evaluate", endless)
    store = AppStore(warehouse, precompute=True)
    store.prepare()
    assert started.wait(timeout=60)
    began = time.monotonic()
    store.close()
    assert time.monotonic() - began < 20  # interrupted, not waited out
    assert store._precompute_thread is None
    monkeypatch.setattr(exclusions, "evaluate", real_evaluate)
    try:
        store.prepare()  # the cut-short version is precomputed again
        store._precompute_thread.join(timeout=120)
        store.query(
            "select * from leaderboard",
            (),
            ScoringParams(excluded_elements=("S",)),
            scoring=True,
        )
        assert store.last_sources["precomputed"] == 1
    finally:
        store.close()


def test_a_benchmark_whose_views_fail_is_skipped_not_the_rest(warehouse, monkeypatch):
    real_evaluate = exclusions.evaluate

    def failing_x23(cursor, benchmark_key, *args):
        if benchmark_key == "X23":
            cursor.execute("select * from no_such_table")
        return real_evaluate(cursor, benchmark_key, *args)

    monkeypatch.setattr(exclusions, "evaluate", failing_x23)
    store = AppStore(warehouse)
    try:
        assert store.precompute_exclusions() == 1  # TOY done, X23 left to the live path
        store.query(
            "select * from leaderboard",
            (),
            ScoringParams(excluded_elements=("H",)),
            scoring=True,
        )
        assert store.last_sources == {"stored": 0, "precomputed": 1, "live": 1}
    finally:
        store.close()
