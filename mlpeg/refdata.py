"""Read aoterodelaroza/refdata: ``.din`` reaction files and molecule ``.xyz`` files.

A ``.din`` file lists reactions in kcal/mol. After a header of ``#`` comments, each block is
pairs of lines (a stoichiometric coefficient, then a structure name), closed by a line
``0`` and then a line holding the reference value, optionally followed by the reaction's
name (GSCDB138 files). A directive ``#@ fieldasrxn N`` says how refdata names a reaction
when the value line has no name: ``N > 0`` the N-th structure, ``N < 0`` the N-th from
the end, ``0`` (or absent) the reaction written out. Blank lines, ``#`` comments and a
line ``KCAL`` are skipped; a line ``-111`` ends the file.

refdata's ``.xyz`` files hold the number of atoms, a comment line and one atom per line.
The comment line carries charge and multiplicity, in one of the forms found in the
repository: ``0 1`` (charge, multiplicity), ``charge = 0 mult = 1`` (autodE, CYCLO70),
``charge=0 charge_a=0 ...`` (HB375x10 dimers, no multiplicity) or nothing at all
(HB375x10 monomers). A missing charge is read as 0 and a missing multiplicity as the
lowest one the electron count allows (1 for an even count, 2 for an odd one).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.data import atomic_numbers

from mlpeg.errors import DataError

_DIRECTIVE = re.compile(r"^#@\s*(\w+)\s*(.*)$")
_CHARGE = re.compile(r"(?<![\w])charge\s*=\s*(-?\d+)", re.IGNORECASE)
_MULTIPLICITY = re.compile(r"(?<![\w])mult(?:iplicity)?\s*=\s*(\d+)", re.IGNORECASE)
_TWO_INTEGERS = re.compile(r"^\s*(-?\d+)\s+(\d+)\s*$")


@dataclass(frozen=True)
class DinReaction:
    """One reaction of a ``.din`` file.

    Parameters
    ----------
    name
        The reaction's name: the one on its value line, else the one refdata's
        ``fieldasrxn`` rule gives, else its 1-based position in the file.
    species
        ``(coefficient, structure name)`` pairs in file order.
    reference_kcal_per_mol
        The reference value as written (kcal/mol).
    index
        1-based position in the file.
    """

    name: str
    species: tuple[tuple[float, str], ...]
    reference_kcal_per_mol: float
    index: int


def _reaction_name(species: list[tuple[float, str]], field: int, index: int) -> str:
    if field > 0 and field <= len(species):
        return species[field - 1][1]
    if field < 0 and -field <= len(species):
        return species[field][1]
    return str(index)


def parse_din(text: str, *, source: str = "<din>") -> list[DinReaction]:
    """Parse the text of a refdata ``.din`` file.

    Parameters
    ----------
    text
        The file's content.
    source
        Name used in error messages (the file's path).

    Returns
    -------
    list of DinReaction
        The reactions in file order.

    Raises
    ------
    DataError
        When a block is truncated or a number cannot be read; names the line.
    """
    field = 0
    lines = text.splitlines()
    reactions: list[DinReaction] = []
    position = 0

    def next_line() -> tuple[int, str]:
        nonlocal position
        while position < len(lines):
            lineno, line = position + 1, lines[position].strip()
            position += 1
            if line and not line.startswith("#") and line.upper() != "KCAL":
                return lineno, line
        raise DataError(f"{source}: the file ends inside a reaction block.")

    def number(lineno: int, token: str) -> float:
        try:
            value = float(token)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):  # float() also takes 'nan' and 'inf'
            raise DataError(f"{source}:{lineno}: expected a number, got '{token}'.")
        return value

    while position < len(lines):
        raw = lines[position].strip()
        directive = _DIRECTIVE.match(raw)
        if directive and directive.group(1).lower() == "fieldasrxn":
            value = directive.group(2).split()
            field = int(value[0]) if value and re.fullmatch(r"-?\d+", value[0]) else 0
        if not raw or raw.startswith("#") or raw.upper() == "KCAL":
            position += 1
            continue
        if raw == "-111":
            break
        species: list[tuple[float, str]] = []
        lineno, line = next_line()
        start = lineno
        while line != "0":
            coefficient = number(lineno, line)
            if coefficient == 0:
                raise DataError(f"{source}:{lineno}: a stoichiometric coefficient of 0.")
            _, name = next_line()
            species.append((coefficient, name))
            lineno, line = next_line()
        if not species:
            raise DataError(f"{source}:{start}: a reaction without species.")
        lineno, line = next_line()
        tokens = line.split()
        reference = number(lineno, tokens[0])
        index = len(reactions) + 1
        name = tokens[1] if len(tokens) > 1 else _reaction_name(species, field, index)
        reactions.append(DinReaction(name, tuple(species), reference, index))
    return reactions


def read_din(path: Path) -> list[DinReaction]:
    """Read a refdata ``.din`` file; see :func:`parse_din`."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise DataError(f"Cannot read {path}: {exc.strerror}.") from exc
    return parse_din(text, source=str(path))


def lowest_multiplicity(numbers: Iterable[int], charge: int) -> int:
    """Return 1 for an even electron count and 2 for an odd one."""
    return 1 + (sum(int(z) for z in numbers) - charge) % 2


def parse_charge_multiplicity(comment: str) -> tuple[int | None, int | None]:
    """Read charge and multiplicity from an xyz comment line (None where absent)."""
    pair = _TWO_INTEGERS.match(comment)
    if pair:
        return int(pair.group(1)), int(pair.group(2))
    charge = _CHARGE.search(comment)
    multiplicity = _MULTIPLICITY.search(comment)
    return (
        int(charge.group(1)) if charge else None,
        int(multiplicity.group(1)) if multiplicity else None,
    )


def parse_xyz(text: str, *, source: str = "<xyz>") -> Atoms:
    """Parse a refdata xyz file into a molecule with charge and multiplicity.

    Parameters
    ----------
    text
        The file's content.
    source
        Name used in error messages.

    Returns
    -------
    ase.Atoms
        Non-periodic, no cell. ``info`` holds ``charge``, ``multiplicity`` and ``spin``;
        ``spin`` is the multiplicity 2S+1, the convention of the charge- and spin-aware
        models (fairchem, orb-models) and of ML-PEG's calcs.

    Raises
    ------
    DataError
        When the atom count or an atom line cannot be read; names the line.
    """
    lines = text.splitlines()
    try:
        n_atoms = int(lines[0].split()[0])
    except (IndexError, ValueError):
        raise DataError(f"{source}:1: expected the number of atoms.") from None
    if len(lines) < n_atoms + 2:
        raise DataError(f"{source}: has {len(lines) - 2} atom lines, expected {n_atoms}.")
    numbers = np.empty(n_atoms, dtype=int)
    positions = np.empty((n_atoms, 3))
    for row, line in enumerate(lines[2 : n_atoms + 2]):
        tokens = line.split()
        try:
            label = tokens[0]
            # some files number their atoms (GSCDB138's "Al1", "H3"): the digits go
            element = label if label.isdigit() else label.rstrip("0123456789").capitalize()
            numbers[row] = int(element) if element.isdigit() else atomic_numbers[element]
            positions[row] = [float(value) for value in tokens[1:4]]
        except (IndexError, KeyError, ValueError):
            raise DataError(
                f"{source}:{row + 3}: cannot read atom line '{line.strip()}'."
            ) from None
    charge, multiplicity = parse_charge_multiplicity(lines[1])
    charge = 0 if charge is None else charge
    if multiplicity is None:
        multiplicity = lowest_multiplicity(numbers, charge)
    atoms = Atoms(numbers=numbers, positions=positions, pbc=False)
    atoms.info.update({"charge": charge, "multiplicity": multiplicity, "spin": multiplicity})
    return atoms


def read_xyz(path: Path) -> Atoms:
    """Read a refdata xyz file; see :func:`parse_xyz`."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise DataError(f"Cannot read {path}: {exc.strerror}.") from exc
    return parse_xyz(text, source=str(path))


def read_aims_geometry(path: Path) -> Atoms:
    """Read an FHI-aims ``geometry.in`` such as refdata's ICE13 water molecule.

    Reads ``atom x y z symbol`` lines, and ``lattice_vector`` lines when periodic.

    Parameters
    ----------
    path
        The file.

    Returns
    -------
    ase.Atoms
        Periodic when lattice vectors are given, otherwise a molecule with no cell.
    """
    symbols, positions, cell = [], [], []
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise DataError(f"Cannot read {path}: {exc.strerror}.") from exc
    for lineno, line in enumerate(lines, start=1):
        tokens = line.split()
        if not tokens or tokens[0] not in ("atom", "lattice_vector"):
            continue
        try:
            vector = [float(value) for value in tokens[1:4]]
        except (ValueError, IndexError):
            raise DataError(f"{path}:{lineno}: cannot read '{line.strip()}'.") from None
        if tokens[0] == "atom":
            symbols.append(tokens[4])
            positions.append(vector)
        else:
            cell.append(vector)
    if cell and len(cell) != 3:
        raise DataError(f"{path}: has {len(cell)} lattice vectors, expected 3.")
    return Atoms(symbols, positions=positions, cell=cell or None, pbc=bool(cell))
