"""Importing ML-PEG DMC-ICE13 calc outputs: one structure per file, DMC references from mlpeg.

The tree is written as ML-PEG's calc_DMC_ICE13.py writes it (``<polymorph>_polymorph.xyz``
with info ``polymorph`` and ``ref``, and ``water.xyz``) from mlpeg's own DMC-ICE13
structures, with energies that put every lattice energy exactly 20 meV above DMC.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from ase.calculators.singlepoint import SinglePointCalculator
from ase.io import write
from helpers import only_benchmark

from mlpeg import catalog
from mlpeg.importers.ml_peg import FileStatus, import_tree
from mlpeg.paths import landing_dir
from mlpeg.warehouse.connect import writer

OFFSET_EV = 0.020
E_WATER = -14.0


@pytest.fixture
def ice_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, test_models: Path) -> None:
    only_benchmark(tmp_path, monkeypatch, "DMC_ICE13")


def _write_tree(root: Path, model: str) -> dict[str, float]:
    module = catalog.get_benchmark("DMC_ICE13").calc_module()
    structures = {task.system: task.atoms for task in module.tasks()}
    lattice = {r.system: r.value for r in module.references() if r.quantity == "lattice_energy"}
    folder = root / "molecular_crystal" / "DMC_ICE13" / "outputs" / model
    folder.mkdir(parents=True)
    for name, atoms in structures.items():
        atoms = atoms.copy()
        if name == "water":
            energy, path = E_WATER, folder / "water.xyz"
        else:
            n_molecules = len(atoms) / 3
            energy = n_molecules * (E_WATER + lattice[name] + OFFSET_EV)
            atoms.info.update(polymorph=f"ice_{name}", ref=-60.0)  # ML-PEG's PBE-D3 value
            path = folder / f"{name}_polymorph.xyz"
        atoms.calc = SinglePointCalculator(atoms, energy=energy)
        write(path, atoms)
    return lattice


def test_dmc_ice13_tree_scores_against_dmc(tmp_path, warehouse, ice_only):
    lattice = _write_tree(tmp_path / "tree", "model-a")
    with writer(warehouse) as con:
        report = import_tree(con, tmp_path / "tree", landing=landing_dir(warehouse))
        metrics = dict(con.execute("select metric_key, value from dmc_ice13.metrics").fetchall())
        n_points = con.execute("select count(*) from dmc_ice13.points").fetchone()[0]
    assert report.exit_code == 0, report.files_with(FileStatus.SKIPPED)
    assert len(report.files_with(FileStatus.IMPORTED)) == len(lattice) + 1 == 14
    assert n_points == 13 + 12  # absolute, and relative to ice Ih
    assert metrics["MAE"] == pytest.approx(OFFSET_EV * 1000, abs=1e-6)  # meV
    assert metrics["Relative MAE"] == pytest.approx(0.0, abs=1e-6)


def test_unknown_polymorph_and_extra_frames_are_skipped(tmp_path, warehouse, ice_only):
    _write_tree(tmp_path / "tree", "model-a")
    folder = tmp_path / "tree" / "molecular_crystal" / "DMC_ICE13" / "outputs" / "model-a"
    text = (folder / "II_polymorph.xyz").read_text()
    (folder / "II_polymorph.xyz").write_text(text.replace("polymorph=ice_II", "polymorph=ice_0"))
    (folder / "III_polymorph.xyz").write_text(text + text)
    with writer(warehouse) as con:
        report = import_tree(con, tmp_path / "tree", landing=landing_dir(warehouse))
    skipped = {f.path.name: f.message for f in report.files_with(FileStatus.SKIPPED)}
    assert set(skipped) == {"II_polymorph.xyz", "III_polymorph.xyz"}
    assert "'ice_0' is not one of the 13 DMC-ICE13 phases" in skipped["II_polymorph.xyz"]
    assert "holds 2 frames" in skipped["III_polymorph.xyz"]
