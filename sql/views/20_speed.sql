-- Speed as data: the wall time every prediction records, per structure and per atom, for
-- the selected runs (latest of each model and benchmark), with the device and host the run
-- used. Only `ok` rows count (a failure's time is the time to fail; an unsupported
-- structure is never computed; imported predictions have no time). Single points computed
-- in a batch record their share of the batch's time, in proportion to their atoms, so
-- their time per atom is the batch's. A relaxation, scan or trajectory is one structure
-- however many steps it takes: compare such benchmarks by model, not with single points.

-- grain: one row per ok prediction with a wall time, of the selected runs
create or replace view prediction_timings as
select
    predictions.run_id,
    predictions.model_key,
    predictions.benchmark_key,
    selected_runs.device,
    selected_runs.host,
    predictions.system,
    predictions.role,
    predictions.task,
    structures.n_atoms,
    predictions.wall_time_s,
    predictions.wall_time_s * 1e6 / structures.n_atoms as us_per_atom,
from predictions
join selected_runs using (run_id)
join structures using (structure_id)
where predictions.state = 'ok' and predictions.wall_time_s is not null;

-- grain: one row per (model, benchmark): a selected run has one device and one host
create or replace view model_speed as
with
timings as (
    select * from prediction_timings
),

per_benchmark as (
    select
        model_key,
        benchmark_key,
        any_value(device) as device,
        any_value(host) as host,
        list(distinct task order by task) as tasks,
        count(*) as n_structures,
        sum(n_atoms) as n_atoms,
        median(wall_time_s) as median_s_per_structure,
        median(us_per_atom) as median_us_per_atom,
        sum(wall_time_s) as total_s,
    from timings
    group by model_key, benchmark_key
)

select * from per_benchmark
order by model_key, benchmark_key;

-- grain: one row per (model, device): single points across every benchmark, the number
-- `mlpeg models` and the model cards show (a relaxation's many steps would blur it)
create or replace view model_speed_summary as
with
single_points as (
    select * from prediction_timings where task = 'single_point'
),

per_model as (
    select
        model_key,
        device,
        count(distinct benchmark_key) as n_benchmarks,
        count(*) as n_structures,
        median(wall_time_s) as median_s_per_structure,
        median(us_per_atom) as median_us_per_atom,
    from single_points
    group by model_key, device
)

select * from per_model
order by model_key, device;
