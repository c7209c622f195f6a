create schema if not exists dmc_ice13;

-- grain: one row per (model, phase) for absolute lattice energies E_solid / n − E_water, and
-- one per (model, phase ≠ Ih) for lattice energies relative to ice Ih; meV per molecule
create or replace view dmc_ice13.points as
with lattice_energies as (
    select *, 'lattice_energy' as quantity,
    from reaction_points('DMC_ICE13', 'lattice_energy')
    union all
    select *, 'relative_lattice_energy' as quantity,
    from reaction_points('DMC_ICE13', 'relative_lattice_energy')
)
select
    model_key,
    reaction as system,
    quantity,
    ev_to_mev(pred_ev) as pred,
    ev_to_mev(ref_ev) as ref,
    'meV' as unit,
    state,
    structure_id,
    subset,
    n_species,
from lattice_energies;

-- grain: one row per (model, metric)
create or replace view dmc_ice13.metrics as
select
    model_key,
    case quantity when 'lattice_energy' then 'MAE' else 'Relative MAE' end as metric_key,
    ok_mae(pred, ref, state) as value,
from dmc_ice13.points
group by model_key, quantity;
