"""Heat capacities at 300 K of 1,170 Alexandria binaries from each model's phonons.

Each crystal is relaxed (cell and atoms), its harmonic phonons computed with phonopy from
finite displacements in a 2×2×2 supercell (mlpeg.phonons), and C_V(300 K) per mole of cells
compared with Alexandria's PBE value (matcalc's benchmark set).
"""

from __future__ import annotations

from pathlib import Path

from mlpeg.calc.tasks import Reference, Task
from mlpeg.data import fetch, read_manifest
from mlpeg.phonons import PhononHeatCapacity
from mlpeg.pymatgen_json import matcalc_records, smallest_cells, structure_to_atoms

FILES = read_manifest(Path(__file__).with_name("data.sha256"))
DATA = "benchmark_data/alexandria-binary-pbe-phonon-2025.1.json.gz"
REFERENCE_SET = "benchmark_ph/example/mp-1000.yaml.bz2"
N_QUICK = 3
KIND = PhononHeatCapacity(supercell=(2, 2, 2), displacement=0.01, mesh=(20, 20, 20), fmax=0.01)
SOURCE = "Alexandria PBE phonons, via matcalc's alexandria-binary-pbe-phonon-2025.1"


def records() -> list[dict]:
    """Return the set's records (mp_id, formula, structure, heat_capacity in J/K/mol)."""
    return matcalc_records(fetch(FILES[DATA]), {"mp_id", "structure", "heat_capacity"}, "phonon")


def selected(*, full: bool) -> list[dict]:
    """All records, or the quick band: the N_QUICK smallest cells (fewest sites, then mp_id)."""
    return records() if full else smallest_cells(records(), N_QUICK)


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
