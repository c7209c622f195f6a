"""The app's store: cached, thread-safe, and serving while ingest writes."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor

import pytest
from app_helpers import app_warehouse, h2_molecule
from helpers import prediction, predictions_part

from mlpeg import catalog
from mlpeg.appdata import queries
from mlpeg.appdata import store as store_module
from mlpeg.appdata.params import ScoringParams
from mlpeg.appdata.store import AppStore
from mlpeg.errors import MlpegError, WarehouseBusy
from mlpeg.models import registry
from mlpeg.paths import REPO_ROOT


@pytest.fixture
def app_env(tmp_path, monkeypatch):
    monkeypatch.setenv("MLPEG_BENCHMARKS", str(tmp_path / "benchmarks"))
    monkeypatch.setenv("MLPEG_MODELS", str(tmp_path / "models.yml"))
    catalog.clear_cache()
    registry.clear_cache()
    return tmp_path


def toy_scores(store: AppStore) -> dict[str, tuple]:
    rows = queries.category_totals(store, ScoringParams(), "toy").to_pylist()
    return {row["model_key"]: (row["score"], row["state"]) for row in rows}


def test_repeated_query_is_served_from_the_cache(app_env, monkeypatch):
    store = AppStore(app_warehouse(app_env))
    first = store.query("select * from leaderboard", (), ScoringParams(), scoring=True)

    def no_database(*args, **kwargs):
        raise AssertionError("the cache should have answered")

    monkeypatch.setattr(store, "_run", no_database)
    again = store.query("select * from leaderboard", (), ScoringParams(), scoring=True)
    assert again.table.equals(first.table) and not again.stale
    store.close()


def test_app_keeps_serving_while_ingest_writes(app_env):
    """A writer in another process holds the warehouse; the app answers from the snapshot."""
    warehouse = app_warehouse(app_env)
    store = AppStore(warehouse)
    assert toy_scores(store)["model-b"] == (None, "not_run")
    part = predictions_part(
        app_env / "later",
        [prediction("h2", "main", h2_molecule(0.80), -1.0)],
        model="model-b",
        benchmark="TOY",
        run_id="run-b-toy",
    )
    script = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from mlpeg.warehouse.connect import writer
        from mlpeg.warehouse.ingest import ingest
        with writer(Path({str(warehouse)!r})) as con:
            report = ingest(con, [Path({str(part)!r})])
            print("holding", len(report.rejected), flush=True)
            sys.stdin.read()  # keep the write open until the test says so
        """
    )
    writer_process = subprocess.Popen(
        [sys.executable, "-c", script],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
    )
    try:
        assert writer_process.stdout.readline().split() == ["holding", "0"]
        store.close()  # forget cached results: the next query really opens the file
        assert toy_scores(store)["model-b"] == (None, "not_run")  # the last published data
    finally:
        writer_process.stdin.close()
        assert writer_process.wait(timeout=120) == 0
    score, state = toy_scores(store)["model-b"]  # the new snapshot, without restarting
    assert state == "ok"
    assert score == pytest.approx((1.0 + 1.0) / 2)  # h2 exact: MAE and MAXE score 1
    store.close()


def test_stale_result_when_the_warehouse_cannot_be_opened(app_env, monkeypatch):
    store = AppStore(app_warehouse(app_env))
    fresh = store.query("select model_key from leaderboard_models order by 1")
    store.close()  # drops the connection and the cache, keeps the last good results

    def busy(*args, **kwargs):
        raise WarehouseBusy("held by another process")

    monkeypatch.setattr(store_module.connect, "connect_reader", busy)
    served = store.query("select model_key from leaderboard_models order by 1")
    assert served.stale and served.table.equals(fresh.table)
    with pytest.raises(WarehouseBusy):
        store.query("select count(*) from runs")  # never answered before: nothing to serve


def test_concurrent_sessions_get_their_own_answers(app_env):
    store = AppStore(app_warehouse(app_env), sessions_per_version=2)
    choices = [
        ScoringParams(),
        ScoringParams(excluded_elements=("Cl",)),
        ScoringParams(category_weights=(("toy", 0.0),)),
        ScoringParams(excluded_elements=("S",)),
    ]
    sql = "select model_key, overall from leaderboard order by model_key"
    expected = {}
    for params in choices:
        expected[params] = store.query(sql, (), params, scoring=True).table
    store.close()  # start cold: sessions are built (and evicted) while threads race

    def ask(params: ScoringParams):
        return params, store.query(sql, (), params, scoring=True).table

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(ask, choices * 4))
    for params, table in answers:
        assert table.equals(expected[params]), params
    store.close()


def test_missing_warehouse_is_one_sentence(tmp_path):
    store = AppStore(tmp_path / "nothing.duckdb")
    with pytest.raises(MlpegError, match=r"No warehouse at .*run 'mlpeg run'"):
        store.query("select 1")
