create schema if not exists locality;

-- grain: one row per (model, perturbed structure): how much the forces on the solute's atoms
-- change when ghost atoms or a hydrogen are added far away, in meV/Å
create or replace view locality.points as
with predictions as (
    select * from benchmark_predictions where benchmark_key = 'locality'
),
solutes as (
    select model_key, system, forces, n_atoms, state,
    from predictions
    where role = 'solute'
),
changes as (
    select
        perturbed.model_key,
        perturbed.system,
        perturbed.role,
        range(1, solute.n_atoms + 1).list_transform(
            lambda i: sqrt(list_sum(range(1, 4).list_transform(
                lambda k: (perturbed.forces[i][k] - solute.forces[i][k]) ^ 2
            )))
        ) as force_changes,
        combined_state([perturbed.state, solute.state]) as state,
        perturbed.structure_id,
    from predictions as perturbed
    join solutes as solute using (model_key, system)
    where perturbed.role != 'solute'
)
select
    model_key,
    role as system,
    case when role = 'ghosts' then 'max_force_change' else 'mean_force_change' end
        as quantity,
    ev_to_mev(case when role = 'ghosts' then list_max(force_changes)
        else list_avg(force_changes) end) as pred,
    0.0 as ref,
    'meV/Å' as unit,
    state,
    structure_id,
    ev_to_mev(list_max(force_changes)) as max_force_change,
from changes;

-- grain: one row per (model, metric)
create or replace view locality.metrics as
with summary as (
    select
        model_key,
        max(pred) filter (where system = 'ghosts') as "Ghost atoms max ΔF",
        avg(pred) filter (where system like 'h\_%' escape '\') as "Random hydrogen mean ΔF",
        stddev_pop(pred) filter (where system like 'h\_%' escape '\')
            as "Random hydrogen std ΔF",
    from locality.points
    where state = 'ok'
    group by model_key
)
select *
from summary
unpivot include nulls (value for metric_key in (columns(* exclude (model_key))));
