"""Shared by the tests/test_materials_*.py files: run a benchmark's declared view checks."""

from __future__ import annotations

from mlpeg import catalog
from mlpeg.warehouse.checks import run_checks


def assert_declared_checks(con, benchmark_key: str) -> int:
    """Assert every ``checks`` entry of a benchmark.yml on an open warehouse.

    Returns the number of rows checked, so a test can insist that the views were not empty.
    """
    bench = catalog.get_benchmark(benchmark_key)
    assert bench.checks, f"{benchmark_key} declares no checks"
    outcomes = run_checks(con, bench)
    for outcome in outcomes:
        assert outcome.passed, outcome.describe()
    return sum(outcome.n_rows for outcome in outcomes)
