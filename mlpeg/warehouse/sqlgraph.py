"""The warehouse's SQL graph: the steps of ``sql/manifest.yml``, rendered to statements.

``sql/manifest.yml`` lists, in build order, every layer of SQL the warehouse holds:
migrations, generated macros, plain files, each benchmark's views and the templates
rendered from the catalogue. This module reads it and renders each step; the installer
(:mod:`mlpeg.warehouse.schema`) runs them, and ``mlpeg sql --explain`` uses the same
rendering to say where a view comes from and what it reads.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from string import Template

import yaml
from ase import units
from ase.data import chemical_symbols

from mlpeg import catalog
from mlpeg.errors import ConfigError
from mlpeg.paths import SQL_DIR

MANIFEST = "manifest.yml"
TEMPLATES = "templates"
STEP_KINDS = ("migrations", "generated", "file", "benchmarks", "template")

#: Columns every benchmark's ``points`` and ``metrics`` views must have.
POINT_COLUMNS = ["model_key", "system", "quantity", "pred", "ref", "unit", "state", "structure_id"]
METRIC_COLUMNS = ["model_key", "metric_key", "value"]
UNION_COLUMNS = {"points": POINT_COLUMNS, "metrics": METRIC_COLUMNS}

_CREATED = re.compile(
    r"create\s+(?:or\s+replace\s+)?(?:view|macro|table)\s+(?:if\s+not\s+exists\s+)?"
    r"([A-Za-z_][\w.]*)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Step:
    """One step of the manifest: its kind and argument (a file, folder or name)."""

    kind: str
    argument: str
    position: int

    @property
    def label(self) -> str:
        """How the step reads in the manifest, e.g. ``file: views/00_selected.sql``."""
        return f"{self.kind}: {self.argument}"


@dataclass(frozen=True)
class Statement:
    """SQL produced by one step, with the file it was read or rendered from."""

    step: Step
    source: str
    sql: str
    schema: str | None = None  # the benchmark schema, for a benchmark's views

    def created(self) -> list[str]:
        """Names of the views, macros and tables this SQL creates (lower case)."""
        return [name.lower() for name in _CREATED.findall(_strip_comments(self.sql))]


def _strip_comments(sql: str) -> str:
    return "\n".join(line.split("--", 1)[0] for line in sql.splitlines())


def steps(sql_dir: Path = SQL_DIR) -> list[Step]:
    """Return the build steps of ``sql/manifest.yml``, in order.

    Raises
    ------
    ConfigError
        If the manifest is missing, malformed, or does not start with the migrations.
    """
    path = sql_dir / MANIFEST
    try:
        document = catalog.parse_yaml(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"Cannot read the SQL manifest {path}: {exc}") from exc
    entries = document.get("steps") if isinstance(document, dict) else None
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{path}: expected a list under 'steps'.")
    found = []
    for position, entry in enumerate(entries, start=1):
        if not (isinstance(entry, dict) and len(entry) == 1):
            raise ConfigError(f"{path}: step {position} must be one 'kind: argument' pair.")
        ((kind, argument),) = entry.items()
        if kind not in STEP_KINDS:
            raise ConfigError(
                f"{path}: step {position} has unknown kind '{kind}' "
                f"(known: {', '.join(STEP_KINDS)})."
            )
        found.append(Step(kind, str(argument), position))
    if found[0].kind != "migrations":
        raise ConfigError(f"{path}: the first step must be the migrations.")
    return found


def render_template(name: str, sql_dir: Path = SQL_DIR, **values: str) -> str:
    """Render ``sql/templates/<name>`` with ``$placeholders`` filled from ``values``."""
    path = sql_dir / TEMPLATES / name
    try:
        return Template(path.read_text()).substitute(values)
    except OSError as exc:
        raise ConfigError(f"Cannot read the SQL template {path}: {exc.strerror}.") from exc
    except (KeyError, ValueError) as exc:
        raise ConfigError(f"{path}: placeholder {exc} has no value.") from exc


def _generated(name: str) -> str:
    if name == "chemical_symbol":
        symbols = ", ".join(f"'{symbol}'" for symbol in chemical_symbols)
        return f"create or replace macro chemical_symbol(z) as [{symbols}][z + 1];"
    if name == "unit_macros":
        factors = {
            "ev_to_kj_per_mol": 1 / (units.kJ / units.mol),
            "ev_to_kcal_per_mol": 1 / (units.kcal / units.mol),
            "ev_to_mev": 1000.0,
            "ev_per_a3_to_gpa": 1 / units.GPa,
        }
        return "\n".join(
            f"create or replace macro {macro}(x) as x * {factor!r};"
            for macro, factor in factors.items()
        )
    raise ConfigError(f"sql/{MANIFEST}: no generated SQL is called '{name}'.")


def benchmark_views(benchmark: catalog.Benchmark, sql_dir: Path = SQL_DIR) -> tuple[str, str]:
    """Return ``(source, sql)`` of a benchmark's views: its views.sql, or its kind's template.

    Raises
    ------
    ConfigError
        If the benchmark has no views.sql and no kind whose template could stand in.
    """
    if benchmark.views_sql.is_file():
        return str(benchmark.views_sql), benchmark.views_sql.read_text()
    if benchmark.kind == "custom":
        raise ConfigError(f"Benchmark {benchmark.key} has no views.sql in {benchmark.folder}.")
    quantities = {metric.quantity for metric in benchmark.metrics}
    units_used = {metric.unit for metric in benchmark.metrics}
    if len(quantities) != 1 or None in quantities or units_used != {"kcal/mol"}:
        raise ConfigError(
            f"{benchmark.folder / 'benchmark.yml'}: a '{benchmark.kind}' benchmark without "
            "views.sql needs every metric in kcal/mol with one `quantity`; write a views.sql "
            "for anything else."
        )
    template = f"kind_{benchmark.kind}.sql"
    sql = render_template(
        template,
        sql_dir,
        schema=benchmark.schema_name,
        key=benchmark.key,
        quantity=quantities.pop(),
        metric_keys=", ".join("'" + m.key.replace("'", "''") + "'" for m in benchmark.metrics),
    )
    return f"{sql_dir / TEMPLATES / template} (for {benchmark.key})", sql


def _rendered_template(name: str, sql_dir: Path) -> Iterator[tuple[str, str]]:
    source = str(sql_dir / TEMPLATES / name)
    benchmarks = catalog.benchmarks()
    if name in ("all_live.sql", "all_stored.sql"):
        for view, columns in UNION_COLUMNS.items():
            listed = ", ".join(columns)
            selects = [
                f"select '{b.key}' as benchmark_key, {listed} from {b.schema_name}.{view}"
                for b in benchmarks.values()
            ] or [
                "select null::varchar as benchmark_key, "
                + ", ".join(f"null as {column}" for column in columns)
                + " where false"
            ]
            yield (
                f"{source} ({view})",
                render_template(
                    name,
                    sql_dir,
                    view=view,
                    columns=listed,
                    selects="\nunion all by name\n".join(selects),
                ),
            )
    elif name == "leaderboard.sql":
        columns = []
        for key in catalog.categories():
            only = f"filter (where category_key = '{key}')"
            columns.append(f"max(score) {only} as {key}")
            columns.append(f"coalesce(max(state) {only}, 'not_run') as {key}__state")
            columns.append(
                f"nullif(concat_ws(' ', case when bool_or(with_d3) {only} then 'D3' end, "
                f"case when bool_or(is_quick) {only} then 'quick' end), '') as {key}__marks"
            )
        yield (
            source,
            render_template(
                name,
                sql_dir,
                category_columns=",\n        ".join(columns) or "null as no_categories",
            ),
        )
    else:
        raise ConfigError(f"sql/{MANIFEST}: no renderer for the template '{name}'.")


def statements(sql_dir: Path = SQL_DIR) -> Iterator[Statement]:
    """Yield the SQL of every step after the migrations, in build order.

    Migrations are not rendered here: the installer applies each one once, by number.
    """
    for step in steps(sql_dir):
        if step.kind == "migrations":
            continue
        if step.kind == "generated":
            yield Statement(step, f"generated: {step.argument}", _generated(step.argument))
        elif step.kind == "file":
            path = sql_dir / step.argument
            try:
                yield Statement(step, str(path), path.read_text())
            except OSError as exc:
                raise ConfigError(f"sql/{MANIFEST}: cannot read {path}: {exc.strerror}.") from exc
        elif step.kind == "benchmarks":
            for benchmark in catalog.benchmarks().values():
                source, sql = benchmark_views(benchmark, sql_dir)
                yield Statement(step, source, sql, benchmark.schema_name)
        else:
            for source, sql in _rendered_template(step.argument, sql_dir):
                yield Statement(step, source, sql)


def sources(sql_dir: Path = SQL_DIR) -> list[Path]:
    """Every file the graph is built from (for the installer's fingerprint)."""
    found = [sql_dir / MANIFEST, *sorted(sql_dir.rglob("*.sql"))]
    for benchmark in catalog.benchmarks().values():
        found.append(benchmark.views_sql)
    return found


@dataclass(frozen=True)
class Explanation:
    """Where one view or macro of the warehouse comes from and what it reads."""

    name: str
    kind: str
    step: Step | None
    source: str
    reads: tuple[tuple[str, str], ...]  # (name, where it is built) of each thing it reads


def builders(sql_dir: Path = SQL_DIR) -> dict[str, Statement]:
    """Map every object name the graph creates (``x23.points``, ``leaderboard``) to its step."""
    built: dict[str, Statement] = {}
    for statement in statements(sql_dir):
        for name in statement.created():
            built[name] = statement
    return built


def _referenced(node: object, found: set[str], ctes: set[str]) -> None:
    """Collect table, view and function names referenced anywhere in a parsed query."""
    if isinstance(node, dict):
        for entry in node.get("cte_map", {}).get("map", []) if "cte_map" in node else []:
            ctes.add(str(entry.get("key", "")).lower())
        if node.get("type") == "BASE_TABLE":
            schema = node.get("schema_name") or ""
            table = str(node.get("table_name", "")).lower()
            found.add(f"{schema.lower()}.{table}" if schema and schema != "main" else table)
        if "function_name" in node:
            found.add(str(node["function_name"]).lower())
        for value in node.values():
            _referenced(value, found, ctes)
    elif isinstance(node, list):
        for value in node:
            _referenced(value, found, ctes)


def explain(con: object, name: str, sql_dir: Path = SQL_DIR) -> Explanation:
    """Say which manifest step builds ``name`` and what it reads, from the open warehouse.

    Parameters
    ----------
    con
        An open (read-only is enough) DuckDB connection to the warehouse.
    name
        A view (``leaderboard``, ``x23.points``) or macro (``reaction_points``).

    Raises
    ------
    ConfigError
        If the warehouse holds no view or macro of that name.
    """
    import json

    from mlpeg.warehouse.snapshot import live_view

    wanted = name.lower()
    schema, _, short = wanted.rpartition(".")
    if schema in ("", "main"):  # in a read snapshot, the view the stored table came from
        short = live_view(con, short)
    row = con.execute(
        "select sql from duckdb_views() where lower(view_name) = ? "
        "and lower(schema_name) = coalesce(nullif(?, ''), 'main') and not internal",
        [short, schema],
    ).fetchone()
    kind = "view"
    if row is not None:
        body = re.split(r"\bAS\b", row[0], maxsplit=1, flags=re.IGNORECASE)[1]
    else:
        row = con.execute(
            "select macro_definition from duckdb_functions() where lower(function_name) = ? "
            "and function_type in ('macro', 'table_macro') and not internal limit 1",
            [short],
        ).fetchone()
        if row is None:
            raise ConfigError(f"The warehouse has no view or macro called '{name}'.")
        kind, body = "macro", row[0]
    parsed = con.execute("select json_serialize_sql(?)", [body.strip().rstrip(";")]).fetchone()[0]
    found: set[str] = set()
    ctes: set[str] = set()
    _referenced(json.loads(parsed), found, ctes)
    built = builders(sql_dir)
    reads = []
    for referenced in sorted(found - ctes - {wanted}):
        if referenced in built:
            reads.append((referenced, built[referenced].step.label))
        elif con.execute(
            "select count(*) from duckdb_tables() where lower(table_name) = ? "
            "and lower(schema_name) = 'main'",
            [referenced],
        ).fetchone()[0]:
            reads.append((referenced, "table (sql/migrations)"))
    statement = built.get(wanted)
    return Explanation(
        name=wanted,
        kind=kind,
        step=statement.step if statement else None,
        source=statement.source if statement else "(not in sql/manifest.yml)",
        reads=tuple(reads),
    )
