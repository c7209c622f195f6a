"""CRBH20: loader against ML-PEG's files, views against hand-made energies, bad input."""

from __future__ import annotations

import re

import pytest
from ase.units import kcal, mol
from bench_helpers import offline, patched_source, reaction_warehouse
from conftest import MIRROR

from mlpeg import catalog
from mlpeg.errors import DataError

KCAL = kcal / mol  # eV
ML_PEG = MIRROR / "ddmms/ml-peg"
ANALYSIS = "ml_peg/analysis/molecular_reactions/CRBH20/analyse_CRBH20.py"
POSCARS = "b7d7cbc5f3efe72db4b034cec3ad283eac3fdc5e/ml_peg/calcs/molecular/CRBH20/data"


@pytest.fixture(scope="module")
def module(tmp_path_factory):
    with offline(tmp_path_factory):
        module = catalog.get_benchmark("CRBH20").calc_module()
        module.BENCHMARK.data  # noqa: B018 (loaded here, from the mirror)
    return module


def raw_barrier_ev(number: int) -> float:
    """The eV value of reaction ``number`` in ML-PEG's analysis file, found by regex."""
    text = (ML_PEG / "6a03c7a07dbf75388cdb3a2ba635fc69d4f44d26" / ANALYSIS).read_text()
    block = text.split("REF_BARRIERS_EV = {", 1)[1].split("}", 1)[0]
    return float(re.search(rf"^\s+{number}: ([\d.]+),", block, re.MULTILINE).group(1))


def test_counts_equal_the_source(module):
    poscars = sorted((ML_PEG / POSCARS).glob("*/*/POSCAR"))
    assert len(poscars) == 40
    tasks = module.tasks()
    assert len(tasks) == catalog.get_benchmark("CRBH20").structures == 40
    assert len(module.references()) == len(module.reactions()) == 20
    assert {t.system for t in tasks} == {f"{p.parts[-3]}/{p.parts[-2]}" for p in poscars}
    for task in tasks:  # isolated neutral singlets, not periodic boxes
        assert not task.atoms.pbc.any() and task.atoms.info["spin"] == 1


#: eV: reactions 1 and 7 complete, 2 has only its TS (not run), 3's TS failed.
ENERGIES = {"1/react": -60.0, "1/ts": -58.3, "7/react": -80.0, "7/ts": -79.0,
            "2/ts": -70.0, "3/react": -75.0, "3/ts": None}  # fmt: skip


@pytest.fixture(scope="module")
def hand_made(tmp_path_factory, module):
    structures = {t.system: t.atoms for t in module.tasks()}
    queries = {
        "points": "select system, pred, ref, state from crbh20.points",
        "metrics": "select metric_key, value from crbh20.metrics",
        "score": "select score from metric_scores where benchmark_key = 'CRBH20'",
    }
    root = tmp_path_factory.mktemp("crbh20")
    return reaction_warehouse(root, "CRBH20", ENERGIES, structures, queries)


def test_reference_equals_raw_file(hand_made):
    points = {row[0]: row[1:] for row in hand_made["points"]}
    assert raw_barrier_ev(7) == 1.0911
    assert points["7"][1] == pytest.approx(1.0911 / KCAL)  # 25.16 kcal/mol
    assert points["1"][1] == pytest.approx(raw_barrier_ev(1) / KCAL)


def test_views_give_hand_computed_errors(hand_made):
    points = {row[0]: row[1:] for row in hand_made["points"]}
    assert set(points) == {"1", "3", "7"}
    assert points["1"][0] == pytest.approx(1.7 / KCAL)
    assert points["3"][2] == "failed" and points["3"][0] is None
    mae = (abs(1.7 - 1.7194) + abs(1.0 - 1.0911)) / 2 / KCAL  # 1.1 kcal/mol
    assert dict(hand_made["metrics"])["MAE"] == pytest.approx(mae)
    # good 1, bad 3 kcal/mol
    assert hand_made["score"][0][0] == pytest.approx((mae - 3.0) / (1.0 - 3.0))
    assert hand_made["n_checked"] == 3


def test_reference_constant_must_be_a_literal(module):
    assert module.reference_barriers("REF_BARRIERS_EV = {1: 1.5, 2: 0.25}\n") == {1: 1.5, 2: 0.25}
    for source in (
        "X = {1: 1.5}\n",
        "REF_BARRIERS_EV = dict(a=1)\n",
        "REF_BARRIERS_EV = {1: 'a'}\n",
    ):
        with pytest.raises(DataError, match="no literal REF_BARRIERS_EV"):
            module.reference_barriers(source)


def test_missing_and_unparsable_structures(module, tmp_path, monkeypatch):
    path = "ml_peg/calcs/molecular/CRBH20/data/5/ts/POSCAR"
    dropped = patched_source(tmp_path / "a", module.MANIFEST, {path: None}, monkeypatch)
    with pytest.raises(DataError, match=r"does not list .*/5/ts/POSCAR"):
        module.load(dropped)
    broken = patched_source(
        tmp_path / "b", module.MANIFEST, {path: b"C H\n1.0\nnot a cell\n"}, monkeypatch
    )
    with pytest.raises(DataError, match=r"5/ts/POSCAR: cannot read the POSCAR"):
        module.load(broken)
    no_reference = patched_source(
        tmp_path / "c", module.MANIFEST, {ANALYSIS: b"REF_BARRIERS_EV = {1: 1.0}\n"}, monkeypatch
    )
    with pytest.raises(
        DataError, match=r"reactions \[2, 3, .*\] have a barrier or POSCARs, not both"
    ):
        module.load(no_reference)
