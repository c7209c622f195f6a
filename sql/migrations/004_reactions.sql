-- Schema version 4: stoichiometry of reaction-energy benchmarks, a third landing part kind.

-- one row per (benchmark, reaction, species): reaction energy = Σ coefficient × E(species),
-- where a species is the `system` of the predictions with role 'species'
create table reaction_species (
    benchmark_key varchar not null,
    reaction varchar not null,
    subset varchar,                       -- the data set or group a reaction belongs to
    species varchar not null,
    coefficient double not null,
    primary key (benchmark_key, reaction, species),
);

-- `parts.kind` gains 'reactions'. DuckDB cannot alter a CHECK constraint, so the table is
-- rebuilt with the same columns and rows.
create table parts_v4 (
    part_sha256 varchar primary key,
    file_name varchar not null,
    size_bytes bigint not null,
    kind varchar not null check (kind in ('predictions', 'references', 'reactions')),
    run_id varchar,
    n_rows bigint not null,
    ingested_at timestamptz not null default current_timestamp,
);
insert into parts_v4 select * from parts;
drop table parts;
alter table parts_v4 rename to parts;
