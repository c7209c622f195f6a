"""The local engine: failures as rows, resuming, killed runs, timeouts and output frames."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from ase import Atoms
from ase.build import bulk, molecule
from ase.calculators.emt import EMT

from mlpeg import catalog
from mlpeg.calc.kinds import Relax
from mlpeg.calc.runner import CalcOptions, run_tasks
from mlpeg.calc.tasks import SinglePoint, Task
from mlpeg.errors import MlpegError
from mlpeg.models import registry
from mlpeg.models.registry import ModelSpec
from mlpeg.warehouse.connect import writer
from mlpeg.warehouse.ingest import Outcome, ingest

MODELS = """
emt: {family: emt, checkpoint: emt, trained_on_dispersion: true, test_only: true, device: cpu,
      elements: [H, C, N, O, Al, Cu, Ag, Au, Ni, Pd, Pt]}
hazard: {family: hazard, checkpoint: none, trained_on_dispersion: true, test_only: true,
         device: cpu, elements: [H, C, N, O, Al, Cu, Ag, Au, Ni, Pd, Pt]}
"""
EMT_ELEMENTS = registry._elements(
    ["H", "C", "N", "O", "Al", "Cu", "Ag", "Au", "Ni", "Pd", "Pt"], ""
)


@pytest.fixture
def models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "models.yml"
    path.write_text(MODELS)
    monkeypatch.setenv("MLPEG_MODELS", str(path))
    registry.clear_cache()
    return path


def hazard(**options) -> ModelSpec:
    return ModelSpec(
        name="hazard",
        family="hazard",
        checkpoint="none",
        trained_on_dispersion=True,
        device="cpu",  # "auto" would import torch to look for a GPU
        elements=EMT_ELEMENTS,
        options=options,
    )


def named(atoms: Atoms, name: str) -> Atoms:
    atoms.info["name"] = name
    return atoms


def structures() -> list[Atoms]:
    cells = [bulk("Cu", "fcc", a=3.6 + 0.02 * i) for i in range(4)]
    return [named(atoms, f"s{i}") for i, atoms in enumerate([*cells, molecule("H2O")])]


def tasks_of(atoms_list: list[Atoms], kind=None) -> list[Task]:
    kind = kind or SinglePoint(("energy", "forces", "stress"))
    return [Task(atoms.info["name"], "solid", atoms, kind) for atoms in atoms_list]


def emt_energy(atoms: Atoms) -> float:
    copy = atoms.copy()
    copy.calc = EMT()
    return copy.get_potential_energy()


def rows(parts) -> list[dict]:
    return [row for part in parts for row in pq.read_table(part).to_pylist()]


@pytest.fixture
def x23() -> catalog.Benchmark:
    return catalog.get_benchmark("X23")


def test_errors_and_unsupported_elements_become_rows(tmp_path, x23):
    atoms_list = [*structures(), named(bulk("Fe", "bcc", a=2.87), "iron")]
    summary = run_tasks(
        tasks_of(atoms_list),
        hazard(raise_on=["s1"]),
        x23,
        landing=tmp_path,
        options=CalcOptions(),
    )
    assert (summary.n_ok, summary.n_failed, summary.n_unsupported) == (4, 1, 1)
    by_system = {row["system"]: row for row in rows(summary.parts)}
    assert by_system["s1"]["state"] == "failed"
    assert by_system["s1"]["error"] == "RuntimeError: the hazard model refuses s1"
    assert by_system["s1"]["energy"] is None
    assert by_system["iron"]["state"] == "unsupported"
    assert by_system["iron"]["error"] == "elements not supported by hazard: Fe"
    for name in ("s0", "s2", "s3"):
        atoms = next(a for a in atoms_list if a.info["name"] == name)
        assert by_system[name]["energy"] == pytest.approx(emt_energy(atoms), abs=1e-12)
        assert by_system[name]["stress"] is not None
    assert by_system["s4"]["stress"] is None  # a molecule has no stress


def test_done_tasks_are_skipped_new_ones_added_and_force_recomputes(tmp_path, x23):
    tasks = tasks_of(structures())
    first = run_tasks(tasks[:3], hazard(), x23, landing=tmp_path)
    assert (first.n_ok, first.n_skipped) == (3, 0)
    again = run_tasks(tasks[:3], hazard(), x23, landing=tmp_path)
    assert (again.n_computed, again.n_skipped, again.run_id) == (0, 3, first.run_id)
    assert again.parts == first.parts  # nothing new written
    grown = run_tasks(tasks, hazard(), x23, landing=tmp_path)  # the benchmark grew
    assert (grown.n_ok, grown.n_skipped, grown.run_id) == (2, 3, first.run_id)
    assert sorted(r["system"] for r in rows(grown.parts)) == ["s0", "s1", "s2", "s3", "s4"]
    forced = run_tasks(tasks, hazard(), x23, landing=tmp_path, options=CalcOptions(force=True))
    assert (forced.n_ok, forced.n_skipped) == (5, 0)
    assert forced.run_id != first.run_id
    assert len(rows(forced.parts)) == 5


def test_changed_settings_start_a_new_run_carrying_the_rest(tmp_path, x23):
    tasks = tasks_of(structures())
    first = run_tasks(tasks, hazard(), x23, landing=tmp_path)
    changed = [*tasks[:4], Task("s4", "solid", tasks[4].atoms, SinglePoint(("energy",)))]
    second = run_tasks(changed, hazard(), x23, landing=tmp_path)
    assert second.run_id != first.run_id
    assert (second.n_ok, second.n_skipped) == (1, 4)
    assert "another structure or settings" in second.note
    new_rows = rows(second.parts)
    assert {r["run_id"] for r in new_rows} == {second.run_id}
    carried = {r["system"]: r for r in new_rows}
    old = {r["system"]: r for r in rows(first.parts)}
    assert carried["s0"]["energy"] == old["s0"]["energy"]
    assert carried["s0"]["computed_at"] == old["s0"]["computed_at"]  # carried, not recomputed
    assert carried["s4"]["forces"] is None  # recomputed with the new settings


def test_retry_failed_recomputes_only_the_failures(tmp_path, x23):
    tasks = tasks_of(structures())
    first = run_tasks(tasks, hazard(raise_on=["s2"]), x23, landing=tmp_path)
    assert first.n_failed == 1
    resumed = run_tasks(tasks, hazard(), x23, landing=tmp_path)
    assert resumed.n_skipped == 5  # a failure is a result: not retried by default
    retried = run_tasks(
        tasks, hazard(), x23, landing=tmp_path, options=CalcOptions(retry_failed=True)
    )
    assert (retried.n_ok, retried.n_skipped, retried.n_failed) == (1, 4, 0)
    states = {r["system"]: r["state"] for r in rows(retried.parts)}
    assert states == dict.fromkeys(["s0", "s1", "s2", "s3", "s4"], "ok")


KILLED_RUN = """
import sys
from pathlib import Path
from ase.build import bulk
from mlpeg import catalog
from mlpeg.calc.runner import CalcOptions, run_tasks
from mlpeg.calc.tasks import SinglePoint, Task
from mlpeg.models.registry import ModelSpec, get_model

spec = get_model("hazard")
spec = ModelSpec(**{**spec.__dict__, "options": {"crash_on": ["s5"]}})
tasks = []
for i in range(8):
    atoms = bulk("Cu", "fcc", a=3.5 + 0.03 * i)
    atoms.info["name"] = f"s{i}"
    tasks.append(Task(f"s{i}", "solid", atoms, SinglePoint(("energy",))))
run_tasks(tasks, spec, catalog.get_benchmark("X23"), landing=Path(sys.argv[1]),
          options=CalcOptions(flush_rows=2))
"""


def eight_tasks() -> list[Task]:
    tasks = []
    for i in range(8):
        atoms = named(bulk("Cu", "fcc", a=3.5 + 0.03 * i), f"s{i}")
        tasks.append(Task(f"s{i}", "solid", atoms, SinglePoint(("energy",))))
    return tasks


def test_a_killed_run_keeps_its_parts_and_resumes_without_duplicates(
    tmp_path, x23, models, warehouse
):
    landing = tmp_path / "landing"
    script = tmp_path / "killed.py"
    script.write_text(textwrap.dedent(KILLED_RUN))
    env = {**os.environ, "MLPEG_MODELS": str(models)}
    killed = subprocess.run([sys.executable, str(script), str(landing)], env=env, timeout=120)
    assert killed.returncode == -9  # the model killed its own process on s5
    written = rows(landing.glob("*.parquet"))
    assert sorted(r["system"] for r in written) == ["s0", "s1", "s2", "s3"]  # 2 parts of 2
    assert len({r["run_id"] for r in written}) == 1

    resumed = run_tasks(eight_tasks(), hazard(), x23, landing=landing)
    assert resumed.resumed and resumed.run_id == written[0]["run_id"]
    assert (resumed.n_ok, resumed.n_skipped) == (4, 4)

    clean = run_tasks(eight_tasks(), hazard(), x23, landing=tmp_path / "clean")
    with writer(warehouse) as con:
        report = ingest(con, [landing])
        assert report.count(Outcome.REJECTED) == 0, report.rejected
        stored = con.execute("select system, energy from predictions order by system").fetchall()
        run_rows = con.execute("select run_id, status from runs").fetchall()
    expected = sorted((r["system"], r["energy"]) for r in rows(clean.parts))
    assert [s for s, _ in stored] == [s for s, _ in expected]  # each once: no duplicates
    assert [e for _, e in stored] == pytest.approx([e for _, e in expected], abs=1e-12)
    assert run_rows == [(resumed.run_id, "completed")]


def test_timeout_and_crash_become_failed_rows_and_the_run_goes_on(tmp_path, x23):
    tasks = tasks_of(structures()[:4])
    spec = hazard(hang_on=["s1"], crash_on=["s2"])
    summary = run_tasks(tasks, spec, x23, landing=tmp_path, options=CalcOptions(timeout=3))
    by_system = {row["system"]: row for row in rows(summary.parts)}
    assert by_system["s1"]["error"] == "timed out after 3 s while computing s1/solid"
    assert by_system["s2"]["error"].startswith("model process died while computing s2/solid")
    assert "SIGKILL" in by_system["s2"]["error"]
    assert by_system["s0"]["state"] == by_system["s3"]["state"] == "ok"
    assert by_system["s3"]["energy"] == pytest.approx(emt_energy(tasks[3].atoms), abs=1e-12)
    assert (summary.n_ok, summary.n_failed) == (2, 2)


def test_relaxed_structures_reach_the_structures_table(tmp_path, x23, models, warehouse):
    start = bulk("Cu", "fcc", a=3.7, cubic=True)
    start.rattle(0.02, seed=0)
    task = Task("cu", "solid", named(start, "cu"), Relax(fmax=0.01, relax_cell=True))
    summary = run_tasks([task], registry.get_model("emt"), x23, landing=tmp_path / "landing")
    with writer(warehouse) as con:
        assert ingest(con, [tmp_path / "landing"]).count(Outcome.LOADED) == 1
        frame_ids, energy, converged = con.execute(
            "select frame_ids, energy, properties['converged'] from predictions"
        ).fetchone()
        (positions, cell) = con.execute(
            "select positions, cell from structures where structure_id = ?", [frame_ids[-1]]
        ).fetchone()
    assert summary.n_ok == 1 and converged == 1.0
    relaxed = Atoms("Cu4", positions=positions, cell=np.reshape(cell, (3, 3)), pbc=True)
    assert emt_energy(relaxed) == pytest.approx(energy, abs=1e-6)
    assert np.linalg.det(np.reshape(cell, (3, 3))) < start.get_volume()


def test_cli_calc_skips_on_the_second_call_and_explains_bad_options(tmp_path, models):
    from typer.testing import CliRunner

    from mlpeg.cli import app

    runner = CliRunner()
    base = ["calc", "-w", str(tmp_path / "wh" / "mlpeg.duckdb"), "-b", "X23", "-m", "emt"]
    first = runner.invoke(app, [*base, "--subset", "1"])
    assert first.exit_code == 0, first.output
    again = runner.invoke(app, [*base, "--subset", "1"])
    assert again.exit_code == 0, again.output
    line = next(line for line in again.output.splitlines() if "emt" in line and "│" in line)
    cells = [cell.strip() for cell in line.split("│") if cell.strip()]
    assert cells[:6] == ["X23", "emt", "0", "2", "0", "0"]  # ok, skipped, failed, unsupported
    parts = list((tmp_path / "wh" / "landing").glob("X23__emt__*.parquet"))
    assert len(parts) == 1
    bad = runner.invoke(app, [*base, "--timeout", "-1"])
    assert isinstance(bad.exception, MlpegError)
    assert str(bad.exception) == "--timeout must be a positive number of seconds, not -1.0."
    bad = runner.invoke(app, [*base, "--device", "gpu"])
    assert str(bad.exception) == "Unknown device 'gpu'; use auto, cpu, cuda or cuda:N."
