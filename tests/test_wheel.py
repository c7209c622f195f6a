"""The wheel: built, installed (not editable) in a fresh venv, run outside the repository.

The venv gets the wheel only; its dependencies come from the test's own environment through
a .pth file (offline and fast), which does not run that environment's own .pth files, so
an editable mlpeg there stays out of the way.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.request
from pathlib import Path

import pytest

from mlpeg.paths import REPO_ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("wheel")
    drop = ("PYTHONPATH", "MLPEG_WAREHOUSE", "MLPEG_MODELS", "MLPEG_BENCHMARKS")
    env = {key: value for key, value in os.environ.items() if key not in drop}
    # built from a copy, so the build's egg-info and build/ stay out of the checkout
    source = root / "source"
    top = {".git", ".venv", "warehouse", "build", "dist", "tests", "bench"}

    def ignore(folder: str, names: list[str]) -> set[str]:
        skip = {n for n in names if n == "__pycache__" or n.endswith(".egg-info")}
        return skip | (top & set(names) if Path(folder) == REPO_ROOT else set())

    shutil.copytree(REPO_ROOT, source, ignore=ignore)
    dist = root / "dist"
    pip = [sys.executable, "-m", "pip"]
    build = subprocess.run(
        [*pip, "wheel", str(source), "--no-deps", "--no-build-isolation", "-q", "-w", str(dist)],
        capture_output=True,
        text=True,
        env=env,
    )
    assert build.returncode == 0, build.stderr
    (wheel,) = dist.glob("mlpeg-*.whl")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    install = subprocess.run(
        [*pip, "--python", str(python), "install", "--no-deps", "-q", str(wheel)],
        capture_output=True,
        text=True,
        env=env,
    )
    assert install.returncode == 0, install.stderr
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout.strip()
    Path(purelib, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    work = root / "elsewhere"
    work.mkdir()
    env |= {"XDG_DATA_HOME": str(root / "xdg"), "HOME": str(root / "home")}
    return {"bin": venv / "bin", "python": python, "cwd": work, "env": env, "root": root}


def _run(installed: dict, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(installed["bin"] / "mlpeg"), *args],
        capture_output=True,
        text=True,
        cwd=installed["cwd"],
        env=installed["env"],
        timeout=timeout,
    )


def test_installed_package_reads_its_own_files(installed):
    out = subprocess.run(
        [
            str(installed["python"]),
            "-c",
            "import mlpeg.paths as p; print(p.IS_SOURCE_TREE, p.SQL_DIR, p.benchmarks_dir(), "
            "p.APP_DIR, p.default_warehouse())",
        ],
        capture_output=True,
        text=True,
        cwd=installed["cwd"],
        env=installed["env"],
        check=True,
    ).stdout.split()
    assert out[0] == "False"
    site = str(installed["root"] / "venv")
    assert all(path.startswith(site) for path in out[1:4]), out
    assert out[4] == str(installed["root"] / "xdg" / "mlpeg" / "warehouse" / "mlpeg.duckdb")


def test_benchmarks_lists_every_folder_with_full_keys(installed):
    done = _run(installed, "benchmarks", "--format", "csv")
    assert done.returncode == 0, done.stderr
    keys = {row["benchmark"] for row in csv.DictReader(io.StringIO(done.stdout))}
    shipped = {path.parent.name for path in (REPO_ROOT / "benchmarks").glob("*/*/benchmark.yml")}
    assert keys == shipped
    table = _run(installed, "benchmarks")  # a table into a pipe: keys never cut short
    assert all(key in table.stdout for key in shipped)


@pytest.fixture(scope="module")
def ran(installed) -> subprocess.CompletedProcess:
    """`mlpeg run` of the mock model on extensivity (no data to fetch), from elsewhere."""
    return _run(installed, "run", "-m", "mock", "-b", "extensivity")


def test_run_ingests_and_scores_outside_the_repository(installed, ran):
    assert ran.returncode == 0, ran.stdout + ran.stderr
    warehouse = installed["root"] / "xdg" / "mlpeg" / "warehouse" / "mlpeg.duckdb"
    assert warehouse.is_file()
    count = _run(installed, "sql", "select count(*) as n from predictions", "--format", "csv")
    assert count.stdout.splitlines() == ["n", "3"]  # the three slabs: two apart, one together


def test_app_serves_from_the_installed_package(installed, ran):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = subprocess.Popen(
        [str(installed["bin"] / "mlpeg"), "app", "--port", str(port)],
        cwd=installed["cwd"],
        env=installed["env"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health") as reply:
                    assert reply.read() == b"ok"
                    break
            except OSError:
                assert app.poll() is None, app.stdout.read()
                assert time.monotonic() < deadline, "the app did not answer in 120 s"
                time.sleep(1)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/") as reply:
            assert reply.status == 200
    finally:
        app.terminate()
        app.wait(timeout=30)
