create schema if not exists elemental_eos;

-- grain: one row per (model, element): the model's Birch–Murnaghan fit next to WIEN2k's and
-- their Δ-gauge (per atom: V0 Å³, B0 eV/Å³, Δ eV)
create or replace view elemental_eos.fits as
with fits as (
    select * from eos_fits('elemental_eos', 'v')
),
reference as (
    pivot (
        select system, quantity, value from reference_values
        where benchmark_key = 'elemental_eos'
    ) on quantity in ('v0', 'b0', 'b0_prime') using any_value(value)
)
select
    fits.model_key,
    fits.system,
    fits.v0,
    fits.b0,
    fits.b0_prime,
    reference.v0 as ref_v0,
    reference.b0 as ref_b0,
    reference.b0_prime as ref_b0_prime,
    delta_gauge(fits.v0, fits.b0, fits.b0_prime, reference.v0, reference.b0, reference.b0_prime)
        as delta_ev,
    fits.n_points,
    fits.state,
    fits.structure_id,
from fits
join reference using (system);

-- grain: one row per (model, element, quantity): Δ (meV/atom), V0 (Å³/atom), B0 (GPa)
create or replace view elemental_eos.points as
with fits as (
    select * from elemental_eos.fits
),
quantities as (
    select model_key, system, 'delta' as quantity, ev_to_mev(delta_ev) as pred, 0.0 as ref,
        'meV/atom' as unit, state, structure_id,
    from fits
    union all
    select model_key, system, 'v0', v0, ref_v0, 'Å³/atom', state, structure_id,
    from fits
    union all
    select model_key, system, 'b0', ev_per_a3_to_gpa(b0), ev_per_a3_to_gpa(ref_b0), 'GPa',
        state, structure_id,
    from fits
)
select
    model_key,
    system,
    quantity,
    pred,
    ref,
    unit,
    case when state = 'ok' and pred is null then 'failed' else state end as state,
    structure_id,
from quantities;

-- grain: one row per (model, metric)
create or replace view elemental_eos.metrics as
select
    model_key,
    metric_key,
    case metric_key when 'Δ' then avg(pred) else avg(abs(pred - ref)) end as value,
from (
    select
        *,
        case quantity when 'delta' then 'Δ' when 'v0' then 'V0 MAE' else 'B0 MAE' end
            as metric_key,
    from elemental_eos.points
    where state = 'ok'
)
group by model_key, metric_key;
