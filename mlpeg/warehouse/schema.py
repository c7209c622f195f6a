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

from mlpeg import catalog, profiles
from mlpeg.appdata import presets
from mlpeg.errors import ConfigError
from mlpeg.models import registry
from mlpeg.models import sources as model_sources
from mlpeg.paths import SQL_DIR, benchmarks_dir
from mlpeg.warehouse import cache, sqlgraph
from mlpeg.warehouse.model_rows import model_row

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
    # one row per model (:func:`mlpeg.warehouse.model_rows.model_row`)
    rows = [tuple(model_row(spec).values()) for spec in registry.all_models().values()]
    _insert_rows(con, "models", rows, replace=True)
    _sync_model_kinds(con)


def _sync_model_kinds(con: duckdb.DuckDBPyConnection) -> None:
    """Set each registered model's ``kind`` and ``accepts`` (by name, on all its rows)."""
    import json

    kinds = pa.table(
        {
            "base_model": [spec.name for spec in registry.all_models().values()],
            "kind": [spec.kind for spec in registry.all_models().values()],
            "accepts": [
                json.dumps(spec.accepts.as_dict()) for spec in registry.all_models().values()
            ],
        }
    )
    con.register("model_kinds", kinds)
    try:
        con.execute(
            "update models set kind = model_kinds.kind, accepts = model_kinds.accepts::json "
            "from model_kinds where models.base_model = model_kinds.base_model"
        )
    finally:
        con.unregister("model_kinds")


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


def _run_statement(con: duckdb.DuckDBPyConnection, statement: sqlgraph.Statement) -> None:
    try:
        con.execute(statement.sql)
    except duckdb.Error as exc:
        message = str(exc).splitlines()[0]
        raise ConfigError(f"{statement.source}: {message}") from exc


def _check_benchmark_views(
    con: duckdb.DuckDBPyConnection, statements: list[sqlgraph.Statement]
) -> None:
    """Raise unless each benchmark's views created its ``points`` and ``metrics``.

    One query for all of them (a query per view cost a fifth of a fresh install).
    """
    found = set(
        con.execute(
            "select schema_name, view_name from duckdb_views() "
            "union all select schema_name, table_name from duckdb_tables()"
        ).fetchall()
    )
    for statement in statements:
        for view in ("points", "metrics"):
            if (statement.schema, view) not in found:
                raise ConfigError(
                    f"{statement.source}: must create the view {statement.schema}.{view}."
                )


def _install_views(con: duckdb.DuckDBPyConnection) -> None:
    """Run every step of ``sql/manifest.yml`` after the migrations, in order."""
    unchecked: list[sqlgraph.Statement] = []  # benchmark views not yet checked
    for statement in sqlgraph.statements():
        if unchecked and statement.step.kind != "benchmarks":
            _check_benchmark_views(con, unchecked)
            unchecked = []
        if statement.step.kind == "template" and statement.step.argument.startswith("all_"):
            try:
                con.execute(statement.sql)
            except duckdb.Error as exc:
                raise ConfigError(
                    "A benchmark's points or metrics view lacks a required column "
                    f"(points: {', '.join(sqlgraph.POINT_COLUMNS)}; metrics: "
                    f"{', '.join(sqlgraph.METRIC_COLUMNS)}): {str(exc).splitlines()[0]}"
                ) from exc
            continue
        _run_statement(con, statement)
        if statement.step.kind == "benchmarks":
            unchecked.append(statement)
    if unchecked:
        _check_benchmark_views(con, unchecked)


def source_fingerprint() -> str:
    """Hash of everything ``install`` reads: SQL, benchmark and category files, models.

    When it matches the one stored by the last install, the warehouse is already up to
    date and opening a writer skips the (seconds-long) view rebuild.
    """
    digest = hashlib.sha256(Path(__file__).read_bytes())
    digest.update(Path(sqlgraph.__file__).read_bytes())
    digest.update(Path(profiles.__file__).read_bytes())  # the built-in profiles
    digest.update(Path(presets.__file__).read_bytes())
    files = sqlgraph.sources()
    files += [bench.folder / "benchmark.yml" for bench in catalog.benchmarks().values()]
    files += sorted(benchmarks_dir().glob("*/category.yml"))
    for path in files:
        digest.update(str(path).encode())
        digest.update(path.read_bytes() if path.is_file() else b"")
    digest.update(model_sources.fingerprint().encode())  # shipped, user files, packages
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
        profiles.sync_builtin(con)
        _install_views(con)
        cache.refresh(con)  # any view may have changed: recompute every run's rows
        con.execute("create table if not exists install_state (fingerprint varchar)")
        con.execute("delete from install_state")
        con.execute("insert into install_state values (?)", [fingerprint])
    except BaseException:
        con.execute("rollback")
        raise
    con.execute("commit")
