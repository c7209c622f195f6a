-- grain: as the live union; the rows stored per run (run_points, run_metrics) of the selected runs,
-- unless an element filter, exclusion scenarios or mlpeg_live ask for the live union.
-- The choice is made when DuckDB binds the query (query() takes a constant string), so
-- the live union of every benchmark's views is only planned when it is used.
create or replace view all_${view} as
select * from query(
    case
        when len(excluded_elements()) = 0
            and getvariable('mlpeg_exclusion_scenarios') is null
            and not coalesce(getvariable('mlpeg_live'), false)
            then 'select benchmark_key, ${columns} from run_${view} semi join selected_runs using (run_id)'
        else 'select benchmark_key, ${columns} from all_${view}_live'
    end
);
