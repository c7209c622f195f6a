"""Nothing lost, nobody in: crashes, concurrent writers and readers, hostile SQL, backups."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from helpers import synthetic_parts
from typer.testing import CliRunner

from mlpeg.cli import app
from mlpeg.errors import MlpegError, WarehouseBusy
from mlpeg.warehouse.connect import (
    connect_reader,
    read_target,
    snapshot_path,
    write_lock,
    writer,
)
from mlpeg.warehouse.ingest import Outcome, ingest
from mlpeg.warehouse.maintenance import check, export_snapshot

runner = CliRunner()
N_PARTS, N_ROWS = 8, 3000


@pytest.fixture
def landing(tmp_path, test_models) -> Path:
    folder = tmp_path / "landing"
    synthetic_parts(folder, n_parts=N_PARTS, n_rows=N_ROWS, models=["model-a", "model-b"])
    return folder


def mlpeg_ingest(landing: Path, warehouse: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "mlpeg.cli", "ingest", str(landing), "-w", str(warehouse)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )


def stored(warehouse: Path) -> tuple[dict[str, int], dict[str, int]]:
    """Rows per run in predictions, and n_rows per run in parts (plain read-only DuckDB)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        installed = con.execute(
            "select count(*) from information_schema.tables "
            "where table_name in ('predictions', 'parts')"
        ).fetchone()[0]
        if installed == 0:  # killed while installing the schema: rolled back, empty file
            return {}, {}
        per_run = dict(
            con.execute("select run_id, count(*) from predictions group by 1").fetchall()
        )
        recorded = dict(con.execute("select run_id, n_rows from parts").fetchall())
    finally:
        con.close()
    return per_run, recorded


def _created(path: Path, process: subprocess.Popen) -> float:
    """Wait until ``path`` exists (or the process ended); return that moment."""
    while not path.exists() and process.poll() is None:
        time.sleep(0.002)
    return time.monotonic()


def test_kill_9_during_ingest_loses_nothing_and_resumes(landing, tmp_path, monkeypatch):
    """20-40 seeded trials: kill -9 at a random moment, then every part is all-in or all-out.

    Batches of two parts (one transaction each), so that the 8 parts commit in 4 steps.

    The kill moment is drawn from a window that narrows onto the ingest itself: a kill that
    found nothing stored raises its lower edge, one that found everything stored lowers its
    upper edge. A loaded machine then still yields kills mid-ingest instead of kills that all
    land during start-up or after the end.
    """
    monkeypatch.setenv("MLPEG_INGEST_BATCH_ROWS", str(2 * N_ROWS))
    # calibrate on this machine: how long does the ingest take once the warehouse file
    # exists? (timed from there, not from the interpreter's start-up, whose noise on a busy
    # machine is larger than the few hundred milliseconds in which the parts commit)
    calibration = tmp_path / "calibration" / "mlpeg.duckdb"
    process = mlpeg_ingest(landing, calibration)
    start = _created(calibration, process)
    assert process.wait() == 0
    duration = time.monotonic() - start
    rng = random.Random(20261128)
    low, high = 0.0, 1.0
    partial_trials = 0
    for trial in range(40):  # 20, or more until three kills have landed mid-ingest
        if trial >= 20 and partial_trials >= 3:
            break
        fraction = rng.uniform(low, high)
        warehouse = tmp_path / f"trial{trial}" / "mlpeg.duckdb"
        process = mlpeg_ingest(landing, warehouse)
        _created(warehouse, process)
        time.sleep(fraction * duration)
        process.send_signal(signal.SIGKILL)
        process.wait()
        per_run, recorded = stored(warehouse) if warehouse.exists() else ({}, {})
        # every recorded part is complete, and no rows exist without their part record
        assert per_run == recorded, f"trial {trial}: {per_run} != {recorded}"
        assert all(n == N_ROWS for n in recorded.values())
        if not recorded:
            low = max(low, fraction)
        elif len(recorded) == N_PARTS:
            high = min(high, fraction)
        else:
            partial_trials += 1
        if high - low < 0.05:  # the window collapsed on timing noise: widen it again
            low, high = max(0.0, low - 0.1), min(1.5, high + 0.1)
        # resuming finishes the job with exactly the expected rows
        finish = mlpeg_ingest(landing, warehouse)
        assert finish.wait(timeout=300) == 0, finish.stderr.read()
        per_run, recorded = stored(warehouse)
        assert len(recorded) == N_PARTS and sum(per_run.values()) == N_PARTS * N_ROWS
    assert partial_trials >= 3, "too few kills landed mid-ingest to test anything"


def test_a_crash_inside_a_batch_rolls_it_back_and_keeps_the_batches_before(
    landing, tmp_path, monkeypatch
):
    """Deterministic twin of the kill -9 test: the 2nd batch fails after its rows went in."""
    from mlpeg.warehouse import cache

    monkeypatch.setenv("MLPEG_INGEST_BATCH_ROWS", str(2 * N_ROWS))  # batches of 2 parts
    warehouse = tmp_path / "wh" / "mlpeg.duckdb"
    real_refresh, calls = cache.refresh, []

    def crash_on_second(con, **kwargs):
        calls.append(kwargs)
        if len(calls) == 2:  # rows and structures of parts 3 and 4 are inserted by now
            raise KeyboardInterrupt
        return real_refresh(con, **kwargs)

    with writer(warehouse) as con:  # opened (and installed) before the fault is planted
        monkeypatch.setattr(cache, "refresh", crash_on_second)
        with pytest.raises(KeyboardInterrupt):
            ingest(con, [landing])
    per_run, recorded = stored(warehouse)
    assert len(recorded) == 2 and per_run == recorded  # parts 1-2 whole, parts 3-4 absent
    monkeypatch.setattr(cache, "refresh", real_refresh)
    with writer(warehouse) as con:
        report = ingest(con, [landing])
    assert report.count(Outcome.LOADED) == N_PARTS - 2 and report.count(Outcome.SKIPPED) == 2
    per_run, recorded = stored(warehouse)
    assert len(recorded) == N_PARTS and sum(per_run.values()) == N_PARTS * N_ROWS


def test_two_writers_at_once_both_land(tmp_path, test_models, monkeypatch):
    monkeypatch.setenv("MLPEG_LOCK_TIMEOUT", "300")  # the second waits for the first
    first, second = tmp_path / "l1", tmp_path / "l2"
    synthetic_parts(first, n_parts=4, n_rows=N_ROWS, models=["model-a"], seed=1)
    synthetic_parts(second, n_parts=4, n_rows=N_ROWS, models=["model-b"], seed=2)
    warehouse = tmp_path / "wh" / "mlpeg.duckdb"
    processes = [mlpeg_ingest(first, warehouse), mlpeg_ingest(second, warehouse)]
    for process in processes:
        assert process.wait(timeout=300) == 0, process.stderr.read()
    per_run, recorded = stored(warehouse)
    assert len(recorded) == 8 and sum(per_run.values()) == 8 * N_ROWS


def test_writer_gives_up_with_a_clear_message(tmp_path):
    warehouse = tmp_path / "mlpeg.duckdb"
    # flock is per open file description, so a second open in-process contends too
    with (
        write_lock(warehouse),
        pytest.raises(WarehouseBusy) as info,
        write_lock(warehouse, timeout_s=0.3),
    ):
        pass
    assert f"being written by another mlpeg process (pid {os.getpid()})" in str(info.value)
    assert "gave up after 0 s (set MLPEG_LOCK_TIMEOUT to wait longer)" in str(info.value)


def test_readers_never_fail_while_ingest_writes(landing, tmp_path):
    warehouse = tmp_path / "wh" / "mlpeg.duckdb"
    seed = tmp_path / "seed"
    synthetic_parts(seed, n_parts=1, n_rows=10, models=["model-a"], seed=9)
    with writer(warehouse) as con:
        ingest(con, [seed])
    process = mlpeg_ingest(landing, warehouse)
    errors, seen = [], set()
    while process.poll() is None:
        try:
            con = connect_reader(warehouse, timeout_s=2)
            try:
                total = con.execute("select count(*) from predictions").fetchone()[0]
                con.execute("select * from leaderboard").fetchall()
            finally:
                con.close()
            seen.add(total)
        except Exception as exc:  # any failure is a failed page
            errors.append(repr(exc))
        time.sleep(0.05)
    assert process.returncode == 0, process.stderr.read()
    assert errors == []
    # readers only ever saw whole parts: 10 seed rows plus a multiple of N_ROWS
    assert seen and all((total - 10) % N_ROWS == 0 for total in seen), seen
    con = connect_reader(warehouse)
    assert con.execute("select count(*) from predictions").fetchone()[0] == 10 + N_PARTS * N_ROWS
    con.close()
    assert read_target(warehouse) == snapshot_path(warehouse)


HOSTILE = [
    "delete from predictions",
    "drop table predictions",
    "update runs set status = 'x'",
    "create table evil (a int)",
    "attach '{tmp}/evil.duckdb' as evil",
    "copy predictions to '{tmp}/stolen.csv'",
    "install httpfs",
    "load httpfs",
    "select * from read_csv('/etc/passwd')",
    "select * from read_parquet('/tmp/*.parquet')",
    "select * from read_text('/etc/hostname')",
    "set enable_external_access = true",
    "pragma enable_external_access=true",
    "set lock_configuration = false",
    "export database '{tmp}/evil_export'",
]


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_sql_is_refused(landing, tmp_path, query):
    warehouse = tmp_path / "wh" / "mlpeg.duckdb"
    with writer(warehouse) as con:
        ingest(con, [next(landing.glob("*.parquet"))])
    before = stored(warehouse)
    # written targets go in this test's own folder, so parallel runs cannot see each other's
    outside = tmp_path / "outside"
    outside.mkdir()
    query = query.format(tmp=outside)
    result = runner.invoke(app, ["sql", query, "-w", str(warehouse)])
    assert isinstance(result.exception, MlpegError), (query, result.stdout)
    message = str(result.exception)
    assert message.startswith("SQL error: "), message
    assert "root:" not in result.stdout
    assert stored(warehouse) == before
    # a refused COPY, EXPORT or ATTACH leaves nothing behind
    leaked = list(outside.iterdir())
    assert not leaked, leaked


def test_export_snapshot_while_reading_and_check(landing, tmp_path):
    warehouse = tmp_path / "wh" / "mlpeg.duckdb"
    shutil.copytree(landing, warehouse.parent / "landing")
    with writer(warehouse) as con:
        ingest(con, [warehouse.parent / "landing"])
    reader_con = connect_reader(warehouse)  # a reader stays open during the export
    manifest = export_snapshot(warehouse, tmp_path / "backup")
    assert reader_con.execute("select count(*) from predictions").fetchone()[0] == N_PARTS * N_ROWS
    reader_con.close()
    assert manifest["row_counts"]["predictions"] == N_PARTS * N_ROWS
    assert len(manifest["landing_parts"]) == N_PARTS
    backup = duckdb.connect(str(tmp_path / "backup" / "mlpeg.duckdb"), read_only=True)
    assert backup.execute("select count(*) from predictions").fetchone()[0] == N_PARTS * N_ROWS
    exported = tmp_path / "backup" / "parquet" / "predictions.parquet"
    parquet_rows = backup.execute(f"select count(*) from read_parquet('{exported}')").fetchone()[0]
    backup.close()
    assert parquet_rows == N_PARTS * N_ROWS
    with pytest.raises(MlpegError, match="is not empty"):
        export_snapshot(warehouse, tmp_path / "backup")
    assert all(f.level == "ok" for f in check(warehouse)), check(warehouse)

    # a landing part edited after ingest, and an orphan prediction, are both reported
    part = next((warehouse.parent / "landing").glob("*.parquet"))
    part.write_bytes(part.read_bytes() + b"tampered")
    con = duckdb.connect(str(warehouse))
    con.execute(
        "insert into predictions (run_id, model_key, benchmark_key, system, role, task, "
        "structure_id, state) values ('ghost', 'model-a', 'X23', 's', 'r', 't', 'x', 'ok')"
    )
    con.close()
    findings = {f.what: f for f in check(warehouse)}
    assert findings["landing parts changed since ingest"].level == "error"
    assert part.name in findings["landing parts changed since ingest"].detail
    assert findings["predictions without a run"].detail == "1 rows"
    assert findings["predictions whose structure is missing"].level == "error"
    result = runner.invoke(app, ["check", "-w", str(warehouse)])
    assert result.exit_code == 1
