"""elasticity: matcalc's binary set read from the mirror through the pymatgen-free parser,
a reference by hand from the raw file, the views on hand-made rows, and bad records."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pytest
from ase.units import GPa
from bench_helpers import ingest_rows, query
from helpers import prediction

from mlpeg import catalog
from mlpeg.data import fetch
from mlpeg.errors import DataError
from mlpeg.pymatgen_json import entry_to_atoms, structure_to_atoms

KEY = "elasticity"


@pytest.fixture
def module():
    return catalog.get_benchmark(KEY).calc_module()


def test_records_and_references_from_the_mirror(module):
    records = module.records()
    assert len(records) == 3953
    refs = {(r.system, r.quantity): r.value for r in module.references()}
    assert len(refs) == 2 * 3953
    with gzip.open(fetch(module.FILES[module.DATA]), "rt") as handle:
        raw = json.load(handle)
    bate = next(r for r in raw if r["mp_id"] == "mp-1000")
    assert (bate["bulk_modulus_vrh"], bate["shear_modulus_vrh"]) == (28.286, 16.564)
    assert refs[("mp-1000", "k_vrh")] == pytest.approx(28.286 * GPa)
    quick = module.tasks()
    assert [t.system for t in quick] == [
        "mp-1000",
        "mp-10015",
        "mp-1001789",
    ]
    assert quick[0].atoms.get_chemical_formula() == "BaTe"


def test_parser_matches_pymatgen(module):
    pymatgen = pytest.importorskip("pymatgen.core")
    record = module.records()[0]  # InSb3
    ours = structure_to_atoms(record["structure"])
    theirs = pymatgen.Structure.from_dict(record["structure"])
    assert ours.get_chemical_symbols() == [str(site.specie) for site in theirs]
    assert np.allclose(ours.cell.array, theirs.lattice.matrix)
    assert np.allclose(ours.positions, theirs.cart_coords)


def test_bad_structures_are_one_clear_error():
    good = {
        "lattice": {"matrix": [[3, 0, 0], [0, 3, 0], [0, 0, 3]]},
        "sites": [{"species": [{"element": "Na", "occu": 1}], "abc": [0, 0, 0]}],
    }
    assert len(structure_to_atoms(good)) == 1
    disordered = json.loads(json.dumps(good))
    disordered["sites"][0]["species"] = [
        {"element": "Na", "occu": 0.5},
        {"element": "K", "occu": 0.5},
    ]
    with pytest.raises(DataError, match="mp-x: a site is partially occupied"):
        structure_to_atoms(disordered, where="mp-x")
    with pytest.raises(DataError, match="mp-y: not a pymatgen Structure"):
        structure_to_atoms({"sites": []}, where="mp-y")
    unknown = json.loads(json.dumps(good))
    unknown["sites"][0]["species"][0]["element"] = "Xx"
    with pytest.raises(DataError, match="mp-z"):
        structure_to_atoms(unknown, where="mp-z")
    with pytest.raises(DataError, match="no structure"):
        entry_to_atoms({"energy": -1.0})


def test_missing_field_is_one_clear_error(module, tmp_path, monkeypatch):
    bad = tmp_path / "set.json.gz"
    with gzip.open(bad, "wt") as handle:
        json.dump([{"mp_id": "mp-1", "structure": {}}], handle)
    monkeypatch.setattr(module, "fetch", lambda remote: bad)
    with pytest.raises(DataError, match="record 0 lacks bulk_modulus_vrh, shear_modulus_vrh"):
        module.records()


def test_views_on_hand_made_rows(module, tmp_path, test_models):
    atoms = module.tasks()[0].atoms
    rows = [
        prediction(
            "mp-1000", "bulk", atoms, -10.0, properties={"k_vrh": 30.0 * GPa, "g_vrh": 15.0 * GPa}
        ),
        prediction(
            "mp-10015",
            "bulk",
            atoms,
            -10.0,
            properties={"k_vrh": 280.0 * GPa, "g_vrh": 120.0 * GPa},
        ),
        prediction("mp-1001789", "bulk", atoms, None, state="failed", error="NotConverged: ..."),
    ]
    warehouse = ingest_rows(KEY, rows, tmp_path)
    points = {
        (s, q): (pred, ref, state)
        for s, q, pred, ref, state in query(
            warehouse, f"select system, quantity, pred, ref, state from {KEY}.points"
        )
    }
    assert points[("mp-1000", "k_vrh")] == (pytest.approx(30.0), pytest.approx(28.286), "ok")
    assert points[("mp-1001789", "k_vrh")][2] == "failed"
    metrics = dict(query(warehouse, f"select metric_key, value from {KEY}.metrics"))
    # K: (|30 − 28.286| + |280 − 290.957|)/2; the failed material is not averaged
    assert metrics["Bulk modulus MAE"] == pytest.approx((1.714 + 10.957) / 2)
    assert metrics["Shear modulus MAE"] == pytest.approx((1.564 + 1.446) / 2)
