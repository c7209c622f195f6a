"""ACONFL: loader against the raw .res file, views against hand-made energies, bad input."""

from __future__ import annotations

import re

import pytest
from ase.units import kcal, mol
from bench_helpers import offline, patched_source, reaction_warehouse
from conftest import MIRROR

from mlpeg import catalog
from mlpeg.errors import DataError

KCAL = kcal / mol  # eV
SOURCE = MIRROR / "grimme-lab/benchmark-ACONFL/fbdfbc34baf4065c49d9f7a7b9985ed05c8c2893"


@pytest.fixture(scope="module")
def module(tmp_path_factory):
    with offline(tmp_path_factory):
        module = catalog.get_benchmark("ACONFL").calc_module()
        module.BENCHMARK.data  # noqa: B018 (loaded here, from the mirror)
    return module


def test_counts_equal_the_source(module):
    tmer_lines = [line for line in (SOURCE / ".res").read_text().splitlines() if "$tmer" in line]
    folders = {p.parent.name for p in SOURCE.glob("*/struc.xyz")}
    assert len(tmer_lines) == 50 and len(folders) == 53
    tasks = module.tasks()
    assert len(module.references()) == len(module.reactions()) == 50
    assert {t.system for t in tasks} == folders  # every structure once, quick band = all
    assert module.tasks(full=True) and len(tasks) == catalog.get_benchmark("ACONFL").structures
    assert all(t.atoms.info["charge"] == 0 and t.atoms.info["spin"] == 1 for t in tasks)
    assert sorted({len(t.atoms) for t in tasks}) == [38, 50, 62]  # C12H26, C16H34, C20H42


#: eV; A121 and A122 against A120, A1616 against A1600; A123 failed, nothing else run.
ENERGIES = {"A120": -500.0, "A121": -499.9, "A122": -499.95, "A123": None,
            "A1600": -650.0, "A1616": -649.7}  # fmt: skip


@pytest.fixture(scope="module")
def hand_made(tmp_path_factory, module):
    structures = {t.system: t.atoms for t in module.tasks()}
    queries = {
        "points": "select system, pred, ref, state, subset from aconfl.points",
        "metrics": "select metric_key, value from aconfl.metrics",
        "score": "select score from metric_scores where benchmark_key = 'ACONFL' "
        "and metric_key = 'MAE' and model_key = 'model-a'",
    }
    root = tmp_path_factory.mktemp("aconfl")
    return reaction_warehouse(root, "ACONFL", ENERGIES, structures, queries)


def raw_reference(conformer: str) -> float:
    """The kcal/mol value of a conformer's $tmer line, read from the raw file by regex."""
    text = (SOURCE / ".res").read_text()
    return float(re.search(rf"\s{conformer}/\$f\s.*\$w\s+(\S+)", text).group(1))


def test_reference_equals_raw_file(hand_made):
    points = {row[0]: row[1:] for row in hand_made["points"]}
    assert raw_reference("A1616") == 6.575
    assert points["A1616"][1] == pytest.approx(6.575)
    assert points["A121"][1] == pytest.approx(raw_reference("A121"))


def test_views_give_hand_computed_errors(hand_made):
    points = {row[0]: row[1:] for row in hand_made["points"]}
    assert set(points) == {"A121", "A122", "A123", "A1616"}  # no other pair has both species
    assert points["A121"][0] == pytest.approx(0.1 / KCAL)  # 2.306 kcal/mol
    assert points["A1616"][0] == pytest.approx(0.3 / KCAL)
    assert points["A123"][0] is None and points["A123"][2] == "failed"
    errors = {"A121": abs(0.1 / KCAL - 1.876), "A122": abs(0.05 / KCAL - 2.122),
              "A1616": abs(0.3 / KCAL - 6.575)}  # fmt: skip
    metrics = dict(hand_made["metrics"])
    assert metrics["MAE"] == pytest.approx(sum(errors.values()) / 3)
    assert metrics["C12 MAE"] == pytest.approx((errors["A121"] + errors["A122"]) / 2)
    assert metrics["C16 MAE"] == pytest.approx(errors["A1616"])
    # good 0, bad 2 kcal/mol: an MAE above 2 scores 0
    expected = max(0.0, 1 - metrics["MAE"] / 2.0)
    assert hand_made["score"][0][0] == pytest.approx(expected)
    assert hand_made["n_checked"] == 4


def test_bad_res_line_is_named(module):
    with pytest.raises(DataError, match=r"x\.res:3: cannot read"):
        module.parse_res("#\n#\n$tmer A120/$f A121/$f x -1 1 $w\n", source="x.res")


def test_missing_and_extra_structures_and_bad_xyz(module, tmp_path, monkeypatch):
    manifest = module.MANIFEST
    dropped = patched_source(tmp_path / "a", manifest, {"A121/struc.xyz": None}, monkeypatch)
    with pytest.raises(DataError, match=r"names A121, but A121/struc\.xyz is not listed"):
        module.load(dropped)
    broken = patched_source(
        tmp_path / "b", manifest, {"A2020/struc.xyz": b"62\nA2020\nC 0.0 zero 0.0\n"}, monkeypatch
    )
    with pytest.raises(DataError, match=r"A2020/struc.xyz: has 1 atom lines, expected 62"):
        module.load(broken)
    extra = tmp_path / "extra.sha256"
    line = next(x for x in manifest.read_text().splitlines() if "A120/struc.xyz" in x)
    extra.write_text(manifest.read_text() + line.replace("A120/", "A999/") + "\n")
    with pytest.raises(DataError, match=r"no \.res line uses A999"):
        module.load(extra)
    no_res = patched_source(tmp_path / "c", manifest, {".res": None}, monkeypatch)
    with pytest.raises(DataError, match=r"does not list \.res"):
        module.load(no_res)
