"""DipCONFS: loader against the raw spreadsheet and zip, views against hand-made energies."""

from __future__ import annotations

import io
import re
import zipfile

import openpyxl
import pytest
from ase.units import kcal, mol
from bench_helpers import offline, patched_source, reaction_warehouse
from conftest import MIRROR

from mlpeg import catalog
from mlpeg.errors import DataError

KCAL = kcal / mol  # eV
SOURCE = MIRROR / "grimme-lab/DipCONFS-DipCONFL/2b4acac54b7d1b8534961ff5232776a827a8816d"


@pytest.fixture(scope="module")
def module(tmp_path_factory):
    with offline(tmp_path_factory):
        module = catalog.get_benchmark("DipCONFS").calc_module()
        module.BENCHMARK.data  # noqa: B018 (loaded here, from the mirror)
    return module


def res_lines() -> dict[str, tuple[str, float]]:
    """Conformer folder -> (reference folder, kcal/mol) from the zip's own .res file."""
    with zipfile.ZipFile(SOURCE / "DipCONFS_xyz.zip") as archive:
        text = archive.read("DipCONFS/.res").decode()
    found = re.findall(r"^\$tmer\s+(\S+)/\$f\s+(\S+)/\$f\s+x\s+-1\s+1\s+\$w\s+(\S+)", text, re.M)
    return {conf: (ref, float(value)) for ref, conf, value in found}


def test_counts_equal_the_source(module):
    with zipfile.ZipFile(SOURCE / "DipCONFS_xyz.zip") as archive:
        n_xyz = sum(name.endswith("struc.xyz") for name in archive.namelist())
    assert n_xyz == 918 and len(res_lines()) == 612
    assert len(module.references()) == len(module.reactions()) == 612
    full, quick = module.tasks(full=True), module.tasks()
    assert len(full) == catalog.get_benchmark("DipCONFS").structures == 918
    assert len(quick) == 51 and all("-" not in t.system.split("/")[0] for t in quick)
    assert {t.atoms.info["charge"] for t in full} == {0}


def test_sheet_agrees_with_the_res_file(module):
    """The spreadsheet (read by the loader) and the zip's .res (read here) hold the same pairs."""
    refs = {r.system: r.value / KCAL for r in module.references()}
    res = res_lines()
    assert {name.replace("/", "-") for name in refs} == set(res)
    for name, value in refs.items():
        assert value == pytest.approx(res[name.replace("/", "-")][1], abs=1e-9)


#: Alanine: its reference -100 eV, one conformer -99.95 eV, the other failed; one A-He dipeptide
#: pair complete (-200, -199.9 eV); nothing else run.
@pytest.fixture(scope="module")
def pairs(module):
    return {r.name: dict(r.species) for r in module.reactions()}


@pytest.fixture(scope="module")
def hand_made(tmp_path_factory, module, pairs):
    a, b = sorted(name for name in pairs if name.startswith("A/"))
    ref = next(s for s, c in pairs[a].items() if c < 0)
    dip = next(name for name in pairs if name.startswith("A-He/"))
    dip_ref = next(s for s, c in pairs[dip].items() if c < 0)
    energies = {ref: -100.0, a: -99.95, b: None, dip_ref: -200.0, dip: -199.9}
    queries = {
        "points": "select system, pred, ref, state, subset from dipconfs.points",
        "metrics": "select metric_key, value from dipconfs.metrics",
    }
    root = tmp_path_factory.mktemp("dipconfs")
    structures = module.BENCHMARK.data.structures
    return {
        **reaction_warehouse(root, "DipCONFS", energies, structures, queries),
        "names": (a, b, dip),
    }


def test_views_give_hand_computed_errors_and_raw_references(hand_made):
    a, b, dip = hand_made["names"]
    points = {row[0]: row[1:] for row in hand_made["points"]}
    assert set(points) == {a, b, dip} and points[b][2] == "failed"
    res = res_lines()
    assert points[dip][1] == pytest.approx(res[dip.replace("/", "-")][1])
    assert points[dip][3] == "dipeptide" and points[a][3] == "amino acid"
    errors = {a: abs(0.05 / KCAL - res[a.replace("/", "-")][1]),
              dip: abs(0.1 / KCAL - res[dip.replace("/", "-")][1])}  # fmt: skip
    metrics = dict(hand_made["metrics"])
    assert metrics["MAE"] == pytest.approx((errors[a] + errors[dip]) / 2)
    assert metrics["amino acid MAE"] == pytest.approx(errors[a])
    assert metrics["dipeptide MAE"] == pytest.approx(errors[dip])
    assert hand_made["n_checked"] == 3


def edited_workbook(edit) -> bytes:
    workbook = openpyxl.load_workbook(SOURCE / "Conformational_energies_DipCONFS.xlsx")
    edit(workbook)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_bad_input(module, tmp_path, monkeypatch):
    def rename(workbook):
        workbook.worksheets[0].title = "Energies"

    def blank_value(workbook):
        workbook.worksheets[0]["C10"] = None

    def replaced_conformer(workbook):
        workbook.worksheets[0]["B3"] = "A/999"

    def added_conformer(workbook):
        workbook.worksheets[0].append(["A/6", "A/999", 1.0])

    cases = [
        (rename, "has no sheet 'Conformational Energies DipCONF'"),
        (blank_value, "row 10 is incomplete"),
        (replaced_conformer, r"no reference pair uses DipCONFS/A-7/struc\.xyz"),
        (added_conformer, r"has no DipCONFS/A-999/struc\.xyz for conformer A/999"),
    ]
    for i, (edit, message) in enumerate(cases):
        edits = {module.SHEET_FILE: edited_workbook(edit)}
        with pytest.raises(DataError, match=message):
            module.load(patched_source(tmp_path / str(i), module.MANIFEST, edits, monkeypatch))
    edits = {module.SHEET_FILE: b"not a workbook"}
    with pytest.raises(DataError, match="not a readable xlsx workbook"):
        module.load(patched_source(tmp_path / "x", module.MANIFEST, edits, monkeypatch))
