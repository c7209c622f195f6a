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
-- 'filtered' for structures holding an element the user excluded
create or replace view benchmark_predictions as
select
    predictions.* exclude (state),
    structures.n_atoms,
    structures.elements,
    predictions.state as stored_state,
    case
        when list_has_any(structures.elements, excluded_elements()) then 'filtered'
        else predictions.state
    end as state,
from predictions
join selected_runs using (run_id)
join structures using (structure_id);
