create schema if not exists cyclo70;

-- grain: one row per (model, barrier); forward = E(TS) − E(reactants), reverse from products
create or replace view cyclo70.points as
select * from reaction_points_kcal_per_mol('CYCLO70', 'barrier_height');

-- grain: one row per (model, metric): forward and reverse barriers together, as ML-PEG
create or replace view cyclo70.metrics as
select model_key, 'MAE' as metric_key, ok_mae(pred, ref, state) as value
from cyclo70.points
group by model_key;
