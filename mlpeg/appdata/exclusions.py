"""Every single-element filter of a benchmark, evaluated in one pass and kept for the app.

Excluding an element changes which points count, so the stored per-run rows no longer
apply and the benchmark's own views must run again with the filter. DuckDB plans those
views anew for every query (tens of milliseconds per benchmark), which made excluding a
common element such as H cost seconds. Most filters hold one element per benchmark, even
when several are excluded across benchmarks (Fe in one, H in another). So the app
evaluates, once per warehouse version and in the background, each benchmark as if each
of its elements alone were excluded.

It does so in one query per view: with ``mlpeg_exclusion_scenarios`` set,
``benchmark_predictions`` holds one copy of the predictions per listed element, with that
element's structures marked ``filtered`` and the model key suffixed with
``chr(31) || element``. The benchmark's views then compute every scenario at once, as if
each were another model. The results are what the views return with that element
excluded (the scoring stays in SQL), up to the order DuckDB adds floating-point numbers
in: the Δ-gauge of the EOS benchmark, a near-cancelling integral, moves in its 8th digit.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

#: Set on a cursor to evaluate the listed single-element filters (see the module docstring).
SCENARIO_VARIABLE = "mlpeg_exclusion_scenarios"

#: Scenarios multiply a benchmark's predictions by its element count; above this many rows
#: the benchmark is left to the live path (a diatomics benchmark over 89 elements, say).
MAX_SCENARIO_ROWS = 20_000_000

#: Variables that would change what the scenarios mean; cleared while evaluating them.
_SELECTION_VARIABLES = ("mlpeg_excluded_elements", "mlpeg_as_of", "mlpeg_run_ids")

_SPLIT = "split_part(model_key, chr(31), 2) as element, split_part(model_key, chr(31), 1)"


@dataclass(frozen=True)
class ExclusionResults:
    """One benchmark's metrics and point-state counts under each single-element filter.

    Attributes
    ----------
    elements
        The elements evaluated (every element of the benchmark's selected predictions).
    by_element
        Per element, the benchmark's (metrics, point-state counts) with that element
        excluded, as the scoring inputs hold them: ``benchmark_key, model_key, metric_key,
        value`` and ``benchmark_key, model_key, state, n_points``.
    """

    elements: tuple[str, ...]
    by_element: dict[str, tuple[pa.Table, pa.Table]]

    def for_element(self, element: str) -> tuple[pa.Table, pa.Table]:
        """Return (metrics, point-state counts) with ``element`` excluded."""
        return self.by_element[element]


def _split(table: pa.Table, benchmark_key: str, elements: list[str]) -> dict[str, pa.Table]:
    """Split scenario rows by their ``element`` column, adding ``benchmark_key`` first."""
    parts = {}
    for element in elements:
        rows = table.filter(pc.equal(table["element"], element)).drop_columns(["element"])
        key = pa.array([benchmark_key] * rows.num_rows, pa.string())
        parts[element] = rows.add_column(0, "benchmark_key", key)
    return parts


def evaluate(
    cursor: duckdb.DuckDBPyConnection, benchmark_key: str, schema_name: str, elements: list[str]
) -> ExclusionResults:
    """Evaluate one benchmark's views once per element, as if that element alone were excluded.

    Parameters
    ----------
    cursor
        A cursor on the warehouse (read-only is fine); its selection variables are cleared,
        so the latest runs are read, and the scenario variable is reset afterwards.
    benchmark_key
        The benchmark (its key labels the rows).
    schema_name
        The benchmark's schema (it holds its ``points`` and ``metrics`` views).
    elements
        The elements to evaluate.

    Returns
    -------
    ExclusionResults
        The benchmark's metrics and point-state counts per excluded element.
    """
    for name in _SELECTION_VARIABLES:
        cursor.execute(f"reset variable {name}")
    cursor.execute(f"set variable {SCENARIO_VARIABLE} = ?::varchar[]", [list(elements)])
    try:
        metrics = cursor.sql(
            f"select {_SPLIT} as model_key, metric_key, value from {schema_name}.metrics"
        ).to_arrow_table()
        states = cursor.sql(
            f"select {_SPLIT} as model_key, state, count(*) as n_points "
            f"from {schema_name}.points group by all"
        ).to_arrow_table()
    finally:
        cursor.execute(f"reset variable {SCENARIO_VARIABLE}")
    metrics_of = _split(metrics, benchmark_key, elements)
    states_of = _split(states, benchmark_key, elements)
    return ExclusionResults(
        tuple(elements),
        {element: (metrics_of[element], states_of[element]) for element in elements},
    )
