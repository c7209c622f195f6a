"""Reaction-energy views in SQL against hand calculations.

Stoichiometry reaches the warehouse as a `reactions` part keyed by (benchmark, reaction,
species); the shared macros in sql/macros_reactions.sql form Σ coefficient × E(species).
Every expected number below is arithmetic on energies written in the test.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from ase import Atoms
from ase.build import molecule
from ase.units import kcal, kJ, mol
from conftest import MIRROR, TEST_MODELS
from helpers import prediction, predictions_part, references_part

from mlpeg import catalog
from mlpeg.calc.runner import run_tasks, write_references
from mlpeg.enums import PartKind
from mlpeg.landing import write_part
from mlpeg.models import registry
from mlpeg.paths import SQL_DIR
from mlpeg.reactions import (
    Reaction,
    ReactionData,
    merge_identical_species,
    reaction_rows,
    write_reactions,
)
from mlpeg.warehouse.connect import writer
from mlpeg.warehouse.ingest import Outcome, ingest

KCAL = kcal / mol  # eV
MEV_PER_KJ = kJ / mol * 1000  # meV per kJ/mol


# ------------------------------------------- S22, GMTKN55, DMC-ICE13: one warehouse, real data


def s22_parts(landing: Path) -> None:
    """S22 with hand-made energies for four dimers of model-a."""
    bench = catalog.get_benchmark("S22")
    module = bench.calc_module()
    atoms = {task.system: task.atoms for task in module.tasks()}
    write_references(module.references(), bench, landing=landing)
    write_reactions(module.reactions(), bench, landing=landing)

    def rows(name, energies, states=("ok", "ok", "ok")):
        parts = ("dimer", "monomer_a", "monomer_b")
        return [
            prediction(f"{name}/{p}", "species", atoms[f"{name}/{p}"], e, state=s)
            for p, e, s in zip(parts, energies, states, strict=False)
        ]

    predictions_part(
        landing,
        # E_int = −10 − (−4.9) − (−5.0) = −0.1 eV, and −20 + 9.95 + 10 = −0.05 eV
        rows("Ammonia_dimer", (-10.0, -4.9, -5.0))
        + rows("Water_dimer", (-20.0, -9.95, -10.0))
        # a failed monomer makes the dimer's point failed, outside every MAE
        + rows("Methane_dimer", (-8.0, None, -4.0), states=("ok", "failed", "ok"))
        # a missing monomer means the reaction was not run: no point at all
        + rows("Ethene_dimer", (-8.0, -4.0)),
        model="model-a",
        benchmark="S22",
        run_id="s22-run",
    )


#: GMTKN55 by hand: W4-11 (|ref| 100 and 300, mean 200), S22 (|ref| 4 and 6, mean 5).
GMTKN55_REFS = {"W4-11/w1": 100.0, "W4-11/w2": -300.0, "S22/s1": -4.0, "S22/s2": -6.0}
GMTKN55_PREDS = {"W4-11/w1": 110.0, "W4-11/w2": -290.0, "S22/s1": -5.0, "S22/s2": None}


def gmtkn55_parts(landing: Path) -> None:
    """Four one-species reactions in two subsets, in kcal/mol; S22/s2's species failed."""
    bench = catalog.get_benchmark("GMTKN55")
    rows = [(n, "reaction_energy", v * KCAL) for n, v in GMTKN55_REFS.items()]
    references_part(landing, "GMTKN55", rows)
    reactions = [
        Reaction(n, ((n, 1.0),), v * KCAL, n.split("/")[0]) for n, v in GMTKN55_REFS.items()
    ]
    write_reactions(reactions, bench, landing=landing)
    atoms = molecule("CH4")
    rows = [
        prediction(n, "species", atoms, None if e is None else e * KCAL,
                   state="ok" if e is not None else "failed")
        for n, e in GMTKN55_PREDS.items()
    ]  # fmt: skip
    predictions_part(landing, rows, model="model-a", benchmark="GMTKN55", run_id="gmtkn55-run")


def ice13_parts(landing: Path) -> dict[str, int]:
    """Ice Ih −120 eV and II −119.4 eV (12 molecules each), water −9.5 eV."""
    bench = catalog.get_benchmark("DMC_ICE13")
    module = bench.calc_module()
    atoms = {task.system: task.atoms for task in module.tasks()}
    write_references(module.references(), bench, landing=landing)
    write_reactions(module.reactions(), bench, landing=landing)
    rows = [
        prediction("Ih", "species", atoms["Ih"], -120.0),
        prediction("II", "species", atoms["II"], -119.4),
        prediction("water", "species", atoms["water"], -9.5),
    ]
    predictions_part(landing, rows, model="model-a", benchmark="DMC_ICE13", run_id="ice13-run")
    return {name: len(atoms[name]) for name in ("Ih", "II", "water")}


QUERIES = {
    "s22_points": "select system, pred, ref, state, subset from s22.points",
    "s22_metrics": "select metric_key, value from s22.metrics",
    "s22_score": "select metric_key, score from metric_scores "
    "where benchmark_key = 'S22' and model_key = 'model-a'",
    "gmtkn55_metrics": "select metric_key, value from gmtkn55.metrics",
    "gmtkn55_weights": "select system, weight from gmtkn55.points",
    "gmtkn55_states": "select metric_key, state from metric_scores "
    "where benchmark_key = 'GMTKN55' and model_key = 'model-a'",
    "ice13_points": "select system, pred, ref, quantity from dmc_ice13.points",
    "ice13_metrics": "select metric_key, value from dmc_ice13.metrics",
    # a reaction's elements are those of its species (errors per element)
    "s22_elements": "select system, list(distinct element order by element), "
    "count(distinct relative_error) from point_element_errors where benchmark_key = 'S22' "
    "group by system",
}


CHECKED = ("S22", "GMTKN55", "DMC_ICE13")


def check_violations(con, key: str) -> list[tuple[str, int, int]]:
    """Rows breaking each `checks` entry of a benchmark.yml: (expression, failing, duplicated)."""
    bench = catalog.get_benchmark(key)
    found = []
    for check in bench.checks:
        view = f"{bench.schema_name}.{check['view']}"
        where = f"where not ({check['expression']})"
        failing = con.execute(f"select count(*) from {view} {where}").fetchone()[0]
        keys = ", ".join(check.get("unique", [])) or "1"
        duplicated = con.execute(
            f"select count(*) from (select {keys} from {view} group by all having count(*) > 1)"
        ).fetchone()[0]
        found.append((check["expression"], failing, duplicated))
    return found


@pytest.fixture(scope="module")
def hand_made(tmp_path_factory) -> dict:
    """Ingest the three benchmarks' hand-made parts into one warehouse; query it once."""
    root = tmp_path_factory.mktemp("reactions")
    models = root / "models.yml"
    models.write_text(TEST_MODELS)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLPEG_DATA_MIRROR", str(MIRROR))
        patch.setenv("MLPEG_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))
        patch.setenv("MLPEG_MODELS", str(models))
        registry.clear_cache()
        landing = root / "landing"
        s22_parts(landing)
        gmtkn55_parts(landing)
        sizes = ice13_parts(landing)
        with writer(root / "wh" / "mlpeg.duckdb", publish=False) as con:
            report = ingest(con, [landing])
            results = {k: con.execute(q).fetchall() for k, q in QUERIES.items()}
            results["checks"] = {key: check_violations(con, key) for key in CHECKED}
        registry.clear_cache()
    assert not report.rejected, [r.message for r in report.rejected]
    return {**results, "sizes": sizes}


def test_s22_points_and_maes_by_hand(hand_made):
    refs = {r.system: r.value for r in catalog.get_benchmark("S22").calc_module().references()}
    points = {r[0]: r[1:] for r in hand_made["s22_points"]}
    metrics = dict(hand_made["s22_metrics"])
    assert set(points) == {"Ammonia_dimer", "Water_dimer", "Methane_dimer"}
    assert points["Ammonia_dimer"][0] == pytest.approx(-0.1 / KCAL)
    assert points["Ammonia_dimer"][1] == pytest.approx(-0.1375 / KCAL)  # ASE's S22 value
    assert points["Water_dimer"][0] == pytest.approx(-0.05 / KCAL)
    assert points["Methane_dimer"][0] is None and points["Methane_dimer"][2] == "failed"
    assert points["Methane_dimer"][3] == "dispersion"
    errors = [abs(-0.1 - refs["Ammonia_dimer"]), abs(-0.05 - refs["Water_dimer"])]
    mae = sum(errors) / 2 / KCAL
    assert metrics["MAE"] == pytest.approx(mae)
    assert metrics["hydrogen bonds MAE"] == pytest.approx(mae)
    assert metrics["dispersion MAE"] is None  # its only point failed
    score = dict(hand_made["s22_score"])["MAE"]
    assert score == pytest.approx((mae - 20.0) / (0.5 - 20.0))
    # the failed Methane_dimer has no error; each ok point one relative error
    elements = {system: (found, n) for system, found, n in hand_made["s22_elements"]}
    assert elements == {"Ammonia_dimer": (["H", "N"], 1), "Water_dimer": (["H", "O"], 1)}


def test_gmtkn55_wtmad2_by_hand(hand_made):
    """Weights 56.84/200 = 0.2842 (W4-11) and 56.84/5 = 11.368 (S22); the failed S22/s2
    still counts in its subset's mean |ref|. Errors 10, 10 and 1 kcal/mol:
    WTMAD-2 = (0.2842·10 + 0.2842·10 + 11.368·1) / 3 = 5.684.
    """
    metrics = dict(hand_made["gmtkn55_metrics"])
    weights = dict(hand_made["gmtkn55_weights"])
    assert weights["W4-11/w1"] == pytest.approx(0.2842)
    assert weights["S22/s2"] == pytest.approx(11.368)
    assert metrics["WTMAD"] == pytest.approx(5.684)
    assert metrics["Small systems"] == pytest.approx(2.842)
    assert metrics["Intermolecular NCIs"] == pytest.approx(11.368)
    states = dict(hand_made["gmtkn55_states"])
    assert states["WTMAD"] == states["Small systems"] == "ok"
    assert states["Barrier heights"] == "not_run"  # no reaction of that subgroup was computed


def test_ice13_absolute_and_relative_lattice_energies_by_hand(hand_made):
    assert hand_made["sizes"] == {"Ih": 36, "II": 36, "water": 3}  # 12 molecules per cell
    points = {r[0]: r[1:] for r in hand_made["ice13_points"]}
    metrics = dict(hand_made["ice13_metrics"])
    assert set(points) == {"Ih", "II", "II-Ih"}  # other phases were not run
    # Ih: −120/12 + 9.5 = −0.5 eV; II: −119.4/12 + 9.5 = −0.45 eV; II − Ih = +0.05 eV
    assert points["Ih"][0] == pytest.approx(-500.0)
    assert points["II"][0] == pytest.approx(-450.0)
    assert points["II-Ih"][0] == pytest.approx(50.0)
    # DMC (Paderborn CSVs): Ih −59.45, II −59.14 kJ/mol; II relative to Ih +0.31 kJ/mol
    assert points["Ih"][1] == pytest.approx(-59.45 * MEV_PER_KJ)
    assert points["II-Ih"][1] == pytest.approx(0.31 * MEV_PER_KJ)
    assert points["II-Ih"][2] == "relative_lattice_energy"
    expected = (abs(-500 + 59.45 * MEV_PER_KJ) + abs(-450 + 59.14 * MEV_PER_KJ)) / 2
    assert metrics["MAE"] == pytest.approx(expected)
    assert metrics["Relative MAE"] == pytest.approx(abs(50 - 0.31 * MEV_PER_KJ))


def test_benchmark_yml_checks_hold_on_the_hand_made_points(hand_made):
    for key, found in hand_made["checks"].items():
        assert found, f"{key} declares no checks"
        for expression, failing, duplicated in found:
            assert (failing, duplicated) == (0, 0), f"{key}: {expression}"


# ------------------------------------------------------ a toy benchmark through the runner

TOY_VIEWS = """
create schema if not exists toy;
-- grain: one row per (model, reaction)
create or replace view toy.points as
select * from reaction_points_kcal_per_mol('Toy', 'reaction_energy');
-- grain: one row per (model, metric)
create or replace view toy.metrics as
select model_key, 'MAE' as metric_key, ok_mae(pred, ref, state) as value
from toy.points group by model_key;
"""
TOY_YML = """key: Toy
title: Toy
category: toys
description: two reactions sharing species
level_of_theory: test
cost: quick
metrics:
  - {key: MAE, unit: kcal/mol, good: 0.0, bad: 10.0, weight: 1}
"""


def toy_data() -> ReactionData:
    water, ammonia = molecule("H2O"), molecule("NH3")
    water_copy = water.copy()  # the same structure under another name
    pair = water + ammonia
    for atoms in (water, ammonia, water_copy, pair):
        atoms.info.update(charge=0, spin=1)
    reactions = [
        Reaction("bind", (("pair", 1.0), ("water", -1.0), ("ammonia", -1.0)), -0.2),
        Reaction("swap", (("water_copy", 1.0), ("ammonia", -1.0)), 0.1),
        Reaction("nothing", (("water", 1.0), ("water_copy", -1.0)), 0.05),
    ]
    structures = {"water": water, "ammonia": ammonia, "water_copy": water_copy, "pair": pair}
    return ReactionData(reactions, structures, "reaction_energy", "test", "test")


def test_identical_structures_are_computed_once():
    data = merge_identical_species(toy_data())
    assert [t.system for t in data.tasks()] == ["pair", "water", "ammonia"]
    assert all(t.role == "species" and t.kind.properties == ("energy",) for t in data.tasks())
    by_name = {r.name: r.species for r in data.reactions}
    assert by_name["swap"] == (("water", 1.0), ("ammonia", -1.0))
    assert by_name["nothing"] == (("water", 0.0),)  # water − water: coefficients summed


def test_toy_benchmark_through_runner_ingest_and_views(tmp_path, monkeypatch, test_models):
    root = tmp_path / "benchmarks"
    (root / "toys" / "Toy").mkdir(parents=True)
    (root / "toys" / "category.yml").write_text("key: toys\ntitle: Toys\nweight: 1\n")
    (root / "toys" / "Toy" / "benchmark.yml").write_text(TOY_YML)
    (root / "toys" / "Toy" / "views.sql").write_text(TOY_VIEWS)
    (root / "toys" / "Toy" / "calc.py").write_text("")
    monkeypatch.setenv("MLPEG_BENCHMARKS", str(root))
    catalog.clear_cache()
    bench = catalog.get_benchmark("Toy")
    data = merge_identical_species(toy_data())
    landing = tmp_path / "landing"
    write_references(data.references(), bench, landing=landing)
    write_reactions(data.reactions, bench, landing=landing)
    summary = run_tasks(data.tasks(), registry.get_model("model-a"), bench, landing=landing)
    assert summary.n_ok == 3  # pair, water, ammonia: water_copy is not computed again
    with writer(tmp_path / "wh" / "mlpeg.duckdb", publish=False) as con:
        assert not ingest(con, [landing]).rejected
        points = dict(con.execute("select system, pred from toy.points").fetchall())
        mae = con.execute("select value from toy.metrics").fetchone()[0]
        n_species = con.execute("select count(*) from reaction_species").fetchone()[0]
        info = con.execute(
            "select info->>'charge', info->>'spin' from structures where n_atoms = 7"
        ).fetchall()
    # the mock model predicts 0 eV for everything, so every reaction energy is 0
    assert points == {"bind": 0.0, "swap": 0.0, "nothing": 0.0}
    assert mae == pytest.approx((0.2 + 0.1 + 0.05) / 3 / KCAL)
    assert n_species == 3 + 2 + 1
    assert info == [("0", "1")]  # charge and spin reach the stored structure


# ------------------------------------------------------------------ reactions parts, ingest


def _reactions_part(folder: Path, rows: list[dict], name: str = "S22__reactions") -> Path:
    table = pa.Table.from_pylist(rows, schema=reaction_rows([], "S22").schema)
    return write_part(table, kind=PartKind.REACTIONS, folder=folder, name=name)


def test_bad_reactions_parts_are_rejected_and_new_stoichiometry_replaces_old(warehouse, tmp_path):
    row = {"benchmark_key": "S22", "reaction": "r", "subset": None, "species": "a"}
    bad = {
        "twice": (
            [{**row, "coefficient": 1.0}] * 2,
            "(benchmark, reaction, species) appears twice",
        ),
        "nan": (
            [{**row, "coefficient": float("nan")}],
            "row 0, field 'coefficient': is not finite",
        ),
        "unknown": (
            [{**row, "benchmark_key": "NOPE", "coefficient": 1.0}],
            "unknown benchmark 'NOPE'",
        ),
        "subsets": (
            [{**row, "subset": "x", "coefficient": 1.0},
             {**row, "subset": "y", "species": "b", "coefficient": 1.0}],
            "more than one subset",
        ),
    }  # fmt: skip
    for name, (rows, _) in bad.items():
        _reactions_part(tmp_path / "landing", rows, name=f"bad_{name}")
    good = [{**row, "coefficient": 1.0}, {**row, "species": "b", "coefficient": -1.0}]
    _reactions_part(tmp_path / "landing", good, name="good")
    newer = _reactions_part(tmp_path / "newer", [{**row, "species": "c", "coefficient": 2.0}])
    query = "select reaction, species, coefficient from reaction_species order by all"
    with writer(warehouse, publish=False) as con:
        report = ingest(con, [tmp_path / "landing"])
        stored = con.execute(query).fetchall()
        ingest(con, [newer])
        replaced = con.execute(query).fetchall()
    outcomes = {r.path.stem: r for r in report.results}
    for name, (_, message) in bad.items():
        result = outcomes[f"bad_{name}"]
        assert result.outcome == Outcome.REJECTED and message in result.message, result.message
        assert f"bad_{name}.parquet" in result.message
    assert outcomes["good"].outcome == Outcome.LOADED
    assert stored == [("r", "a", 1.0), ("r", "b", -1.0)]
    assert replaced == [("r", "c", 2.0)]  # a reaction's species rows are replaced together


def test_version_1_warehouse_migrates_and_keeps_its_parts(tmp_path):
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute((SQL_DIR / "migrations" / "001_initial.sql").read_text())
    con.execute("create table schema_info (version integer primary key, applied_at timestamptz)")
    con.execute("insert into schema_info values (1, now())")
    con.execute("insert into parts values ('abc', 'p.parquet', 10, 'references', null, 3, now())")
    con.close()
    with writer(path, publish=False) as con:
        kept = con.execute("select part_sha256, kind, n_rows from parts").fetchall()
        con.execute("insert into parts values ('def', 'r.parquet', 5, 'reactions', null, 1, now())")
        versions = [v for (v,) in con.execute("select version from schema_info").fetchall()]
    assert kept == [("abc", "references", 3)]
    assert versions[0] == 1 and 4 in versions


def test_atoms_info_charge_and_spin_survive_the_round_trip():
    from mlpeg.structures import atoms_to_row, row_to_atoms

    atoms = Atoms("H", positions=[[0, 0, 0]])
    atoms.info.update(charge=1, spin=2, multiplicity=2)
    back = row_to_atoms(atoms_to_row(atoms))
    assert (back.info["charge"], back.info["spin"], back.info["multiplicity"]) == (1, 2, 2)
