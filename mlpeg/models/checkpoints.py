"""Model checkpoints: where a registry entry's weights come from, and their sha256.

A checkpoint is a local file, a URL pinned by sha256, or a name the family's package can
download itself. URLs on GitHub (raw or ``blob`` links) go through :mod:`mlpeg.data`, so
they are read from the data mirror (``MLPEG_DATA_MIRROR``) on machines without internet;
other URLs are downloaded to the cache and verified the same way. Nothing here imports
torch, so ``mlpeg models`` stays fast.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import socket
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from mlpeg.data import RemoteFile, fetch, sha256_of
from mlpeg.errors import DataError
from mlpeg.paths import cache_dir

#: Seconds to wait when probing whether a download host answers.
PROBE_TIMEOUT_S = 2.0


def is_url(checkpoint: str) -> bool:
    """Return whether a checkpoint string is an http(s) URL."""
    return checkpoint.startswith(("https://", "http://"))


def github_file(url: str, sha256: str) -> RemoteFile | None:
    """Return the pinned GitHub file behind a raw or ``blob`` URL, or None for other URLs.

    Parameters
    ----------
    url
        ``https://raw.githubusercontent.com/<owner>/<repo>/<commit>/<path>`` or
        ``https://github.com/<owner>/<repo>/blob/<commit>/<path>``.
    sha256
        Hex digest the file must have.
    """
    parsed = urllib.parse.urlsplit(url)
    parts = [part for part in parsed.path.split("/") if part]
    if parsed.netloc == "raw.githubusercontent.com" and len(parts) >= 4:
        return RemoteFile(parts[0], parts[1], parts[2], "/".join(parts[3:]), sha256)
    if parsed.netloc == "github.com" and len(parts) >= 5 and parts[2] in ("blob", "raw"):
        return RemoteFile(parts[0], parts[1], parts[3], "/".join(parts[4:]), sha256)
    return None


def _url_cache_path(url: str, sha256: str) -> Path:
    name = Path(urllib.parse.urlsplit(url).path).name or "checkpoint"
    return cache_dir() / "models" / sha256[:16] / name


def cached_url(url: str, sha256: str) -> Path | None:
    """Return the local copy of a pinned URL if it is cached or mirrored, without fetching."""
    remote = github_file(url, sha256)
    if remote is None:
        target = _url_cache_path(url, sha256)
        return target if target.is_file() else None
    cached = cache_dir() / remote.relpath
    if cached.is_file():
        return cached
    mirror = os.environ.get("MLPEG_DATA_MIRROR")
    if mirror and (Path(mirror) / remote.relpath).is_file():
        return Path(mirror) / remote.relpath
    return None


def url_availability(url: str, sha256: str) -> tuple[bool, str]:
    """Say whether a checkpoint URL pinned by sha256 is local, mirrored or downloadable."""
    mirrored = github_file(url, sha256) is not None
    return download_availability(url, cached_url(url, sha256), mirrored=mirrored)


def fetch_url(url: str, sha256: str) -> Path:
    """Return a verified local copy of a checkpoint URL, downloading it on first use.

    Parameters
    ----------
    url
        Where the checkpoint is published.
    sha256
        Hex digest it must have; a file that differs is never cached.

    Returns
    -------
    Path
        The cached copy.

    Raises
    ------
    DataError
        If the file cannot be fetched or its checksum differs.
    """
    remote = github_file(url, sha256)
    if remote is not None:
        return fetch(remote)
    target = _url_cache_path(url, sha256)
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".partial-")
    os.close(handle)
    tmp = Path(tmp_name)
    try:
        try:
            with urllib.request.urlopen(url, timeout=60) as response, open(tmp, "wb") as out:
                shutil.copyfileobj(response, out)
        except (urllib.error.URLError, OSError) as exc:
            raise DataError(f"Cannot download checkpoint {url} ({exc}).") from exc
        actual = sha256_of(tmp)
        if actual != sha256:
            raise DataError(
                f"Checksum mismatch for checkpoint {url}: expected {sha256[:12]}…, "
                f"got {actual[:12]}…; the file was not cached."
            )
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


@functools.cache
def _sha256_cached(path: str, size: int, mtime_ns: int) -> str:
    return sha256_of(Path(path))


def file_sha256(path: Path) -> str:
    """Return the sha256 of a checkpoint file, hashed once per process and version."""
    stat = path.stat()
    return _sha256_cached(str(path.resolve()), stat.st_size, stat.st_mtime_ns)


def _short(path: Path) -> str:
    """Show a local path briefly: relative to the data mirror or the home folder."""
    mirror = os.environ.get("MLPEG_DATA_MIRROR")
    if mirror and path.is_relative_to(mirror):
        return f"data mirror: {path.relative_to(mirror)}"
    if path.is_relative_to(Path.home()):
        return f"~/{path.relative_to(Path.home())}"
    return str(path)


@functools.cache
def host_reachable(host: str) -> bool:
    """Return whether ``host`` accepts a TCP connection on port 443 (probed once)."""
    try:
        socket.create_connection((host, 443), timeout=PROBE_TIMEOUT_S).close()
    except OSError:
        return False
    return True


def download_availability(
    url: str, cached: Path | None, *, mirrored: bool = False
) -> tuple[bool, str]:
    """Say whether weights published at ``url`` can be used here.

    Parameters
    ----------
    url
        Where the family's package downloads the weights from.
    cached
        The local copy if one exists.
    mirrored
        Whether the data mirror could provide the file (GitHub files fetched by mlpeg).

    Returns
    -------
    tuple
        ``(available, why)``: cached, downloadable on first use, or neither.
    """
    if cached is not None:
        return True, f"weights at {_short(cached)}"
    host = urllib.parse.urlsplit(url).netloc
    if host_reachable(host):
        return True, f"weights download from {host} on first use"
    hint = " (or set MLPEG_DATA_MIRROR)" if mirrored else ""
    return False, f"weights not reachable offline: not cached, {host} unreachable{hint}"


def url_sha256_name(url: str) -> str:
    """Return sha256(url) in hex: the file-name stem ``cached_path`` caches ``url`` under."""
    return hashlib.sha256(url.encode()).hexdigest()
