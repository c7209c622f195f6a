"""The Pareto front of `model_pareto` (sql/views/25_pareto.sql) on four hand-made models.

The view's own SQL runs on stand-in tables of what it reads (category scores, speeds,
models), so every score and cost is chosen here:

=======  ======  =========  =====  ===============================================
model    device  µs/atom    score  front (all devices / own device)
=======  ======  =========  =====  ===============================================
fast     cpu     50         0.6    yes / yes: nothing is faster
good     cpu     100        0.9    yes / yes: nothing else reaches 0.9 as fast
slow     cpu     80         0.5    no / no: "fast" is faster and more accurate
gpu      cuda    200        0.9    no (as accurate as "good", slower) / yes: alone
=======  ======  =========  =====  ===============================================

In category ``c2`` "slow" scores 1.0 and so joins the front; the overall score is the
weighted mean of the two categories (weights 3 and 1).
"""

from __future__ import annotations

import duckdb
import pytest

from mlpeg.paths import SQL_DIR

MODELS = {
    # model: (device, µs/atom, score in c1, score in c2)
    "fast": ("cpu", 50.0, 0.6, 0.6),
    "good": ("cpu", 100.0, 0.9, 0.9),
    "slow": ("cpu", 80.0, 0.5, 1.0),
    "gpu": ("cuda", 200.0, 0.9, 0.9),
}


@pytest.fixture(scope="module")
def con():
    con = duckdb.connect()
    con.execute((SQL_DIR / "macros.sql").read_text())
    con.execute(
        "create table category_scores "
        "(model_key varchar, category_key varchar, score double, category_weight double)"
    )
    con.execute(
        "create table model_speed_summary (model_key varchar, device varchar, "
        "n_structures bigint, median_us_per_atom double)"
    )
    con.execute("create table models (model_key varchar, kind varchar)")
    for model, (device, cost, c1, c2) in MODELS.items():
        con.execute(
            "insert into category_scores values (?, 'c1', ?, 3), (?, 'c2', ?, 1)",
            [model, c1, model, c2],
        )
        con.execute("insert into model_speed_summary values (?, ?, 10, ?)", [model, device, cost])
        con.execute("insert into models values (?, 'mlip')", [model])
    # a model without a score anywhere, and one never timed: neither is placed
    con.execute("insert into category_scores values ('unscored', 'c1', null, 3)")
    con.execute("insert into model_speed_summary values ('unscored', 'cpu', 10, 1.0)")
    con.execute("insert into category_scores values ('untimed', 'c1', 1.0, 3)")
    con.execute((SQL_DIR / "views" / "25_pareto.sql").read_text())
    yield con
    con.close()


def front(con, scope: str, column: str) -> set[str]:
    rows = con.execute(
        f"select model_key from model_pareto where scope = ? and {column}", [scope]
    ).fetchall()
    return {row[0] for row in rows}


def test_front_across_devices_and_per_device(con):
    assert front(con, "c1", "is_pareto") == {"fast", "good"}
    assert front(con, "c1", "is_pareto_on_device") == {"fast", "good", "gpu"}


def test_a_category_has_its_own_front(con):
    # in c2 "slow" (1.0 at 80 µs) beats "good" and "gpu"; "fast" is still the fastest
    assert front(con, "c2", "is_pareto") == {"fast", "slow"}


def test_overall_is_the_weighted_mean_and_has_its_front(con):
    rows = dict(
        con.execute("select model_key, score from model_pareto where scope = 'overall'").fetchall()
    )
    assert rows["slow"] == pytest.approx((3 * 0.5 + 1.0) / 4)  # 0.625
    assert rows["fast"] == pytest.approx(0.6)
    # slow (0.625 at 80) is no longer dominated by fast (0.6 at 50): both and good on it
    assert front(con, "overall", "is_pareto") == {"fast", "slow", "good"}


def test_models_without_score_or_timing_are_not_placed(con):
    placed = {row[0] for row in con.execute("select model_key from model_pareto").fetchall()}
    assert placed == set(MODELS)
    devices = dict(
        con.execute("select model_key, device from model_pareto where scope = 'c1'").fetchall()
    )
    assert devices == {model: spec[0] for model, spec in MODELS.items()}
