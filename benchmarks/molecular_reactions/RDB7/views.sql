create schema if not exists rdb7;

-- grain: one row per (model, reaction); forward barrier = E(TS) − E(reactant)
create or replace view rdb7.points as
select * from reaction_points_kcal_per_mol('RDB7', 'barrier_height');

-- grain: one row per (model, metric)
create or replace view rdb7.metrics as
select model_key, 'MAE' as metric_key, ok_mae(pred, ref, state) as value
from rdb7.points
group by model_key;
