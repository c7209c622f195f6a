create schema if not exists gscdb138_tm_complexes;

-- grain: one row per (model, reaction) of every data set (`subset`)
create or replace view gscdb138_tm_complexes.points as
select * from reaction_points_kcal_per_mol('GSCDB138_tm_complexes', 'reaction_energy');

-- grain: one row per (model, metric): the MAE of each data set
create or replace view gscdb138_tm_complexes.metrics as
select model_key, subset || ' MAE' as metric_key, ok_mae(pred, ref, state) as value
from gscdb138_tm_complexes.points
group by model_key, subset;
