-- Scoring, once, for every benchmark: metric -> benchmark -> category -> overall.
-- Reads the generated unions `all_points` and `all_metrics` (one per benchmark schema).

-- grain: at most one row: the saved profile named by `mlpeg_profile` (none when unset).
-- Every column passes through a check, so scoring under an unknown name is an error,
-- never a silent fall-back to the defaults.
create or replace view active_profile as
with wanted as (
    select getvariable('mlpeg_profile')::varchar as profile_name
)
select
    wanted.profile_name,
    case
        when profiles.profile_name is null then error(
            'Unknown scoring profile ''' || wanted.profile_name
            || ''' (mlpeg profile list shows the saved ones).'
        )
        else profiles.category_weights
    end as category_weights,
    case
        when profiles.profile_name is null
            then error('Unknown scoring profile ''' || wanted.profile_name || '''.')
        else profiles.unlisted_category_weight
    end as unlisted_category_weight,
    case
        when profiles.profile_name is null
            then error('Unknown scoring profile ''' || wanted.profile_name || '''.')
        else profiles.benchmark_weights
    end as benchmark_weights,
    case
        when profiles.profile_name is null
            then error('Unknown scoring profile ''' || wanted.profile_name || '''.')
        else profiles.metric_overrides
    end as metric_overrides,
from wanted
left join scoring_profiles as profiles using (profile_name)
where wanted.profile_name is not null;

-- grain: one row per (benchmark, metric) with an override: those set with SET VARIABLE
-- (mlpeg_metric_overrides) win, field by field, over those of the active profile
create or replace view metric_overrides as
with
from_variable as (
    select unnest(
        coalesce(getvariable('mlpeg_metric_overrides'), [])::struct(
            benchmark_key varchar, metric_key varchar, good double, bad double, weight double
        )[],
        recursive := true
    )
),

from_profile as (
    select unnest(coalesce(metric_overrides, []), recursive := true) from active_profile
)

select
    benchmark_key,
    metric_key,
    coalesce(from_variable.good, from_profile.good) as good,
    coalesce(from_variable.bad, from_profile.bad) as bad,
    coalesce(from_variable.weight, from_profile.weight) as weight,
from from_variable
full join from_profile using (benchmark_key, metric_key);

-- grain: one row per (benchmark, metric), thresholds and weights after overrides
create or replace view scoring_definitions as
select
    definitions.benchmark_key,
    definitions.metric_key,
    benchmarks.category_key,
    definitions.title,
    definitions.unit,
    coalesce(overrides.good, definitions.good) as good,
    coalesce(overrides.bad, definitions.bad) as bad,
    coalesce(overrides.weight, definitions.weight) as weight,
    definitions.level_of_theory,
    definitions.tooltip,
    definitions.display_order,
from metric_definitions as definitions
join benchmarks using (benchmark_key)
left join metric_overrides as overrides using (benchmark_key, metric_key);

-- grain: one row per (benchmark, model, state): how many points are in it (all the
-- scoring needs of the points; the app supplies it precomputed for its element filters)
create or replace view point_state_counts as
select benchmark_key, model_key, state, count(*) as n_points,
from all_points
group by all;

-- grain: one row per (model, benchmark): how many points are in each state
create or replace view benchmark_coverage as
select
    benchmark_key,
    model_key,
    sum(n_points)::bigint as n_points,
    coalesce(sum(n_points) filter (where state = 'ok'), 0)::bigint as n_ok,
    coalesce(sum(n_points) filter (where state = 'failed'), 0)::bigint as n_failed,
    coalesce(sum(n_points) filter (where state = 'unsupported'), 0)::bigint as n_unsupported,
    coalesce(sum(n_points) filter (where state = 'filtered'), 0)::bigint as n_filtered,
from point_state_counts
group by all;

-- grain: one row per model on the leaderboard (registered, not test-only, has a run)
create or replace view leaderboard_models as
select models.*
from models
where not is_test_only
  and model_key in (select model_key from selected_runs);

-- grain: one row per (model, benchmark, metric)
create or replace view metric_scores as
with ran as (
    select model_key, benchmark_key, dispersion, band, from selected_runs
),
scored as (
    select
        leaderboard_models.model_key,
        definitions.category_key,
        definitions.benchmark_key,
        definitions.metric_key,
        metric_values.value,
        definitions.unit,
        definitions.good,
        definitions.bad,
        definitions.weight,
        metric_score(metric_values.value, definitions.good, definitions.bad) as score,
        case
            when ran.model_key is null then 'not_run'
            when metric_values.value is not null and not isnan(metric_values.value) then 'ok'
            -- the run has no point for this metric at all (e.g. a subset it did not reach)
            when metric_values.model_key is null then 'not_run'
            when coverage.n_points > 0 and coverage.n_filtered = coverage.n_points
                then 'filtered'
            when coverage.n_unsupported > 0 and coverage.n_failed = 0 then 'unsupported'
            else 'failed'
        end as state,
        coalesce(coverage.n_ok, 0) as n_ok,
        coalesce(coverage.n_points, 0) as n_points,
        definitions.display_order,
        ran.dispersion,  -- of the scored run: 'd3bj' where D3(BJ) was added
        ran.band,  -- of the scored run: 'quick' or 'subset' when not the full benchmark
    from leaderboard_models
    cross join scoring_definitions as definitions
    left join ran
        on ran.model_key = leaderboard_models.model_key
        and ran.benchmark_key = definitions.benchmark_key
    left join all_metrics as metric_values
        on metric_values.model_key = leaderboard_models.model_key
        and metric_values.benchmark_key = definitions.benchmark_key
        and metric_values.metric_key = definitions.metric_key
    left join benchmark_coverage as coverage
        on coverage.model_key = leaderboard_models.model_key
        and coverage.benchmark_key = definitions.benchmark_key
)
select * from scored;

-- grain: one row per (model, benchmark)
create or replace view benchmark_scores as
with weights as (
    select
        benchmark_key,
        -- SET VARIABLE first, then the active profile, then category.yml
        coalesce(
            map_extract_value(getvariable('mlpeg_benchmark_weights')::map(varchar, double),
                benchmark_key),
            map_extract_value((select benchmark_weights from active_profile), benchmark_key),
            weight
        ) as benchmark_weight,
    from benchmarks
)
select
    model_key,
    category_key,
    benchmark_key,
    weighted_mean(score, weight) as score,
    summary_state(list(state)) as state,
    any_value(benchmark_weight) as benchmark_weight,
    any_value(dispersion) as dispersion,
    any_value(band) as band,
from metric_scores
join weights using (benchmark_key)
group by all;

-- grain: one row per (model, category)
create or replace view category_scores as
with weights as (
    select
        category_key,
        -- SET VARIABLE first, then the active profile (a listed category, else its weight
        -- for unlisted ones), then category.yml
        coalesce(
            map_extract_value(getvariable('mlpeg_category_weights')::map(varchar, double),
                category_key),
            map_extract_value((select category_weights from active_profile), category_key),
            (select unlisted_category_weight from active_profile),
            weight
        ) as category_weight,
    from categories
)
select
    model_key,
    category_key,
    weighted_mean(score, benchmark_weight) as score,
    summary_state(list(state)) as state,
    any_value(category_weight) as category_weight,
    -- markers: some benchmark scored with D3(BJ) added / on a quick band or subset only
    coalesce(bool_or(dispersion = 'd3bj'), false) as with_d3,
    coalesce(bool_or(band in ('quick', 'subset')), false) as is_quick,
from benchmark_scores
join weights using (category_key)
group by all;

-- grain: one row per model
create or replace view overall_scores as
select
    model_key,
    weighted_mean(score, category_weight) as score,
    summary_state(list(state)) as state,
from category_scores
group by all;
