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

-- grain: one row per (model, metric). The conformer score is mlipaudit's: a per-molecule
-- value x against a threshold t scores 1 up to t, then exp(−3 (x − t) / t), and no value
-- (a failed molecule) scores 0; MAE (t = 0.5 kcal/mol) and RMSE (t = 1.5 kcal/mol) halves
-- are averaged over molecules. Molecules with an unsupported or filtered conformer count in
-- neither metric.
create or replace view folmsbee.metrics as
with scored as (
    select
        model_key,
        mae,
        state,
        case
            when mae is null then 0.0 when mae <= 0.5 then 1.0 else exp(-3.0 * (mae - 0.5) / 0.5)
        end as mae_score,
        case
            when rmse is null then 0.0 when rmse <= 1.5 then 1.0 else exp(-3.0 * (rmse - 1.5) / 1.5)
        end as rmse_score,
    from folmsbee.molecules
    where state in ('ok', 'failed')
)
select model_key, 'MAE' as metric_key, avg(mae) filter (where state = 'ok') as value
from scored
group by model_key
union all
select model_key, 'Conformer Score' as metric_key, (avg(mae_score) + avg(rmse_score)) / 2 as value
from scored
group by model_key;
