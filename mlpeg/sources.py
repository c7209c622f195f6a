"""Small helpers shared by benchmarks that read their own source formats.

Reading one pinned file by its path with a clear error when the manifest lacks it, and
setting a molecule's charge and multiplicity the way every model reads them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from ase import Atoms

from mlpeg.data import RemoteFile, fetch
from mlpeg.errors import DataError


def pinned(files: Mapping[str, RemoteFile], path: str, manifest: Path | str) -> Path:
    """Return a local copy of the pinned file ``path``.

    Parameters
    ----------
    files
        A manifest read with :func:`mlpeg.data.read_manifest`.
    path
        The file's path inside its repository.
    manifest
        The manifest's path, named in the error.

    Raises
    ------
    DataError
        When the manifest does not list ``path``, or the file cannot be fetched or verified.
    """
    remote = files.get(path)
    if remote is None:
        raise DataError(f"{manifest}: does not list {path}.")
    return fetch(remote)


def set_charge_spin(atoms: Atoms, charge: int, multiplicity: int) -> Atoms:
    """Set ``atoms.info`` charge and multiplicity (``spin`` = 2S+1, as the models read it).

    Raises
    ------
    DataError
        When the multiplicity does not fit the electron count (parity) or is below 1.
    """
    electrons = int(atoms.numbers.sum()) - charge
    if multiplicity < 1 or (electrons + multiplicity) % 2 != 1:
        raise DataError(
            f"{atoms.get_chemical_formula()} with charge {charge} has {electrons} electrons: "
            f"multiplicity {multiplicity} is impossible."
        )
    atoms.info.update(charge=charge, multiplicity=multiplicity, spin=multiplicity)
    return atoms


class LazyStructures(Mapping[str, Atoms]):
    """Structures by name, each read on first access and then kept.

    For benchmarks with thousands of structures whose quick band needs a few: the names are
    known up front (so a reaction naming a missing species is still caught at once), the
    files are only read for the species that are computed.

    Parameters
    ----------
    readers
        Name → function returning that structure.
    """

    def __init__(self, readers: Mapping[str, Callable[[], Atoms]]) -> None:
        self._readers = dict(readers)
        self._read: dict[str, Atoms] = {}

    def __getitem__(self, name: str) -> Atoms:
        if name not in self._read:
            self._read[name] = self._readers[name]()
        return self._read[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._readers)

    def __len__(self) -> int:
        return len(self._readers)
