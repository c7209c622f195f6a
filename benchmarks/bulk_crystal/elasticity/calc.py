"""Elastic moduli of 3,953 Materials Project binaries (matcalc's benchmark set).

Each crystal is relaxed (cell and atoms) in the cell given, the six Voigt
strains at ±0.5 % and ±1 % are applied with atoms relaxed, and the stresses are fitted
linearly (mlpeg.elastic.ElasticTensor); the Voigt–Reuss–Hill moduli are compared with the
PBE values of the Materials Project. The moduli are rotation invariants, so the cell's
orientation and setting do not matter (the smallest cell is the cheapest).
"""

from __future__ import annotations

from pathlib import Path

from ase.units import GPa

from mlpeg.calc.tasks import Reference, Task
from mlpeg.data import fetch, read_manifest
from mlpeg.elastic import ElasticTensor
from mlpeg.pymatgen_json import matcalc_records, smallest_cells, structure_to_atoms

FILES = read_manifest(Path(__file__).with_name("data.sha256"))
DATA = "benchmark_data/mp-binary-pbe-elasticity-2025.1.json.gz"
N_QUICK = 3
#: Relaxations to 0.05 eV/Å as ML-PEG (matcalc's default); strains in the linear regime.
KIND = ElasticTensor(strains=(-0.01, -0.005, 0.005, 0.01), fmax=0.05, max_steps=500)
SOURCE = "Materials Project (PBE), via matcalc's mp-binary-pbe-elasticity-2025.1"


def records() -> list[dict]:
    """Return the data set's records (mp_id, formula, structure, K_VRH, G_VRH in GPa)."""
    return matcalc_records(
        fetch(FILES[DATA]),
        {"mp_id", "structure", "bulk_modulus_vrh", "shear_modulus_vrh"},
        "elasticity",
    )


def selected(*, full: bool) -> list[dict]:
    """All records, or the quick band: the N_QUICK smallest cells (fewest sites, then mp_id)."""
    return records() if full else smallest_cells(records(), N_QUICK)


def tasks(*, full: bool = False) -> list[Task]:
    return [
        Task(
            record["mp_id"],
            "bulk",
            structure_to_atoms(record["structure"], where=record["mp_id"]),
            KIND,
        )
        for record in selected(full=full)
    ]


def references() -> list[Reference]:
    return [
        Reference(record["mp_id"], quantity, record[key] * GPa, "eV/Å^3", None, "PBE", SOURCE)
        for record in records()
        for quantity, key in (("k_vrh", "bulk_modulus_vrh"), ("g_vrh", "shear_modulus_vrh"))
    ]
