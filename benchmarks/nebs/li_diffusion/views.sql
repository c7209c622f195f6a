create schema if not exists li_diffusion;

-- grain: one row per (model, path, image): the relaxed band, energies relative to the
-- initial image (eV), each image a stored structure
create or replace view li_diffusion.images as
select * from neb_images('li_diffusion');

-- grain: one row per (model, path): the climbing-image barrier against the reference
create or replace view li_diffusion.points as
with predictions as (
    select * from benchmark_predictions where benchmark_key = 'li_diffusion'
),
reference as (
    select system, value as ref,
    from reference_values
    where benchmark_key = 'li_diffusion' and quantity = 'barrier'
)
select
    predictions.model_key,
    predictions.system,
    'barrier' as quantity,
    predictions.properties['barrier'] as pred,
    reference.ref,
    'eV' as unit,
    predictions.state,
    coalesce(
        predictions.frame_ids[predictions.properties['saddle_index']::integer + 1],
        predictions.structure_id
    ) as structure_id,
    predictions.properties['converged'] = 1 as is_converged,
    len(predictions.frame_ids) as n_images,
from predictions
join reference using (system);

-- grain: one row per (model, metric)
create or replace view li_diffusion.metrics as
select
    model_key,
    case system when 'path_b' then 'Path B error' else 'Path C error' end as metric_key,
    case when state = 'ok' then abs(pred - ref) end as value,
from li_diffusion.points;
