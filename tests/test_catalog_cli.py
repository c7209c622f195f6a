"""Benchmark catalogue validation, schema install atomicity, and the CLI's user errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest
from helpers import prediction, predictions_part
from typer.testing import CliRunner

from mlpeg import catalog
from mlpeg.cli import app
from mlpeg.errors import ConfigError
from mlpeg.paths import REPO_ROOT
from mlpeg.warehouse.connect import writer
from mlpeg.warehouse.ingest import ingest
from mlpeg.warehouse.schema import latest_version, schema_version

runner = CliRunner()


@pytest.fixture
def bench_copy(tmp_path, monkeypatch) -> Path:
    """A copy of the X23 folder in a private benchmarks tree."""
    root = tmp_path / "benchmarks"
    shutil.copytree(REPO_ROOT / "benchmarks" / "molecular_crystal", root / "molecular_crystal")
    monkeypatch.setenv("MLPEG_BENCHMARKS", str(root))
    catalog.clear_cache()
    return root / "molecular_crystal" / "X23"


def test_every_shipped_benchmark_validates():
    benchmarks = catalog.benchmarks()
    assert "X23" in benchmarks
    for bench in benchmarks.values():
        assert bench.folder.name == bench.key
        assert (bench.folder / "calc.py").is_file()
        assert bench.views_sql.is_file() or bench.kind != "custom", bench.key


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda t: t.replace("good: 0.0", "good: zero"),
            "at metrics/0/good: 'zero' is not of type",
        ),
        (lambda t: t.replace("cost: quick", "cost: instant"), "at cost: 'instant' is not one of"),
        (lambda t: t + "colour: blue\n", "Additional properties are not allowed ('colour'"),
        (lambda t: t.replace("key: X23", "key: X24"), "key 'X24' must equal the folder name 'X23'"),
        (lambda t: t.replace("metrics:", "metrics: [\n"), "invalid YAML"),
    ],
)
def test_malformed_benchmark_yml(bench_copy, edit, message):
    yml = bench_copy / "benchmark.yml"
    yml.write_text(edit(yml.read_text()))
    with pytest.raises(ConfigError) as info:
        catalog.benchmarks()
    assert str(info.value).startswith(str(yml)) and message in str(info.value)


def test_broken_views_sql_changes_nothing(bench_copy, warehouse, tmp_path, test_models):
    from ase.build import molecule

    predictions_part(
        tmp_path / "l",
        [prediction("urea", "molecule", molecule("H2O"), -1.0)],
        model="model-a",
        benchmark="X23",
    )
    with writer(warehouse) as con:
        ingest(con, [tmp_path / "l"])
    (bench_copy / "views.sql").write_text("create or replace view x23.points as selec 1;")
    catalog.clear_cache()
    with pytest.raises(ConfigError, match=r"X23/views.sql: Parser Error"):
        writer(warehouse).__enter__()
    con = duckdb.connect(str(warehouse), read_only=True)
    assert con.execute("select count(*) from predictions").fetchone()[0] == 1
    assert con.execute("select count(*) from x23.points").fetchone()[0] == 0  # old view intact
    assert schema_version(con) == latest_version()
    con.close()


def test_views_sql_without_its_metrics_view_is_one_clear_error(bench_copy, warehouse):
    views = bench_copy / "views.sql"
    text = views.read_text()
    assert "create or replace view x23.metrics as" in text
    views.write_text(text.replace("view x23.metrics as", "view x23.metrics_elsewhere as"))
    catalog.clear_cache()
    with pytest.raises(ConfigError) as info:
        writer(warehouse).__enter__()
    assert str(info.value) == f"{views}: must create the view x23.metrics."


def test_cli_unknown_model_and_benchmark(tmp_path):
    result = runner.invoke(app, ["calc", "-m", "gpt-9", "-w", str(tmp_path / "w.duckdb")])
    assert isinstance(result.exception, ConfigError)
    assert str(result.exception).startswith("Unknown model 'gpt-9'. Known models:")
    result = runner.invoke(app, ["calc", "-b", "X99", "-w", str(tmp_path / "w.duckdb")])
    assert str(result.exception).startswith("Unknown benchmark 'X99'. Known benchmarks: ")


def test_cli_main_prints_one_line_and_exits_2(tmp_path, capsys, monkeypatch):
    from mlpeg import cli

    monkeypatch.setattr("sys.argv", ["mlpeg", "leaderboard", "-w", str(tmp_path / "none.duckdb")])
    with pytest.raises(SystemExit) as exit_info:
        cli.main()
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "error: No warehouse at" in err and "Traceback" not in err


def test_cli_sql_is_read_only_and_formats(tmp_path, test_models):
    from ase.build import molecule

    wh = tmp_path / "wh" / "mlpeg.duckdb"
    predictions_part(
        tmp_path / "l",
        [prediction("urea", "molecule", molecule("H2O"), -1.5)],
        model="model-a",
        benchmark="X23",
    )
    assert runner.invoke(app, ["ingest", str(tmp_path / "l"), "-w", str(wh)]).exit_code == 0
    result = runner.invoke(app, ["sql", "delete from predictions", "-w", str(wh)])
    assert "read-only" in str(result.exception).lower()
    result = runner.invoke(
        app, ["sql", "select energy, state from predictions", "-w", str(wh), "--format", "json"]
    )
    assert json.loads(result.stdout) == [{"energy": -1.5, "state": "ok"}]
    out = tmp_path / "p.parquet"
    result = runner.invoke(
        app,
        ["sql", "select system from predictions", "-w", str(wh), "-f", "parquet", "-o", str(out)],
    )
    assert result.exit_code == 0
    import polars as pl

    assert pl.read_parquet(out)["system"].to_list() == ["urea"]
    result = runner.invoke(app, ["sql", "select * from read_csv('/etc/passwd')", "-w", str(wh)])
    assert result.exception is not None and "passwd" not in result.stdout


def test_cli_ingest_exit_code_says_rejected(tmp_path, test_models):
    wh = tmp_path / "wh" / "mlpeg.duckdb"
    (tmp_path / "l").mkdir()
    (tmp_path / "l" / "junk.parquet").write_bytes(b"junk")
    result = runner.invoke(app, ["ingest", str(tmp_path / "l"), "-w", str(wh)])
    assert result.exit_code == 1
    assert "rejected junk.parquet: not a readable Parquet file" in " ".join(result.stdout.split())
    assert "1 parts: 0 loaded (0 rows), 0 already in, 1 rejected." in result.stdout
