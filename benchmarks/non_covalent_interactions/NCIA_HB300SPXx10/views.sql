create schema if not exists ncia_hb300spxx10;

-- grain: one row per (model, dimer at one distance); E_int = E(dimer) − E(monomers)
create or replace view ncia_hb300spxx10.points as
select * from reaction_points_kcal_per_mol('NCIA_HB300SPXx10', 'interaction_energy');

-- grain: one row per (model, metric)
create or replace view ncia_hb300spxx10.metrics as
select model_key, 'MAE' as metric_key, ok_mae(pred, ref, state) as value
from ncia_hb300spxx10.points
group by model_key;
