create schema if not exists gscdb138_isomers;

-- grain: one row per (model, reaction) of every data set (`subset`)
create or replace view gscdb138_isomers.points as
select * from reaction_points_kcal_per_mol('GSCDB138_isomers', 'reaction_energy');

-- grain: one row per (model, metric): the MAE of each data set
create or replace view gscdb138_isomers.metrics as
select model_key, subset || ' MAE' as metric_key, ok_mae(pred, ref, state) as value
from gscdb138_isomers.points
group by model_key, subset;
