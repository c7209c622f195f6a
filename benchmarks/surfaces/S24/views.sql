create schema if not exists s24;

-- grain: one row per (model, system): adsorption energy
-- E(adsorbed) − E(surface) − n E(molecule), eV
create or replace view s24.points as
select
    model_key,
    reaction as system,
    'adsorption_energy' as quantity,
    pred_ev as pred,
    ref_ev as ref,
    'eV' as unit,
    state,
    structure_id,
    n_species,
from reaction_points('S24', 'adsorption_energy');

-- grain: one row per (model, metric)
create or replace view s24.metrics as
select model_key, 'MAE' as metric_key, ok_mae(pred, ref, state) as value,
from s24.points
group by model_key;
