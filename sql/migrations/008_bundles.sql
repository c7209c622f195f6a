-- Schema version 8: results that came in a bundle (`mlpeg bundle` on another warehouse,
-- `mlpeg ingest FILE` here). One row per bundle ingested, identified by the sha256 of its
-- manifest (which holds the sha256 of every file in it), with where it was read from and
-- what made it; `bundle_parts` links it to the landing parts it brought. Parts that were
-- already here are linked too, so a bundle's whole content can always be listed.

-- grain: one row per bundle (manifest sha256)
create table if not exists bundles (
    bundle_sha256 varchar primary key,
    model_key varchar not null,
    benchmark_keys varchar[] not null,
    source_path varchar not null,          -- the file as given to mlpeg ingest
    created_at timestamptz,                -- when mlpeg bundle wrote it
    created_by json,                       -- mlpeg version, host and warehouse that wrote it
    n_parts integer not null,
    ingested_at timestamptz not null default current_timestamp,
);

-- grain: one row per (bundle, part)
create table if not exists bundle_parts (
    bundle_sha256 varchar not null,
    part_sha256 varchar not null,
    file_name varchar not null,
    primary key (bundle_sha256, part_sha256),
);
