"""Build a synthetic warehouse the size of ML-PEG for the app benchmark (bench/app.py).

Every category and benchmark of ML-PEG's catalogue (shared/reference/*.csv) becomes a
benchmark folder with generic views; 50 mock models get landing parts with hand-made noise
around random references, some failed and unsupported structures, a few (model, benchmark)
pairs never run, and a second, later run for one model (history). The parts go through the
real ``ingest``. Nothing here is a measured result: it only gives the app a realistic load.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import yaml
from ase import Atoms
from ase.build import bulk, molecule

from mlpeg.enums import PartKind
from mlpeg.landing import PREDICTIONS_SCHEMA, REFERENCES_SCHEMA, run_metadata, write_part
from mlpeg.structures import atoms_to_row

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference"
T0 = datetime(2026, 3, 1, tzinfo=UTC)
LEVELS = ["PBE", "PBE/PBE+U", "r2SCAN", "wB97M-V/def2-TZVPD"]


@dataclass(frozen=True)
class SyntheticSpec:
    """How big the synthetic warehouse is."""

    n_models: int = 50
    n_systems: int = 30  # per benchmark
    big_benchmark_systems: int = 2000  # one benchmark with thousands of points
    seed: int = 7


def _pool() -> list[Atoms]:
    molecules = ["H2O", "NH3", "CH4", "CO2", "HCl", "SH2", "SiH4", "PH3", "C2H6", "CH3OH"]
    crystals = [
        bulk("NaCl", "rocksalt", a=5.64),
        bulk("Cu", "fcc", a=3.61),
        bulk("Si", "diamond", a=5.43),
        bulk("MgO", "rocksalt", a=4.21),
        bulk("LiF", "rocksalt", a=4.03),
        bulk("Fe", "bcc", a=2.87),
        bulk("GaAs", "zincblende", a=5.65),
        bulk("Al", "fcc", a=4.05),
    ]
    pool = []
    for name in molecules:
        atoms = molecule(name)
        atoms.center(vacuum=4.0)
        pool.append(atoms)
    return pool + crystals


def _key(name: str) -> str:
    key = re.sub(r"[^A-Za-z0-9_]", "_", name)
    return key if key[0].isalpha() else f"B{key}"


def _number(text: str) -> float:
    booleans = {"True": 1.0, "False": 0.0}
    return booleans[text] if text in booleans else float(text)


def read_catalogue() -> tuple[list[dict], dict[str, list[dict]]]:
    """Return ML-PEG's categories and its metrics grouped by benchmark."""
    with open(REFERENCE / "ml_peg_categories.csv") as handle:
        categories = list(csv.DictReader(handle))
    benchmarks: dict[str, list[dict]] = {}
    with open(REFERENCE / "ml_peg_metric_catalogue.csv") as handle:
        for row in csv.DictReader(handle):
            benchmarks.setdefault(row["benchmark"], []).append(row)
    return categories, benchmarks


VIEWS = """create schema if not exists {schema};

-- grain: one row per (model, system)
create or replace view {schema}.points as
with predictions as (
    select * from benchmark_predictions where benchmark_key = '{key}'
),
reference as (
    select system, quantity, value as ref from reference_values where benchmark_key = '{key}'
)
select model_key, system, quantity, energy as pred, ref, 'eV' as unit, state, structure_id,
from predictions
join reference using (system);

-- grain: one row per (model, metric)
create or replace view {schema}.metrics as
with errors as (
    select model_key, avg(abs(pred - ref)) filter (where state = 'ok') as mae
    from {schema}.points
    group by model_key
)
{metrics};
"""


def write_catalogue(root: Path, categories: list[dict], benchmarks: dict[str, list[dict]]) -> None:
    """Write category.yml and benchmark folders (benchmark.yml + views.sql) under ``root``."""
    used = {rows[0]["category"] for rows in benchmarks.values()}
    for category in categories:
        if category["category"] not in used:
            continue
        folder = root / category["category"]
        folder.mkdir(parents=True, exist_ok=True)
        doc = {
            "key": category["category"],
            "title": category["title"],
            "weight": float(category["weight"]),
            "description": f"Synthetic {category['title']} benchmarks.",
        }
        weights = dict(item.split("=") for item in category["benchmark_weights"].split(";") if item)
        if weights:
            doc["benchmark_weights"] = {_key(k): float(v) for k, v in weights.items()}
        (folder / "category.yml").write_text(yaml.safe_dump(doc, sort_keys=False))
    for name, rows in benchmarks.items():
        key = _key(name)
        folder = root / rows[0]["category"] / key
        folder.mkdir(parents=True, exist_ok=True)
        metrics = []
        selects = []
        for index, row in enumerate(rows):
            good, bad = _number(row["good"]), _number(row["bad"])
            metrics.append(
                {
                    "key": row["metric"],
                    "title": row["metric"],
                    "quantity": "energy",
                    "unit": row["unit"] or "-",
                    "good": good,
                    "bad": bad,
                    "weight": float(row["weight"]),
                    "level_of_theory": row["level_of_theory"] or "PBE",
                    "tooltip": f"Synthetic {row['metric']} of {name}.",
                }
            )
            metric_key = row["metric"].replace("'", "''")
            spread = 1.0 + 0.3 * index
            selects.append(
                f"select model_key, '{metric_key}' as metric_key, "
                f"{good} + ({bad} - {good}) * least(mae / {0.08 * spread}, 1.5) as value "
                "from errors"
            )
        doc = {
            "key": key,
            "title": name.replace("_", " "),
            "category": rows[0]["category"],
            "description": f"Synthetic stand-in for ML-PEG's {name}.",
            "level_of_theory": rows[0]["level_of_theory"] or "PBE",
            "cost": "quick",
            "metrics": metrics,
        }
        (folder / "benchmark.yml").write_text(yaml.safe_dump(doc, sort_keys=False))
        (folder / "views.sql").write_text(
            VIEWS.format(schema=key.lower(), key=key, metrics="\nunion all\n".join(selects))
        )


def write_models(path: Path, n_models: int) -> list[str]:
    """Write a models.yml of ``n_models`` mock models and return their keys."""
    doc = {}
    for index in range(n_models):
        entry = {
            "family": "mock",
            "checkpoint": "zeros",
            "trained_on_dispersion": True,
            "level_of_theory": LEVELS[index % len(LEVELS)],
            "training_sets": ["MPtrj"] if index % 2 else ["OMat24", "sAlex"],
            "licence": "MIT",
            "n_params": 1_000_000 + 37_000 * index,
        }
        if index % 7 == 3:
            entry["elements"] = ["H", "C", "N", "O", "Na", "Cl", "Cu", "Si"]
        doc[f"synthetic-{index:02d}"] = entry
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return list(doc)


def _prediction_rows(
    systems: list[tuple[str, dict, set[str]]],
    refs: np.ndarray,
    *,
    sigma: float,
    supported: set[str] | None,
    rng: np.random.Generator,
) -> list[dict]:
    rows = []
    for (system, structure, elements), ref in zip(systems, refs, strict=True):
        state, energy, error = "ok", float(ref + rng.normal(0.0, sigma)), None
        if supported is not None and not elements <= supported:
            state, energy, error = "unsupported", None, "element not covered"
        elif rng.random() < 0.01:
            state, energy, error = "failed", None, "synthetic failure"
        rows.append(
            {
                "system": system,
                "role": "main",
                "task": "single_point",
                "settings_hash": "synthetic",
                "structure": structure,
                "frames": [],
                "energy": energy,
                "forces": None,
                "stress": None,
                "properties": [],
                "state": state,
                "error": error,
                "wall_time_s": float(rng.uniform(0.01, 0.5)),
                "computed_at": T0,
            }
        )
    return rows


def write_parts(landing: Path, models: list[str], spec: SyntheticSpec, root: Path) -> int:
    """Write references and predictions parts for every (model, benchmark); return the count."""
    rng = np.random.default_rng(spec.seed)
    pool = _pool()
    count = 0
    keys = sorted(path.parent.name for path in root.glob("*/*/benchmark.yml"))
    for b_index, key in enumerate(keys):
        n_systems = spec.big_benchmark_systems if b_index == 0 else spec.n_systems
        systems = []
        for s_index in range(n_systems):
            # Each benchmark draws from 6 of the 18 pool structures, as real benchmarks
            # cover a few kinds of system: an element is in some benchmarks, not all.
            atoms = pool[(5 * b_index + s_index % 6) % len(pool)].copy()
            atoms.rattle(stdev=0.02, seed=int(rng.integers(1 << 30)))
            row = atoms_to_row(atoms)
            systems.append((f"{key.lower()}-{s_index:04d}", row, set(atoms.get_chemical_symbols())))
        refs = rng.normal(-5.0, 2.0, n_systems)
        table = pa.Table.from_pylist(
            [
                {
                    "benchmark_key": key,
                    "system": system,
                    "quantity": "energy",
                    "value": float(ref),
                    "unit": "eV",
                    "uncertainty": None,
                    "level_of_theory": "PBE",
                    "source": "synthetic",
                }
                for (system, _, _), ref in zip(systems, refs, strict=True)
            ],
            schema=REFERENCES_SCHEMA,
        )
        write_part(table, kind=PartKind.REFERENCES, folder=landing, name=f"{key}__references")
        count += 1
        for m_index, model in enumerate(models):
            if (m_index + 3 * b_index) % 11 == 0:
                continue  # not run
            sigma = 0.01 + 0.004 * ((m_index * 7 + b_index) % 40)
            supported = {"H", "C", "N", "O", "Na", "Cl", "Cu", "Si"} if m_index % 7 == 3 else None
            runs = [(f"run-{key}-{model}", T0 + timedelta(days=1 + m_index % 5))]
            if m_index == 0 and b_index < 5:
                runs.append((f"run-{key}-{model}-v2", T0 + timedelta(days=20)))
            for run_id, ended in runs:
                rows = _prediction_rows(systems, refs, sigma=sigma, supported=supported, rng=rng)
                full = [
                    {"run_id": run_id, "model_key": model, "benchmark_key": key, **row}
                    for row in rows
                ]
                run = run_metadata(
                    run_id=run_id,
                    model_key=model,
                    benchmark_key=key,
                    started_at=ended - timedelta(minutes=30),
                    ended_at=ended,
                    device="cpu",
                    dtype="float64",
                    versions={"mlpeg": "0.1.0"},
                )
                write_part(
                    pa.Table.from_pylist(full, schema=PREDICTIONS_SCHEMA),
                    kind=PartKind.PREDICTIONS,
                    folder=landing,
                    name=run_id,
                    run=run,
                )
                count += 1
    return count
