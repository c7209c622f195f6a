create schema if not exists alzncumg_regression;

-- grain: one row per (model, system, quantity): bulk properties of the relaxed crystals
-- (volume Å³/atom, primitive-cell lengths Å, moduli and C_ij GPa) and surface energies
-- (mJ/m²), next to DFT
create or replace view alzncumg_regression.points as
with predictions as (
    select * from benchmark_predictions where benchmark_key = 'AlZnCuMg_regression'
),
reference as (
    select system, quantity, value as ref_value,
    from reference_values
    where benchmark_key = 'AlZnCuMg_regression'
),
cell_atoms as (
    select system, ref_value as n_atoms, from reference where quantity = 'cell_atoms'
),
bulk as (
    select
        predictions.model_key,
        predictions.system,
        reference.quantity,
        case
            -- lengths compare only when both primitive cells hold the same atoms
            when starts_with(reference.quantity, 'lattice_')
                then case when predictions.properties['primitive_atoms'] = cell_atoms.n_atoms
                    then predictions.properties[
                        'primitive_length_' || right(reference.quantity, 1)
                    ] end
            else predictions.properties[reference.quantity]
        end as value,
        reference.ref_value,
        predictions.state,
        coalesce(predictions.frame_ids[1], predictions.structure_id) as structure_id,
    from predictions
    join reference using (system)
    join cell_atoms using (system)
    where predictions.role = 'bulk' and reference.quantity != 'cell_atoms'
),
-- γ = (E_slab − N_slab E_bulk / N_bulk) / 2A
surfaces as (
    select
        predictions.model_key,
        predictions.system,
        'surface_energy' as quantity,
        (predictions.properties['energy_slab'] - predictions.properties['n_atoms_slab']
            * predictions.properties['energy_bulk'] / predictions.properties['n_atoms_bulk'])
            / (2 * predictions.properties['area']) as value,
        reference.ref_value,
        predictions.state,
        coalesce(predictions.frame_ids[1], predictions.structure_id) as structure_id,
    from predictions
    join reference using (system)
    where predictions.role = 'slab'
),
all_points as (
    select * from bulk
    union all
    select * from surfaces
)
select
    model_key,
    system,
    quantity,
    case
        when quantity = 'surface_energy' then ev_per_a2_to_j_per_m2(value) * 1000
        when quantity in ('volume_per_atom') or starts_with(quantity, 'lattice_') then value
        else ev_per_a3_to_gpa(value)
    end as pred,
    case
        when quantity = 'surface_energy' then ev_per_a2_to_j_per_m2(ref_value) * 1000
        when quantity in ('volume_per_atom') or starts_with(quantity, 'lattice_') then ref_value
        else ev_per_a3_to_gpa(ref_value)
    end as ref,
    case
        when quantity = 'surface_energy' then 'mJ/m²'
        when quantity = 'volume_per_atom' then 'Å³/atom'
        when starts_with(quantity, 'lattice_') then 'Å'
        else 'GPa'
    end as unit,
    case when state = 'ok' and value is null then 'failed' else state end as state,
    structure_id,
from all_points;

-- grain: one row per (model, metric): mean absolute errors over the points of each kind
create or replace view alzncumg_regression.metrics as
with ok_points as (
    select
        *,
        case
            when quantity = 'volume_per_atom' then 'Volume MAE'
            when starts_with(quantity, 'lattice_') then 'Lattice Constant MAE'
            when quantity = 'k_voigt' then 'Bulk Modulus MAE'
            when quantity = 'g_voigt' then 'Shear Modulus MAE'
            when quantity = 'surface_energy' then 'Surface Energy MAE'
            else 'Elastic Constant MAE'
        end as metric_key,
    from alzncumg_regression.points
    where state = 'ok'
)
select model_key, metric_key, avg(abs(pred - ref)) as value,
from ok_points
group by model_key, metric_key;
