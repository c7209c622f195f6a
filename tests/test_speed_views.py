"""Speed as data: the `model_speed` views against medians worked out by hand.

Fixture (X23, latest runs): model-a on cpu computed five structures of 3, 3, 6, 6 and 8
atoms in 0.3, 0.6, 0.6, 1.2 and 4.0 s, plus a failed one (9 s) and an unsupported one,
which do not count; an older run of model-a (10 s each) is not the selected one. model-b
on cuda computed two structures of 3 and 6 atoms in 0.03 and 0.09 s, and one relaxation.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from ase import Atoms
from helpers import T0, prediction, predictions_part
from typer.testing import CliRunner

from mlpeg.cli import app
from mlpeg.warehouse.connect import reader, writer
from mlpeg.warehouse.ingest import ingest


def chain(n_atoms: int, spacing: float) -> Atoms:
    """A row of H atoms (distinct spacings give distinct structures)."""
    return Atoms(f"H{n_atoms}", positions=[[spacing * i, 0, 0] for i in range(n_atoms)])


def timed(system: str, n_atoms: int, seconds: float, **kwargs) -> dict:
    row = prediction(system, "main", chain(n_atoms, 0.7 + 0.01 * len(system)), -1.0, **kwargs)
    if kwargs.get("state") in ("failed", "unsupported"):
        row["energy"] = None
    row["wall_time_s"] = seconds
    return row


@pytest.fixture
def warehouse(tmp_path, test_models):
    landing = tmp_path / "landing"
    a_rows = [
        timed("s1", 3, 0.3),
        timed("s2", 3, 0.6),
        timed("s3", 6, 0.6),
        timed("s4", 6, 1.2),
        timed("s5", 8, 4.0),
        timed("s6", 8, 9.0, state="failed", error="diverged"),
        timed("s7", 8, 0.0, state="unsupported", error="element not covered"),
    ]
    old = [{**row, "wall_time_s": 10.0} for row in a_rows]
    predictions_part(landing, old, model="model-a", benchmark="X23", run_id="a-old", device="cpu")
    predictions_part(
        landing,
        a_rows,
        model="model-a",
        benchmark="X23",
        run_id="a-new",
        ended=T0 + timedelta(days=1),
        device="cpu",
    )
    relax = timed("s3", 6, 2.5)
    relax["task"] = "relax"
    b_rows = [timed("s1", 3, 0.03), timed("s2", 6, 0.09), relax]
    predictions_part(landing, b_rows, model="model-b", benchmark="X23", run_id="b", device="cuda")
    path = tmp_path / "wh" / "mlpeg.duckdb"
    with writer(path) as con:
        report = ingest(con, [landing])
    assert not report.rejected, [r.message for r in report.rejected]
    return path


def test_model_speed_is_the_median_per_structure_and_per_atom(warehouse):
    with reader(warehouse) as con:
        rows = con.sql("select * from model_speed order by model_key").fetchall()
        columns = [c[0] for c in con.sql("select * from model_speed").description]
    a, b = (dict(zip(columns, row, strict=True)) for row in rows)
    assert (a["model_key"], a["device"], a["n_structures"], a["n_atoms"]) == (
        "model-a",
        "cpu",
        5,
        26,
    )
    assert a["median_s_per_structure"] == pytest.approx(0.6)
    # µs per atom: 0.3/3, 0.6/3, 0.6/6, 1.2/6, 4.0/8 s = 100000, 200000, 100000, 200000, 500000
    assert a["median_us_per_atom"] == pytest.approx(200_000)
    assert a["total_s"] == pytest.approx(6.7)
    assert a["tasks"] == ["single_point"]
    assert (b["device"], b["n_structures"], b["tasks"]) == ("cuda", 3, ["relax", "single_point"])
    # 0.03, 0.09, 2.5 s; per atom 10000, 15000, 416666.7 µs
    assert b["median_s_per_structure"] == pytest.approx(0.09)
    assert b["median_us_per_atom"] == pytest.approx(15_000)


def test_the_summary_takes_single_points_only(warehouse):
    with reader(warehouse) as con:
        summary = con.sql(
            "select model_key, device, n_structures, median_s_per_structure, median_us_per_atom"
            " from model_speed_summary order by model_key"
        ).fetchall()
    assert summary[0][:3] == ("model-a", "cpu", 5)
    assert summary[1][:3] == ("model-b", "cuda", 2)
    # model-b without its relaxation: medians of two values are their means
    assert summary[1][3] == pytest.approx((0.03 + 0.09) / 2)
    assert summary[1][4] == pytest.approx((10_000 + 15_000) / 2)


def test_models_shows_each_models_measured_speed(warehouse, monkeypatch):
    monkeypatch.setenv("COLUMNS", "300")
    shown = CliRunner().invoke(app, ["models", "-w", str(warehouse)])
    assert shown.exit_code == 0, shown.output
    lines = {line.split("│")[1].strip(): line for line in shown.output.splitlines() if "│" in line}
    assert "200,000 µs/atom (cpu, 5)" in lines["model-a"]
    assert "12,500 µs/atom (cuda, 2)" in lines["model-b"]
    assert "µs/atom" not in lines["model-c"]  # never run
