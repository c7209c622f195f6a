"""The user's scoring choices as one hashable value, and how they reach the SQL views.

The views read their parameters with ``getvariable`` (see ``sql/macros.sql``); a connection
gets them with ``SET VARIABLE``, which works on read-only connections. Empty choices are
reset, so a connection reused for another user never keeps the previous user's filter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb


@dataclass(frozen=True)
class MetricOverride:
    """New good/bad thresholds or weight for one metric; ``None`` keeps the YAML value."""

    benchmark_key: str
    metric_key: str
    good: float | None = None
    bad: float | None = None
    weight: float | None = None


@dataclass(frozen=True)
class ScoringParams:
    """Everything a user can change that alters what the views return.

    Parameters
    ----------
    excluded_elements
        Chemical symbols; points whose structures contain one are ``filtered``.
    metric_overrides
        Threshold and weight changes, one per metric.
    benchmark_weights
        ``(benchmark_key, weight)`` pairs: a benchmark's weight inside its category.
    category_weights
        ``(category_key, weight)`` pairs: a category's weight in the overall score.
    as_of
        Read the latest runs that ended by this time (history).
    run_ids
        Read exactly these runs instead of the latest ones (history, run diffs).
    """

    excluded_elements: tuple[str, ...] = ()
    metric_overrides: tuple[MetricOverride, ...] = ()
    benchmark_weights: tuple[tuple[str, float], ...] = ()
    category_weights: tuple[tuple[str, float], ...] = ()
    as_of: datetime | None = None
    run_ids: tuple[str, ...] | None = None

    def data_key(self) -> tuple:
        """Return the part of the parameters that changes points and metric values.

        Thresholds and weights only change scores; the element filter and the run
        selection change which predictions are read.
        """
        return (self.excluded_elements, self.as_of, self.run_ids)

    def without_scoring(self) -> ScoringParams:
        """Return these parameters with thresholds and weights back to their defaults."""
        return ScoringParams(
            excluded_elements=self.excluded_elements, as_of=self.as_of, run_ids=self.run_ids
        )


def _set(con: duckdb.DuckDBPyConnection, name: str, expression: str, values: list) -> None:
    con.execute(f"set variable {name} = {expression}", values)


def apply(con: duckdb.DuckDBPyConnection, params: ScoringParams) -> None:
    """Set (or reset) every ``mlpeg_*`` variable on ``con`` from ``params``.

    Parameters
    ----------
    con
        Any connection or cursor to the warehouse (read-only is fine).
    params
        The choices to apply.
    """
    if params.excluded_elements:
        _set(con, "mlpeg_excluded_elements", "?::varchar[]", [list(params.excluded_elements)])
    else:
        con.execute("reset variable mlpeg_excluded_elements")
    con.execute("reset variable mlpeg_exclusion_scenarios")  # only the app's precompute sets it
    if params.metric_overrides:
        rows = [
            {
                "benchmark_key": o.benchmark_key,
                "metric_key": o.metric_key,
                "good": None if o.good is None else float(o.good),
                "bad": None if o.bad is None else float(o.bad),
                "weight": None if o.weight is None else float(o.weight),
            }
            for o in params.metric_overrides
        ]
        _set(
            con,
            "mlpeg_metric_overrides",
            "?::struct(benchmark_key varchar, metric_key varchar, good double, bad double, "
            "weight double)[]",
            [rows],
        )
    else:
        con.execute("reset variable mlpeg_metric_overrides")
    for name, pairs in (
        ("mlpeg_benchmark_weights", params.benchmark_weights),
        ("mlpeg_category_weights", params.category_weights),
    ):
        if pairs:
            keys = [key for key, _ in pairs]
            weights = [float(weight) for _, weight in pairs]
            _set(con, name, "map(?::varchar[], ?::double[])", [keys, weights])
        else:
            con.execute(f"reset variable {name}")
    if params.as_of is not None:
        _set(con, "mlpeg_as_of", "?::timestamptz", [params.as_of])
    else:
        con.execute("reset variable mlpeg_as_of")
    if params.run_ids is not None:
        _set(con, "mlpeg_run_ids", "?::varchar[]", [list(params.run_ids)])
    else:
        con.execute("reset variable mlpeg_run_ids")
