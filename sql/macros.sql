-- Scoring helpers, defined once and used by every view. The unit conversions
-- (ev_to_kj_per_mol, ev_to_kcal_per_mol, ev_to_mev, ev_per_a3_to_gpa) are generated from
-- ase.units in mlpeg/warehouse/schema.py, so loaders (which convert with ASE) and views
-- can never disagree on a constant.

-- ML-PEG's linear normalisation: 1 at `good`, 0 at `bad`, clipped; either direction.
create or replace macro metric_score(value, good, bad) as
    case
        when value is null or isnan(value) then null
        when good = bad then (case when value = good then 1.0 else 0.0 end)
        else greatest(0.0, least(1.0, (value - bad) / (good - bad)))
    end;

-- Weighted mean that ignores null scores and zero weights; null when nothing is left.
create or replace macro weighted_mean(score, weight) as
    sum(score * weight) filter (where score is not null and weight > 0)
    / nullif(sum(weight) filter (where score is not null and weight > 0), 0);

-- The state of a quantity built from several predictions (a point from its parts, a
-- metric from its points): filtered beats unsupported beats failed beats ok.
create or replace macro combined_state(states) as
    case
        when list_contains(states, 'filtered') then 'filtered'
        when list_contains(states, 'unsupported') then 'unsupported'
        when list_contains(states, 'failed') then 'failed'
        else 'ok'
    end;

-- User parameters, set per connection with SET VARIABLE (works read-only):
--   mlpeg_excluded_elements   VARCHAR[]   drop points containing these elements
--   mlpeg_metric_overrides    [{benchmark_key, metric_key, good, bad, weight}]
--   mlpeg_benchmark_weights   MAP(VARCHAR, DOUBLE)   benchmark_key -> weight in category
--   mlpeg_category_weights    MAP(VARCHAR, DOUBLE)   category_key -> weight
--   mlpeg_as_of               TIMESTAMPTZ   read the latest runs that ended by then
--   mlpeg_run_ids             VARCHAR[]     read these runs instead of the latest
--   mlpeg_profile             VARCHAR       score under this saved profile (table
--                                           scoring_profiles); overrides and weights set
--                                           with the variables above win over its values
create or replace macro excluded_elements() as
    coalesce(getvariable('mlpeg_excluded_elements'), []::varchar[])::varchar[];

-- The state of an aggregate (benchmark, category, overall) from its parts' states:
-- ok when any part has a score, not_run when none ran, else the dominant failure.
create or replace macro summary_state(states) as
    case
        when list_contains(states, 'ok') then 'ok'
        when list_count(list_filter(states, lambda s: s != 'not_run')) = 0 then 'not_run'
        else combined_state(states)
    end;
