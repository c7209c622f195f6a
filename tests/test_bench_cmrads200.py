"""CMRAds200: species and reactions from CMR.zip, a reference by hand, views on fixtures."""

from __future__ import annotations

import csv
import io
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
    return catalog.get_benchmark("CMRAds200").calc_module()


def _raw(module) -> tuple[str, list[dict[str, str]]]:
    with zipfile.ZipFile(fetch(module.FILES[module.ARCHIVE])) as archive:
        structures = archive.read(module.STRUCTURES).decode()
        rows = list(csv.DictReader(io.StringIO(archive.read(module.REACTIONS).decode())))
    return structures, rows


def test_loader_counts_equal_the_source(module):
    structures, rows = _raw(module)
    data = module._data()
    assert len(rows) == 200 == len(data.reactions)
    assert structures.count("sys_formula=") == 232 == len(data.structures)
    assert len(module.tasks(full=True)) == 232
    quick = module.tasks()
    assert len(quick) == 52  # 5 metals × (1 slab + 8 adsorbed) + 7 gas molecules
    assert {r.subset for r in data.reactions} == {"H", "O", "N", "OH", "CH", "CO", "NO", "N2"}
    assert data.structures["O2"].info["spin"] == 3 and data.structures["NO"].info["spin"] == 2
    assert "spin" not in data.structures["Pt3"].info


def test_reference_recomputed_from_the_raw_csv(module):
    _, rows = _raw(module)
    row = next(r for r in rows if r[""] == "CH-Pt")
    refs = {r.system: r.value for r in module.references()}
    assert refs["CH-Pt"] == float(row["PBE_ads"])
    assert refs["CH-Pt"] == pytest.approx(3.844774, abs=1e-6)
    reaction = next(r for r in module.reactions() if r.name == "CH-Pt")
    assert reaction.species == (("Pt3CH", 1.0), ("H2", 1.5), ("CH4", -1.0), ("Pt3", -1.0))


def test_views_on_hand_made_energies(module, warehouse, tmp_path, test_models):
    bench = catalog.get_benchmark("CMRAds200")
    landing = tmp_path / "landing"
    write_references(module.references(), bench, landing=landing)
    write_reactions(module.reactions(), bench, landing=landing)
    data = module._data()
    refs = {r.system: r.value for r in module.references()}
    # H-Pt = E(Pt3H) − ½ E(H2) − E(Pt3); CH-Pt = E(Pt3CH) + 3/2 E(H2) − E(CH4) − E(Pt3)
    energies = {"Pt3": -18.0, "H2": -6.8, "CH4": -24.0}
    energies["Pt3H"] = -18.0 - 3.4 + refs["H-Pt"] + 0.25  # error +0.25
    energies["Pt3CH"] = -18.0 - 24.0 + 1.5 * 6.8 + refs["CH-Pt"] - 0.15  # error −0.15
    rows = [prediction(n, "species", data.structures[n], e) for n, e in energies.items()]
    predictions_part(landing, rows, model="model-a", benchmark="CMRAds200")
    with writer(warehouse) as con:
        assert not ingest(con, [landing]).rejected
        errors = dict(con.execute("select system, pred - ref from cmrads200.points").fetchall())
        (mae,) = con.execute("select value from cmrads200.metrics").fetchone()
        assert assert_declared_checks(con, "CMRAds200") == 2
    assert errors == pytest.approx({"H-Pt": 0.25, "CH-Pt": -0.15})
    assert mae == pytest.approx(0.2)


def _rezip(path, module, *, structures: str | None = None, reactions: str | None = None):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("__MACOSX/._CMR.zip", b"junk")
        archive.writestr(module.STRUCTURES, structures or _raw(module)[0])
        if reactions is not None:
            archive.writestr(module.REACTIONS, reactions)


def test_bad_input(module, tmp_path):
    structures, _ = _raw(module)
    with zipfile.ZipFile(fetch(module.FILES[module.ARCHIVE])) as archive:
        reactions = archive.read(module.REACTIONS).decode()
    no_csv = tmp_path / "no_csv.zip"
    _rezip(no_csv, module)
    with pytest.raises(DataError, match=r"has no member 'reactions_dict\.csv'"):
        module.load(no_csv)
    # a reaction that names a species with no structure (the Pt slab removed)
    start = structures.index("sys_formula=Pt3 ")
    frame_start = structures.rindex("\n", 0, structures.rindex("\n", 0, start)) + 1
    frame_end = frame_start
    for _ in range(2 + 3):  # count line, comment, three Pt atoms
        frame_end = structures.index("\n", frame_end) + 1
    no_slab = tmp_path / "no_slab.zip"
    _rezip(
        no_slab,
        module,
        structures=structures[:frame_start] + structures[frame_end:],
        reactions=reactions,
    )
    with pytest.raises(DataError, match=r"No structure for species.*Pt3"):
        module.load(no_slab)
    # a row whose species and coefficients differ in number
    broken = reactions.replace('"Pt3CH,H2,CH4,Pt3","1,1.5,-1,-1"', '"Pt3CH,H2,CH4,Pt3","1,1.5,-1"')
    mismatch = tmp_path / "mismatch.zip"
    _rezip(mismatch, module, reactions=broken)
    with pytest.raises(DataError, match="row 'CH-Pt' has 4 species and 3 coefficients"):
        module.load(mismatch)
