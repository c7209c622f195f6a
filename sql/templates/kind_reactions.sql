-- Default views of a reaction benchmark (kind: reactions) that has no views.sql of its
-- own: species energies combined by the stoichiometry of each reaction, in kcal/mol.
-- Rendered with the benchmark's schema, key, quantity (its metrics' `quantity`) and the
-- metric keys it declares.
create schema if not exists ${schema};

-- grain: one row per (model, reaction); pred and ref = Σ coefficient × energy
create or replace view ${schema}.points as
select * from reaction_points_kcal_per_mol('${key}', '${quantity}');

-- grain: one row per (model, metric): 'MAE' over every reaction and '<subset> MAE' over
-- each subset, whichever of them benchmark.yml declares
create or replace view ${schema}.metrics as
with overall as (
    select model_key, 'MAE' as metric_key, ok_mae(pred, ref, state) as value,
    from ${schema}.points
    group by model_key
),
per_subset as (
    select model_key, subset || ' MAE' as metric_key, ok_mae(pred, ref, state) as value,
    from ${schema}.points
    group by model_key, subset
)
select * from (select * from overall union all select * from per_subset)
where metric_key in (${metric_keys});
