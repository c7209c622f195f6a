create schema if not exists water_slab_dipoles;

-- grain: one row per (model, frame): the total z dipole per unit area (e/Å) of a stored MD
-- frame with fixed charges q_O = −0.5562 e and q_H = +0.2781 e (molecules are neutral, so
-- the origin does not matter and unwrapped z coordinates are used as stored)
create or replace view water_slab_dipoles.points as
with predictions as (
    select * from benchmark_predictions where benchmark_key = 'water_slab_dipoles'
),
threshold as (
    select value as breakdown,
    from reference_values
    where benchmark_key = 'water_slab_dipoles' and quantity = 'breakdown_dipole'
),
frames as (
    select model_key, system, state, error, unnest(frame_ids) as structure_id,
        unnest(range(len(frame_ids))) as frame,
    from predictions
    where state = 'ok'
),
dipoles as (
    select
        frames.*,
        list_sum(list_transform(
            list_zip(structures.numbers, structures.positions),
            lambda atom: case atom[1] when 8 then -0.5562 when 1 then 0.2781 else 0 end
                * atom[2][3]
        )) / (structures.cell[1] * structures.cell[5]) as dipole,
    from frames
    join structures using (structure_id)
)
select
    dipoles.model_key,
    dipoles.system || '#' || lpad(dipoles.frame::varchar, 6, '0') as system,
    'dipole_per_area' as quantity,
    dipoles.dipole as pred,
    0.0 as ref,
    threshold.breakdown,
    abs(dipoles.dipole) > threshold.breakdown as is_breakdown_candidate,
    'e/Å' as unit,
    dipoles.state,
    dipoles.structure_id,
from dipoles
cross join threshold
union all by name
select model_key, system, 'dipole_per_area', state, error, structure_id,
from predictions
where state != 'ok';

-- grain: one row per (model, metric): the spread (population σ) of the dipole over the
-- frames and the fraction of frames past the breakdown threshold
create or replace view water_slab_dipoles.metrics as
with ok_points as (
    select * from water_slab_dipoles.points where state = 'ok'
)
select model_key, 'σ' as metric_key, stddev_pop(pred) as value, from ok_points group by all
union all
select model_key, 'Fraction Breakdown Candidates',
    avg(case when is_breakdown_candidate then 1.0 else 0.0 end),
from ok_points
group by all;
