create schema if not exists cmrads200;

-- grain: one row per (model, reaction): adsorption energy Σ c·E(species) against PBE, eV;
-- subset = the adsorbate
create or replace view cmrads200.points as
select
    model_key,
    reaction as system,
    'adsorption_energy' as quantity,
    pred_ev as pred,
    ref_ev as ref,
    'eV' as unit,
    state,
    structure_id,
    subset,
    n_species,
from reaction_points('CMRAds200', 'adsorption_energy');

-- grain: one row per (model, metric)
create or replace view cmrads200.metrics as
select model_key, 'MAE' as metric_key, ok_mae(pred, ref, state) as value,
from cmrads200.points
group by model_key;
