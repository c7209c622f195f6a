"""water_slab_dipoles: ML-PEG's slab from the mirror, the threshold by hand, and the dipole per
area, σ and breakdown fraction from stored frames against numpy on the same frames."""

from __future__ import annotations

import numpy as np
import pytest
from bench_helpers import ingest_rows, query
from helpers import prediction

from mlpeg import catalog
from mlpeg.structures import atoms_to_row

KEY = "water_slab_dipoles"


@pytest.fixture
def module():
    return catalog.get_benchmark(KEY).calc_module()


def test_slab_and_threshold(module):
    (task,) = module.tasks()
    assert len(task.atoms) == 576 and task.atoms.get_chemical_formula() == "H384O192"
    # 4.45 V · ε₀ / e in e/Å: 4.45 · 8.8541878128e-12 / 1.602176634e-19 · 1e-10
    assert pytest.approx(0.0245922547, rel=1e-8) == module.BREAKDOWN
    assert (task.kind.n_steps, task.kind.frame_stride) == (40, 4)
    full = module.tasks(full=True)[0].kind
    assert (full.n_steps, full.timestep_fs, full.frame_stride) == (200_000, 1.0, 500)


def _dipole(atoms):
    charges = np.where(atoms.numbers == 8, -0.5562, 0.2781)
    return (charges * atoms.positions[:, 2]).sum() / (atoms.cell[0, 0] * atoms.cell[1, 1])


def test_views_on_frames_of_the_real_slab(module, tmp_path, test_models):
    start = module.tasks()[0].atoms
    frames = [start.copy() for _ in range(4)]
    # polarise frames 1 and 3: lift every H of the lower half by 0.02 Å and 1.5 Å
    for frame, shift in zip(frames, (0.0, 0.02, 0.0, 1.5), strict=True):
        lower = (frame.numbers == 1) & (frame.positions[:, 2] % frame.cell[2, 2] < 20)
        frame.positions[lower, 2] += shift
    row = prediction("slab_38A", "nvt", start, -1000.0)
    row.update(task="molecular_dynamics", frames=[atoms_to_row(f) for f in frames])
    warehouse = ingest_rows(KEY, [row], tmp_path)
    points = query(
        warehouse, f"select pred, is_breakdown_candidate from {KEY}.points order by system"
    )
    expected = [_dipole(f) for f in frames]
    assert expected[0] == pytest.approx(0.00104026590, rel=1e-6)  # the start structure
    assert [p for p, _ in points] == pytest.approx(expected, rel=1e-9)
    assert [b for _, b in points] == [abs(d) > module.BREAKDOWN for d in expected]
    assert sum(b for _, b in points) == 1  # only the 1.5 Å shift breaks down
    metrics = dict(query(warehouse, f"select metric_key, value from {KEY}.metrics"))
    assert metrics["σ"] == pytest.approx(np.std(expected))
    assert metrics["Fraction Breakdown Candidates"] == pytest.approx(0.25)


def test_failed_trajectory_is_a_failed_point(module, tmp_path, test_models):
    start = module.tasks()[0].atoms
    row = prediction("slab_38A", "nvt", start, None, state="failed", error="FloatingPointError")
    warehouse = ingest_rows(KEY, [row], tmp_path)
    assert query(warehouse, f"select state from {KEY}.points") == [("failed",)]
    assert query(warehouse, f"select count(*) from {KEY}.metrics") == [(0,)]
