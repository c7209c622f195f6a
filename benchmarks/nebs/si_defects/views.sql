create schema if not exists si_defects;

-- grain: one row per (model, image, atom): predicted against PBE force components (eV/Å)
create or replace view si_defects.forces as
with predictions as (
    select model_key, system, forces, state,
    from benchmark_predictions
    where benchmark_key = 'si_defects' and role = 'image'
),
reference as (
    select
        split_part(system, '/', 1) as image,
        split_part(system, '/', 2)::integer as atom,
        max(value) filter (where quantity = 'force_x') as ref_x,
        max(value) filter (where quantity = 'force_y') as ref_y,
        max(value) filter (where quantity = 'force_z') as ref_z,
    from reference_values
    where benchmark_key = 'si_defects' and quantity like 'force\_%' escape '\'
    group by all
)
select
    predictions.model_key,
    predictions.system,
    reference.atom,
    predictions.forces[reference.atom + 1] as pred,
    [reference.ref_x, reference.ref_y, reference.ref_z] as ref,
    predictions.state,
from predictions
join reference on reference.image = predictions.system;

-- grain: one row per (model, image): the energy relative to image 0 (eV) against PBE, and
-- the image's mean absolute force-component error (eV/Å)
create or replace view si_defects.points as
with predictions as (
    select * from benchmark_predictions where benchmark_key = 'si_defects' and role = 'image'
),
first_image as (
    select model_key, energy as energy_0, state as state_0,
    from predictions
    where system = 'image_00'
),
reference as (
    select system, value as ref,
    from reference_values
    where benchmark_key = 'si_defects' and quantity = 'relative_energy'
),
force_errors as (
    select
        model_key,
        system,
        avg(abs(pred[1] - ref[1]) + abs(pred[2] - ref[2]) + abs(pred[3] - ref[3])) / 3
            as force_mae,
    from si_defects.forces
    where state = 'ok'
    group by all
)
select
    predictions.model_key,
    predictions.system,
    'relative_energy' as quantity,
    case when combined_state([predictions.state, first_image.state_0]) = 'ok'
        then predictions.energy - first_image.energy_0 end as pred,
    reference.ref,
    'eV' as unit,
    -- an image without image 0 has no relative energy: failed, with the reason below
    case when first_image.state_0 is null then 'failed'
        else combined_state([predictions.state, first_image.state_0]) end as state,
    force_errors.force_mae,
    predictions.structure_id,
from predictions
join reference using (system)
left join first_image using (model_key)
left join force_errors using (model_key, system);

-- grain: one row per (model, metric): ML-PEG's MAEs over every image of the 64-atom path
create or replace view si_defects.metrics as
select
    model_key,
    'Energy MAE (64)' as metric_key,
    avg(abs(pred - ref)) filter (where state = 'ok') as value,
from si_defects.points
group by model_key
union all
select
    model_key,
    'Force MAE (64)' as metric_key,
    avg(abs(pred[1] - ref[1]) + abs(pred[2] - ref[2]) + abs(pred[3] - ref[3]))
        filter (where state = 'ok') / 3 as value,
from si_defects.forces
group by model_key;
