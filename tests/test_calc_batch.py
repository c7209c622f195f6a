"""Batched single points give the numbers of one-at-a-time evaluation (tiny local models)."""

from __future__ import annotations

import numpy as np
import pyarrow.parquet as pq
import pytest
from ase import Atoms
from ase.build import bulk, molecule
from ase.calculators.emt import EMT
from ase.calculators.mixing import SumCalculator
from calc_tiny_models import TINY_ELEMENTS, tiny_mace_file, tiny_orb_weights

from mlpeg import catalog
from mlpeg.calc.batch import batch_evaluator
from mlpeg.calc.execute import Evaluator
from mlpeg.calc.runner import CalcOptions, run_tasks
from mlpeg.calc.tasks import SinglePoint, Task
from mlpeg.models.registry import ModelSpec, make_calculator

pytest.importorskip("mace")
pytest.importorskip("orb_models")

MOLECULES = ("H2O", "CH4", "NH3", "C2H6", "CH3OH", "HCOOH", "C6H6", "CH3CH2OH", "HCN", "CO2")


@pytest.fixture(scope="module")
def model_files(tmp_path_factory) -> dict[str, ModelSpec]:
    folder = tmp_path_factory.mktemp("tiny")
    orb_weights, architecture = tiny_orb_weights(folder)
    common = {"dtype": "float64", "device": "cpu", "trained_on_dispersion": True}
    return {
        "mace": ModelSpec(
            name="tiny-mace",
            family="mace",
            checkpoint=str(tiny_mace_file(folder)),
            elements=(*TINY_ELEMENTS, 29),  # claims Cu, which the model lacks
            **common,
        ),
        "orb": ModelSpec(
            name="tiny-orb",
            family="orb",
            checkpoint=str(orb_weights),
            elements=TINY_ELEMENTS,
            options={"architecture": architecture},
            **common,
        ),
    }


def molecules() -> list[Atoms]:
    structures = []
    for i, name in enumerate(MOLECULES):
        atoms = molecule(name)
        atoms.rattle(0.05, seed=i)
        structures.append(atoms)
    return structures


def crystals() -> list[Atoms]:
    """Small periodic cells of H, C, N, O (stress is compared too)."""
    cells = []
    for i, a in enumerate((3.4, 3.5, 3.6)):
        atoms = bulk("C", "diamond", a=a) * (1, 1, 2)
        atoms.rattle(0.03, seed=10 + i)
        cells.append(atoms)
    ice = molecule("H2O")
    ice.set_cell([4.0, 4.2, 4.4])
    ice.pbc = True
    cells.append(ice)
    return cells


def tasks() -> list[Task]:
    kind = SinglePoint(("energy", "forces", "stress"))
    structures = [*molecules(), *crystals()]
    return [Task(f"s{i:02d}", "x", atoms, kind) for i, atoms in enumerate(structures)]


def by_system(summary) -> dict[str, dict]:
    return {r["system"]: r for p in summary.parts for r in pq.read_table(p).to_pylist()}


@pytest.mark.parametrize("family", ["mace", "orb"])
def test_batched_single_points_equal_one_at_a_time(family, model_files, tmp_path):
    spec = model_files[family]
    bench = catalog.get_benchmark("X23")
    evaluator = Evaluator(spec, with_d3=False, device="cpu", batch_size=64)
    assert evaluator.batched
    groups = evaluator.groups(tasks())
    assert sorted(len(g) for g in groups) == [4, 10]  # molecules and crystals, one batch each
    batched = run_tasks(tasks(), spec, bench, landing=tmp_path / "b", device="cpu")
    single = run_tasks(
        tasks(), spec, bench, landing=tmp_path / "s", options=CalcOptions(batch_size=1)
    )
    assert batched.n_ok == single.n_ok == len(tasks())
    rows_b, rows_s = by_system(batched), by_system(single)
    for system, one in rows_s.items():
        many = rows_b[system]
        assert many["energy"] == pytest.approx(one["energy"], abs=1e-6)
        np.testing.assert_allclose(many["forces"], one["forces"], atol=1e-6)
        if one["stress"] is None:
            assert many["stress"] is None
        else:
            np.testing.assert_allclose(many["stress"], one["stress"], atol=1e-6)
    assert any(rows_s[s]["stress"] is not None for s in rows_s)


def test_batches_add_a_per_structure_correction(model_files):
    """A model plus a correction (as D3 is added): batched model, correction one by one."""
    mace = make_calculator(model_files["mace"], device="cpu")
    total = SumCalculator([mace, EMT()])
    evaluator = batch_evaluator(total)
    assert evaluator is not None
    structures = molecules()[:5]
    results = evaluator.evaluate(structures, forces=True, stress=False)
    for atoms, result in zip(structures, results, strict=True):
        atoms = atoms.copy()
        atoms.calc = total
        assert result.energy == pytest.approx(atoms.get_potential_energy(), abs=1e-6)
        np.testing.assert_allclose(result.forces, atoms.get_forces(), atol=1e-6)


def test_a_structure_that_breaks_the_batch_fails_alone(model_files, tmp_path):
    spec = model_files["mace"]
    structures = molecules()[:4]
    copper = molecule("H2O")
    copper[0].symbol = "Cu"  # allowed by the spec, unknown to the model: raises in it
    kind = SinglePoint(("energy", "forces"))
    work = [Task(f"m{i}", "x", a, kind) for i, a in enumerate([*structures, copper])]
    summary = run_tasks(work, spec, catalog.get_benchmark("X23"), landing=tmp_path)
    rows = by_system(summary)
    assert (summary.n_ok, summary.n_failed) == (4, 1)
    assert rows["m4"]["state"] == "failed" and rows["m4"]["error"]
    direct = structures[0].copy()
    direct.calc = make_calculator(spec, device="cpu")
    assert rows["m0"]["energy"] == pytest.approx(direct.get_potential_energy(), abs=1e-6)
