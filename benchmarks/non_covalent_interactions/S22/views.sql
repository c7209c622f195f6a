create schema if not exists s22;

-- grain: one row per (model, dimer); E_int = E(dimer) − E(monomer A) − E(monomer B)
create or replace view s22.points as
select * from reaction_points_kcal_per_mol('S22', 'interaction_energy');

-- grain: one row per (model, metric): the MAE, then the MAE of each subset
create or replace view s22.metrics as
select model_key, 'MAE' as metric_key, ok_mae(pred, ref, state) as value
from s22.points
group by model_key
union all
select model_key, subset || ' MAE' as metric_key, ok_mae(pred, ref, state) as value
from s22.points
group by model_key, subset;
