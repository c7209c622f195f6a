"""Bootstrap intervals of every score, resampled per run and kept in step after writes.

A score of 0.703 against 0.744 means little without knowing whether the difference is
noise. For every run, the points of its benchmark are resampled by system, with
replacement: resample ``r`` draws as many systems as the run has, the ``j``-th being the
``bootstrap_index(salt, r, j, n)``-th of its systems sorted by name (a fixed-seed integer
hash, defined in ``sql/views/40_intervals.sql`` and reproduced in numpy by the tests).
All rows of a drawn system come with it; a system drawn twice appears twice, the copy
under the name ``system || chr(30) || copy`` so that views that partition by system (a
curve, a molecule) see two systems, not one doubled. Resamples are folded into the model
key (``model_key || chr(30) || r``), and the benchmark's own ``metrics`` view is
evaluated on them with its reads of ``<schema>.points`` pointed at the resampled rows, so
every benchmark's metric definitions apply unchanged, in one query per batch of runs.

A metric gets an interval when every resample gives it exactly one finite value. One
that a resample can repeat (a value per system, such as one NEB barrier each) or leave
without a value (one resting on a single system, or on too few usable ones), one not
computed from the points (read from another view of predictions), one of a run with a
single system, and the metrics of a benchmark whose ``benchmark.yml`` says
``no_intervals: <why>`` (MD-derived averages) get none, with the reason stored; the
scoring views hold such metrics at their value in every resample.

The values are stored per run (``run_metric_resamples``, ``run_metric_intervals``) with a
fingerprint of what they came from (``run_bootstrap``), and the 95 % intervals of the
default scoring are stored in ``score_interval_cache``, which ``score_intervals`` reads;
other scorings (weights, thresholds, profiles, history) compute them from the stored
resamples in SQL. :func:`update` recomputes what is out of date: the writer calls it
when it closes, ``mlpeg ingest`` once after loading (with progress), never per part.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import duckdb

from mlpeg.errors import ConfigError, MlpegError

if TYPE_CHECKING:  # imported where used: readers of intervals need no catalogue
    from mlpeg import catalog

#: Resamples per run, and the seed, unless MLPEG_BOOTSTRAP_RESAMPLES / _SEED say otherwise.
DEFAULT_RESAMPLES = 1000
DEFAULT_SEED = 19
#: At most this many resampled point rows per query (resamples are evaluated in chunks).
MAX_ROWS_PER_QUERY = 20_000_000
#: Separates the resample (in model keys) and the copy (in system names) from the key.
SEPARATOR = "chr(30)"

#: Variables that change the runs, points or scoring a connection sees; cleared while the
#: default intervals are computed, and restored afterwards.
_VARIABLES = (
    "mlpeg_run_ids",
    "mlpeg_as_of",
    "mlpeg_excluded_elements",
    "mlpeg_exclusion_scenarios",
    "mlpeg_metric_overrides",
    "mlpeg_benchmark_weights",
    "mlpeg_category_weights",
    "mlpeg_profile",
    "mlpeg_live",
)

#: Why a metric has no interval, as stored in ``run_metric_intervals.reason``.
REASON_NO_VALUE = "no value to resample"
REASON_ONE_SYSTEM = "one system: nothing to resample"
REASON_NOT_FROM_POINTS = "not computed from the benchmark's points"
REASON_MISSING = "some resamples leave it without a value: it rests on too few usable systems"
REASON_PER_SYSTEM = "a value per system, not one over the systems"


@dataclass(frozen=True)
class BootstrapSettings:
    """How many resamples, with which seed; 0 resamples turns resampling off."""

    n_resamples: int = DEFAULT_RESAMPLES
    seed: int = DEFAULT_SEED

    def __post_init__(self) -> None:
        if not 0 <= self.n_resamples <= 65535:
            raise MlpegError(
                f"Bootstrap resamples must be 0 (off) to 65535, not {self.n_resamples}."
            )
        if not 0 <= self.seed < 2**63:
            raise MlpegError(f"The bootstrap seed must be a non-negative integer, not {self.seed}.")

    @classmethod
    def from_environment(cls) -> BootstrapSettings:
        """Read ``MLPEG_BOOTSTRAP_RESAMPLES`` and ``MLPEG_BOOTSTRAP_SEED`` (defaults otherwise).

        Raises
        ------
        MlpegError
            If either is set to anything but a non-negative integer in range.
        """
        values = {}
        for name, field_name, default in (
            ("MLPEG_BOOTSTRAP_RESAMPLES", "n_resamples", DEFAULT_RESAMPLES),
            ("MLPEG_BOOTSTRAP_SEED", "seed", DEFAULT_SEED),
        ):
            text = os.environ.get(name, "").strip()
            if not text:
                values[field_name] = default
            elif not text.isdigit():
                raise MlpegError(f"{name} must be a non-negative integer, not {text!r}.")
            else:
                values[field_name] = int(text)
        return cls(**values)


@dataclass(frozen=True)
class UpdateReport:
    """What :func:`update` recomputed."""

    n_runs: int
    n_benchmarks: int
    cache_rebuilt: bool


@contextmanager
def _cleared_variables(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Reset every selection and scoring variable for the block; restore them after it."""
    saved = {
        name: con.execute(f"select getvariable('{name}')").fetchall()[0][0] for name in _VARIABLES
    }
    for name in _VARIABLES:
        con.execute(f"reset variable {name}")
    yield
    for name, value in saved.items():
        if value is None:
            con.execute(f"reset variable {name}")
        else:
            con.execute(f"set variable {name} = ?", [value])


_FINGERPRINTS_SQL = """
with install as (
    select coalesce(max(fingerprint), '') as fingerprint from install_state
),
point_digests as (
    select
        run_id,
        count(*) as n_points,
        bit_xor(hash(system, quantity, pred, ref, state, structure_id)) as digest,
    from run_points
    group by run_id
)
select
    runs.run_id,
    md5(concat_ws(':', (select fingerprint from install), ?, ?,
        coalesce(point_digests.n_points, 0), coalesce(point_digests.digest, 0))) as fingerprint,
from runs
left join point_digests using (run_id)
where runs.benchmark_key in (select benchmark_key from benchmarks)
"""


def _pending(con: duckdb.DuckDBPyConnection, settings: BootstrapSettings) -> tuple[dict, list]:
    """Return ({run: fingerprint} of runs to resample, [runs whose rows to drop])."""
    current = dict(con.execute(_FINGERPRINTS_SQL, [settings.seed, settings.n_resamples]).fetchall())
    stored = dict(con.execute("select run_id, fingerprint from run_bootstrap").fetchall())
    pending = {run: print_ for run, print_ in current.items() if stored.get(run) != print_}
    gone = [run for run in stored if run not in current]
    return pending, gone


def _batches(con: duckdb.DuckDBPyConnection, run_ids: list[str]) -> list[tuple[str, list[str]]]:
    """Group runs into (benchmark, run ids) with at most one run per model in a batch."""
    rows = con.execute(
        """
        select benchmark_key, generation, list(run_id order by run_id)
        from (
            select
                benchmark_key,
                run_id,
                row_number() over (
                    partition by benchmark_key, model_key order by ended_at, run_id
                ) as generation,
            from runs
            where list_contains(?::varchar[], run_id)
        )
        group by all
        order by all
        """,
        [run_ids],
    ).fetchall()
    return [(benchmark_key, batch) for benchmark_key, _, batch in rows]


def _metrics_sql(con: duckdb.DuckDBPyConnection, schema: str) -> str:
    """Return the benchmark's ``metrics`` query with every read of its points resampled.

    Raises
    ------
    ConfigError
        If the warehouse has no ``<schema>.metrics`` view.
    """
    row = con.execute(
        "select sql from duckdb_views() where schema_name = ? and view_name = 'metrics'",
        [schema],
    ).fetchall()
    if not row:
        raise ConfigError(f"The warehouse has no view {schema}.metrics.")
    body = re.split(r"\bAS\b", row[0][0], maxsplit=1, flags=re.IGNORECASE)[1].strip().rstrip(";")
    points = re.compile(
        rf'(?<![\w."])"?{re.escape(schema)}"?\s*\.\s*"?points"?(?![\w"])', re.IGNORECASE
    )
    return points.sub("_bootstrap_points", body)


# the run's points, each with its model's index, its system's index (0-based, systems sorted
# by name) and the run's number of systems
_BASE_SQL = """
create or replace temp table _bootstrap_base as
with
computed as (
    select computed.*
    from {schema}.points as computed
    semi join selected_runs as selected
        on selected.model_key = computed.model_key and selected.benchmark_key = ?
),
systems as (
    select
        model_key,
        system,
        dense_rank() over (order by model_key) - 1 as _bootstrap_model,
        dense_rank() over (partition by model_key order by system nulls last) - 1
            as _bootstrap_system,
        count(*) over (partition by model_key) as _bootstrap_n,
    from (select distinct model_key, system from computed)
)
select computed.*, systems._bootstrap_model, systems._bootstrap_system, systems._bootstrap_n,
from computed
join systems
    on systems.model_key = computed.model_key
    and systems.system is not distinct from computed.system
"""

# how often each system index of each run size is drawn in each resample
_COUNTS_SQL = """
create or replace temp table _bootstrap_counts as
with
sizes as (
    select distinct _bootstrap_n as n_systems from _bootstrap_base
),
draws as (
    select n_systems, unnest(range(n_systems)) as draw from sizes
)
select
    draws.n_systems,
    ids.resample::usmallint as resample,
    bootstrap_index(bootstrap_salt(?, ?), ids.resample, draws.draw, draws.n_systems)::bigint
        as system_index,
    count(*) as n_copies,
from draws
cross join range(?) as ids(resample)
group by all
"""

# the key each (model, resample) is evaluated under: chr(30) and a number, short enough for
# DuckDB to keep inline (no string is built per row)
_KEYS_SQL = """
create or replace temp table _bootstrap_keys as
select
    models.model_key,
    models._bootstrap_model as model_index,
    ids.resample::usmallint as resample,
    chr(30) || (models._bootstrap_model * ? + ids.resample)::varchar as resampled_key,
from (select distinct model_key, _bootstrap_model from _bootstrap_base) as models
cross join range(?) as ids(resample)
"""

_POINTS_VIEW_SQL = """
create or replace temp view _bootstrap_points as
with copies as (
    select *, unnest(range(n_copies)) as copy
    from _bootstrap_counts
    where resample >= getvariable('mlpeg_bootstrap_from')
      and resample < getvariable('mlpeg_bootstrap_to')
)
select base.* exclude (_bootstrap_model, _bootstrap_system, _bootstrap_n) replace (
    keys.resampled_key as model_key,
    case when copies.copy = 0 then base.system
        else base.system || chr(30) || copies.copy::varchar end as system
)
from _bootstrap_base as base
join copies
    on copies.n_systems = base._bootstrap_n and copies.system_index = base._bootstrap_system
join _bootstrap_keys as keys
    on keys.model_index = base._bootstrap_model and keys.resample = copies.resample
"""

_VALUES_SQL = """
insert into _bootstrap_values
select keys.model_key, keys.resample, computed.metric_key, computed.value::double,
from ({metrics}) as computed
join _bootstrap_keys as keys on keys.resampled_key = computed.model_key
"""

# one row per (run, metric) of the batch: its value's interval or why it has none
_INTERVALS_SQL = """
insert into _bootstrap_intervals
with
point as (
    select run_id, benchmark_key, model_key, metric_key, value,
    from run_metrics
    where list_contains(?::varchar[], run_id)
),
sizes as (
    select model_key, max(_bootstrap_n) as n_systems, from _bootstrap_base group by all
),
draws as (
    select
        model_key,
        metric_key,
        count(*) as n_rows,
        count(distinct resample) as n_distinct,
        count(*) filter (where value is not null and not isnan(value)) as n_finite,
        quantile_cont(value, 0.025) as lo,
        quantile_cont(value, 0.975) as hi,
    from _bootstrap_values
    group by all
),
judged as (
    select
        point.*,
        coalesce(sizes.n_systems, 0)::integer as n_systems,
        draws.lo,
        draws.hi,
        case
            when ?::varchar is not null then ?::varchar
            when point.value is null or isnan(point.value) then '{no_value}'
            when coalesce(sizes.n_systems, 0) < 2 then '{one_system}'
            when draws.n_rows is null then '{not_from_points}'
            when draws.n_rows > draws.n_distinct then '{per_system}'
            when draws.n_rows = ? and draws.n_distinct = ? and draws.n_finite = ? then null
            else '{missing}'
        end as reason,
    from point
    left join sizes using (model_key)
    left join draws using (model_key, metric_key)
)
select
    nextval('bootstrap_series') as series_id,
    run_id, benchmark_key, model_key, metric_key, value,
    case when reason is null then lo end as lo,
    case when reason is null then hi end as hi,
    n_systems,
    reason,
from judged
""".format(
    **{
        name: text.replace("'", "''")
        for name, text in (
            ("no_value", REASON_NO_VALUE),
            ("one_system", REASON_ONE_SYSTEM),
            ("not_from_points", REASON_NOT_FROM_POINTS),
            ("per_system", REASON_PER_SYSTEM),
            ("missing", REASON_MISSING),
        )
    }
)

_RESAMPLES_SQL = """
insert into _bootstrap_resamples
select intervals.series_id, draws.resample, draws.value,
from _bootstrap_values as draws
join _bootstrap_intervals as intervals using (model_key, metric_key)
where list_contains(?::varchar[], intervals.run_id) and intervals.lo is not null
"""

#: Temporary tables every batch adds its rows to, stored in one transaction at the end.
_ACCUMULATORS = {
    "_bootstrap_intervals": "run_metric_intervals",
    "_bootstrap_resamples": "run_metric_resamples",
}


def _resample_batch(
    con: duckdb.DuckDBPyConnection,
    benchmark: catalog.Benchmark,
    run_ids: list[str],
    settings: BootstrapSettings,
) -> None:
    """Resample one batch of runs of a benchmark (at most one run per model).

    Runs outside a transaction, adding to the temporary accumulators: a metrics view that
    fails on resampled points costs its benchmark's intervals (the reason says so), never
    the other benchmarks' or the warehouse's writes.
    """
    con.execute("set variable mlpeg_run_ids = ?::varchar[]", [run_ids])
    con.execute(
        "create or replace temp table _bootstrap_values "
        "(model_key varchar, resample usmallint, metric_key varchar, value double)"
    )
    reason = benchmark.no_intervals
    schema = benchmark.schema_name
    if reason is None:
        con.execute(_BASE_SQL.format(schema=schema), [benchmark.key])
        con.execute(_COUNTS_SQL, [settings.seed, benchmark.key, settings.n_resamples])
        con.execute(_KEYS_SQL, [settings.n_resamples, settings.n_resamples])
        con.execute(_POINTS_VIEW_SQL)
        n_base = con.execute("select count(*) from _bootstrap_base").fetchall()[0][0]
        step = max(1, MAX_ROWS_PER_QUERY // max(n_base, 1))
        values_sql = _VALUES_SQL.format(metrics=_metrics_sql(con, schema))
        for start in range(0, settings.n_resamples, step):
            con.execute("set variable mlpeg_bootstrap_from = ?", [start])
            con.execute("set variable mlpeg_bootstrap_to = ?", [start + step])
            try:
                con.execute(values_sql)
            except duckdb.Error as exc:
                reason = f"its metrics view fails on resampled points: {str(exc).splitlines()[0]}"
                con.execute("delete from _bootstrap_values")
                break
    else:
        con.execute(
            "create or replace temp table _bootstrap_base (model_key varchar, _bootstrap_n bigint)"
        )
    n = settings.n_resamples
    con.execute(_INTERVALS_SQL, [run_ids, reason, reason, n, n, n])
    con.execute(_RESAMPLES_SQL, [run_ids])


def _drop(con: duckdb.DuckDBPyConnection, run_ids: list[str]) -> None:
    con.execute(
        "delete from run_metric_resamples where series_id in (select series_id "
        "from run_metric_intervals where list_contains(?::varchar[], run_id))",
        [run_ids],
    )
    for table in ("run_metric_intervals", "run_bootstrap"):
        con.execute(f"delete from {table} where list_contains(?::varchar[], run_id)", [run_ids])


def rebuild_cache(con: duckdb.DuckDBPyConnection) -> int:
    """Store the intervals of the default scoring in ``score_interval_cache``; return rows."""
    with _cleared_variables(con):
        con.execute("delete from score_interval_cache")
        con.execute("insert into score_interval_cache by name select * from score_intervals_live")
    return con.execute("select count(*) from score_interval_cache").fetchall()[0][0]


def update(
    con: duckdb.DuckDBPyConnection,
    *,
    settings: BootstrapSettings | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> UpdateReport:
    """Resample every run whose points changed since it was last resampled, in one transaction.

    Runs are out of date when their stored points, the warehouse's views and catalogue
    (the install fingerprint) or the settings differ from those they were resampled with.
    When any is, the default intervals (``score_interval_cache``) are rebuilt too. With
    0 resamples (``MLPEG_BOOTSTRAP_RESAMPLES=0``, as the test suite sets) nothing is done
    and what was stored stays.

    Parameters
    ----------
    con
        A read-write connection, not inside a transaction.
    settings
        Resamples and seed (default: :meth:`BootstrapSettings.from_environment`).
    progress
        Called with (batches done, batches in all) after each batch.

    Returns
    -------
    UpdateReport
        How many runs were resampled and whether the cache was rebuilt.

    A benchmark whose metrics view fails on resampled points gets no intervals, the error
    stored as their reason; the resampling runs outside any transaction, into temporary
    tables, and what it found is stored in one transaction.
    """
    settings = settings or BootstrapSettings.from_environment()
    if settings.n_resamples == 0:  # off: what was stored stays as it is
        return UpdateReport(0, 0, cache_rebuilt=False)
    pending, gone = _pending(con, settings)
    if not pending and not gone:
        return UpdateReport(0, 0, cache_rebuilt=False)
    from mlpeg import catalog

    benchmarks = catalog.benchmarks()
    for temporary, stored in _ACCUMULATORS.items():
        con.execute(f"create or replace temp table {temporary} as from {stored} limit 0")
    batches = _batches(con, list(pending))
    with _cleared_variables(con):
        for done, (benchmark_key, batch) in enumerate(batches, start=1):
            _resample_batch(con, benchmarks[benchmark_key], batch, settings)
            if progress is not None:
                progress(done, len(batches))
    con.execute("begin transaction")
    try:
        _drop(con, list(pending) + gone)
        for temporary, stored in _ACCUMULATORS.items():
            con.execute(f"insert into {stored} from {temporary}")
        con.executemany(
            "insert into run_bootstrap (run_id, fingerprint, seed, n_resamples) "
            "values (?, ?, ?, ?)",
            [[run, print_, settings.seed, settings.n_resamples] for run, print_ in pending.items()],
        )
        rebuild_cache(con)
    except BaseException:
        con.execute("rollback")
        raise
    con.execute("commit")
    con.execute("drop view if exists _bootstrap_points")
    for name in ("_bootstrap_base", "_bootstrap_counts", "_bootstrap_keys", "_bootstrap_values"):
        con.execute(f"drop table if exists {name}")
    for name in _ACCUMULATORS:
        con.execute(f"drop table if exists {name}")
    for name in ("mlpeg_bootstrap_from", "mlpeg_bootstrap_to"):
        con.execute(f"reset variable {name}")
    return UpdateReport(len(pending), len({key for key, _ in batches}), cache_rebuilt=True)


#: The settings of the selected runs' resamples (what :func:`describe_settings` words).
SETTINGS_SQL = """
select
    min(n_resamples) as min_resamples,
    max(n_resamples) as max_resamples,
    min(seed) as min_seed,
    max(seed) as max_seed,
    count(*) as n_runs,
from run_bootstrap
semi join selected_runs using (run_id)
"""


def describe(con: duckdb.DuckDBPyConnection) -> str:
    """Say what the intervals of the selected runs are, for captions and tooltips.

    Parameters
    ----------
    con
        Any connection to the warehouse (read-only is fine).
    """
    return describe_settings(con.execute(SETTINGS_SQL).fetchall()[0])


def describe_settings(row: tuple) -> str:
    """Word one row of :data:`SETTINGS_SQL`."""
    if not row[4]:
        return "No bootstrap intervals: no scored run has been resampled yet."
    n_low, n_high, seed_low, seed_high = row[:4]
    resamples = f"{n_low:,}" if n_low == n_high else f"{n_low:,} to {n_high:,}"
    seeds = f"seed {seed_low}" if seed_low == seed_high else f"seeds {seed_low} to {seed_high}"
    return (
        f"95 % bootstrap interval: each benchmark's systems resampled with replacement "
        f"({resamples} resamples, {seeds}) and scored like the data; the 2.5th and 97.5th "
        "percentiles of the resampled scores. Metrics that cannot be resampled (per-system "
        "values, MD averages) are held at their value."
    )
