"""Shared by the tests/test_materials_*.py files: run a benchmark's declared view checks."""

from __future__ import annotations

from mlpeg import catalog


def assert_declared_checks(con, benchmark_key: str) -> int:
    """Assert every ``checks`` entry of a benchmark.yml on an open warehouse.

    Returns the number of rows checked, so a test can insist that the views were not empty.
    """
    bench = catalog.get_benchmark(benchmark_key)
    assert bench.checks, f"{benchmark_key} declares no checks"
    n_rows = 0
    for check in bench.checks:
        view = f"{bench.schema_name}.{check['view']}"
        n_rows += con.execute(f"select count(*) from {view}").fetchone()[0]
        (violations,) = con.execute(
            f"select count(*) from {view} where not ({check['expression']})"
        ).fetchone()
        assert violations == 0, f"{view}: {violations} rows break {check['expression']!r}"
        if check.get("unique"):
            columns = ", ".join(check["unique"])
            (duplicates,) = con.execute(
                f"select count(*) - count(distinct ({columns})) from {view}"
            ).fetchone()
            assert duplicates == 0, f"{view}: ({columns}) is not unique"
    return n_rows
