"""Open the warehouse: one mlpeg writer at a time, readers on a published snapshot.

DuckDB lets a file be open by one read-write process or by read-only processes, never
both. mlpeg keeps the two apart:

* a writer first takes an OS lock (``<warehouse>.lock``, ``flock``), waiting at most
  ``MLPEG_LOCK_TIMEOUT`` seconds (default 120) and then saying which process holds it;
  when it is done it closes DuckDB (which checkpoints) and publishes a read snapshot,
  ``<stem>.snapshot.duckdb``, by copying the file and renaming the copy into place;
* readers (the app, ``mlpeg sql``, ``mlpeg leaderboard``) open that snapshot read-only.
  A writer never waits for them and they never wait for a writer: a reader that opened
  the previous snapshot keeps its consistent view until it reconnects.

The lock is released by the kernel if the writer dies, so a killed ingest never leaves
the warehouse locked.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import time
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path

import duckdb

from mlpeg.errors import MlpegError, WarehouseBusy

_LOCK_MESSAGES = ("could not set lock", "conflicting lock", "lock on file")


def _is_lock_error(exc: duckdb.Error) -> bool:
    text = str(exc).lower()
    return any(message in text for message in _LOCK_MESSAGES)


def lock_timeout() -> float:
    """Seconds a writer waits for the lock (``MLPEG_LOCK_TIMEOUT``, default 120)."""
    return float(os.environ.get("MLPEG_LOCK_TIMEOUT", "120"))


def lock_path(path: Path) -> Path:
    """Return the OS lock file that serialises mlpeg writers of ``path``."""
    return path.with_name(path.name + ".lock")


def snapshot_path(path: Path) -> Path:
    """Return the read snapshot published after each write of ``path``."""
    return path.with_name(f"{path.stem}.snapshot{path.suffix}")


def threads_setting() -> dict[str, object]:
    """Return ``{"threads": n}`` when ``MLPEG_DUCKDB_THREADS`` sets n, else ``{}``.

    DuckDB's default is one thread per core; a parallel aggregate then adds in an order
    that changes from run to run, which moves near-cancelling sums in their last digits.
    ``make test-repeat`` runs the suite at 1 thread and at the default to show that no
    result or test depends on it.

    Raises
    ------
    MlpegError
        If the variable is set to anything but a positive integer.
    """
    value = os.environ.get("MLPEG_DUCKDB_THREADS", "").strip()
    if not value:
        return {}
    if not value.isdigit() or int(value) < 1:
        raise MlpegError(f"MLPEG_DUCKDB_THREADS must be a positive integer, not {value!r}.")
    return {"threads": int(value)}


def _connect_with_retry(
    path: Path, *, read_only: bool, timeout_s: float, config: dict[str, object]
) -> duckdb.DuckDBPyConnection:
    config = {**config, **threads_setting()}
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


@contextlib.contextmanager
def write_lock(path: Path, *, timeout_s: float | None = None) -> Iterator[None]:
    """Hold the exclusive mlpeg write lock of a warehouse, waiting a bounded time.

    Raises
    ------
    WarehouseBusy
        If another process holds the lock for longer than ``timeout_s``.
    """
    timeout_s = lock_timeout() if timeout_s is None else timeout_s
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path(path), "a+") as handle:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    handle.seek(0)
                    holder = handle.read().strip() or "unknown"
                    raise WarehouseBusy(
                        f"Warehouse {path} is being written by another mlpeg process "
                        f"(pid {holder}); gave up after {timeout_s:.0f} s "
                        "(set MLPEG_LOCK_TIMEOUT to wait longer)."
                    ) from None
                time.sleep(0.05)
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def is_write_locked(path: Path) -> bool:
    """Return whether an mlpeg writer currently holds ``path``."""
    lock = lock_path(path)
    if not lock.exists():
        return False
    with open(lock) as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
    return False


def publish_snapshot(path: Path) -> Path:
    """Copy the (closed, checkpointed) warehouse to its read snapshot atomically.

    The copy gets the default scores stored (:mod:`mlpeg.warehouse.snapshot`) before it is
    renamed into place, so a crash at any point leaves the previous snapshot as it was.
    If storing them fails (a view that errors on the data), the plain copy is published
    and readers evaluate the views live, meeting the same error there.
    """
    from mlpeg.warehouse import snapshot

    target = snapshot_path(path)
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
    wal = tmp.with_name(tmp.name + ".wal")
    try:
        shutil.copyfile(path, tmp)
        try:
            snapshot.prepare(tmp, config=threads_setting())
        except duckdb.Error as exc:
            warnings.warn(
                f"Published {target} without stored scores: {str(exc).splitlines()[0]}",
                RuntimeWarning,
                stacklevel=2,
            )
            shutil.copyfile(path, tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
        wal.unlink(missing_ok=True)
    return target


def connect_writer(path: Path) -> duckdb.DuckDBPyConnection:
    """Open the warehouse read-write and install/upgrade its schema.

    Prefer :func:`writer`, which also takes the write lock and publishes the snapshot.

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


@contextlib.contextmanager
def writer(path: Path, *, publish: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
    """Hold the write lock, open read-write, and publish the read snapshot at the end.

    Parameters
    ----------
    path
        The DuckDB file.
    publish
        Publish the read snapshot after closing (skipped if the body raised).

    Before closing, the bootstrap intervals of every run the body changed are recomputed
    (:func:`mlpeg.warehouse.intervals.update`; nothing to do costs a few milliseconds).
    """
    from mlpeg.warehouse.intervals import update as update_intervals

    with write_lock(path):
        con = connect_writer(path)
        try:
            yield con
            update_intervals(con)  # the intervals of whatever the body changed
        finally:
            con.close()
        if publish:
            publish_snapshot(path)


def read_target(path: Path) -> Path:
    """Return the file a reader should open: the snapshot, unless it is stale.

    The snapshot is stale only when the warehouse is newer and no mlpeg writer holds it
    (someone wrote with plain DuckDB); during an mlpeg write it is the consistent view.
    """
    snapshot = snapshot_path(path)
    if not snapshot.is_file():
        return path
    if not path.is_file() or path.stat().st_mtime_ns <= snapshot.stat().st_mtime_ns:
        return snapshot
    return snapshot if is_write_locked(path) else path


def connect_reader(
    path: Path, *, timeout_s: float = 10.0, external_access: bool = False
) -> duckdb.DuckDBPyConnection:
    """Open the warehouse (its read snapshot, see :func:`read_target`) read-only.

    Parameters
    ----------
    path
        The DuckDB file.
    timeout_s
        How long to wait if the file is held by a writer that is not mlpeg.
    external_access
        Leave DuckDB's access to files, extensions and ATTACH on. Off by default, so a
        query cannot read or write anything outside the warehouse.

    Returns
    -------
    duckdb.DuckDBPyConnection
        A read-only connection.
    """
    if not path.is_file() and not snapshot_path(path).is_file():
        raise MlpegError(
            f"No warehouse at {path}: run 'mlpeg run' or 'mlpeg ingest' first, or pass --warehouse."
        )
    config: dict[str, object] = {}
    if not external_access:
        # Locked as the database starts (no statement to run after opening); a second
        # reader of the same file in this process shares that instance.
        config = {
            "enable_external_access": False,
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            "lock_configuration": True,
        }
    con = _connect_with_retry(read_target(path), read_only=True, timeout_s=timeout_s, config=config)
    return con


@contextlib.contextmanager
def reader(path: Path, **options: object) -> Iterator[duckdb.DuckDBPyConnection]:
    """Context manager around :func:`connect_reader` that always closes."""
    con = connect_reader(path, **options)  # type: ignore[arg-type]
    try:
        yield con
    finally:
        con.close()
