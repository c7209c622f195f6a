create schema if not exists dipconfs;

-- grain: one row per (model, conformer); E(conformer) − E(reference conformer of its molecule)
create or replace view dipconfs.points as
select * from reaction_points_kcal_per_mol('DipCONFS', 'conformer_energy');

-- grain: one row per (model, metric): the MAE, then amino acids and dipeptides apart
create or replace view dipconfs.metrics as
select model_key, 'MAE' as metric_key, ok_mae(pred, ref, state) as value
from dipconfs.points
group by model_key
union all
select model_key, subset || ' MAE' as metric_key, ok_mae(pred, ref, state) as value
from dipconfs.points
group by model_key, subset;
