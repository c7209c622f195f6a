"""Every `checks:` entry of every benchmark.yml, on a warehouse holding every benchmark.

The warehouse is built the way a user builds one: `mlpeg calc` of every benchmark's quick
band with the `mock` model (zero energy, forces and stress, so it costs nothing but the
structures), then `mlpeg ingest`. The checks then test the views and the references on
real data: uniqueness of the grain, subsets, signs of references, counts of species.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import duckdb
import pytest
from conftest import MIRROR
from typer.testing import CliRunner

from mlpeg import catalog
from mlpeg.cli import app
from mlpeg.warehouse.checks import run_checks
from mlpeg.warehouse.maintenance import check

BENCHMARKS = sorted(catalog.benchmarks())


@pytest.fixture(scope="module")
def every_benchmark(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("checks") / "mlpeg.duckdb"
    runner = CliRunner()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLPEG_DATA_MIRROR", str(MIRROR))
        patch.setenv("MLPEG_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))
        categories = [arg for key in catalog.categories() for arg in ("-c", key)]
        calc = runner.invoke(app, ["calc", *categories, "-m", "mock", "--warehouse", str(path)])
        assert calc.exit_code == 0, calc.output + repr(calc.exception)
        ingest = runner.invoke(app, ["ingest", "--warehouse", str(path)])
        assert ingest.exit_code == 0, ingest.output + repr(ingest.exception)
    return path


@pytest.mark.parametrize("key", BENCHMARKS)
def test_declared_checks_hold(every_benchmark, key):
    bench = catalog.get_benchmark(key)
    assert bench.checks, f"{key} declares no checks"
    with duckdb.connect(str(every_benchmark), read_only=True) as con:
        outcomes = run_checks(con, bench)
    for outcome in outcomes:
        assert outcome.passed, outcome.describe()
        assert outcome.n_rows > 0, f"{outcome.view} is empty: the check tested nothing"


def test_a_broken_check_is_reported_with_its_rows(every_benchmark):
    s22 = catalog.get_benchmark("S22")
    wrong = dataclasses.replace(
        s22, checks=({"view": "points", "expression": "ref > 0", "unique": ["subset"]},)
    )
    with duckdb.connect(str(every_benchmark), read_only=True) as con:
        (outcome,) = run_checks(con, wrong)
    # Every S22 interaction energy is negative (bound dimers), so all 22 rows break it,
    # and three subsets over 22 rows repeat 19 times.
    assert (outcome.n_rows, outcome.n_violations, outcome.n_duplicates) == (22, 22, 19)
    assert "22 of 22 rows break 'ref > 0'" in outcome.describe()


def test_mlpeg_check_reports_every_benchmark(every_benchmark):
    findings = {finding.what: finding for finding in check(every_benchmark)}
    for key in BENCHMARKS:
        finding = findings[f"checks of {key}"]
        assert finding.level == "ok", finding.detail
        n_rows = re.fullmatch(r"\d+ checks? holds? on ([\d,]+) rows", finding.detail)
        assert n_rows and int(n_rows.group(1).replace(",", "")) > 0, finding.detail
