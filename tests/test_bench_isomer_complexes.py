"""isomer_complexes (f_block): real files, multiplicity from .UHF, views on hand-made energies."""

from __future__ import annotations

import pytest
from ase.units import Hartree
from conftest import MIRROR, TEST_MODELS
from helpers import prediction, predictions_part
from source_helpers import fake_source
from test_reactions_views import check_violations

from mlpeg import catalog
from mlpeg.calc.runner import write_references
from mlpeg.errors import DataError
from mlpeg.models import registry
from mlpeg.reactions import KCAL_PER_MOL
from mlpeg.warehouse.connect import writer
from mlpeg.warehouse.ingest import ingest

pytestmark = pytest.mark.skipif(not MIRROR.is_dir(), reason="no data mirror")


@pytest.fixture(scope="module")
def module():
    return catalog.get_benchmark("isomer_complexes").calc_module()


def test_loader_counts_and_exclusions_equal_the_source(module):
    loaded = module.load()
    assert len(loaded.isomers) + len(loaded.excluded) == 29  # 29 iso* folders in the repo
    assert {name.split("/")[0] for name in loaded.excluded} == {"Ac_f1a50d", "Th_ff6372"}
    assert len({i.system for i in loaded.isomers}) == 7
    assert len(module.tasks()) == len(module.tasks(full=True)) == 22


def test_multiplicity_is_unpaired_electrons_plus_one(module):
    info = {i.name: i.atoms.info for i in module.load().isomers}
    assert info["Sm_ed79e8/iso1"] == {"charge": -1, "multiplicity": 6, "spin": 6}  # .UHF 5
    assert info["Nd_c5f44a/iso2"]["spin"] == 4  # .UHF 3, charge +3
    assert info["Lu_ff6372/iso1"]["spin"] == 1  # .UHF 0: a singlet, not ML-PEG's "0"


def test_reference_is_relative_to_the_lowest_isomer_by_hand(module):
    refs = {r.system: r.value for r in module.references()}
    # Ce_1d271a: iso1 −1926.862732270763, iso2 −1926.859225640716 Eh (orca.xyz comments)
    assert refs["Ce_1d271a/iso1"] == 0.0
    assert refs["Ce_1d271a/iso2"] == pytest.approx(
        (1926.862732270763 - 1926.859225640716) * Hartree
    )
    assert refs["Ce_1d271a/iso2"] / KCAL_PER_MOL == pytest.approx(2.2004, abs=1e-3)
    # Ce_ff6372's lowest is iso3 (−1774.277531535569)
    assert refs["Ce_ff6372/iso3"] == 0.0


@pytest.fixture(scope="module")
def hand_made(tmp_path_factory, module):
    root = tmp_path_factory.mktemp("isomers")
    (root / "models.yml").write_text(TEST_MODELS)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLPEG_MODELS", str(root / "models.yml"))
        registry.clear_cache()
        bench = catalog.get_benchmark("isomer_complexes")
        landing = root / "landing"
        write_references(module.references(), bench, landing=landing)
        atoms = {i.name: i.atoms for i in module.load().isomers}
        k = KCAL_PER_MOL
        energies = {  # model-a puts Ce_1d271a's iso3 lowest: relative 1, 3, 0 kcal/mol
            "Ce_1d271a/iso1": -100.0 + 1 * k,
            "Ce_1d271a/iso2": -100.0 + 3 * k,
            "Ce_1d271a/iso3": -100.0,
            # Eu_ff6372: iso2 failed, so both points are failed
            "Eu_ff6372/iso1": -50.0,
            "Eu_ff6372/iso2": None,
            # La_f1a50d: iso3 missing, so the system is not run (no points)
            "La_f1a50d/iso1": -10.0,
            "La_f1a50d/iso2": -10.0,
        }
        rows = [
            prediction(n, "isomer", atoms[n], e, state="ok" if e is not None else "failed")
            for n, e in energies.items()
        ]
        predictions_part(landing, rows, model="model-a", benchmark="isomer_complexes")
        with writer(root / "wh" / "mlpeg.duckdb", publish=False) as con:
            assert not ingest(con, [landing]).rejected
            points = {
                r[0]: r[1:]
                for r in con.execute(
                    "select system, pred, ref, state from isomer_complexes.points"
                ).fetchall()
            }
            mae = con.execute("select value from isomer_complexes.metrics").fetchone()[0]
            checks = check_violations(con, "isomer_complexes")
        registry.clear_cache()
    return points, mae, checks


def test_views_by_hand(hand_made, module):
    points, mae, checks = hand_made
    assert set(points) == {f"Ce_1d271a/iso{i}" for i in (1, 2, 3)} | {
        "Eu_ff6372/iso1",
        "Eu_ff6372/iso2",
    }
    refs = {r.system: r.value / KCAL_PER_MOL for r in module.references()}
    preds = {f"Ce_1d271a/iso{i}": p for i, p in ((1, 1.0), (2, 3.0), (3, 0.0))}
    for name, pred in preds.items():
        assert points[name][0] == pytest.approx(pred, abs=1e-9)
        assert points[name][1] == pytest.approx(refs[name])
    assert points["Eu_ff6372/iso1"][2] == points["Eu_ff6372/iso2"][2] == "failed"
    assert mae == pytest.approx(sum(abs(p - refs[n]) for n, p in preds.items()) / 3)
    for expression, failing, duplicated in checks:
        assert (failing, duplicated) == (0, 0), expression


# ------------------------------------------------------------------------------ bad input

XYZ = "3\nCoordinates from ORCA-job orca E -76.4\nO 0 0 0\nH 0.96 0 0\nH -0.24 0.93 0\n"


def _files(**changes):
    files = {}
    for iso in ("iso1", "iso2"):
        base = f"isomer_structures/W_1/{iso}"
        files |= {f"{base}/orca.xyz": XYZ, f"{base}/.CHRG": "0\n", f"{base}/.UHF": "0\n"}
    files.update({f"isomer_structures/W_1/{k}": v for k, v in changes.items()})
    return {k: v for k, v in files.items() if v is not None}


def test_a_small_source_loads(tmp_path, monkeypatch, module):
    loaded = module.load_isomers(fake_source(tmp_path, monkeypatch, _files()))
    assert [i.energy_ev for i in loaded.isomers] == [pytest.approx(-76.4 * Hartree)] * 2


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"iso2/.UHF": None}, "W_1/iso2 has no .UHF"),
        ({"iso2/.UHF": "1\n"}, r"1 unpaired electrons \(\.UHF\) is impossible with 10"),
        ({"iso2/.CHRG": "+x\n"}, r"iso2/\.CHRG: expected one integer"),
        ({"iso1/orca.xyz": XYZ.replace(" E -76.4", "")}, "expected '... E <energy in Eh>'"),
        ({"iso1/orca.xyz": XYZ.replace("H 0.96", "Q 0.96")}, "cannot read atom line"),
        (
            {"iso2/orca.xyz": None, "iso2/.CHRG": None, "iso2/.UHF": None},
            "W_1 has a single isomer",
        ),
    ],
)
def test_bad_sources_give_one_clear_error(tmp_path, monkeypatch, module, changes, message):
    manifest = fake_source(tmp_path, monkeypatch, _files(**changes))
    with pytest.raises(DataError, match=message):
        module.load_isomers(manifest)
