"""OpenFF_Tors: loader against the raw JSON, views against hand-made energies, bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
from ase.units import Hartree, kcal, mol
from bench_helpers import offline, patched_source, reaction_warehouse
from conftest import MIRROR

from mlpeg import catalog
from mlpeg.errors import DataError

KCAL = kcal / mol  # eV
RAW = MIRROR / (
    "MobleyLab/qm-theory-benchmark/9a0e895d58f1487ca749a17526efd854ffe3e8a2/"
    "data/MP2_heavy-aug-cc-pVTZ_torsiondrive_data.json"
)


@pytest.fixture(scope="module")
def module(tmp_path_factory):
    with offline(tmp_path_factory):
        module = catalog.get_benchmark("OpenFF_Tors").calc_module()
        module.BENCHMARK.data  # noqa: B018 (loaded here, from the mirror)
    return module


@pytest.fixture(scope="module")
def raw():
    return json.loads(RAW.read_text())


def test_counts_equal_the_source(module, raw):
    assert len(raw) == 59 and all(len(d["final_energies"]) == 24 for d in raw.values())
    full, quick = module.tasks(full=True), module.tasks()
    assert len(full) == catalog.get_benchmark("OpenFF_Tors").structures == 59 * 24
    assert len(module.references()) == len(module.reactions()) == 59 * 23
    assert {t.system.split("/")[0] for t in quick} == {"0", "12", "24", "36", "48"}
    assert len(quick) == 120
    charges = {t.system.split("/")[0]: t.atoms.info["charge"] for t in full}
    assert sorted(charges.values()).count(-1) == 16 and list(charges.values()).count(1) == 12


def test_elements_from_the_atom_map_make_chemical_bonds(module):
    """Mapping, order and Bohr conversion together: every H sits 0.95-1.45 Å from its nearest atom
    (C-H, N-H, O-H about 1.0-1.1 Å; P-H, S-H up to 1.42 Å)."""
    for task in module.tasks(full=True)[::24]:
        atoms = task.atoms
        distances = atoms.get_all_distances() + np.eye(len(atoms)) * 99
        hydrogens = atoms.numbers == 1
        assert np.all(
            (distances[hydrogens].min(axis=1) > 0.95) & (distances[hydrogens].min(axis=1) < 1.45)
        )


def test_mapped_elements(module):
    assert module.mapped_elements("[Cl:2][C@@H:1]([N+:3]#[c-:4])[H:5]") == [
        "C",
        "Cl",
        "N",
        "C",
        "H",
    ]
    for smiles, message in (("C[O:1]", "outside brackets"), ("[C:1][O:1]", "used twice"),
                            ("[C:1][O:3]", r"not 1\.\.2"), ("[Xx:1]", "cannot read")):  # fmt: skip
        with pytest.raises(DataError, match=message):
            module.mapped_elements(smiles)


#: eV; drive 12 (cation): angles 0, 1, 2; angle 3 failed; drive 0 not run.
ENERGIES = {"12/0": -400.0, "12/1": -399.9, "12/2": -400.02, "12/3": None}


@pytest.fixture(scope="module")
def hand_made(tmp_path_factory, module):
    structures = module.BENCHMARK.data.structures
    queries = {
        "points": "select system, pred, ref, state, subset from openff_tors.points",
        "metrics": "select metric_key, value from openff_tors.metrics",
    }
    root = tmp_path_factory.mktemp("openff")
    return reaction_warehouse(root, "OpenFF_Tors", ENERGIES, structures, queries)


def test_reference_equals_raw_file(hand_made, raw):
    points = {row[0]: row[1:] for row in hand_made["points"]}
    energies = raw["12"]["final_energies"]
    assert points["12/2"][1] == pytest.approx((energies[2] - energies[0]) * Hartree / KCAL)
    assert points["12/1"][1] == pytest.approx(
        (energies[1] - energies[0]) * 627.5094740631, rel=1e-6
    )


def test_views_give_hand_computed_errors(hand_made, raw):
    points = {row[0]: row[1:] for row in hand_made["points"]}
    assert set(points) == {"12/1", "12/2", "12/3"} and points["12/3"][2] == "failed"
    assert {p[3] for p in points.values()} == {"cation"}
    e = raw["12"]["final_energies"]
    errors = [abs(0.1 / KCAL - (e[1] - e[0]) * Hartree / KCAL),
              abs(-0.02 / KCAL - (e[2] - e[0]) * Hartree / KCAL)]  # fmt: skip
    metrics = dict(hand_made["metrics"])
    assert metrics["MAE"] == pytest.approx(sum(errors) / 2)
    assert metrics["cation MAE"] == pytest.approx(sum(errors) / 2)
    assert "anion MAE" not in metrics
    assert hand_made["n_checked"] == 3


def test_bad_input(module, tmp_path, monkeypatch, raw):
    broken = json.loads(json.dumps(raw))
    broken["7"]["final_geometries"][5] = broken["7"]["final_geometries"][5][:-1]
    edit = {module.DATA: json.dumps(broken).encode()}
    with pytest.raises(
        DataError, match=r"drive 7, angle 5: geometry of shape \(24, 3\), expected \(25, 3\)"
    ):
        module.load(patched_source(tmp_path / "a", module.MANIFEST, edit, monkeypatch))
    del broken["7"]["metadata"]
    edit = {module.DATA: json.dumps(broken).encode()}
    with pytest.raises(DataError, match="drive 7 cannot be read"):
        module.load(patched_source(tmp_path / "b", module.MANIFEST, edit, monkeypatch))
    edit = {module.DATA: b'{"0": '}
    with pytest.raises(DataError, match="not valid JSON"):
        module.load(patched_source(tmp_path / "c", module.MANIFEST, edit, monkeypatch))
