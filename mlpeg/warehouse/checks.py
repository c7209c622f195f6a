"""The ``checks:`` of every benchmark.yml, run against a warehouse's views.

Each entry names a view of the benchmark's schema, a SQL boolean expression that must hold
for every row, and optionally columns that must be unique together. ``mlpeg check`` runs
them all; the test suite runs them on a warehouse holding every benchmark.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from mlpeg import catalog


@dataclass(frozen=True)
class CheckOutcome:
    """What one ``checks:`` entry found."""

    benchmark_key: str
    view: str
    expression: str
    n_rows: int
    n_violations: int
    unique: tuple[str, ...] = ()
    n_duplicates: int = 0
    error: str | None = None

    @property
    def passed(self) -> bool:
        """Whether every row holds the expression and the unique columns are unique."""
        return self.error is None and self.n_violations == 0 and self.n_duplicates == 0

    def describe(self) -> str:
        """One line saying what failed (or how many rows passed)."""
        if self.error:
            return f"{self.view}: {self.error}"
        if self.n_violations:
            return (
                f"{self.view}: {self.n_violations} of {self.n_rows} rows break {self.expression!r}"
            )
        if self.n_duplicates:
            return f"{self.view}: ({', '.join(self.unique)}) repeats in {self.n_duplicates} rows"
        return f"{self.view}: {self.n_rows} rows hold {self.expression!r}"


def run_checks(con: duckdb.DuckDBPyConnection, benchmark: catalog.Benchmark) -> list[CheckOutcome]:
    """Run every ``checks:`` entry of one benchmark on an open warehouse.

    Parameters
    ----------
    con
        An open connection (read-only is enough).
    benchmark
        The benchmark whose checks run.

    Returns
    -------
    list of CheckOutcome
        One per entry, in the order benchmark.yml lists them.
    """
    outcomes = []
    for check in benchmark.checks:
        view = f"{benchmark.schema_name}.{check['view']}"
        unique = tuple(check.get("unique", ()))
        duplicated = f"count(*) - count(distinct ({', '.join(unique)}))" if unique else "0"
        try:
            n_rows, n_violations, n_duplicates = con.execute(
                f"select count(*), count(*) filter (where ({check['expression']}) is not true), "
                f"{duplicated} from {view}"
            ).fetchone()
        except duckdb.Error as exc:
            outcomes.append(
                CheckOutcome(
                    benchmark.key,
                    view,
                    check["expression"],
                    0,
                    0,
                    unique,
                    error=str(exc).splitlines()[0],
                )
            )
            continue
        outcomes.append(
            CheckOutcome(
                benchmark.key,
                view,
                check["expression"],
                n_rows,
                n_violations,
                unique,
                n_duplicates,
            )
        )
    return outcomes
