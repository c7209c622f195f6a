create schema if not exists phonons;

-- grain: one row per (model, material): the harmonic heat capacity at 300 K (J/K per mole of
-- cells) from the model's phonons against Alexandria's PBE value
create or replace view phonons.points as
with predictions as (
    select * from benchmark_predictions where benchmark_key = 'phonons'
),
reference as (
    select system, value as ref,
    from reference_values
    where benchmark_key = 'phonons' and quantity = 'cv_300'
)
select
    predictions.model_key,
    predictions.system,
    'cv_300' as quantity,
    case when predictions.properties['temperature_000'] = 300
        then predictions.properties['cv_000'] end as pred,
    reference.ref,
    'J/(K·mol)' as unit,
    predictions.properties['frequency_min'] as frequency_min_thz,
    case when predictions.state = 'ok' and predictions.properties['cv_000'] is null then 'failed'
        else predictions.state end as state,
    predictions.error,
    coalesce(predictions.frame_ids[1], predictions.structure_id) as structure_id,
from predictions
join reference using (system);

-- grain: one row per (model, metric)
create or replace view phonons.metrics as
select model_key, 'C_V' as metric_key, avg(abs(pred - ref)) as value,
from phonons.points
where state = 'ok'
group by model_key;
