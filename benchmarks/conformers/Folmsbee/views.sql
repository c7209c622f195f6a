create schema if not exists folmsbee;

-- grain: one row per (model, conformer), each molecule's lowest reference conformer included
-- (prediction and reference 0 there by construction); kcal/mol relative to that conformer
create or replace view folmsbee.conformers as
select *, subset as molecule, n_species = 1 as is_lowest_reference,
from reaction_points_kcal_per_mol('Folmsbee', 'conformer_energy');

-- grain: one row per (model, conformer) other than each molecule's zero
create or replace view folmsbee.points as
select * exclude (is_lowest_reference)
from folmsbee.conformers
where not is_lowest_reference;

-- grain: one row per (model, molecule): MAE and RMSE over its conformers, zero included
create or replace view folmsbee.molecules as
with per_molecule as (
    select
        model_key,
        molecule,
        count(*) as n_conformers,
        combined_state(list(state)) as state,
        avg(abs(pred - ref)) as mae,
        sqrt(avg((pred - ref) ^ 2)) as rmse,
    from folmsbee.conformers
    group by model_key, molecule
)
select
    model_key,
    molecule,
    n_conformers,
    state,
    case when state = 'ok' then mae end as mae,
    case when state = 'ok' then rmse end as rmse,
from per_molecule;

-- mlipaudit's soft threshold: 1 up to t, then exp(−3 (x − t) / t); no value (failed) scores 0
create or replace macro folmsbee.soft_threshold(x, t) as
    case when x is null then 0.0 when x <= t then 1.0 else exp(-3.0 * (x - t) / t) end;

-- grain: one row per (model, metric); molecules with an unsupported or filtered conformer
-- count in neither metric, failed ones score 0 in the conformer score
create or replace view folmsbee.metrics as
select model_key, 'MAE' as metric_key, avg(mae) filter (where state = 'ok') as value
from folmsbee.molecules
group by model_key
union all
select
    model_key,
    'Conformer Score' as metric_key,
    (
        avg(folmsbee.soft_threshold(mae, 0.5)) + avg(folmsbee.soft_threshold(rmse, 1.5))
    ) / 2 as value,
from folmsbee.molecules
where state in ('ok', 'failed')
group by model_key;
