create schema if not exists high_pressure_relaxation;

-- grain: one row per (model, material, pressure, quantity): the relaxed volume (Å³/atom) and
-- enthalpy H = E + PV (eV/atom) against Alexandria's at that pressure
create or replace view high_pressure_relaxation.points as
with predictions as (
    select
        *,
        role as pressure_label,
        cast(right(role, 3) as integer) as pressure_gpa,
    from benchmark_predictions
    where benchmark_key = 'high_pressure_relaxation'
),
reference as (
    select system, quantity, value as ref,
    from reference_values
    where benchmark_key = 'high_pressure_relaxation'
),
relaxed as (
    select
        model_key,
        system || '@' || pressure_label as system,
        pressure_gpa,
        properties['volume'] / n_atoms as volume_per_atom,
        (energy + pressure_gpa / ev_per_a3_to_gpa(1.0) * properties['volume']) / n_atoms
            as enthalpy_per_atom,
        state,
        error,
        coalesce(frame_ids[-1], structure_id) as structure_id,
    from predictions
),
quantities as (
    select * exclude (volume_per_atom, enthalpy_per_atom),
        'volume_per_atom' as quantity, volume_per_atom as pred, 'Å³/atom' as unit,
    from relaxed
    union all
    select * exclude (volume_per_atom, enthalpy_per_atom),
        'enthalpy_per_atom', enthalpy_per_atom, 'eV/atom',
    from relaxed
)
select
    quantities.model_key,
    quantities.system,
    quantities.pressure_gpa,
    quantities.quantity,
    quantities.pred,
    reference.ref,
    quantities.unit,
    case when quantities.state = 'ok' and quantities.pred is null then 'failed'
        else quantities.state end as state,
    quantities.error,
    quantities.structure_id,
from quantities
join reference using (system, quantity);

-- grain: one row per (model, metric): per pressure, the volume and enthalpy MAE over
-- converged relaxations and the share of relaxations that converged (%)
create or replace view high_pressure_relaxation.metrics as
with points as (
    select * from high_pressure_relaxation.points
),
per_pressure as (
    select
        model_key,
        pressure_gpa,
        avg(abs(pred - ref)) filter (where state = 'ok' and quantity = 'volume_per_atom')
            as volume_mae,
        avg(abs(pred - ref)) filter (where state = 'ok' and quantity = 'enthalpy_per_atom')
            as energy_mae,
        100.0 * count(*) filter (where state = 'ok' and quantity = 'volume_per_atom')
            / count(*) filter (where quantity = 'volume_per_atom') as convergence,
    from points
    where state in ('ok', 'failed')
    group by model_key, pressure_gpa
)
select model_key, printf('Volume MAE (%d GPa)', pressure_gpa) as metric_key, volume_mae as value,
from per_pressure
union all
select model_key, printf('Energy MAE (%d GPa)', pressure_gpa), energy_mae, from per_pressure
union all
select model_key, printf('Convergence (%d GPa)', pressure_gpa), convergence, from per_pressure;
