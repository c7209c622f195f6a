"""GSCDB138_field (electric_field): applied fields, models that cannot take one, and the views."""

from __future__ import annotations

import numpy as np
import pytest
from ase.build import molecule
from ase.units import Bohr, Hartree
from conftest import MIRROR, TEST_MODELS
from helpers import prediction, predictions_part
from source_helpers import fake_source
from test_reactions_views import check_violations

from mlpeg import catalog
from mlpeg.calc.runner import run_tasks, write_references
from mlpeg.calc.tasks import SinglePoint, Task
from mlpeg.errors import DataError
from mlpeg.gscdb_fields import load_field_sets, parse_field, read_species
from mlpeg.models import registry
from mlpeg.reactions import KCAL_PER_MOL, write_reactions
from mlpeg.structures import structure_hash
from mlpeg.warehouse.connect import writer
from mlpeg.warehouse.ingest import ingest

pytestmark = pytest.mark.skipif(not MIRROR.is_dir(), reason="no data mirror")

#: Reactions per data set in DatasetEval.xlsx (sheet "new").
SOURCE = {"Dip146": 190, "HR46": 128, "OEEF": 136, "Pol130": 296, "T144": 421, "V30": 275}


@pytest.fixture(scope="module")
def module():
    return catalog.get_benchmark("GSCDB138_field").calc_module()


def test_loader_counts_equal_the_workbook(module):
    loaded = module.load()
    counts: dict[str, int] = {}
    for reaction in loaded.data.reactions:
        counts[reaction.subset] = counts.get(reaction.subset, 0) + 1
    excluded = {name: name.split("_")[0] for name in loaded.excluded}
    assert sorted(excluded) == [f"Pol130_{i}" for i in (100, 113, 114, 115, 98, 99)]
    for dataset, n in SOURCE.items():
        assert counts[dataset] + sum(v == dataset for v in excluded.values()) == n
    assert len(module.tasks()) == 130 and len(module.tasks(full=True)) == 3110


def test_dip146_first_reaction_by_hand(module):
    """Dip146_1 = E(AlF2, +0.0001 a.u. along Z) − E(AlF2, −0.0001 a.u.): −0.000115904 Eh."""
    data = module.load().data
    reaction = next(r for r in data.reactions if r.name == "Dip146_1")
    assert reaction.species == (("Dip146_AlF2+", 1.0), ("Dip146_AlF2-", -1.0))
    assert reaction.reference_ev == pytest.approx(-0.000115904 * Hartree)
    plus, minus = (data.structures[name].info["external_field"] for name, _ in reaction.species)
    np.testing.assert_allclose(plus, [0, 0, 0.0001 * Hartree / Bohr])  # 0.00514 V/Å
    np.testing.assert_allclose(minus, -plus)
    assert structure_hash(data.structures["Dip146_AlF2+"]) != structure_hash(
        data.structures["Dip146_AlF2-"]
    )  # the same geometry in opposite fields: two structures


def test_field_keys_in_either_case_and_atoms_without_coordinates():
    assert parse_field("multipole_field={'x': 0.01, 'y': 0, 'z': -0.02}, a=1", source="f") == (
        pytest.approx(np.array([0.01, 0.0, -0.02]) * Hartree / Bohr)
    )
    assert not parse_field("charge=0, multiplicity=1", source="f").any()
    atom = read_species("1\ncharge=0, multiplicity=2, multipole_field={'X': 0.01}\nH\n", source="f")
    assert atom.positions.tolist() == [[0.0, 0.0, 0.0]] and atom.info["spin"] == 2
    with pytest.raises(DataError, match="cannot read multipole_field"):
        parse_field("multipole_field={'W': 1}", source="f")


# ------------------------------------------------ models without a field: unsupported


FIELD_MODELS = (
    TEST_MODELS
    + "field-mock: {family: mock, checkpoint: zeros, external_field: true, "
    + "trained_on_dispersion: true}\n"
)


def test_a_model_without_field_support_records_unsupported(tmp_path, monkeypatch):
    (tmp_path / "models.yml").write_text(FIELD_MODELS)
    monkeypatch.setenv("MLPEG_MODELS", str(tmp_path / "models.yml"))
    registry.clear_cache()
    water = molecule("H2O")
    in_field = water.copy()
    in_field.info["external_field"] = np.array([0.0, 0.0, 0.5])
    tasks = [
        Task("plain", "species", water, SinglePoint(("energy",))),
        Task("field", "species", in_field, SinglePoint(("energy",))),
    ]
    bench = catalog.get_benchmark("GSCDB138_field")
    states = {}
    for name in ("model-a", "field-mock"):
        summary = run_tasks(tasks, registry.get_model(name), bench, landing=tmp_path / name)
        states[name] = (summary.n_ok, summary.n_unsupported)
    assert states == {"model-a": (1, 1), "field-mock": (2, 0)}
    reason = registry.get_model("model-a").unsupported_reason(in_field)
    assert reason == "model-a does not take an external electric field"
    zero = water.copy()  # a declared zero field is still a field calculation (a reference)
    zero.info["external_field"] = [0.0, 0.0, 0.0]
    assert registry.get_model("model-a").unsupported_reason(zero) == reason
    assert registry.get_model("field-mock").unsupported_reason(zero) is None
    assert structure_hash(zero) == structure_hash(water)  # but the same structure
    registry.clear_cache()


@pytest.fixture(scope="module")
def hand_made(tmp_path_factory, module):
    root = tmp_path_factory.mktemp("field")
    (root / "models.yml").write_text(FIELD_MODELS)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLPEG_MODELS", str(root / "models.yml"))
        registry.clear_cache()
        bench = catalog.get_benchmark("GSCDB138_field")
        landing = root / "landing"
        write_references(module.references(), bench, landing=landing)
        write_reactions(module.reactions(), bench, landing=landing)
        atoms = module.load().data.structures
        # V30_1 = E(+) + E(−) − 2 E(0): −9.998 − 9.996 + 20 = 0.006 eV
        # Dip146_1 = E(+F) − E(−F): −20.0 + 20.001 = 0.001 eV
        energies = {
            "V30_CO2_Ar_1+": -9.998,
            "V30_CO2_Ar_1-": -9.996,
            "V30_CO2_Ar": -10.0,
            "Dip146_AlF2+": -20.0,
            "Dip146_AlF2-": -20.001,
        }
        field_rows = [prediction(n, "species", atoms[n], e) for n, e in energies.items()]
        predictions_part(
            landing, field_rows, model="field-mock", benchmark="GSCDB138_field", run_id="f"
        )
        blind_rows = [  # every species carries a field (zero included): all unsupported
            prediction(n, "species", atoms[n], None, state="unsupported") for n in energies
        ]
        predictions_part(
            landing, blind_rows, model="model-a", benchmark="GSCDB138_field", run_id="b"
        )
        with writer(root / "wh" / "mlpeg.duckdb", publish=False) as con:
            assert not ingest(con, [landing]).rejected
            points = {
                r[:2]: r[2:]
                for r in con.execute(
                    "select model_key, system, pred, ref, state from gscdb138_field.points"
                ).fetchall()
            }
            metrics = {
                r[:2]: r[2]
                for r in con.execute(
                    "select model_key, metric_key, value from gscdb138_field.metrics"
                ).fetchall()
            }
            checks = check_violations(con, "GSCDB138_field")
        registry.clear_cache()
    return points, metrics, checks


def test_views_by_hand(hand_made, module):
    points, metrics, checks = hand_made
    refs = {r.name: r.reference_ev for r in module.reactions()}
    assert refs["V30_1"] == pytest.approx(2.67587e-08 * Hartree)
    field = {system: v for (model, system), v in points.items() if model == "field-mock"}
    assert field["V30_1"][:2] == (
        pytest.approx(0.006 / KCAL_PER_MOL),
        pytest.approx(refs["V30_1"] / KCAL_PER_MOL),
    )
    assert field["Dip146_1"][0] == pytest.approx(0.001 / KCAL_PER_MOL)
    assert metrics["field-mock", "V30 MAE"] == pytest.approx(
        abs(0.006 - refs["V30_1"]) / KCAL_PER_MOL
    )
    assert metrics["field-mock", "Dip146 MAE"] == pytest.approx(
        abs(0.001 - refs["Dip146_1"]) / KCAL_PER_MOL
    )
    blind = {system: v for (model, system), v in points.items() if model == "model-a"}
    assert {v[2] for v in blind.values()} == {"unsupported"}
    assert all(v[0] is None for v in blind.values())
    assert metrics["model-a", "V30 MAE"] is None  # unsupported, never a zero
    assert metrics["model-a", "Dip146 MAE"] is None
    for expression, failing, duplicated in checks:
        assert (failing, duplicated) == (0, 0), expression


# ------------------------------------------------------------------------------ bad input


def _workbook(rows) -> bytes:
    import io

    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "new"
    sheet.append(["Reaction", "Dataset", "Reference", "Stoichiometry"])
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


PLUS = "1\ncharge=0, multiplicity=2, multipole_field={'Z': 0.001}\nH 0 0 0\n"
MINUS = PLUS.replace("0.001", "-0.001")


def _source(tmp_path, monkeypatch, rows, files=None):
    files = {"xyz_files/X1_H+.xyz": PLUS, "xyz_files/X1_H-.xyz": MINUS} if files is None else files
    return fake_source(tmp_path, monkeypatch, {"Info/DatasetEval.xlsx": _workbook(rows), **files})


def test_a_small_source_loads(tmp_path, monkeypatch):
    manifest = _source(tmp_path, monkeypatch, [("X1_1", "X1", -1e-4, "1,X1_H+,-1,X1_H-")])
    loaded = load_field_sets(manifest, ["X1"], level_of_theory="t", source="t")
    assert loaded.data.reactions[0].reference_ev == pytest.approx(-1e-4 * Hartree)


@pytest.mark.parametrize(
    ("rows", "files", "message"),
    [
        ([("X1_1", "X1", -1e-4, "1,X1_H+,-1,X1_H0")], None, "uses X1_H0, which has no"),
        ([("X1_1", "X1", -1e-4, "1,X1_H+")], None, r"1 xyz files are used by no reaction"),
        ([("X1_1", "X1", "n/a", "1,X1_H+,-1,X1_H-")], None, r"row 2: cannot read reaction"),
        ([("X1_1", "X1", -1e-4, "1,X1_H+,-1")], None, r"row 2: cannot read reaction"),
        ([("Y_1", "Y", -1e-4, "1,X1_H+,-1,X1_H-")], None, "no reaction of data set X1"),
        (
            [("X1_1", "X1", -1e-4, "1,X1_H+,-1,X1_H-")],
            {"xyz_files/X1_H+.xyz": PLUS, "xyz_files/X1_H-.xyz": "1\nc\nH 0 zero 0\n"},
            "cannot read atom line",
        ),
    ],
)
def test_bad_sources_give_one_clear_error(tmp_path, monkeypatch, rows, files, message):
    manifest = _source(tmp_path, monkeypatch, rows, files)
    with pytest.raises(DataError, match=message):
        load_field_sets(manifest, ["X1"], level_of_theory="t", source="t")


def test_an_unreadable_workbook(tmp_path, monkeypatch):
    manifest = fake_source(tmp_path, monkeypatch, {"Info/DatasetEval.xlsx": b"not a zip"})
    with pytest.raises(DataError, match=r"Cannot read Info/DatasetEval\.xlsx"):
        load_field_sets(manifest, ["X1"], level_of_theory="t", source="t")
