create schema if not exists ncia_r739x5;

-- grain: one row per (model, dimer); E_int = E(dimer) − E(monomer A) − E(monomer B)
create or replace view ncia_r739x5.points as
select * from reaction_points_kcal_per_mol('NCIA_R739x5', 'interaction_energy');

-- grain: one row per (model, metric)
create or replace view ncia_r739x5.metrics as
select model_key, 'MAE' as metric_key, ok_mae(pred, ref, state) as value
from ncia_r739x5.points
group by model_key;
