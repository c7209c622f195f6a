create schema if not exists extensivity;

-- grain: one row per model: ΔE = E(A + B) − E(A) − E(B) of two slabs 100 Å apart, in meV
create or replace view extensivity.points as
with predictions as (
    select * from benchmark_predictions where benchmark_key = 'extensivity'
),
slabs as (
    select
        model_key,
        system,
        any_value(energy) filter (where role = 'combined')
            - any_value(energy) filter (where role = 'a')
            - any_value(energy) filter (where role = 'b') as energy_difference_ev,
        combined_state(list(state)) as state,
        any_value(structure_id) filter (where role = 'combined') as structure_id,
        count(*) as n_parts,
    from predictions
    group by model_key, system
)
select
    model_key,
    system,
    'energy_difference' as quantity,
    ev_to_mev(energy_difference_ev) as pred,
    0.0 as ref,
    'meV' as unit,
    state,
    structure_id,
from slabs
where n_parts = 3;

-- grain: one row per (model, metric)
create or replace view extensivity.metrics as
select model_key, 'ΔE' as metric_key, max(abs(pred)) filter (where state = 'ok') as value,
from extensivity.points
group by model_key;
