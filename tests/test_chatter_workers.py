"""What a model library prints goes to the calc's log, from worker processes too."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from mlpeg.paths import REPO_ROOT

NOISY = """
import sys
from ase.calculators.emt import EMT


class Noisy(EMT):
    def calculate(self, *args, **kwargs):
        print("chatter on stdout")
        print("chatter on stderr", file=sys.stderr)
        super().calculate(*args, **kwargs)


def make():
    return Noisy()
"""


def test_a_worker_process_prints_into_the_log_not_across_the_progress_bars(tmp_path: Path):
    (tmp_path / "noisy_calc.py").write_text(NOISY)
    models = tmp_path / "models.yml"
    models.write_text(
        'noisy-emt: {family: python, factory: "noisy_calc:make", '
        "trained_on_dispersion: true, elements: [H, C, N, O]}\n"
    )
    warehouse = tmp_path / "wh" / "mlpeg.duckdb"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPO_ROOT)]),
        "MLPEG_WAREHOUSE": str(warehouse),
    }
    command = [sys.executable, "-m", "mlpeg.cli", "calc", "--models-file", str(models)]
    command += ["-b", "S22", "-m", "noisy-emt", "--subset", "1", "--timeout", "120"]
    shown = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert shown.returncode == 0, shown.stderr
    assert "chatter" not in shown.stdout + shown.stderr  # the probe's and the worker's
    (log,) = (warehouse.parent / "landing" / "logs").glob("calc-*.log")
    logged = log.read_text()
    # S22's first reaction: the dimer and its two monomers, each calculation printing once
    # on each stream (a structure may be calculated more than once, never less)
    assert logged.count("chatter on stdout") >= 3
    assert logged.count("chatter on stdout") == logged.count("chatter on stderr")
