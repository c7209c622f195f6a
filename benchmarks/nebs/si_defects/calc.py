"""Si interstitial migration: single points on fixed NEB images against PBE.

The 52 images of the 64-atom path (a 2×2×2 diamond supercell plus one interstitial, 65
atoms) are evaluated as they are, with no relaxation: each model's energy relative to
image 0 and its forces are compared with the PBE (Quantum ESPRESSO) ones stored with the
images. Reference forces are stored per atom (system ``image_NN/AAA``, quantities
``force_x``, ``force_y``, ``force_z``) so the views compare them component by component.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from ase import Atoms
from ase.io import read

from mlpeg.calc.tasks import Reference, SinglePoint, Task
from mlpeg.data import fetch, read_manifest
from mlpeg.errors import DataError

FILES = read_manifest(Path(__file__).with_name("data.sha256"))
PATH_64 = "ml_peg/calcs/nebs/si_defects/data/64_atoms.extxyz"
LEVEL = "PBE (Quantum ESPRESSO 7.0, PAW, Γ point)"
SOURCE = "ML-PEG si_defects (ddmms/ml-peg@e458ecf), 64_atoms.extxyz"


def image_name(index: int) -> str:
    """Return the system name of NEB image ``index`` (``image_07``)."""
    return f"image_{index:02d}"


def load_images(path: Path | None = None) -> list[Atoms]:
    """Read the 64-atom band and check that every image carries its PBE reference.

    Parameters
    ----------
    path
        The extxyz file; the pinned mirror file when None.

    Returns
    -------
    list of Atoms
        The images in path order, each with ``info['ref_energy_ev']`` (eV) and
        ``arrays['ref_forces']`` (eV/Å); charge 0, spin 1.

    Raises
    ------
    DataError
        When the file does not parse, or an image lacks its energy or forces, or the
        images are not numbered 0, 1, 2, ... in order.
    """
    path = path or fetch(FILES[PATH_64])
    try:
        images = read(path, index=":", format="extxyz")
    except Exception as exc:
        raise DataError(f"{path} does not parse as extended XYZ ({exc}).") from exc
    for position, atoms in enumerate(images):
        where = f"{path}, image {position}"
        if atoms.info.get("image_index", position) != position:
            raise DataError(f"{where}: image_index is {atoms.info['image_index']}.")
        if "ref_energy_ev" not in atoms.info:
            raise DataError(f"{where}: no ref_energy_ev.")
        forces = atoms.arrays.get("ref_forces")
        if forces is None or forces.shape != (len(atoms), 3) or not np.isfinite(forces).all():
            raise DataError(f"{where}: ref_forces missing or not finite.")
        atoms.info.update(charge=0, spin=1)
    if not images:
        raise DataError(f"{path} holds no image.")
    return images


def _bare(atoms: Atoms) -> Atoms:
    bare = Atoms(atoms.numbers, atoms.positions, cell=atoms.cell, pbc=atoms.pbc)
    bare.info.update(charge=0, spin=1)
    return bare


def tasks() -> list[Task]:
    """Energy and forces of every image, in path order (the quick band is in benchmark.yml)."""
    return [
        Task(image_name(i), "image", _bare(atoms), SinglePoint(("energy", "forces")))
        for i, atoms in enumerate(load_images())
    ]


def references() -> list[Reference]:
    """PBE energy of each image relative to image 0 (eV), and PBE forces per atom (eV/Å)."""
    images = load_images()
    e0 = float(images[0].info["ref_energy_ev"])
    refs = []
    for i, atoms in enumerate(images):
        energy = float(atoms.info["ref_energy_ev"]) - e0
        refs.append(Reference(image_name(i), "relative_energy", energy, "eV", None, LEVEL, SOURCE))
        for atom, force in enumerate(atoms.arrays["ref_forces"]):
            refs.extend(
                Reference(
                    f"{image_name(i)}/{atom:03d}",
                    f"force_{axis}",
                    float(f),
                    "eV/Å",
                    None,
                    LEVEL,
                    SOURCE,
                )
                for axis, f in zip("xyz", force, strict=True)
            )
    return refs
