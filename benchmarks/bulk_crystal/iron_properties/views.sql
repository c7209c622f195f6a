create schema if not exists iron_properties;

-- grain: one row per (model, property): bcc iron's properties at the model's own lattice
-- constant, in display units (Å, GPa, eV, meV/atom, J/m²), next to the PBE references
create or replace view iron_properties.points as
with predictions as (
    select * from benchmark_predictions where benchmark_key = 'iron_properties'
),
reference as (
    select system, quantity, value as ref_value,
    from reference_values
    where benchmark_key = 'iron_properties'
),
eos as (
    select * from eos_fits('iron_properties', 'v')
),
bcc as (
    select * from eos where system = 'bcc'
),
-- a = (2 V0)^(1/3) of the two-atom cubic cell; E(fcc) − E(bcc) per atom at each minimum
equation_of_state as (
    select model_key, 'a0' as system, cbrt(2 * v0) as value, state, structure_id, from bcc
    union all
    select model_key, 'B0', ev_per_a3_to_gpa(b0), state, structure_id, from bcc
    union all
    select
        bcc.model_key,
        'dE_bcc_fcc',
        ev_to_mev(fcc.e0 - bcc.e0),
        combined_state([bcc.state, fcc.state]),
        fcc.structure_id,
    from bcc
    join eos as fcc on fcc.model_key = bcc.model_key and fcc.system = 'fcc'
),
elastic as (
    select model_key, system, properties, state, coalesce(frame_ids[1], structure_id) as frame,
    from predictions
    where system = 'elastic'
),
elastic_constants as (
    select model_key, 'C11' as system, ev_per_a3_to_gpa(properties['c11']) as value, state,
        frame as structure_id,
    from elastic
    union all
    select model_key, 'C12', ev_per_a3_to_gpa(properties['c12']), state, frame, from elastic
    union all
    select model_key, 'C44', ev_per_a3_to_gpa(properties['c44']), state, frame, from elastic
),
-- E_vac = E_defect − (N − 1) / N · E_perfect; γ = (E_slab − N_slab E_bulk / N_bulk) / 2A
defects as (
    select
        model_key,
        'E_vac' as system,
        properties['energy_defect'] - (properties['n_atoms_perfect'] - 1)
            / properties['n_atoms_perfect'] * properties['energy_perfect'] as value,
        state,
        coalesce(frame_ids[1], structure_id) as structure_id,
    from predictions
    where system = 'vacancy'
    union all
    select
        model_key,
        system,
        ev_per_a2_to_j_per_m2(
            (properties['energy_slab'] - properties['n_atoms_slab'] * properties['energy_bulk']
                / properties['n_atoms_bulk']) / (2 * properties['area'])
        ),
        state,
        coalesce(frame_ids[1], structure_id),
    from predictions
    where system like 'gamma\_%' escape '\'
),
property_values as (
    select * from equation_of_state
    union all by name
    select * from elastic_constants
    union all by name
    select * from defects
)
select
    properties.model_key,
    properties.system,
    reference.quantity,
    properties.value as pred,
    case reference.quantity
        when 'bulk_modulus' then ev_per_a3_to_gpa(reference.ref_value)
        when 'elastic_constant' then ev_per_a3_to_gpa(reference.ref_value)
        when 'energy_difference' then ev_to_mev(reference.ref_value)
        when 'surface_energy' then ev_per_a2_to_j_per_m2(reference.ref_value)
        else reference.ref_value
    end as ref,
    case reference.quantity
        when 'lattice_constant' then 'Å'
        when 'vacancy_formation_energy' then 'eV'
        when 'energy_difference' then 'meV/atom'
        when 'surface_energy' then 'J/m²'
        else 'GPa'
    end as unit,
    case when properties.state = 'ok' and properties.value is null then 'failed'
        else properties.state end as state,
    properties.structure_id,
from property_values as properties
join reference using (system);

-- grain: one row per (model, metric): percentage errors, the bcc–fcc error in meV/atom and
-- the surface-energy MAE in J/m², as ML-PEG reports them
create or replace view iron_properties.metrics as
with ok_points as (
    select * from iron_properties.points where state = 'ok'
),
errors as (
    select
        model_key,
        max(abs(pred - ref) / ref * 100) filter (where system = 'a0') as "a0 error",
        max(abs(pred - ref) / ref * 100) filter (where system = 'B0') as "B0 error",
        max(abs(pred - ref)) filter (where system = 'dE_bcc_fcc') as "BCC-FCC ΔE error",
        max(abs(pred - ref) / ref * 100) filter (where system = 'C11') as "C11 error",
        max(abs(pred - ref) / ref * 100) filter (where system = 'C12') as "C12 error",
        max(abs(pred - ref) / ref * 100) filter (where system = 'C44') as "C44 error",
        max(abs(pred - ref) / ref * 100) filter (where system = 'E_vac') as "E_vac error",
        case when count(*) filter (where quantity = 'surface_energy') = 4
            then avg(abs(pred - ref)) filter (where quantity = 'surface_energy') end
            as "Surface MAE",
    from ok_points
    group by model_key
)
select *
from errors
unpivot include nulls (value for metric_key in (columns(* exclude (model_key))));
