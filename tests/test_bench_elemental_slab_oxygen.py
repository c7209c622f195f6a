"""elemental_slab_oxygen_adsorption: triplets from a zip with __MACOSX entries, a reference
by hand from the raw text, U / non-U subset metrics on fixture energies, bad input."""

from __future__ import annotations

import re
import zipfile

import pytest
from helpers import prediction, predictions_part
from materials_helpers import assert_declared_checks

from mlpeg import catalog
from mlpeg.calc.runner import write_references
from mlpeg.data import fetch
from mlpeg.errors import DataError
from mlpeg.reactions import write_reactions
from mlpeg.warehouse.connect import writer
from mlpeg.warehouse.ingest import ingest

KEY = "elemental_slab_oxygen_adsorption"


@pytest.fixture
def module():
    return catalog.get_benchmark(KEY).calc_module()


def _archive(module) -> dict[str, str]:
    with zipfile.ZipFile(fetch(module.FILES[module.ARCHIVE])) as archive:
        return {n: archive.read(n).decode(errors="replace") for n in archive.namelist()}


def test_loader_counts_equal_the_source_and_skip_macos_entries(module):
    members = _archive(module)
    slabs = [n for n in members if n.endswith(".xyz") and not n.startswith("__MACOSX/")]
    assert len(slabs) == 58 and any(n.startswith("__MACOSX/") for n in members)
    data = module._data()
    assert len(data.reactions) == 58
    assert len(data.structures) == 2 * 58 + 1  # one O atom shared by every slab
    assert len(module.tasks(full=True)) == 117 and len(module.tasks()) == 25
    assert sum(r.subset == "U" for r in data.reactions) == 8
    (oxygen,) = [a for a in data.structures.values() if len(a) == 1]
    assert oxygen.info["spin"] == 3


def test_reference_recomputed_from_the_raw_text(module):
    text = _archive(module)["elemental_slab_oxygen_adsorption_pbe/Pt36-O.xyz"]
    energies = [float(e) for e in re.findall(r"ref_energy=(\S+)", text)]
    counts = [int(line) for line in text.splitlines() if line.strip().isdigit()]
    assert counts == [36, 37, 1]  # slab (tagged mol_surface), slab + O, O atom
    refs = {r.system: r.value for r in module.references()}
    assert refs["Pt36-O"] == pytest.approx(energies[1] - energies[0] - energies[2], abs=1e-9)
    assert refs["Pt36-O"] == pytest.approx(-219.28835627 + 214.57333621 + 1.54798571)


def test_views_on_hand_made_energies(module, warehouse, tmp_path, test_models):
    bench = catalog.get_benchmark(KEY)
    landing = tmp_path / "landing"
    write_references(module.references(), bench, landing=landing)
    write_reactions(module.reactions(), bench, landing=landing)
    data = module._data()
    refs = {r.name: r for r in data.reactions}
    oxygen = refs["Pt36-O"].species[2][0]
    # errors: Pt (non-U) +0.3, W (U) −0.5, Mo (U) +0.1
    energies = {oxygen: -1.5}
    for name, error in (("Pt36-O", 0.3), ("W32-O", -0.5), ("Mo32-O", 0.1)):
        energies[f"{name}/slab"] = -100.0
        energies[f"{name}/adsorbed"] = -101.5 + refs[name].reference_ev + error
    rows = [prediction(n, "species", data.structures[n], e) for n, e in energies.items()]
    predictions_part(landing, rows, model="model-a", benchmark=KEY)
    with writer(warehouse) as con:
        assert not ingest(con, [landing]).rejected
        metrics = dict(con.execute(f"select metric_key, value from {KEY}.metrics").fetchall())
        score = con.execute(
            f"select score from benchmark_scores where benchmark_key = '{KEY}'"
        ).fetchone()[0]
        assert assert_declared_checks(con, KEY) == 3
    assert metrics == pytest.approx({"MAE": 0.3, "U MAE": 0.3, "non-U MAE": 0.3})
    assert score == pytest.approx((2.0 - 0.3) / 1.9)  # the subset MAEs weigh nothing


def _rezip(path, files: dict[str, str]) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("__MACOSX/elemental_slab_oxygen_adsorption_pbe/._Pt36-O.xyz", b"\x00")
        for name, text in files.items():
            archive.writestr(name, text)


def test_bad_input(module, tmp_path):
    text = _archive(module)["elemental_slab_oxygen_adsorption_pbe/Pt36-O.xyz"]
    lines = text.splitlines(keepends=True)
    no_atom = tmp_path / "no_atom.zip"
    _rezip(no_atom, {"d/Pt36-O.xyz": "".join(lines[: 2 + 36 + 2 + 37])})
    with pytest.raises(DataError, match=r"Pt36-O\.xyz: expected slab, slab \+ O and O atom"):
        module.load(no_atom)
    no_energy = tmp_path / "no_energy.zip"
    _rezip(no_energy, {"d/Pt36-O.xyz": text.replace("ref_energy=", "energy_x=")})
    with pytest.raises(DataError, match="a frame has no ref_energy"):
        module.load(no_energy)
    garbled = tmp_path / "garbled.zip"
    _rezip(garbled, {"d/Pt36-O.xyz": "36\nnot an extxyz comment\nPt 0 0\n"})
    with pytest.raises(DataError, match="does not parse"):
        module.load(garbled)
    empty = tmp_path / "empty.zip"
    _rezip(empty, {})
    with pytest.raises(DataError, match=r"holds no \.xyz slab file"):
        module.load(empty)
