"""Download, verify and cache public data files pinned by commit and sha256.

Every file is named by ``<owner>/<repo>/<commit>/<path>``, the path of its raw copy on
GitHub. It is fetched once, checked against its sha256 and kept in the cache
(``MLPEG_CACHE``, default ``~/.cache/mlpeg``). When ``MLPEG_DATA_MIRROR`` is set, the same
relative path is read from that folder instead of the network; sources with thousands of
files are mirrored as one uncompressed tar per commit (``<owner>/<repo>/<commit>.tar``, members
named by their path in the repository), read when the raw file is not there. Each tar's
member index is read once per process and kept open, so fetching thousands of members does
not reopen it. A file whose checksum does not match is never cached, and a partial
download never reaches its final name.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import tarfile
import tempfile
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from mlpeg.errors import DataError
from mlpeg.paths import cache_dir

RAW_URL = "https://raw.githubusercontent.com/{owner}/{repo}/{commit}/{path}"


@dataclass(frozen=True)
class RemoteFile:
    """One public file pinned by commit and checksum.

    Parameters
    ----------
    owner, repo, commit, path
        Where the file lives on GitHub.
    sha256
        Hex digest the bytes must have.
    """

    owner: str
    repo: str
    commit: str
    path: str
    sha256: str

    @property
    def relpath(self) -> str:
        """Path inside the cache or a mirror: ``owner/repo/commit/path``."""
        return f"{self.owner}/{self.repo}/{self.commit}/{self.path}"

    @property
    def tar_relpath(self) -> str:
        """Path of the commit's tar inside a mirror: ``owner/repo/commit.tar``."""
        return f"{self.owner}/{self.repo}/{self.commit}.tar"

    @property
    def url(self) -> str:
        """Public download address of the raw file."""
        return RAW_URL.format(owner=self.owner, repo=self.repo, commit=self.commit, path=self.path)

    @classmethod
    def from_relpath(cls, relpath: str, sha256: str) -> RemoteFile:
        """Build from an ``owner/repo/commit/path`` string."""
        parts = relpath.split("/", 3)
        if len(parts) != 4:
            raise DataError(f"'{relpath}' is not of the form owner/repo/commit/path.")
        return cls(*parts, sha256=sha256)


def sha256_of(path: Path) -> str:
    """Return the hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_manifest(path: Path) -> dict[str, RemoteFile]:
    """Read a ``sha256sum``-style manifest of ``<sha256>  owner/repo/commit/path`` lines.

    Parameters
    ----------
    path
        The manifest file; a name ending in ``.gz`` is read through gzip (manifests of
        sources with thousands of files).

    Returns
    -------
    dict
        Files keyed by their path inside the repository (``path`` of RemoteFile).
    """
    files: dict[str, RemoteFile] = {}
    try:
        raw = path.read_bytes()
        lines = (gzip.decompress(raw) if path.suffix == ".gz" else raw).decode().splitlines()
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise DataError(f"Cannot read data manifest {path}: {reason}.") from exc
    for lineno, line in enumerate(lines, start=1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split(maxsplit=1)
        if len(fields) != 2 or len(fields[0]) != 64:
            raise DataError(f"{path}:{lineno}: expected '<sha256>  owner/repo/commit/path'.")
        remote = RemoteFile.from_relpath(fields[1].strip(), fields[0])
        files[remote.path] = remote
    return files


def _mirror_root() -> Path | None:
    mirror = os.environ.get("MLPEG_DATA_MIRROR")
    return Path(mirror) if mirror else None


@dataclass
class _TarIndex:
    """An open mirror tar and its members by name, read once per process."""

    path: Path
    handle: tarfile.TarFile
    members: dict[str, tarfile.TarInfo]
    lock: threading.Lock = field(default_factory=threading.Lock)


_TARS: dict[Path, _TarIndex] = {}
_TARS_LOCK = threading.Lock()


def _corrupt(path: Path, exc: BaseException) -> DataError:
    return DataError(f"The mirror tar {path} is corrupt or truncated ({exc}); replace it.")


def _tar_index(path: Path) -> _TarIndex:
    """Return the member index of the tar at ``path``, opening and scanning it once."""
    with _TARS_LOCK:
        index = _TARS.get(path)
        if index is None:
            try:
                handle = tarfile.open(path, mode="r:")  # noqa: SIM115 (kept open: the index)
                members = {
                    member.name.removeprefix("./"): member
                    for member in handle.getmembers()
                    if member.isfile()
                }
            except (tarfile.TarError, EOFError, OSError) as exc:
                raise _corrupt(path, exc) from exc
            index = _TARS[path] = _TarIndex(path, handle, members)
        return index


def _copy_from_mirror(remote: RemoteFile, mirror: Path, tmp: Path) -> None:
    """Copy ``remote`` from the mirror's raw path, or else from its commit's tar."""
    source = mirror / remote.relpath
    if source.is_file():
        shutil.copyfile(source, tmp)
        return
    tar_path = mirror / remote.tar_relpath
    if not tar_path.is_file():
        raise DataError(
            f"{remote.relpath} is not in the data mirror {mirror} (MLPEG_DATA_MIRROR), "
            f"neither as a file nor in {remote.tar_relpath}."
        )
    index = _tar_index(tar_path)
    member = index.members.get(remote.path)
    if member is None:
        raise DataError(f"{remote.path} is not a member of the mirror tar {tar_path}.")
    with index.lock:
        try:
            extracted = index.handle.extractfile(member)
            if extracted is None:
                raise DataError(f"{remote.path} in {tar_path} is not a regular file.")
            with extracted, open(tmp, "wb") as out:
                shutil.copyfileobj(extracted, out)
        except (tarfile.TarError, EOFError, OSError) as exc:
            raise _corrupt(tar_path, exc) from exc
    if tmp.stat().st_size != member.size:
        raise _corrupt(tar_path, EOFError(f"{remote.path} ends early"))


def _download(remote: RemoteFile, tmp: Path) -> None:
    try:
        with (
            urllib.request.urlopen(remote.url, timeout=60) as response,
            open(tmp, "wb") as out,
        ):
            shutil.copyfileobj(response, out)
    except (urllib.error.URLError, OSError) as exc:
        raise DataError(
            f"Cannot download {remote.url} ({exc}); set MLPEG_DATA_MIRROR to a local "
            "mirror on machines without internet."
        ) from exc


def _copy_in(remote: RemoteFile, target: Path) -> None:
    """Copy or download ``remote`` to ``target`` through a temporary file and verify it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".partial-")
    os.close(handle)
    tmp = Path(tmp_name)
    try:
        mirror = _mirror_root()
        if mirror is not None:
            _copy_from_mirror(remote, mirror, tmp)
        else:
            _download(remote, tmp)
        actual = sha256_of(tmp)
        if actual != remote.sha256:
            raise DataError(
                f"Checksum mismatch for {remote.relpath}: expected {remote.sha256[:12]}…, "
                f"got {actual[:12]}…; the file was not cached."
            )
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)


def fetch(remote: RemoteFile) -> Path:
    """Return a local, verified copy of ``remote``, fetching it on first use.

    Parameters
    ----------
    remote
        The pinned file.

    Returns
    -------
    Path
        Path of the cached copy.

    Raises
    ------
    DataError
        If the file cannot be found or its sha256 does not match.
    """
    target = cache_dir() / remote.relpath
    if target.is_file():
        return target
    _copy_in(remote, target)
    return target
