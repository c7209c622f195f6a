create schema if not exists s66;

-- grain: one row per (model, dimer); binding energy = E(monomer 1) + E(monomer 2) − E(dimer)
create or replace view s66.points as
select * from reaction_points_kcal_per_mol('S66', 'binding_energy');

-- grain: one row per (model, metric): the MAE, then the MAE of each subset
create or replace view s66.metrics as
select model_key, 'MAE' as metric_key, ok_mae(pred, ref, state) as value
from s66.points
group by model_key
union all
select model_key, subset || ' MAE' as metric_key, ok_mae(pred, ref, state) as value
from s66.points
group by model_key, subset;
