"""LNCI16: the real repository files, hand-computed references and views on hand-made energies."""

from __future__ import annotations

import pytest
from conftest import MIRROR, TEST_MODELS
from helpers import prediction, predictions_part
from source_helpers import fake_source
from test_reactions_views import check_violations

from mlpeg import catalog
from mlpeg.calc.runner import write_references
from mlpeg.errors import DataError
from mlpeg.models import registry
from mlpeg.reactions import KCAL_PER_MOL, write_reactions
from mlpeg.warehouse.connect import writer
from mlpeg.warehouse.ingest import ingest

pytestmark = pytest.mark.skipif(not MIRROR.is_dir(), reason="no data mirror")


@pytest.fixture(scope="module")
def module():
    return catalog.get_benchmark("LNCI16").calc_module()


def test_loader_reads_16_systems_with_charges_and_sizes(module):
    data = module.BENCHMARK.data
    assert len(data.reactions) == 16 and len(data.structures) == 48
    nylon = {name: len(atoms) for name, atoms in data.structures.items() if "Nylon" in name}
    assert nylon["Nylon/complex"] == 1988
    assert nylon["Nylon/host"] + nylon["Nylon/guest"] == 1988
    charges = {n: a.info["charge"] for n, a in data.structures.items() if a.info["charge"]}
    assert charges == {"TYK2/complex": 1, "TYK2/host": 1, "FXa/complex": -2, "FXa/host": -2}
    assert all(a.info["spin"] == 1 for a in data.structures.values())


def test_references_are_the_res_values_with_association_energies_for_tyk2_and_fxa(module):
    refs = {r.system: (r.value / KCAL_PER_MOL, r.quantity) for r in module.references()}
    assert refs["DNA"][0] == pytest.approx(-363.30)
    assert refs["Nylon"] == (pytest.approx(-566.23), "interaction_energy")
    # the .res values for the relaxed fragments, not ML-PEG's vertical −72.31 and −70.73
    assert refs["TYK2"] == (pytest.approx(-49.03), "association_energy")
    assert refs["FXa"] == (pytest.approx(-105.27), "association_energy")
    reaction = next(r for r in module.reactions() if r.name == "DNA")
    assert dict(reaction.species) == {"DNA/complex": 1.0, "DNA/guest": -1.0, "DNA/host": -1.0}


def test_quick_band_is_the_seven_systems_under_550_atoms(module):
    tasks = module.tasks()
    assert len(tasks) == 21
    assert max(len(t.atoms) for t in tasks) == 538  # 2xHB238
    assert len(module.tasks(full=True)) == 48


@pytest.fixture(scope="module")
def hand_made(tmp_path_factory, module):
    root = tmp_path_factory.mktemp("lnci16")
    (root / "models.yml").write_text(TEST_MODELS)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLPEG_MODELS", str(root / "models.yml"))
        registry.clear_cache()
        bench = catalog.get_benchmark("LNCI16")
        landing = root / "landing"
        write_references(module.references(), bench, landing=landing)
        write_reactions(module.reactions(), bench, landing=landing)
        atoms = module.BENCHMARK.data.structures
        rows = []
        # BNTube: −100 + 60 + 39.5 = −0.5 eV; FXa: −300 + 200 + 95 = −5 eV
        for system, (complex_, host, guest) in {
            "BNTube": (-100.0, -60.0, -39.5),
            "FXa": (-300.0, -200.0, -95.0),
        }.items():
            for part, energy in (("complex", complex_), ("host", host), ("guest", guest)):
                name = f"{system}/{part}"
                rows.append(prediction(name, "species", atoms[name], energy))
        predictions_part(landing, rows, model="model-a", benchmark="LNCI16")
        with writer(root / "wh" / "mlpeg.duckdb", publish=False) as con:
            assert not ingest(con, [landing]).rejected
            points = {
                r[0]: r[1:]
                for r in con.execute(
                    "select system, pred, ref, quantity from lnci16.points"
                ).fetchall()
            }
            mae = con.execute("select value from lnci16.metrics").fetchone()[0]
            checks = check_violations(con, "LNCI16")
        registry.clear_cache()
    return points, mae, checks


def test_views_by_hand(hand_made):
    points, mae, checks = hand_made
    assert set(points) == {"BNTube", "FXa"}
    assert points["BNTube"][:2] == (pytest.approx(-0.5 / KCAL_PER_MOL), pytest.approx(-14.32))
    assert points["FXa"] == (
        pytest.approx(-5.0 / KCAL_PER_MOL),
        pytest.approx(-105.27),
        "association_energy",
    )
    expected = (abs(-0.5 / KCAL_PER_MOL + 14.32) + abs(-5.0 / KCAL_PER_MOL + 105.27)) / 2
    assert mae == pytest.approx(expected)
    for expression, failing, duplicated in checks:
        assert (failing, duplicated) == (0, 0), expression


# ------------------------------------------------------------------------------ bad input

RES = "$tmer {A/complex,A/guest,A/host}/$f x 1 -1 -1 $w   -1.50\n"
WATER = "3\n\nO 0 0 0\nH 0.96 0 0\nH -0.24 0.93 0\n"
HE = "1\n\nHe 0 0 4\n"


def _files(**changes):
    files = {
        ".res": RES,
        "A/complex/struc.xyz": "4\n\nO 0 0 0\nH 0.96 0 0\nH -0.24 0.93 0\nHe 0 0 4\n",
        "A/complex/.CHRG": "0\n",
        "A/host/struc.xyz": WATER,
        "A/host/.CHRG": "0\n",
        "A/guest/struc.xyz": HE,
        "A/guest/.CHRG": "0\n",
    }
    files.update(changes)
    return {k: v for k, v in files.items() if v is not None}


def test_a_small_source_loads(tmp_path, monkeypatch, module):
    data = module.load_lnci16(fake_source(tmp_path, monkeypatch, _files()))
    assert data.reactions[0].reference_ev == pytest.approx(-1.5 * KCAL_PER_MOL)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"A/guest/.CHRG": None}, r"uses A/guest, which has no A/guest/\.CHRG"),
        ({"A/host/struc.xyz": None}, r"which has no A/host/struc\.xyz"),
        ({"B/host/struc.xyz": WATER}, "no .res line uses B/host"),
        ({".res": RES.replace("-1.50", "minus")}, r"\.res:1: cannot read"),
        ({".res": RES.replace("1 -1 -1", "1 -1")}, "3 folders, 2 coefficients"),
        ({"A/host/.CHRG": "one"}, r"A/host/\.CHRG: expected one integer"),
        ({"A/host/.CHRG": "1"}, "odd electron count"),
        ({"A/guest/struc.xyz": "1\n\nHe 0 zero 4\n"}, "cannot read atom line"),
    ],
)
def test_bad_sources_give_one_clear_error(tmp_path, monkeypatch, module, changes, message):
    manifest = fake_source(tmp_path, monkeypatch, _files(**changes))
    with pytest.raises(DataError, match=message):
        module.load_lnci16(manifest)
