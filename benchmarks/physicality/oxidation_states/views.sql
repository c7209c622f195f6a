create schema if not exists oxidation_states;

-- grain: one row per (model, salt, bin): the Fe–O radial distribution function averaged over
-- the stored MD frames, 200 bins to 6 Å (as ML-PEG with ASE's get_rdf), minimum image in the
-- orthorhombic box; g(r) = V ⟨n(r)⟩ / (N_Fe N_O V_shell), V_shell = 4π/3 ((r + dr)³ − r³)
create or replace view oxidation_states.rdf as
with predictions as (
    select * from benchmark_predictions
    where benchmark_key = 'oxidation_states' and state = 'ok'
),
frames as (
    select model_key, system, unnest(frame_ids) as structure_id, len(frame_ids) as n_frames,
    from predictions
),
atoms as (
    select
        frames.model_key,
        frames.system,
        frames.structure_id,
        frames.n_frames,
        [structures.cell[1], structures.cell[5], structures.cell[9]] as box,
        unnest(structures.numbers) as number,
        unnest(structures.positions) as position,
    from frames
    join structures using (structure_id)
),
pairs as (
    select
        iron.model_key,
        iron.system,
        iron.n_frames,
        iron.box[1] * iron.box[2] * iron.box[3] as volume,
        sqrt(list_sum(list_transform(
            range(3),
            lambda k: pow(
                (oxygen.position[k + 1] - iron.position[k + 1])
                - iron.box[k + 1] * round(
                    (oxygen.position[k + 1] - iron.position[k + 1]) / iron.box[k + 1]
                ),
                2
            )
        ))) as distance,
    from atoms as iron
    join atoms as oxygen
        on oxygen.structure_id = iron.structure_id
        and oxygen.model_key = iron.model_key
        and oxygen.system = iron.system
    where iron.number = 26 and oxygen.number = 8
),
oxygen_counts as (
    select model_key, system, max(n_oxygen) as n_oxygen,
    from (
        select model_key, system, structure_id, count(*) filter (where number = 8) as n_oxygen,
        from atoms
        group by all
    )
    group by all
),
bins as (
    select model_key, system, unnest(range(200)) as bin, 6.0 / 200 as width,
    from predictions
),
counts as (
    select model_key, system, floor(distance / (6.0 / 200))::integer as bin, count(*) as n,
        any_value(n_frames) as n_frames, avg(volume) as volume,
    from pairs
    where distance < 6.0
    group by all
)
select
    bins.model_key,
    bins.system,
    bins.bin,
    (bins.bin + 0.5) * bins.width as r,
    coalesce(
        counts.volume * counts.n / counts.n_frames
            / (oxygen_counts.n_oxygen * 4 / 3 * pi()
                * (pow(bins.bin + 1, 3) - pow(bins.bin, 3)) * pow(bins.width, 3)),
        0.0
    ) as g,
from bins
join oxygen_counts using (model_key, system)
left join counts using (model_key, system, bin);

-- grain: one row per (model, salt): the first (highest) Fe–O peak against the experimental
-- range; `ref` is the nearest point of the range, `deviation` the distance from it in units
-- of the range's width
create or replace view oxidation_states.points as
with predictions as (
    select * from benchmark_predictions where benchmark_key = 'oxidation_states'
),
ranges as (
    pivot (
        select system, quantity, value from reference_values
        where benchmark_key = 'oxidation_states'
    ) on quantity in ('peak_low', 'peak_high') using any_value(value)
),
peaks as (
    select model_key, system, arg_max(r, g) as peak,
    from oxidation_states.rdf
    group by all
)
select
    predictions.model_key,
    predictions.system,
    'peak_position' as quantity,
    peaks.peak as pred,
    greatest(ranges.peak_low, least(ranges.peak_high, peaks.peak)) as ref,
    ranges.peak_low,
    ranges.peak_high,
    abs(peaks.peak - greatest(ranges.peak_low, least(ranges.peak_high, peaks.peak)))
        / (ranges.peak_high - ranges.peak_low) as deviation,
    'Å' as unit,
    case when predictions.state = 'ok' and peaks.peak is null then 'failed'
        else predictions.state end as state,
    predictions.error,
    coalesce(predictions.frame_ids[-1], predictions.structure_id) as structure_id,
from predictions
join ranges using (system)
left join peaks using (model_key, system);

-- grain: one row per (model, metric): whether the two RDFs differ (half the summed absolute
-- difference of the sum-normalised g(r) above 0.2, as ML-PEG) and each peak's deviation
create or replace view oxidation_states.metrics as
with normalised as (
    select model_key, system, bin, g / sum(g) over (partition by model_key, system) as n,
    from oxidation_states.rdf
),
split as (
    select
        fe2.model_key,
        case when sum(abs(fe2.n - fe3.n)) / 2 > 0.2 then 1.0 else 0.0 end as value,
    from normalised as fe2
    join normalised as fe3
        on fe3.model_key = fe2.model_key and fe3.bin = fe2.bin and fe3.system = 'Fe3Cl'
    where fe2.system = 'Fe2Cl'
    group by fe2.model_key
),
ok_points as (
    select * from oxidation_states.points where state = 'ok'
)
select model_key, 'Fe-O RDF Peak Split' as metric_key, value, from split
union all
select
    model_key,
    case system when 'Fe2Cl' then 'Fe +2 Peak Experimental Ref Deviation'
        else 'Fe +3 Peak Experimental Ref Deviation' end,
    deviation,
from ok_points;
