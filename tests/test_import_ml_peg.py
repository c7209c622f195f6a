"""Importing ML-PEG X23 calc outputs: same MAE as ML-PEG's formula, idempotent, clear skips.

Trees are written the way ML-PEG's calc_X23.py writes them (real X23 structures from the
data mirror, ``ase.io.write`` of [solid, molecule] with info ``ref`` in kJ/mol,
``num_molecules`` and ``system``), with energies chosen in the test.
"""

from __future__ import annotations

import functools
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from ase.io import read
from ase.units import kJ, mol
from helpers import only_benchmark
from typer.testing import CliRunner

from mlpeg import catalog
from mlpeg.calc.runner import write_references
from mlpeg.cli import app
from mlpeg.errors import MlpegError
from mlpeg.importers.metrics_check import compare
from mlpeg.importers.ml_peg import FileStatus, ModelStatus, find_outputs, import_tree
from mlpeg.importers.synthetic import random_energies, write_x23_outputs, x23_inputs
from mlpeg.paths import REPO_ROOT, landing_dir
from mlpeg.warehouse.connect import writer
from mlpeg.warehouse.ingest import Outcome, ingest_part

EV_TO_KJ_PER_MOL = mol / kJ


@functools.cache
def _x23():
    return x23_inputs()


def _outputs(root: Path) -> Path:
    return root / "molecular_crystal" / "X23" / "outputs"


def _offset_energies(offset_kj_per_mol: float) -> dict[str, tuple[float, float]]:
    """Every lattice energy off DMC by exactly ``offset`` kJ/mol (molecule at −10 eV)."""
    structures, references = _x23()
    energies = {}
    for system, roles in structures.items():
        n = len(roles["solid"]) / len(roles["molecule"])
        lattice = references[system] + offset_kj_per_mol / EV_TO_KJ_PER_MOL
        energies[system] = (n * (-10.0 + lattice), -10.0)
    return energies


def _write_model(root: Path, model: str, energies, **options) -> Path:
    structures, references = _x23()
    folder = _outputs(root) / model
    write_x23_outputs(folder, structures, references, energies, **options)
    return folder


def ml_peg_mae(outputs: Path) -> dict[str, float]:
    """ML-PEG's X23 analysis, by hand: refs from the first model, pairs by sorted file."""
    predicted: dict[str, list[float]] = {}
    refs: list[float] = []
    for model_dir in sorted(p for p in outputs.iterdir() if p.is_dir()):
        predicted[model_dir.name] = []
        for path in sorted(model_dir.glob("*.xyz")):
            solid, molecule = read(path, index=":")
            lattice = (
                solid.get_potential_energy() / solid.info["num_molecules"]
                - molecule.get_potential_energy()
            )
            predicted[model_dir.name].append(lattice * EV_TO_KJ_PER_MOL)
            if len(refs) < len(predicted[model_dir.name]) and len(predicted) == 1:
                refs.append(solid.info["ref"])
    return {
        model: float(np.mean(np.abs(np.asarray(refs) - np.asarray(values))))
        for model, values in predicted.items()
    }


def _import(con, root: Path, **options):
    report = import_tree(con.con, root, landing=con.landing, **options)
    maes = dict(con.execute("select model_key, value from x23.metrics").fetchall())
    counts = con.execute(
        "select (select count(*) from predictions), (select count(*) from runs), "
        "(select count(*) from parts), (select count(*) from reference_values)"
    ).fetchone()
    return report, maes, counts


@pytest.fixture(autouse=True)
def x23_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A benchmarks tree holding only X23: these tests need no other benchmark's views."""
    only_benchmark(tmp_path, monkeypatch)


class _Connection:
    """A writer connection that also knows its warehouse's landing folder."""

    def __init__(self, con, landing: Path) -> None:
        self.con, self.landing = con, landing

    def __getattr__(self, name: str):
        return getattr(self.con, name)


@pytest.fixture
def con(warehouse: Path, test_models: Path, x23_only: None):
    """A writer connection to the test's warehouse."""
    with writer(warehouse) as connection:
        yield _Connection(connection, landing_dir(warehouse))


@pytest.fixture
def tree(tmp_path: Path, test_models: Path) -> Path:
    """model-a (trained with dispersion), model-c (gets D3 on X23) and an unknown model."""
    root = tmp_path / "ml_peg_outputs"
    structures, references = _x23()
    rng = np.random.default_rng(7)
    _write_model(root, "model-a", random_energies(structures, references, rng))
    _write_model(root, "model-c", _offset_energies(2.0))
    _write_model(root, "mace-ext", random_energies(structures, references, rng))
    return root


def test_tree_reproduces_ml_peg_mae(tree, con):
    expected = ml_peg_mae(_outputs(tree))
    report, maes, counts = _import(con, tree)
    assert report.exit_code == 0
    assert [m.status for m in report.models] == [ModelStatus.LOADED] * 3
    # every folder keeps its name: one model, one row, D3 or not
    assert set(maes) == {"model-a", "model-c", "mace-ext"}
    assert maes["model-a"] == pytest.approx(expected["model-a"], rel=1e-9)
    assert maes["mace-ext"] == pytest.approx(expected["mace-ext"], rel=1e-9)
    assert maes["model-c"] == pytest.approx(expected["model-c"], rel=1e-9)
    assert maes["model-c"] == pytest.approx(2.0, abs=1e-9)  # offset by 2 kJ/mol everywhere
    # each run records the dispersion X23 declares for its model: D3(BJ) unless trained with it
    dispersion = dict(con.execute("select model_key, dispersion from runs").fetchall())
    assert dispersion == {"model-a": "none", "model-c": "d3bj", "mace-ext": "d3bj"}
    assert counts == (3 * 46, 3, 4, 23)  # predictions, runs, parts (3 + references), refs
    assert report.registered_models == ["mace-ext"]


def test_imported_model_is_registered_and_ranked(tree, con):
    _import(con, tree)
    family, dispersion, test_only = con.execute(
        "select family, dispersion, is_test_only from models where model_key = 'mace-ext'"
    ).fetchone()
    board = dict(con.execute("select model_key, overall from leaderboard").fetchall())
    assert (family, dispersion, test_only) == ("imported", "unknown", False)
    # the only benchmark with scores is X23: overall = 1 − MAE/100
    assert board["model-c"] == pytest.approx(1 - 2.0 / 100, abs=1e-9)


def test_reimport_and_copied_tree_change_nothing(tree, con, tmp_path):
    _, maes, counts = _import(con, tree)
    again, maes_again, counts_again = _import(con, tree)
    assert (maes_again, counts_again) == (maes, counts)
    assert {m.status for m in again.models} == {ModelStatus.UNCHANGED}
    assert {f.status for f in again.files} == {FileStatus.UNCHANGED}
    copy = tmp_path / "copy"
    shutil.copytree(tree, copy, copy_function=shutil.copy)  # new mtimes, same bytes
    _, maes_copy, counts_copy = _import(con, copy)
    assert (maes_copy, counts_copy) == (maes, counts)


def test_changed_outputs_make_a_new_latest_run_and_keep_the_old(tree, con):
    _, maes, (n_predictions, n_runs, _, _) = _import(con, tree)
    folder = _outputs(tree) / "model-c"
    _write_model(tree, "model-c", _offset_energies(-5.0))
    later = folder.stat().st_mtime + 60
    for path in folder.iterdir():
        os.utime(path, (later, later))
    report, maes_after, (n_predictions_after, n_runs_after, _, _) = _import(con, tree)
    statuses = {m.model_key: m.status for m in report.models}
    assert statuses == {
        "model-a": ModelStatus.UNCHANGED,
        "model-c": ModelStatus.LOADED,
        "mace-ext": ModelStatus.UNCHANGED,
    }
    assert maes_after["model-c"] == pytest.approx(5.0, abs=1e-9)
    assert maes_after["model-a"] == maes["model-a"]
    assert (n_predictions_after, n_runs_after) == (n_predictions + 46, n_runs + 1)


def test_known_models_only_refuses_unknown_folders_before_writing(tree, con):
    with pytest.raises(MlpegError, match="mace-ext"):
        _import(con, tree, known_models_only=True)
    assert not con.landing.exists() or not list(con.landing.glob("*.parquet"))
    assert con.execute("select count(*) from models where family = 'imported'").fetchone() == (0,)


def _replace_in(path: Path, old: str, new: str) -> None:
    path.write_text(path.read_text().replace(old, new))


def test_bad_files_are_skipped_with_one_sentence_each(tmp_path, con):
    root = tmp_path / "outputs_tree"
    folder = _write_model(root, "model-a", _offset_energies(1.0))
    (folder / "urea.xyz").write_text((folder / "urea.xyz").read_text()[:200])  # truncated
    _replace_in(folder / "co2.xyz", " ref=", " reference=")  # info key renamed
    (folder / "benzene.xyz").write_bytes(b"\xff\xfe" + (folder / "benzene.xyz").read_bytes())
    ammonia = folder / "ammonia.xyz"
    ammonia.write_text(ammonia.read_text() + ammonia.read_text())  # four frames
    _replace_in(folder / "uracil.xyz", "system=uracil", "system=caffeine")
    formamide = folder / "formamide.xyz"
    lines = formamide.read_text().splitlines(keepends=True)
    lines[1] = lines[1].replace("energy=", "energy=nan bogus=")
    formamide.write_text("".join(lines))
    report, maes, (n_predictions, *_) = _import(con, root)

    skipped = {f.path.name: f.message for f in report.files_with(FileStatus.SKIPPED)}
    assert set(skipped) == {"urea.xyz", "co2.xyz", "benzene.xyz", "ammonia.xyz", "uracil.xyz"}
    shown = "molecular_crystal/X23/outputs/model-a"
    assert skipped["urea.xyz"].startswith(f"{shown}/urea.xyz: line ")
    assert "lacks the info key 'ref'" in skipped["co2.xyz"]
    assert "not UTF-8" in skipped["benzene.xyz"]
    assert "holds 4 frames" in skipped["ammonia.xyz"]
    assert "'caffeine' is not one of the 23 X23 systems" in skipped["uracil.xyz"]
    assert report.exit_code == 1
    assert n_predictions == 2 * (23 - 5)
    state, error = con.execute(
        "select state, error from predictions where system = 'formamide' and role = 'solid'"
    ).fetchone()
    n_ok = con.execute("select count(*) from x23.points where state = 'ok'").fetchone()[0]
    assert state == "failed" and "non-finite energy" in error
    # MAE over the 17 systems that are ok: each is off by exactly 1 kJ/mol
    assert n_ok == 17
    assert maes["model-a"] == pytest.approx(1.0, abs=1e-9)


def test_num_molecules_disagreeing_with_atoms_is_noted(tmp_path, con):
    root = tmp_path / "tree"
    folder = _write_model(root, "model-a", _offset_energies(0.0))
    _replace_in(folder / "succinic_acid.xyz", "num_molecules=8.0", "num_molecules=2.0")
    report, maes, _ = _import(con, root)
    assert any("num_molecules=2 but the solid holds 8 molecules" in n for n in report.notes)
    assert maes["model-a"] == pytest.approx(0.0, abs=1e-9)  # mlpeg divides by 8


def test_stored_references_win_and_differences_are_reported(tmp_path, con):
    bench = catalog.get_benchmark("X23")
    part = write_references(bench.calc_module().references(), bench, landing=con.landing)
    assert ingest_part(con.con, part).outcome == Outcome.LOADED
    before = dict(con.execute("select system, value from reference_values").fetchall())
    root = tmp_path / "tree"
    structures, references = _x23()
    shifted = dict(references, ammonia=references["ammonia"] + 1.0 / EV_TO_KJ_PER_MOL)
    write_x23_outputs(_outputs(root) / "model-a", structures, shifted, _offset_energies(0.0))
    report, maes, _ = _import(con, root)
    after = dict(con.execute("select system, value from reference_values").fetchall())
    assert after == before
    assert any("ammonia" in note and "the warehouse holds" in note for note in report.notes)
    assert report.references == []
    # scored against the stored DMC values, so each system is exactly right
    assert maes["model-a"] == pytest.approx(0.0, abs=1e-9)


def test_ml_peg_style_system_names_are_mapped(tmp_path, con):
    structures, _ = _x23()
    order = {system: index for index, system in enumerate(structures)}
    root = tmp_path / "tree"
    _write_model(
        root, "model-a", _offset_energies(3.0), name=lambda s: f"{order[s] + 1:02d}{s.upper()}"
    )
    report, maes, _ = _import(con, root)
    assert report.exit_code == 0
    assert maes["model-a"] == pytest.approx(3.0, abs=1e-9)


def test_not_an_ml_peg_tree_is_one_clear_error(tmp_path, warehouse):
    (tmp_path / "empty").mkdir()
    with pytest.raises(MlpegError, match="holds no ML-PEG calc outputs"):
        find_outputs(tmp_path / "empty")
    result = CliRunner().invoke(
        app, ["ingest", "--from-ml-peg", str(tmp_path / "missing"), "-w", str(warehouse)]
    )
    assert result.exit_code != 0
    assert "no such folder" in str(result.exception)
    assert not warehouse.exists()  # refused before the warehouse was opened


def test_cli_imports_then_reports_nothing_new(tree, warehouse, test_models):
    runner = CliRunner()
    args = ["ingest", "--from-ml-peg", str(tree), "-w", str(warehouse)]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "69 files: 69 imported" in " ".join(first.output.split())
    second = runner.invoke(app, args)
    assert second.exit_code == 0
    assert "0 imported, 69 already in" in " ".join(second.output.split())


def _metrics_yml(folder: Path, body: str) -> None:
    folder.mkdir(parents=True)
    (folder / "metrics.yml").write_text(body)


def test_check_against_agrees_with_ml_peg_catalogue_for_x23(tmp_path):
    # ML-PEG's published X23 metric (shared/reference/ml_peg_metric_catalogue.csv)
    rows = [
        line.split(",")
        for line in (REPO_ROOT.parent / "shared/reference/ml_peg_metric_catalogue.csv")
        .read_text()
        .splitlines()
    ]
    category, benchmark, metric, unit, good, bad, weight, _ = next(
        row for row in rows if row[1] == "X23"
    )
    _metrics_yml(
        tmp_path / "ml_peg/analysis" / category / benchmark,
        f"metrics:\n  {metric}:\n    good: {good}\n    bad: {bad}\n    unit: {unit}\n"
        f"    weight: {weight}\n    tooltip: t\n",
    )
    result = compare(tmp_path)
    assert result.n_compared == 1 and result.differences == []


def test_check_against_lists_each_difference(tmp_path):
    _metrics_yml(
        tmp_path / "analysis/molecular_crystal/X23",
        "metrics:\n  MAE:\n    good: 0.0\n    bad: 50.0\n    unit: kcal/mol\n    tooltip: t\n"
        "  RMSE:\n    good: 0.0\n    bad: 100.0\n    unit: kJ/mol\n    weight: 0\n    tooltip: t\n",
    )
    _metrics_yml(
        tmp_path / "analysis/bulk_crystal/Phonons",
        "metrics:\n  MAE:\n    good: 0\n    bad: 1\n    unit: null\n    tooltip: t\n",
    )
    result = compare(tmp_path)
    found = {(d.metric, d.field, d.mlpeg, d.ml_peg) for d in result.differences}
    assert found == {
        ("MAE", "unit", "kJ/mol", "kcal/mol"),
        ("MAE", "bad", 100.0, 50.0),
        ("RMSE", "metric", "absent", "defined"),
    }
    assert "Phonons" in result.only_in_ml_peg
    cli = CliRunner().invoke(app, ["benchmarks", "--check-against", str(tmp_path)])
    assert cli.exit_code == 1
    assert "3 difference(s)" in cli.output


def test_outputs_are_found_in_a_checkout_a_calcs_tree_or_one_benchmark(tmp_path):
    for layout in ("checkout/ml_peg/calcs", "calcs_tree"):
        (tmp_path / layout / "molecular_crystal/X23/outputs/model-a").mkdir(parents=True)
    (tmp_path / "checkout/ml_peg/calcs/surfaces/OC157/outputs").mkdir(parents=True)
    (tmp_path / "one/X23/outputs").mkdir(parents=True)
    checkout = find_outputs(tmp_path / "checkout")
    assert [(f.category, f.name) for f in checkout] == [
        ("molecular_crystal", "X23"),
        ("surfaces", "OC157"),
    ]
    assert [f.name for f in find_outputs(tmp_path / "calcs_tree")] == ["X23"]
    assert [f.name for f in find_outputs(tmp_path / "one/X23")] == ["X23"]
