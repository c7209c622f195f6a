-- grain: as each benchmark's view of this name, plus benchmark_key: one select per
-- benchmark schema (select '<KEY>' as benchmark_key, <columns> from <schema>.<view>),
-- joined with `union all by name`. Rendered once for points and once for metrics.
create or replace view all_${view}_live as
${selects};
