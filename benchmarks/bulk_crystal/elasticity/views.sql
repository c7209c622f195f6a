create schema if not exists elasticity;

-- grain: one row per (model, material, modulus): Voigt–Reuss–Hill bulk and shear moduli of
-- the model's elastic tensor against the PBE values (GPa)
create or replace view elasticity.points as
with predictions as (
    select * from benchmark_predictions where benchmark_key = 'elasticity'
),
reference as (
    select system, quantity, value as ref_value,
    from reference_values
    where benchmark_key = 'elasticity'
)
select
    predictions.model_key,
    predictions.system,
    reference.quantity,
    ev_per_a3_to_gpa(predictions.properties[reference.quantity]) as pred,
    ev_per_a3_to_gpa(reference.ref_value) as ref,
    'GPa' as unit,
    case when predictions.state = 'ok' and predictions.properties[reference.quantity] is null
        then 'failed' else predictions.state end as state,
    predictions.error,
    coalesce(predictions.frame_ids[1], predictions.structure_id) as structure_id,
from predictions
join reference using (system);

-- grain: one row per (model, metric)
create or replace view elasticity.metrics as
select
    model_key,
    case quantity when 'k_vrh' then 'Bulk modulus MAE' else 'Shear modulus MAE' end
        as metric_key,
    avg(abs(pred - ref)) as value,
from elasticity.points
where state = 'ok'
group by model_key, quantity;
