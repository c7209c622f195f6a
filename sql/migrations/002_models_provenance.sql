-- Schema version 2: which weights produced each run. Every run records its model family,
-- the checkpoint it loaded (a local file or the name its package resolved) with the sha256
-- of the file, and the D3 correction added to it (backend, damping, functional, cutoff in
-- Å; null when none). Package versions (torch, the family's package, e3nn, mlpeg) are in
-- runs.versions already, e.g. versions->>'torch'. Runs ingested before have nulls here.
alter table runs add column if not exists family varchar;
alter table runs add column if not exists checkpoint varchar;
alter table runs add column if not exists checkpoint_sha256 varchar;
alter table runs add column if not exists d3 json;
