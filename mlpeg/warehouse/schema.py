"""Install and upgrade the warehouse: migrations, catalogue sync and views, in one go.

Run on every write connection, inside one transaction: a malformed ``views.sql`` or YAML
file aborts the whole install and leaves the stored warehouse exactly as it was.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import duckdb
import pyarrow as pa
from ase import units
from ase.data import chemical_symbols

from mlpeg import catalog
from mlpeg.errors import ConfigError
from mlpeg.models import registry
from mlpeg.paths import SQL_DIR, benchmarks_dir
from mlpeg.warehouse import cache
from mlpeg.warehouse.cache import METRIC_COLUMNS, POINT_COLUMNS

SCHEMA_VERSION_TABLE = "schema_info"
_MIGRATION = re.compile(r"^(\d{3})_.*\.sql$")


def migrations() -> list[tuple[int, Path]]:
    """Return ``(version, path)`` of every migration in ``sql/migrations``, in order."""
    found = []
    for path in sorted((SQL_DIR / "migrations").glob("*.sql")):
        match = _MIGRATION.match(path.name)
        if match:
            found.append((int(match.group(1)), path))
    return found


def latest_version() -> int:
    """Return the schema version this code installs."""
    return max(version for version, _ in migrations())


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    """Return the schema version of an open warehouse (0 when empty)."""
    exists = con.execute(
        "select count(*) from information_schema.tables where table_name = ?",
        [SCHEMA_VERSION_TABLE],
    ).fetchone()[0]
    if not exists:
        return 0
    return con.execute(f"select coalesce(max(version), 0) from {SCHEMA_VERSION_TABLE}").fetchone()[
        0
    ]


def _migrate(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        f"create table if not exists {SCHEMA_VERSION_TABLE} "
        "(version integer primary key, applied_at timestamptz default current_timestamp)"
    )
    current = schema_version(con)
    if current > latest_version():
        raise ConfigError(
            f"The warehouse has schema version {current}, newer than this mlpeg "
            f"({latest_version()}); upgrade mlpeg."
        )
    applied = {
        row[0] for row in con.execute(f"select version from {SCHEMA_VERSION_TABLE}").fetchall()
    }
    for version, path in migrations():
        if version not in applied:  # also one numbered below a later one already applied
            con.execute(path.read_text())
            con.execute(f"insert into {SCHEMA_VERSION_TABLE} (version) values (?)", [version])


def _sync_catalog(con: duckdb.DuckDBPyConnection) -> None:
    categories = catalog.categories()
    benchmarks = catalog.benchmarks()
    con.execute("delete from metric_definitions")
    con.execute("delete from benchmarks")
    con.execute("delete from categories")
    _insert_rows(
        con,
        "categories",
        [(c.key, c.title, c.description, c.weight) for c in categories.values()],
    )
    _insert_rows(
        con,
        "benchmarks",
        [
            (
                b.key,
                b.category,
                b.schema_name,
                b.title,
                b.description,
                b.level_of_theory,
                b.cost,
                b.dispersion,
                categories[b.category].benchmark_weights.get(b.key, 1.0),
                b.doi,
            )
            for b in benchmarks.values()
        ],
    )
    _insert_rows(
        con,
        "metric_definitions",
        [
            (
                b.key,
                m.key,
                m.title or m.key,
                m.quantity,
                m.unit,
                m.good,
                m.bad,
                m.weight,
                m.level_of_theory or b.level_of_theory,
                m.tooltip,
                order,
            )
            for b in benchmarks.values()
            for order, m in enumerate(b.metrics)
        ],
    )
    rows = []
    for spec in registry.all_models().values():
        variants = [False] if spec.trained_on_dispersion else [False, True]
        for with_d3 in variants:
            dispersion = (
                "trained" if spec.trained_on_dispersion else ("d3(bj)" if with_d3 else "none")
            )
            rows.append(
                (
                    spec.key(with_d3=with_d3),
                    spec.name,
                    spec.family,
                    spec.checkpoint,
                    spec.checkpoint_sha256,
                    dispersion,
                    spec.dtype,
                    spec.level_of_theory,
                    list(spec.training_sets),
                    registry.element_symbols(spec),
                    spec.licence,
                    spec.paper,
                    spec.n_params,
                    spec.notes,
                    spec.test_only,
                )
            )
    _insert_rows(con, "models", rows, replace=True)


def _insert_rows(
    con: duckdb.DuckDBPyConnection, table: str, rows: list[tuple], *, replace: bool = False
) -> None:
    """Insert Python tuples in one statement (executemany runs one statement per row)."""
    if not rows:
        return
    columns = [
        row[0]
        for row in con.execute(
            "select column_name from information_schema.columns where table_name = ? "
            "and table_schema = 'main' order by ordinal_position",
            [table],
        ).fetchall()
    ]
    columns = columns[: len(rows[0])]
    batch = pa.Table.from_pylist([dict(zip(columns, row, strict=True)) for row in rows])
    verb = "insert or replace" if replace else "insert"
    con.register("catalog_rows", batch)
    try:
        con.execute(
            f"{verb} into {table} ({', '.join(columns)}) "
            f"select {', '.join(columns)} from catalog_rows"
        )
    finally:
        con.unregister("catalog_rows")


def _run_sql_file(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    try:
        con.execute(path.read_text())
    except duckdb.Error as exc:
        message = str(exc).splitlines()[0]
        raise ConfigError(f"{path}: {message}") from exc


def _unit_macros() -> str:
    """Return unit-conversion macros whose constants come from ``ase.units``."""
    factors = {
        "ev_to_kj_per_mol": 1 / (units.kJ / units.mol),
        "ev_to_kcal_per_mol": 1 / (units.kcal / units.mol),
        "ev_to_mev": 1000.0,
        "ev_per_a3_to_gpa": 1 / units.GPa,
    }
    return "\n".join(
        f"create or replace macro {name}(x) as x * {factor!r};" for name, factor in factors.items()
    )


def _symbols_macro() -> str:
    symbols = ", ".join(f"'{symbol}'" for symbol in chemical_symbols)
    return f"create or replace macro chemical_symbol(z) as [{symbols}][z + 1];"


def _union(view: str, columns: list[str]) -> str:
    """Build ``all_<view>_live``: the union of every benchmark schema's ``<view>``."""
    selects = []
    listed = ", ".join(columns)
    for benchmark in catalog.benchmarks().values():
        selects.append(
            f"select '{benchmark.key}' as benchmark_key, {listed} "
            f"from {benchmark.schema_name}.{view}"
        )
    if not selects:
        nulls = ", ".join(f"null as {column}" for column in columns)
        selects.append(f"select null::varchar as benchmark_key, {nulls} where false")
    return f"create or replace view all_{view}_live as\n" + "\nunion all by name\n".join(selects)


def leaderboard_sql() -> str:
    """Return the ``leaderboard`` view: one row per model; per category a score and a state.

    Category scores are computed once (a materialised CTE) and the overall score is derived
    from them here, instead of reading ``overall_scores`` and ``category_scores`` separately,
    which made DuckDB evaluate every benchmark's views twice.
    """
    columns = []
    for key in catalog.categories():
        columns.append(f"max(score) filter (where category_key = '{key}') as {key}")
        columns.append(
            f"coalesce(max(state) filter (where category_key = '{key}'), 'not_run') as {key}__state"
        )
    per_category = ",\n        ".join(columns) if columns else "null as no_categories"
    return f"""
-- grain: one row per model; overall score then one score column per category
create or replace view leaderboard as
with categories_scored as materialized (
    select * from category_scores
),
per_model as (
    select
        model_key,
        weighted_mean(score, category_weight) as overall,
        summary_state(list(state)) as state,
        {per_category},
    from categories_scored
    group by model_key
)
select * from per_model
order by overall desc nulls last, model_key;
"""


def _install_views(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(_symbols_macro())
    con.execute(_unit_macros())
    _run_sql_file(con, SQL_DIR / "macros.sql")
    views = sorted((SQL_DIR / "views").glob("*.sql"))
    # Base views first, then each benchmark's views, then the unions and scoring on top.
    _run_sql_file(con, views[0])
    # Shared table macros (e.g. macros_reactions.sql) read the base views, and DuckDB binds a
    # table macro's tables when it is created, so they come after the base views.
    for path in sorted(SQL_DIR.glob("macros_*.sql")):
        _run_sql_file(con, path)
    for benchmark in catalog.benchmarks().values():
        if not benchmark.views_sql.is_file():
            raise ConfigError(f"Benchmark {benchmark.key} has no views.sql in {benchmark.folder}.")
        _run_sql_file(con, benchmark.views_sql)
        for view in ("points", "metrics"):
            exists = con.execute(
                "select count(*) from information_schema.tables "
                "where table_schema = ? and table_name = ?",
                [benchmark.schema_name, view],
            ).fetchone()[0]
            if not exists:
                raise ConfigError(
                    f"{benchmark.views_sql}: must create the view {benchmark.schema_name}.{view}."
                )
    try:
        con.execute(_union("points", POINT_COLUMNS))
        con.execute(_union("metrics", METRIC_COLUMNS))
        con.execute(cache.dispatching_view("points", POINT_COLUMNS))
        con.execute(cache.dispatching_view("metrics", METRIC_COLUMNS))
    except duckdb.Error as exc:
        raise ConfigError(
            "A benchmark's points or metrics view lacks a required column "
            f"(points: {', '.join(POINT_COLUMNS)}; metrics: {', '.join(METRIC_COLUMNS)}): "
            f"{str(exc).splitlines()[0]}"
        ) from exc
    for path in views[1:]:
        _run_sql_file(con, path)
    con.execute(leaderboard_sql())


def source_fingerprint() -> str:
    """Hash of everything ``install`` reads: SQL, benchmark and category files, models.

    When it matches the one stored by the last install, the warehouse is already up to
    date and opening a writer skips the (seconds-long) view rebuild.
    """
    digest = hashlib.sha256(Path(__file__).read_bytes())
    files = sorted(SQL_DIR.rglob("*.sql"))
    for bench in catalog.benchmarks().values():
        files += [bench.folder / "benchmark.yml", bench.views_sql]
    files += sorted(benchmarks_dir().glob("*/category.yml"))
    files.append(registry.registry_path())
    for path in files:
        digest.update(str(path).encode())
        digest.update(path.read_bytes() if path.is_file() else b"")
    return digest.hexdigest()


def _stored_fingerprint(con: duckdb.DuckDBPyConnection) -> str | None:
    exists = con.execute(
        "select count(*) from information_schema.tables where table_name = 'install_state'"
    ).fetchone()[0]
    if not exists:
        return None
    row = con.execute("select fingerprint from install_state").fetchone()
    return row[0] if row else None


def install(con: duckdb.DuckDBPyConnection, *, force: bool = False) -> None:
    """Bring an open read-write warehouse up to date, atomically.

    Applies pending migrations, syncs categories, benchmarks, metric definitions and
    models from their YAML files, and (re)creates every view; skipped when nothing that
    it reads changed since the last install (unless ``force``).

    Raises
    ------
    ConfigError
        When a YAML or SQL file is malformed; nothing is changed then.
    """
    fingerprint = source_fingerprint()
    if not force and _stored_fingerprint(con) == fingerprint:
        return
    con.execute("begin transaction")
    try:
        _migrate(con)
        _sync_catalog(con)
        _install_views(con)
        cache.refresh(con)  # any view may have changed: recompute every run's rows
        con.execute("create table if not exists install_state (fingerprint varchar)")
        con.execute("delete from install_state")
        con.execute("insert into install_state values (?)", [fingerprint])
    except BaseException:
        con.execute("rollback")
        raise
    con.execute("commit")
