"""S24: adsorption energies of 24 molecule–surface systems from single points.

``s24/s24_data.extxyz`` in mlipx's ``s24.zip`` lists 72 frames: for each system the clean
surface, the surface with the adsorbate(s) and the free molecule, in that order, each with
its PBE-D3(BJ) energy. Each distinct structure is computed once per model; the adsorption
energy E(adsorbed) − E(surface) − n E(molecule) is formed in SQL.
"""

from __future__ import annotations

import functools
from pathlib import Path

from ase import Atoms

from mlpeg.adsorption import adsorption_reaction, band_tasks
from mlpeg.calc.tasks import Reference, Task
from mlpeg.data import fetch, read_manifest
from mlpeg.errors import DataError
from mlpeg.reactions import Reaction, ReactionData, merge_identical_species
from mlpeg.zipdata import read_member_frames, zip_members

FILES = read_manifest(Path(__file__).with_name("data.sha256"))
ARCHIVE = "benchmark_data/s24.zip"
MEMBER = "s24/s24_data.extxyz"
LEVEL = "PBE-D3(BJ)"
SOURCE = "S24 as packaged by mlipx (joehart2001/mlipx@59aa855, s24.zip); see benchmark.yml"

#: Quick band: the ten systems whose adsorbed structure has at most 60 atoms (graphene,
#: h-BN, H/Si(100), MoS2, Pt, Cu, Al, CeO2, a MOF fragment), about a third of the cost.
QUICK = ("001", "002", "004", "005", "006", "007", "008", "009", "015", "016")


def _bare(atoms: Atoms) -> Atoms:
    bare = Atoms(atoms.numbers, atoms.positions, cell=atoms.cell, pbc=atoms.pbc)
    bare.info.update(charge=0)
    return bare


def load(path: Path | None = None) -> ReactionData:
    """Read the triplets into reactions over distinct structures.

    Parameters
    ----------
    path
        The zip archive; the pinned mirror file when None.

    Returns
    -------
    ReactionData
        24 reactions named ``NNN surface-molecule`` (ML-PEG's ``sys_id`` and name).

    Raises
    ------
    DataError
        When the archive or its member cannot be read, the frames are not whole
        triplets, a frame has no energy, or an adsorbed system is not the surface plus
        whole molecules.
    """
    path = path or fetch(FILES[ARCHIVE])
    frames = read_member_frames(zip_members(path), MEMBER, archive=path)
    if len(frames) % 3:
        raise DataError(f"{path}: {MEMBER} holds {len(frames)} frames, not whole triplets.")
    reactions: list[Reaction] = []
    structures: dict[str, Atoms] = {}
    for start in range(0, len(frames), 3):
        sys_id = f"{start // 3 + 1:03d}"
        triplet = frames[start : start + 3]
        try:
            energies = [float(atoms.get_potential_energy()) for atoms in triplet]
        except Exception as exc:
            raise DataError(f"{path}: system {sys_id} has a frame without energy.") from exc
        surface, adsorbed, molecule = triplet
        name = f"{sys_id} {surface.get_chemical_formula()}-{molecule.get_chemical_formula()}"
        species = (f"{sys_id}/surface", f"{sys_id}/adsorbed", f"{sys_id}/molecule")
        structures.update(zip(species, map(_bare, triplet), strict=True))
        reaction = adsorption_reaction(name, species, (surface, adsorbed, molecule), 0.0)
        # reference: the same combination of the stored DFT energies
        by_species = dict(zip(species, energies, strict=True))
        reference = sum(c * by_species[s] for s, c in reaction.species)
        reactions.append(Reaction(reaction.name, reaction.species, reference))
    data = ReactionData(reactions, structures, "adsorption_energy", LEVEL, SOURCE)
    return merge_identical_species(data)


@functools.cache
def _data() -> ReactionData:
    return load()


def tasks(*, full: bool = False) -> list[Task]:
    """Single points of the species of the quick systems, or of all 24 with ``full``."""
    data = _data()
    quick = [r.name for r in data.reactions if r.name[:3] in QUICK]
    return band_tasks(data, None if full else quick)


def references() -> list[Reference]:
    """Reference adsorption energy of each system (eV)."""
    return _data().references()


def reactions() -> list[Reaction]:
    """The stoichiometry of each system's adsorption."""
    return _data().reactions
