"""Folmsbee: loader against the raw tar, the conformer score in SQL against a hand
calculation of mlipaudit's published definition, and bad input."""

from __future__ import annotations

import math
import tarfile

import pytest
from ase.units import Hartree, kcal, mol
from bench_helpers import offline, patched_source, reaction_warehouse
from conftest import MIRROR

from mlpeg import catalog
from mlpeg.errors import DataError

KCAL = kcal / mol  # eV
TAR = MIRROR / "ghutchis/conformer-benchmark/0109c8ec7cff3c10d3617ed65392fffc81492755.tar"


@pytest.fixture(scope="module")
def module(tmp_path_factory):
    with offline(tmp_path_factory):
        module = catalog.get_benchmark("Folmsbee").calc_module()
        module.BENCHMARK.data  # noqa: B018 (loaded here, from the mirror)
    return module


@pytest.fixture(scope="module")
def raw_energies() -> dict[tuple[str, str], float]:
    with tarfile.open(TAR) as tar:
        lines = tar.extractfile("energies/ccsdt.txt").read().decode().splitlines()
    return {(f[0], f[1].split(".")[0]): float(f[-1]) for f in map(str.split, lines)}


def test_counts_equal_the_source(module, raw_energies):
    with tarfile.open(TAR) as tar:
        xyz = [m.name for m in tar if m.isfile() and m.name.endswith(".xyz")]
    assert len(xyz) == 6_995 and len({p.split("/")[2] for p in xyz}) == 708
    assert len(raw_energies) == 6_755
    reactions = module.reactions()
    molecules = {r.subset for r in reactions}
    assert len(reactions) == catalog.get_benchmark("Folmsbee").structures == 6_747
    assert len(molecules) == 694
    assert sum(1 for r in reactions if len(r.species) == 1) == 694  # one zero per molecule
    module.load()  # SKIPPED holds the last load's skips: another test may load a small mirror
    reasons = [reason for _, reason in module.SKIPPED]
    assert reasons.count("no reference energy") == 6_995 - 6_755
    assert reasons.count("one conformer with a reference energy") == 8
    assert 6_747 + 8 == 6_755  # every energy is used or its skip recorded
    quick = module.tasks()
    assert len(quick) == 115 and len({t.system.split("/")[0] for t in quick}) == 12


def test_charges_reach_the_structures(module):
    structures = module.BENCHMARK.data.structures
    assert structures["astex_1gm8/rmsd112-opt"].info["charge"] == -1  # CHG-charges.txt
    assert structures["astex_1tt1/rmsd127-opt"].info["spin"] == 1
    lowest = [r.species[0][0] for r in module.reactions() if len(r.species) == 1]
    charges = [structures[name].info["charge"] for name in lowest]  # reads 694 files
    assert len(charges) == 694 and sum(1 for q in charges if q) == 75  # as benchmark.yml says
    assert set(charges) == {-1, 0, 1, 2}  # 8 molecules of CHG-charges.txt have charge 0


#: kcal/mol added to the reference of astex_1tt1's two conformers above its lowest one
#: (rmsd192): per-molecule MAE (1.2 + 1.2 + 0) / 3 = 0.8, RMSE √(2 · 1.44 / 3) = 0.98.
OFFSETS = {"rmsd127-opt": 1.2, "rmsd191-opt": -1.2}


@pytest.fixture(scope="module")
def hand_made(tmp_path_factory, module, raw_energies):
    """astex_1tt1 off by OFFSETS; astex_1uou (2 conformers) with one failed; nothing else run."""
    energies = {"astex_1tt1/rmsd192-opt": -1000.0}
    for name, offset in OFFSETS.items():
        ref = relative_kcal(raw_energies, "astex_1tt1", name, "rmsd192-opt")
        energies[f"astex_1tt1/{name}"] = -1000.0 + (ref + offset) * KCAL
    failed = sorted(n for n in module.BENCHMARK.data.species_names() if n.startswith("astex_1uou/"))
    energies |= {failed[0]: -800.0, failed[1]: None}
    with offline(tmp_path_factory):
        structures = {name: module.BENCHMARK.data.structures[name] for name in energies}
    queries = {
        "points": "select system, pred, ref, state from folmsbee.points",
        "molecules": "select molecule, n_conformers, state, mae, rmse from folmsbee.molecules",
        "metrics": "select metric_key, value from folmsbee.metrics",
        "score": "select score from metric_scores where benchmark_key = 'Folmsbee' "
        "and metric_key = 'Conformer Score'",
    }
    root = tmp_path_factory.mktemp("folmsbee")
    return reaction_warehouse(root, "Folmsbee", energies, structures, queries)


def relative_kcal(raw, molecule, name, lowest):
    return (raw[molecule, name] - raw[molecule, lowest]) * Hartree / KCAL


def test_reference_equals_raw_file(hand_made, raw_energies):
    points = {row[0]: row[1:] for row in hand_made["points"]}
    expected = relative_kcal(raw_energies, "astex_1tt1", "rmsd127-opt", "rmsd192-opt")
    assert points["astex_1tt1/rmsd127-opt"][1] == pytest.approx(expected)  # 2.405 kcal/mol
    assert "astex_1tt1/rmsd192-opt" not in points  # the zero is no point of the parity plot


def soft(x: float | None, t: float) -> float:
    """mlipaudit's soft threshold, written from its documentation."""
    return 0.0 if x is None else 1.0 if x <= t else math.exp(-3 * (x - t) / t)


def test_conformer_score_by_hand(hand_made, raw_energies):
    mae, rmse = 0.8, math.sqrt(2 * 1.44 / 3)  # see OFFSETS; the zero conformer counts
    molecules = {row[0]: row[1:] for row in hand_made["molecules"]}
    assert molecules["astex_1tt1"][:2] == (3, "ok")
    assert molecules["astex_1tt1"][2] == pytest.approx(mae)
    assert molecules["astex_1tt1"][3] == pytest.approx(rmse)
    assert molecules["astex_1uou"][1:] == ("failed", None, None)
    metrics = dict(hand_made["metrics"])
    assert metrics["MAE"] == pytest.approx(mae)  # the failed molecule is not in the MAE
    # the failed molecule scores 0 in both halves
    score = ((soft(mae, 0.5) + 0.0) / 2 + (soft(rmse, 1.5) + 0.0) / 2) / 2
    assert metrics["Conformer Score"] == pytest.approx(score)
    assert score == pytest.approx((math.exp(-3 * 0.3 / 0.5) + 1.0) / 4)  # 0.2707
    assert hand_made["score"][0][0] == pytest.approx(score)  # good 1, bad 0: the value itself
    assert hand_made["n_checked"] == 3 + 2  # three points (one failed), two molecules


def test_soft_threshold_matches_the_published_curve():
    assert soft(0.4, 0.5) == 1.0 and soft(0.5, 0.5) == 1.0
    assert soft(1.0, 0.5) == pytest.approx(math.exp(-3))  # one threshold above: e^-3


def test_bad_input(module, tmp_path, monkeypatch):
    keep = lambda path: "astex_1tt1" in path or not path.endswith(".xyz")  # noqa: E731
    manifest = module.MANIFEST
    with tarfile.open(TAR) as tar:
        energies = tar.extractfile("energies/ccsdt.txt").read().decode()
        charges = tar.extractfile("geometries/CHG-charges.txt").read().decode()
    mine = "".join(line + "\n" for line in energies.splitlines() if "astex_1tt1" in line)
    ok = patched_source(
        tmp_path / "ok", manifest, {"energies/ccsdt.txt": mine.encode()}, monkeypatch, keep=keep
    )
    assert len(module.load(ok).reactions) == 3
    edits = {"energies/ccsdt.txt": (mine + "astex_1tt1 rmsd999-opt.out.bz2 E -1.0\n").encode()}
    with pytest.raises(DataError, match="energies without a geometry: astex_1tt1 rmsd999-opt"):
        module.load(patched_source(tmp_path / "a", manifest, edits, monkeypatch, keep=keep))
    edits = {"energies/ccsdt.txt": (mine + "astex_1tt1 rmsd127-opt.out.bz2 E x\n").encode()}
    with pytest.raises(DataError, match=r"ccsdt\.txt:4: cannot read"):
        module.load(patched_source(tmp_path / "b", manifest, edits, monkeypatch, keep=keep))
    renamed = charges.replace("astex_1tt1", "astex_xxxx").encode()
    edits = {"energies/ccsdt.txt": mine.encode(), "geometries/CHG-charges.txt": renamed}
    with pytest.raises(DataError, match="charged molecule astex_1tt1 is not in"):
        module.load(patched_source(tmp_path / "c", manifest, edits, monkeypatch, keep=keep))
