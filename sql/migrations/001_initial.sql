-- Warehouse schema, version 1. Units: eV, Å, eV/Å, eV/Å³ (see mlpeg.enums.WAREHOUSE_UNITS).
-- Catalogue tables (categories, benchmarks, metric_definitions, models) are synced from the
-- YAML files on every write; fact tables (structures ... predictions) only grow.

-- one row per category (benchmarks/<category>/category.yml)
create table categories (
    category_key varchar primary key,
    title varchar not null,
    description varchar,
    weight double not null check (weight >= 0),
);

-- one row per benchmark (benchmarks/<category>/<benchmark>/benchmark.yml)
create table benchmarks (
    benchmark_key varchar primary key,
    category_key varchar not null,
    schema_name varchar not null unique,
    title varchar not null,
    description varchar,
    level_of_theory varchar,
    cost_class varchar not null check (cost_class in ('quick', 'slow', 'very_slow')),
    dispersion varchar not null,
    weight double not null check (weight >= 0),  -- weight inside its category
    doi varchar,
);

-- one row per (benchmark, metric), with ML-PEG's good/bad thresholds
create table metric_definitions (
    benchmark_key varchar not null,
    metric_key varchar not null,
    title varchar,
    quantity varchar,
    unit varchar not null,
    good double not null,
    bad double not null,
    weight double not null check (weight >= 0),
    level_of_theory varchar,
    tooltip varchar,
    display_order integer not null,
    primary key (benchmark_key, metric_key),
);

-- one row per model key as stored in predictions ("-D3" variants are their own rows)
create table models (
    model_key varchar primary key,
    base_model varchar not null,
    family varchar not null,
    checkpoint varchar not null,
    checkpoint_sha256 varchar,
    dispersion varchar not null,          -- 'none', 'trained', or 'd3(bj)' added
    dtype varchar,
    level_of_theory varchar,
    training_sets varchar[],
    elements varchar[],
    licence varchar,
    paper varchar,
    n_params bigint,
    notes varchar,
    is_test_only boolean not null,
);

-- one row per distinct geometry, addressed by the hash of numbers, positions, cell, pbc
create table structures (
    structure_id varchar primary key,
    numbers smallint[] not null,
    positions double[3][] not null,
    cell double[9] not null,
    pbc boolean[3] not null,
    info json,
    n_atoms integer not null,
    elements varchar[] not null,
);

-- one row per (benchmark, system, quantity) of reference data
create table reference_values (
    benchmark_key varchar not null,
    system varchar not null,
    quantity varchar not null,
    value double not null,
    unit varchar not null,
    uncertainty double,
    level_of_theory varchar,
    source varchar,
    primary key (benchmark_key, system, quantity),
);

-- one row per run of one model on one benchmark, with its provenance
create table runs (
    run_id varchar primary key,
    model_key varchar not null,
    benchmark_key varchar not null,
    started_at timestamptz not null,
    ended_at timestamptz not null,
    host varchar,
    device varchar,
    dtype varchar,
    versions json,
    code_version varchar,
    status varchar not null,
);

-- one row per landing part ever ingested; the sha256 makes ingest idempotent
create table parts (
    part_sha256 varchar primary key,
    file_name varchar not null,
    size_bytes bigint not null,
    kind varchar not null check (kind in ('predictions', 'references')),
    run_id varchar,
    n_rows bigint not null,
    ingested_at timestamptz not null default current_timestamp,
);

-- one row per (run, system, role): a failed structure is a row with its error
create table predictions (
    run_id varchar not null,
    model_key varchar not null,
    benchmark_key varchar not null,
    system varchar not null,
    role varchar not null,
    task varchar not null,
    settings_hash varchar,
    structure_id varchar not null,
    frame_ids varchar[],                  -- output structures: relaxed geometry, frames, images
    energy double,
    forces double[3][],
    stress double[6],
    properties map(varchar, double),      -- other named results (barrier_ev, volume_a3, ...)
    state varchar not null check (state in ('ok', 'failed', 'unsupported')),
    error varchar,
    wall_time_s double,
    computed_at timestamptz,
);
