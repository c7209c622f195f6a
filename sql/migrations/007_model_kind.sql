-- Schema version 7: what a model is and what it accepts. `kind` is 'mlip' (a machine-
-- learned potential) or 'baseline' (a reference method such as GFN2-xTB, marked on the
-- leaderboard and hidden on request); `accepts` holds the registry's flags {charge, spin,
-- field, periodic, molecules} that decide which structures are "unsupported" for it.
alter table models add column if not exists kind varchar default 'mlip';
alter table models add column if not exists accepts json;
update models set kind = 'mlip' where kind is null;
