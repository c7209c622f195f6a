-- 95 % bootstrap intervals of every score: metric, benchmark, category, overall.
--
-- Each run's points are resampled by system, with replacement, n_resamples times
-- (mlpeg.warehouse.intervals: 1,000 by default, fixed seed), and the benchmark's own
-- metrics view is evaluated on every resample; the values are stored per run in
-- run_metric_resamples. Here they go through the same scoring as the point estimates:
-- thresholds, weights and states come from metric_scores, benchmark_scores and
-- category_scores, the normalisation and the means from the macros metric_score and
-- weighted_mean. Resample r of one benchmark is combined with resample r of every other
-- (independent draws, so that is a draw of the whole leaderboard); a metric that cannot
-- be resampled (run_metric_intervals.reason says why) is held at its value in every
-- resample, and a score built partly from such metrics says so (is_partial).
-- The interval is the percentile interval: the 2.5 % and 97.5 % quantiles of the
-- resampled scores, interpolated linearly (quantile_cont, numpy's default 'linear').

-- The draw: the j-th system of resample r of a run with n systems (sorted by name, 0-based)
-- is bootstrap_index(salt, r, j, n) = fmix32(fmix32(salt xor r) xor j) mod n, where
-- fmix32 is MurmurHash3's 32-bit finaliser and salt the low 32 bits of
-- md5('<seed>:<benchmark_key>') read little-endian. Integer arithmetic only, so numpy
-- reproduces it exactly (tests/test_intervals.py); 32-bit values times 32-bit constants
-- stay below 2^64 in UBIGINT.
create or replace macro bootstrap_fmix32_a(x) as
    (xor(x, x >> 16) * 2246822507::ubigint) & 4294967295::ubigint;
create or replace macro bootstrap_fmix32_b(x) as
    (xor(x, x >> 13) * 3266489909::ubigint) & 4294967295::ubigint;
create or replace macro bootstrap_fmix32(x) as
    xor(
        bootstrap_fmix32_b(bootstrap_fmix32_a(x)),
        bootstrap_fmix32_b(bootstrap_fmix32_a(x)) >> 16
    );
create or replace macro bootstrap_salt(seed, benchmark_key) as
    (md5_number(seed::varchar || ':' || benchmark_key) % 4294967296)::ubigint;
create or replace macro bootstrap_index(salt, resample, draw, n) as
    bootstrap_fmix32(
        xor(bootstrap_fmix32(xor(salt::ubigint, resample::ubigint)), draw::ubigint)
    ) % n::ubigint;

-- grain: one row per (run, metric, resample): the stored resampled values with their names
create or replace view metric_resamples as
select
    intervals.run_id,
    intervals.benchmark_key,
    intervals.model_key,
    intervals.metric_key,
    resamples.resample,
    resamples.value,
from run_metric_resamples as resamples
join run_metric_intervals as intervals using (series_id);

-- The two halves of weighted_mean (sql/macros.sql): parts held at their value and
-- resampled parts are summed apart and added, which is weighted_mean over all of them.
create or replace macro weighted_sum(score, weight) as
    coalesce(sum(score * weight) filter (where score is not null and weight > 0), 0);
create or replace macro weight_sum(score, weight) as
    coalesce(sum(weight) filter (where score is not null and weight > 0), 0);

-- grain: one row per score (level, model, category, benchmark, metric) of the current
-- scoring: the point estimate, the interval of its resamples and, where there is none, why.
-- level is 'metric', 'benchmark', 'category' or 'overall'; the keys below a level are null.
-- The resamples are joined and grouped on integer ids; names are joined back at the end.
create or replace view score_intervals_live as
with
metrics_scored as materialized (
    select * from metric_scores
),

benchmarks_scored as materialized (
    select * from benchmark_scores
),

categories_scored as materialized (
    select * from category_scores
),

-- the stored resamples apply to the unfiltered points only
resampling as (
    select
        len(excluded_elements()) = 0
        and getvariable('mlpeg_exclusion_scenarios') is null as is_unfiltered,
),

metric_notes as materialized (
    select
        model_key,
        benchmark_key,
        metric_key,
        series_id,
        lo is not null and (select is_unfiltered from resampling) as is_resampled,
        reason,
    from run_metric_intervals
    semi join selected_runs using (run_id)
),

-- integer ids of every (model, benchmark), (model, category) and model
benchmark_ids as materialized (
    select
        model_key,
        benchmark_key,
        category_key,
        benchmark_weight,
        score,
        row_number() over (order by model_key, benchmark_key) as benchmark_id,
        dense_rank() over (order by model_key, category_key) as category_id,
        dense_rank() over (order by model_key) as model_id,
    from benchmarks_scored
),

category_ids as materialized (
    select distinct
        ids.model_key, ids.category_key, ids.category_id, ids.model_id,
        scored.category_weight, scored.score,
    from benchmark_ids as ids
    join categories_scored as scored using (model_key, category_key)
),

-- every resampled metric of the selected runs, with its thresholds and weight
series as materialized (
    select notes.series_id, ids.benchmark_id, scored.good, scored.bad, scored.weight,
    from metric_notes as notes
    join metrics_scored as scored using (model_key, benchmark_key, metric_key)
    join benchmark_ids as ids using (model_key, benchmark_key)
    where notes.is_resampled
),

metric_draws as (
    select
        series.series_id,
        series.benchmark_id,
        series.weight,
        draws.resample,
        metric_score(draws.value, series.good, series.bad) as score,
    from run_metric_resamples as draws
    join series using (series_id)
),

-- per (model, benchmark): the metrics that count and are not resampled
benchmark_fixed as materialized (
    select
        ids.benchmark_id,
        weighted_sum(held.score, held.weight) as fixed_sum,
        weight_sum(held.score, held.weight) as fixed_weight,
        weight_sum(held.score, held.weight) > 0 as is_partial,
    from benchmark_ids as ids
    left join (
        select * from metrics_scored
        anti join (select * from metric_notes where is_resampled) as notes
            using (model_key, benchmark_key, metric_key)
    ) as held using (model_key, benchmark_key)
    group by ids.benchmark_id
),

benchmark_draws as materialized (
    select
        draws.benchmark_id,
        draws.resample,
        (weighted_sum(draws.score, draws.weight) + any_value(fixed.fixed_sum))
            / nullif(weight_sum(draws.score, draws.weight) + any_value(fixed.fixed_weight), 0)
            as score,
        any_value(fixed.is_partial) as is_partial,
    from metric_draws as draws
    join benchmark_fixed as fixed using (benchmark_id)
    where draws.weight > 0
    group by draws.benchmark_id, draws.resample
),

resampled_benchmarks as materialized (
    select distinct benchmark_id, is_partial, from benchmark_draws
),

category_fixed as materialized (
    select
        ids.category_id,
        weighted_sum(held.score, held.benchmark_weight) as fixed_sum,
        weight_sum(held.score, held.benchmark_weight) as fixed_weight,
        weight_sum(held.score, held.benchmark_weight) > 0 as is_partial,
    from category_ids as ids
    left join (
        select * from benchmark_ids anti join resampled_benchmarks using (benchmark_id)
    ) as held using (category_id)
    group by ids.category_id
),

category_draws as materialized (
    select
        ids.category_id,
        draws.resample,
        (weighted_sum(draws.score, ids.benchmark_weight) + any_value(fixed.fixed_sum))
            / nullif(
                weight_sum(draws.score, ids.benchmark_weight) + any_value(fixed.fixed_weight), 0
            ) as score,
        any_value(fixed.is_partial) or bool_or(draws.is_partial) as is_partial,
    from benchmark_draws as draws
    join benchmark_ids as ids using (benchmark_id)
    join category_fixed as fixed using (category_id)
    where ids.benchmark_weight > 0
    group by ids.category_id, draws.resample
),

resampled_categories as materialized (
    select category_id, bool_or(is_partial) as is_partial, from category_draws group by all
),

overall_fixed as materialized (
    select
        models.model_id,
        weighted_sum(held.score, held.category_weight) as fixed_sum,
        weight_sum(held.score, held.category_weight) as fixed_weight,
        weight_sum(held.score, held.category_weight) > 0 as is_partial,
    from (select distinct model_id from category_ids) as models
    left join (
        select * from category_ids anti join resampled_categories using (category_id)
    ) as held using (model_id)
    group by models.model_id
),

overall_draws as (
    select
        ids.model_id,
        draws.resample,
        (weighted_sum(draws.score, ids.category_weight) + any_value(fixed.fixed_sum))
            / nullif(
                weight_sum(draws.score, ids.category_weight) + any_value(fixed.fixed_weight), 0
            ) as score,
        any_value(fixed.is_partial) or bool_or(draws.is_partial) as is_partial,
    from category_draws as draws
    join category_ids as ids using (category_id)
    join overall_fixed as fixed using (model_id)
    where ids.category_weight > 0
    group by ids.model_id, draws.resample
),

metric_intervals as (
    select
        series_id,
        quantile_cont(score, 0.025) as lo,
        quantile_cont(score, 0.975) as hi,
        count(*)::integer as n_resamples,
    from metric_draws
    group by series_id
),

benchmark_intervals as (
    select
        benchmark_id,
        quantile_cont(score, 0.025) as lo,
        quantile_cont(score, 0.975) as hi,
        count(*)::integer as n_resamples,
        bool_or(is_partial) as is_partial,
    from benchmark_draws
    group by benchmark_id
),

category_intervals as (
    select
        category_id,
        quantile_cont(score, 0.025) as lo,
        quantile_cont(score, 0.975) as hi,
        count(*)::integer as n_resamples,
        bool_or(is_partial) as is_partial,
    from category_draws
    group by category_id
),

overall_intervals as (
    select
        model_id,
        quantile_cont(score, 0.025) as lo,
        quantile_cont(score, 0.975) as hi,
        count(*)::integer as n_resamples,
        bool_or(is_partial) as is_partial,
    from overall_draws
    group by model_id
),

overall_scored as (
    select model_key, any_value(model_id) as model_id, weighted_mean(score, category_weight) as score,
    from category_ids
    group by model_key
),

-- why the metrics of a (model, benchmark) without resamples have none
benchmark_notes as (
    select
        model_key,
        benchmark_key,
        'no metric could be resampled: ' || string_agg(distinct reason, '; ' order by reason)
            as note,
    from metric_notes
    where not is_resampled and reason is not null
    group by all
),

no_interval as (
    select
        case
            when not is_unfiltered
                then 'no interval under an element filter (resamples are of all points)'
            else 'no part of it could be resampled'
        end as note,
    from resampling
)

select
    'metric' as level,
    scored.model_key,
    scored.category_key,
    scored.benchmark_key,
    scored.metric_key,
    scored.score,
    intervals.lo,
    intervals.hi,
    intervals.n_resamples,
    false as is_partial,
    case
        when scored.score is null or intervals.lo is not null then null
        when not (select is_unfiltered from resampling) then (select note from no_interval)
        else coalesce(notes.reason, 'not resampled yet')
    end as note,
from metrics_scored as scored
left join metric_notes as notes using (model_key, benchmark_key, metric_key)
left join metric_intervals as intervals
    on intervals.series_id = notes.series_id and notes.is_resampled
union all by name
select
    'benchmark' as level,
    ids.model_key,
    ids.category_key,
    ids.benchmark_key,
    null as metric_key,
    ids.score,
    intervals.lo,
    intervals.hi,
    intervals.n_resamples,
    coalesce(intervals.is_partial, false) as is_partial,
    case
        when ids.score is null or intervals.lo is not null then null
        when not (select is_unfiltered from resampling) then (select note from no_interval)
        else coalesce(notes.note, (select note from no_interval))
    end as note,
from benchmark_ids as ids
left join benchmark_intervals as intervals using (benchmark_id)
left join benchmark_notes as notes using (model_key, benchmark_key)
union all by name
select
    'category' as level,
    ids.model_key,
    ids.category_key,
    null as benchmark_key,
    null as metric_key,
    ids.score,
    intervals.lo,
    intervals.hi,
    intervals.n_resamples,
    coalesce(intervals.is_partial, false) as is_partial,
    case
        when ids.score is null or intervals.lo is not null then null
        else (select note from no_interval)
    end as note,
from category_ids as ids
left join category_intervals as intervals using (category_id)
union all by name
select
    'overall' as level,
    scored.model_key,
    null as category_key,
    null as benchmark_key,
    null as metric_key,
    scored.score,
    intervals.lo,
    intervals.hi,
    intervals.n_resamples,
    coalesce(intervals.is_partial, false) as is_partial,
    case
        when scored.score is null or intervals.lo is not null then null
        else (select note from no_interval)
    end as note,
from overall_scored as scored
left join overall_intervals as intervals using (model_id);

-- grain: as score_intervals_live. The default scoring (no variable set) reads the rows
-- stored at ingest (score_interval_cache, kept in step by mlpeg.warehouse.intervals);
-- any scoring or selection variable, or mlpeg_live, computes them from the stored
-- resamples instead. The choice is made when DuckDB binds the query, as in all_points.
create or replace view score_intervals as
select * from query(
    case
        when getvariable('mlpeg_excluded_elements') is null
            and getvariable('mlpeg_exclusion_scenarios') is null
            and getvariable('mlpeg_metric_overrides') is null
            and getvariable('mlpeg_benchmark_weights') is null
            and getvariable('mlpeg_category_weights') is null
            and getvariable('mlpeg_profile') is null
            and getvariable('mlpeg_as_of') is null
            and getvariable('mlpeg_run_ids') is null
            and not coalesce(getvariable('mlpeg_live'), false)
            then 'select level, model_key, category_key, benchmark_key, metric_key, score, lo, '
                || 'hi, n_resamples, is_partial, note from score_interval_cache'
        else 'select level, model_key, category_key, benchmark_key, metric_key, score, lo, '
            || 'hi, n_resamples, is_partial, note from score_intervals_live'
    end
);
