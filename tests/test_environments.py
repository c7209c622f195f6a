"""Models in environments of their own: a worker under another interpreter, broken ones.

The second environment is a throwaway venv made in the test (no pip, seconds): a ``.pth``
file lends it this environment's packages, and a small package that exists only there,
``envstub``, holds an ASE calculator with a known energy (harmonic springs between all
pairs of atoms). A model whose energies come back from ``envstub`` was computed by the
other interpreter, since this one cannot import it.
"""

from __future__ import annotations

import importlib.util
import site
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from ase.build import molecule
from typer.testing import CliRunner

from mlpeg import catalog
from mlpeg.calc.runner import run_tasks
from mlpeg.calc.tasks import SinglePoint, Task
from mlpeg.cli import app
from mlpeg.landing import read_metadata
from mlpeg.models import environments, registry
from mlpeg.paths import PACKAGE_DIR

STUB = '''
"""Harmonic springs between every pair of atoms: E = k/2 sum_{i<j} |r_i - r_j|^2."""
import os
import signal
import sys

import numpy as np
from ase.calculators.calculator import Calculator, all_changes


class Springs(Calculator):
    implemented_properties = ("energy", "free_energy", "forces")

    def __init__(self, k=1.0, crash_on=()):
        super().__init__()
        self.k, self.crash_on = k, set(crash_on)

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        if self.atoms.get_chemical_formula() in self.crash_on:
            os.kill(os.getpid(), signal.SIGKILL)
        r = self.atoms.positions
        n = len(r)
        energy = 0.5 * self.k * (n * (r**2).sum() - (r.sum(axis=0) ** 2).sum())
        forces = -self.k * (n * r - r.sum(axis=0))
        self.results = {"energy": energy, "free_energy": energy, "forces": forces}
'''


def springs(atoms, k: float) -> tuple[float, np.ndarray]:
    """The stub's energy and forces by hand, pair by pair."""
    r = atoms.positions
    energy = sum(
        0.5 * k * np.sum((r[i] - r[j]) ** 2) for i in range(len(r)) for j in range(i + 1, len(r))
    )
    forces = np.array([-k * sum(r[i] - r[j] for j in range(len(r))) for i in range(len(r))])
    return float(energy), forces


def make_venv(folder: Path, *, lend_packages: bool, stub: bool) -> Path:
    """Create a venv without pip; optionally lend it this one's packages and add envstub."""
    subprocess.run(
        [environments._base_python(), "-m", "venv", "--without-pip", str(folder)], check=True
    )
    python = folder / "bin" / "python"
    found = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    )
    packages = Path(found.stdout.strip())
    if lend_packages:
        (packages / "lend.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    if stub:
        (packages / "envstub").mkdir()
        (packages / "envstub" / "__init__.py").write_text(STUB)
    return python


@pytest.fixture(scope="module")
def stub_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_venv(tmp_path_factory.mktemp("stub-env"), lend_packages=True, stub=True)


def registry_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> Path:
    path = tmp_path / "models.yml"
    path.write_text(textwrap.dedent(text))
    monkeypatch.setenv("MLPEG_MODELS", str(path))
    registry.clear_cache()
    return path


MODELS = """
environments:
  stub-env: {{python: {python}}}
springs:
  family: ase_calculator
  checkpoint: envstub:Springs
  environment: stub-env
  trained_on_dispersion: true
  device: cpu
  options: {{k: 0.75, crash_on: [H2]}}
emt: {{family: emt, checkpoint: emt, trained_on_dispersion: true, device: cpu,
      elements: [H, C, N, O]}}
"""


def molecules() -> list[Task]:
    names = ("H2O", "CH4", "NH3", "H2")
    return [
        Task(name, "molecule", molecule(name), SinglePoint(("energy", "forces"))) for name in names
    ]


def rows_of(parts) -> list[dict]:
    return [row for part in parts for row in pq.read_table(part).to_pylist()]


def test_a_model_runs_under_its_environments_interpreter(tmp_path, monkeypatch, stub_python):
    assert importlib.util.find_spec("envstub") is None  # only the other venv has it
    registry_file(tmp_path, monkeypatch, MODELS.format(python=stub_python))
    spec = registry.get_model("springs")
    summary = run_tasks(molecules(), spec, catalog.get_benchmark("X23"), landing=tmp_path / "l")
    assert (summary.n_ok, summary.n_failed) == (3, 1)
    by_system = {row["system"]: row for row in rows_of(summary.parts)}
    for name in ("H2O", "CH4", "NH3"):
        energy, forces = springs(molecule(name), 0.75)
        assert by_system[name]["energy"] == pytest.approx(energy, abs=1e-9)
        np.testing.assert_allclose(by_system[name]["forces"], forces, atol=1e-9)
        assert by_system[name]["wall_time_s"] > 0
    # a model that kills its worker is a failed row, as in the main environment
    assert by_system["H2"]["state"] == "failed"
    assert "model process died" in by_system["H2"]["error"]
    run = read_metadata(pq.read_schema(summary.parts[0]))["run"]
    assert run["versions"]["environment"] == "stub-env"
    assert run["versions"]["python"] == ".".join(map(str, sys.version_info[:3]))
    assert run["model"]["family"] == "ase_calculator"


def test_the_worker_imports_this_mlpeg_and_nothing_else_of_this_environment(
    tmp_path, monkeypatch, stub_python
):
    registry_file(tmp_path, monkeypatch, MODELS.format(python=stub_python))
    path = environments.worker_environ(isolated=True)["PYTHONPATH"]
    assert [p.name for p in Path(path).iterdir()] == ["mlpeg"]
    assert (Path(path) / "mlpeg").resolve() == PACKAGE_DIR
    found = subprocess.run(
        [stub_python, "-P", "-c", "import mlpeg, envstub; print(mlpeg.__file__)"],
        env=environments.worker_environ(isolated=True),
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(found.stdout.strip()).resolve() == PACKAGE_DIR / "__init__.py"


def test_models_lists_the_environment_and_why_a_model_cannot_run(
    tmp_path, monkeypatch, stub_python
):
    bare = make_venv(tmp_path / "bare", lend_packages=False, stub=False)
    no_stub = make_venv(tmp_path / "no-stub", lend_packages=True, stub=False)
    text = MODELS.format(python=stub_python)
    extra_envs = (
        f"  missing-env: {{python: {tmp_path / 'nowhere' / 'python'}}}\n"
        f"  bare-env: {{python: {bare}}}\n"
        f"  no-stub-env: {{python: {no_stub}}}\n"
        "  unbuilt-env: {requirements: [numpy==2.4.6]}\n"
    )
    text = text.replace("  stub-env:", extra_envs + "  stub-env:")
    for env in ("missing-env", "bare-env", "no-stub-env", "unbuilt-env"):
        text += (
            f"springs-{env}: {{family: ase_calculator, checkpoint: 'envstub:Springs', "
            f"environment: {env}, trained_on_dispersion: true, device: cpu}}\n"
        )
    registry_file(tmp_path, monkeypatch, text)
    verdicts = environments.availability(registry.all_models().values())
    assert verdicts["springs"] == (True, "envstub:Springs")
    assert verdicts["springs-missing-env"] == (
        False,
        f"environment 'missing-env': interpreter {tmp_path / 'nowhere' / 'python'} does not exist",
    )
    why = verdicts["springs-bare-env"][1]
    assert why.startswith(
        f"environment 'bare-env': {bare} lacks numpy, ase, pyarrow, PyYAML, jsonschema"
    )
    assert verdicts["springs-no-stub-env"] == (False, "package envstub is not installed")
    assert "is not built: run `mlpeg env build unbuilt-env`" in verdicts["springs-unbuilt-env"][1]
    assert "emt" not in verdicts  # the main environment's models are not probed
    monkeypatch.setenv("COLUMNS", "400")
    shown = CliRunner().invoke(app, ["models", "--all"])
    assert shown.exit_code == 0, shown.output
    line = next(line for line in shown.output.splitlines() if "springs-no-stub-env" in line)
    assert "no-stub-env" in line and "package envstub is not installed" in line
    listed = CliRunner().invoke(app, ["env", "list"])
    assert listed.exit_code == 0, listed.output
    rows = {line.split("│")[1].strip(): line for line in listed.output.splitlines() if "│" in line}
    assert f"ready (Python {sys.version.split()[0]})" in rows["stub-env"]
    assert "springs" in rows["stub-env"] and "(existing interpreter)" in rows["stub-env"]
    assert "numpy==2.4.6" in rows["unbuilt-env"] and "is not built" in rows["unbuilt-env"]


def test_a_broken_environment_is_one_error_and_the_other_models_go_on(
    tmp_path, monkeypatch, stub_python
):
    text = MODELS.format(python=stub_python).replace(
        "  stub-env:", f"  gone: {{python: {tmp_path / 'gone' / 'python'}}}\n  stub-env:"
    )
    text += "".join(
        f"springs-{i}: {{family: ase_calculator, checkpoint: 'envstub:Springs', "
        "environment: gone, trained_on_dispersion: true, device: cpu}\n"
        for i in (1, 2)
    )
    registry_file(tmp_path, monkeypatch, text)
    warehouse = tmp_path / "wh" / "mlpeg.duckdb"
    args = ["calc", "-w", str(warehouse), "-b", "X23", "--subset", "1"]
    result = CliRunner().invoke(
        app, [*args, "-m", "springs-1", "-m", "emt", "-m", "springs-2", "-m", "springs"]
    )
    assert result.exit_code == 1, result.output
    text = " ".join(result.output.split())
    assert text.count("error:") == 1
    assert (
        f"error: environment 'gone': interpreter {tmp_path / 'gone' / 'python'} does not "
        "exist; not run: springs-1, springs-2." in text
    )
    parts = (warehouse.parent / "landing").glob("X23__*__*.parquet")
    assert {path.name.split("__")[1] for path in parts} == {"emt", "springs"}


def test_environment_entries_are_checked_when_the_registry_loads(tmp_path, monkeypatch):
    registry_file(
        tmp_path,
        monkeypatch,
        """
        environments:
          relative: {python: bin/python}
        a: {family: emt, checkpoint: emt}
        """,
    )
    with pytest.raises(Exception, match="python must be an absolute path, not 'bin/python'"):
        registry.all_models()
    registry_file(
        tmp_path,
        monkeypatch,
        """
        a: {family: emt, checkpoint: emt, environment: elsewhere}
        """,
    )
    with pytest.raises(Exception, match="environment 'elsewhere' is not defined"):
        registry.all_models()


def test_build_installs_the_requirements_and_pins_the_worker_packages(tmp_path, monkeypatch):
    monkeypatch.setenv("MLPEG_ENVS", str(tmp_path / "envs"))
    environment = environments.Environment("demo", requirements=("sevenn==0.13.0",))
    commands: list[list[str]] = []

    def fake_run(command: list[str]) -> None:
        commands.append(command)
        if command[1:3] == ["-m", "venv"]:
            (Path(command[3]) / "bin").mkdir(parents=True)
            (Path(command[3]) / "bin" / "python").symlink_to(sys.executable)

    folder = environments.build(environment, run=fake_run)
    assert folder == tmp_path / "envs" / "demo"
    pip = commands[1]
    assert pip[0] == str(tmp_path / "envs" / "demo.building" / "bin" / "python")
    assert pip[1:4] == ["-m", "pip", "install"]
    assert "sevenn==0.13.0" in pip
    assert "ase==3.29.0" in pip and "numpy==2.4.6" in pip and "pyarrow==26.0.1" in pip
    assert environments._not_ready(environment) is None
    environments.build(environment, run=fake_run)  # up to date: nothing runs
    assert len(commands) == 2
    changed = environments.Environment("demo", requirements=("sevenn==0.12.1",))
    assert "built from other requirements" in environments._not_ready(changed)
    environments.build(changed, run=fake_run)  # updated in place: pip only
    assert len(commands) == 3 and commands[2][0] == str(folder / "bin" / "python")
    assert "sevenn==0.12.1" in commands[2] and environments._not_ready(changed) is None
    environments.build(changed, run=fake_run, force=True)  # afresh: venv, then pip
    assert [c[1:3] for c in commands[3:]] == [["-m", "venv"], ["-m", "pip"]]
