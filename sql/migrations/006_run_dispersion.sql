-- Schema version 6: one model, one row. D3(BJ) is a property of a run, not of a model key:
-- `runs.dispersion` says what the run added to its model ('none' or 'd3bj'; the D3 settings
-- are in `runs.d3`), `runs.band` how much of the benchmark it computed ('full', 'quick',
-- 'subset'; null for runs from before it was recorded). The views score, per (model,
-- benchmark), the latest run whose dispersion is the benchmark's declared choice.
--
-- Runs stored under '<model>-D3' become runs of '<model>' with dispersion 'd3bj': the
-- runs, predictions and stored points and metrics keep every row and value, only the key
-- changes. The whole install runs in one transaction, so a migration killed half-way
-- leaves the warehouse as it was and the next writer applies it again.
alter table runs add column if not exists dispersion varchar;
alter table runs add column if not exists band varchar;

-- the former '-D3' keys: registered variants, and any run that added D3 under such a key
create temp table former_d3_keys as
select model_key as old_key, base_model as new_key
from models
where dispersion = 'd3(bj)'
union
select model_key as old_key, regexp_replace(model_key, '-D3$', '') as new_key
from runs
where model_key like '%-D3' and d3 is not null
  and model_key not in (select model_key from models where dispersion <> 'd3(bj)');

update runs
set dispersion = case
    when d3 is not null or model_key in (select old_key from former_d3_keys) then 'd3bj'
    else 'none'
end
where dispersion is null;

update runs
set model_key = former_d3_keys.new_key
from former_d3_keys
where runs.model_key = former_d3_keys.old_key;

update predictions
set model_key = runs.model_key
from runs
where predictions.run_id = runs.run_id and predictions.model_key <> runs.model_key;

update run_points
set model_key = runs.model_key
from runs
where run_points.run_id = runs.run_id and run_points.model_key <> runs.model_key;

update run_metrics
set model_key = runs.model_key
from runs
where run_metrics.run_id = runs.run_id and run_metrics.model_key <> runs.model_key;

-- the variant rows describe nothing the model's own row does not
delete from models where model_key in (select old_key from former_d3_keys);

drop table former_d3_keys;
