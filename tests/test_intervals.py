"""Bootstrap intervals against a numpy computation of the same fixed-seed resamples.

A tiny tree (category ``cat``): ``alpha`` (metrics mae w=1 on [0, 1], maxe w=1 on [0, 2];
six systems with hand-chosen errors), ``flat`` (every error 0.2: every resample gives the
same MAE), ``single`` (one metric per system, which a resample can lose or repeat) and
``md`` (declares ``no_intervals``). numpy redraws the systems of each resample with an
independent implementation of the documented draw, recomputes the metric, the scores and
their weighted means, and must find the stored values and intervals.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from ase import Atoms
from helpers import prediction, predictions_part, references_part
from typer.testing import CliRunner

from mlpeg import catalog
from mlpeg.cli import app
from mlpeg.models import registry
from mlpeg.warehouse import intervals
from mlpeg.warehouse.connect import connect_writer, reader, writer
from mlpeg.warehouse.ingest import ingest

POINTS = """
create schema if not exists {schema};
-- grain: one row per (model, system)
create or replace view {schema}.points as
select p.model_key, p.system, 'energy' as quantity, p.energy as pred, r.value as ref,
    'eV' as unit, p.state, p.structure_id,
from benchmark_predictions as p
join reference_values as r
    on r.benchmark_key = '{key}' and r.system = p.system and r.quantity = 'energy'
where p.benchmark_key = '{key}';
"""

METRICS = {
    "alpha": """
create or replace view alpha.metrics as
select model_key, 'mae' as metric_key, avg(abs(pred - ref)) filter (where state = 'ok') as value
from alpha.points group by model_key
union all
select model_key, 'maxe', max(abs(pred - ref)) filter (where state = 'ok')
from alpha.points group by model_key;
""",
    "flat": """
create or replace view flat.metrics as
select model_key, 'mae' as metric_key, avg(abs(pred - ref)) as value
from flat.points group by model_key;
""",
    "single": """
create or replace view single.metrics as
select model_key, case system when 's0' then 's0 error' else 's1 error' end as metric_key,
    abs(pred - ref) as value,
from single.points;
""",
    "md": """
create or replace view md.metrics as
select model_key, 'mae' as metric_key, avg(abs(pred - ref)) as value
from md.points group by model_key;
""",
}

YML = """key: {key}
title: {key}
category: cat
description: test benchmark
level_of_theory: test
cost: quick
{extra}metrics:
{metrics}
"""

METRIC_YML = "  - {{key: {key}, unit: eV, good: 0.0, bad: {bad}, weight: 1}}"
ALPHA_ERRORS = {
    "model-a": [0.1, 0.5, 0.2, 0.05, 0.9, 0.3],
    "model-b": [0.4, 0.35, 0.6, 0.2, 0.25, 1.1],
}
SEED = intervals.DEFAULT_SEED
R = intervals.DEFAULT_RESAMPLES
H2 = Atoms("H2", positions=[[0, 0, 0], [0, 0, 0.74]])


def _write_tree(root: Path) -> Path:
    (root / "cat").mkdir(parents=True)
    (root / "cat" / "category.yml").write_text("key: cat\ntitle: Cat\nweight: 1\n")
    metrics = {
        "alpha": [("mae", 1.0), ("maxe", 2.0)],
        "flat": [("mae", 1.0)],
        "single": [("s0 error", 1.0), ("s1 error", 1.0)],
        "md": [("mae", 1.0)],
    }
    for key, keys in metrics.items():
        folder = root / "cat" / key
        folder.mkdir()
        extra = "no_intervals: trajectory averages\n" if key == "md" else ""
        listed = "\n".join(METRIC_YML.format(key=m, bad=bad) for m, bad in keys)
        (folder / "benchmark.yml").write_text(YML.format(key=key, extra=extra, metrics=listed))
        (folder / "calc.py").write_text("def tasks():\n    return []\n")
        (folder / "views.sql").write_text(POINTS.format(schema=key, key=key) + METRICS[key])
    return root


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("intervals")
    _write_tree(root / "benchmarks")
    (root / "models.yml").write_text(
        "model-a: {family: mock, checkpoint: zeros, trained_on_dispersion: true}\n"
        "model-b: {family: mock, checkpoint: zeros, trained_on_dispersion: true}\n"
    )
    return root


@pytest.fixture(autouse=True)
def _catalogue(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLPEG_BENCHMARKS", str(tree / "benchmarks"))
    monkeypatch.setenv("MLPEG_MODELS", str(tree / "models.yml"))
    monkeypatch.delenv("MLPEG_BOOTSTRAP_RESAMPLES", raising=False)
    monkeypatch.delenv("MLPEG_BOOTSTRAP_SEED", raising=False)
    catalog.clear_cache()
    registry.clear_cache()


def _parts(landing: Path) -> None:
    systems = [f"s{i}" for i in range(6)]
    for key in ("alpha", "flat", "single", "md"):
        n = 2 if key == "single" else 6
        references_part(landing, key, [(s, "energy", 1.0) for s in systems[:n]])
    for model, errors in ALPHA_ERRORS.items():
        for key in ("alpha", "flat", "single", "md"):
            n = 2 if key == "single" else 6
            shown = errors if key in ("alpha", "md") else [0.2] * n
            rows = [
                prediction(s, "x", H2, 1.0 + e) for s, e in zip(systems[:n], shown, strict=True)
            ]
            predictions_part(landing, rows, model=model, benchmark=key, run_id=f"{model}-{key}")


@pytest.fixture(scope="module")
def warehouse_path(tree: Path) -> Path:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLPEG_BENCHMARKS", str(tree / "benchmarks"))
        patch.setenv("MLPEG_MODELS", str(tree / "models.yml"))
        patch.delenv("MLPEG_BOOTSTRAP_RESAMPLES", raising=False)  # the default, 1,000
        catalog.clear_cache()
        registry.clear_cache()
        _parts(tree / "landing")
        path = tree / "wh" / "mlpeg.duckdb"
        with writer(path) as con:
            report = ingest(con, [tree / "landing"])
        assert not report.rejected
        catalog.clear_cache()
        registry.clear_cache()
    return path


# -- numpy, written from the documented draw --------------------------------------------------

MASK = np.uint64(0xFFFFFFFF)


def _fmix32(x: np.ndarray) -> np.ndarray:
    x = x & MASK
    x = ((x ^ (x >> np.uint64(16))) * np.uint64(0x85EBCA6B)) & MASK
    x = ((x ^ (x >> np.uint64(13))) * np.uint64(0xC2B2AE35)) & MASK
    return x ^ (x >> np.uint64(16))


def drawn_indices(benchmark_key: str, n_systems: int, seed: int = SEED, n: int = R) -> np.ndarray:
    """(resample, draw) → index into the run's systems sorted by name."""
    digest = hashlib.md5(f"{seed}:{benchmark_key}".encode()).digest()
    salt = np.uint64(int.from_bytes(digest, "little") % 2**32)
    resamples = np.arange(n, dtype=np.uint64)[:, None]
    draws = np.arange(n_systems, dtype=np.uint64)[None, :]
    return (_fmix32(_fmix32(salt ^ resamples) ^ draws) % np.uint64(n_systems)).astype(int)


def resampled_alpha(model: str) -> tuple[np.ndarray, np.ndarray]:
    """MAE and max error of every resample of ``model`` on alpha."""
    errors = np.array(ALPHA_ERRORS[model])[drawn_indices("alpha", 6)]
    return errors.mean(axis=1), errors.max(axis=1)


def score(value: np.ndarray, good: float, bad: float) -> np.ndarray:
    return np.clip((value - bad) / (good - bad), 0.0, 1.0)


def rows_of(con, sql: str, args: list | None = None) -> list[dict]:
    result = con.sql(sql, params=args or None).to_arrow_table()
    return result.to_pylist()


# -- tests ------------------------------------------------------------------------------------


def test_draw_in_sql_equals_numpy(warehouse_path):
    with reader(warehouse_path) as con:
        sql = con.execute(
            "select bootstrap_index(bootstrap_salt(?, 'alpha'), r, j, 6) "
            "from range(3) t(r), range(6) u(j) order by r, j",
            [SEED],
        ).fetchall()
    assert np.array([v for (v,) in sql]).reshape(3, 6).tolist() == (
        drawn_indices("alpha", 6, n=3).tolist()
    )


def test_fixed_seed_resamples_equal_numpy(warehouse_path):
    with reader(warehouse_path) as con:
        stored = rows_of(
            con,
            "select model_key, metric_key, resample, value from metric_resamples "
            "where benchmark_key = 'alpha' order by all",
        )
        stored_intervals = rows_of(
            con,
            "select model_key, metric_key, value, lo, hi, n_systems from run_metric_intervals "
            "where benchmark_key = 'alpha'",
        )
    for model in ALPHA_ERRORS:
        mae, maxe = resampled_alpha(model)
        for metric, expected in (("mae", mae), ("maxe", maxe)):
            got = [
                r["value"] for r in stored if r["model_key"] == model and r["metric_key"] == metric
            ]
            assert len(got) == R
            np.testing.assert_allclose(got, expected, rtol=1e-12)
            (row,) = [
                r for r in stored_intervals if r["model_key"] == model and r["metric_key"] == metric
            ]
            lo, hi = np.quantile(expected, [0.025, 0.975])
            assert (row["lo"], row["hi"]) == pytest.approx((lo, hi), rel=1e-12)
            assert row["n_systems"] == 6


def test_score_intervals_equal_numpy(warehouse_path):
    with reader(warehouse_path) as con:
        found = {
            (r["level"], r["model_key"], r["benchmark_key"], r["metric_key"]): r
            for r in rows_of(con, "select * from score_intervals")
        }
    for model in ALPHA_ERRORS:
        mae, maxe = resampled_alpha(model)
        mae_score, maxe_score = score(mae, 0.0, 1.0), score(maxe, 0.0, 2.0)
        alpha = (mae_score + maxe_score) / 2
        # flat and md hold their value: flat is 0.8 in every resample, md has no resamples
        md_point = 1 - np.mean(ALPHA_ERRORS[model])
        single = 1 - 0.2  # both per-system metrics are held at their value
        category = (alpha + 0.8 + single + md_point) / 4
        expected = {
            ("metric", model, "alpha", "mae"): mae_score,
            ("metric", model, "alpha", "maxe"): maxe_score,
            ("benchmark", model, "alpha", None): alpha,
            ("overall", model, None, None): category,
        }
        for key, draws in expected.items():
            lo, hi = np.quantile(draws, [0.025, 0.975])
            assert (found[key]["lo"], found[key]["hi"]) == pytest.approx((lo, hi), rel=1e-9), key
        (cat,) = [r for k, r in found.items() if k[0] == "category" and k[1] == model]
        assert (cat["lo"], cat["hi"]) == pytest.approx(
            tuple(np.quantile(category, [0.025, 0.975])), rel=1e-9
        )
        assert cat["is_partial"] and not found[("benchmark", model, "alpha", None)]["is_partial"]


def test_all_equal_points_give_zero_width(warehouse_path):
    with reader(warehouse_path) as con:
        flat = rows_of(
            con,
            "select level, score, lo, hi from score_intervals where benchmark_key = 'flat'",
        )
    assert {row["level"] for row in flat} == {"metric", "benchmark"}
    for row in flat:
        assert row["lo"] == pytest.approx(0.8) and row["hi"] == pytest.approx(0.8)
        assert row["score"] == pytest.approx(0.8)


def test_intervals_contain_the_point_estimate(warehouse_path):
    with reader(warehouse_path) as con:
        scored = rows_of(con, "select * from score_intervals where lo is not null")
    assert len(scored) >= 12
    for row in scored:
        assert row["lo"] - 1e-12 <= row["score"] <= row["hi"] + 1e-12, row


def test_metrics_without_interval_say_why(warehouse_path):
    with reader(warehouse_path) as con:
        notes = rows_of(
            con,
            "select benchmark_key, metric_key, level, lo, note from score_intervals "
            "where model_key = 'model-a' and benchmark_key in ('single', 'md')",
        )
    by_key = {(r["level"], r["benchmark_key"], r["metric_key"]): r for r in notes}
    # a resample without s0 has no 's0 error'; one with s0 twice has two 's1 error' rows
    assert by_key[("metric", "single", "s0 error")]["note"] == intervals.REASON_MISSING
    assert by_key[("metric", "single", "s1 error")]["note"] == intervals.REASON_PER_SYSTEM
    assert by_key[("metric", "md", "mae")]["note"] == "trajectory averages"
    assert by_key[("benchmark", "md", None)]["note"] == (
        "no metric could be resampled: trajectory averages"
    )
    assert all(r["lo"] is None for r in notes)


def test_live_path_equals_the_stored_cache_and_follows_thresholds(warehouse_path):
    query = "select * from score_intervals order by all"
    with reader(warehouse_path) as con:
        cached = rows_of(con, query)
        con.execute("set variable mlpeg_live = true")
        _same(rows_of(con, query), cached)
        con.execute("reset variable mlpeg_live")
        con.execute(
            "set variable mlpeg_metric_overrides = [{'benchmark_key': 'alpha', "
            "'metric_key': 'mae', 'good': 0.1, 'bad': 0.5, 'weight': null}]"
        )
        (row,) = rows_of(
            con,
            "select lo, hi from score_intervals where level = 'metric' "
            "and model_key = 'model-b' and benchmark_key = 'alpha' and metric_key = 'mae'",
        )
        con.execute("set variable mlpeg_excluded_elements = ['H']")
        filtered = rows_of(con, "select lo, note from score_intervals where level = 'overall'")
    expected = np.quantile(score(resampled_alpha("model-b")[0], 0.1, 0.5), [0.025, 0.975])
    assert (row["lo"], row["hi"]) == pytest.approx(tuple(expected), rel=1e-9)
    assert all(r["lo"] is None for r in filtered)


def _same(left: list[dict], right: list[dict]) -> None:
    assert len(left) == len(right)
    for a, b in zip(left, right, strict=True):
        assert a.keys() == b.keys()
        for column in a:
            if isinstance(a[column], float):
                assert a[column] == pytest.approx(b[column], rel=1e-12), column
            else:
                assert a[column] == b[column], column


def test_update_resamples_only_what_changed(warehouse_path, tmp_path):
    copy = tmp_path / "mlpeg.duckdb"
    copy.write_bytes(warehouse_path.read_bytes())
    con = connect_writer(copy)
    try:
        assert intervals.update(con).n_runs == 0  # nothing changed since the ingest
        con.execute("delete from run_bootstrap where run_id = 'model-a-alpha'")
        report = intervals.update(con)
        assert (report.n_runs, report.n_benchmarks) == (1, 1)
        report = intervals.update(con, settings=intervals.BootstrapSettings(n_resamples=10))
        assert report.n_runs == 8  # new settings: every run again
        counts = con.execute("select count(distinct resample) from run_metric_resamples").fetchall()
    finally:
        con.close()
    assert counts == [(10,)]


def test_bad_settings_are_one_clear_error(monkeypatch):
    monkeypatch.setenv("MLPEG_BOOTSTRAP_RESAMPLES", "many")
    with pytest.raises(Exception, match="MLPEG_BOOTSTRAP_RESAMPLES must be"):
        intervals.BootstrapSettings.from_environment()
    with pytest.raises(Exception, match="0 \\(off\\) to 65535"):
        intervals.BootstrapSettings(n_resamples=70000)


def test_cli_leaderboard_ci(warehouse_path):
    runner = CliRunner()
    table = runner.invoke(app, ["leaderboard", "--ci", "-w", str(warehouse_path)])
    assert table.exit_code == 0, table.output
    with reader(warehouse_path) as con:
        ((lo, hi, point),) = con.execute(
            "select lo, hi, score from score_intervals "
            "where level = 'overall' and model_key = 'model-a'"
        ).fetchall()
    assert f"{point:.3f} ±{(hi - lo) / 2:.3f}" in table.output
    assert "1,000 resamples, seed 19" in " ".join(table.output.split())
    as_json = runner.invoke(app, ["leaderboard", "--ci", "-w", str(warehouse_path), "-f", "json"])
    (row,) = [r for r in json.loads(as_json.output) if r["model_key"] == "model-a"]
    assert (row["overall__lo"], row["overall__hi"]) == pytest.approx((lo, hi))
    assert row["cat__lo"] == pytest.approx(lo)  # one category: the overall is its score
    as_csv = runner.invoke(app, ["leaderboard", "--ci", "-w", str(warehouse_path), "-f", "csv"])
    assert as_csv.output.splitlines()[0].startswith("model_key,overall,overall__lo,overall__hi")
    category = runner.invoke(
        app, ["leaderboard", "--ci", "-c", "cat", "-w", str(warehouse_path), "-f", "markdown"]
    )
    assert "| score__lo | score__hi |" in category.output
    plain = runner.invoke(app, ["leaderboard", "-w", str(warehouse_path), "-f", "csv"])
    assert "__lo" not in plain.output


def test_a_metrics_view_failing_on_resamples_costs_only_its_intervals(warehouse_path, tmp_path):
    copy = tmp_path / "mlpeg.duckdb"
    copy.write_bytes(warehouse_path.read_bytes())
    con = connect_writer(copy)
    try:
        con.execute(
            "create or replace view flat.metrics as select model_key, 'mae' as metric_key, "
            "avg(abs(pred - ref)) + max(case when contains(system, chr(30)) "
            "then error('a copied system') else 0 end) as value from flat.points group by all"
        )
        con.execute("delete from run_bootstrap where run_id like '%-flat' or run_id like '%-alpha'")
        before = con.execute(
            "select count(*) from metric_resamples where benchmark_key = 'alpha'"
        ).fetchall()
        assert intervals.update(con).n_runs == 4
        reasons = dict(
            con.execute(
                "select benchmark_key, any_value(reason) from run_metric_intervals "
                "where model_key = 'model-a' and benchmark_key in ('flat', 'alpha') group by all"
            ).fetchall()
        )
        after = con.execute(
            "select count(*) from metric_resamples where benchmark_key = 'alpha'"
        ).fetchall()
    finally:
        con.close()
    assert reasons["flat"].startswith("its metrics view fails on resampled points")
    assert "a copied system" in reasons["flat"]
    assert reasons["alpha"] is None and after == before == [(4 * R,)]
