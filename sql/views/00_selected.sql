-- The runs and predictions every other view reads: by default the latest completed run of
-- each (model, benchmark); `mlpeg_as_of` and `mlpeg_run_ids` select others (history).

-- grain: one row per (model, benchmark)
create or replace view selected_runs as
with candidates as (
    select *
    from runs
    where ended_at <= coalesce(getvariable('mlpeg_as_of')::timestamptz, 'infinity'::timestamptz)
      and (
          getvariable('mlpeg_run_ids') is null
          or list_contains(getvariable('mlpeg_run_ids')::varchar[], run_id)
      )
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
