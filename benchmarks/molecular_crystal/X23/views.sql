create schema if not exists x23;

-- grain: one row per (model, system); E_latt = E_solid / n − E_molecule, n = molecules in cell
create or replace view x23.points as
with predictions as (
    select * from benchmark_predictions where benchmark_key = 'X23'
),
reference as (
    select system, value as ref_ev, uncertainty as ref_uncertainty_ev
    from reference_values
    where benchmark_key = 'X23' and quantity = 'lattice_energy'
),
lattice_energies as (
    select
        solid.model_key,
        solid.system,
        solid.n_atoms / molecule.n_atoms as n_molecules,
        solid.energy / (solid.n_atoms / molecule.n_atoms) - molecule.energy as lattice_energy_ev,
        combined_state([solid.state, molecule.state]) as state,
        solid.structure_id,
        molecule.structure_id as molecule_structure_id,
    from predictions as solid
    join predictions as molecule using (model_key, system)
    where solid.role = 'solid' and molecule.role = 'molecule'
)
select
    model_key,
    system,
    'lattice_energy' as quantity,
    ev_to_kj_per_mol(lattice_energy_ev) as pred,
    ev_to_kj_per_mol(ref_ev) as ref,
    ev_to_kj_per_mol(ref_uncertainty_ev) as ref_uncertainty,
    'kJ/mol' as unit,
    state,
    n_molecules,
    structure_id,
    molecule_structure_id,
from lattice_energies
join reference using (system);

-- grain: one row per (model, metric)
create or replace view x23.metrics as
select model_key, 'MAE' as metric_key, avg(abs(pred - ref)) filter (where state = 'ok') as value
from x23.points
group by model_key;
