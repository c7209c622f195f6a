"""AlZnCuMg_regression: DFT.json and the OQMD structures read from the mirror, references by
hand from the raw file, the views on hand-made rows, and a bad DFT.json."""

from __future__ import annotations

import json

import pytest
from ase.units import GPa, J, m
from bench_helpers import ingest_rows, query
from helpers import prediction

from mlpeg import catalog
from mlpeg.data import fetch
from mlpeg.errors import DataError

KEY = "AlZnCuMg_regression"
SCHEMA = "alzncumg_regression"


@pytest.fixture
def module():
    return catalog.get_benchmark(KEY).calc_module()


def test_structures_and_references_from_the_mirror(module):
    quick, full = module.tasks(), module.tasks(full=True)
    assert len(quick) == 7 and len(full) == 28  # 5 crystals + 2 (111) slabs; 8 + 6 + 14
    formulas = {t.system: t.atoms.get_chemical_formula() for t in quick if t.role == "bulk"}
    full_formulas = {t.system: t.atoms.get_chemical_formula() for t in full if t.role == "bulk"}
    assert full_formulas["10434"] == "Al4Cu2Mg2" and full_formulas["NOTINOQMD_00002"] == "Al3Cu"
    assert formulas["8100"] == "Al"  # standardised primitive cells
    refs = {(r.system, r.quantity): r.value for r in module.references()}
    assert len(refs) == 8 * (3 + 4 + 21) + 20  # V, K, G; cell atoms + 3 lengths; C_ij; surfaces
    raw = json.loads(fetch(module.FILES[f"{module.DATA}/references/DFT.json"]).read_text())
    assert raw["8100-C_11"][0] == 112.54 and raw["8100-SurfaceEnergy_111"][0] == 822
    assert refs[("8100", "c11")] == pytest.approx(112.54 * GPa)
    assert refs[("10434", "c12")] == pytest.approx(raw["10434-C_21"][0] * GPa)
    assert refs[("8100-SurfaceEnergy_111", "surface_energy")] == pytest.approx(0.822 * J / m**2)
    # fcc Al: a 60° primitive cell of edge a/√2 = 2.8566 Å holds one atom
    assert refs[("8100", "cell_atoms")] == 1 and refs[("8100", "lattice_3")] == pytest.approx(
        2.8565812883
    )


def _bulk_row(atoms, system, **values):
    return prediction(system, "bulk", atoms, -10.0, properties=values)


def test_views_on_hand_made_rows(module, tmp_path, test_models):
    al = next(t.atoms for t in module.tasks() if t.system == "8100")
    c = {f"c{i}{j}": 0.0 for i in range(1, 7) for j in range(i, 7)}
    c.update(c11=110 * GPa, c22=110 * GPa, c33=110 * GPa, c12=60 * GPa, c13=60 * GPa)
    c.update(c23=60 * GPa, c44=34 * GPa, c55=34 * GPa, c66=34 * GPa)
    bulk = _bulk_row(
        al,
        "8100",
        volume_per_atom=16.6,
        k_voigt=78.0 * GPa,
        g_voigt=30.0 * GPa,
        primitive_atoms=1.0,
        primitive_length_1=2.86,
        primitive_length_2=2.86,
        primitive_length_3=2.86,
        **c,
    )
    # γ = (E_slab − N_slab E_bulk/N_bulk)/2A = (−95 + 24·4.2)/(2·20) eV/Å² = 0.145 eV/Å²
    slab = prediction(
        "8100-SurfaceEnergy_111",
        "slab",
        al,
        -95.0,
        properties={
            "energy_slab": -95.0,
            "n_atoms_slab": 24,
            "energy_bulk": -16.8,
            "n_atoms_bulk": 4,
            "area": 20.0,
        },
    )
    failed = prediction("635950", "bulk", al, None, state="failed", error="NotConverged: ...")
    warehouse = ingest_rows(KEY, [bulk, slab, failed], tmp_path)
    points = {
        (s, q): (pred, ref, state)
        for s, q, pred, ref, state in query(
            warehouse, f"select system, quantity, pred, ref, state from {SCHEMA}.points"
        )
    }
    assert points[("8100", "c11")][:2] == (pytest.approx(110.0), pytest.approx(112.54))
    assert points[("8100", "lattice_1")][:2] == (pytest.approx(2.86), pytest.approx(2.8565813))
    gamma = 0.145 / (J / m**2) * 1000  # mJ/m²
    assert points[("8100-SurfaceEnergy_111", "surface_energy")][:2] == (
        pytest.approx(gamma),
        pytest.approx(822.0),
    )
    assert points[("635950", "c11")][2] == "failed"
    metrics = dict(query(warehouse, f"select metric_key, value from {SCHEMA}.metrics"))
    assert metrics["Volume MAE"] == pytest.approx(abs(16.6 - 16.482563721782125))
    assert metrics["Bulk Modulus MAE"] == pytest.approx(0.15)  # ref 78.15
    assert metrics["Shear Modulus MAE"] == pytest.approx(0.68)  # ref 30.68
    assert metrics["Surface Energy MAE"] == pytest.approx(abs(gamma - 822.0))
    assert metrics["Lattice Constant MAE"] == pytest.approx(2.86 - 2.8565812883459136)
    assert len(metrics) == 6


def test_bad_dft_json_is_one_clear_error(module, tmp_path, monkeypatch):
    bad = tmp_path / "DFT.json"
    bad.write_text('{"8100-C_11": [112.54, ')
    monkeypatch.setattr(module, "fetch", lambda remote: bad)
    with pytest.raises(DataError, match=r"DFT\.json: not valid JSON"):
        module.references()
