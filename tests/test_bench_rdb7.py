"""RDB7: loader against the raw tar members, views against hand-made energies, bad input."""

from __future__ import annotations

import csv
import gzip
import io
import tarfile

import pytest
from ase.units import kcal, mol
from bench_helpers import offline, patched_source, reaction_warehouse
from conftest import MIRROR

from mlpeg import catalog
from mlpeg.errors import DataError

KCAL = kcal / mol  # eV
TAR = MIRROR / "heid-lab/reaction_database/d99af015d304fe5368ebd45c763caf49b28a8fd3.tar"
TABLE = "data/rdb7/barriers/forward/data.csv"


@pytest.fixture(scope="module")
def module(tmp_path_factory):
    with offline(tmp_path_factory):
        module = catalog.get_benchmark("RDB7").calc_module()
        module.BENCHMARK.data  # noqa: B018 (loaded here, from the mirror)
    return module


@pytest.fixture(scope="module")
def raw_rows() -> dict[int, float]:
    with tarfile.open(TAR) as tar:
        text = tar.extractfile(TABLE).read().decode()
    return {int(r["rxn"]): float(r["dE0"]) for r in csv.DictReader(io.StringIO(text))}


def test_counts_equal_the_source(module, raw_rows):
    with tarfile.open(TAR) as tar:
        folders = {
            m.name.split("/")[4]
            for m in tar
            if m.isfile() and m.name.startswith("data/rdb7/geometries/")
        }
    assert len(raw_rows) == len(folders) == 11_926
    assert max(raw_rows) == 11_960
    absent = set(range(11_961)) - set(raw_rows)
    assert len(absent) == 35
    names = {r.name for r in module.reactions()}
    assert len(names) == len(module.references()) == 11_926
    assert not names & {f"rxn{i:06d}" for i in absent}  # absent: no reaction, not a zero
    assert len(module.BENCHMARK.data.species_names()) == 13_081  # 1,155 reactants + 11,926 TS
    assert catalog.get_benchmark("RDB7").structures == 13_081
    quick = module.tasks()
    assert len(quick) == 96
    assert {"ts000000", "r000000"} <= {t.system for t in quick}  # row 0 is the first of 48


def test_shared_reactants_are_computed_once(module):
    species = {r.name: dict(r.species) for r in module.reactions()}
    # rows 0 and 1 have the same reactant file: both use the first one's name
    assert species["rxn000001"] == {"ts000001": 1.0, "r000000": -1.0}


#: eV; rxn 0 and 1 share their reactant, so do 2 and 3; rxn 2's TS failed; rxn 7 has no
#: reactant energy (not run).
ENERGIES = {"r000000": -300.0, "ts000000": -297.9, "ts000001": -296.8,
            "r000002": -400.0, "ts000002": None, "ts000003": -398.5,
            "ts000007": -10.0}  # fmt: skip


@pytest.fixture(scope="module")
def hand_made(tmp_path_factory, module):
    with offline(tmp_path_factory):
        structures = {name: module.BENCHMARK.data.structures[name] for name in ENERGIES}
    queries = {
        "points": "select system, pred, ref, state from rdb7.points",
        "metrics": "select metric_key, value from rdb7.metrics",
    }
    root = tmp_path_factory.mktemp("rdb7")
    return reaction_warehouse(root, "RDB7", ENERGIES, structures, queries)


def test_reference_equals_raw_file_and_views_give_hand_computed_errors(hand_made, raw_rows):
    points = {row[0]: row[1:] for row in hand_made["points"]}
    assert set(points) == {"rxn000000", "rxn000001", "rxn000002", "rxn000003"}
    assert points["rxn000000"][1] == pytest.approx(48.61085)  # data.csv row 0, by eye
    assert points["rxn000001"][1] == pytest.approx(raw_rows[1])
    assert points["rxn000002"][2] == "failed"
    errors = [abs(e / KCAL - raw_rows[i]) for i, e in ((0, 2.1), (1, 3.2), (3, 1.5))]
    assert dict(hand_made["metrics"])["MAE"] == pytest.approx(sum(errors) / 3)
    assert hand_made["n_checked"] == 4


def test_bad_input(module, tmp_path, monkeypatch):
    keep = lambda path: "rxn00000" in path or path == TABLE  # noqa: E731 (rows 0-9 only)
    with tarfile.open(TAR) as tar:
        table = tar.extractfile(TABLE).read().decode().splitlines()
    head = "\n".join(table[:10]) + "\n"  # header + indices 0-9 (5 is absent)
    manifest = module.MANIFEST
    ok = patched_source(tmp_path / "ok", manifest, {TABLE: head.encode()}, monkeypatch, keep=keep)
    assert [r.name[-1] for r in module.load(ok).reactions] == list("012346789")
    missing_ts = {TABLE: head.encode(), "data/rdb7/geometries/forward/rxn000004/ts000004.xyz": None}
    with pytest.raises(DataError, match=r"does not list .*rxn000004/ts000004\.xyz"):
        module.load(patched_source(tmp_path / "a", manifest, missing_ts, monkeypatch, keep=keep))
    fewer = "\n".join(table[:9]) + "\n"  # row 9 dropped: its geometries have no barrier
    with pytest.raises(DataError, match=r"geometry folders without a barrier: \['rxn000009'\]"):
        module.load(
            patched_source(
                tmp_path / "b", manifest, {TABLE: fewer.encode()}, monkeypatch, keep=keep
            )
        )
    bad_row = head.replace("48.61085", "n/a")
    with pytest.raises(DataError, match=r"data\.csv:2: cannot read"):
        module.load(
            patched_source(
                tmp_path / "c", manifest, {TABLE: bad_row.encode()}, monkeypatch, keep=keep
            )
        )
    odd = {
        TABLE: head.encode(),
        "data/rdb7/geometries/forward/rxn000006/ts000006.xyz": b"1\n\nH 0 0 0\n",
    }
    data = module.load(patched_source(tmp_path / "d", manifest, odd, monkeypatch, keep=keep))
    with pytest.raises(DataError, match=r"ts000006\.xyz: H with charge 0 has 1 electrons"):
        data.tasks([r for r in data.reactions if r.name == "rxn000006"])
    assert gzip.decompress(manifest.read_bytes())  # the real manifest is gzipped
