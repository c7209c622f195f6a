"""Metal surface reconstructions: relaxed slabs against DFT energies and geometries.

``surface_configurations/list`` in the zip names 110 structures, each an ``.xyz`` with its
DFT energy (``DFT_energy``) and DFT-relaxed positions (``DFT_positions``, equal to the
input positions): 104 slabs of Cu(111)-O and Pd/Au(111) with C, N or O, four bulk
crystals (Au, C, Cu, Pd) and two gas molecules (N2, O2). Each model relaxes every slab
with its bottom layer fixed and every molecule, and computes the bulk crystals as given.
The views form the surface energy (E_slab − Σ μ) / A with each element's μ from its bulk
or gas reference, the displacement of the free atoms from their DFT positions, and
ML-PEG's ranking of consecutive triples of slabs.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import NamedTuple

import numpy as np
from ase import Atoms

from mlpeg.calc.tasks import Reference, SinglePoint, Task
from mlpeg.data import fetch, read_manifest
from mlpeg.errors import DataError
from mlpeg.slabs import SlabRelax, bottom_layer
from mlpeg.zipdata import read_member_frames, zip_members

FILES = read_manifest(Path(__file__).with_name("data.sha256"))
ARCHIVE = "ml_peg/calcs/surfaces/metal_surface_reconstructions/surface_configurations.zip"
FOLDER = "surface_configurations"
LEVEL = "PBE (VASP, 500 eV)"
SOURCE = "Zhu et al., JPCC 129, 13497 (2025); Vinogradova et al., JPCC 127, 22060 (2023)"

#: ML-PEG's protocol: BFGS to 0.05 eV/Å for slabs (bottom layer fixed), 0.01 for molecules.
SLAB = SlabRelax(fmax=0.05, max_steps=500, optimizer="BFGS")
GAS = SlabRelax(fmax=0.01, max_steps=500, optimizer="BFGS")
BULK = SinglePoint(("energy",))
#: Depth of the fixed bottom layer (Å), also what "free atoms" means for the displacement.
FIXED_DEPTH = SLAB.fixed_depth

#: Quick band: three ranking triples of 17–20-atom Pd/Au(111) slabs with O, C and N
#: (triples 4, 5 and 6), with the bulk and gas references their elements need.
QUICK_GROUPS = (4, 5, 6)


class Configuration(NamedTuple):
    """One listed structure: its name, kind (slab, bulk or gas) and DFT data."""

    name: str
    kind: str
    atoms: Atoms
    dft_energy: float
    dft_positions: np.ndarray


def _kind(name: str) -> str:
    return "bulk" if name.startswith("bulk") else "gas" if name.startswith("gas_phase") else "slab"


def load(path: Path | None = None) -> dict[str, Configuration]:
    """Read every structure named in the archive's list.

    Parameters
    ----------
    path
        The zip archive; the pinned mirror file when None.

    Returns
    -------
    dict
        Name → configuration, in the list's order. Files the list does not name (the
        list's own helper script) are not part of the benchmark and are not read.

    Raises
    ------
    DataError
        When the list or a listed file is missing or does not parse, or a structure has
        no DFT energy, or its DFT positions do not match its atoms.
    """
    path = path or fetch(FILES[ARCHIVE])
    members = zip_members(path)
    listing = f"{FOLDER}/list"
    if listing not in members:
        raise DataError(f"{path} has no member '{listing}'.")
    configurations = {}
    for name in members[listing].decode().split():
        member = f"{FOLDER}/{name}.xyz"
        (atoms, *_) = read_member_frames(members, member, archive=path)
        where = f"{path}: {member}"
        if "DFT_energy" not in atoms.info:
            raise DataError(f"{where}: no DFT_energy.")
        positions = atoms.arrays.get("DFT_positions", atoms.positions)
        if np.shape(positions) != (len(atoms), 3):
            raise DataError(f"{where}: DFT_positions do not match its {len(atoms)} atoms.")
        bare = Atoms(atoms.numbers, atoms.positions, cell=atoms.cell, pbc=atoms.pbc)
        bare.info["charge"] = 0
        configurations[name] = Configuration(
            name, _kind(name), bare, float(atoms.info["DFT_energy"]), np.asarray(positions)
        )
    return configurations


@functools.cache
def _configurations() -> dict[str, Configuration]:
    return load()


def ranking_groups(names: list[str]) -> dict[str, int]:
    """Assign slabs to ML-PEG's ranking triples: consecutive in file-name order.

    ML-PEG sorts the slab files by name (``<name>.xyz``) and ranks each run of three; a
    last run of fewer than three is not ranked.

    Parameters
    ----------
    names
        Slab names.

    Returns
    -------
    dict
        Slab name → triple index, for the slabs in whole triples.
    """
    ordered = sorted(names, key=lambda name: f"{name}.xyz")
    whole = len(ordered) // 3 * 3
    return {name: i // 3 for i, name in enumerate(ordered[:whole])}


def chemical_potentials(configurations: dict[str, Configuration]) -> dict[str, float]:
    """DFT energy per atom of each element's bulk or gas reference (eV)."""
    return {
        c.atoms.get_chemical_symbols()[0]: c.dft_energy / len(c.atoms)
        for c in configurations.values()
        if c.kind != "slab"
    }


def surface_area(atoms: Atoms) -> float:
    """Return |a × b| of the cell (Å²)."""
    return float(np.linalg.norm(np.cross(atoms.cell[0], atoms.cell[1])))


def tasks(*, full: bool = False) -> list[Task]:
    """Relax the slabs (quick: three triples) and molecules; bulk crystals as given."""
    configurations = _configurations()
    groups = ranking_groups([c.name for c in configurations.values() if c.kind == "slab"])
    slabs = [
        c
        for c in configurations.values()
        if c.kind == "slab" and (full or groups.get(c.name) in QUICK_GROUPS)
    ]
    elements = {s for c in slabs for s in c.atoms.get_chemical_symbols()}
    references = [
        c
        for c in configurations.values()
        if c.kind != "slab" and c.atoms.get_chemical_symbols()[0] in elements
    ]
    kinds = {"slab": SLAB, "gas": GAS, "bulk": BULK}
    return [Task(c.name, c.kind, c.atoms, kinds[c.kind]) for c in references + slabs]


def references() -> list[Reference]:
    """Per slab: DFT surface energy (eV/Å²), ranking triple, and DFT positions of its free
    atoms (Å, system ``<slab>/<atom>``, quantities ``dft_x``, ``dft_y``, ``dft_z``)."""
    configurations = _configurations()
    mu = chemical_potentials(configurations)
    slabs = [c for c in configurations.values() if c.kind == "slab"]
    groups = ranking_groups([c.name for c in slabs])
    refs = []
    for slab in slabs:
        missing = set(slab.atoms.get_chemical_symbols()) - set(mu)
        if missing:
            raise DataError(f"Slab {slab.name} has no bulk or gas reference for {missing}.")
        excess = slab.dft_energy - sum(mu[s] for s in slab.atoms.get_chemical_symbols())
        gamma = excess / surface_area(slab.atoms)
        refs.append(Reference(slab.name, "surface_energy", gamma, "eV/Å²", None, LEVEL, SOURCE))
        if slab.name in groups:
            refs.append(Reference(slab.name, "ranking_group", groups[slab.name], "", None))
        fixed = set(bottom_layer(slab.atoms, FIXED_DEPTH).tolist())
        for atom, position in enumerate(slab.dft_positions):
            if atom not in fixed:
                refs.extend(
                    Reference(f"{slab.name}/{atom:03d}", f"dft_{axis}", float(x), "Å", None, LEVEL)
                    for axis, x in zip("xyz", position, strict=True)
                )
    return refs
