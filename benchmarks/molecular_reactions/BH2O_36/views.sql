create schema if not exists bh2o_36;

-- grain: one row per (model, barrier); forward = E(TS) − E(reactant), reverse from the product
create or replace view bh2o_36.points as
select * from reaction_points_kcal_per_mol('BH2O_36', 'barrier_height');

-- grain: one row per (model, metric): all 36 barriers (as ML-PEG), then each direction
create or replace view bh2o_36.metrics as
select model_key, 'MAE' as metric_key, ok_mae(pred, ref, state) as value
from bh2o_36.points
group by model_key
union all
select
    model_key,
    case subset when 'forward' then 'Forward MAE' else 'Reverse MAE' end as metric_key,
    ok_mae(pred, ref, state) as value,
from bh2o_36.points
group by model_key, subset;
