"""Read pymatgen's JSON (``Structure``, ``ComputedStructureEntry``) without pymatgen.

Data sets such as matcalc's benchmarks and Alexandria ship pymatgen objects serialised with
``as_dict()``; their layout is plain JSON, so ASE atoms can be built from it directly.
"""

from __future__ import annotations

import functools
import gzip
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from ase import Atoms

from mlpeg.errors import DataError


def _species(site: Mapping[str, Any], where: str) -> str:
    species = site.get("species")
    if not species:  # older dumps: a bare "label" / "name"
        raise DataError(f"{where}: a site has no species.")
    if len(species) != 1 or abs(float(species[0].get("occu", 1.0)) - 1.0) > 1e-6:
        raise DataError(f"{where}: a site is partially occupied ({species}); not a crystal.")
    return str(species[0]["element"])


def structure_to_atoms(document: Mapping[str, Any], *, where: str = "structure") -> Atoms:
    """Return ASE atoms of a pymatgen ``Structure.as_dict()``.

    Parameters
    ----------
    document
        The dict (``lattice.matrix`` in Å, ``sites`` with ``species`` and fractional
        ``abc``).
    where
        Names the record in error messages.

    Returns
    -------
    Atoms
        Periodic atoms with charge 0 and spin 1 in ``info``.

    Raises
    ------
    DataError
        When the lattice or a site is missing or malformed, or a site is disordered.
    """
    try:
        cell = np.asarray(document["lattice"]["matrix"], dtype=float)
        sites = document["sites"]
        symbols = [_species(site, where) for site in sites]
        fractions = np.asarray([site["abc"] for site in sites], dtype=float)
    except (KeyError, TypeError, ValueError) as exc:
        raise DataError(f"{where}: not a pymatgen Structure ({exc!r}).") from exc
    if cell.shape != (3, 3) or fractions.shape != (len(symbols), 3) or not len(symbols):
        raise DataError(f"{where}: lattice or site coordinates have the wrong shape.")
    try:
        atoms = Atoms(symbols=symbols, scaled_positions=fractions, cell=cell, pbc=True)
    except (KeyError, ValueError) as exc:  # an unknown element symbol
        raise DataError(f"{where}: {exc}.") from exc
    atoms.info.update(charge=0, spin=1)
    return atoms


def entry_to_atoms(document: Mapping[str, Any], *, where: str = "entry") -> tuple[Atoms, dict]:
    """Return the structure and the plain fields of a ``ComputedStructureEntry`` dict.

    Returns
    -------
    tuple
        (atoms, fields) with ``energy`` (eV, total, uncorrected), ``correction``,
        ``entry_id`` and ``data`` as stored.
    """
    if "structure" not in document:
        raise DataError(f"{where}: not a ComputedStructureEntry (no structure).")
    atoms = structure_to_atoms(document["structure"], where=where)
    fields = {
        "energy": document.get("energy"),
        "correction": document.get("correction", 0.0),
        "entry_id": document.get("entry_id"),
        "data": document.get("data") or {},
    }
    return atoms, fields


@functools.cache
def _json_gz(path: Path) -> list[dict]:
    with gzip.open(path, "rt") as handle:
        return json.load(handle)


def matcalc_records(path: Path, required: Iterable[str], what: str) -> list[dict]:
    """Return the records of one of matcalc's ``benchmark_data/*.json.gz`` sets.

    Read once per process (calc.py's ``tasks()`` and ``references()`` both need them); every
    record must hold the ``required`` keys.

    Raises
    ------
    DataError
        If the file cannot be read, or a record lacks a key, naming file and record.
    """
    try:
        found = _json_gz(path)
    except (OSError, EOFError, json.JSONDecodeError) as exc:
        raise DataError(f"{path}: cannot read the {what} set ({exc}).") from exc
    for index, record in enumerate(found):
        missing = set(required) - set(record)
        if missing:
            raise DataError(f"{path}: record {index} lacks {', '.join(sorted(missing))}.")
    return found


def smallest_cells(records: Sequence[dict], n: int) -> list[dict]:
    """Return the ``n`` records with the fewest sites (ties by ``mp_id``): a quick band."""
    return sorted(records, key=lambda r: (len(r["structure"]["sites"]), r["mp_id"]))[:n]
