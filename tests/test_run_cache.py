"""Stored per-run points and metrics (run_points, run_metrics) always equal the live views.

Uses the hand-calculated warehouse of test_scoring: alpha refs s1 = 1.0, s2 = 2.0 (H2O);
model-a predicts 1.5 and 2.25, so its alpha MAE is (0.5 + 0.25) / 2 = 0.375.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from helpers import T0, prediction, predictions_part, references_part
from test_scoring import H2, scored  # noqa: F401  (the fixture)

from mlpeg import catalog
from mlpeg.errors import ConfigError
from mlpeg.warehouse.connect import reader, writer
from mlpeg.warehouse.ingest import ingest
from mlpeg.warehouse.maintenance import check, recompute_stored_rows

QUERIES = [
    "select * from all_points order by all",
    "select * from all_metrics order by all",
    "select * from metric_scores order by all",
    "select * from leaderboard order by all",
]


def stored_mae(con, run_id: str) -> float:
    return con.execute(
        "select value from run_metrics where run_id = ? and metric_key = 'mae'", [run_id]
    ).fetchone()[0]


def both_ways(con, query: str) -> tuple[list, list]:
    con.execute("reset variable mlpeg_live")
    stored = con.execute(query).fetchall()
    con.execute("set variable mlpeg_live = true")
    live = con.execute(query).fetchall()
    con.execute("reset variable mlpeg_live")
    return stored, live


def test_stored_rows_equal_the_live_views_for_latest_and_past_runs(scored, tmp_path):  # noqa: F811
    later = tmp_path / "later"
    predictions_part(
        later,
        [prediction("s1", "x", H2, 1.0)],
        model="model-a",
        benchmark="alpha",
        run_id="a-alpha-2",
        ended=T0 + timedelta(days=1),
    )
    with writer(scored) as con:
        ingest(con, [later])
    with reader(scored) as con:  # read-only, external access off: query() still dispatches
        assert stored_mae(con, "a-alpha") == pytest.approx(0.375)
        assert stored_mae(con, "a-alpha-2") == pytest.approx(0.0)
        for as_of in (None, (T0 + timedelta(hours=2)).isoformat()):
            if as_of:
                con.execute("set variable mlpeg_as_of = ?", [as_of])
            for query in QUERIES:
                stored, live = both_ways(con, query)
                assert stored and stored == live, (as_of, query)
        # as of T0 + 2 h model-a's alpha MAE is its first run's 0.375, not the later 0.0
        value = con.execute(
            "select value from all_metrics where model_key = 'model-a' "
            "and benchmark_key = 'alpha' and metric_key = 'mae'"
        ).fetchone()[0]
        assert value == pytest.approx(0.375)


def test_new_references_recompute_the_stored_metrics(scored, tmp_path):  # noqa: F811
    update = tmp_path / "update"
    references_part(update, "alpha", [("s1", "energy", 0.0)])  # s1: 1.0 → 0.0
    with writer(scored) as con:
        ingest(con, [update])
        # model-a: |1.5 − 0.0| and |2.25 − 2.0| → MAE 0.875
        assert stored_mae(con, "a-alpha") == pytest.approx(0.875)
        stored, live = both_ways(con, QUERIES[1])
        assert stored == live


def test_an_element_filter_reads_the_views_live(scored):  # noqa: F811
    with reader(scored) as con:
        con.execute("set variable mlpeg_excluded_elements = ['O']")
        value = con.execute(
            "select value from all_metrics where model_key = 'model-a' "
            "and benchmark_key = 'alpha' and metric_key = 'mae'"
        ).fetchone()[0]
        assert value == pytest.approx(0.5)  # s2 holds O and drops out: |1.5 − 1.0|
        assert stored_mae(con, "a-alpha") == pytest.approx(0.375)  # stored rows untouched


def test_a_changed_view_recomputes_every_run_on_install(scored, tmp_path):  # noqa: F811
    views = catalog.benchmarks()["alpha"].views_sql
    views.write_text(views.read_text().replace("avg(abs(pred - ref))", "2 * avg(abs(pred - ref))"))
    catalog.clear_cache()
    with writer(scored) as con:  # the fingerprint changed: install runs and refreshes
        assert stored_mae(con, "a-alpha") == pytest.approx(0.75)
        assert stored_mae(con, "b-alpha") == pytest.approx(2.0)  # |0 − 1|, s2 failed


def test_check_finds_stored_rows_that_disagree_with_the_views(scored):  # noqa: F811
    findings = {f.what: f for f in check(scored)}
    assert findings["stored points and metrics"].level == "ok"
    with writer(scored) as con:
        con.execute("update run_metrics set value = 9 where run_id = 'a-alpha'")
    finding = {f.what: f for f in check(scored)}["stored points and metrics"]
    assert finding.level == "error" and "0 point groups and 2 metric rows" in finding.detail
    assert recompute_stored_rows(scored) == 4  # a-alpha, b-alpha, a-beta, b-beta
    assert {f.what: f for f in check(scored)}["stored points and metrics"].level == "ok"


def test_a_view_that_fails_on_stored_runs_names_itself_and_changes_nothing(scored):  # noqa: F811
    views = catalog.benchmarks()["alpha"].views_sql
    views.write_text(
        views.read_text().replace(
            "'mae' as metric_key",
            "coalesce(error('no reference here')::varchar, 'mae') as metric_key",
        )
    )
    catalog.clear_cache()
    with pytest.raises(ConfigError) as info, writer(scored):
        pass
    message = str(info.value)
    assert message.startswith(f"{views}: alpha.metrics fails on run a-alpha, b-alpha")
    assert "no reference here" in message
    with reader(scored) as con:  # the install rolled back: old views and stored rows
        assert stored_mae(con, "a-alpha") == pytest.approx(0.375)


def test_sql_write_recomputes_the_stored_rows(scored):  # noqa: F811
    from typer.testing import CliRunner

    from mlpeg.cli import app

    statement = (
        "update reference_values set value = 0.0 where benchmark_key = 'alpha' and system = 's1'"
    )
    result = CliRunner().invoke(app, ["sql", "--write", statement, "-w", str(scored)])
    assert result.exit_code == 0, result.output
    assert "Stored points and metrics of 4 runs recomputed." in result.output
    with reader(scored) as con:
        assert stored_mae(con, "a-alpha") == pytest.approx(0.875)  # as with new references


def test_each_run_is_evaluated_once_when_a_folder_is_ingested(scored, tmp_path, monkeypatch):  # noqa: F811
    from mlpeg.warehouse import cache
    from mlpeg.warehouse.ingest import find_parts

    landing = tmp_path / "landing"  # the fixture's: 2 references parts, 4 predictions parts
    names = [p.name for p in find_parts([landing])]
    assert names[:2] == ["alpha__references.parquet", "beta__references.parquet"]
    real, evaluated = cache.refresh, []
    monkeypatch.setattr(cache, "refresh", lambda con, **kw: evaluated.append(real(con, **kw)))
    with writer(tmp_path / "again" / "mlpeg.duckdb") as con:
        ingest(con, [landing])
    # references first find no runs; each of the 4 runs is then evaluated once (not twice)
    assert sum(evaluated[1:]) == 4, evaluated  # [0] is the install's refresh
