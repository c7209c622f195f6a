"""``MLPEG_DUCKDB_THREADS`` sets DuckDB's threads on every warehouse connection."""

from __future__ import annotations

import duckdb
import pytest

from mlpeg.errors import MlpegError
from mlpeg.warehouse.connect import reader


@pytest.fixture
def warehouse(tmp_path):
    path = tmp_path / "w.duckdb"
    duckdb.connect(str(path)).close()
    return path


def test_threads_follow_the_variable(warehouse, monkeypatch):
    monkeypatch.setenv("MLPEG_DUCKDB_THREADS", "1")
    with reader(warehouse) as con:
        assert con.execute("select current_setting('threads')").fetchone()[0] == 1


def test_a_bad_value_is_one_clear_error(warehouse, monkeypatch):
    monkeypatch.setenv("MLPEG_DUCKDB_THREADS", "many")
    with (
        pytest.raises(MlpegError, match="MLPEG_DUCKDB_THREADS must be a positive integer"),
        reader(warehouse),
    ):
        pass
