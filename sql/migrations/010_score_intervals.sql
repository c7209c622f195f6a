-- Schema version 10: bootstrap resamples of every run's metrics, and the 95 % intervals of
-- the default scores built from them (mlpeg.warehouse.intervals keeps them in step; the
-- views are in views/40_intervals.sql).

-- numbers the resampled series: one per (run, metric) that has resamples
create sequence if not exists bootstrap_series;

-- grain: one row per (series, resample): the metric's value over the run's points
-- resampled by system (series_id: see run_metric_intervals; only metrics whose every
-- resample has one value have a series)
create table if not exists run_metric_resamples (
    series_id integer not null,
    resample usmallint not null,
    value double not null,
);

-- grain: one row per (run, metric): the metric value's interval, or why it has none
create table if not exists run_metric_intervals (
    series_id integer not null,
    run_id varchar not null,
    benchmark_key varchar not null,
    model_key varchar not null,
    metric_key varchar not null,
    value double,
    lo double,
    hi double,
    n_systems integer,
    reason varchar,
);

-- grain: one row per run: what its resamples were drawn from and with
create table if not exists run_bootstrap (
    run_id varchar primary key,
    fingerprint varchar not null,
    seed bigint not null,
    n_resamples integer not null,
    computed_at timestamptz not null default current_timestamp,
);

-- grain: one row per score of the default scoring, as the view score_intervals (level,
-- model, category, benchmark, metric); rebuilt whenever a run's resamples change
create table if not exists score_interval_cache (
    level varchar not null,
    model_key varchar not null,
    category_key varchar,
    benchmark_key varchar,
    metric_key varchar,
    score double,
    lo double,
    hi double,
    n_resamples integer,
    is_partial boolean,
    note varchar,
);
