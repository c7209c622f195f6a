"""si_defects: fixed NEB images of a Si interstitial against PBE energies and forces."""

from __future__ import annotations

import re

import numpy as np
import pytest
from helpers import prediction, predictions_part
from materials_helpers import assert_declared_checks

from mlpeg import catalog
from mlpeg.calc.bands import select_tasks
from mlpeg.calc.runner import write_references
from mlpeg.data import fetch
from mlpeg.errors import DataError
from mlpeg.warehouse.connect import writer
from mlpeg.warehouse.ingest import ingest


@pytest.fixture
def module():
    return catalog.get_benchmark("si_defects").calc_module()


def test_loader_reads_every_image_and_the_quick_band_keeps_every_fourth(module):
    images = module.load_images()
    assert len(images) == 52 and {len(a) for a in images} == {65}
    assert {a.get_chemical_formula() for a in images} == {"Si65"}
    bench = catalog.get_benchmark("si_defects")
    full, _ = select_tasks(bench, module, full=True)
    quick, band = select_tasks(bench, module)
    assert [t.system for t in full] == [f"image_{i:02d}" for i in range(52)]
    assert band == "quick"
    assert [t.system for t in quick] == [f"image_{i:02d}" for i in range(0, 52, 4)]
    assert quick[0].kind.settings() == {"properties": ["energy", "forces"]}
    refs = module.references()
    assert len(refs) == 52 + 52 * 65 * 3


def test_reference_recomputed_from_the_raw_file(module):
    text = fetch(module.FILES[module.PATH_64]).read_text().splitlines()
    frame = 66 + 1  # lines per frame: count line, comment, 65 atoms
    energy = [float(re.search(r"ref_energy_ev=(\S+)", text[i * frame + 1])[1]) for i in (0, 40)]
    # image 40, atom 64 (the 66th line of its frame); columns: symbol, pos, momenta, ref_forces
    force_x = float(text[40 * frame + 2 + 64].split()[7])
    refs = {(r.system, r.quantity): r.value for r in module.references()}
    assert refs[("image_40", "relative_energy")] == pytest.approx(energy[1] - energy[0], abs=1e-9)
    assert refs[("image_40", "relative_energy")] == pytest.approx(0.224975, abs=1e-6)
    assert refs[("image_40/064", "force_x")] == pytest.approx(force_x, abs=1e-12)


def _rows(module, energies, force_shift, *, failed=()):
    images = module.load_images()
    rows = []
    for i, energy in energies.items():
        atoms = images[i]
        forces = atoms.arrays["ref_forces"] + np.array([force_shift, 0.0, -force_shift])
        state = "failed" if i in failed else "ok"
        rows.append(
            prediction(
                module.image_name(i),
                "image",
                module._bare(atoms),
                None if state == "failed" else energy,
                state=state,
                error="model crashed" if state == "failed" else None,
                forces=None if state == "failed" else forces.tolist(),
            )
        )
    return rows


def test_views_give_ml_pegs_maes_on_hand_made_predictions(module, warehouse, tmp_path, test_models):
    bench = catalog.get_benchmark("si_defects")
    landing = tmp_path / "landing"
    write_references(module.references(), bench, landing=landing)
    refs = {r.system: r.value for r in module.references() if r.quantity == "relative_energy"}
    # relative predicted energies 0, ref(2) + 0.03, ref(4) − 0.06: |errors| 0, 0.03, 0.06
    energies = {0: -100.0, 2: -100.0 + refs["image_02"] + 0.03, 4: -100.0 + refs["image_04"] - 0.06}
    predictions_part(
        landing, _rows(module, energies, 0.09), model="model-a", benchmark="si_defects"
    )
    with writer(warehouse) as con:
        assert not ingest(con, [landing]).rejected
        points = dict(con.execute("select system, pred - ref from si_defects.points").fetchall())
        force_mae = con.execute("select max(force_mae) from si_defects.points").fetchone()[0]
        metrics = dict(con.execute("select metric_key, value from si_defects.metrics").fetchall())
        assert assert_declared_checks(con, "si_defects") == 3 + 3 * 65
    assert points == pytest.approx({"image_00": 0.0, "image_02": 0.03, "image_04": -0.06})
    assert force_mae == pytest.approx(0.06)  # (0.09 + 0 + 0.09) / 3 per atom
    assert metrics == pytest.approx({"Energy MAE (64)": 0.03, "Force MAE (64)": 0.06})


def test_a_failed_first_image_fails_every_relative_energy(module, warehouse, tmp_path, test_models):
    bench = catalog.get_benchmark("si_defects")
    landing = tmp_path / "landing"
    write_references(module.references(), bench, landing=landing)
    rows = _rows(module, {0: -100.0, 2: -99.9}, 0.0, failed=(0,))
    predictions_part(landing, rows, model="model-a", benchmark="si_defects")
    with writer(warehouse) as con:
        assert not ingest(con, [landing]).rejected
        states = dict(con.execute("select system, state from si_defects.points").fetchall())
        metrics = dict(con.execute("select metric_key, value from si_defects.metrics").fetchall())
    assert states == {"image_00": "failed", "image_02": "failed"}
    assert metrics["Energy MAE (64)"] is None
    assert metrics["Force MAE (64)"] == pytest.approx(0.0)  # image 2's forces are still ok


def test_bad_input_is_one_clear_error(module, tmp_path):
    text = fetch(module.FILES[module.PATH_64]).read_text()
    no_energy = tmp_path / "no_energy.extxyz"
    no_energy.write_text(text.replace("ref_energy_ev=", "other_energy=", 1))
    with pytest.raises(DataError, match="image 0: no ref_energy_ev"):
        module.load_images(no_energy)
    truncated = tmp_path / "truncated.extxyz"
    truncated.write_text(text[: len(text) // 3])
    with pytest.raises(DataError, match=r"truncated\.extxyz"):
        module.load_images(truncated)
