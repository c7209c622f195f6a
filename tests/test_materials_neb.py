"""Li diffusion in LiFePO4: end points from the mirror matched atom by atom, and the views on a
hand-made band (barrier, saddle image, per-image energies)."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import prediction, predictions_part
from materials_helpers import assert_declared_checks

from mlpeg import catalog
from mlpeg.calc.kinds import NEB
from mlpeg.calc.runner import write_references
from mlpeg.structures import atoms_to_row
from mlpeg.warehouse.connect import writer
from mlpeg.warehouse.ingest import ingest


@pytest.fixture
def li_tasks():  # function scope: it reads the mirror the autouse fixture points to
    return catalog.get_benchmark("li_diffusion").calc_module().tasks()


def _displacements(start, end):
    fractions = start.cell.scaled_positions(end.positions) - start.get_scaled_positions()
    fractions -= np.round(fractions)
    return np.linalg.norm(fractions @ start.cell.array, axis=1)


@pytest.mark.parametrize(("path", "hop"), [("path_b", 2.985), ("path_c", 4.655)])
def test_end_points_differ_by_one_li_hop(li_tasks, path, hop):
    task = next(t for t in li_tasks if t.system == path)
    assert isinstance(task.kind, NEB) and task.kind.climb
    assert not task.kind.relax_endpoints  # the quick band: fixed images (--full relaxes them)
    start, final = task.atoms, task.kind.final
    assert len(start) == 111 and start.get_chemical_formula() == "Fe16Li15O64P16"
    assert (start.numbers == final.numbers).all()
    moved = _displacements(start, final)
    assert moved.max() == pytest.approx(hop, abs=1e-3)
    assert start[int(np.argmax(moved))].symbol == "Li"
    assert np.sort(moved)[-2] < 1e-6  # nothing else moves


def test_quick_and_full_bands_differ_and_never_share_a_result():
    module = catalog.get_benchmark("li_diffusion").calc_module()
    quick, full = module.tasks()[0].kind, module.tasks(full=True)[0].kind
    assert (full.n_images, full.fmax, full.max_steps) == (7, 0.05, 500)  # as defined
    assert (quick.n_images, quick.max_steps) == (5, 0)  # single points on fixed images
    assert quick.settings() != full.settings()  # resume keys on settings: no mix-up


def test_references_are_morgan_2004():
    refs = catalog.get_benchmark("li_diffusion").calc_module().references()
    assert {(r.system, r.quantity, r.value, r.unit) for r in refs} == {
        ("path_b", "barrier", 0.27, "eV"),
        ("path_c", "barrier", 2.5, "eV"),
    }


def _band_row(task, energies):
    """A NEB prediction as the runner writes it: images as frames, energies as properties."""
    images = [task.atoms.copy() for _ in energies]
    for i, image in enumerate(images):
        image.positions[0] += (0.01 * i, 0.0, 0.0)  # distinct frames
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


def test_views_on_a_hand_made_band(li_tasks, warehouse, tmp_path, test_models):
    bench = catalog.get_benchmark("li_diffusion")
    landing = tmp_path / "landing"
    write_references(bench.calc_module().references(), bench, landing=landing)
    energies = {
        "path_b": [-800.0, -799.9, -799.7, -799.75, -800.0],
        "path_c": [-800.0, -799.0, -797.9, -798.6, -800.1],
    }
    rows, frame_ids = [], {}
    for task in li_tasks:
        row, frame_ids[task.system] = _band_row(task, energies[task.system])
        rows.append(row)
    predictions_part(landing, rows, model="model-a", benchmark="li_diffusion")
    with writer(warehouse) as con:
        assert not ingest(con, [landing]).rejected
        points = {
            r[0]: r[1:]
            for r in con.execute(
                "select system, pred, ref, structure_id, is_converged, n_images "
                "from li_diffusion.points"
            ).fetchall()
        }
        metrics = dict(con.execute("select metric_key, value from li_diffusion.metrics").fetchall())
        images = con.execute(
            "select image, energy, structure_id from li_diffusion.images "
            "where system = 'path_c' order by image"
        ).fetchall()
        assert assert_declared_checks(con, "li_diffusion") == 2
    assert points["path_b"][:2] == (pytest.approx(0.3), 0.27)
    assert points["path_c"][:2] == (pytest.approx(2.1), 2.5)
    assert points["path_c"][2] == frame_ids["path_c"][2]  # the saddle image is shown
    assert points["path_b"][3:] == (True, 5)
    assert metrics == pytest.approx({"Path B error": 0.03, "Path C error": 0.4})
    assert [image for image, *_ in images] == [0, 1, 2, 3, 4]
    assert [energy for _, energy, _ in images] == pytest.approx([0.0, 1.0, 2.1, 1.4, -0.1])
    assert [structure for *_, structure in images] == frame_ids["path_c"]
