"""Errors per element (sql/views/30_errors.sql) on the warehouse of tests/app_helpers.py.

Errors of the latest runs (pred − ref; X23 lattice energies in kJ/mol = eV × EV):

* X23: model-a ammonia (NH3) +0.1 eV, carbon_dioxide (CO2) 0, hydrogen_sulfide (H2S) −0.1;
  model-b ammonia 0, hydrogen_sulfide 0 (carbon_dioxide failed); model-c ammonia −0.1,
  carbon_dioxide −0.1 (hydrogen_sulfide unsupported). Seven ok points, |errors| summing
  to 0.4 eV: the X23 scale is 0.4/7 eV, so an error of 0.1 eV is 1.75 of it.
* TOY (eV): model-a h2 −0.1, hcl 0, nacl +0.3; model-c h2 +0.2. Four ok points summing to
  0.6 eV: the scale is 0.15 eV (h2 of model-a 2/3, of model-c 4/3; nacl 2).

Per element, each benchmark's mean relative error over the points holding the element,
then the mean over benchmarks:

* model-a H: X23 (ammonia 1.75, H2S 1.75) → 1.75; TOY (h2 2/3, hcl 0) → 1/3; H = 25/24.
* model-a O: X23 carbon_dioxide only → 0.
* model-c H: X23 ammonia 1.75, TOY h2 4/3 → 37/24; model-c O: carbon_dioxide 1.75.
"""

from __future__ import annotations

import pytest
from app_helpers import EV, app_warehouse

from mlpeg.appdata.params import ScoringParams, apply
from mlpeg.warehouse.connect import reader


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    return app_warehouse(tmp_path_factory.mktemp("elements"))


def rows(warehouse, sql: str, params: ScoringParams | None = None) -> list[dict]:
    with reader(warehouse) as con:
        apply(con, params or ScoringParams())
        relation = con.sql(sql)
        return [dict(zip(relation.columns, row, strict=True)) for row in relation.fetchall()]


def by_element(warehouse, model: str, params: ScoringParams | None = None) -> dict[str, dict]:
    found = rows(warehouse, f"select * from element_errors where model_key = '{model}'", params)
    return {row["element"]: row for row in found}


def test_point_errors_are_divided_by_the_benchmarks_mae(warehouse):
    points = {
        (row["model_key"], row["benchmark_key"], row["system"]): row
        for row in rows(warehouse, "select * from point_errors")
    }
    assert len(points) == 7 + 4
    ammonia = points[("model-a", "X23", "ammonia")]
    assert ammonia["error"] == pytest.approx(0.1 * EV)
    assert ammonia["benchmark_mae"] == pytest.approx(0.4 / 7 * EV)
    assert ammonia["relative_error"] == pytest.approx(1.75)
    assert points[("model-a", "TOY", "nacl")]["relative_error"] == pytest.approx(2.0)
    assert points[("model-c", "TOY", "h2")]["relative_error"] == pytest.approx(4 / 3)


def test_hydrogen_and_oxygen_by_hand(warehouse):
    a = by_element(warehouse, "model-a")
    assert a["H"]["mean_relative_error"] == pytest.approx(25 / 24)
    assert (a["H"]["n_benchmarks"], a["H"]["n_points"]) == (2, 4)
    assert a["H"]["worst_benchmark_key"] == "X23"
    assert a["O"]["mean_relative_error"] == pytest.approx(0.0, abs=1e-12)
    assert a["O"]["n_points"] == 1
    c = by_element(warehouse, "model-c")
    assert c["H"]["mean_relative_error"] == pytest.approx(37 / 24)
    assert c["O"]["mean_relative_error"] == pytest.approx(1.75)
    assert "S" not in c  # its H2S point is unsupported, not an error
    assert set(a) == {"H", "C", "N", "O", "S", "Cl", "Na"}


def test_per_benchmark_rows_and_worst_points(warehouse):
    found = rows(
        warehouse,
        "select benchmark_key, n_points, mean_relative_error from element_benchmark_errors "
        "where model_key = 'model-a' and element = 'H' order by benchmark_key",
    )
    assert [(r["benchmark_key"], r["n_points"]) for r in found] == [("TOY", 2), ("X23", 2)]
    assert [r["mean_relative_error"] for r in found] == pytest.approx([1 / 3, 1.75])
    cl = rows(
        warehouse,
        "select system, relative_error from point_element_errors "
        "where model_key = 'model-a' and element = 'Cl' order by relative_error desc",
    )
    assert [r["system"] for r in cl] == ["nacl", "hcl"]


def test_excluded_elements_leave_the_errors(warehouse):
    # excluding Cl filters hcl and nacl: the TOY scale becomes (0.1 + 0.2) / 2 = 0.15 eV
    a = by_element(warehouse, "model-a", ScoringParams(excluded_elements=("Cl",)))
    assert "Cl" not in a and "Na" not in a
    assert a["H"]["mean_relative_error"] == pytest.approx((1.75 + 0.1 / 0.15) / 2)
