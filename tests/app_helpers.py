"""A small warehouse for the app tests, with every number chosen by hand.

Benchmarks (a private tree, so new benchmarks elsewhere do not change these tests):

* ``X23`` (copied from benchmarks/, category ``molecular_crystal``): lattice energy
  E_solid / 2 − E_molecule of three systems, in kJ/mol (1 eV = 96.48533212331 kJ/mol).
* ``TOY`` (category ``toy``): one energy per system against a reference, metrics MAE
  (good 0, bad 1 eV) and MAXE (good 0, bad 2 eV); ``h2`` was relaxed and has two frames.

Models: model-a (level of theory DMC, two X23 runs), model-b (PBE, one X23 structure
failed, never ran TOY), model-c (elements H, C, N, O only: S and Cl structures unsupported).

Errors of the latest runs, in eV (pred − ref; lattice energies for X23):

* model-a: X23 ammonia +0.1, carbon_dioxide 0, hydrogen_sulfide −0.1 (its older run:
  +0.2, 0, −0.1); TOY h2 −0.1, hcl 0, nacl +0.3.
* model-b: X23 ammonia 0, carbon_dioxide failed, hydrogen_sulfide 0; TOY not run.
* model-c: X23 ammonia −0.1, carbon_dioxide −0.1, hydrogen_sulfide unsupported; TOY h2
  +0.2, hcl and nacl unsupported.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk, molecule
from helpers import T0, prediction, predictions_part, references_part

from mlpeg import catalog
from mlpeg.models import registry
from mlpeg.paths import REPO_ROOT
from mlpeg.structures import atoms_to_row
from mlpeg.warehouse.connect import writer
from mlpeg.warehouse.ingest import ingest

EV = 96.48533212331  # kJ/mol per eV, as in sql/macros.sql

MODELS_YML = """
model-a: {family: mock, checkpoint: zeros, trained_on_dispersion: true, level_of_theory: DMC,
          training_sets: [SET-A], licence: MIT, n_params: 1234}
model-b: {family: mock, checkpoint: zeros, trained_on_dispersion: true, level_of_theory: PBE}
model-c: {family: mock, checkpoint: zeros, trained_on_dispersion: true, elements: [H, C, N, O]}
mock: {family: mock, checkpoint: zeros, trained_on_dispersion: true, test_only: true}
"""

TOY_YML = """
key: TOY
title: Toy energies
category: toy
description: Energies of three small systems against a made-up reference.
level_of_theory: CCSD(T)
cost: quick
metrics:
  - {key: MAE, quantity: energy, unit: eV, good: 0.0, bad: 1.0, weight: 1,
     tooltip: Mean absolute energy error.}
  - {key: MAXE, quantity: energy, unit: eV, good: 0.0, bad: 2.0, weight: 1,
     tooltip: Largest absolute energy error.}
"""

TOY_VIEWS = """
create schema if not exists toy;

-- grain: one row per (model, system)
create or replace view toy.points as
select
    p.model_key, p.system, 'energy' as quantity, p.energy as pred, r.value as ref,
    'eV' as unit, p.state, p.structure_id,
from benchmark_predictions as p
join reference_values as r
    on r.benchmark_key = 'TOY' and r.system = p.system and r.quantity = 'energy'
where p.benchmark_key = 'TOY';

-- grain: one row per (model, metric)
create or replace view toy.metrics as
select model_key, 'MAE' as metric_key, avg(abs(pred - ref)) filter (where state = 'ok') as value
from toy.points group by model_key
union all
select model_key, 'MAXE', max(abs(pred - ref)) filter (where state = 'ok')
from toy.points group by model_key;
"""

CALC = "def tasks():\n    return []\n\n\ndef references():\n    return []\n"

X23_REFS = {"ammonia": -0.30, "carbon_dioxide": -0.25, "hydrogen_sulfide": -0.20}
TOY_REFS = {"h2": -1.0, "hcl": -2.0, "nacl": -3.0}


def write_tree(root: Path) -> Path:
    """Write the X23 + TOY benchmark tree and return its folder."""
    tree = root / "benchmarks"
    x23_source = REPO_ROOT / "benchmarks" / "molecular_crystal"
    (tree / "molecular_crystal").mkdir(parents=True)
    shutil.copy(x23_source / "category.yml", tree / "molecular_crystal" / "category.yml")
    shutil.copytree(x23_source / "X23", tree / "molecular_crystal" / "X23")
    toy = tree / "toy" / "TOY"
    toy.mkdir(parents=True)
    (tree / "toy" / "category.yml").write_text(
        "key: toy\ntitle: Toy category\nweight: 1\ndescription: Made-up energies.\n"
    )
    (toy / "benchmark.yml").write_text(TOY_YML)
    (toy / "views.sql").write_text(TOY_VIEWS)
    (toy / "calc.py").write_text(CALC)
    return tree


def _pair(name: str) -> tuple[Atoms, Atoms]:
    single = molecule(name)
    single.center(vacuum=3.0)
    shifted = single.copy()
    shifted.translate([4.0, 0.0, 0.0])
    solid = single + shifted
    solid.cell = [8.0, 8.0, 8.0]
    solid.pbc = True
    return solid, single


def _x23_rows(energies: dict[str, tuple[float | None, float | None]], *, model: str) -> list:
    """Rows for (solid, molecule) energies per system; None means failed or unsupported."""
    shapes = {"ammonia": "NH3", "carbon_dioxide": "CO2", "hydrogen_sulfide": "SH2"}
    rows = []
    for system, (solid_e, molecule_e) in energies.items():
        solid, single = _pair(shapes[system])
        unsupported = model == "model-c" and system == "hydrogen_sulfide"
        for role, atoms, energy in (("solid", solid, solid_e), ("molecule", single, molecule_e)):
            if unsupported:
                row = prediction(
                    system, role, atoms, None, state="unsupported", error="element S not covered"
                )
            elif energy is None:
                row = prediction(
                    system, role, atoms, None, state="failed", error="did not converge"
                )
            else:
                row = prediction(system, role, atoms, energy)
            row["wall_time_s"] = 0.5 if role == "solid" else 0.1
            rows.append(row)
    return rows


def h2_molecule(distance: float) -> Atoms:
    """Return H2 with the given bond length, centred in a box."""
    atoms = Atoms("H2", positions=[[0, 0, 0], [0, 0, distance]])
    atoms.center(vacuum=3.0)
    return atoms


def _toy_rows(energies: dict[str, float | None], *, model: str) -> list:
    structures = {
        "h2": h2_molecule(0.80),
        "hcl": molecule("HCl"),
        "nacl": bulk("NaCl", "rocksalt", a=5.64),
    }
    rows = []
    for system, energy in energies.items():
        atoms = structures[system]
        if energy is None:
            rows.append(
                prediction(
                    system, "main", atoms, None, state="unsupported", error="element not covered"
                )
            )
            continue
        row = prediction(system, "main", atoms, energy)
        if system == "h2":  # a relaxation: two output frames, 0.77 Å then 0.74 Å
            row["frames"] = [atoms_to_row(h2_molecule(0.77)), atoms_to_row(h2_molecule(0.74))]
        rows.append(row)
    return rows


def build_app_warehouse(root: Path) -> Path:
    """Write the tree, models and parts under ``root``, ingest them, return the warehouse.

    The caller sets ``MLPEG_BENCHMARKS`` to ``root / "benchmarks"`` and ``MLPEG_MODELS`` to
    ``root / "models.yml"`` (and clears the catalogue and registry caches) before calling.
    """
    write_tree(root)
    (root / "models.yml").write_text(MODELS_YML)
    landing = root / "landing"
    references_part(landing, "X23", [(s, "lattice_energy", v) for s, v in X23_REFS.items()])
    references_part(landing, "TOY", [(s, "energy", v) for s, v in TOY_REFS.items()])
    later = T0 + timedelta(days=2)
    # Lattice energy = solid / 2 - molecule; errors as in the module docstring.
    predictions_part(
        landing,
        _x23_rows(
            {
                "ammonia": (-9.8, -4.8),
                "carbon_dioxide": (-20.0, -9.75),
                "hydrogen_sulfide": (-8.0, -3.7),
            },
            model="model-a",
        ),
        model="model-a",
        benchmark="X23",
        run_id="run-a1",
    )
    predictions_part(
        landing,
        _x23_rows(
            {
                "ammonia": (-10.0, -4.8),
                "carbon_dioxide": (-20.0, -9.75),
                "hydrogen_sulfide": (-8.0, -3.7),
            },
            model="model-a",
        ),
        model="model-a",
        benchmark="X23",
        run_id="run-a2",
        ended=later,
    )
    predictions_part(
        landing,
        _x23_rows(
            {
                "ammonia": (-10.2, -4.8),
                "carbon_dioxide": (-20.0, None),
                "hydrogen_sulfide": (-8.0, -3.8),
            },
            model="model-b",
        ),
        model="model-b",
        benchmark="X23",
        run_id="run-b1",
    )
    predictions_part(
        landing,
        _x23_rows(
            {
                "ammonia": (-10.4, -4.8),
                "carbon_dioxide": (-20.2, -9.75),
                "hydrogen_sulfide": (None, None),
            },
            model="model-c",
        ),
        model="model-c",
        benchmark="X23",
        run_id="run-c1",
    )
    predictions_part(
        landing,
        _toy_rows({"h2": -1.1, "hcl": -2.0, "nacl": -2.7}, model="model-a"),
        model="model-a",
        benchmark="TOY",
        run_id="run-a-toy",
    )
    predictions_part(
        landing,
        _toy_rows({"h2": -0.8, "hcl": None, "nacl": None}, model="model-c"),
        model="model-c",
        benchmark="TOY",
        run_id="run-c-toy",
    )
    warehouse = root / "wh" / "mlpeg.duckdb"
    with writer(warehouse) as con:
        report = ingest(con, [landing])
    assert not report.rejected, [r.message for r in report.rejected]
    return warehouse


_TEMPLATE: list[Path] = []


def app_warehouse(root: Path) -> Path:
    """Copy the warehouse (built once per test session), its tree and models into ``root``.

    Returns the warehouse path; ``root / "benchmarks"`` and ``root / "models.yml"`` are what
    ``MLPEG_BENCHMARKS`` and ``MLPEG_MODELS`` must point to for a writer of this copy.
    """
    if not _TEMPLATE:
        template = Path(tempfile.mkdtemp(prefix="mlpeg-app-tests-"))
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("MLPEG_BENCHMARKS", str(template / "benchmarks"))
            patch.setenv("MLPEG_MODELS", str(template / "models.yml"))
            catalog.clear_cache()
            registry.clear_cache()
            build_app_warehouse(template)
        catalog.clear_cache()
        registry.clear_cache()
        atexit.register(shutil.rmtree, template, ignore_errors=True)
        _TEMPLATE.append(template)
    shutil.copytree(_TEMPLATE[0], root, dirs_exist_ok=True)
    return root / "wh" / "mlpeg.duckdb"


def metric_score(value: float, good: float, bad: float) -> float:
    """ML-PEG's normalisation, by hand: clip((value − bad) / (good − bad), 0, 1)."""
    return float(np.clip((value - bad) / (good - bad), 0.0, 1.0))
