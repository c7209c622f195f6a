create schema if not exists gscdb138_field;

-- grain: one row per (model, reaction); subset = data set. A reaction with a species in an
-- applied field is 'unsupported' for a model that does not take a field (never a zero).
create or replace view gscdb138_field.points as
select * from reaction_points_kcal_per_mol('GSCDB138_field', 'reaction_energy');

-- grain: one row per (model, metric): the MAE of each data set
create or replace view gscdb138_field.metrics as
select model_key, subset || ' MAE' as metric_key, ok_mae(pred, ref, state) as value
from gscdb138_field.points
group by model_key, subset;
