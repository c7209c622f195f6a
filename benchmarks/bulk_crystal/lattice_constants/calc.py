"""Lattice constants of ten cubic covalent and ionic solids (LC10), relaxed by each model.

Each solid is built in its two-atom primitive cell (diamond, zincblende or rocksalt, all on
an fcc lattice) at its experimental lattice constant and relaxed with the cell scaled
isotropically, so the cubic symmetry is kept and a = (4 V)^(1/3) of the relaxed cell.
"""

import csv
from pathlib import Path

from ase.build import bulk

from mlpeg.calc.kinds import Relax
from mlpeg.calc.tasks import Reference, Task
from mlpeg.data import fetch, read_manifest

FILES = read_manifest(Path(__file__).with_name("data.sha256"))
EXPERIMENT = "Goldzak12/data/reference_goldzak2022.csv"
PBE = "Goldzak12/data/reference_dft_mo2017.csv"
RELAX = Relax(
    fmax=1e-3,
    max_steps=300,
    optimizer="BFGS",
    relax_cell=True,
    hydrostatic_strain=True,
    require_convergence=True,
)


def _rows(name: str) -> list[dict[str, str]]:
    with open(fetch(FILES[name]), newline="") as handle:
        return list(csv.DictReader(handle))


def tasks(*, full: bool = False) -> list[Task]:
    tasks = []
    for row in _rows(EXPERIMENT):
        atoms = bulk(row["formula"], row["structure"], a=float(row["a_exp_A"]))
        atoms.info.update(charge=0, spin=1)
        tasks.append(Task(row["solid"], "relaxed", atoms, RELAX))
    return tasks


def references() -> list[Reference]:
    experiment = [
        Reference(
            row["solid"],
            "lattice_constant_exp",
            float(row["a_exp_A"]),
            "Å",
            None,
            "Experiment (zero-point corrected)",
            "Goldzak et al., JCP 157, 174112 (2022)",
        )
        for row in _rows(EXPERIMENT)
    ]
    pbe = [
        Reference(
            row["solid"],
            "lattice_constant_pbe",
            float(row["a_PBE_A"]),
            "Å",
            None,
            "PBE",
            "Mo et al., PRB 95, 035118 (2017)",
        )
        for row in _rows(PBE)
        if row["a_PBE_A"]
    ]
    return experiment + pbe
