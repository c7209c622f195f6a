"""One function per thing the app shows; each is a ``SELECT`` on the warehouse.

Scores, states and metric values come from the scoring views (``leaderboard``,
``category_scores``, ``benchmark_scores``, ``metric_scores``, ``scoring_definitions``) with
the user's :class:`~mlpeg.appdata.params.ScoringParams` set as SQL variables. The rest
(models, runs, structures, per-benchmark points) comes from the tables and the benchmarks'
own views. Nothing here computes a score.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from mlpeg.appdata.params import ScoringParams, apply
from mlpeg.appdata.store import AppStore
from mlpeg.errors import MlpegError


def quote_identifier(name: str) -> str:
    """Return ``name`` as a quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


# -- catalogue --------------------------------------------------------------------------------

CATEGORIES_SQL = """
select category_key, title, description, weight,
from categories
where category_key in (select category_key from benchmarks)
order by category_key
"""

BENCHMARKS_SQL = """
select benchmark_key, category_key, schema_name, title, description, level_of_theory,
    weight, doi,
from benchmarks
order by category_key, benchmark_key
"""


def categories(store: AppStore) -> pa.Table:
    """Return the categories that hold at least one benchmark, with default weights."""
    return store.query(CATEGORIES_SQL).table


def benchmarks(store: AppStore) -> pa.Table:
    """Return every benchmark with its category, schema, level of theory and weight."""
    return store.query(BENCHMARKS_SQL).table


@dataclass(frozen=True)
class BenchmarkInfo:
    """One benchmark's catalogue row."""

    key: str
    category: str
    schema: str
    title: str
    description: str
    level_of_theory: str
    weight: float
    doi: str | None


def benchmark_info(store: AppStore, benchmark_key: str) -> BenchmarkInfo:
    """Return one benchmark's catalogue row, with one clear error if it is unknown."""
    rows = [row for row in benchmarks(store).to_pylist() if row["benchmark_key"] == benchmark_key]
    if not rows:
        raise MlpegError(f"Unknown benchmark '{benchmark_key}' in this warehouse.")
    row = rows[0]
    return BenchmarkInfo(
        key=row["benchmark_key"],
        category=row["category_key"],
        schema=row["schema_name"],
        title=row["title"],
        description=row["description"] or "",
        level_of_theory=row["level_of_theory"] or "",
        weight=row["weight"],
        doi=row["doi"],
    )


# -- scores ---------------------------------------------------------------------------------------

LEADERBOARD_SQL = "select * from leaderboard"

CATEGORY_SCORES_SQL = """
select model_key, benchmark_key, score, state, benchmark_weight, dispersion, band,
from benchmark_scores
where category_key = ?
order by model_key, benchmark_key
"""

CATEGORY_TOTAL_SQL = """
select model_key, score, state, category_weight,
from category_scores
where category_key = ?
"""

DEFINITIONS_SQL = """
select
    definitions.metric_key,
    definitions.title,
    definitions.unit,
    definitions.good,
    definitions.bad,
    definitions.weight,
    definitions.level_of_theory,
    definitions.tooltip,
    stored.quantity,
    definitions.display_order,
from scoring_definitions as definitions
join metric_definitions as stored using (benchmark_key, metric_key)
where definitions.benchmark_key = ?
order by definitions.display_order
"""

METRIC_SCORES_SQL = """
select model_key, metric_key, value, unit, score, state, n_ok, n_points,
from metric_scores
where benchmark_key = ?
order by model_key, display_order
"""

BENCHMARK_TOTAL_SQL = """
select model_key, score, state, benchmark_weight, dispersion, band,
from benchmark_scores
where benchmark_key = ?
"""

LEVEL_OF_THEORY_SQL = """
select
    models.model_key,
    models.level_of_theory as model_level_of_theory,
    definitions.metric_key,
    definitions.level_of_theory as reference_level_of_theory,
    lower(trim(models.level_of_theory)) is distinct from lower(trim(definitions.level_of_theory))
        as is_mismatch,
from leaderboard_models as models
cross join scoring_definitions as definitions
where definitions.benchmark_key = ?
order by models.model_key, definitions.display_order
"""


OTHER_DISPERSION_SQL = """
select
    other.model_key,
    other.dispersion,
    other.band,
    other.run_id,
    other.ended_at,
    stored.metric_key,
    stored.value,
from other_dispersion_runs as other
join run_metrics as stored using (run_id)
where other.benchmark_key = ?
order by other.model_key, stored.metric_key
"""


def other_dispersion(store: AppStore, params: ScoringParams, benchmark_key: str) -> pa.Table:
    """Return the metric values of the latest run with the other dispersion choice.

    These are comparison runs (``mlpeg calc --dispersion``): not scored, shown beside
    the scored ones. One row per (model, metric).
    """
    runs = ScoringParams(as_of=params.as_of, run_ids=params.run_ids)
    return store.query(OTHER_DISPERSION_SQL, (benchmark_key,), runs).table


def leaderboard(store: AppStore, params: ScoringParams) -> pa.Table:
    """Return the ``leaderboard`` view: model, overall, state, then score and state per category."""
    return store.query(LEADERBOARD_SQL, (), params, scoring=True).table


def category_scores(store: AppStore, params: ScoringParams, category_key: str) -> pa.Table:
    """Return one category's benchmark scores and states, one row per (model, benchmark)."""
    return store.query(CATEGORY_SCORES_SQL, (category_key,), params, scoring=True).table


def category_totals(store: AppStore, params: ScoringParams, category_key: str) -> pa.Table:
    """Return each model's score and state in one category."""
    return store.query(CATEGORY_TOTAL_SQL, (category_key,), params, scoring=True).table


def metric_definitions(store: AppStore, params: ScoringParams, benchmark_key: str) -> pa.Table:
    """Return a benchmark's metrics with thresholds and weights after the user's overrides."""
    return store.query(DEFINITIONS_SQL, (benchmark_key,), params, scoring=True).table


def metric_scores(store: AppStore, params: ScoringParams, benchmark_key: str) -> pa.Table:
    """Return value, unit, normalised score and state per (model, metric) of one benchmark."""
    return store.query(METRIC_SCORES_SQL, (benchmark_key,), params, scoring=True).table


def benchmark_totals(store: AppStore, params: ScoringParams, benchmark_key: str) -> pa.Table:
    """Return each model's score and state on one benchmark."""
    return store.query(BENCHMARK_TOTAL_SQL, (benchmark_key,), params, scoring=True).table


def level_of_theory(store: AppStore, params: ScoringParams, benchmark_key: str) -> pa.Table:
    """Return, per (model, metric), both levels of theory and whether they differ."""
    return store.query(LEVEL_OF_THEORY_SQL, (benchmark_key,), params, scoring=True).table


# -- points and structures ----------------------------------------------------------------------


def points(
    store: AppStore,
    params: ScoringParams,
    benchmark: BenchmarkInfo,
    *,
    quantity: str | None = None,
    model_key: str | None = None,
) -> pa.Table:
    """Return a benchmark's points (its own ``points`` view, every column).

    Parameters
    ----------
    store, params
        Where and how to read.
    benchmark
        The benchmark (its schema holds the view).
    quantity
        Keep only points of this quantity (a metric's ``quantity``).
    model_key
        Keep only this model's points.
    """
    sql = (
        f"select * from {quote_identifier(benchmark.schema)}.points "
        "where (?::varchar is null or quantity = ?) and (?::varchar is null or model_key = ?) "
        "order by model_key, system"
    )
    return store.query(sql, (quantity, quantity, model_key, model_key), params).table


STRUCTURE_SQL = """
select structure_id, numbers, positions, cell, pbc, info, n_atoms, elements,
from structures
where structure_id = ?
"""

FRAMES_SQL = """
with prediction as (
    select frame_ids
    from predictions
    semi join selected_runs using (run_id)
    where benchmark_key = ? and model_key = ? and structure_id = ?
    limit 1
),
frames as (
    select unnest(frame_ids) as structure_id, generate_subscripts(frame_ids, 1) as frame_index,
    from prediction
)
select frames.frame_index, structures.structure_id, structures.numbers, structures.positions,
    structures.cell, structures.pbc,
from frames
join structures using (structure_id)
order by frames.frame_index
"""


def structure(store: AppStore, structure_id: str) -> dict | None:
    """Return one stored structure (numbers, positions, cell, pbc, ...) or ``None``."""
    rows = store.query(STRUCTURE_SQL, (structure_id,)).table.to_pylist()
    return rows[0] if rows else None


def frames(
    store: AppStore, params: ScoringParams, benchmark_key: str, model_key: str, structure_id: str
) -> list[dict]:
    """Return the output frames a model's prediction stored for a structure, in order.

    Relaxations, trajectories and NEBs store their frames as ``predictions.frame_ids``; a
    single point has none.
    """
    runs = ScoringParams(as_of=params.as_of, run_ids=params.run_ids)  # the filter is moot
    table = store.query(FRAMES_SQL, (benchmark_key, model_key, structure_id), runs).table
    return table.to_pylist()


# -- element filter ---------------------------------------------------------------------------

ELEMENT_COUNTS_SQL = """
select element, count(distinct structure_id) as n_structures,
from (select structure_id, unnest(elements) as element from benchmark_predictions)
group by element
order by element
"""

FILTERED_COUNT_SQL = """
select
    count(*) as n_predictions,
    count(*) filter (where state = 'filtered') as n_filtered,
from benchmark_predictions
"""


def element_counts(store: AppStore, params: ScoringParams) -> pa.Table:
    """Return, per element, how many distinct structures of the selected runs contain it."""
    return store.query(ELEMENT_COUNTS_SQL, (), params.without_scoring()).table


def filtered_count(store: AppStore, params: ScoringParams) -> tuple[int, int]:
    """Return (predictions read, predictions the element filter removes)."""
    row = store.query(FILTERED_COUNT_SQL, (), params.without_scoring()).table.to_pylist()[0]
    return row["n_predictions"], row["n_filtered"]


# -- models ------------------------------------------------------------------------------------

MODELS_SQL = """
select model_key, base_model, family, checkpoint, checkpoint_sha256, dispersion, dtype,
    level_of_theory, training_sets, elements, licence, paper, n_params, notes,
from leaderboard_models
order by model_key
"""

MODEL_RUNS_SQL = """
select run_id, benchmark_key, dispersion, band, started_at, ended_at, host, device, dtype,
    versions, code_version, status,
    run_id in (select run_id from selected_runs) as is_selected,
from runs
where model_key = ?
order by ended_at desc, run_id desc
"""

MODEL_SPEED_SQL = """
with
counts as (
    select
        benchmark_key,
        count(*) filter (where stored_state = 'failed') as n_failed,
        count(*) filter (where stored_state = 'unsupported') as n_unsupported,
    from benchmark_predictions
    where model_key = ?
    group by benchmark_key
),

speed as (
    select * from model_speed where model_key = ?
)

select
    counts.benchmark_key,
    speed.device,
    coalesce(speed.n_structures, 0) as n_structures,
    speed.median_s_per_structure,
    speed.median_us_per_atom,
    speed.total_s,
    counts.n_failed,
    counts.n_unsupported,
from counts
left join speed using (benchmark_key)
order by counts.benchmark_key
"""

MODEL_SPEED_SUMMARY_SQL = """
select device, n_benchmarks, n_structures, median_s_per_structure, median_us_per_atom,
from model_speed_summary
where model_key = ?
order by device
"""


def models(store: AppStore, params: ScoringParams) -> pa.Table:
    """Return the metadata of every model on the leaderboard."""
    return store.query(MODELS_SQL, (), params.without_scoring()).table


def model_runs(store: AppStore, params: ScoringParams, model_key: str) -> pa.Table:
    """Return every run of a model with its provenance, marking the ones the views read."""
    return store.query(MODEL_RUNS_SQL, (model_key,), params.without_scoring()).table


def model_speed(store: AppStore, params: ScoringParams, model_key: str) -> pa.Table:
    """Return per benchmark the median seconds per structure and µs per atom.

    From the view ``model_speed`` (ok rows of the selected runs), with the benchmark's
    failed and unsupported counts beside them.
    """
    return store.query(MODEL_SPEED_SQL, (model_key, model_key), params.without_scoring()).table


def model_speed_summary(store: AppStore, params: ScoringParams, model_key: str) -> pa.Table:
    """Return per device the model's single-point speed across benchmarks."""
    return store.query(MODEL_SPEED_SUMMARY_SQL, (model_key,), params.without_scoring()).table


# -- history ------------------------------------------------------------------------------------

RUNS_SQL = """
select run_id, model_key, benchmark_key, dispersion, band, started_at, ended_at, status,
from runs
order by ended_at desc, run_id desc
"""


def runs(store: AppStore) -> pa.Table:
    """Return every run, newest first."""
    return store.query(RUNS_SQL).table


RUN_DIFF_POINTS_SQL = """
select
    coalesce(a.system, b.system) as system,
    coalesce(a.quantity, b.quantity) as quantity,
    a.pred as pred_a,
    b.pred as pred_b,
    b.pred - a.pred as pred_change,
    coalesce(a.ref, b.ref) as ref,
    abs(b.pred - coalesce(b.ref, a.ref)) - abs(a.pred - coalesce(a.ref, b.ref)) as error_change,
    coalesce(a.state, 'not_run') as state_a,
    coalesce(b.state, 'not_run') as state_b,
from run_a_points as a
full join run_b_points as b using (system, quantity)
order by abs(pred_change) desc nulls last, system
"""

RUN_DIFF_METRICS_SQL = """
select
    definitions.metric_key,
    definitions.unit,
    a.value as value_a,
    b.value as value_b,
    b.value - a.value as value_change,
    metric_score(a.value, definitions.good, definitions.bad) as score_a,
    metric_score(b.value, definitions.good, definitions.bad) as score_b,
from scoring_definitions as definitions
left join run_a_metrics as a using (metric_key)
left join run_b_metrics as b using (metric_key)
where definitions.benchmark_key = ?
order by definitions.display_order
"""


@dataclass(frozen=True)
class RunDiff:
    """Two runs of a model on one benchmark, side by side."""

    points: pa.Table
    metrics: pa.Table


def run_diff(
    store: AppStore,
    params: ScoringParams,
    benchmark: BenchmarkInfo,
    model_key: str,
    run_a: str,
    run_b: str,
) -> RunDiff:
    """Compare two runs of ``model_key`` on ``benchmark``: per point and per metric.

    Each run is read through the benchmark's own ``points`` and ``metrics`` views with
    ``mlpeg_run_ids`` set to it, so the comparison uses exactly the scoring SQL.
    """
    schema = quote_identifier(benchmark.schema)
    with store.cursor() as cursor:
        for label, run_id in (("a", run_a), ("b", run_b)):
            apply(
                cursor, ScoringParams(metric_overrides=params.metric_overrides, run_ids=(run_id,))
            )
            cursor.execute(
                f"create or replace temp table run_{label}_points as "
                f"select * from {schema}.points where model_key = ?",
                [model_key],
            )
            cursor.execute(
                f"create or replace temp table run_{label}_metrics as "
                f"select * from {schema}.metrics where model_key = ?",
                [model_key],
            )
        apply(cursor, ScoringParams(metric_overrides=params.metric_overrides))
        point_rows = cursor.sql(RUN_DIFF_POINTS_SQL).to_arrow_table()
        metric_rows = cursor.sql(RUN_DIFF_METRICS_SQL, params=[benchmark.key]).to_arrow_table()
    return RunDiff(points=point_rows, metrics=metric_rows)


# -- intervals --------------------------------------------------------------------------------

SCORE_INTERVALS_SQL = """
select model_key, category_key, benchmark_key, metric_key, score, lo, hi, n_resamples,
    is_partial, note,
from score_intervals
where level = ? and (? is null or category_key = ?) and (? is null or benchmark_key = ?)
order by score desc nulls last, model_key
"""


def score_intervals(
    store: AppStore,
    params: ScoringParams,
    level: str,
    *,
    category_key: str | None = None,
    benchmark_key: str | None = None,
) -> pa.Table:
    """Return the 95 % bootstrap intervals of one level's scores (``score_intervals``).

    Parameters
    ----------
    store
        The app's store.
    params
        The user's scoring choices (other than the defaults, computed from the resamples).
    level
        ``'overall'``, ``'category'``, ``'benchmark'`` or ``'metric'``.
    category_key, benchmark_key
        Only this category's or benchmark's rows.
    """
    args = (level, category_key, category_key, benchmark_key, benchmark_key)
    return store.query(SCORE_INTERVALS_SQL, args, params, scoring=True).table


def interval_description(store: AppStore, params: ScoringParams) -> str:
    """Say what the intervals are (resamples, seed), for the app's tooltips."""
    from mlpeg.warehouse.intervals import SETTINGS_SQL, describe_settings

    runs = ScoringParams(as_of=params.as_of, run_ids=params.run_ids)
    row = store.query(SETTINGS_SQL, (), runs).table.to_pylist()[0]
    return describe_settings(tuple(row.values()))
