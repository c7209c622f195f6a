"""high_pressure_relaxation: Alexandria entries read from the mirror without pymatgen, ML-PEG's
seeded selection, the stored energy shown to be the enthalpy (dH/dP = V), and the views on
hand-made relaxations (H = E + PV, convergence share, a failed relaxation)."""

from __future__ import annotations

import random

import pytest
from ase.units import GPa
from bench_helpers import ingest_rows, query
from helpers import prediction

from mlpeg import catalog
from mlpeg.calc.kinds import Relax
from mlpeg.calc.tasks import Reference

KEY = "high_pressure_relaxation"


@pytest.fixture(scope="module")
def module():
    with pytest.MonkeyPatch.context() as patch:
        from conftest import MIRROR

        patch.setenv("MLPEG_DATA_MIRROR", str(MIRROR))
        yield catalog.get_benchmark(KEY).calc_module()


def test_entries_and_ml_pegs_selection(module):
    p000, p025 = module.entries(0), module.entries(25)
    assert len(p000) == len(p025) == 9155 and set(p000) == set(p025)
    ids = list(p000)
    expected = [ids[i] for i in random.Random(42).sample(range(9155), 3000)]
    assert module.selected(full=True) == expected
    quick = module.tasks()
    assert len(quick) == 7 and {t.role for t in quick} == {f"P{p:03d}" for p in module.PRESSURES}
    task = next(t for t in quick if t.role == "P150")
    assert isinstance(task.kind, Relax) and task.kind.fix_symmetry and task.kind.require_convergence
    assert task.kind.scalar_pressure == pytest.approx(150 * GPa)


def test_stored_energy_is_the_enthalpy(module):
    """H(25) − H(0) = ∫ V dP ≈ (V0 + V25)/2 · 25 GPa for Alexandria's first material."""
    first = next(iter(module.entries(0)))
    h, v = {}, {}
    for pressure in (0, 25):
        entry = module.entries(pressure)[first]
        n = len(entry["structure"]["sites"])
        h[pressure] = entry["energy"] / n
        v[pressure] = entry["structure"]["lattice"]["volume"] / n
    assert h[25] - h[0] == pytest.approx((v[0] + v[25]) / 2 * 25 * GPa, rel=0.01)
    assert h[25] - h[0] > 1.0  # an energy difference alone would be far smaller


def test_views_on_hand_made_relaxations(module, tmp_path, test_models):
    atoms = next(t.atoms for t in module.tasks() if t.role == "P000")
    refs = [
        Reference("m1@P025", "volume_per_atom", 10.0, "Å^3/atom"),
        Reference("m1@P025", "enthalpy_per_atom", -3.0, "eV/atom"),
        Reference("m2@P025", "volume_per_atom", 12.0, "Å^3/atom"),
        Reference("m2@P025", "enthalpy_per_atom", -2.0, "eV/atom"),
    ]
    n = len(atoms)
    # m1: V = 10.2 Å³/atom, E = −4.6 eV/atom → H = −4.6 + 25 GPa · 10.2 Å³ per atom
    ok = prediction(
        "m1", "P025", atoms, -4.6 * n, properties={"volume": 10.2 * n, "converged": 1.0}
    )
    failed = prediction(
        "m2",
        "P025",
        atoms,
        None,
        state="failed",
        error="NotConverged: relaxation did not reach fmax 0.0002 eV/Å in 500 steps",
    )
    warehouse = ingest_rows(KEY, [ok, failed], tmp_path, references=refs)
    points = {
        (s, q): (pred, ref, state)
        for s, q, pred, ref, state in query(
            warehouse, f"select system, quantity, pred, ref, state from {KEY}.points"
        )
    }
    enthalpy = -4.6 + 25 * GPa * 10.2
    assert points[("m1@P025", "enthalpy_per_atom")] == (pytest.approx(enthalpy), -3.0, "ok")
    assert points[("m1@P025", "volume_per_atom")][:2] == (pytest.approx(10.2), 10.0)
    assert points[("m2@P025", "volume_per_atom")][2] == "failed"
    metrics = dict(query(warehouse, f"select metric_key, value from {KEY}.metrics"))
    assert metrics["Volume MAE (25 GPa)"] == pytest.approx(0.2)
    assert metrics["Energy MAE (25 GPa)"] == pytest.approx(abs(enthalpy + 3.0))
    assert metrics["Convergence (25 GPa)"] == pytest.approx(50.0)
