"""The Ray engine on a local 2-CPU Ray: same numbers as local, crashed workers recorded."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest
from ase.build import bulk, molecule

from mlpeg import catalog
from mlpeg.calc.runner import CalcOptions, run_tasks
from mlpeg.calc.tasks import SinglePoint, Task
from mlpeg.models.registry import ModelSpec, _elements

ray = pytest.importorskip("ray")

EMT_ELEMENTS = _elements(["H", "C", "N", "O", "Al", "Cu", "Ag", "Au", "Ni", "Pd", "Pt"], "")


@pytest.fixture(scope="module")
def local_ray():
    from mlpeg.calc.engines.ray import ensure_ray

    ensure_ray(workers=2)
    yield
    ray.shutdown()


def hazard(**options) -> ModelSpec:
    return ModelSpec(
        name="hazard",
        family="hazard",
        checkpoint="none",
        device="cpu",
        trained_on_dispersion=True,
        elements=EMT_ELEMENTS,
        options=options,
    )


def tasks(n: int) -> list[Task]:
    work = []
    for i in range(n):
        atoms = bulk("Cu", "fcc", a=3.5 + 0.02 * i) if i % 3 else molecule("H2O")
        atoms.rattle(0.01, seed=i)
        atoms.info["name"] = f"s{i}"
        work.append(Task(f"s{i}", "x", atoms, SinglePoint(("energy", "forces"))))
    return work


def rows(summary) -> dict[str, dict]:
    return {r["system"]: r for p in summary.parts for r in pq.read_table(p).to_pylist()}


def test_ray_gives_the_energies_of_local_and_each_actor_writes_parts(local_ray, tmp_path):
    bench = catalog.get_benchmark("X23")
    ray_run = run_tasks(
        tasks(12),
        hazard(),
        bench,
        landing=tmp_path / "ray",
        options=CalcOptions(engine="ray", workers=2),
    )
    local = run_tasks(tasks(12), hazard(), bench, landing=tmp_path / "local")
    assert (ray_run.n_ok, ray_run.n_skipped) == (12, 0)
    by_ray, by_local = rows(ray_run), rows(local)
    assert sorted(by_ray) == sorted(by_local)  # each task exactly once
    for system, row in by_local.items():
        assert by_ray[system]["energy"] == row["energy"]
        assert by_ray[system]["forces"] == row["forces"]
        assert by_ray[system]["run_id"] == ray_run.run_id
    writers = {p.name.rsplit("__", 1)[1].split("-")[1] for p in ray_run.parts}
    assert {w.split(".")[0] for w in writers} == {"ray000", "ray001"}
    again = run_tasks(
        tasks(12),
        hazard(),
        bench,
        landing=tmp_path / "ray",
        options=CalcOptions(engine="ray", workers=2),
    )
    assert (again.n_computed, again.n_skipped) == (0, 12)


def test_a_task_that_kills_its_ray_worker_is_recorded_and_the_run_goes_on(local_ray, tmp_path):
    summary = run_tasks(
        tasks(6),
        hazard(crash_on=["s4"]),
        catalog.get_benchmark("X23"),
        landing=tmp_path,
        options=CalcOptions(engine="ray", workers=2),
    )
    by_system = rows(summary)
    assert sorted(by_system) == [f"s{i}" for i in range(6)]
    assert by_system["s4"]["state"] == "failed"
    assert by_system["s4"]["error"].startswith("Ray worker died")
    assert (summary.n_ok, summary.n_failed) == (5, 1)
