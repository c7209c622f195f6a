create schema if not exists s30l;

-- grain: one row per (model, complex); E_a = E(complex) − E(host) − E(guest)
create or replace view s30l.points as
select * from reaction_points_kcal_per_mol('S30L', 'association_energy');

-- grain: one row per (model, metric): all complexes, then charged and neutral ones
create or replace view s30l.metrics as
select model_key, 'Overall MAE' as metric_key, ok_mae(pred, ref, state) as value
from s30l.points
group by model_key
union all
select
    model_key,
    case subset when 'charged' then 'Charged MAE' else 'Neutral MAE' end as metric_key,
    ok_mae(pred, ref, state) as value,
from s30l.points
group by model_key, subset;
