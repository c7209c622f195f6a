"""A fake public source for loader tests: files in a private mirror, pinned in a manifest."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import pytest

OWNER_REPO = "someone/source"
COMMIT = "0" * 40


def fake_source(
    root: Path, monkeypatch: pytest.MonkeyPatch, files: dict[str, bytes | str], *, gz: bool = False
) -> Path:
    """Put ``files`` (repository path → content) in a mirror under ``root``; return a manifest.

    The mirror and a fresh cache replace the real ones for the rest of the test.
    """
    mirror, cache = root / "mirror", root / "cache"
    lines = []
    for path, content in files.items():
        raw = content.encode() if isinstance(content, str) else content
        target = mirror / OWNER_REPO / COMMIT / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(raw)
        lines.append(f"{hashlib.sha256(raw).hexdigest()}  {OWNER_REPO}/{COMMIT}/{path}")
    monkeypatch.setenv("MLPEG_DATA_MIRROR", str(mirror))
    monkeypatch.setenv("MLPEG_CACHE", str(cache))
    text = "\n".join(lines) + "\n"
    manifest = root / ("data.sha256.gz" if gz else "data.sha256")
    manifest.write_bytes(gzip.compress(text.encode()) if gz else text.encode())
    return manifest
