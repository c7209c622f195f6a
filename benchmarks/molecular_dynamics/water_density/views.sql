create schema if not exists water_density;

-- grain: one row per (model, temperature, frame): the box density in g/cm³ of each stored
-- MD frame (water: n_atoms / 3 molecules of 18.01528 g/mol)
create or replace view water_density.frames as
with predictions as (
    select * from benchmark_predictions where benchmark_key = 'water_density'
),
frames as (
    select
        *,
        unnest(range(len(frame_ids))) as frame,
        -- series keys are zero-padded to at least three digits (mlpeg.calc.kinds)
        greatest(3, length((len(frame_ids) - 1)::varchar))::integer as width,
    from predictions
    where state = 'ok'
)
select
    model_key,
    system,
    frame,
    properties['time_' || lpad(frame::varchar, width, '0')] as time_fs,
    n_atoms / 3 * 18.01528 * 1.66053906892 / properties['volume_' || lpad(frame::varchar, width, '0')]
        as density_g_cm3,
    len(frame_ids) as n_frames,
    frame_ids[frame + 1] as structure_id,
from frames;

-- grain: one row per (model, temperature): the mean density over the second half of the
-- trajectory against experiment
create or replace view water_density.points as
with predictions as (
    select * from benchmark_predictions where benchmark_key = 'water_density'
),
reference as (
    select system, value as ref,
    from reference_values
    where benchmark_key = 'water_density' and quantity = 'density'
),
averages as (
    select model_key, system, avg(density_g_cm3) as density,
    from water_density.frames
    where frame >= n_frames // 2
    group by model_key, system
)
select
    predictions.model_key,
    predictions.system,
    'density' as quantity,
    averages.density as pred,
    reference.ref,
    'g/cm³' as unit,
    case when predictions.state = 'ok' and averages.density is null then 'failed'
        else predictions.state end as state,
    predictions.error,
    coalesce(predictions.frame_ids[-1], predictions.structure_id) as structure_id,
from predictions
join reference using (system)
left join averages using (model_key, system);

-- grain: one row per (model, metric)
create or replace view water_density.metrics as
select model_key, 'MAE' as metric_key, avg(abs(pred - ref)) as value,
from water_density.points
where state = 'ok'
group by model_key;
