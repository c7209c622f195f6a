create schema if not exists crbh20;

-- grain: one row per (model, reaction); barrier = E(TS) − E(reactant)
create or replace view crbh20.points as
select * from reaction_points_kcal_per_mol('CRBH20', 'barrier_height');

-- grain: one row per (model, metric)
create or replace view crbh20.metrics as
select model_key, 'MAE' as metric_key, ok_mae(pred, ref, state) as value
from crbh20.points
group by model_key;
