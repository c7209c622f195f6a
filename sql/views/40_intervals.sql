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

-- grain: one row per score (level, model, category, benchmark, metric) of the current
-- scoring: the point estimate, the interval of its resamples and, where there is none, why.
-- level is 'metric', 'benchmark', 'category' or 'overall'; the keys below a level are null.
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

bootstrapped as materialized (
    select run_bootstrap.n_resamples,
    from run_bootstrap
    semi join selected_runs using (run_id)
),

resample_ids as (
    select unnest(range(coalesce(max(n_resamples), 0))) as resample,
    from bootstrapped
    where (select is_unfiltered from resampling)
),

metric_notes as materialized (
    select model_key, benchmark_key, metric_key, lo is not null as is_resampled, reason,
    from run_metric_intervals
    semi join selected_runs using (run_id)
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

resampled_models as (
    select distinct model_key, from metric_notes where is_resampled
),

-- one row per (model, metric, resample) of every model with resamples: the resampled
-- metric's score, or the point score of a metric that has no resamples
metric_draws as (
    select
        scored.model_key,
        scored.category_key,
        scored.benchmark_key,
        scored.metric_key,
        scored.weight,
        resamples.resample,
        metric_score(resamples.value, scored.good, scored.bad) as score,
        true as is_resampled,
    from run_metric_resamples as resamples
    semi join selected_runs using (run_id)
    join metrics_scored as scored using (model_key, benchmark_key, metric_key)
    where resamples.resample in (select resample from resample_ids)
    union all
    select
        scored.model_key,
        scored.category_key,
        scored.benchmark_key,
        scored.metric_key,
        scored.weight,
        ids.resample,
        scored.score,
        false as is_resampled,
    from metrics_scored as scored
    semi join resampled_models using (model_key)
    anti join (select * from metric_notes where is_resampled) as notes
        using (model_key, benchmark_key, metric_key)
    cross join resample_ids as ids
),

-- whether a part that counts in a mean (weight > 0, has a score) is resampled / held
metric_parts as (
    select
        *,
        score is not null and weight > 0 as counts,
    from metric_draws
),

benchmark_draws as (
    select
        model_key,
        category_key,
        benchmark_key,
        resample,
        weighted_mean(score, weight) as score,
        coalesce(bool_or(is_resampled) filter (where counts), false) as is_resampled,
        coalesce(bool_or(not is_resampled) filter (where counts), false) as is_partial,
    from metric_parts
    group by all
),

category_draws as (
    select
        draws.model_key,
        draws.category_key,
        draws.resample,
        weighted_mean(draws.score, weights.benchmark_weight) as score,
        coalesce(bool_or(draws.is_resampled) filter (where draws.score is not null
            and weights.benchmark_weight > 0), false) as is_resampled,
        coalesce(bool_or(draws.is_partial or not draws.is_resampled) filter (
            where draws.score is not null and weights.benchmark_weight > 0), false) as is_partial,
    from benchmark_draws as draws
    join benchmarks_scored as weights using (model_key, benchmark_key)
    group by all
),

overall_draws as (
    select
        draws.model_key,
        draws.resample,
        weighted_mean(draws.score, weights.category_weight) as score,
        coalesce(bool_or(draws.is_resampled) filter (where draws.score is not null
            and weights.category_weight > 0), false) as is_resampled,
        coalesce(bool_or(draws.is_partial or not draws.is_resampled) filter (
            where draws.score is not null and weights.category_weight > 0), false) as is_partial,
    from category_draws as draws
    join categories_scored as weights using (model_key, category_key)
    group by all
),

metric_intervals as (
    select
        model_key,
        benchmark_key,
        metric_key,
        quantile_cont(score, 0.025) as lo,
        quantile_cont(score, 0.975) as hi,
        count(*)::integer as n_resamples,
    from metric_parts
    where is_resampled
    group by all
),

benchmark_intervals as (
    select
        model_key,
        benchmark_key,
        quantile_cont(score, 0.025) as lo,
        quantile_cont(score, 0.975) as hi,
        count(*)::integer as n_resamples,
        bool_or(is_partial) as is_partial,
    from benchmark_draws
    where is_resampled
    group by all
),

category_intervals as (
    select
        model_key,
        category_key,
        quantile_cont(score, 0.025) as lo,
        quantile_cont(score, 0.975) as hi,
        count(*)::integer as n_resamples,
        bool_or(is_partial) as is_partial,
    from category_draws
    where is_resampled
    group by all
),

overall_intervals as (
    select
        model_key,
        quantile_cont(score, 0.025) as lo,
        quantile_cont(score, 0.975) as hi,
        count(*)::integer as n_resamples,
        bool_or(is_partial) as is_partial,
    from overall_draws
    where is_resampled
    group by all
),

overall_scored as (
    select model_key, weighted_mean(score, category_weight) as score,
    from categories_scored
    group by model_key
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
left join metric_intervals as intervals using (model_key, benchmark_key, metric_key)
left join metric_notes as notes using (model_key, benchmark_key, metric_key)
union all by name
select
    'benchmark' as level,
    scored.model_key,
    scored.category_key,
    scored.benchmark_key,
    null as metric_key,
    scored.score,
    intervals.lo,
    intervals.hi,
    intervals.n_resamples,
    coalesce(intervals.is_partial, false) as is_partial,
    case
        when scored.score is null or intervals.lo is not null then null
        when not (select is_unfiltered from resampling) then (select note from no_interval)
        else coalesce(notes.note, (select note from no_interval))
    end as note,
from benchmarks_scored as scored
left join benchmark_intervals as intervals using (model_key, benchmark_key)
left join benchmark_notes as notes using (model_key, benchmark_key)
union all by name
select
    'category' as level,
    scored.model_key,
    scored.category_key,
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
from categories_scored as scored
left join category_intervals as intervals using (model_key, category_key)
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
left join overall_intervals as intervals using (model_key);

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
