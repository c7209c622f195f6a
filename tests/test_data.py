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


# --- the commit tars of sources with thousands of files --------------------------------

NCIATLAS = "Honza-R/NCIAtlas/9fa8296f2fb04ed0751bf099fa454735f85d025a"
D1200_TABLE = "tables/NCIA_D1200/NCIA_D1200_benchmark.txt"


def make_tar_mirror(root: Path, files: dict[str, bytes]) -> Path:
    """Write ``files`` as members of ``owner/repo/commit.tar`` under ``root``."""
    import tarfile

    tar_path = root / "owner" / "repo" / "c0ffee.tar"
    tar_path.parent.mkdir(parents=True)
    with tarfile.open(tar_path, "w") as tar:
        for name, payload in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    return tar_path


def remote_for(path: str, payload: bytes) -> data.RemoteFile:
    import hashlib

    return data.RemoteFile("owner", "repo", "c0ffee", path, hashlib.sha256(payload).hexdigest())


@pytest.fixture
def tar_mirror(tmp_path, monkeypatch):
    monkeypatch.setenv("MLPEG_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("MLPEG_DATA_MIRROR", str(tmp_path / "mirror"))
    monkeypatch.setattr(data, "_TARS", {})
    return tmp_path / "mirror"


def test_real_mirror_tar_member_is_read_and_verified(tmp_path, monkeypatch):
    monkeypatch.setenv("MLPEG_CACHE", str(tmp_path / "cache"))
    tar = Path(os.environ["MLPEG_DATA_MIRROR"]) / f"{NCIATLAS}.tar"
    if not tar.is_file():
        pytest.skip("the NCIAtlas tar is not in this data mirror")
    import hashlib
    import tarfile

    with tarfile.open(tar) as handle:
        payload = handle.extractfile(D1200_TABLE).read()
    remote = data.RemoteFile.from_relpath(
        f"{NCIATLAS}/{D1200_TABLE}", hashlib.sha256(payload).hexdigest()
    )
    local = data.fetch(remote)
    assert local == tmp_path / "cache" / NCIATLAS / D1200_TABLE
    rows = [line.split() for line in local.read_text().splitlines()[2:]]
    # The first dimer of the set, by the table's own first row: CCSD(T)/CBS, kcal/mol.
    assert rows[0] == ["1.01.01_100", "-0.090"]


def test_raw_file_wins_over_the_tar(tar_mirror):
    make_tar_mirror(tar_mirror, {"a.txt": b"from the tar\n"})
    raw = tar_mirror / "owner" / "repo" / "c0ffee" / "a.txt"
    raw.parent.mkdir(parents=True)
    raw.write_bytes(b"raw copy\n")
    assert data.fetch(remote_for("a.txt", b"raw copy\n")).read_bytes() == b"raw copy\n"


def test_many_members_open_the_tar_once(tar_mirror, monkeypatch):
    import tarfile

    files = {f"geometries/m{i:03d}.xyz": f"{i}\n".encode() for i in range(50)}
    make_tar_mirror(tar_mirror, files)
    opened = []
    real_open = tarfile.open
    monkeypatch.setattr(tarfile, "open", lambda *a, **k: opened.append(a) or real_open(*a, **k))
    for name, payload in files.items():
        assert data.fetch(remote_for(name, payload)).read_bytes() == payload
    assert len(opened) == 1


def test_tar_member_with_wrong_checksum_is_not_cached(tar_mirror, tmp_path):
    make_tar_mirror(tar_mirror, {"a.txt": b"changed\n"})
    with pytest.raises(DataError, match=r"Checksum mismatch for owner/repo/c0ffee/a\.txt"):
        data.fetch(remote_for("a.txt", b"original\n"))
    assert not (tmp_path / "cache" / "owner" / "repo" / "c0ffee" / "a.txt").exists()


def test_missing_tar_member_names_the_tar(tar_mirror):
    make_tar_mirror(tar_mirror, {"a.txt": b"a\n"})
    with pytest.raises(DataError, match=r"b\.txt is not a member of the mirror tar .*c0ffee\.tar"):
        data.fetch(remote_for("b.txt", b"b\n"))


def test_truncated_tar_is_one_clear_error(tar_mirror, tmp_path):
    payload = bytes(range(256)) * 64
    tar_path = make_tar_mirror(tar_mirror, {"first.bin": b"x" * 10, "big.bin": payload})
    # Cut the archive inside big.bin's data: its header survives, its bytes do not.
    tar_path.write_bytes(tar_path.read_bytes()[: 512 * 4 + 4000])
    with pytest.raises(DataError, match=r"mirror tar .*c0ffee\.tar is corrupt or truncated"):
        data.fetch(remote_for("big.bin", payload))
    assert not list((tmp_path / "cache").rglob("big.bin"))


def test_garbage_tar_is_one_clear_error(tar_mirror):
    tar_path = tar_mirror / "owner" / "repo" / "c0ffee.tar"
    tar_path.parent.mkdir(parents=True)
    tar_path.write_bytes(b"this is not a tar archive at all" * 40)
    with pytest.raises(DataError, match=r"mirror tar .*c0ffee\.tar is corrupt or truncated"):
        data.fetch(remote_for("a.txt", b"a\n"))


def test_gzipped_manifest_is_read(tmp_path):
    import gzip

    line = f"{'a' * 64}  owner/repo/c0ffee/geometries/m001.xyz\n"
    manifest = tmp_path / "data.sha256.gz"
    manifest.write_bytes(gzip.compress(line.encode()))
    files = data.read_manifest(manifest)
    assert files["geometries/m001.xyz"].sha256 == "a" * 64
