"""DMC-ICE13: the 13 ice polymorphs and an isolated water molecule, one single point each.

Absolute lattice energies E_solid / n − E_water (n = molecules in the cell) and energies
relative to ice Ih are both reactions over these 14 structures, against DMC.
"""

import csv
from pathlib import Path

from ase.io import read

from mlpeg.data import fetch, read_manifest
from mlpeg.reactions import KJ_PER_MOL, Reaction, ReactionBenchmark, ReactionData
from mlpeg.refdata import read_aims_geometry

FILES = read_manifest(Path(__file__).with_name("data.sha256"))
DATA = "DMC-ICE13/data"


def table(path: str) -> list[dict[str, str]]:
    with open(fetch(FILES[path]), newline="") as handle:
        return list(csv.DictReader(handle))


def load() -> ReactionData:
    absolute = next(
        r
        for r in table(f"{DATA}/dmc_ice13_published_dft_absolute_energies.csv")
        if r["method"] == "DMC"
    )  # kJ/mol per molecule, negative = bound
    relative = {
        r["phase"]: r["DMC_relative_kJmol"]
        for r in table(f"{DATA}/dmc_ice13_relative_energies.csv")
    }
    phases = [phase for phase in absolute if phase != "method"]
    structures = {"water": read_aims_geometry(fetch(FILES["20_ice13/water_mol_SP/geometry.in"]))}
    structures["water"].info.update(charge=0, multiplicity=1, spin=1)
    for phase in phases:
        structures[phase] = read(fetch(FILES[f"DMC-ICE13/poscars/ice_{phase}.vasp"]), format="vasp")
    per_molecule = {phase: 3 / len(structures[phase]) for phase in phases}  # 1 / n
    reactions = [
        Reaction(phase, ((phase, per_molecule[phase]), ("water", -1.0)),
                 float(absolute[phase]) * KJ_PER_MOL, "absolute", "lattice_energy")
        for phase in phases
    ] + [
        Reaction(f"{phase}-Ih", ((phase, per_molecule[phase]), ("Ih", -per_molecule["Ih"])),
                 float(relative[phase]) * KJ_PER_MOL, "relative", "relative_lattice_energy")
        for phase in phases if phase != "Ih"
    ]  # fmt: skip
    return ReactionData(reactions, structures, "lattice_energy", "DMC",
                        "Della Pia, Zen, Alfè, Michaelides, JCP 157, 134701 (2022)")  # fmt: skip


BENCHMARK = ReactionBenchmark(load)
tasks, references, reactions = BENCHMARK.tasks, BENCHMARK.references, BENCHMARK.reactions
