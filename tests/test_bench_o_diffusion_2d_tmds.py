"""O_diffusion_2D_TMDs: reference barriers read from ML-PEG's analysis file, end points built
with ase.build.mx2, and the views on a hand-made band."""

from __future__ import annotations

import re

import numpy as np
import pytest
from helpers import prediction, predictions_part
from materials_helpers import assert_declared_checks

from mlpeg import catalog
from mlpeg.calc.kinds import NEB
from mlpeg.calc.runner import write_references
from mlpeg.data import fetch
from mlpeg.errors import DataError
from mlpeg.structures import atoms_to_row
from mlpeg.warehouse.connect import writer
from mlpeg.warehouse.ingest import ingest

KEY = "O_diffusion_2D_TMDs"


@pytest.fixture
def module():
    return catalog.get_benchmark(KEY).calc_module()


def test_barriers_are_ml_pegs_ref_values(module):
    text = fetch(module.FILES[module.ANALYSIS]).read_text()
    block = text[text.index("REF_VALUES = {") : text.index("}", text.index("REF_VALUES = {"))]
    by_regex = {k: float(v) for k, v in re.findall(r'"(\w+)": ([\d.]+)', block)}
    assert module.barriers() == by_regex
    assert set(by_regex) == set(module.LATTICE)  # six compounds, all built
    refs = {r.system: (r.value, r.unit) for r in module.references()}
    assert refs == {k: (v, "eV") for k, v in by_regex.items()}


@pytest.mark.parametrize(("compound", "chalcogen"), [("MoS2", "S"), ("WTe2", "Te")])
def test_end_points_put_o_on_neighbouring_chalcogens(module, compound, chalcogen):
    initial, final = module.end_points(compound, 3)
    a = module.LATTICE[compound]
    assert len(initial) == 3 * 3 * 3 + 1 and initial.get_chemical_formula() == (
        final.get_chemical_formula()
    )
    assert (initial.numbers == final.numbers).all() and initial[-1].symbol == "O"
    assert np.allclose(initial.cell.lengths()[:2], 3 * a)
    # O sits straight above the nearest chalcogen, at the chalcogen's initial height
    distances = initial.get_distances(len(initial) - 1, range(len(initial) - 1), mic=True)
    nearest = int(np.argmin(distances))
    assert initial[nearest].symbol == chalcogen
    assert distances[nearest] == pytest.approx(module.O_HEIGHT[chalcogen])
    # the end point moves only the O, by one lattice constant along a
    moved = final.positions - initial.positions
    assert np.allclose(moved[:-1], 0) and np.allclose(moved[-1], (a, 0, 0))


def test_quick_and_full_bands(module):
    quick, full = module.tasks(), module.tasks(full=True)
    assert [t.system for t in quick] == ["MoS2", "WTe2"]
    assert [t.system for t in full] == ["MoS2", "MoSe2", "MoTe2", "WS2", "WSe2", "WTe2"]
    assert {len(t.atoms) for t in full} == {6 * 6 * 3 + 1}
    kind = full[0].kind
    assert isinstance(kind, NEB) and kind.climb and kind.relax_endpoints
    assert (kind.n_images, kind.fmax, kind.require_convergence) == (11, 0.05, True)
    assert quick[0].kind.settings() != kind.settings()


def _band_row(task, energies):
    images = [task.atoms.copy() for _ in energies]
    for i, image in enumerate(images):
        image.positions[-1, 0] += 0.3 * i  # the O moves along the band
    saddle = int(np.argmax(energies))
    row = prediction(
        task.system,
        "neb",
        task.atoms,
        energies[saddle],
        properties={
            **{f"energy_{i:03d}": e for i, e in enumerate(energies)},
            "barrier": energies[saddle] - energies[0],
            "saddle_index": float(saddle),
            "converged": 1.0,
        },
    )
    row.update(task="neb", frames=[atoms_to_row(image) for image in images])
    return row, [atoms_to_row(image)["structure_id"] for image in images]


def test_views_on_a_hand_made_band(module, warehouse, tmp_path, test_models):
    bench = catalog.get_benchmark(KEY)
    landing = tmp_path / "landing"
    write_references(module.references(), bench, landing=landing)
    tasks = {t.system: t for t in module.tasks()}
    mos2, ids = _band_row(tasks["MoS2"], [-500.0, -499.0, -497.7, -499.1, -500.0])
    wte2, _ = _band_row(tasks["WTe2"], [-400.0, -399.5, -399.2, -399.4, -400.0])
    failed = prediction(
        "WS2",
        "neb",
        tasks["MoS2"].atoms,
        None,
        state="failed",
        error="NEB did not reach fmax 0.1 eV/Å in 300 steps",
    )
    predictions_part(landing, [mos2, wte2, failed], model="model-a", benchmark=KEY)
    with writer(warehouse) as con:
        assert not ingest(con, [landing]).rejected
        points = {
            r[0]: r[1:]
            for r in con.execute(
                "select system, pred, ref, state, structure_id from o_diffusion_2d_tmds.points"
            ).fetchall()
        }
        metrics = dict(
            con.execute("select metric_key, value from o_diffusion_2d_tmds.metrics").fetchall()
        )
        assert assert_declared_checks(con, KEY) == 3
    assert points["MoS2"][:3] == (pytest.approx(2.3), 2.53, "ok")
    assert points["MoS2"][3] == ids[2]  # the saddle image is shown
    assert points["WTe2"][:2] == (pytest.approx(0.8), 1.01)
    assert points["WS2"][0] is None and points["WS2"][2] == "failed"
    assert metrics == pytest.approx(
        {"MoS2 barrier error": 0.23, "WTe2 barrier error": 0.21, "WS2 barrier error": None}
    )


def test_bad_reference_files_are_one_clear_error(module, tmp_path):
    missing = tmp_path / "missing.py"
    missing.write_text("OTHER = {'MoS2': 1.0}\n")
    with pytest.raises(DataError, match="assigns no REF_VALUES"):
        module.read_ref_values(missing)
    computed = tmp_path / "computed.py"
    computed.write_text("REF_VALUES = dict(MoS2=1.0)\n")
    with pytest.raises(DataError, match="not a literal"):
        module.read_ref_values(computed)
    broken = tmp_path / "broken.py"
    broken.write_text("REF_VALUES = {'MoS2': \n")
    with pytest.raises(DataError, match="Cannot parse"):
        module.read_ref_values(broken)
    strings = tmp_path / "strings.py"
    strings.write_text("REF_VALUES = {'MoS2': 'high'}\n")
    with pytest.raises(DataError, match="not a dict of numbers"):
        module.read_ref_values(strings)
