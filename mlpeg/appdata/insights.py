"""What the Speed, Element errors and Compare pages show, and the saved profiles.

Like :mod:`mlpeg.appdata.queries`, one function per thing a page shows, each a ``SELECT``
on the warehouse views (``model_pareto``, ``element_errors``, ``point_errors``,
``benchmark_scores``; ``score_intervals`` where the warehouse has it). Nothing here
computes a score, a front or an error.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from mlpeg.appdata.params import ScoringParams
from mlpeg.appdata.store import AppStore
from mlpeg.profiles import Profile, from_row

# -- profiles ---------------------------------------------------------------------------------

PROFILES_SQL = """
select profile_name, description, category_weights, unlisted_category_weight,
    benchmark_weights, metric_overrides, is_builtin,
from scoring_profiles
order by is_builtin desc, profile_name
"""


def profiles(store: AppStore) -> dict[str, Profile]:
    """Return the saved scoring profiles by name (built-in ones first)."""
    rows = store.query(PROFILES_SQL).table.to_pylist()
    return {row["profile_name"]: from_row(row) for row in rows}


# -- speed against accuracy -----------------------------------------------------------------

PARETO_SQL = """
select model_key, model_kind, device, score, us_per_atom, n_timed_structures, is_pareto,
    is_pareto_on_device,
from model_pareto
where scope = ?
order by us_per_atom, model_key
"""

UNPLACED_SQL = """
select model_key,
from leaderboard_models
where model_key not in (select model_key from model_pareto where scope = ?)
order by model_key
"""


def pareto(store: AppStore, params: ScoringParams, scope: str) -> pa.Table:
    """Return each placed model's score in ``scope`` ('overall' or a category) and cost."""
    return store.query(PARETO_SQL, (scope,), params, scoring=True).table


def unplaced(store: AppStore, params: ScoringParams, scope: str) -> list[str]:
    """Return the leaderboard models without a score in ``scope`` or without timings."""
    table = store.query(UNPLACED_SQL, (scope,), params, scoring=True).table
    return table.column("model_key").to_pylist()


# -- errors per element ---------------------------------------------------------------------

ELEMENT_ERRORS_SQL = """
select element, n_benchmarks, n_points, mean_relative_error, worst_benchmark_key,
    worst_benchmark_relative_error,
from element_errors
where model_key = ?
order by element
"""

ELEMENT_BENCHMARKS_SQL = """
select benchmark_key, n_points, mean_relative_error, mean_abs_error, unit,
from element_benchmark_errors
where model_key = ? and element = ?
order by mean_relative_error desc, benchmark_key
"""

WORST_POINTS_SQL = """
select benchmark_key, system, quantity, pred, ref, error, unit, relative_error, structure_id,
from point_element_errors
where model_key = ? and element = ?
order by relative_error desc nulls last, benchmark_key, system
limit ?
"""


def element_errors(store: AppStore, params: ScoringParams, model_key: str) -> pa.Table:
    """Return a model's mean relative error per element (view ``element_errors``)."""
    return store.query(ELEMENT_ERRORS_SQL, (model_key,), params.without_scoring()).table


def element_benchmarks(
    store: AppStore, params: ScoringParams, model_key: str, element: str
) -> pa.Table:
    """Return, per benchmark, a model's errors on the points holding ``element``."""
    args = (model_key, element)
    return store.query(ELEMENT_BENCHMARKS_SQL, args, params.without_scoring()).table


def worst_points(
    store: AppStore, params: ScoringParams, model_key: str, element: str, *, limit: int = 20
) -> pa.Table:
    """Return a model's points holding ``element``, largest relative error first."""
    args = (model_key, element, limit)
    return store.query(WORST_POINTS_SQL, args, params.without_scoring()).table


# -- two models side by side ----------------------------------------------------------------

COMPARE_SQL = """
select
    coalesce(a.category_key, b.category_key) as category_key,
    coalesce(a.benchmark_key, b.benchmark_key) as benchmark_key,
    a.score as score_a,
    a.state as state_a,
    b.score as score_b,
    b.state as state_b,
    b.score - a.score as difference,
from (select * from benchmark_scores where model_key = ?) as a
full join (select * from benchmark_scores where model_key = ?) as b using (benchmark_key)
order by category_key, benchmark_key
"""

HAS_INTERVALS_SQL = """
select count(*) > 0 as has_intervals,
from information_schema.tables
where table_name = 'score_intervals'
"""

INTERVALS_SQL = """
select model_key, benchmark_key, lo, hi,
from score_intervals
where level = 'benchmark' and model_key in (?, ?)
"""

DISAGREEMENTS_SQL = """
with
pair as materialized (
    -- point_errors once (its scales need every model), then the two models' rows
    select * from point_errors where model_key in (?, ?)
),

a as (
    select * from pair where model_key = ?
),

b as (
    select * from pair where model_key = ?
)

select
    a.benchmark_key,
    a.system,
    a.quantity,
    a.ref,
    a.pred as pred_a,
    b.pred as pred_b,
    a.unit,
    b.pred - a.pred as pred_difference,
    abs(b.pred - a.pred) / nullif(a.benchmark_mae, 0) as relative_difference,
    a.relative_error as relative_error_a,
    b.relative_error as relative_error_b,
    a.structure_id,
from a
join b using (benchmark_key, system, quantity)
order by relative_difference desc nulls last, a.benchmark_key, a.system
limit ?
"""


def compare(store: AppStore, params: ScoringParams, model_a: str, model_b: str) -> pa.Table:
    """Return both models' benchmark scores and states side by side, one row per benchmark."""
    return store.query(COMPARE_SQL, (model_a, model_b), params, scoring=True).table


def has_intervals(store: AppStore) -> bool:
    """Return whether the warehouse has the view ``score_intervals``."""
    return bool(store.query(HAS_INTERVALS_SQL).table.column("has_intervals")[0].as_py())


def intervals(
    store: AppStore, params: ScoringParams, model_a: str, model_b: str
) -> pa.Table | None:
    """Return the benchmark-level 95 % intervals of two models (``score_intervals``).

    ``None`` when the warehouse has no such view, or one of another shape.
    """
    if not has_intervals(store):
        return None
    try:
        return store.query(INTERVALS_SQL, (model_a, model_b), params, scoring=True).table
    except duckdb.Error:
        return None


def disagreements(
    store: AppStore, params: ScoringParams, model_a: str, model_b: str, *, limit: int = 25
) -> pa.Table:
    """Return the points both models computed, largest prediction difference first.

    The difference is divided by the benchmark's mean absolute error over all models (as
    the relative errors of ``point_errors`` are), so points of every benchmark compare.
    """
    args = (model_a, model_b, model_a, model_b, limit)
    return store.query(DISAGREEMENTS_SQL, args, params.without_scoring()).table
