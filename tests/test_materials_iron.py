"""BCC iron properties: the benchmark's machinery run on bcc Al with ASE's EMT (which has no
Fe) and checked against the same quantities computed directly with ASE."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from ase.build import bcc100, bcc110, bcc111, bulk
from ase.calculators.emt import EMT
from ase.eos import EquationOfState
from ase.filters import FrechetCellFilter
from ase.optimize import BFGS
from ase.units import GPa, J, m
from materials_helpers import assert_declared_checks

from mlpeg import catalog
from mlpeg.calc.runner import run_tasks, write_references
from mlpeg.materials import SurfaceEnergy, equilibrium_scale, reorder_like
from mlpeg.models import registry
from mlpeg.warehouse.connect import writer
from mlpeg.warehouse.ingest import ingest

MODELS = """
emt: {family: emt, checkpoint: builtin, trained_on_dispersion: true,
      elements: [Al, Cu, Ag, Au, Ni, Pd, Pt, H, C, N, O]}
"""
A_GUESS = 3.12  # Å, near EMT's bcc Al; bcc Al under EMT is stable (C11 > C12, C44 > 0)


@pytest.fixture(scope="module")
def aluminium(tmp_path_factory):
    """iron_properties' tasks for bcc Al, run with EMT; the points by property."""
    folder = tmp_path_factory.mktemp("iron")
    landing = folder / "landing"
    with pytest.MonkeyPatch.context() as patch:
        (folder / "models.yml").write_text(MODELS)
        patch.setenv("MLPEG_MODELS", str(folder / "models.yml"))
        registry.clear_cache()
        bench = catalog.get_benchmark("iron_properties")
        module = bench.calc_module()
        write_references(module.references(), bench, landing=landing)
        tasks = module.crystal_tasks("Al", A_GUESS)
        summary = run_tasks(tasks, registry.get_model("emt"), bench, landing=landing, device="cpu")
        with writer(folder / "wh" / "mlpeg.duckdb") as con:
            assert not ingest(con, [landing]).rejected
            points = {
                row[0]: row[1:]
                for row in con.execute(
                    "select system, pred, ref, unit, state from iron_properties.points"
                ).fetchall()
            }
            metrics = dict(
                con.execute("select metric_key, value from iron_properties.metrics").fetchall()
            )
            n_checked = assert_declared_checks(con, "iron_properties")
        registry.clear_cache()
    return summary, points, metrics, n_checked


def _eos(structure, scales):
    volumes, energies = [], []
    for scale in scales:
        atoms = bulk("Al", structure, a=scale, cubic=True)
        atoms.calc = EMT()
        volumes.append(atoms.get_volume() / len(atoms))
        energies.append(atoms.get_potential_energy() / len(atoms))
    return EquationOfState(volumes, energies, eos="birchmurnaghan").fit()  # v0, e0, B


@functools.cache
def _bcc_lattice_constant():
    """EMT's bcc Al lattice constant by ASE's own cell relaxation (zero stress)."""
    atoms = bulk("Al", "bcc", a=A_GUESS, cubic=True)
    atoms.calc = EMT()
    BFGS(FrechetCellFilter(atoms, hydrostatic_strain=True), logfile=None).run(fmax=1e-7)
    return atoms.cell.lengths()[0]


def test_every_property_computed(aluminium):
    summary, points, metrics, n_checked = aluminium
    assert (summary.n_ok, summary.n_failed) == (32, 0)
    assert n_checked == 11  # the benchmark.yml checks held on every point
    assert set(points) == {
        "a0",
        "B0",
        "C11",
        "C12",
        "C44",
        "E_vac",
        "dE_bcc_fcc",
        "gamma_100",
        "gamma_110",
        "gamma_111",
        "gamma_112",
    }
    assert all(state == "ok" for *_, state in points.values())
    assert points["a0"][1:3] == (2.831, "Å") and points["C11"][1] == pytest.approx(296.7)
    assert points["gamma_100"][1] == pytest.approx(2.41) and points["dE_bcc_fcc"][
        1
    ] == pytest.approx(83.5)
    # scored against iron's references, as for any model
    assert metrics["a0 error"] == pytest.approx(abs(points["a0"][0] - 2.831) / 2.831 * 100)
    assert len(metrics) == 8 and all(value is not None for value in metrics.values())


def test_equation_of_state_matches_ase(aluminium):
    points = aluminium[1]
    v0, e0_bcc, bulk_modulus = _eos("bcc", A_GUESS * np.linspace(0.94, 1.06, 13) ** (1 / 3))
    assert points["a0"][0] == pytest.approx((2 * v0) ** (1 / 3), rel=1e-7)
    assert points["B0"][0] == pytest.approx(bulk_modulus / GPa, rel=1e-5)
    fcc_a = A_GUESS * 2 ** (1 / 3) * np.linspace(0.88, 1.12, 13) ** (1 / 3)
    _, e0_fcc, _ = _eos("fcc", fcc_a)
    assert points["dE_bcc_fcc"][0] == pytest.approx((e0_fcc - e0_bcc) * 1000, abs=1e-3)


def test_elastic_constants_match_energy_strain_curves(aluminium):
    """C11, C11 + C12 and C44 from the curvature of E(ε) at ASE's own equilibrium (an energy
    route, where the benchmark differentiates stresses)."""
    points = aluminium[1]
    a0 = _bcc_lattice_constant()
    base = bulk("Al", "bcc", a=a0, cubic=True)
    volume = base.get_volume()
    step = 1e-3

    def curvature(deformation):
        """d²(E/V)/dε² by the five-point stencil, in GPa."""
        energies = {}
        for n in (-2, -1, 0, 1, 2):
            atoms = base.copy()
            atoms.set_cell(base.cell.array @ (np.eye(3) + n * step * deformation), True)
            atoms.calc = EMT()
            energies[n] = atoms.get_potential_energy()
        second = (
            -energies[2] + 16 * energies[1] - 30 * energies[0] + 16 * energies[-1] - energies[-2]
        ) / (12 * step**2)
        return second / volume / GPa

    c11 = curvature(np.diag([1.0, 0, 0]))
    c11_plus_c12 = curvature(np.diag([1.0, 1.0, 0])) / 2
    c44 = curvature(np.array([[0, 0, 0], [0, 0, 0.5], [0, 0.5, 0]]))
    assert points["C11"][0] == pytest.approx(c11, rel=1e-4)
    assert points["C12"][0] == pytest.approx(c11_plus_c12 - c11, rel=1e-4)
    assert points["C44"][0] == pytest.approx(c44, rel=1e-4)


def test_vacancy_formation_energy_matches_ase(aluminium):
    points = aluminium[1]
    perfect = bulk("Al", "bcc", a=_bcc_lattice_constant(), cubic=True).repeat(3)
    perfect.calc = EMT()
    e_perfect = perfect.get_potential_energy()
    defect = perfect.copy()
    del defect[0]
    defect.calc = EMT()
    BFGS(defect, logfile=None).run(fmax=0.01, steps=500)
    e_vac = defect.get_potential_energy() - (len(defect) / len(perfect)) * e_perfect
    assert points["E_vac"][0] == pytest.approx(e_vac, abs=3e-3)
    assert 0.1 < e_vac < 2.0


@pytest.mark.parametrize(("facet", "builder"), [("100", bcc100), ("110", bcc110), ("111", bcc111)])
def test_surface_energies_match_ase_slabs(aluminium, facet, builder):
    """ASE's own bcc slab builders with as many atomic layers as the benchmark's slab."""
    points = aluminium[1]
    a0 = _bcc_lattice_constant()
    conventional = bulk("Al", "bcc", a=a0, cubic=True)
    conventional.calc = EMT()
    e_bulk = conventional.get_potential_energy() / len(conventional)
    ours = SurfaceEnergy(tuple(int(c) for c in facet)).slab(conventional)
    n_layers = len(np.unique(ours.positions[:, 2].round(3)))
    slab = builder("Al", size=(1, 1, n_layers), a=a0, vacuum=10.0)
    slab.calc = EMT()
    BFGS(slab, logfile=None).run(fmax=0.01, steps=500)
    area = np.linalg.norm(np.cross(slab.cell[0], slab.cell[1]))
    gamma = (slab.get_potential_energy() - len(slab) * e_bulk) / (2 * area) / (J / m**2)
    assert points[f"gamma_{facet}"][0] == pytest.approx(gamma, abs=5e-3)


def test_equilibrium_scale_is_remembered_per_calculator():
    calls = []

    class CountingEMT(EMT):
        def calculate(self, *args, **kwargs):
            calls.append(1)
            super().calculate(*args, **kwargs)

    atoms = bulk("Al", "bcc", a=A_GUESS, cubic=True)
    atoms.calc = CountingEMT()
    first = equilibrium_scale(atoms)
    n_calls = len(calls)
    assert equilibrium_scale(atoms) == first and len(calls) == n_calls  # remembered
    other = atoms.copy()
    other.calc = EMT()  # another calculator searches again, and finds the same
    assert equilibrium_scale(other) == pytest.approx(first, abs=1e-6)
    assert A_GUESS * first == pytest.approx(_bcc_lattice_constant(), abs=2e-4)


def test_reorder_like_pairs_atoms_by_minimum_image():
    start = bulk("Cu", "fcc", a=3.6, cubic=True).repeat(2)
    moved = start.copy()
    moved.positions[5] += (0.2, 0.0, 0.0)
    shuffled = moved[np.random.default_rng(0).permutation(len(moved))]
    shuffled.wrap()
    matched = reorder_like(start, shuffled)
    displacement = matched.get_positions() - start.get_positions()
    displacement -= np.round(displacement / 7.2) * 7.2
    assert np.linalg.norm(displacement, axis=1).max() == pytest.approx(0.2)
    assert np.argmax(np.linalg.norm(displacement, axis=1)) == 5
