"""X23 on real data: loader, references, views on hand-made energies, and CHGNet end to end."""

from __future__ import annotations

import subprocess
import sys

import duckdb
import numpy as np
import pytest
from ase.units import kJ, mol
from helpers import prediction, predictions_part

from mlpeg import catalog
from mlpeg.calc.runner import write_references
from mlpeg.warehouse.connect import writer
from mlpeg.warehouse.ingest import ingest

KJ_PER_MOL = kJ / mol  # eV


@pytest.fixture(scope="module")
def x23_module():
    return catalog.get_benchmark("X23").calc_module()


@pytest.fixture(scope="module")
def x23_tasks(x23_module):
    return x23_module.tasks()


def test_x23_structures_and_molecule_counts(x23_tasks):
    assert len(x23_tasks) == 46
    by_key = {(t.system, t.role): t.atoms for t in x23_tasks}
    assert {t.system for t in x23_tasks} >= {"ammonia", "succinic_acid", "hexamine", "cyhexo"}
    # ammonia: 4 NH3 in the cubic cell
    assert len(by_key[("ammonia", "solid")]) == 16 and len(by_key[("ammonia", "molecule")]) == 4
    # the data README warns: succinic acid holds 8 molecules although nmol says 2
    assert len(by_key[("succinic_acid", "solid")]) / len(by_key[("succinic_acid", "molecule")]) == 8
    assert by_key[("ammonia", "solid")].pbc.all()


def test_x23_references_match_the_dmc_table(x23_module):
    refs = {r.system: r for r in x23_module.references()}
    assert len(refs) == 23
    # first and last rows of data_figures/diffusion-monte-carlo/DMC, read by eye
    assert refs["cyhexo"].value == pytest.approx(-88.3328 * KJ_PER_MOL)
    assert refs["cyhexo"].uncertainty == pytest.approx(0.9659 * KJ_PER_MOL)
    assert refs["succinic_acid"].value == pytest.approx(-125.1601 * KJ_PER_MOL)
    assert refs["ammonia"].value == pytest.approx(-38.1984 * KJ_PER_MOL)


def test_x23_views_on_hand_made_energies(x23_tasks, warehouse, tmp_path, test_models):
    by_key = {(t.system, t.role): t.atoms for t in x23_tasks}
    bench = catalog.get_benchmark("X23")
    landing = tmp_path / "landing"
    write_references(bench.calc_module().references(), bench, landing=landing)
    # ammonia (4 molecules): solid −10 eV, molecule −2 eV → E_latt = −10/4 + 2 = −0.5 eV
    # urea (2 molecules): solid −9 eV, molecule −4 eV → E_latt = −9/2 + 4 = −0.5 eV
    rows = [
        prediction("ammonia", "solid", by_key[("ammonia", "solid")], -10.0),
        prediction("ammonia", "molecule", by_key[("ammonia", "molecule")], -2.0),
        prediction("urea", "solid", by_key[("urea", "solid")], -9.0),
        prediction("urea", "molecule", by_key[("urea", "molecule")], -4.0),
    ]
    predictions_part(landing, rows, model="model-a", benchmark="X23")
    with writer(warehouse) as con:
        assert not ingest(con, [landing]).rejected
        points = {
            r[0]: r[1:]
            for r in con.execute(
                "select system, pred, ref, n_molecules, state from x23.points"
            ).fetchall()
        }
        mae = con.execute("select value from x23.metrics").fetchone()[0]
        score = con.execute(
            "select score from metric_scores where model_key = 'model-a' and benchmark_key = 'X23'"
        ).fetchone()[0]
    e_latt = -0.5 / KJ_PER_MOL
    assert points["ammonia"][0] == pytest.approx(e_latt, rel=1e-9)
    assert points["ammonia"][1] == pytest.approx(-38.1984, rel=1e-9)
    assert points["urea"][2] == 2 and points["ammonia"][2] == 4
    expected_mae = (abs(e_latt + 38.1984) + abs(e_latt + 108.5343)) / 2
    assert mae == pytest.approx(expected_mae, rel=1e-9)
    assert score == pytest.approx(1 - expected_mae / 100)


@pytest.mark.slow
def test_chgnet_end_to_end_two_systems(tmp_path, x23_tasks):
    """`mlpeg run` on two X23 systems; the lattice energy is recomputed directly here."""
    pytest.importorskip("chgnet")
    warehouse = tmp_path / "wh" / "mlpeg.duckdb"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mlpeg.cli",
            "run",
            "-w",
            str(warehouse),
            "-b",
            "X23",
            "-m",
            "chgnet-0.3.0",
            "--subset",
            "2",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ᴰ³" in done.stdout  # the leaderboard marks the score computed with D3 added
    con = duckdb.connect(str(warehouse), read_only=True)
    board = con.sql(
        "select model_key, overall, molecular_crystal, molecular_crystal__marks from leaderboard"
    ).fetchall()
    points = con.sql("select system, pred, state from x23.points order by system").fetchall()
    provenance = con.sql(
        "select device, versions->>'chgnet', status, dispersion, band, d3->>'damping' from runs"
    ).fetchall()
    con.close()
    assert [row[0] for row in board] == ["chgnet-0.3.0"]  # one row per model, no "-D3"
    assert board[0][3] == "D3 quick"  # D3(BJ) added; a subset, not the full benchmark
    assert 0.0 <= board[0][1] <= 1.0 and board[0][1] == board[0][2]
    assert [p[0] for p in points] == ["acetic_acid", "cyhexo"] and all(p[2] == "ok" for p in points)
    assert provenance == [("cpu", "0.4.2", "completed", "d3bj", "subset", "bj")]

    from ase.calculators.mixing import SumCalculator
    from chgnet.model import CHGNet, CHGNetCalculator
    from dftd3.ase import DFTD3

    model = CHGNet.load(model_name="0.3.0", use_device="cpu", verbose=False)
    calc = SumCalculator(
        [CHGNetCalculator(model=model, use_device="cpu"), DFTD3(method="PBE", damping="d3bj")]
    )
    by_key = {(t.system, t.role): t.atoms.copy() for t in x23_tasks}
    solid, molecule = by_key[("acetic_acid", "solid")], by_key[("acetic_acid", "molecule")]
    energies = []
    for atoms in (solid, molecule):
        atoms.calc = calc
        energies.append(atoms.get_potential_energy())
    direct = (energies[0] / (len(solid) / len(molecule)) - energies[1]) / KJ_PER_MOL
    # dftd3's default cutoffs differ slightly from the registry's (torch-dftd's 95 bohr)
    assert {p[0]: p[1] for p in points}["acetic_acid"] == pytest.approx(direct, abs=0.05)
    assert np.isfinite(direct)
