-- Speed against accuracy: each model's score (overall, or in one category) against its
-- measured cost, the median µs per atom of its single points on a device (the number of
-- model_speed_summary), with the Pareto front: a model is on it when no other model is at
-- least as accurate and at least as fast, and strictly better in one of the two. Models
-- without a score in the scope, or without timed single points (imported predictions),
-- are not placed. Scores follow the weights and thresholds set (variables or profile).

-- grain: one row per (scope, model, device); scope is 'overall' or a category key
create or replace view model_pareto as
with
categories_scored as materialized (
    select * from category_scores
),

scores as (
    -- the overall score as overall_scores computes it, from the one evaluation above
    select 'overall' as scope, model_key, weighted_mean(score, category_weight) as score,
    from categories_scored
    group by model_key
    union all
    select category_key as scope, model_key, score,
    from categories_scored
),

placed as (
    select
        scores.scope,
        scores.model_key,
        coalesce(models.kind, 'mlip') as model_kind,
        speed.device,
        scores.score,
        speed.median_us_per_atom as us_per_atom,
        speed.n_structures as n_timed_structures,
    from scores
    join model_speed_summary as speed using (model_key)
    left join models using (model_key)
    where scores.score is not null and speed.median_us_per_atom is not null
)

select
    placed.*,
    -- on the front among every placed model of the scope, whatever its device
    not exists (
        select 1 from placed as other
        where other.scope = placed.scope
          and other.score >= placed.score
          and other.us_per_atom <= placed.us_per_atom
          and (other.score > placed.score or other.us_per_atom < placed.us_per_atom)
    ) as is_pareto,
    -- on the front among the models timed on the same device
    not exists (
        select 1 from placed as other
        where other.scope = placed.scope
          and other.device is not distinct from placed.device
          and other.score >= placed.score
          and other.us_per_atom <= placed.us_per_atom
          and (other.score > placed.score or other.us_per_atom < placed.us_per_atom)
    ) as is_pareto_on_device,
from placed
order by scope, us_per_atom, model_key;
