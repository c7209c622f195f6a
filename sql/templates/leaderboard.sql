-- grain: one row per model; overall score then, per category, a score, a state and marks,
-- then the model's kind ('mlip', or 'baseline' for reference methods such as GFN2-xTB).
-- The category columns are, for every category key <c>:
--     max(score) filter (where category_key = '<c>') as <c>,
--     coalesce(max(state) filter (where category_key = '<c>'), 'not_run') as <c>__state,
--     <c>__marks: 'D3' when one of its benchmarks was scored with D3(BJ) added, 'quick' when
--     one was scored on a quick band or subset only ('D3 quick' both; null neither)
-- Category scores are computed once (a materialised CTE) and the overall score derived
-- from them here, instead of reading overall_scores and category_scores separately,
-- which made DuckDB evaluate every benchmark's views twice.
create or replace view leaderboard as
with categories_scored as materialized (
    select * from category_scores
),
per_model as (
    select
        model_key,
        weighted_mean(score, category_weight) as overall,
        summary_state(list(state)) as state,
        ${category_columns},
    from categories_scored
    group by model_key
)
select per_model.*, coalesce(models.kind, 'mlip') as model_kind,
from per_model
left join models on models.model_key = per_model.model_key
order by overall desc nulls last, per_model.model_key;
