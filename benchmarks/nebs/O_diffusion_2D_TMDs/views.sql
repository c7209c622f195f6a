create schema if not exists o_diffusion_2d_tmds;

-- grain: one row per (model, compound, image): the relaxed band, energies relative to the
-- initial image (eV), each image a stored structure
create or replace view o_diffusion_2d_tmds.images as
select * from neb_images('O_diffusion_2D_TMDs');

-- grain: one row per (model, compound): the climbing-image barrier (highest image minus the
-- initial one, eV) against PBE; the structure shown is the saddle image
create or replace view o_diffusion_2d_tmds.points as
with predictions as (
    select * from benchmark_predictions where benchmark_key = 'O_diffusion_2D_TMDs'
),
reference as (
    select system, value as ref,
    from reference_values
    where benchmark_key = 'O_diffusion_2D_TMDs' and quantity = 'barrier'
)
select
    predictions.model_key,
    predictions.system,
    'barrier' as quantity,
    case when predictions.state = 'ok' then predictions.properties['barrier'] end as pred,
    reference.ref,
    'eV' as unit,
    predictions.state,
    coalesce(
        predictions.frame_ids[predictions.properties['saddle_index']::integer + 1],
        predictions.structure_id
    ) as structure_id,
    len(predictions.frame_ids) as n_images,
    predictions.n_atoms,
from predictions
join reference using (system);

-- grain: one row per (model, metric): the absolute barrier error of each compound
create or replace view o_diffusion_2d_tmds.metrics as
select
    model_key,
    system || ' barrier error' as metric_key,
    case when state = 'ok' then abs(pred - ref) end as value,
from o_diffusion_2d_tmds.points;
