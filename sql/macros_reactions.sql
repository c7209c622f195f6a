-- Reaction-energy benchmarks (S22, S66, GMTKN55, GSCDB138, BH9, DMC_ICE13, ...): a reaction's
-- energy is Σ coefficient × E(species), with the stoichiometry in `reaction_species` and each
-- species computed once per model as a prediction with role 'species' (system = species).

-- grain: one row per (model, reaction) whose every species has a prediction for that model;
-- a reaction missing a species is not run for that model (no row). Energies in eV.
create or replace macro reaction_points(benchmark, quantity_name) as table
with species_predictions as (
    select model_key, system as species, energy, state, structure_id, n_atoms,
    from benchmark_predictions
    where benchmark_key = benchmark and role = 'species'
),
stoichiometry as (
    select reaction, subset, species, coefficient,
    from reaction_species
    where benchmark_key = benchmark
),
reference as (
    select system as reaction, value as ref_ev, uncertainty as ref_uncertainty_ev,
    from reference_values
    where benchmark_key = benchmark and quantity = quantity_name
),
species_counts as (
    select reaction, count(*) as n_species,
    from stoichiometry
    group by reaction
),
contributions as (
    select
        species_predictions.model_key,
        stoichiometry.reaction,
        stoichiometry.subset,
        stoichiometry.coefficient * species_predictions.energy as energy_ev,
        species_predictions.state,
        species_predictions.structure_id,
        species_predictions.n_atoms,
    from stoichiometry
    join species_predictions using (species)
),
reaction_energies as (
    select
        model_key,
        reaction,
        any_value(subset) as subset,
        count(*) as n_computed,
        combined_state(list(state)) as state,
        sum(energy_ev) as energy_ev,
        -- the structure shown for a reaction: its largest species (dimer, complex, TS)
        arg_max(structure_id, {'n_atoms': n_atoms, 'structure_id': structure_id}) as structure_id,
    from contributions
    group by model_key, reaction
)
select
    reaction_energies.model_key,
    reaction_energies.reaction,
    reaction_energies.subset,
    case when reaction_energies.state = 'ok' then reaction_energies.energy_ev end as pred_ev,
    reference.ref_ev,
    reference.ref_uncertainty_ev,
    reaction_energies.state,
    reaction_energies.structure_id,
    species_counts.n_species,
from reaction_energies
join species_counts using (reaction)
join reference using (reaction)
where reaction_energies.n_computed = species_counts.n_species;

-- grain: one row per (model, reaction): the columns every benchmark's `points` view carries,
-- in kcal/mol (refdata's unit and ML-PEG's for these benchmarks)
create or replace macro reaction_points_kcal_per_mol(benchmark, quantity_name) as table
select
    model_key,
    reaction as system,
    quantity_name as quantity,
    ev_to_kcal_per_mol(pred_ev) as pred,
    ev_to_kcal_per_mol(ref_ev) as ref,
    ev_to_kcal_per_mol(ref_uncertainty_ev) as ref_uncertainty,
    'kcal/mol' as unit,
    state,
    structure_id,
    subset,
    n_species,
from reaction_points(benchmark, quantity_name);

-- Mean absolute error over the points that are ok (failed, unsupported and filtered points
-- are left out and reported by the coverage views instead).
create or replace macro ok_mae(pred, ref, state) as
    avg(abs(pred - ref)) filter (where state = 'ok');

-- GMTKN55's WTMAD-2 (Goerigk et al., PCCP 19, 32184 (2017), eq. 2): each reaction's absolute
-- error is weighted by 56.84 kcal/mol / |ΔE|ᵢ, where |ΔE|ᵢ is the mean absolute reference
-- energy of its subset i over the whole subset, then averaged over reactions:
--   WTMAD-2 = Σᵢ Nᵢ · (56.84 / |ΔE|ᵢ) · MADᵢ / Σᵢ Nᵢ.
-- grain: one row per reaction of the benchmark
create or replace macro wtmad2_weights(benchmark, quantity_name) as table
with reference as (
    select
        reference_values.system as reaction,
        any_value(reaction_species.subset) as subset,
        any_value(ev_to_kcal_per_mol(abs(reference_values.value))) as abs_ref_kcal_per_mol,
    from reference_values
    join reaction_species
        on reaction_species.benchmark_key = reference_values.benchmark_key
        and reaction_species.reaction = reference_values.system
    where reference_values.benchmark_key = benchmark
      and reference_values.quantity = quantity_name
    group by reference_values.system
)
select
    reaction,
    subset,
    avg(abs_ref_kcal_per_mol) over (partition by subset) as subset_mean_abs_ref_kcal_per_mol,
    56.84 / avg(abs_ref_kcal_per_mol) over (partition by subset) as weight,
from reference;
