create schema if not exists gscdb138_barriers;

-- grain: one row per (model, reaction) of every data set (`subset`)
create or replace view gscdb138_barriers.points as
select * from reaction_points_kcal_per_mol('GSCDB138_barriers', 'barrier_height');

-- grain: one row per (model, metric): the MAE of each data set
create or replace view gscdb138_barriers.metrics as
select model_key, subset || ' MAE' as metric_key, ok_mae(pred, ref, state) as value
from gscdb138_barriers.points
group by model_key, subset;
