"""phonons: matcalc's heat-capacity set from the mirror, the heat capacity from frequencies
against hand calculations and phonopy, the complete Alexandria phonopy set of BaTe
reproduced (frequencies at Γ, X, L and C_V at 300 K), and the views on hand-made rows."""

from __future__ import annotations

import bz2

import numpy as np
import pytest
import yaml
from ase.build import bulk
from ase.calculators.emt import EMT
from ase.units import _hplanck, _k, _Nav
from bench_helpers import ingest_rows, query
from helpers import prediction

from mlpeg import catalog
from mlpeg.data import fetch
from mlpeg.phonons import PhononHeatCapacity, heat_capacity

KEY = "phonons"
R = _Nav * _k  # J/(K mol)


@pytest.fixture
def module():
    return catalog.get_benchmark(KEY).calc_module()


def test_records_from_the_mirror(module):
    assert len(module.records()) == 1170
    refs = {r.system: r.value for r in module.references()}
    assert refs["mp-1000"] == pytest.approx(49.35604808)  # BaTe, as in the raw file
    assert next(t.system for t in module.tasks()) == "mp-1000"


def test_einstein_solid_by_hand():
    nu = 5.0  # THz, every mode
    x = _hplanck * nu * 1e12 / (_k * 300.0)
    frequencies = np.full((4, 6), nu)  # 4 q points, 6 modes: two atoms
    expected = 6 * R * x**2 * np.exp(x) / (np.exp(x) - 1) ** 2
    assert heat_capacity(frequencies, 300.0) == pytest.approx(expected, rel=1e-12)
    # soft modes reach Dulong–Petit, 3 N R; modes at Γ (0 THz) are left out
    soft = np.full((2, 6), 0.01)
    assert heat_capacity(soft, 300.0) == pytest.approx(6 * R, rel=1e-5)
    assert heat_capacity(np.zeros((1, 3)), 300.0) == 0.0


@pytest.fixture(scope="module")
def bate():
    """Phonopy object of the Alexandria BaTe set with its own force constants, and the set."""
    from phonopy import Phonopy
    from phonopy.structure.atoms import PhonopyAtoms

    with pytest.MonkeyPatch.context() as patch:
        from conftest import MIRROR

        patch.setenv("MLPEG_DATA_MIRROR", str(MIRROR))
        module = catalog.get_benchmark(KEY).calc_module()
        path = fetch(module.FILES[module.REFERENCE_SET])
    with bz2.open(path, "rt") as handle:
        data = yaml.load(handle, Loader=yaml.CSafeLoader)
    cell = data["unit_cell"]
    unit = PhonopyAtoms(
        symbols=[p["symbol"] for p in cell["points"]],
        cell=cell["lattice"],
        scaled_positions=[p["coordinates"] for p in cell["points"]],
    )
    phonon = Phonopy(
        unit, supercell_matrix=data["supercell_matrix"], primitive_matrix=data["primitive_matrix"]
    )
    shape = data["force_constants"]["shape"]
    phonon.force_constants = np.array(data["force_constants"]["elements"]).reshape([*shape, 3, 3])
    return phonon, data


def test_bate_frequencies_and_heat_capacity(bate):
    phonon, data = bate
    stored = np.array(data["phonon_freq"])
    for q, row in (([0, 0, 0], 0), ([0.5, 0.5, 0.5], 1), ([0.5, 0, 0.5], 3)):
        phonon.run_qpoints([q])
        assert phonon.get_qpoints_dict()["frequencies"][0] == pytest.approx(stored[row], abs=1e-6)
    assert stored[0][3] == pytest.approx(2.1258888)  # THz, optical mode at Γ
    phonon.run_mesh([30, 30, 30], is_gamma_center=True)
    phonon.run_thermal_properties(temperatures=[300.0])
    cv = phonon.get_thermal_properties_dict()["heat_capacity"][0]
    assert data["temperatures"][3] == 300.0
    assert cv == pytest.approx(data["heat_capacity"][3], abs=1e-3)  # 49.3037 J/(K mol)


def test_our_heat_capacity_equals_phonopys_on_a_full_mesh(bate):
    phonon, _ = bate
    phonon.run_mesh([8, 8, 8], is_gamma_center=True, is_mesh_symmetry=False)
    frequencies = phonon.get_mesh_dict()["frequencies"]
    assert frequencies.shape == (512, 6)
    # the same cutoff: the two acoustic modes at Γ (3e-8 THz) are translations, not phonons
    phonon.run_thermal_properties(temperatures=[300.0], cutoff_frequency=1e-3)
    expected = phonon.get_thermal_properties_dict()["heat_capacity"][0]
    # phonopy's h, k_B and N_A are another CODATA set than ASE's: 1.5e-6 apart
    assert heat_capacity(frequencies, 300.0) == pytest.approx(expected, rel=1e-5)


@pytest.mark.slow
def test_emt_copper_phonons():
    atoms = bulk("Cu", "fcc", a=3.6)
    atoms.calc = EMT()
    result = PhononHeatCapacity(mesh=(10, 10, 10)).run(atoms)
    cv = result.properties["cv_000"]
    assert 0.9 * 3 * R < cv < 3 * R  # a heavy metal at 300 K: just under Dulong–Petit
    assert result.properties["frequency_min"] > -1e-3 and result.properties["n_displacements"] == 1


def test_views_on_hand_made_rows(module, tmp_path, test_models):
    atoms = module.tasks()[0].atoms
    rows = [
        prediction(
            "mp-1000",
            "phonons",
            atoms,
            -10.0,
            properties={"temperature_000": 300.0, "cv_000": 49.0},
        ),
        prediction("mp-10695", "phonons", atoms, None, state="failed", error="NotConverged: ..."),
    ]
    warehouse = ingest_rows(KEY, rows, tmp_path)
    points = dict(query(warehouse, f"select system, state from {KEY}.points"))
    assert points == {"mp-1000": "ok", "mp-10695": "failed"}
    (mae,) = query(warehouse, f"select value from {KEY}.metrics")[0]
    assert mae == pytest.approx(49.35604808 - 49.0)
