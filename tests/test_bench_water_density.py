"""water_density: experimental densities parsed from ML-PEG's mirrored file, the ASE water
box, the density formula by hand, the views on a hand-made NPT trajectory, and NaN forces
mid-trajectory becoming a failure."""

from __future__ import annotations

import numpy as np
import pytest
from ase.calculators.calculator import Calculator, all_changes
from ase.units import _amu, _Nav
from bench_helpers import ingest_rows, query
from helpers import prediction

from mlpeg import catalog
from mlpeg.calc.kinds import MolecularDynamics
from mlpeg.errors import DataError
from mlpeg.liquids import density_g_cm3, water_box
from mlpeg.structures import atoms_to_row

KEY = "water_density"


@pytest.fixture
def module():
    return catalog.get_benchmark(KEY).calc_module()


def test_experimental_densities_from_ml_peg(module):
    refs = {r.system: r.value for r in module.references()}
    # analyse_water_density.py: EXPERIMENTAL_DATA = {"water_270.0_K": 0.9998, ... 0.9802}
    assert refs == {
        "water_270.0_K": 0.9998,
        "water_290.0_K": 0.9991,
        "water_300.0_K": 0.9970,
        "water_330.0_K": 0.9802,
    }


def test_reference_file_without_the_table_is_one_clear_error(module, tmp_path, monkeypatch):
    bad = tmp_path / "analyse.py"
    bad.write_text("OTHER = {}\n")
    monkeypatch.setattr(module, "fetch", lambda remote: bad)
    with pytest.raises(DataError, match="no EXPERIMENTAL_DATA"):
        module.references()


def test_density_by_hand():
    # one mole of water (18.01528 g) in N_A · 30 Å³ = 30e-24 · N_A cm³: ρ = 18.01528/(30·0.6022…)
    mass_amu = 18.01528
    assert density_g_cm3(mass_amu, 30.0) == pytest.approx(18.01528 / (30.0 * _Nav * 1e-24))
    assert _amu * 1e3 * _Nav == pytest.approx(1.0, rel=1e-9)


def test_water_box_is_water_at_one_gram_per_cc():
    box = water_box(3, seed=1)
    assert len(box) == 81 and box.get_chemical_formula() == "H54O27"
    assert density_g_cm3(box.get_masses().sum(), box.get_volume()) == pytest.approx(1.0, rel=1e-4)
    distances = box.get_all_distances(mic=True)
    for start in range(0, 81, 3):  # each molecule intact: O–H 0.97 Å, H–H 1.53 Å
        assert distances[start, start + 1] == pytest.approx(0.9686, abs=1e-3)
        assert distances[start, start + 2] == pytest.approx(0.9686, abs=1e-3)
    molecule_of = np.arange(81) // 3
    other = molecule_of[:, None] != molecule_of[None, :]
    assert distances[other].min() >= 1.7
    assert (water_box(3, seed=1).positions == box.positions).all()  # seeded


def _trajectory_row(task, volumes):
    frames = [task.atoms.copy() for _ in volumes]
    for i, frame in enumerate(frames):
        frame.positions[0] += (0.01 * i, 0, 0)
    properties = {f"volume_{i:03d}": v for i, v in enumerate(volumes)}
    properties.update({f"time_{i:03d}": 10.0 * i for i in range(len(volumes))})
    row = prediction(task.system, "npt", task.atoms, -100.0, properties=properties)
    row.update(task="molecular_dynamics", frames=[atoms_to_row(f) for f in frames])
    return row


def test_views_average_the_second_half(module, tmp_path, test_models):
    tasks = module.tasks()
    mass = 8 * 18.01528 * 1.66053906892  # 8 molecules, amu → g · 1e24
    volumes = [900.0, 880.0, 820.0, 800.0]  # the mean is over frames 2 and 3 only
    rows = [_trajectory_row(tasks[0], volumes)]
    rows.append(
        prediction(
            tasks[1].system,
            "npt",
            tasks[1].atoms,
            None,
            state="failed",
            error="FloatingPointError: molecular dynamics diverged",
        )
    )
    warehouse = ingest_rows(KEY, rows, tmp_path)
    points = {
        s: (pred, ref, state)
        for s, pred, ref, state in query(
            warehouse, f"select system, pred, ref, state from {KEY}.points"
        )
    }
    expected = (mass / 820.0 + mass / 800.0) / 2
    assert points["water_270.0_K"] == (pytest.approx(expected), 0.9998, "ok")
    assert points["water_290.0_K"][2] == "failed"
    (mae,) = query(warehouse, f"select value from {KEY}.metrics")[0]
    assert mae == pytest.approx(abs(expected - 0.9998))


class _NaNAfter(Calculator):
    """Harmonic wells around the start, then NaN forces from the n-th call on."""

    implemented_properties = ("energy", "forces", "stress")

    def __init__(self, n_good):
        super().__init__()
        self.n_good, self.calls, self.start = n_good, 0, None

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        if self.start is None:
            self.start = atoms.positions.copy()
        self.calls += 1
        delta = atoms.positions - self.start
        forces = -delta if self.calls <= self.n_good else np.full_like(delta, np.nan)
        self.results = {
            "energy": float(0.5 * (delta**2).sum()) if self.calls <= self.n_good else np.nan,
            "forces": forces,
            "stress": np.zeros(6),
        }


def test_nan_forces_mid_trajectory_fail_the_task():
    box = water_box(2)
    box.calc = _NaNAfter(n_good=5)
    with pytest.raises(FloatingPointError, match="diverged"):
        MolecularDynamics(ensemble="nvt", n_steps=20, frame_stride=5).run(box)


def test_full_band_is_ml_pegs_protocol(module):
    kind = module.tasks(full=True)[0].kind
    assert (kind.n_steps, kind.timestep_fs, kind.tdamp_fs, kind.pdamp_fs) == (1e6, 1.0, 50.0, 500.0)
    assert len(module.tasks(full=True)[0].atoms) == 648
