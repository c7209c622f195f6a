"""oxidation_states: ML-PEG's start structures from the mirror, and the Fe–O RDF, peaks and
split built in SQL from hand-made frames, checked against ASE's get_rdf and by hand."""

from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms
from ase.geometry.rdf import get_rdf
from bench_helpers import ingest_rows, query
from helpers import prediction

from mlpeg import catalog
from mlpeg.structures import atoms_to_row

KEY = "oxidation_states"
BOX = 14.0


@pytest.fixture
def module():
    return catalog.get_benchmark(KEY).calc_module()


def test_start_structures_from_the_mirror(module):
    tasks = {t.system: t for t in module.tasks()}
    assert tasks["Fe2Cl"].atoms.get_chemical_formula() == "H224Cl2FeO112"
    assert tasks["Fe3Cl"].atoms.get_chemical_formula() == "H224Cl3FeO112"
    # high-spin ions; the state is implicit (spin-blind models run the box as it is)
    assert tasks["Fe2Cl"].atoms.info == {"charge": 0, "spin": 5, "state_implicit": True}  # d6
    assert tasks["Fe3Cl"].atoms.info == {"charge": 0, "spin": 6, "state_implicit": True}  # d5
    full = module.tasks(full=True)[0].kind
    assert (full.n_steps, full.timestep_fs, full.frame_stride) == (40_000, 0.5, 100)


def _shell(distance_first: float) -> Atoms:
    """Fe at the box centre, 6 O at ``distance_first`` along ±x, ±y, ±z and 8 O at 4 Å."""
    centre = np.full(3, BOX / 2)
    axes = np.vstack([np.eye(3), -np.eye(3)])
    corners = np.array([[i, j, k] for i in (-1, 1) for j in (-1, 1) for k in (-1, 1)]) / 3**0.5
    positions = [centre, *(centre + distance_first * axes), *(centre + 4.0 * corners)]
    return Atoms("Fe" + "O" * 14, positions=positions, cell=[BOX] * 3, pbc=True)


def _md_row(system, frames):
    row = prediction(system, "nvt", frames[0], -100.0)
    row.update(task="molecular_dynamics", frames=[atoms_to_row(f) for f in frames])
    return row


def test_rdf_peaks_and_split_by_hand(module, tmp_path, test_models):
    fe2 = [_shell(2.11), _shell(2.11)]
    fe3 = [_shell(1.96), _shell(2.36)]  # two frames: 6 O at 1.96 Å, then at 2.36 Å
    warehouse = ingest_rows(KEY, [_md_row("Fe2Cl", fe2), _md_row("Fe3Cl", fe3)], tmp_path)
    rdf = {(s, b): g for s, b, g in query(warehouse, f"select system, bin, g from {KEY}.rdf")}
    ase_g, ase_r = get_rdf(fe2[0], rmax=6.0, nbins=200, elements=(26, 8))
    ours = np.array([rdf[("Fe2Cl", b)] for b in range(200)])
    assert ase_r == pytest.approx((np.arange(200) + 0.5) * 0.03)
    assert ours == pytest.approx(ase_g, rel=1e-9, abs=1e-9)  # same normalisation as ASE
    points = {
        s: (pred, ref, dev)
        for s, pred, ref, dev in query(
            warehouse, f"select system, pred, ref, deviation from {KEY}.points"
        )
    }
    # Fe2: 2.11 Å falls in bin 70, r = 70.5 · 0.03 = 2.115 Å, inside 2.0–2.2
    assert points["Fe2Cl"] == (pytest.approx(2.115), pytest.approx(2.115), pytest.approx(0.0))
    # Fe3: bins 65 (1.965 Å) and 78 (2.355 Å) hold 6 O each; g ∝ n/r², so 1.965 Å wins
    assert points["Fe3Cl"][0] == pytest.approx(1.965) and points["Fe3Cl"][2] == 0.0
    metrics = dict(query(warehouse, f"select metric_key, value from {KEY}.metrics"))
    assert metrics["Fe-O RDF Peak Split"] == 1.0  # no overlap of the first shells
    assert metrics["Fe +2 Peak Experimental Ref Deviation"] == 0.0


def test_a_short_peak_is_penalised(module, tmp_path, test_models):
    """ML-PEG's signed deviation would score a 1.80 Å Fe(II)–O peak as perfect."""
    frames = [_shell(1.81)]
    warehouse = ingest_rows(KEY, [_md_row("Fe2Cl", frames), _md_row("Fe3Cl", frames)], tmp_path)
    points = dict(query(warehouse, f"select system, deviation from {KEY}.points"))
    # bin 60, r = 1.815 Å: (2.0 − 1.815)/0.2 below Fe2's range; (1.9 − 1.815)/0.15 below Fe3's
    assert points["Fe2Cl"] == pytest.approx(0.925)
    assert points["Fe3Cl"] == pytest.approx(0.085 / 0.15)
    metrics = dict(query(warehouse, f"select metric_key, value from {KEY}.metrics"))
    assert metrics["Fe-O RDF Peak Split"] == 0.0  # identical RDFs
