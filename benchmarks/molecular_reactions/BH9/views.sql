create schema if not exists bh9;

-- grain: one row per (model, barrier); forward = E(TS) − E(reactants), reverse from products
create or replace view bh9.points as
select * from reaction_points_kcal_per_mol('BH9', 'barrier_height');

-- grain: one row per (model, metric): forward barriers (as ML-PEG), then reverse ones
create or replace view bh9.metrics as
select
    model_key,
    case subset when 'forward' then 'MAE' else 'Reverse MAE' end as metric_key,
    ok_mae(pred, ref, state) as value,
from bh9.points
group by model_key, subset;
