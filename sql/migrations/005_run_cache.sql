-- Schema version 5: every run's points and metrics, computed once when the run lands.
-- A run is one (model, benchmark) calculation, so its points and metrics depend only on
-- its own predictions and the benchmark's references: any selection of runs (latest,
-- as of a date, chosen ids) reads them from here instead of re-planning every benchmark's
-- views. `mlpeg.warehouse.cache` keeps them in step, in the same transaction as the rows
-- they come from; only an element filter bypasses them (see `all_points`).

-- grain: one row per (run, system, quantity), the columns of `all_points`
create table run_points (
    run_id varchar not null,
    benchmark_key varchar not null,
    model_key varchar not null,
    system varchar,
    quantity varchar,
    pred double,
    ref double,
    unit varchar,
    state varchar,
    structure_id varchar,
);

-- grain: one row per (run, metric), the columns of `all_metrics`
create table run_metrics (
    run_id varchar not null,
    benchmark_key varchar not null,
    model_key varchar not null,
    metric_key varchar not null,
    value double,
);
