create schema if not exists lnci16;

-- grain: one row per (model, system): E(complex) − E(host) − E(guest). TYK2 and FXa have
-- relaxed fragments, so theirs is an association energy (quantity association_energy).
create or replace view lnci16.points as
select * from reaction_points_kcal_per_mol('LNCI16', 'interaction_energy')
union all
select * from reaction_points_kcal_per_mol('LNCI16', 'association_energy');

-- grain: one row per (model, metric)
create or replace view lnci16.metrics as
select model_key, 'MAE' as metric_key, ok_mae(pred, ref, state) as value
from lnci16.points
group by model_key;
