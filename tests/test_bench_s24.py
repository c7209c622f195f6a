"""S24: adsorption triplets from mlipx's zip, references by hand, views on fixture energies."""

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


@pytest.fixture
def module():
    return catalog.get_benchmark("S24").calc_module()


def _raw_frames(module) -> list[tuple[int, float]]:
    """(atom count, energy) of every frame, read from the zip's text without ASE."""
    with zipfile.ZipFile(fetch(module.FILES[module.ARCHIVE])) as archive:
        lines = archive.read(module.MEMBER).decode().splitlines()
    frames, i = [], 0
    while i < len(lines):
        n = int(lines[i])
        frames.append((n, float(re.search(r" energy=(\S+)", lines[i + 1])[1])))
        i += n + 2
    return frames


def test_loader_counts_equal_the_source(module):
    raw = _raw_frames(module)
    assert len(raw) == 72
    data = module._data()
    assert len(data.reactions) == 24
    assert len(data.structures) == 70  # two molecules shared between systems
    assert len(module.tasks(full=True)) == 70
    quick = module.tasks()
    assert len(quick) == 29 and max(len(t.atoms) for t in quick) <= 60
    assert {r.name[:3] for r in data.reactions} == {f"{i:03d}" for i in range(1, 25)}


def test_references_recomputed_from_the_raw_file(module):
    raw = _raw_frames(module)
    refs = {r.system: r.value for r in module.references()}
    # system 006, CO on Pt: frames 15, 16, 17 = surface, adsorbed, molecule
    (_, e_surface), (_, e_adsorbed), (_, e_molecule) = raw[15:18]
    assert refs["006 Pt54-CO"] == pytest.approx(e_adsorbed - e_surface - e_molecule, abs=1e-9)
    # system 017 holds four water molecules (128 + 4 × 3 = 140 atoms): four are subtracted
    (n_s, e_s), (n_a, e_a), (n_m, e_m) = raw[48:51]
    assert (n_s, n_a, n_m) == (128, 140, 3)
    assert refs["017 C40H24Al8N16O40-H2O"] == pytest.approx(e_a - e_s - 4 * e_m, abs=1e-9)
    assert refs["017 C40H24Al8N16O40-H2O"] == pytest.approx(-3.327, abs=1e-3)


def test_views_on_hand_made_energies(module, warehouse, tmp_path, test_models):
    bench = catalog.get_benchmark("S24")
    landing = tmp_path / "landing"
    write_references(module.references(), bench, landing=landing)
    write_reactions(module.reactions(), bench, landing=landing)
    data = module._data()
    refs = {r.name: r.reference_ev for r in data.reactions}
    # 006: E = −10 (surface), −1 (CO), adsorbed chosen so the error is +0.2 eV
    # 017: surface −50, water −3 (×4), adsorbed chosen so the error is −0.4 eV
    energies = {
        "006/surface": -10.0,
        "006/molecule": -1.0,
        "006/adsorbed": -11.0 + refs["006 Pt54-CO"] + 0.2,
        "017/surface": -50.0,
        "017/molecule": -3.0,
        "017/adsorbed": -62.0 + refs["017 C40H24Al8N16O40-H2O"] - 0.4,
    }
    rows = [
        prediction(name, "species", data.structures[name], energy)
        for name, energy in energies.items()
    ]
    predictions_part(landing, rows, model="model-a", benchmark="S24")
    with writer(warehouse) as con:
        assert not ingest(con, [landing]).rejected
        errors = dict(con.execute("select system, pred - ref from s24.points").fetchall())
        (mae,) = con.execute("select value from s24.metrics").fetchone()
        assert assert_declared_checks(con, "S24") == 2
    assert errors == pytest.approx({"006 Pt54-CO": 0.2, "017 C40H24Al8N16O40-H2O": -0.4})
    assert mae == pytest.approx(0.3)


def _zip_with(path, member: str, text: str) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("__MACOSX/._s24_data.extxyz", b"\x00\x05junk")
        archive.writestr(member, text)


def test_bad_input(module, tmp_path):
    with zipfile.ZipFile(fetch(module.FILES[module.ARCHIVE])) as archive:
        text = archive.read(module.MEMBER).decode()
    lines = text.splitlines(keepends=True)
    # stray macOS entries are ignored: the clean member still loads
    clean = tmp_path / "stray.zip"
    _zip_with(clean, module.MEMBER, text)
    assert len(module.load(clean).reactions) == 24
    # a missing member
    missing = tmp_path / "missing.zip"
    _zip_with(missing, "s24/other.extxyz", text)
    with pytest.raises(DataError, match=r"has no member 's24/s24_data\.extxyz'"):
        module.load(missing)
    # a frame count that is not whole triplets (the last molecule dropped)
    short = tmp_path / "short.zip"
    assert lines[-17].strip() == "15"  # the last frame is C5H10: 15 atoms, 2 header lines
    _zip_with(short, module.MEMBER, "".join(lines[:-17]))
    with pytest.raises(DataError, match="71 frames, not whole triplets"):
        module.load(short)
    # not a zip at all
    corrupt = tmp_path / "corrupt.zip"
    corrupt.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(DataError, match="Cannot read zip archive"):
        module.load(corrupt)
