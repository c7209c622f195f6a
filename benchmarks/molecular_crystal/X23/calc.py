"""X23: each crystal and its isolated molecule, one single-point energy each."""

from pathlib import Path

import numpy as np
from ase.units import kJ, mol

from mlpeg.calc.tasks import Reference, SinglePoint, Task
from mlpeg.data import fetch, read_manifest

FILES = read_manifest(Path(__file__).with_name("data.sha256"))
DMC = "data_figures/diffusion-monte-carlo/DMC"
# Folders 01CYHEXO ... 23Succinic_acid; the DMC table lists them in this order.
FOLDERS = sorted({path.split("/")[2] for path in FILES if path.startswith("data_dmc/solid/")})


def system(folder: str) -> str:
    return folder[2:].lower()


def tasks() -> list[Task]:
    from ase.io import read  # here, not above: the ML-PEG importer reads FOLDERS only

    return [
        Task(
            system(folder),
            role,
            read(fetch(FILES[f"data_dmc/{role}/{folder}/POSCAR"]), format="vasp"),
            SinglePoint(("energy",)),
        )
        for folder in FOLDERS
        for role in ("solid", "molecule")
    ]


def references() -> list[Reference]:
    table = np.loadtxt(fetch(FILES[DMC]))  # kJ/mol per molecule, DMC error bar
    return [
        Reference(
            system(folder),
            "lattice_energy",
            energy * kJ / mol,
            "eV",
            error * kJ / mol,
            "DMC",
            "Della Pia et al., PRL 133, 046401 (2024)",
        )
        for folder, (energy, error) in zip(FOLDERS, table, strict=True)
    ]
