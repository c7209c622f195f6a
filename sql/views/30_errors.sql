-- Errors per point, normalised within their benchmark, and per element across every
-- benchmark. A point's relative error is |pred − ref| divided by the mean absolute error of
-- every leaderboard model's ok points of the same benchmark and quantity: 1 means "as
-- wrong as the field is on average there", whatever the benchmark's unit or size, so
-- benchmarks can be compared and averaged. (It depends on which models are in the
-- warehouse; the metric thresholds were not used because a metric's unit and quantity
-- need not be those of its points.)

-- grain: one row per ok point (model, benchmark, system, quantity) of the selected runs
-- that has a finite prediction and reference
create or replace view point_errors as
with
points as (
    select *
    from all_points
    where state = 'ok'
      and isfinite(pred) and isfinite(ref)
      and model_key in (select model_key from leaderboard_models)
),

scales as (
    select benchmark_key, quantity, avg(abs(pred - ref)) as benchmark_mae,
    from points
    group by all
)

select
    points.model_key,
    points.benchmark_key,
    points.system,
    points.quantity,
    points.pred,
    points.ref,
    points.unit,
    points.pred - points.ref as error,
    abs(points.pred - points.ref) as abs_error,
    scales.benchmark_mae,
    abs(points.pred - points.ref) / nullif(scales.benchmark_mae, 0) as relative_error,
    points.structure_id,
from points
join scales using (benchmark_key, quantity);

-- grain: one row per (point of point_errors, element): an element counts for a point when
-- it is in one of the point's structures: the structures the model computed for the
-- point's system (e.g. an X23 crystal and its molecule), for each species of a reaction
-- (reaction_species), and the point's own structure_id
create or replace view point_element_errors as
with
errors as (
    select * from point_errors
),

parts as (
    -- the prediction systems behind each point: itself, or the species of a reaction
    select distinct benchmark_key, system, system as part, from errors
    union
    select benchmark_key, reaction as system, species as part, from reaction_species
),

from_predictions as (
    select errors.model_key, errors.benchmark_key, errors.system, errors.quantity,
        unnest(predictions.elements) as element,
    from errors
    join parts using (benchmark_key, system)
    join benchmark_predictions as predictions
        on predictions.model_key = errors.model_key
        and predictions.benchmark_key = errors.benchmark_key
        and predictions.system = parts.part
),

from_structure as (
    select errors.model_key, errors.benchmark_key, errors.system, errors.quantity,
        unnest(structures.elements) as element,
    from errors
    join structures using (structure_id)
),

point_elements as (
    select * from from_predictions
    union
    select * from from_structure
)

select errors.*, point_elements.element,
from errors
join point_elements using (model_key, benchmark_key, system, quantity);

-- grain: one row per (model, element, benchmark)
create or replace view element_benchmark_errors as
select
    model_key,
    element,
    benchmark_key,
    count(*) as n_points,
    avg(relative_error) as mean_relative_error,
    avg(abs_error) as mean_abs_error,
    any_value(unit) as unit,
from point_element_errors
group by all;

-- grain: one row per (model, element): the mean over benchmarks of each benchmark's mean
-- relative error, so a benchmark with many points containing the element weighs as much as
-- one with few
create or replace view element_errors as
select
    model_key,
    element,
    count(*) as n_benchmarks,
    sum(n_points)::bigint as n_points,
    avg(mean_relative_error) as mean_relative_error,
    max(mean_relative_error) as worst_benchmark_relative_error,
    arg_max(benchmark_key, mean_relative_error) as worst_benchmark_key,
from element_benchmark_errors
group by all
order by model_key, element;
