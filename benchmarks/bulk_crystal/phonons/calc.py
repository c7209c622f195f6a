"""Heat capacities at 300 K of 1,170 Alexandria binaries from each model's phonons.

Each crystal is relaxed (cell and atoms), its harmonic phonons computed with phonopy from
finite displacements in a 2×2×2 supercell (mlpeg.phonons), and C_V(300 K) per mole of cells
compared with Alexandria's PBE value (matcalc's benchmark set).
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from mlpeg.calc.tasks import Reference, Task
from mlpeg.data import fetch, read_manifest
from mlpeg.errors import DataError
from mlpeg.phonons import PhononHeatCapacity
from mlpeg.pymatgen_json import structure_to_atoms

FILES = read_manifest(Path(__file__).with_name("data.sha256"))
DATA = "benchmark_data/alexandria-binary-pbe-phonon-2025.1.json.gz"
REFERENCE_SET = "benchmark_ph/example/mp-1000.yaml.bz2"
N_QUICK = 3
KIND = PhononHeatCapacity(supercell=(2, 2, 2), displacement=0.01, mesh=(20, 20, 20), fmax=0.01)
SOURCE = "Alexandria PBE phonons, via matcalc's alexandria-binary-pbe-phonon-2025.1"


def records() -> list[dict]:
    """Return the set's records (mp_id, formula, structure, heat_capacity in J/K/mol)."""
    path = fetch(FILES[DATA])
    try:
        with gzip.open(path, "rt") as handle:
            found = json.load(handle)
    except (OSError, EOFError, json.JSONDecodeError) as exc:
        raise DataError(f"{path}: cannot read the phonon set ({exc}).") from exc
    for index, record in enumerate(found):
        missing = {"mp_id", "structure", "heat_capacity"} - set(record)
        if missing:
            raise DataError(f"{path}: record {index} lacks {', '.join(sorted(missing))}.")
    return found


def selected(*, full: bool) -> list[dict]:
    """All records, or the quick band: the N_QUICK smallest cells (fewest sites, then mp_id)."""
    found = records()
    if full:
        return found
    return sorted(found, key=lambda r: (len(r["structure"]["sites"]), r["mp_id"]))[:N_QUICK]


def tasks(*, full: bool = False) -> list[Task]:
    return [
        Task(
            record["mp_id"],
            "phonons",
            structure_to_atoms(record["structure"], where=record["mp_id"]),
            KIND,
        )
        for record in selected(full=full)
    ]


def references() -> list[Reference]:
    return [
        Reference(
            record["mp_id"], "cv_300", record["heat_capacity"], "J/K/mol", None, "PBE", SOURCE
        )
        for record in records()
    ]
