"""A stopped ``mlpeg calc`` leaves no process behind: model workers and Ray end with it.

With ``--timeout`` the model runs in a worker process; with ``--engine ray`` the command
starts a local Ray (its services and actors). The real command runs in a subprocess on a
model that takes minutes per structure (the test-only ``hazard`` family with
``sleep_s``); once the model is busy the ``mlpeg`` process is stopped with SIGTERM (its
clean-up runs) or SIGKILL (no clean-up: Linux ends the model worker with its parent).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time

import psutil
import pytest

from mlpeg.paths import REPO_ROOT

pytestmark = [
    pytest.mark.slow,  # 20-60 s each: the command starts, imports and spawns workers
    pytest.mark.skipif(sys.platform != "linux", reason="parent-death signal is Linux's"),
]

SLOW_MODEL = (
    "slow: {{family: hazard, checkpoint: none, trained_on_dispersion: true,"
    " elements: [H, C, N, O], options: {{sleep_s: 600, announce: '{busy}'}}}}\n"
)


def _session(leader: int) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter():
        with contextlib.suppress(psutil.Error, OSError):
            if proc.pid != leader and os.getsid(proc.pid) == leader and proc.status() != "zombie":
                found.append(proc)
    return found


CASES = {
    # --timeout: the model runs in a worker process of the mlpeg process
    "worker-SIGTERM": (["--timeout", "600"], signal.SIGTERM, "mlpeg.calc.worker"),
    "worker-SIGKILL": (["--timeout", "600"], signal.SIGKILL, "mlpeg.calc.worker"),
    # Ray: a local Ray (services, actors) started by the mlpeg process
    "ray-SIGTERM": (["--engine", "ray", "--workers", "1"], signal.SIGTERM, "CalcWorker"),
}


@pytest.mark.parametrize("case", CASES)
def test_a_stopped_calc_leaves_no_process(tmp_path, case):
    if case.startswith("ray"):
        pytest.importorskip("ray")
    engine, stop, busy = CASES[case]
    busy_file = tmp_path / "busy.log"
    (tmp_path / "models.yml").write_text(SLOW_MODEL.format(busy=busy_file))
    env = {
        **os.environ,
        "MLPEG_MODELS": str(tmp_path / "models.yml"),
        "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    command = [sys.executable, "-m", "mlpeg.cli", "calc", "-w", str(tmp_path / "w.duckdb")]
    command += ["-b", "S22", "-m", "slow", "--subset", "1", *engine]
    with open(tmp_path / "calc.log", "w") as log:
        process = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 300
        while not busy_file.exists():  # the model is inside its 600 s structure
            assert process.poll() is None, (tmp_path / "calc.log").read_text()[-2000:]
            assert time.monotonic() < deadline, "the model never started"
            time.sleep(0.5)
        assert any(busy in " ".join(p.cmdline()) for p in _session(process.pid))
        process.send_signal(stop)
        process.wait(timeout=30)
        _, alive = psutil.wait_procs(_session(process.pid), timeout=30)
        assert alive == [], f"left running: {[' '.join(p.cmdline()) for p in alive]}"
        if stop == signal.SIGTERM:
            assert process.returncode == 128 + signal.SIGTERM
    finally:
        for proc in _session(process.pid):  # whatever the outcome, nothing stays
            with contextlib.suppress(psutil.Error):
                proc.kill()
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
