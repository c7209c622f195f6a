create schema if not exists diatomics;

-- grain: one row per (model, pair, distance): the curve of each pair, energies shifted to
-- zero at the largest distance, and the force on the second atom along the bond from the
-- first (positive = repulsive)
create or replace view diatomics.points as
with predictions as (
    select * from benchmark_predictions where benchmark_key = 'diatomics'
),
geometry as (
    select
        predictions.*,
        structures.positions[1] as first_position,
        structures.positions[2] as second_position,
        sqrt(list_sum(range(1, 4).list_transform(
            lambda k: (structures.positions[2][k] - structures.positions[1][k]) ^ 2
        ))) as distance,
    from predictions
    join structures using (structure_id)
),
curves as (
    select
        *,
        energy - first_value(energy) over (
            partition by model_key, system order by distance desc
        ) as shifted_energy,
        list_sum(range(1, 4).list_transform(
            lambda k: forces[2][k] * (second_position[k] - first_position[k])
        )) / distance as force_parallel,
    from geometry
)
select
    model_key,
    system,
    'energy' as quantity,
    shifted_energy as pred,
    null::double as ref,
    'eV' as unit,
    state,
    structure_id,
    distance,
    energy,
    force_parallel,
    split_part(system, '-', 1) as element_1,
    split_part(system, '-', 2) as element_2,
from curves;

-- grain: one row per (model, pair): ML-PEG's counts and rank correlations of one curve,
-- computed only for curves whose every point is ok
create or replace view diatomics.pair_metrics as
with curve as (
    select model_key, system, distance, pred as energy, force_parallel, state,
    from diatomics.points
),
pairs as (
    select model_key, system, combined_state(list(state)) as state, count(*) as n_points,
    from curve
    group by all
),
ok_curve as (
    select curve.*
    from curve
    join pairs using (model_key, system)
    where pairs.state = 'ok'
),
-- dE/dr and d²E/dr² as numpy.gradient takes them: central inside, one-sided at the ends
gradients as (
    select
        *,
        coalesce(
            (lead(energy) over w - lag(energy) over w)
                / (lead(distance) over w - lag(distance) over w),
            (lead(energy) over w - energy) / (lead(distance) over w - distance),
            (energy - lag(energy) over w) / (distance - lag(distance) over w)
        ) as gradient,
    from ok_curve
    window w as (partition by model_key, system order by distance)
),
curvatures as (
    select
        *,
        coalesce(
            (lead(gradient) over w - lag(gradient) over w)
                / (lead(distance) over w - lag(distance) over w),
            (lead(gradient) over w - gradient) / (lead(distance) over w - distance),
            (gradient - lag(gradient) over w) / (distance - lag(distance) over w)
        ) as curvature,
    from gradients
    window w as (partition by model_key, system order by distance)
),
-- sign changes along the curve, ignoring values within a tolerance of zero
force_signs as (
    select
        model_key,
        system,
        sign(force_parallel) != lag(sign(force_parallel)) over w as is_flip,
    from ok_curve
    where abs(force_parallel) > 1e-2
    window w as (partition by model_key, system order by distance)
),
curvature_signs as (
    select
        model_key,
        system,
        sign(curvature) != lag(sign(curvature)) over w as is_flip,
    from curvatures
    where abs(curvature) > 0.5
    window w as (partition by model_key, system order by distance)
),
sign_changes as (
    select
        pairs.model_key,
        pairs.system,
        count(force_signs.is_flip) filter (where force_signs.is_flip) as force_flips,
    from pairs
    left join force_signs using (model_key, system)
    group by all
),
inflections as (
    select
        pairs.model_key,
        pairs.system,
        count(curvature_signs.is_flip) filter (where curvature_signs.is_flip)
            as energy_inflections,
    from pairs
    left join curvature_signs using (model_key, system)
    group by all
),
-- energy minima as scipy.signal.find_peaks(−E, prominence=0.1) finds them: runs of equal
-- energies collapse to one point, a minimum is lower than both neighbours, and it counts
-- when it lies ≥ 0.1 eV below the lower of the highest points reached on either side
-- before the curve drops below it (or ends)
collapsed as (
    select model_key, system, distance, energy,
    from (
        select *, lag(energy) over (partition by model_key, system order by distance) as before,
        from ok_curve
    )
    where before is null or energy != before
),
indexed as (
    select
        *,
        row_number() over w as idx,
        lag(energy) over w as before,
        lead(energy) over w as after,
    from collapsed
    window w as (partition by model_key, system order by distance)
),
local_minima as (
    select model_key, system, idx, energy,
    from indexed
    where before > energy and after > energy
),
minimum_bounds as (
    select
        minimum.model_key,
        minimum.system,
        minimum.idx,
        minimum.energy,
        coalesce(max(point.idx) filter (where point.idx < minimum.idx
            and point.energy < minimum.energy), 0) as left_stop,
        coalesce(min(point.idx) filter (where point.idx > minimum.idx
            and point.energy < minimum.energy), max(point.idx) + 1) as right_stop,
    from local_minima as minimum
    join indexed as point using (model_key, system)
    group by all
),
prominences as (
    select
        bounds.model_key,
        bounds.system,
        least(
            max(point.energy) filter (where point.idx > bounds.left_stop
                and point.idx <= bounds.idx),
            max(point.energy) filter (where point.idx >= bounds.idx
                and point.idx < bounds.right_stop)
        ) - bounds.energy as prominence,
    from minimum_bounds as bounds
    join indexed as point using (model_key, system)
    group by bounds.model_key, bounds.system, bounds.idx, bounds.energy
),
minima as (
    select
        pairs.model_key,
        pairs.system,
        count(prominences.prominence) filter (where prominences.prominence >= 0.1)
            as energy_minima,
    from pairs
    left join prominences using (model_key, system)
    group by all
),
-- Spearman ρ(E, r) on each side of the lowest point (ties broken towards long range): the
-- repulsive side includes the well, the attractive side is everything beyond it
wells as (
    select model_key, system, first(distance order by energy, distance desc) as well_distance,
    from ok_curve
    group by all
),
sides as (
    select
        ok_curve.*,
        case when distance <= well_distance then 'repulsion' else 'attraction' end as side,
    from ok_curve
    join wells using (model_key, system)
),
ranks as (
    select
        model_key,
        system,
        side,
        row_number() over (partition by model_key, system, side order by distance)
            as distance_rank,
        (
            rank() over (partition by model_key, system, side order by energy)
            + count(*) over (partition by model_key, system, side) + 1
            - rank() over (partition by model_key, system, side order by energy desc)
        ) / 2 as energy_rank,
    from sides
),
correlations as (
    select
        model_key,
        system,
        max(rho) filter (where side = 'repulsion') as rho_repulsion,
        max(rho) filter (where side = 'attraction') as rho_attraction,
    from (
        select
            model_key,
            system,
            side,
            case when count(*) > 1 then nullif(corr(distance_rank, energy_rank), 'nan') end
                as rho,
        from ranks
        group by all
    )
    group by all
)
select
    pairs.model_key,
    pairs.system,
    pairs.state,
    pairs.n_points,
    case when pairs.state = 'ok' then sign_changes.force_flips end as force_flips,
    case when pairs.state = 'ok' then minima.energy_minima end as energy_minima,
    case when pairs.state = 'ok' then inflections.energy_inflections end as energy_inflections,
    correlations.rho_repulsion,
    correlations.rho_attraction,
from pairs
left join sign_changes using (model_key, system)
left join minima using (model_key, system)
left join inflections using (model_key, system)
left join correlations using (model_key, system);

-- grain: one row per (model, metric): each count and correlation averaged over the pairs
-- with a value (numpy.nanmean), as ML-PEG aggregates them
create or replace view diatomics.metrics as
with means as (
    select
        model_key,
        avg(force_flips) as "Force flips",
        avg(energy_minima) as "Energy minima",
        avg(energy_inflections) as "Energy inflections",
        avg(rho_repulsion) as "ρ(E, repulsion)",
        avg(rho_attraction) as "ρ(E, attraction)",
    from diatomics.pair_metrics
    group by model_key
)
select * from means unpivot include nulls (value for metric_key in (columns(* exclude (model_key))));
