create schema if not exists bmimcl_rdf;

-- grain: one row per (model, system, frame, Cl atom, C atom) closer than r_max: the
-- minimum-image Cl–C distance in a stored MD frame. The box is cubic (NVT, the cell never
-- changes), so the minimum image is taken along the cell's diagonal; the `frames` check in
-- benchmark.yml holds every frame to that. Binning follows ase.geometry.rdf.get_rdf as
-- ML-PEG calls it: r_max = (shortest cell length) / 2 − 0.01 Å, floor(50 r_max) bins of
-- width dr = r_max / n_bins, bin k (1-based) = ceil(d / dr) holding d in ((k − 1) dr, k dr].
create or replace view bmimcl_rdf.frames as
with predictions as (
    select * from benchmark_predictions where benchmark_key = 'BMIMCl_RDF'
),
frames as (
    select
        model_key,
        system,
        unnest(frame_ids) as structure_id,
        unnest(range(len(frame_ids))) as frame,
        len(frame_ids) as n_frames,
    from predictions
    where state = 'ok'
)
select
    frames.*,
    structures.cell,
    [structures.cell[1], structures.cell[5], structures.cell[9]] as lengths,
    structures.cell[1] * structures.cell[5] * structures.cell[9] as volume,
    least(structures.cell[1], structures.cell[5], structures.cell[9]) / 2 - 0.01 as r_max,
    floor(50 * (least(structures.cell[1], structures.cell[5], structures.cell[9]) / 2 - 0.01))
        ::integer as n_bins,
    len(list_filter(structures.numbers, lambda z: z = 17)) as n_cl,
    len(list_filter(structures.numbers, lambda z: z = 6)) as n_c,
    structures.numbers,
    structures.positions,
from frames
join structures using (structure_id);

create or replace view bmimcl_rdf.pairs as
with atoms as (
    select
        model_key, system, frame, lengths, volume, r_max, n_bins, n_cl, n_c,
        unnest(numbers) as z,
        unnest(positions) as position,
    from bmimcl_rdf.frames
),
chlorine as (select * from atoms where z = 17),
carbon as (select model_key, system, frame, position, from atoms where z = 6),
vectors as (
    select
        chlorine.model_key, chlorine.system, chlorine.frame, chlorine.volume, chlorine.r_max,
        chlorine.n_bins, chlorine.n_cl, chlorine.n_c,
        list_transform(
            [1, 2, 3],
            lambda k: (carbon.position[k] - chlorine.position[k])
                - chlorine.lengths[k]
                * round((carbon.position[k] - chlorine.position[k]) / chlorine.lengths[k])
        ) as delta,
    from chlorine
    join carbon using (model_key, system, frame)
)
select
    model_key, system, frame, volume, r_max, n_bins, n_cl, n_c,
    sqrt(list_sum(list_transform(delta, lambda x: x * x))) as distance,
from vectors
where sqrt(list_sum(list_transform(delta, lambda x: x * x))) <= r_max;

-- grain: one row per (model, system, bin): the Cl–C g(r) averaged over the frames, r at the
-- bin's middle. A pair at distance d in a frame adds V / (N_Cl N_C ΔV_k) to its bin, ΔV_k
-- the exact volume of the shell; the sum over frames is divided by the number of frames,
-- so frames without any pair in a bin count as zero there.
create or replace view bmimcl_rdf.rdf as
with geometry as (
    select model_key, system, any_value(n_frames) as n_frames, any_value(r_max) as r_max,
        any_value(n_bins) as n_bins,
    from bmimcl_rdf.frames
    group by model_key, system
),
bins as (
    select model_key, system, n_frames, r_max / n_bins as dr,
        unnest(range(1, n_bins + 1)) as bin,
    from geometry
),
counts as (
    select
        model_key, system,
        ceil(distance / (r_max / n_bins))::integer as bin,
        sum(volume / (n_cl * n_c
            * 4 / 3 * pi() * (pow(ceil(distance / (r_max / n_bins)) * (r_max / n_bins), 3)
                - pow((ceil(distance / (r_max / n_bins)) - 1) * (r_max / n_bins), 3))))
            as g_sum,
        count(*) as n_pairs,
    from bmimcl_rdf.pairs
    where distance > 0
    group by all
)
select
    bins.model_key,
    bins.system,
    bins.bin,
    (bins.bin - 0.5) * bins.dr as r,
    coalesce(counts.g_sum, 0) / bins.n_frames as g,
    coalesce(counts.n_pairs, 0) as n_pairs,
from bins
left join counts using (model_key, system, bin);

-- grain: one row per (model, system): 1 when the g(r) peaks above 0.1 anywhere below 2.5 Å
-- (bin middles, as ML-PEG), i.e. the model bonded chloride to carbon; 0 otherwise. ref = 0.
create or replace view bmimcl_rdf.points as
with predictions as (
    select * from benchmark_predictions where benchmark_key = 'BMIMCl_RDF'
),
peaks as (
    select model_key, system, max(g) filter (where r < 2.5) as peak_g_below_2_5,
    from bmimcl_rdf.rdf
    group by model_key, system
),
closest as (
    select model_key, system, min(distance) as closest_cl_c,
    from bmimcl_rdf.pairs
    group by model_key, system
)
select
    predictions.model_key,
    predictions.system,
    'cl_c_bonds_formed' as quantity,
    case when peaks.peak_g_below_2_5 > 0.1 then 1.0 when peaks.system is not null then 0.0 end
        as pred,
    0.0 as ref,
    '' as unit,
    peaks.peak_g_below_2_5,
    closest.closest_cl_c,
    len(predictions.frame_ids) as n_frames,
    case when predictions.state = 'ok' and peaks.system is null then 'failed'
        else predictions.state end as state,
    coalesce(predictions.error, case when predictions.state = 'ok' and peaks.system is null
        then 'no stored frames' end) as error,
    coalesce(predictions.frame_ids[-1], predictions.structure_id) as structure_id,
from predictions
left join peaks using (model_key, system)
left join closest using (model_key, system);

-- grain: one row per (model, metric); null for a model whose trajectory failed (scored
-- 'failed', not 'not run')
create or replace view bmimcl_rdf.metrics as
select model_key, 'Cl-C Bonds Formed' as metric_key, max(pred) filter (where state = 'ok') as value,
from bmimcl_rdf.points
group by model_key;
