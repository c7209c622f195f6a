"""Read structures from pinned zip archives (ML-PEG's and mlipx's data bundles).

The archives are fetched and checked like any pinned file (:func:`mlpeg.data.fetch`); this
module only opens them. Entries that are not data are skipped by name (macOS resource
forks under ``__MACOSX/``, AppleDouble ``._*`` files, folders), so a zip packed on a Mac
reads the same as a clean one. A corrupt archive, a missing member or a member that does
not parse raises one :class:`~mlpeg.errors.DataError` that names the archive and member.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path, PurePosixPath

from ase import Atoms
from ase.io import read

from mlpeg.errors import DataError

#: Path prefixes of entries that never hold data.
STRAY_PREFIXES = ("__MACOSX/",)


def is_stray(name: str) -> bool:
    """Return True for entries that are not data: folders, ``__MACOSX/`` and ``._*`` files."""
    return (
        name.endswith("/")
        or name.startswith(STRAY_PREFIXES)
        or PurePosixPath(name).name.startswith("._")
    )


def zip_members(path: Path, *, suffix: str = "") -> dict[str, bytes]:
    """Return the data entries of a zip archive whose names end in ``suffix``.

    Parameters
    ----------
    path
        The archive.
    suffix
        Keep only entries whose name ends with it (``.xyz``); all data entries when empty.

    Returns
    -------
    dict
        Entry name (as stored, e.g. ``folder/Pt36-O.xyz``) → bytes, in archive order.

    Raises
    ------
    DataError
        When the archive cannot be read or an entry fails its CRC check.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            return {
                info.filename: archive.read(info)
                for info in archive.infolist()
                if not is_stray(info.filename) and info.filename.endswith(suffix)
            }
    except (OSError, zipfile.BadZipFile, zipfile.LargeZipFile) as exc:
        raise DataError(f"Cannot read zip archive {path}: {exc}.") from exc


def read_member_frames(
    members: dict[str, bytes], name: str, *, archive: Path | str, fmt: str = "extxyz"
) -> list[Atoms]:
    """Parse every frame of one archive entry.

    Parameters
    ----------
    members
        What :func:`zip_members` returned.
    name
        The entry to parse.
    archive
        The archive it came from (for the error message).
    fmt
        ASE format of the entry.

    Returns
    -------
    list of Atoms
        The frames, in file order.

    Raises
    ------
    DataError
        When the entry is missing, empty or does not parse.
    """
    if name not in members:
        raise DataError(f"{archive} has no member '{name}'.")
    try:
        frames = read(io.StringIO(members[name].decode()), index=":", format=fmt)
    except Exception as exc:  # ASE raises many types for malformed text
        raise DataError(f"{archive}: member '{name}' does not parse as {fmt} ({exc}).") from exc
    if not frames:
        raise DataError(f"{archive}: member '{name}' holds no structure.")
    return list(frames)
