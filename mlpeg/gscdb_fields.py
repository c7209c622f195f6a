"""GSCDB138's electric-field data sets from JiashuLiang/GSCDB138 (xyz files and DatasetEval.xlsx).

``xyz_files/<species>.xyz`` carries, on its comment line, the charge, the multiplicity and the
applied field in Q-Chem's ``multipole_field`` form (atomic units, ``{'Z': 0.0001}``, keys in
either case, ``{}`` or absent for none)::

    charge=0, multiplicity=1, basis=AUG-PC-3, multipole_field={'Z': 0.0001}, ...

``Info/DatasetEval.xlsx`` (sheet ``new``) lists every reaction: ``Reaction``, ``Dataset``,
``Reference`` (Eh) and ``Stoichiometry`` (``coefficient,species,coefficient,species,...``).
The field is stored in ``atoms.info["external_field"]`` in V/Å (1 a.u. = Eh/(e a0)), with
Q-Chem's sign convention, for every species, zero included (the zero-field and displaced
references are half of each energy difference): a model that does not take a field records
them all as unsupported (:meth:`mlpeg.models.registry.ModelSpec.unsupported_reason`).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.units import Bohr, Hartree

from mlpeg.data import RemoteFile, fetch, read_manifest
from mlpeg.errors import DataError
from mlpeg.reactions import Reaction, ReactionData, combine_species, merge_identical_species
from mlpeg.refdata import parse_xyz

XLSX = "Info/DatasetEval.xlsx"
SHEET = "new"
COLUMNS = ("Reaction", "Dataset", "Reference", "Stoichiometry")

#: One atomic unit of electric field in V/Å.
AU_FIELD_V_PER_A = Hartree / Bohr

_FIELD = re.compile(r"multipole_field=(\{[^}]*\})")


def parse_field(comment: str, *, source: str) -> np.ndarray:
    """Return the applied field of a comment line in V/Å (zeros when there is none).

    Raises
    ------
    DataError
        A ``multipole_field`` that is not a dict of x/y/z components.
    """
    match = _FIELD.search(comment)
    if not match:
        return np.zeros(3)
    try:
        components = ast.literal_eval(match.group(1))
        vector = np.zeros(3)
        for key, value in components.items():
            vector["xyz".index(str(key).lower())] = float(value)
    except (ValueError, SyntaxError, AttributeError, TypeError):
        raise DataError(f"{source}: cannot read {match.group(0)}.") from None
    return vector * AU_FIELD_V_PER_A


class ZMatrixError(DataError):
    """An xyz file of the repository that holds a Q-Chem Z-matrix instead of coordinates."""


def _single_atom_at_origin(lines: list[str]) -> str | None:
    """Rewrite Q-Chem's one-atom geometry without coordinates (``Ar``) as an xyz atom line."""
    if len(lines) >= 3 and lines[0].split() == ["1"] and len(lines[2].split()) == 1:
        return lines[2].split()[0] + " 0.0 0.0 0.0"
    return None


def read_species(text: str, *, source: str) -> Atoms:
    """Parse one GSCDB138 xyz file: charge, multiplicity (``spin``) and field (V/Å).

    A single atom written without coordinates (Q-Chem's form for an atom) is put at the
    origin. A file that holds a Z-matrix raises :class:`ZMatrixError`.
    """
    lines = text.splitlines()
    origin = _single_atom_at_origin(lines)
    if origin is not None:
        text = "\n".join([*lines[:2], origin, *lines[3:]])
    elif len(lines) >= 4 and len(lines[2].split()) == 1 and len(lines[3].split()) == 3:
        raise ZMatrixError(f"{source}: holds a Z-matrix, not Cartesian coordinates.")
    atoms = parse_xyz(text, source=source)
    atoms.info["external_field"] = parse_field(lines[1] if len(lines) > 1 else "", source=source)
    return atoms


def read_reactions(path: Path, datasets: Sequence[str]) -> list[tuple[str, str, float, list]]:
    """Read the reactions of ``datasets`` from DatasetEval.xlsx.

    Returns
    -------
    list
        ``(reaction, dataset, reference in Eh, [(species, coefficient), ...])`` in sheet order.

    Raises
    ------
    DataError
        A workbook without the sheet or columns, or a row that does not parse (names the row).
    """
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile, KeyError or its own errors
        raise DataError(f"Cannot read {XLSX}: {type(exc).__name__}: {exc}.") from exc
    try:
        if SHEET not in workbook.sheetnames:
            raise DataError(f"{XLSX} has no sheet '{SHEET}'.")
        rows = workbook[SHEET].iter_rows(values_only=True)
        header = tuple(next(rows, ()))[: len(COLUMNS)]
        if header != COLUMNS:
            raise DataError(f"{XLSX}: expected columns {', '.join(COLUMNS)}, got {header}.")
        wanted = set(datasets)
        out = []
        for number, row in enumerate(rows, start=2):
            name, dataset, reference, stoichiometry = row[: len(COLUMNS)]
            if dataset not in wanted:
                continue
            try:
                fields = str(stoichiometry).split(",")
                if len(fields) % 2 or not fields[0]:
                    raise ValueError
                species = [
                    (s.strip(), float(c)) for c, s in zip(fields[::2], fields[1::2], strict=True)
                ]
                out.append((str(name), str(dataset), float(reference), species))
            except (TypeError, ValueError):
                raise DataError(
                    f"{XLSX}, sheet {SHEET}, row {number}: cannot read reaction {name!r} "
                    f"({stoichiometry!r}, {reference!r})."
                ) from None
    finally:
        workbook.close()
    return out


@dataclass
class FieldSets:
    """The reactions loaded, and those left out (reaction → reason)."""

    data: ReactionData
    excluded: dict[str, str] = field(default_factory=dict)


def load_field_sets(
    manifest: Path, datasets: Sequence[str], *, level_of_theory: str, source: str
) -> FieldSets:
    """Load the reactions of ``datasets`` and their species from files pinned in a manifest.

    Reactions with a species whose file holds a Z-matrix (12 Pol130 files) are left out and
    kept in :attr:`FieldSets.excluded` with the reason; any other unreadable file is an error.

    Raises
    ------
    DataError
        A missing or corrupt file, a reaction whose species has no xyz file, an xyz file of
        these data sets that no reaction uses, or a data set with no reaction.
    """
    files = read_manifest(manifest)
    if XLSX not in files:
        raise DataError(f"{manifest}: does not list {XLSX}.")
    rows = read_reactions(fetch(files[XLSX]), datasets)
    xyz: dict[str, RemoteFile] = {
        path.removeprefix("xyz_files/").removesuffix(".xyz"): remote
        for path, remote in files.items()
        if path.startswith("xyz_files/") and path.endswith(".xyz")
    }
    empty = [d for d in datasets if not any(row[1] == d for row in rows)]
    if empty:
        raise DataError(f"{XLSX} has no reaction of data set {empty[0]}.")
    reactions: list[Reaction] = []
    structures: dict[str, Atoms] = {}
    unreadable: dict[str, str] = {}
    excluded: dict[str, str] = {}
    for name, dataset, reference_eh, species in rows:
        for species_name, _ in species:
            if species_name in structures or species_name in unreadable:
                continue
            if species_name not in xyz:
                raise DataError(
                    f"{XLSX}: reaction {name} uses {species_name}, which has no "
                    f"xyz_files/{species_name}.xyz in {manifest}."
                )
            path = f"xyz_files/{species_name}.xyz"
            try:
                structures[species_name] = read_species(
                    fetch(xyz[species_name]).read_text(encoding="utf-8", errors="replace"),
                    source=path,
                )
            except ZMatrixError as exc:
                unreadable[species_name] = str(exc)
        skipped = [s for s, _ in species if s in unreadable]
        if skipped:
            excluded[name] = f"left out: {unreadable[skipped[0]]}"
            continue
        reactions.append(Reaction(name, combine_species(species), reference_eh * Hartree, dataset))
    unused = sorted(
        name
        for name in xyz
        if name.split("_", 1)[0] in set(datasets)
        and name not in structures
        and name not in unreadable
    )
    if unused:
        raise DataError(f"{len(unused)} xyz files are used by no reaction (first: {unused[0]}).")
    data = ReactionData(reactions, structures, "reaction_energy", level_of_theory, source)
    return FieldSets(merge_identical_species(data), excluded)
