"""Oxygen adsorption on 58 elemental slabs: single points of slab, slab + O and O atom.

Each ``<element><n>-O.xyz`` in mlipx's zip holds three frames with PBE energies
(``ref_energy``): the clean slab, the slab with one O atom on top of its highest atom, and
the free O atom. The files' ``structure_type`` tags are not trusted (the clean slab is
tagged ``mol_surface``); frames are told apart by their atom counts, n, n + 1 and 1.
"""

from __future__ import annotations

import functools
from pathlib import Path, PurePosixPath

from ase import Atoms

from mlpeg.adsorption import adsorption_reaction, band_tasks
from mlpeg.calc.tasks import Reference, Task
from mlpeg.data import fetch, read_manifest
from mlpeg.errors import DataError
from mlpeg.reactions import Reaction, ReactionData, merge_identical_species
from mlpeg.structures import structure_hash
from mlpeg.zipdata import read_member_frames, zip_members

FILES = read_manifest(Path(__file__).with_name("data.sha256"))
ARCHIVE = "benchmark_data/elemental_slab_oxygen_adsorption_pbe.zip"
LEVEL = "PBE (MatPES static settings, 520 eV)"
SOURCE = "mlipx elemental_slab_oxygen_adsorption_pbe.zip (joehart2001/mlipx@59aa855)"

#: Elements commonly given a Hubbard U in GGA+U training data (ML-PEG's "U MAE").
U_ELEMENTS = frozenset({"Co", "Cr", "Fe", "Mn", "Mo", "Ni", "V", "W"})

#: Quick band: twelve slabs of at most 36 atoms across the table, three of them U elements.
QUICK = ("Ca", "Cs", "Cu", "In", "Mo", "Pt", "Sc", "Ti", "Tl", "V", "W", "Y")


def _bare(atoms: Atoms, *, spin: int | None = None) -> Atoms:
    bare = Atoms(atoms.numbers, atoms.positions, cell=atoms.cell, pbc=atoms.pbc)
    bare.info["charge"] = 0
    if spin is not None:
        bare.info["spin"] = spin
    return bare


def _triplet(frames: list[Atoms], where: str) -> tuple[Atoms, Atoms, Atoms]:
    """Return (slab, slab + O, O atom), told apart by atom counts."""
    by_size = sorted(frames, key=len)
    if len(frames) != 3 or len(by_size[0]) != 1 or len(by_size[2]) != len(by_size[1]) + 1:
        sizes = ", ".join(str(len(f)) for f in frames)
        raise DataError(f"{where}: expected slab, slab + O and O atom, found {sizes} atoms.")
    atom, slab, adsorbed = by_size
    if atom.get_chemical_symbols() != ["O"]:
        raise DataError(f"{where}: the single atom is {atom.get_chemical_formula()}, not O.")
    return slab, adsorbed, atom


def load(path: Path | None = None) -> ReactionData:
    """Read every slab's triplet into reactions over distinct structures.

    Parameters
    ----------
    path
        The zip archive; the pinned mirror file when None.

    Returns
    -------
    ReactionData
        58 reactions named like ``Pt36-O`` (subset ``U`` or ``non-U``).

    Raises
    ------
    DataError
        When the archive holds no slab file, a file does not parse, is not one slab,
        slab + O and O atom, or a frame has no ``ref_energy``.
    """
    path = path or fetch(FILES[ARCHIVE])
    members = zip_members(path, suffix=".xyz")
    if not members:
        raise DataError(f"{path} holds no .xyz slab file.")
    reactions: list[Reaction] = []
    structures: dict[str, Atoms] = {}
    for member in sorted(members):
        name = PurePosixPath(member).stem
        where = f"{path}: {member}"
        slab, adsorbed, atom = _triplet(read_member_frames(members, member, archive=path), where)
        try:
            energies = [float(a.info["ref_energy"]) for a in (slab, adsorbed, atom)]
        except (KeyError, ValueError) as exc:
            raise DataError(f"{where}: a frame has no ref_energy.") from exc
        # the O atom is one structure in every file: one species "O", computed once
        species = (f"{name}/slab", f"{name}/adsorbed", f"O {structure_hash(atom)[:8]}")
        structures.update(
            zip(species, (_bare(slab), _bare(adsorbed), _bare(atom, spin=3)), strict=True)
        )
        element = slab.get_chemical_symbols()[0]
        reference = energies[1] - energies[0] - energies[2]
        subset = "U" if element in U_ELEMENTS else "non-U"
        reactions.append(
            adsorption_reaction(name, species, (slab, adsorbed, atom), reference, subset=subset)
        )
    data = ReactionData(reactions, structures, "adsorption_energy", LEVEL, SOURCE)
    return merge_identical_species(data)


@functools.cache
def _data() -> ReactionData:
    return load()


def tasks(*, full: bool = False) -> list[Task]:
    """Single points of the twelve quick slabs' species, or of all 58 with ``full``."""
    data = _data()
    quick = [r.name for r in data.reactions if r.name.split("-")[0].rstrip("0123456789") in QUICK]
    return band_tasks(data, None if full else quick)


def references() -> list[Reference]:
    """Reference adsorption energy of O on each slab (eV)."""
    return _data().references()


def reactions() -> list[Reaction]:
    """The stoichiometry of each adsorption."""
    return _data().reactions
