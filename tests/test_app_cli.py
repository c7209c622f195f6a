"""``mlpeg app``: one clear sentence without a warehouse; the server it starts is local."""

from __future__ import annotations

import subprocess
import sys

from mlpeg.appdata.launch import app_environment, streamlit_command


def test_app_without_a_warehouse_says_so(tmp_path):
    missing = tmp_path / "none.duckdb"
    result = subprocess.run(
        [sys.executable, "-m", "mlpeg.cli", "app", "--warehouse", str(missing)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"No warehouse at {missing}" in " ".join(result.stderr.split())


def test_streamlit_command_serves_locally_offline():
    command = streamlit_command(port=8765, host="127.0.0.1")
    options = dict(zip(command[5::2], command[6::2], strict=True))
    assert options["--server.address"] == "127.0.0.1"
    assert options["--server.port"] == "8765"
    assert options["--server.enableStaticServing"] == "true"  # 3Dmol.js from /app/static
    assert options["--browser.gatherUsageStats"] == "false"  # no telemetry


def test_no_sql_and_warehouse_reach_the_app(tmp_path):
    env = app_environment(tmp_path / "w.duckdb", sql_page=False)
    assert env["MLPEG_WAREHOUSE"] == str((tmp_path / "w.duckdb").resolve())
    assert env["MLPEG_APP_NO_SQL"] == "1"


def test_the_app_listens_on_this_machine_only_unless_told(monkeypatch, tmp_path):
    from typer.testing import CliRunner

    import mlpeg.appdata.launch as launch_module
    from mlpeg.cli import app

    calls = []
    monkeypatch.setattr(launch_module, "launch", lambda *a, **kw: calls.append(kw) or 0)
    runner = CliRunner()
    assert runner.invoke(app, ["app", "-w", str(tmp_path / "w.duckdb")]).exit_code == 0
    assert runner.invoke(app, ["app", "--host", "0.0.0.0", "--no-sql"]).exit_code == 0
    assert calls[0]["host"] == "127.0.0.1" and calls[0]["sql_page"] is True
    assert calls[1]["host"] == "0.0.0.0" and calls[1]["sql_page"] is False
