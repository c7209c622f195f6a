create schema if not exists openff_tors;

-- grain: one row per (model, drive point); E(angle i) − E(first angle of the drive)
create or replace view openff_tors.points as
select * from reaction_points_kcal_per_mol('OpenFF_Tors', 'conformer_energy');

-- grain: one row per (model, metric): the MAE over all points, then per charge class
create or replace view openff_tors.metrics as
select model_key, 'MAE' as metric_key, ok_mae(pred, ref, state) as value
from openff_tors.points
group by model_key
union all
select model_key, subset || ' MAE' as metric_key, ok_mae(pred, ref, state) as value
from openff_tors.points
group by model_key, subset;
