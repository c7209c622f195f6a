"""Physicality benchmarks: diatomic curves, extensivity and locality, on hand-made numbers and
on ASE's EMT end to end."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import prediction, predictions_part
from materials_helpers import assert_declared_checks
from scipy.signal import find_peaks
from scipy.stats import spearmanr

from mlpeg import catalog
from mlpeg.calc.runner import run_tasks
from mlpeg.models import registry
from mlpeg.warehouse.connect import writer
from mlpeg.warehouse.ingest import ingest

MODELS = """
model-a: {family: mock, checkpoint: zeros, trained_on_dispersion: true}
model-b: {family: mock, checkpoint: zeros, trained_on_dispersion: true}
emt: {family: emt, checkpoint: builtin, trained_on_dispersion: true,
      elements: [Al, Cu, Ag, Au, Ni, Pd, Pt, H, C, N, O]}
"""


@pytest.fixture(scope="module")
def physicality(tmp_path_factory):
    """One warehouse for the module: hand-made parts for model-a and model-b, and EMT runs.

    model-a: analytic diatomic curves, hand-made extensivity energies and locality forces;
    model-b: the diatomic curves with one failed point; emt: extensivity and locality run
    with ASE's EMT through the shared runner.
    """
    folder = tmp_path_factory.mktemp("physicality")
    landing = folder / "landing"
    with pytest.MonkeyPatch.context() as patch:
        (folder / "models.yml").write_text(MODELS)
        patch.setenv("MLPEG_MODELS", str(folder / "models.yml"))
        registry.clear_cache()
        diatomics = catalog.get_benchmark("diatomics").calc_module().tasks()
        hand_made = [
            ("model-a", "diatomics", _diatomic_rows(diatomics)),
            ("model-b", "diatomics", _diatomic_rows_with_failure(diatomics)),
            ("model-a", "extensivity", _extensivity_rows()),
            ("model-a", "locality", _locality_rows()),
        ]
        for model, benchmark, rows in hand_made:
            predictions_part(
                landing, rows, model=model, benchmark=benchmark, run_id=f"{model}-{benchmark}"
            )
        summaries = {}
        for key in ("extensivity", "locality"):
            bench = catalog.get_benchmark(key)
            summaries[key] = run_tasks(
                bench.calc_module().tasks(),
                registry.get_model("emt"),
                bench,
                landing=landing,
                device="cpu",
            )
        path = folder / "wh" / "mlpeg.duckdb"
        with writer(path) as con:
            assert not ingest(con, [landing]).rejected
            yield con, summaries
        registry.clear_cache()


# --- diatomics ---------------------------------------------------------------------------

D_E, A, R_E = 4.5, 2.0, 0.74  # Morse well depth (eV), width (1/Å), minimum (Å)


def morse(r):
    """Morse energy and dE/dr."""
    x = np.exp(-A * (r - R_E))
    return D_E * (1 - x) ** 2 - D_E, 2 * D_E * A * (1 - x) * x


def wiggled(r):
    """Morse plus a Gaussian bump of 0.5 eV at 2.5 Å: a second well and extra inflections."""
    energy, slope = morse(r)
    bump = 0.5 * np.exp(-(((r - 2.5) / 0.15) ** 2))
    return energy + bump, slope - 2 * (r - 2.5) / 0.15**2 * bump


CURVES = {"H-H": morse, "O-O": wiggled, "Fe-Fe": lambda r: morse(1.3 * r), "C-O": morse}


def expected_pair_metrics(distances, energies, force_parallel):
    """The diatomic metrics computed directly with numpy and scipy (ML-PEG's definitions)."""
    order = np.argsort(distances)[::-1]  # long to short, as ML-PEG sorts
    r, e, f = distances[order], energies[order] - energies[order][0], force_parallel[order]

    def sign_changes(values, tolerance):
        kept = np.sign(values[np.abs(values) > tolerance])
        return int(np.sum(kept[1:] != kept[:-1]))

    curvature = np.gradient(np.gradient(e, r), r)
    well = int(np.argmin(e))
    return {
        "force_flips": sign_changes(f, 1e-2),
        "energy_minima": len(find_peaks(-e, prominence=0.1)[0]),
        "energy_inflections": sign_changes(curvature, 0.5),
        "rho_repulsion": spearmanr(r[well:], e[well:]).statistic,
        "rho_attraction": spearmanr(r[:well], e[:well]).statistic,
    }


def _diatomic_rows(tasks):
    rows = []
    for task in tasks:
        r = task.atoms.get_distance(0, 1)
        energy, slope = CURVES[task.system](r)
        if task.system == "Fe-Fe":
            slope = slope * 1.3  # chain rule of morse(1.3 r)
        bond = np.array([0.0, 0.0, 1.0])  # atom 1 sits above atom 0 along z
        forces = [list(slope * bond), list(-slope * bond)]
        rows.append(prediction(task.system, task.role, task.atoms, energy, forces=forces))
    return rows


def _diatomic_rows_with_failure(tasks):
    rows = _diatomic_rows([t for t in tasks if t.system in ("H-H", "C-O")])
    failed = next(row for row in rows if row["system"] == "C-O" and row["role"] == "050")
    failed.update(state="failed", energy=None, forces=None, error="boom")
    return rows


def _extensivity_rows():
    slabs = catalog.get_benchmark("extensivity").calc_module().slabs()
    energies = {"a": -100.0, "b": -80.0, "combined": -180.004}
    return [prediction("slabs", role, atoms, energies[role]) for role, atoms in slabs.items()]


def _locality_rows():
    """Solute forces F; the ghosts move one atom by 3 meV/Å; placement i moves all by i meV/Å."""
    rows = []
    n_solute = 10
    base = np.arange(n_solute * 3, dtype=float).reshape(n_solute, 3) / 10
    for task in catalog.get_benchmark("locality").calc_module().tasks():
        forces = np.zeros((len(task.atoms), 3))
        forces[:n_solute] = base
        if task.role == "ghosts":
            forces[3, 0] += 0.003
        elif task.role.startswith("h_"):
            forces[:n_solute, 1] += 0.001 * int(task.role[2:])
        rows.append(prediction(task.system, task.role, task.atoms, -1.0, forces=forces.tolist()))
    return rows


def _metrics(con, benchmark, model):
    return dict(
        con.execute(
            "select metric_key, value from all_metrics where benchmark_key = ? and model_key = ?",
            [benchmark, model],
        ).fetchall()
    )


def test_diatomic_tasks_span_the_grid():
    module = catalog.get_benchmark("diatomics").calc_module()
    tasks = module.tasks()
    assert len(tasks) == 4 * 100
    distances = sorted(t.atoms.get_distance(0, 1) for t in tasks if t.system == "H-H")
    assert distances[0] == pytest.approx(0.18) and distances[-1] == pytest.approx(6.0)
    assert np.diff(distances) == pytest.approx(np.full(99, 5.82 / 99))
    atoms = tasks[0].atoms
    assert not atoms.pbc.any() and atoms.cell.lengths() == pytest.approx([20.0] * 3)
    # every pair of elements 1-118 with --full: 118 homonuclear + 118·117/2 heteronuclear
    full = module.pairs(full=True)
    assert len(full) == 118 + 118 * 117 // 2 == len(set(full))
    assert full[0] == ("H", "H") and ("H", "Og") in full


def test_diatomic_metrics_on_analytic_curves(physicality):
    con, _ = physicality
    columns = (
        "force_flips",
        "energy_minima",
        "energy_inflections",
        "rho_repulsion",
        "rho_attraction",
        "state",
    )
    pairs = {
        row[0]: dict(zip(columns, row[1:], strict=True))
        for row in con.execute(
            f"select system, {', '.join(columns)} from diatomics.pair_metrics "
            "where model_key = 'model-a'"
        ).fetchall()
    }
    curve = con.execute(
        "select distance, energy, pred, force_parallel from diatomics.points "
        "where model_key = 'model-a' and system = 'O-O' order by distance"
    ).fetchnumpy()
    metrics = _metrics(con, "diatomics", "model-a")
    # a Morse curve: one minimum, one inflection, one force flip, monotonic on either side
    assert pairs["H-H"] == {
        "force_flips": 1,
        "energy_minima": 1,
        "energy_inflections": 1,
        "rho_repulsion": pytest.approx(-1.0),
        "rho_attraction": pytest.approx(1.0),
        "state": "ok",
    }
    # the planted bump adds a second well, two more force flips and more inflections
    assert pairs["O-O"]["energy_minima"] == 2
    assert pairs["O-O"]["force_flips"] == 3
    assert pairs["O-O"]["energy_inflections"] > 1
    assert pairs["O-O"]["rho_attraction"] < 1.0
    # every value equals a direct numpy/scipy computation on the same curve
    expected = expected_pair_metrics(curve["distance"], curve["energy"], curve["force_parallel"])
    assert {k: pairs["O-O"][k] for k in expected} == pytest.approx(expected)
    # the curve is stored for plotting: zero at 6 Å, repulsive at 0.18 Å, attractive at 1.36 Å
    assert curve["pred"][-1] == 0.0 and curve["pred"][0] > 10
    assert curve["force_parallel"][0] > 0 > curve["force_parallel"][20]
    assert metrics["Energy minima"] == pytest.approx((1 + 2 + 1 + 1) / 4)
    assert metrics["Force flips"] == pytest.approx((1 + 3 + 1 + 1) / 4)


def test_diatomic_pair_with_a_failed_point_is_left_out(physicality):
    con, _ = physicality
    states = dict(
        con.execute(
            "select system, state from diatomics.pair_metrics where model_key = 'model-b'"
        ).fetchall()
    )
    assert states == {"H-H": "ok", "C-O": "failed"}
    assert _metrics(con, "diatomics", "model-b")["Force flips"] == 1.0  # H-H alone


def test_extensivity_slabs_are_far_apart_in_one_cell():
    slabs = catalog.get_benchmark("extensivity").calc_module().slabs()
    first, second, combined = slabs["a"], slabs["b"], slabs["combined"]
    assert set(first.get_chemical_symbols()) == {"Al"}
    assert set(second.get_chemical_symbols()) == {"Ag"}
    assert len(combined) == len(first) + len(second) == 108
    assert (first.cell.array == combined.cell.array).all() and combined.pbc.all()
    gap = second.positions[:, 2].min() - first.positions[:, 2].max()
    span = second.positions[:, 2].max() - first.positions[:, 2].min()
    assert gap == pytest.approx(100.0) and combined.cell[2, 2] - span == pytest.approx(100.0)


def test_extensivity_views_on_hand_made_energies(physicality):
    con, _ = physicality
    (pred,) = con.execute(
        "select pred from extensivity.points where model_key = 'model-a'"
    ).fetchone()
    assert pred == pytest.approx(-4.0)  # −180.004 − (−100 − 80) eV, in meV
    assert _metrics(con, "extensivity", "model-a")["ΔE"] == pytest.approx(4.0)


def test_extensivity_is_zero_for_a_local_potential(physicality):
    """EMT is strictly local (a finite cutoff): E(A + B) − E(A) − E(B) vanishes."""
    con, summaries = physicality
    assert summaries["extensivity"].n_ok == 3
    assert _metrics(con, "extensivity", "emt")["ΔE"] == pytest.approx(0.0, abs=1e-9)  # meV


def _minimum_image_distances(points, centre, box=60.0):
    offsets = points - centre
    offsets -= box * np.round(offsets / box)
    return np.linalg.norm(offsets, axis=1)


def test_locality_structures():
    module = catalog.get_benchmark("locality").calc_module()
    tasks, again = module.tasks(), module.tasks()
    by_role = {t.role: t.atoms for t in tasks}
    solute = by_role["solute"]
    assert solute.get_chemical_formula() == "C3H6O" and len(tasks) == 32
    centre = solute.get_center_of_mass()
    ghosts = by_role["ghosts"][len(solute) :]
    assert set(ghosts.get_chemical_symbols()) == {"Ne"} and len(ghosts) == 20
    assert _minimum_image_distances(ghosts.positions, centre).min() >= 40.0
    for i in range(20):
        others = np.delete(ghosts.positions, i, axis=0)
        assert _minimum_image_distances(others, ghosts.positions[i]).min() >= 3.0
    hydrogens = np.array([by_role[f"h_{i:02d}"].positions[-1] for i in range(30)])
    distances = _minimum_image_distances(hydrogens, centre)
    assert distances.min() >= 20.0 and distances.max() <= 50.0
    assert len(np.unique(distances.round(6))) == 30  # thirty different placements
    # seeded: the same structures every time
    assert all(
        (a.atoms.positions == b.atoms.positions).all() for a, b in zip(tasks, again, strict=True)
    )


def test_locality_views_on_hand_made_forces(physicality):
    con, _ = physicality
    metrics = _metrics(con, "locality", "model-a")
    shifts = np.arange(30, dtype=float)  # placement i: mean ΔF of i meV/Å
    assert metrics["Ghost atoms max ΔF"] == pytest.approx(3.0)
    assert metrics["Random hydrogen mean ΔF"] == pytest.approx(shifts.mean())
    assert metrics["Random hydrogen std ΔF"] == pytest.approx(shifts.std())


def test_locality_with_emt_end_to_end(physicality):
    """EMT has no Ne: the ghost structure is unsupported, the hydrogens change nothing."""
    con, summaries = physicality
    assert (summaries["locality"].n_ok, summaries["locality"].n_unsupported) == (31, 1)
    metrics = _metrics(con, "locality", "emt")
    states = dict(
        con.execute(
            "select metric_key, state from metric_scores "
            "where benchmark_key = 'locality' and model_key = 'emt'"
        ).fetchall()
    )
    assert metrics["Random hydrogen mean ΔF"] == pytest.approx(0.0, abs=1e-9)
    assert metrics["Ghost atoms max ΔF"] is None
    assert states["Ghost atoms max ΔF"] == "unsupported"
    assert states["Random hydrogen std ΔF"] == "ok"


def test_declared_checks_hold(physicality):
    con, _ = physicality
    for key in ("diatomics", "extensivity", "locality"):
        assert assert_declared_checks(con, key) > 0, key
