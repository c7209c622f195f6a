create schema if not exists lattice_constants;

-- grain: one row per (model, solid, reference): the relaxed lattice constant a = (4 V)^(1/3)
-- of the two-atom fcc-lattice primitive cell, against experiment and against PBE (Å)
create or replace view lattice_constants.points as
with predictions as (
    select * from benchmark_predictions where benchmark_key = 'lattice_constants'
),
reference as (
    select system, quantity, value as ref,
    from reference_values
    where benchmark_key = 'lattice_constants'
),
relaxed as (
    select
        model_key,
        system,
        cbrt(4 * properties['volume']) as lattice_constant,
        state,
        coalesce(frame_ids[-1], structure_id) as structure_id,
        structure_id as input_structure_id,
    from predictions
)
select
    relaxed.model_key,
    relaxed.system,
    reference.quantity,
    relaxed.lattice_constant as pred,
    reference.ref,
    'Å' as unit,
    relaxed.state,
    relaxed.structure_id,
    relaxed.input_structure_id,
from relaxed
join reference using (system);

-- grain: one row per (model, metric)
create or replace view lattice_constants.metrics as
select
    model_key,
    case quantity when 'lattice_constant_exp' then 'MAE (Experimental)' else 'MAE (PBE)' end
        as metric_key,
    avg(abs(pred - ref)) filter (where state = 'ok') as value,
from lattice_constants.points
group by all;
