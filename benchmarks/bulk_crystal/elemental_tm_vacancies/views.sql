create schema if not exists elemental_tm_vacancies;

-- grain: one row per (model, crystal): the vacancy formation energy
-- E_vac = E_defect − (N − 1)/N · E_perfect (eV) at the PBE volume, next to PBE's
create or replace view elemental_tm_vacancies.points as
with predictions as (
    select * from benchmark_predictions where benchmark_key = 'elemental_tm_vacancies'
),
reference as (
    select system, value as ref,
    from reference_values
    where benchmark_key = 'elemental_tm_vacancies' and quantity = 'vacancy_formation_energy'
)
select
    predictions.model_key,
    predictions.system,
    'vacancy_formation_energy' as quantity,
    predictions.properties['energy_defect'] - (predictions.properties['n_atoms_perfect'] - 1)
        / predictions.properties['n_atoms_perfect'] * predictions.properties['energy_perfect']
        as pred,
    reference.ref,
    'eV' as unit,
    predictions.state,
    predictions.error,
    coalesce(predictions.frame_ids[2], predictions.structure_id) as structure_id,
from predictions
join reference using (system);

-- grain: one row per (model, metric)
create or replace view elemental_tm_vacancies.metrics as
select model_key, 'MAE' as metric_key, avg(abs(pred - ref)) as value,
from elemental_tm_vacancies.points
where state = 'ok'
group by model_key;
