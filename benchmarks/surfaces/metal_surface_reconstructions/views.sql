create schema if not exists metal_surface_reconstructions;

-- grain: one row per (model, element): μ = energy per atom of the element's bulk crystal or
-- gas molecule (eV/atom)
create or replace view metal_surface_reconstructions.chemical_potentials as
select
    predictions.model_key,
    structures.numbers[1] as number,
    predictions.system as reservoir,
    predictions.energy / predictions.n_atoms as mu,
    predictions.state,
from benchmark_predictions as predictions
join structures using (structure_id)
where predictions.benchmark_key = 'metal_surface_reconstructions'
  and predictions.role in ('bulk', 'gas');

-- grain: one row per (model, slab, free atom): distance of the relaxed atom from its DFT
-- position (Å); null when the relaxation failed
create or replace view metal_surface_reconstructions.displacements as
with slabs as (
    select model_key, system, state, frame_ids[-1] as relaxed_id,
    from benchmark_predictions
    where benchmark_key = 'metal_surface_reconstructions' and role = 'slab'
),
reference as (
    select
        split_part(system, '/', 1) as slab,
        split_part(system, '/', 2)::integer as atom,
        max(value) filter (where quantity = 'dft_x') as x,
        max(value) filter (where quantity = 'dft_y') as y,
        max(value) filter (where quantity = 'dft_z') as z,
    from reference_values
    where benchmark_key = 'metal_surface_reconstructions' and quantity like 'dft\_%' escape '\'
    group by all
),
relaxed as (
    select slabs.*, structures.positions,
    from slabs
    left join structures on structures.structure_id = slabs.relaxed_id
)
select
    relaxed.model_key,
    relaxed.system,
    reference.atom,
    case when relaxed.state = 'ok' then sqrt(
        (relaxed.positions[reference.atom + 1][1] - reference.x) ^ 2
        + (relaxed.positions[reference.atom + 1][2] - reference.y) ^ 2
        + (relaxed.positions[reference.atom + 1][3] - reference.z) ^ 2
    ) end as displacement,
    relaxed.state,
from relaxed
join reference on reference.slab = relaxed.system;

-- grain: one row per (model, slab) whose every element has a μ for that model (a slab
-- missing one is not run): surface energy (E_slab − Σ μ) / |a × b| in meV/Å², the mean
-- displacement of its free atoms (Å) and its ranking triple
create or replace view metal_surface_reconstructions.points as
with slabs as (
    select *
    from benchmark_predictions
    where benchmark_key = 'metal_surface_reconstructions' and role = 'slab'
),
composition as (
    select slabs.model_key, slabs.system, unnest(structures.numbers) as number,
    from slabs
    join structures using (structure_id)
),
reservoirs as (
    select
        composition.model_key,
        composition.system,
        sum(mu.mu) as sum_mu,
        count(mu.mu) = count(*) as is_complete,
        combined_state(list(mu.state)) as state,
    from composition
    left join metal_surface_reconstructions.chemical_potentials as mu
        on mu.model_key = composition.model_key and mu.number = composition.number
    group by all
),
areas as (
    select
        slabs.model_key,
        slabs.system,
        sqrt(
            (cell[2] * cell[6] - cell[3] * cell[5]) ^ 2
            + (cell[3] * cell[4] - cell[1] * cell[6]) ^ 2
            + (cell[1] * cell[5] - cell[2] * cell[4]) ^ 2
        ) as area,
    from slabs
    join structures using (structure_id)
),
displacements as (
    select model_key, system, avg(displacement) as displacement, count(*) as n_free,
    from metal_surface_reconstructions.displacements
    group by all
),
reference as (
    select
        system,
        max(value) filter (where quantity = 'surface_energy') as ref,
        max(value) filter (where quantity = 'ranking_group')::integer as ranking_group,
    from reference_values
    where benchmark_key = 'metal_surface_reconstructions'
      and quantity in ('surface_energy', 'ranking_group')
    group by system
),
combined as (
    select
        slabs.model_key,
        slabs.system,
        combined_state([slabs.state, reservoirs.state]) as state,
        ev_to_mev((slabs.energy - reservoirs.sum_mu) / areas.area) as pred,
        ev_to_mev(reference.ref) as ref,
        displacements.displacement,
        displacements.n_free,
        reference.ranking_group,
        coalesce(slabs.frame_ids[-1], slabs.structure_id) as structure_id,
        slabs.structure_id as input_structure_id,
        slabs.properties['n_steps'] as n_steps,
    from slabs
    join reservoirs using (model_key, system)
    join areas using (model_key, system)
    join reference using (system)
    left join displacements using (model_key, system)
    where reservoirs.is_complete
)
select
    model_key,
    system,
    'surface_energy' as quantity,
    case when state = 'ok' then pred end as pred,
    ref,
    'meV/Å²' as unit,
    state,
    displacement,
    n_free,
    ranking_group,
    structure_id,
    input_structure_id,
    n_steps,
from combined;

-- grain: one row per (model, ranking triple) whose three slabs are ok: whether the model
-- finds the triple's lowest and highest surface energies where DFT does
create or replace view metal_surface_reconstructions.rankings as
select
    model_key,
    ranking_group,
    arg_min(system, pred) = arg_min(system, ref) as is_lowest_right,
    arg_max(system, pred) = arg_max(system, ref) as is_highest_right,
from metal_surface_reconstructions.points
where ranking_group is not null
group by all
having count(*) = 3 and count(*) filter (where state = 'ok') = 3;

-- grain: one row per (model, metric)
create or replace view metal_surface_reconstructions.metrics as
with energies as (
    select model_key, ok_mae(pred, ref, state) as value,
    from metal_surface_reconstructions.points
    group by model_key
),
displacements as (
    select model_key, avg(displacement) filter (where state = 'ok') as value,
    from metal_surface_reconstructions.displacements
    group by model_key
),
rankings as (
    select
        model_key,
        1 - 0.5 * avg(is_lowest_right::integer) - 0.5 * avg(is_highest_right::integer)
            as value,
    from metal_surface_reconstructions.rankings
    group by model_key
),
models as (
    select model_key from energies
    union
    select model_key from displacements
)
select models.model_key, 'MAE' as metric_key, energies.value,
from models
left join energies using (model_key)
union all
select models.model_key, 'Displacement' as metric_key, displacements.value,
from models
left join displacements using (model_key)
union all
select models.model_key, 'Ranking Error' as metric_key, rankings.value,
from models
left join rankings using (model_key);
