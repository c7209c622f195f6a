create schema if not exists aconfl;

-- grain: one row per (model, conformer); E(conformer) − E(reference conformer of its alkane)
create or replace view aconfl.points as
select * from reaction_points_kcal_per_mol('ACONFL', 'conformer_energy');

-- grain: one row per (model, metric): the MAE, then the MAE of each alkane
create or replace view aconfl.metrics as
select model_key, 'MAE' as metric_key, ok_mae(pred, ref, state) as value
from aconfl.points
group by model_key
union all
select model_key, subset || ' MAE' as metric_key, ok_mae(pred, ref, state) as value
from aconfl.points
group by model_key, subset;
