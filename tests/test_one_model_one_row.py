"""One model, one row: D3 is a property of the run, recorded, marked and scored per benchmark.

A small X23 fixture (real references and structures, hand-made energies): model-a is trained
with dispersion (its runs use none), model-c is not (X23 declares D3, so its run adds D3(BJ)).
Every expected number is arithmetic on the energies written here.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest
from ase.units import kJ, mol
from helpers import T0, prediction, predictions_part

from mlpeg import catalog
from mlpeg.calc.runner import write_references
from mlpeg.errors import ConfigError
from mlpeg.paths import REPO_ROOT
from mlpeg.warehouse.connect import reader, writer
from mlpeg.warehouse.ingest import ingest
from mlpeg.warehouse.schema import latest_version

KJ_PER_MOL = kJ / mol  # eV
D3_SETTINGS = {"damping": "bj", "functional": "pbe", "cutoff": 50.27, "backend": "dftd3"}
# ammonia (4 molecules): solid −10 eV, molecule −2 eV → E_latt = −10/4 + 2 = −0.5 eV
# urea (2 molecules): solid −9 eV, molecule −4 eV → E_latt = −9/2 + 4 = −0.5 eV
E_LATT = -0.5 / KJ_PER_MOL  # kJ/mol
REFS = {"ammonia": -38.1984, "urea": -108.5343}  # DMC, kJ/mol (test_x23 reads the table)
MAE = (abs(E_LATT - REFS["ammonia"]) + abs(E_LATT - REFS["urea"])) / 2
MAE_A = abs(E_LATT - REFS["ammonia"])  # model-a ran ammonia only


def _x23_rows(systems: list[str], shift: float = 0.0) -> list[dict]:
    tasks = {
        (t.system, t.role): t.atoms for t in catalog.get_benchmark("X23").calc_module().tasks()
    }
    energies = {"ammonia": (-10.0, -2.0), "urea": (-9.0, -4.0)}
    rows = []
    for system in systems:
        solid, molecule = energies[system]
        rows.append(prediction(system, "solid", tasks[(system, "solid")], solid + shift))
        rows.append(prediction(system, "molecule", tasks[(system, "molecule")], molecule))
    return rows


def _landing(root: Path) -> Path:
    """Parts as `mlpeg calc` writes them: model-c with D3(BJ) added, model-a without."""
    landing = root / "landing"
    bench = catalog.get_benchmark("X23")
    write_references(bench.calc_module().references(), bench, landing=landing)
    predictions_part(
        landing,
        _x23_rows(["ammonia", "urea"]),
        model="model-c",
        benchmark="X23",
        run_id="run-c",
        dispersion="d3bj",
        band="full",
        d3=D3_SETTINGS,
    )
    predictions_part(
        landing,
        _x23_rows(["ammonia"]),
        model="model-a",
        benchmark="X23",
        run_id="run-a",
        dispersion="none",
        band="full",
    )
    return landing


@pytest.fixture
def built(tmp_path, test_models, warehouse) -> Path:
    with writer(warehouse) as con:
        assert not ingest(con, [_landing(tmp_path)]).rejected
    return warehouse


def test_d3_scores_are_the_models_own_row(built):
    with reader(built) as con:
        board = con.sql("select model_key, molecular_crystal__marks from leaderboard").fetchall()
        scores = {
            row[0]: row[1:]
            for row in con.execute(
                "select model_key, score, dispersion, band from benchmark_scores "
                "where benchmark_key = 'X23'"
            ).fetchall()
        }
        mae = dict(con.execute("select model_key, value from x23.metrics").fetchall())
        d3 = con.execute("select d3->>'damping', d3->>'backend' from runs where run_id = 'run-c'")
        assert d3.fetchone() == ("bj", "dftd3")
    assert sorted(board) == [("model-a", None), ("model-c", "D3")]  # one row per model
    assert mae["model-c"] == pytest.approx(MAE, rel=1e-12)
    assert pytest.approx(35.1682, abs=1e-3) == MAE  # (10.0442 + 60.2917) / 2 kJ/mol
    assert scores["model-c"] == (pytest.approx(1 - MAE / 100), "d3bj", "full")  # good 0, bad 100
    assert scores["model-a"] == (pytest.approx(1 - MAE_A / 100), "none", "full")


def test_comparison_run_is_kept_but_not_scored(built, tmp_path):
    landing = tmp_path / "later"
    predictions_part(  # a later run of model-c without D3 (mlpeg calc --dispersion none)
        landing,
        _x23_rows(["ammonia", "urea"], shift=-4.0),
        model="model-c",
        benchmark="X23",
        run_id="run-c-none",
        dispersion="none",
        band="full",
        ended=T0 + timedelta(days=1),
    )
    with writer(built) as con:
        assert not ingest(con, [landing]).rejected
        score = con.execute(
            "select score, dispersion from benchmark_scores where model_key = 'model-c' "
            "and benchmark_key = 'X23'"
        ).fetchone()
        other = con.execute(
            "select run_id, dispersion, value from other_dispersion_runs join run_metrics "
            "using (run_id, model_key, benchmark_key)"
        ).fetchall()
    assert score == (pytest.approx(1 - MAE / 100), "d3bj")  # still the declared choice
    e_none = (-14.0 / 4 + 2.0) / KJ_PER_MOL, (-13.0 / 2 + 4.0) / KJ_PER_MOL
    mae_none = (abs(e_none[0] - REFS["ammonia"]) + abs(e_none[1] - REFS["urea"])) / 2
    assert other == [("run-c-none", "none", pytest.approx(mae_none, rel=1e-12))]


# -- a warehouse of the former layout (schema 5: "-D3" model keys) ------------------------------


def _downgrade(path: Path) -> None:
    """Rewrite a warehouse as the former code left it: model-c's D3 run under 'model-c-D3'.

    Schema 5 had no runs.dispersion/band; the models table held a 'model-c-D3' row
    (dispersion 'd3(bj)'); runs, predictions and the stored points and metrics used that key.
    """
    con = duckdb.connect(str(path))
    for table in ("runs", "predictions", "run_points", "run_metrics"):
        con.execute(f"update {table} set model_key = 'model-c-D3' where run_id = 'run-c'")
    con.execute(
        "insert into models select * replace ('model-c-D3' as model_key, 'd3(bj)' as dispersion) "
        "from models where model_key = 'model-c'"
    )
    con.execute("alter table runs drop column dispersion")
    con.execute("alter table runs drop column band")
    # later migrations (007: models.kind, accepts) are undone too: the file is at schema 5
    con.execute("alter table models drop column if exists kind")
    con.execute("alter table models drop column if exists accepts")
    con.execute("delete from schema_info where version >= 6")
    con.execute("delete from install_state")
    con.close()


def _contents(path: Path) -> dict:
    con = duckdb.connect(str(path), read_only=True)
    counts = {
        table: con.execute(f"select count(*) from {table}").fetchone()[0]
        for table in ("runs", "predictions", "run_points", "run_metrics", "structures", "parts")
    }
    metrics = con.execute(
        "select run_id, metric_key, value from run_metrics order by all"
    ).fetchall()
    keys = con.execute("select distinct model_key from predictions order by 1").fetchall()
    version = con.execute("select max(version) from schema_info").fetchone()[0]
    con.close()
    return {"counts": counts, "metrics": metrics, "keys": keys, "version": version}


SCORES = "select * exclude (band) from benchmark_scores order by all"  # former runs: no band


def test_migration_of_a_former_warehouse_loses_nothing(built):
    with reader(built) as con:
        before = con.execute(SCORES).fetchall()
    _downgrade(built)
    old = _contents(built)
    assert old["keys"] == [("model-a",), ("model-c-D3",)] and old["version"] == 5
    with writer(built) as con:  # the migration runs when a writer opens it
        runs = con.execute("select run_id, model_key, dispersion from runs order by 1").fetchall()
        models = con.execute("select model_key from models where model_key like 'model-c%'")
        assert models.fetchall() == [("model-c",)]
        after = con.execute(SCORES).fetchall()
    new = _contents(built)
    assert runs == [("run-a", "model-a", "none"), ("run-c", "model-c", "d3bj")]
    assert new["counts"] == old["counts"] and new["metrics"] == old["metrics"]
    assert new["keys"] == [("model-a",), ("model-c",)] and new["version"] == latest_version()
    assert after == before  # the same per-benchmark scores, now on model-c's own row


KILL_DURING_MIGRATION = """
import os, signal, sys
from pathlib import Path
from mlpeg.warehouse import cache, connect

def killed(*args, **kwargs):  # install calls it after the migration, in the same transaction
    os.kill(os.getpid(), signal.SIGKILL)

cache.refresh = killed
connect.connect_writer(Path(sys.argv[1]))
"""


def test_migration_killed_half_way_leaves_the_former_warehouse_and_finishes_later(built):
    _downgrade(built)
    old = _contents(built)
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", KILL_DURING_MIGRATION, str(built)], env=env, timeout=600
    )
    assert done.returncode == -signal.SIGKILL
    assert _contents(built) == old  # nothing half-migrated, nothing lost
    with writer(built):
        pass
    new = _contents(built)
    assert new["version"] == latest_version() and new["keys"] == [("model-a",), ("model-c",)]
    assert new["counts"] == old["counts"] and new["metrics"] == old["metrics"]


def test_former_d3_landing_part_loads_as_the_models_run(tmp_path, test_models, warehouse):
    landing = tmp_path / "landing"
    bench = catalog.get_benchmark("X23")
    write_references(bench.calc_module().references(), bench, landing=landing)
    predictions_part(  # as the former calc wrote it: key 'model-c-D3', D3 settings, no dispersion
        landing,
        _x23_rows(["ammonia", "urea"]),
        model="model-c-D3",
        benchmark="X23",
        run_id="run-old",
        d3=D3_SETTINGS,
    )
    with writer(warehouse) as con:
        assert not ingest(con, [landing]).rejected
        run = con.execute("select model_key, dispersion, band from runs").fetchall()
        keys = con.execute("select distinct model_key from predictions").fetchall()
        mae = con.execute("select value from x23.metrics where model_key = 'model-c'").fetchone()
    assert run == [("model-c", "d3bj", None)] and keys == [("model-c",)]
    assert mae[0] == pytest.approx(MAE, rel=1e-12)


# -- command line ----------------------------------------------------------------------------


def _cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mlpeg.cli", *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT), **(env or {})},
    )


def test_leaderboard_formats_round_trip_and_mark_d3(built):
    env = {"MLPEG_WAREHOUSE": str(built)}
    done = _cli("leaderboard", "--format", "csv", env=env)
    assert done.returncode == 0, done.stderr
    frame = pl.read_csv(done.stdout.encode())
    with reader(built) as con:
        expected = pl.from_arrow(con.sql("select * from leaderboard").to_arrow_table())
    assert frame.columns == expected.columns
    assert frame["model_key"].to_list() == expected["model_key"].to_list()
    assert frame["overall"].to_list() == pytest.approx(expected["overall"].to_list(), rel=1e-12)
    assert (
        frame["molecular_crystal__marks"].to_list()
        == expected["molecular_crystal__marks"].to_list()
    )
    table = _cli("leaderboard", "-c", "molecular_crystal", env=env).stdout
    row_c = next(line for line in table.splitlines() if "model-c" in line)
    assert f"{1 - MAE / 100:.3f}ᴰ³" in row_c
    rows = _cli("leaderboard", "-c", "molecular_crystal", "--format", "json", env=env).stdout
    x23 = pl.read_json(rows.encode()).filter(pl.col("benchmark_key") == "X23")
    assert dict(zip(x23["model_key"], x23["dispersion"], strict=True)) == {
        "model-a": "none",
        "model-c": "d3bj",
    }


def test_benchmarks_in_a_pipe_keep_whole_keys():
    done = _cli("benchmarks")  # stdout is a pipe here
    keys = [b.key for b in catalog.benchmarks().values()]
    assert all(key in done.stdout for key in keys)
    gscdb = [line for line in done.stdout.splitlines() if "GSCDB" in line]  # `| grep GSCDB`
    assert {k for k in keys if k.startswith("GSCDB")} == {
        word for line in gscdb for word in line.replace("│", " ").split() if "GSCDB138_" in word
    }
    frame = pl.read_csv(_cli("benchmarks", "--format", "csv").stdout.encode())
    assert frame["benchmark"].to_list() == keys
    markdown = _cli("benchmarks", "--format", "markdown").stdout.splitlines()
    assert markdown[0].startswith("| category | benchmark |") and len(markdown) == len(keys) + 2
    models = pl.read_json(_cli("models", "--format", "json").stdout.encode())
    assert "chgnet-0.3.0" in models["model"].to_list()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["-m", "model-a", "--dispersion", "d4"],
            "Unknown dispersion 'd4'; choose one of none, d3bj.",
        ),
        (
            ["-m", "model-c-D3"],
            "Model 'model-c-D3': D3 is not part of a model's name. Use 'model-c'",
        ),
        (["-m", "model-a", "--dispersion", "d3bj"], "Model 'model-a' was trained with dispersion"),
    ],
)
def test_bad_dispersion_input_gets_one_clear_error(args, message, test_models, tmp_path):
    landing_parent = tmp_path / "wh" / "mlpeg.duckdb"
    done = _cli(
        "calc",
        "-b",
        "X23",
        *args,
        "-w",
        str(landing_parent),
        env={"MLPEG_MODELS": str(test_models)},
    )
    assert done.returncode == 2
    assert done.stderr.count("error:") == 1 and message in " ".join(done.stderr.split())
    assert not (tmp_path / "wh" / "landing").exists()  # nothing ran


def test_benchmark_declaring_unknown_dispersion_or_no_quick_band(tmp_path):
    folder = tmp_path / "cat" / "b1"
    folder.mkdir(parents=True)
    (tmp_path / "cat" / "category.yml").write_text("key: cat\ntitle: C\nweight: 1\n")
    base = (
        "key: b1\ntitle: B\ncategory: cat\ndescription: d\nlevel_of_theory: x\n"
        "metrics: [{key: m, unit: eV, good: 0, bad: 1, weight: 1}]\n"
    )
    (folder / "benchmark.yml").write_text(base + "cost: quick\ndispersion: d4\n")
    with pytest.raises(ConfigError, match=r"b1/benchmark.yml: at dispersion: 'd4' is not one of"):
        catalog.benchmarks(tmp_path)
    catalog.clear_cache()
    (folder / "benchmark.yml").write_text(base + "cost: slow\n")
    with pytest.raises(ConfigError, match="a slow benchmark needs a quick band"):
        catalog.benchmarks(tmp_path)


# -- the app ---------------------------------------------------------------------------------


def test_app_shows_one_row_per_model_with_the_d3_marker(built, monkeypatch):
    from streamlit import dataframe_util
    from streamlit.testing.v1 import AppTest

    def display(at: AppTest) -> tuple:
        proto = at.dataframe[0].proto
        shown = dataframe_util.convert_arrow_bytes_to_pandas_df(
            proto.arrow_data.styler.display_values
        )
        return at.dataframe[0].value, shown

    monkeypatch.setenv("MLPEG_WAREHOUSE", str(built))
    app = AppTest.from_file(str(REPO_ROOT / "streamlit_app" / "app.py"), default_timeout=120)
    at = app.run()
    assert not at.exception, [e.value for e in at.exception]
    values, shown = display(at)
    assert sorted(values["Model"]) == ["model-a", "model-c"]  # no "model-c-D3" row
    row_c = list(values["Model"]).index("model-c")
    assert shown.loc[row_c, "Molecular Crystals"] == f"{1 - MAE / 100:.3f}ᴰ³"
    at.switch_page("app_pages/category.py")
    at.query_params["category"] = "molecular_crystal"
    at = at.run()
    assert not at.exception, [e.value for e in at.exception]
    values, shown = display(at)
    row_c, row_a = list(values["Model"]).index("model-c"), list(values["Model"]).index("model-a")
    assert shown.loc[row_c, "X23"] == f"{1 - MAE / 100:.3f}ᴰ³"
    assert shown.loc[row_a, "X23"] == f"{1 - MAE_A / 100:.3f}"  # trained with dispersion


def test_benchmark_page_shows_the_other_dispersion_beside_the_scored_run(
    built, tmp_path, monkeypatch
):
    from streamlit.testing.v1 import AppTest

    landing = tmp_path / "later"
    predictions_part(  # model-c without D3 on X23: a comparison run
        landing, _x23_rows(["ammonia", "urea"], shift=-4.0), model="model-c", benchmark="X23",
        run_id="run-c-none", dispersion="none", band="full", ended=T0 + timedelta(days=1),
    )  # fmt: skip
    with writer(built) as con:
        assert not ingest(con, [landing]).rejected
    monkeypatch.setenv("MLPEG_WAREHOUSE", str(built))
    at = AppTest.from_file(str(REPO_ROOT / "streamlit_app" / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("app_pages/benchmark.py")
    at.query_params["benchmark"] = "X23"
    at = at.run()
    assert not at.exception, [e.value for e in at.exception]
    tables = [t.value for t in at.dataframe if "Other choice" in t.value.columns]
    assert len(tables) == 1
    row = tables[0].set_index("Model").loc["model-c"]
    e_none = (-14.0 / 4 + 2.0) / KJ_PER_MOL, (-13.0 / 2 + 4.0) / KJ_PER_MOL
    mae_none = (abs(e_none[0] - REFS["ammonia"]) + abs(e_none[1] - REFS["urea"])) / 2
    assert row["Scored"] == pytest.approx(MAE) and row["Other choice"] == pytest.approx(mae_none)
    assert row["Other dispersion"] == "no D3"


def test_runs_lists_dispersion_band_and_the_scored_run(built, tmp_path):
    landing = tmp_path / "later"
    predictions_part(
        landing, _x23_rows(["ammonia"]), model="model-c", benchmark="X23",
        run_id="run-c-none", dispersion="none", band="quick", ended=T0 + timedelta(days=1),
    )  # fmt: skip
    with writer(built) as con:
        assert not ingest(con, [landing]).rejected
    done = _cli("runs", "-m", "model-c", "--format", "csv", env={"MLPEG_WAREHOUSE": str(built)})
    assert done.returncode == 0, done.stderr
    runs = (
        pl.read_csv(done.stdout.encode()).select("run_id", "dispersion", "band", "is_scored").rows()
    )
    assert runs == [("run-c-none", "none", "quick", False), ("run-c", "d3bj", "full", True)]
