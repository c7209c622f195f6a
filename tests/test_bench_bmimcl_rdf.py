"""BMIMCl_RDF: the packed [BMIM]Cl box (composition, neutrality, density, spacing), and the
Cl–C g(r), bond flag, metric and score of hand-made trajectories, by hand and against ASE's
get_rdf on the same frames."""

from __future__ import annotations

import math

import numpy as np
import pytest
from ase import Atoms
from ase.geometry.rdf import get_rdf
from bench_helpers import query
from conftest import TEST_MODELS
from helpers import prediction, predictions_part
from materials_helpers import assert_declared_checks

from mlpeg import catalog
from mlpeg.calc.runner import write_references
from mlpeg.liquids import density_g_cm3
from mlpeg.models import registry
from mlpeg.packing import PackingError, ion_pair_box
from mlpeg.structures import atoms_to_row
from mlpeg.warehouse.connect import writer
from mlpeg.warehouse.ingest import ingest

KEY = "BMIMCl_RDF"
SCHEMA = "bmimcl_rdf"
SYSTEM = "bmimcl_353K"
L = 12.0  # Å, the synthetic box


@pytest.fixture(scope="module")
def module():
    return catalog.get_benchmark(KEY).calc_module()


def test_box_composition_charge_and_density(module):
    box = module.tasks(full=True)[0].atoms  # ML-PEG's box (Packmol takes a few seconds)
    # [BMIM]+ is C8H15N2 (25 atoms), so ten pairs with Cl- are 260 atoms
    assert len(box) == 260 and box.get_chemical_formula() == "C80H150Cl10N20"
    assert box.info == {"charge": 0, "spin": 1}
    charges = box.get_initial_charges()
    assert charges.sum() == 0
    assert sorted(charges[charges != 0]) == [-1.0] * 10 + [1.0] * 10
    assert set(box.numbers[charges == -1]) == {17} and set(box.numbers[charges == 1]) == {7}
    # 10 × 174.67 g/mol over (14.0223 Å)³ is the experimental 1.052 g/cm³ at 353.15 K
    assert box.pbc.all() and np.allclose(box.cell.array, np.eye(3) * box.cell[0, 0])
    assert density_g_cm3(box.get_masses().sum(), box.get_volume()) == pytest.approx(1.052, 1e-6)
    assert box.cell[0, 0] == pytest.approx(14.0223, abs=1e-3)
    # Packmol keeps other molecules 2 Å away, across the boundaries too: no Cl–C bond to start
    distances = box.get_all_distances(mic=True)
    assert distances[np.ix_(box.numbers == 17, box.numbers == 6)].min() > 1.9
    # the same box every time: the cached build is not shared between callers
    again = module.box()
    again.positions[0] += 1.0
    assert np.array_equal(module.box().positions, box.positions)


def test_bands(module):
    quick = module.tasks()[0].kind
    full = module.tasks(full=True)[0].kind
    assert (quick.n_steps, quick.frame_stride, quick.relax_max_steps) == (40, 4, 20)
    # four pairs at the same density: 104 atoms in a (4/10)^(1/3) smaller cube
    small = module.tasks()[0].atoms
    assert small.get_chemical_formula() == "C32H60Cl4N8"
    assert small.cell[0, 0] == pytest.approx(14.0223 * 0.4 ** (1 / 3), abs=1e-3)
    assert (full.n_steps, full.timestep_fs, full.frame_stride) == (10_000, 0.5, 10)
    assert (full.ensemble, full.temperature_K, full.friction_per_fs) == ("nvt", 353.15, 0.01)
    assert full.relax_fmax == quick.relax_fmax == 0.1


def test_bad_smiles_and_charged_pairs_are_one_clear_error():
    with pytest.raises(PackingError, match="not a neutral pair"):
        ion_pair_box("CCCCN1C=C[N+](=C1)C", "[Cl]", 2, 1000.0)
    with pytest.raises(PackingError, match="RDKit could not embed"):
        ion_pair_box("C1CC(", "[Cl-]", 2, 1000.0)
    with pytest.raises(PackingError, match="n_pairs"):
        ion_pair_box("CCCCN1C=C[N+](=C1)C", "[Cl-]", 0, 1000.0)


def _frame(cl_c: float) -> Atoms:
    """One Cl near the x = 0 face of a 12 Å cube, one C ``cl_c`` Å from it through that
    face (minimum image; 12 − cl_c Å apart inside the cell), and seven more C near the
    cube's centre, at least 5.99 Å (= r_max) away."""
    cl = np.array([0.5, 1.0, 1.0])
    near = cl + np.array([L - cl_c, 0.0, 0.0])
    far = [(6.5 + 0.3 * i, 7.0 + 0.2 * (i % 2), 7.0 + 0.25 * (i % 3)) for i in range(7)]
    return Atoms("ClC8", positions=[cl, near, *far], cell=[L, L, L], pbc=True)


def _trajectory_row(frames: list[Atoms]) -> dict:
    row = prediction(SYSTEM, "nvt", frames[0], -1.0)
    row.update(task="molecular_dynamics", frames=[atoms_to_row(f) for f in frames])
    return row


#: model-a: one frame with a Cl–C bond (1.8 Å) and one without (3.5 Å); model-b: three
#: frames at 3.5 Å (a hydrogen-bonded contact); model-c: a trajectory that failed.
TRAJECTORIES = {
    "model-a": [_trajectory_row([_frame(1.8), _frame(3.5)])],
    "model-b": [_trajectory_row([_frame(3.5)] * 3)],
    "model-c": [prediction(SYSTEM, "nvt", _frame(3.5), None, state="failed", error="diverged")],
}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bmimcl")
    landing = folder / "landing"
    with pytest.MonkeyPatch.context() as patch:
        (folder / "models.yml").write_text(TEST_MODELS)
        patch.setenv("MLPEG_MODELS", str(folder / "models.yml"))
        registry.clear_cache()
        bench = catalog.get_benchmark(KEY)
        write_references(bench.calc_module().references(), bench, landing=landing)
        for model, rows in TRAJECTORIES.items():
            predictions_part(landing, rows, model=model, benchmark=KEY, run_id=f"run-{model}")
        path = folder / "wh" / "mlpeg.duckdb"
        with writer(path) as con:
            assert not ingest(con, [landing]).rejected
            assert assert_declared_checks(con, KEY) > 0
        registry.clear_cache()
    return path


def test_rdf_by_hand_and_as_ase_computes_it(warehouse):
    # r_max = 12 / 2 − 0.01 = 5.99 Å in floor(50 · 5.99) = 299 bins of dr = 5.99 / 299 Å;
    # d = 1.8 Å falls in bin ceil(1.8 / dr) = 90, whose shell holds 4/3 π ((90 dr)³ − (89 dr)³);
    # g there = V / (N_Cl N_C shell) / 2 frames
    dr = 5.99 / 299
    shell = 4 / 3 * math.pi * ((90 * dr) ** 3 - (89 * dr) ** 3)
    expected = L**3 / (1 * 8 * shell) / 2
    assert expected == pytest.approx(133.443, abs=1e-3)
    below = f"select bin, r, g from {SCHEMA}.rdf where model_key = 'model-a' and r < 2.5 and g > 0"
    ((bin_, r, g),) = query(warehouse, below)
    assert (bin_, r, g) == (90, pytest.approx(89.5 * dr), pytest.approx(expected, rel=1e-12))
    # the whole g(r) is ASE's get_rdf of the same frames, as ML-PEG calls it
    for model, frames in (("model-a", [_frame(1.8), _frame(3.5)]), ("model-b", [_frame(3.5)])):
        rows = query(
            warehouse, f"select r, g from {SCHEMA}.rdf where model_key = '{model}' order by bin"
        )
        ase_g, ase_r = get_rdf(frames, 5.99, 299, elements=(17, 6))
        assert len(rows) == 299
        assert [r for r, _ in rows] == pytest.approx(ase_r, rel=1e-12)
        assert [g for _, g in rows] == pytest.approx(ase_g, rel=1e-12, abs=1e-12)


def test_bond_flag_metric_and_score(warehouse):
    points = query(
        warehouse,
        f"select model_key, pred, ref, peak_g_below_2_5, closest_cl_c, n_frames, state "
        f"from {SCHEMA}.points order by model_key",
    )
    assert points == [
        # the 1.8 Å pair is found through the periodic boundary (10.2 Å apart in the cell)
        ("model-a", 1.0, 0.0, pytest.approx(133.443, abs=1e-3), pytest.approx(1.8), 2, "ok"),
        ("model-b", 0.0, 0.0, 0.0, pytest.approx(3.5), 3, "ok"),
        ("model-c", None, 0.0, None, None, 0, "failed"),
    ]
    metrics = query(
        warehouse, f"select model_key, metric_key, value from {SCHEMA}.metrics order by 1"
    )
    assert metrics == [
        ("model-a", "Cl-C Bonds Formed", 1.0),
        ("model-b", "Cl-C Bonds Formed", 0.0),
        ("model-c", "Cl-C Bonds Formed", None),
    ]
    scores = query(
        warehouse,
        f"select model_key, score, state from benchmark_scores where benchmark_key = '{KEY}' "
        "order by model_key",
    )
    assert [(m, s) for m, s, _ in scores] == [("model-a", 0.0), ("model-b", 1.0), ("model-c", None)]
    assert scores[2][2] == "failed"
