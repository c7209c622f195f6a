"""Pinned data files: mirror, cache, checksums, and no partial file ever cached."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mlpeg import data
from mlpeg.catalog import get_benchmark
from mlpeg.errors import DataError

DMC = (
    "water-ice-group/MolCrys-DMC/147a60c6911568d037c2ec8baf294dbfc589c461/"
    "data_figures/diffusion-monte-carlo/DMC"
)


def manifest_entry(path: str) -> data.RemoteFile:
    manifest = data.read_manifest(get_benchmark("X23").folder / "data.sha256")
    return manifest[path]


def test_fetch_from_mirror_verifies_and_caches(tmp_path, monkeypatch):
    monkeypatch.setenv("MLPEG_CACHE", str(tmp_path / "cache"))
    remote = manifest_entry("data_figures/diffusion-monte-carlo/DMC")
    assert remote.url == f"https://raw.githubusercontent.com/{DMC}"
    local = data.fetch(remote)
    assert local == tmp_path / "cache" / DMC
    assert data.sha256_of(local) == remote.sha256
    assert local.read_text().split()[0] == "-88.3328"


def test_checksum_mismatch_is_refused_and_not_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("MLPEG_CACHE", str(tmp_path / "cache"))
    remote = manifest_entry("data_figures/diffusion-monte-carlo/DMC")
    wrong = data.RemoteFile(remote.owner, remote.repo, remote.commit, remote.path, "0" * 64)
    with pytest.raises(DataError, match=r"Checksum mismatch for .*DMC.*not cached"):
        data.fetch(wrong)
    assert not (tmp_path / "cache" / DMC).exists()
    assert not list((tmp_path / "cache").rglob(".partial-*"))


def test_missing_from_mirror_says_where(tmp_path, monkeypatch):
    monkeypatch.setenv("MLPEG_CACHE", str(tmp_path / "cache"))
    remote = data.RemoteFile("someone", "repo", "abc", "nope.txt", "0" * 64)
    with pytest.raises(DataError, match=r"someone/repo/abc/nope\.txt is not in the data mirror"):
        data.fetch(remote)


def test_interrupted_download_is_never_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("MLPEG_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("MLPEG_DATA_MIRROR")
    payload = (Path(__file__).parent / "conftest.py").read_bytes()

    class Broken(io.BytesIO):
        def read(self, size=-1):
            if self.tell() > 10:
                raise OSError("connection reset")
            return super().read(11)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(data.urllib.request, "urlopen", lambda url, timeout: Broken(payload))
    remote = data.RemoteFile("o", "r", "c", "f.txt", data.hashlib.sha256(payload).hexdigest())
    with pytest.raises(
        DataError, match=r"Cannot download https://raw\.githubusercontent\.com/o/r/c"
    ):
        data.fetch(remote)
    assert not any(p.is_file() for p in (tmp_path / "cache").rglob("*"))


def test_download_path_used_without_mirror(tmp_path, monkeypatch):
    monkeypatch.setenv("MLPEG_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("MLPEG_DATA_MIRROR")
    payload = b"-88.3328   0.9659\n"
    seen = []

    def fake_urlopen(url, timeout):
        seen.append(url)
        stream = io.BytesIO(payload)
        return stream

    monkeypatch.setattr(data.urllib.request, "urlopen", fake_urlopen)
    remote = data.RemoteFile("o", "r", "c", "d/f.txt", data.hashlib.sha256(payload).hexdigest())
    assert data.fetch(remote).read_bytes() == payload
    assert seen == ["https://raw.githubusercontent.com/o/r/c/d/f.txt"]
    data.fetch(remote)  # second call is served from the cache
    assert len(seen) == 1


def test_malformed_manifest_line(tmp_path):
    bad = tmp_path / "data.sha256"
    bad.write_text("# comment\nnot-a-hash  a/b/c/d\n")
    with pytest.raises(
        DataError, match=r"data.sha256:2: expected '<sha256>  owner/repo/commit/path'"
    ):
        data.read_manifest(bad)


def test_a_download_killed_midway_leaves_nothing_cached(tmp_path):
    """kill -9 half-way through a download: no file under the cached name, then a clean fetch."""
    payload = b"refdata " * 64
    script = f"""
import io, os
from mlpeg import data

class Dying(io.BytesIO):
    def read(self, size=-1):
        if self.tell() > 100:
            os._exit(9)  # no finally, no cleanup: as if killed
        return super().read(50)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

data.urllib.request.urlopen = lambda url, timeout: Dying({payload!r})
data.fetch(data.RemoteFile("o", "r", "c", "f.txt", {data.hashlib.sha256(payload).hexdigest()!r}))
"""
    env = {k: v for k, v in os.environ.items() if k != "MLPEG_DATA_MIRROR"}
    env["MLPEG_CACHE"] = str(tmp_path / "cache")
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True)
    assert result.returncode == 9, result.stderr
    files = [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]
    assert files and all(p.name.startswith(".partial-") for p in files)  # only the temporary
