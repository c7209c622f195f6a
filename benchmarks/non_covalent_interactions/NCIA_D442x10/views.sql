create schema if not exists ncia_d442x10;

-- grain: one row per (model, dimer); E_int = E(dimer) − E(monomer A) − E(monomer B)
create or replace view ncia_d442x10.points as
select * from reaction_points_kcal_per_mol('NCIA_D442x10', 'interaction_energy');

-- grain: one row per (model, metric)
create or replace view ncia_d442x10.metrics as
select model_key, 'MAE' as metric_key, ok_mae(pred, ref, state) as value
from ncia_d442x10.points
group by model_key;
