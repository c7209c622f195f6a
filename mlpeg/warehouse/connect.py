"""Open the warehouse: one writer at a time, readers read-only, both with bounded waits.

DuckDB lets a file be open by one read-write process or by read-only processes, never
both. Writers therefore retry the lock for ``MLPEG_LOCK_TIMEOUT`` seconds (default 120)
and then say who to wait for; readers retry briefly, so a page served while ``ingest``
commits waits a moment instead of failing.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb

from mlpeg.errors import MlpegError, WarehouseBusy

_LOCK_MESSAGES = ("could not set lock", "conflicting lock", "lock on file")


def _is_lock_error(exc: duckdb.Error) -> bool:
    text = str(exc).lower()
    return any(message in text for message in _LOCK_MESSAGES)


def _connect_with_retry(
    path: Path, *, read_only: bool, timeout_s: float, config: dict[str, object]
) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + timeout_s
    delay = 0.02
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only, config=config)
        except duckdb.IOException as exc:
            if not _is_lock_error(exc):
                raise MlpegError(f"Cannot open warehouse {path}: {exc}") from exc
            if time.monotonic() >= deadline:
                role = "read" if read_only else "write"
                raise WarehouseBusy(
                    f"Warehouse {path} is held by another process; gave up waiting to "
                    f"{role} after {timeout_s:.0f} s (set MLPEG_LOCK_TIMEOUT to wait longer)."
                ) from exc
            time.sleep(delay)
            delay = min(delay * 2, 0.5)


def lock_timeout() -> float:
    """Seconds a writer waits for the lock (``MLPEG_LOCK_TIMEOUT``, default 120)."""
    return float(os.environ.get("MLPEG_LOCK_TIMEOUT", "120"))


def connect_writer(path: Path) -> duckdb.DuckDBPyConnection:
    """Open the warehouse for writing, creating its folder, and install/upgrade the schema.

    Parameters
    ----------
    path
        The DuckDB file.

    Returns
    -------
    duckdb.DuckDBPyConnection
        A read-write connection with the schema, catalogue and views up to date.
    """
    from mlpeg.warehouse.schema import install

    path.parent.mkdir(parents=True, exist_ok=True)
    con = _connect_with_retry(path, read_only=False, timeout_s=lock_timeout(), config={})
    try:
        install(con)
    except BaseException:
        con.close()
        raise
    return con


def connect_reader(
    path: Path, *, timeout_s: float = 10.0, external_access: bool = False
) -> duckdb.DuckDBPyConnection:
    """Open the warehouse read-only.

    Parameters
    ----------
    path
        The DuckDB file.
    timeout_s
        How long to wait while a writer holds the file.
    external_access
        Leave DuckDB's access to files, extensions and ATTACH on. Off by default, so a
        query cannot read or write anything outside the warehouse.

    Returns
    -------
    duckdb.DuckDBPyConnection
        A read-only connection.
    """
    if not path.is_file():
        raise MlpegError(
            f"No warehouse at {path}: run 'mlpeg run' or 'mlpeg ingest' first, or pass --warehouse."
        )
    config: dict[str, object] = {}
    if not external_access:
        config = {
            "enable_external_access": False,
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
        }
    con = _connect_with_retry(path, read_only=True, timeout_s=timeout_s, config=config)
    if not external_access:
        con.execute("set lock_configuration = true")
    return con


@contextlib.contextmanager
def writer(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """Context manager around :func:`connect_writer` that always closes."""
    con = connect_writer(path)
    try:
        yield con
    finally:
        con.close()


@contextlib.contextmanager
def reader(path: Path, **options: object) -> Iterator[duckdb.DuckDBPyConnection]:
    """Context manager around :func:`connect_reader` that always closes."""
    con = connect_reader(path, **options)  # type: ignore[arg-type]
    try:
        yield con
    finally:
        con.close()
