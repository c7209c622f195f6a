"""The SQL graph of sql/manifest.yml: complete, in dependency order, explained, and kinds."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from mlpeg import catalog
from mlpeg.cli import app
from mlpeg.errors import ConfigError
from mlpeg.paths import REPO_ROOT, SQL_DIR
from mlpeg.warehouse import sqlgraph
from mlpeg.warehouse.connect import writer


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("graph") / "mlpeg.duckdb"
    with writer(path):
        pass
    return path


def warehouse_objects(con: duckdb.DuckDBPyConnection) -> set[str]:
    views = con.execute(
        "select case when schema_name = 'main' then view_name "
        "else schema_name || '.' || view_name end "
        "from duckdb_views() where not internal and not temporary"
    ).fetchall()
    macros = con.execute(
        "select distinct function_name from duckdb_functions() "
        "where function_type in ('macro', 'table_macro') and not internal"
    ).fetchall()
    return {name.lower() for (name,) in views + macros}


def test_every_view_and_macro_is_built_by_exactly_one_step(installed):
    created: dict[str, list[str]] = {}
    for statement in sqlgraph.statements():
        for name in statement.created():
            created.setdefault(name, []).append(statement.source)
    twice = {name: where for name, where in created.items() if len(where) > 1}
    assert not twice
    with duckdb.connect(str(installed), read_only=True) as con:
        objects = warehouse_objects(con)
    assert objects, "the install built nothing"
    assert objects <= set(created), objects - set(created)
    assert {"leaderboard", "s22.points", "x23.metrics", "all_points_live"} <= objects


def test_manifest_order_is_dependency_order(installed):
    built = sqlgraph.builders()
    with duckdb.connect(str(installed), read_only=True) as con:
        for name in ("leaderboard", "metric_scores", "all_metrics", "s66.metrics", "x23.points"):
            found = sqlgraph.explain(con, name)
            assert found.reads, name
            for referenced, _ in found.reads:
                if referenced in built:
                    assert built[referenced].step.position <= found.step.position, (
                        f"{name} (step {found.step.position}) reads {referenced} "
                        f"(step {built[referenced].step.position})"
                    )


def test_explain_names_the_template_and_what_it_reads(installed):
    result = CliRunner().invoke(
        app, ["sql", "--explain", "leaderboard", "--warehouse", str(installed)]
    )
    assert result.exit_code == 0, result.output
    assert "template: leaderboard.sql" in result.output
    assert "category_scores" in result.output and "views/10_scores.sql" in result.output
    unknown = CliRunner().invoke(app, ["sql", "--explain", "nope", "--warehouse", str(installed)])
    assert unknown.exit_code != 0
    assert "no view or macro called 'nope'" in str(unknown.exception)


def test_reaction_benchmarks_without_views_sql_use_the_kind_template():
    s22 = catalog.get_benchmark("S22")
    assert not s22.views_sql.exists() and s22.kind == "reactions"
    source, sql = sqlgraph.benchmark_views(s22)
    assert source.endswith("kind_reactions.sql (for S22)")
    assert "reaction_points_kcal_per_mol('S22', 'interaction_energy')" in sql
    # Only the metric keys S22 declares survive the template's filter.
    declared = ", ".join(f"'{m.key}'" for m in s22.metrics)
    assert f"where metric_key in ({declared})" in sql


@pytest.fixture
def bench_tree(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "benchmarks"
    shutil.copytree(
        REPO_ROOT / "benchmarks" / "non_covalent_interactions", root / "non_covalent_interactions"
    )
    monkeypatch.setenv("MLPEG_BENCHMARKS", str(root))
    catalog.clear_cache()
    yield root / "non_covalent_interactions"
    catalog.clear_cache()


def test_custom_benchmark_without_views_sql_is_one_clear_error(bench_tree):
    yml = bench_tree / "S22" / "benchmark.yml"
    yml.write_text(yml.read_text().replace("kind: reactions\n", ""))
    catalog.clear_cache()
    with pytest.raises(ConfigError, match=r"Benchmark S22 has no views\.sql in .*S22"):
        sqlgraph.benchmark_views(catalog.get_benchmark("S22"))


def test_reaction_kind_needs_kcal_per_mol_metrics_without_views_sql(bench_tree):
    yml = bench_tree / "S22" / "benchmark.yml"
    yml.write_text(yml.read_text().replace("unit: kcal/mol", "unit: eV"))
    catalog.clear_cache()
    with pytest.raises(ConfigError, match=r"S22/benchmark\.yml: a 'reactions' benchmark"):
        sqlgraph.benchmark_views(catalog.get_benchmark("S22"))


def test_malformed_manifest_is_one_clear_error(tmp_path):
    sql_dir = tmp_path / "sql"
    shutil.copytree(SQL_DIR, sql_dir)
    (sql_dir / "manifest.yml").write_text("steps:\n  - file: macros.sql\n")
    with pytest.raises(ConfigError, match=r"manifest\.yml: the first step must be the migrations"):
        sqlgraph.steps(sql_dir)
    (sql_dir / "manifest.yml").write_text("steps:\n  - migrations: migrations\n  - view: x\n")
    with pytest.raises(ConfigError, match=r"step 2 has unknown kind 'view'"):
        sqlgraph.steps(sql_dir)
