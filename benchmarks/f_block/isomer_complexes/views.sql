create schema if not exists isomer_complexes;

-- grain: one row per (model, isomer). As in ML-PEG, a model's energy is taken relative to
-- the lowest of its own energies over the system's isomers, and the reference relative to the
-- lowest reference energy (so a model that orders the isomers wrongly has no zero point). A
-- system is shown for a model once every isomer has a prediction; if one is not ok, all of
-- that system's points take its state.
create or replace view isomer_complexes.points as
with predictions as (
    select model_key, system, split_part(system, '/', 1) as complex, energy, state, structure_id,
    from benchmark_predictions
    where benchmark_key = 'isomer_complexes' and role = 'isomer'
),
reference as (
    select system, split_part(system, '/', 1) as complex, value as ref_ev,
    from reference_values
    where benchmark_key = 'isomer_complexes' and quantity = 'relative_energy'
),
isomers_per_complex as (
    select complex, count(*) as n_isomers, from reference group by complex
),
per_complex as (
    select
        model_key,
        complex,
        count(*) as n_computed,
        min(energy) filter (where state = 'ok') as lowest_ev,
        combined_state(list(state)) as state,
    from predictions
    group by model_key, complex
)
select
    predictions.model_key,
    predictions.system,
    'relative_energy' as quantity,
    case when per_complex.state = 'ok'
        then ev_to_kcal_per_mol(predictions.energy - per_complex.lowest_ev) end as pred,
    ev_to_kcal_per_mol(reference.ref_ev) as ref,
    'kcal/mol' as unit,
    per_complex.state,
    predictions.structure_id,
    predictions.complex as subset,
from predictions
join per_complex using (model_key, complex)
join reference using (system)
join isomers_per_complex on isomers_per_complex.complex = predictions.complex
where per_complex.n_computed = isomers_per_complex.n_isomers;

-- grain: one row per (model, metric)
create or replace view isomer_complexes.metrics as
select model_key, 'MAE' as metric_key, ok_mae(pred, ref, state) as value
from isomer_complexes.points
group by model_key;
