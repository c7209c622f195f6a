-- The runs and predictions every other view reads: by default the latest completed run of
-- each (model, benchmark) with the benchmark's declared dispersion; `mlpeg_as_of` and
-- `mlpeg_run_ids` select others (history; listed runs are taken whatever their dispersion).

-- grain: one row per (model, benchmark): the dispersion its leaderboard run uses. A
-- benchmark declaring 'd3' gets D3(BJ) added to models not trained with dispersion (as
-- ML-PEG does, under the model's own name); a model trained with it never gets it twice.
create or replace view declared_dispersion as
select
    models.model_key,
    benchmarks.benchmark_key,
    case
        when benchmarks.dispersion = 'd3' and models.dispersion <> 'trained' then 'd3bj'
        else 'none'
    end as dispersion,
from models
cross join benchmarks;

-- grain: one row per (model, benchmark)
create or replace view selected_runs as
with candidates as (
    select runs.*
    from runs
    left join declared_dispersion as declared
        on declared.model_key = runs.model_key and declared.benchmark_key = runs.benchmark_key
    where runs.ended_at
          <= coalesce(getvariable('mlpeg_as_of')::timestamptz, 'infinity'::timestamptz)
      and case
          when getvariable('mlpeg_run_ids') is null
              then declared.dispersion is null or runs.dispersion = declared.dispersion
          else list_contains(getvariable('mlpeg_run_ids')::varchar[], runs.run_id)
      end
),
ranked as (
    select
        *,
        row_number() over (
            partition by model_key, benchmark_key order by ended_at desc, run_id desc
        ) as recency,
    from candidates
)
select * exclude (recency) from ranked where recency = 1;

-- grain: one row per (model, benchmark, system, role) of the selected runs; `state` adds
-- 'filtered' for structures holding an element the user excluded.
-- With `mlpeg_exclusion_scenarios` (VARCHAR[]) set, it holds instead one copy of every row
-- per listed element, as if that element alone were excluded, under the model key
-- '<model>' || chr(31) || '<element>': every view above then evaluates all those
-- single-element filters in one pass (the app precomputes them this way).
create or replace view benchmark_predictions as
with scenarios as (
    select unnest(
        coalesce(getvariable('mlpeg_exclusion_scenarios')::varchar[], [null]::varchar[])
    ) as scenario
)
select
    predictions.* exclude (state, model_key),
    case
        when scenario is null then predictions.model_key
        else predictions.model_key || chr(31) || scenario
    end as model_key,
    structures.n_atoms,
    structures.elements,
    predictions.state as stored_state,
    case
        when list_has_any(structures.elements, excluded_elements()) then 'filtered'
        when list_contains(structures.elements, scenario) then 'filtered'
        else predictions.state
    end as state,
from predictions
join selected_runs using (run_id)
join structures using (structure_id)
cross join scenarios;

-- grain: one row per (model, benchmark) that has a run with the other dispersion choice
-- (a comparison run, `mlpeg calc --dispersion`): the latest such run. Never scored; the
-- app's benchmark page shows its metrics (stored in run_metrics) beside the scored ones.
create or replace view other_dispersion_runs as
select runs.*
from runs
join declared_dispersion as declared
    on declared.model_key = runs.model_key and declared.benchmark_key = runs.benchmark_key
where runs.dispersion <> declared.dispersion
  and runs.ended_at
      <= coalesce(getvariable('mlpeg_as_of')::timestamptz, 'infinity'::timestamptz)
qualify row_number() over (
    partition by runs.model_key, runs.benchmark_key order by runs.ended_at desc, runs.run_id desc
) = 1;
