"""The SQL page refuses hostile SQL, twice over: its own check, then DuckDB's settings."""

from __future__ import annotations

import duckdb
import pytest
from app_helpers import app_warehouse

from mlpeg.appdata import sqlpage
from mlpeg.appdata.store import AppStore

HOSTILE_STATEMENTS = {
    "delete from runs": "DELETE",
    "insert into runs select * from runs": "INSERT",
    "update runs set status = 'x'": "UPDATE",
    "drop table runs": "DROP",
    "create table t as select 1": "CREATE",
    "attach '/tmp/other.duckdb' as other": "ATTACH",
    "copy runs to '/tmp/runs.csv'": "COPY",
    "install httpfs": "EXTENSION",
    "load httpfs": "LOAD",
    "set enable_external_access = true": "SET",
    "pragma threads = 1": "PRAGMA",
    "export database '/tmp/dump'": "EXPORT",
    "checkpoint": "CHECKPOINT",  # harmless read-only, but not a query
}
#: What DuckDB's read-only, external-access-off, locked connection refuses on its own.
REFUSED_BY_CONNECTION = [sql for sql in HOSTILE_STATEMENTS if sql != "checkpoint"]

HOSTILE_QUERIES = [  # SELECTs that pass the first check; DuckDB itself must refuse them
    "select * from read_csv('/etc/passwd')",
    "select * from read_text('/etc/passwd')",
    "select * from '/etc/passwd'",
    "select * from glob('/etc/*')",
    "select * from read_parquet('/tmp/anything.parquet')",
    "select * from sniff_csv('/etc/passwd')",
]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("sqlpage")
    warehouse = app_warehouse(root)
    store = AppStore(warehouse)
    yield store
    store.close()


def test_select_runs_with_row_limit(store):
    result = sqlpage.run_query(store, "select * from runs order by run_id", max_rows=2)
    assert result.table.num_rows == 2 and result.truncated
    assert result.table.column("run_id").to_pylist() == ["run-a-toy", "run-a1"]
    whole = sqlpage.run_query(store, "from runs", max_rows=100)
    assert whole.table.num_rows == 6 and not whole.truncated


def test_explain_and_describe_are_queries(store):
    assert sqlpage.run_query(store, "explain select * from leaderboard").table.num_rows >= 1
    described = sqlpage.run_query(store, "describe runs").table
    assert "run_id" in described.column("column_name").to_pylist()


@pytest.mark.parametrize("sql", sorted(HOSTILE_STATEMENTS))
def test_statement_kinds_other_than_queries_are_refused(store, sql):
    with pytest.raises(sqlpage.QueryRefused, match="read-only queries only"):
        sqlpage.run_query(store, sql)


def test_several_statements_are_refused(store):
    with pytest.raises(sqlpage.QueryRefused, match="one statement at a time"):
        sqlpage.run_query(store, "select 1; delete from runs")


@pytest.mark.parametrize("sql", HOSTILE_QUERIES)
def test_reading_files_is_refused_by_duckdb(store, sql):
    with pytest.raises(sqlpage.QueryFailed):
        sqlpage.run_query(store, sql)


@pytest.mark.parametrize(
    "sql",
    [*REFUSED_BY_CONNECTION, *HOSTILE_QUERIES, "reset lock_configuration"],
)
def test_the_connection_itself_refuses_without_the_first_check(store, sql):
    """Bypass sqlpage's statement check: the read-only, locked connection still refuses."""
    with store.cursor() as cursor, pytest.raises(duckdb.Error):
        cursor.execute(sql)
    with store.cursor() as cursor:
        assert cursor.execute("select count(*) from runs").fetchall() == [(6,)]
        settings = dict(
            cursor.execute(
                "select name, value from duckdb_settings() "
                "where name in ('enable_external_access', 'lock_configuration')"
            ).fetchall()
        )
    assert settings == {"enable_external_access": "false", "lock_configuration": "true"}


def test_python_variables_are_not_reachable(store):
    secret = duckdb.sql("select 42 as answer").to_arrow_table()  # noqa: F841
    with pytest.raises(sqlpage.QueryFailed):
        sqlpage.run_query(store, "select * from secret")


def test_long_query_is_interrupted(store):
    slow = "select count(*) from range(100000) as a, range(100000) as b where a.range + b.range < 0"
    with pytest.raises(sqlpage.QueryTimedOut, match=r"longer than 0\.5 s"):
        sqlpage.run_query(store, slow, timeout_s=0.5)
    # the store is still usable afterwards
    assert sqlpage.run_query(store, "select 1 as one").table.column("one").to_pylist() == [1]


def test_refusal_messages_are_one_sentence(store):
    with pytest.raises(sqlpage.QueryRefused) as refused:
        sqlpage.run_query(store, "delete from runs")
    assert str(refused.value) == (
        "The SQL page runs read-only queries only; a DELETE statement is refused."
    )
    with pytest.raises(sqlpage.QueryFailed) as failed:
        sqlpage.run_query(store, "select * from read_csv('/etc/passwd')")
    assert str(failed.value).startswith("Refused by the warehouse (external access is off)")
