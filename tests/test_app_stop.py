"""Stopping ``mlpeg app`` stops the server: no process of it is left and the port is free.

The real entry point (``python -m mlpeg.cli app``) runs in a subprocess on a free port; once
Streamlit answers its health check, the ``mlpeg`` process gets SIGTERM (a process manager,
CI, ``kill``) or SIGINT (Ctrl-C), and within a few seconds nothing it started may remain.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest
from app_helpers import app_warehouse

from mlpeg.paths import REPO_ROOT

#: Seconds the server may take to stop after the signal (it closes sessions and queries).
STOP_WITHIN_S = 10.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _port_is_free(port: int) -> bool:
    """Whether nothing listens and a new server can bind (as Tornado does, SO_REUSEADDR:
    connections of the old server may linger in TIME_WAIT, which does not hold the port)."""
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            return False
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _wait_healthy(process: subprocess.Popen, port: int, log: Path) -> None:
    deadline = time.monotonic() + 120  # a loaded 2-core machine takes a while to import
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{port}/_stcore/health", timeout=5
            ) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if process.poll() is not None:
            break
        time.sleep(0.5)
    process.kill()
    pytest.fail(f"mlpeg app did not start: {log.read_text()[-2000:]}")


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    return app_warehouse(tmp_path_factory.mktemp("stop"))


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_stopping_mlpeg_app_leaves_no_process_and_frees_the_port(warehouse, tmp_path, stop):
    port = _free_port()
    log = tmp_path / "app.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "mlpeg.cli", "app", "-w", str(warehouse), "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=REPO_ROOT,
            start_new_session=True,  # its own process group: what is left is easy to find
        )
    try:
        _wait_healthy(process, port, log)
        members = [process.pid, *(p.pid for p in psutil.Process(process.pid).children(True))]
        process.send_signal(stop)
        process.wait(timeout=STOP_WITHIN_S)
        _, alive = psutil.wait_procs(
            [psutil.Process(pid) for pid in members if psutil.pid_exists(pid)],
            timeout=STOP_WITHIN_S,
        )
        group = [p for p in psutil.process_iter(["pid"]) if _in_group(p, process.pid)]
        assert alive == [] and group == [], f"left running: {alive + group}"
        assert _port_is_free(port)
    finally:  # whatever the outcome, leave nothing of it behind for the next test
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


def _in_group(proc: psutil.Process, group: int) -> bool:
    try:
        return proc.pid != 0 and os.getpgid(proc.pid) == group
    except (ProcessLookupError, psutil.Error, OSError):
        return False
