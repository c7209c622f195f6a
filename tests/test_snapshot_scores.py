"""The read snapshot stores the default scores (mlpeg.warehouse.snapshot).

On the warehouse of tests/app_helpers.py, whose scores are lines of arithmetic (see
tests/test_app_queries.py): the stored tables must hold exactly what the live views give,
the views of the same names must read them only while no scoring variable is set, and the
snapshot must stay read-only and be replaced only whole.
"""

from __future__ import annotations

import duckdb
import pytest
from app_helpers import _toy_rows, app_warehouse, metric_score
from helpers import predictions_part

from mlpeg import catalog
from mlpeg.appdata.params import ScoringParams, apply
from mlpeg.models import registry
from mlpeg.paths import REPO_ROOT
from mlpeg.warehouse import snapshot
from mlpeg.warehouse.connect import publish_snapshot, reader, snapshot_path, writer
from mlpeg.warehouse.ingest import ingest
from mlpeg.warehouse.sqlgraph import explain

EV = 96.48533212331
X23_A = metric_score(0.2 / 3 * EV, 0.0, 100.0)  # errors +0.1, 0, −0.1 eV
TOY_A = (metric_score(0.4 / 3, 0.0, 1.0) + metric_score(0.3, 0.0, 2.0)) / 2
KEYS = {
    "metric_scores": "model_key, benchmark_key, metric_key",
    "benchmark_scores": "model_key, benchmark_key",
    "category_scores": "model_key, category_key",
    "overall_scores": "model_key",
    "leaderboard": "model_key",
}


@pytest.fixture
def warehouse(tmp_path, monkeypatch):
    path = app_warehouse(tmp_path)
    monkeypatch.setenv("MLPEG_BENCHMARKS", str(tmp_path / "benchmarks"))
    monkeypatch.setenv("MLPEG_MODELS", str(tmp_path / "models.yml"))
    catalog.clear_cache()
    registry.clear_cache()
    return path


def rows(con: duckdb.DuckDBPyConnection, relation: str, view: str) -> list[tuple]:
    return con.execute(f"select * from {relation} order by {KEYS[view]}").fetchall()


def overall(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute("select model_key, overall from leaderboard").fetchall()


def plan(con: duckdb.DuckDBPyConnection, sql: str) -> str:
    return "\n".join(row[1] for row in con.execute(f"explain {sql}").fetchall())


def test_stored_scores_equal_the_live_views_and_the_hand_values(warehouse):
    with reader(warehouse) as con:
        for view in snapshot.MATERIALISED:
            stored = rows(con, f"{snapshot.SCHEMA}.{view}", view)
            assert stored, view
            assert rows(con, view, view) == stored, view
            assert rows(con, f"{view}{snapshot.LIVE_SUFFIX}", view) == stored, view
        board = {row[0]: row for row in rows(con, "leaderboard", "leaderboard")}
        columns = [c[0] for c in con.execute("describe leaderboard").fetchall()]
        live_columns = [c[0] for c in con.execute("describe leaderboard_live").fetchall()]
    assert columns == live_columns
    model_a = dict(zip(columns, board["model-a"], strict=True))
    assert model_a["overall"] == pytest.approx((X23_A + TOY_A) / 2)
    assert model_a["toy"] == pytest.approx(TOY_A)
    assert dict(zip(columns, board["model-b"], strict=True))["toy__state"] == "not_run"


def test_default_leaderboard_is_a_scan_and_any_variable_goes_live(warehouse):
    with reader(warehouse) as con:
        default = plan(con, "select * from leaderboard")
        assert "materialised.leaderboard" in default and "Group By" not in default
        con.execute("set variable mlpeg_live = true")
        live_plan = plan(con, "select * from leaderboard")
        assert "Group By" in live_plan and "materialised" not in live_plan
        live = rows(con, "leaderboard", "leaderboard")
        con.execute("reset variable mlpeg_live")
        assert rows(con, "leaderboard", "leaderboard") == live
        assert {"mlpeg_profile", "mlpeg_category_weights", "mlpeg_run_ids"} <= set(
            snapshot.view_variables(con)
        )


def test_every_variable_of_the_shipped_sql_sends_the_views_live():
    """A variable added to sql/ or benchmarks/ without SCORING_VARIABLES would be ignored."""
    files = [*(REPO_ROOT / "sql").rglob("*.sql"), *(REPO_ROOT / "benchmarks").rglob("*.sql")]
    read = {name for path in files for name in snapshot.GETVARIABLE.findall(path.read_text())}
    assert len(files) > 50
    assert read == set(snapshot.SCORING_VARIABLES)


def test_weights_profiles_and_history_still_rescore(warehouse):
    with reader(warehouse) as con:
        apply(con, ScoringParams(category_weights=(("toy", 0.25),)))
        board = {r[0]: r[1] for r in overall(con)}
        assert board["model-a"] == pytest.approx((X23_A + 0.25 * TOY_A) / 1.25)
        apply(con, ScoringParams())
        # the built-in preset Molecules weights the unlisted toy category 0: X23 alone
        con.execute("set variable mlpeg_profile = 'Molecules'")
        board = {r[0]: r[1] for r in overall(con)}
        assert board["model-a"] == pytest.approx(X23_A)
        con.execute("reset variable mlpeg_profile")
        # model-a's older X23 run (errors +0.2, 0, −0.1 eV) through the run selection
        apply(con, ScoringParams(run_ids=("run-a1", "run-a-toy")))
        score = con.execute(
            "select score from benchmark_scores where model_key = 'model-a' "
            "and benchmark_key = 'X23'"
        ).fetchall()[0][0]
        assert score == pytest.approx(metric_score(0.3 / 3 * EV, 0.0, 100.0))


def test_snapshot_reader_still_cannot_write_or_read_files(warehouse, tmp_path):
    target = tmp_path / "stolen.csv"
    with reader(warehouse) as con:
        for sql in (
            "insert into materialised.leaderboard select * from leaderboard",
            "drop view leaderboard",
            "create table evil (a int)",
            f"copy (select 1) to '{target}'",
            "select * from read_text('/etc/hostname')",
            "set lock_configuration = false",
            "set enable_external_access = true",
        ):
            with pytest.raises(duckdb.Error):
                con.execute(sql)
        assert con.execute("select current_setting('lock_configuration')").fetchall() == [(True,)]
    assert not target.exists()


def test_writer_file_keeps_live_views_and_republish_rebuilds(warehouse):
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        assert not con.execute(
            "select count(*) from duckdb_tables() where schema_name = 'materialised'"
        ).fetchall()[0][0]
    finally:
        con.close()
    # model-b now runs TOY exactly on the reference: both TOY scores 1
    landing = warehouse.parent / "landing-b"
    toy = _toy_rows({"h2": -1.0, "hcl": -2.0, "nacl": -3.0}, model="model-b")
    predictions_part(landing, toy, model="model-b", benchmark="TOY", run_id="run-b-toy")
    with writer(warehouse) as con:
        ingest(con, [landing])
    with reader(warehouse) as con:
        stored = con.execute(
            "select toy, toy__state from materialised.leaderboard where model_key = 'model-b'"
        ).fetchall()
        assert stored == [(1.0, "ok")]
        assert rows(con, "leaderboard", "leaderboard") == rows(
            con, "leaderboard_live", "leaderboard"
        )
        # --explain still shows what the view computes from
        assert "category_scores" in {name for name, _ in explain(con, "leaderboard").reads}


def test_failed_materialisation_publishes_the_plain_copy(warehouse, monkeypatch):
    def broken(path, config=None):
        raise duckdb.BinderException("a view fails")

    monkeypatch.setattr(snapshot, "prepare", broken)
    with pytest.warns(RuntimeWarning, match="without stored scores: .*a view fails"):
        publish_snapshot(warehouse)
    with reader(warehouse) as con:
        assert not con.execute(
            "select count(*) from duckdb_tables() where schema_name = 'materialised'"
        ).fetchall()[0][0]
        board = {r[0]: r[1] for r in overall(con)}
    assert board["model-a"] == pytest.approx((X23_A + TOY_A) / 2)


def test_crash_while_publishing_keeps_the_previous_snapshot(warehouse, monkeypatch):
    before = snapshot_path(warehouse).read_bytes()

    def killed(path, config=None):
        raise KeyboardInterrupt

    monkeypatch.setattr(snapshot, "prepare", killed)
    with pytest.raises(KeyboardInterrupt):
        publish_snapshot(warehouse)
    assert snapshot_path(warehouse).read_bytes() == before
    assert sorted(p.name for p in warehouse.parent.glob(".*tmp*")) == []
