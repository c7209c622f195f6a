-- Schema version 9: saved scoring profiles, named sets of weights and thresholds that any
-- connection can score under with `set variable mlpeg_profile = '<name>'` (the views in
-- views/10_scores.sql read it). Built-in profiles (ML-PEG's weight presets) are rewritten
-- from mlpeg/profiles.py at every install; user profiles are written by `mlpeg profile`.
-- (Numbered 9, not 8, so that it cannot collide with a parallel branch's migration 8;
-- mlpeg/warehouse/schema.py applies any version not yet applied, whatever its order.)

-- grain: one row per profile
create table if not exists scoring_profiles (
    profile_name varchar primary key,
    description varchar,
    -- category_key -> weight in the overall score; categories not listed take
    -- `unlisted_category_weight`, or their category.yml weight when that is null
    category_weights map(varchar, double),
    unlisted_category_weight double,
    -- benchmark_key -> weight inside its category
    benchmark_weights map(varchar, double),
    -- new good/bad thresholds or weight per metric (null fields keep benchmark.yml's)
    metric_overrides struct(
        benchmark_key varchar, metric_key varchar, good double, bad double, weight double
    )[],
    is_builtin boolean not null default false,
    saved_at timestamptz not null default current_timestamp,
);
