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
-- it is in one of the point's structures: the input structures computed for the point's
-- system (e.g. an X23 crystal and its molecule), for each species of a reaction
-- (reaction_species), and the point's own structure_id. Input structures are content-
-- addressed and the same for every model, so the elements are found once per system.
create or replace view point_element_errors as
with
errors as materialized (
    select * from point_errors
),

parts as (
    -- the prediction systems behind each point: itself, or the species of a reaction
    select distinct benchmark_key, system, system as part, from errors
    union
    select benchmark_key, reaction as system, species as part, from reaction_species
),

part_structures as (
    select distinct predictions.benchmark_key, predictions.system as part,
        predictions.structure_id,
    from predictions
    semi join selected_runs using (run_id)
),

point_structures as (
    select parts.benchmark_key, parts.system, part_structures.structure_id,
    from parts
    join part_structures using (benchmark_key, part)
    union
    select distinct benchmark_key, system, structure_id, from errors
),

point_elements as (
    select distinct point_structures.benchmark_key, point_structures.system,
        unnest(structures.elements) as element,
    from point_structures
    join structures using (structure_id)
)

select errors.*, point_elements.element,
from errors
join point_elements using (benchmark_key, system);

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
