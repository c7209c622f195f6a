"""Read the model folders of an ML-PEG import, in worker processes when it pays.

Reading a folder means hashing its files (the run id), parsing them, mapping their frames
and writing the predictions landing part; nothing here touches the warehouse. The folders of a
tree are independent, so :class:`FolderReader` hands them to a pool of worker processes
and yields the results in plan order while the workers read on.

Decisions
---------
- Workers are forked: they inherit the imported modules, the catalogue and the
  benchmark mappings (loaded from files, so they could not be pickled), and are given
  only the index of a folder. Where ``fork`` is not available, folders are read in
  this process.
- A worker exits when the process that started it dies (even by ``kill -9``), so it
  never keeps open a file that the parent held, such as the warehouse's write lock.
- ``workers=None`` uses one worker per core but one (that one runs this process, which
  installs the schema or ingests the parts while the workers read), at least one, and at
  most one per :data:`FILES_PER_WORKER` files: an import smaller than that is read in
  this process (``workers=0``), where starting a pool would cost more than it saves.
- The result does not depend on the number of workers: each folder is read by one
  worker, in file order, exactly as in-process.
"""

from __future__ import annotations

import hashlib
import math
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from mlpeg import __version__
from mlpeg.calc.tasks import Reference
from mlpeg.enums import PartKind, State
from mlpeg.errors import MlpegError
from mlpeg.importers.extxyz import ExtxyzError, Frame, parse_frames
from mlpeg.importers.mapping import BenchmarkMapping, ImportedPrediction, SkipFile
from mlpeg.landing import PREDICTIONS_SCHEMA, run_metadata, write_part
from mlpeg.structures import KEPT_INFO_KEYS, atoms_to_row

SETTINGS_HASH = "ml-peg-import"
#: An automatic worker count gives each worker at least this many files.
FILES_PER_WORKER = 100


class FileStatus(StrEnum):
    """What the import did with one output file."""

    IMPORTED = "imported"
    SKIPPED = "skipped"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class FileOutcome:
    """The outcome of one output file; ``message`` says why it was skipped, or notes."""

    path: Path
    benchmark_key: str
    model_key: str
    status: FileStatus
    message: str = ""


@dataclass(frozen=True)
class FolderTask:
    """One model folder to read, and where its predictions part goes.

    Parameters
    ----------
    benchmark_key, model_key
        What the folder's predictions are.
    id_key
        The model key hashed into the run id (see ``mlpeg.importers.ml_peg``).
    folder
        The model folder (recorded in the run's provenance).
    files
        The output files, in the order they are read.
    root
        The tree; messages name files relative to it.
    dispersion
        The dispersion the run records.
    landing
        The landing folder the part is written to.
    mapping
        The benchmark's mapping of files to predictions.
    """

    benchmark_key: str
    model_key: str
    id_key: str
    folder: Path
    files: tuple[Path, ...]
    root: Path
    dispersion: str
    landing: Path
    mapping: BenchmarkMapping = field(compare=False, repr=False)


@dataclass
class FolderRead:
    """What reading one folder found.

    ``unreadable`` are the files that could not be read (always reported); ``readable``
    the others, by the name shown; ``parsed`` their outcomes, empty when the folder was
    not parsed because its run id was in the ``skip`` set (already imported); ``part``
    the predictions part written (None when no file imported).
    """

    run_id: str
    unreadable: list[FileOutcome] = field(default_factory=list)
    readable: list[Path] = field(default_factory=list)
    parsed: list[FileOutcome] = field(default_factory=list)
    part: Path | None = None
    references: list[tuple[Reference, Path]] = field(default_factory=list)
    n_imported: int = 0
    was_parsed: bool = False


def _non_finite(frame: Frame) -> str | None:
    if frame.energy is not None and not math.isfinite(frame.energy):
        return "energy"
    for name in ("forces", "stress"):
        value = getattr(frame, name)
        if value is not None and not np.all(np.isfinite(value)):
            return name
    return None


class StructureRows:
    """Structure rows by geometry: fifty models computed the same inputs, hash them once."""

    def __init__(self) -> None:
        self._rows: dict[bytes, dict[str, Any]] = {}

    def row(self, frame: Frame) -> dict[str, Any]:
        """Return the structure row of a frame (``atoms_to_row``), cached by geometry."""
        key = b"".join(
            (
                frame.numbers.tobytes(),
                frame.positions.tobytes(),
                frame.cell.tobytes(),
                frame.pbc.tobytes(),
                repr(
                    sorted((k, str(frame.info[k])) for k in KEPT_INFO_KEYS if k in frame.info)
                ).encode(),
            )
        )
        row = self._rows.get(key)
        if row is None:
            row = self._rows[key] = atoms_to_row(frame.atoms())
        return row


def _prediction_row(
    prediction: ImportedPrediction,
    *,
    computed_at: datetime,
    common: dict[str, Any],
    structures: StructureRows,
) -> dict[str, Any]:
    frame = prediction.frame
    problem = _non_finite(frame)
    ok = problem is None
    return {
        **common,
        "system": prediction.system,
        "role": prediction.role,
        "task": "single_point",
        "settings_hash": SETTINGS_HASH,
        "structure": structures.row(frame),
        "frames": [],
        "energy": frame.energy if ok else None,
        "forces": frame.forces.tolist() if ok and frame.forces is not None else None,
        "stress": frame.stress.tolist() if ok and frame.stress is not None else None,
        "properties": [],
        "state": str(State.OK if ok else State.FAILED),
        "error": None if ok else f"the ML-PEG output holds a non-finite {problem}",
        "wall_time_s": None,
        "computed_at": computed_at,
    }


def read_folder(
    task: FolderTask, *, structures: StructureRows, skip: frozenset[str] = frozenset()
) -> FolderRead:
    """Hash, parse and map the files of one model folder into its predictions table.

    Parameters
    ----------
    task
        The folder.
    structures
        Structure rows already built (shared by the folders one process reads).
    skip
        Run ids already imported: a folder with one of them is hashed, not parsed.

    Returns
    -------
    FolderRead
        The run id, each file's outcome and the part written (not yet ingested).
    """
    bench_key, model_key = task.benchmark_key, task.model_key
    digest = hashlib.blake2b(f"{bench_key}\0{task.id_key}\0".encode(), digest_size=8)
    contents = []
    unreadable = []
    for path in task.files:
        shown = path.relative_to(task.root)
        try:
            data = path.read_bytes()
            mtime = path.stat().st_mtime
        except OSError as exc:
            message = f"{shown}: cannot be read ({exc.strerror})."
            unreadable.append(FileOutcome(shown, bench_key, model_key, FileStatus.SKIPPED, message))
            continue
        digest.update(path.name.encode() + b"\0" + hashlib.sha256(data).digest())
        contents.append((shown, data, mtime))
    read = FolderRead(
        f"ml-peg-{digest.hexdigest()}", unreadable, [shown for shown, _, _ in contents]
    )
    if read.run_id in skip:
        return read
    read.was_parsed = True
    common = {"run_id": read.run_id, "model_key": model_key, "benchmark_key": bench_key}
    rows: list[dict[str, Any]] = []
    seen: dict[tuple[str, str], Path] = {}
    times = []
    for shown, data, mtime in contents:
        try:
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise ExtxyzError(f"{shown}: is not UTF-8 text (byte {exc.start}).") from exc
            mapped = task.mapping.read_file(shown, parse_frames(text, shown))
            for prediction in mapped.predictions:
                key = (prediction.system, prediction.role)
                if key in seen:
                    raise SkipFile(
                        f"{shown}: ({prediction.system}, {prediction.role}) was already "
                        f"read from {seen[key]}."
                    )
            computed_at = datetime.fromtimestamp(mtime, UTC)
            new_rows = [
                _prediction_row(p, computed_at=computed_at, common=common, structures=structures)
                for p in mapped.predictions
            ]
        except (ExtxyzError, SkipFile) as exc:
            read.parsed.append(
                FileOutcome(shown, bench_key, model_key, FileStatus.SKIPPED, str(exc))
            )
            continue
        for prediction in mapped.predictions:
            seen[(prediction.system, prediction.role)] = shown
        rows.extend(new_rows)
        times.append(computed_at)
        read.references.extend((ref, shown) for ref in mapped.references)
        note = " ".join(mapped.notes)
        read.parsed.append(FileOutcome(shown, bench_key, model_key, FileStatus.IMPORTED, note))
        read.n_imported += 1
    if not rows:
        return read
    run = run_metadata(
        run_id=read.run_id,
        model_key=model_key,
        benchmark_key=bench_key,
        started_at=min(times),
        ended_at=max(times),
        versions={"mlpeg": __version__},
        dispersion=task.dispersion,
    ) | {"source": "ml-peg", "source_folder": str(task.folder)}
    read.part = write_part(
        pa.Table.from_pylist(rows, schema=PREDICTIONS_SCHEMA),
        kind=PartKind.PREDICTIONS,
        folder=task.landing,
        name=f"{bench_key}__{model_key}__{read.run_id}",
        run=run,
    )
    return read


def available_cores() -> int:
    """Return the number of cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def worker_count(requested: int | None, n_files: int, n_folders: int) -> int:
    """Return how many worker processes read ``n_folders`` folders of ``n_files`` files.

    Parameters
    ----------
    requested
        A number of workers (0: read in this process), or None to choose (see above).
    n_files, n_folders
        The size of the import; there are never more workers than folders.

    Returns
    -------
    int
        Worker processes; 0 means the folders are read in this process.

    Raises
    ------
    MlpegError
        If ``requested`` is negative.
    """
    if requested is not None and (isinstance(requested, bool) or requested < 0):
        raise MlpegError(
            f"The number of workers must be 0 (read in this process) or more, not {requested}."
        )
    if requested is None:
        by_size = n_files // FILES_PER_WORKER
        requested = min(max(1, available_cores() - 1), by_size) if by_size else 0
    if "fork" not in multiprocessing.get_all_start_methods():  # pragma: no cover
        return 0
    return min(requested, n_folders)


# What forked workers inherit: the tasks of the reader that started them, and their skip
# set. Workers keep their own structure rows across the folders they read.
_TASKS: Sequence[FolderTask] = ()
_SKIP: frozenset[str] = frozenset()
_STRUCTURES: StructureRows | None = None


def _exit_with_parent(parent: int) -> None:
    while os.getppid() == parent:  # re-parented once the parent is gone, however it ended
        time.sleep(0.2)
    os._exit(1)


def _start_worker() -> None:
    # Ctrl-C reaches the whole process group: the importer stops the workers itself, so
    # they print no traceback of their own; SIGTERM ends them at once (not through the
    # importer's handler, which they inherited).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()


def _read_in_worker(index: int) -> FolderRead:
    global _STRUCTURES
    if _STRUCTURES is None:
        _STRUCTURES = StructureRows()
    return read_folder(_TASKS[index], structures=_STRUCTURES, skip=_SKIP)


class FolderReader:
    """Read folders in worker processes (or in this one), yielding results in task order.

    Parameters
    ----------
    tasks
        The folders, in the order their results are wanted.
    workers
        Worker processes; 0 reads in this process (see :func:`worker_count`).
    skip
        Run ids already imported (their folders are hashed, not parsed).

    The workers start reading at once. Use as a context manager: leaving it stops them.
    """

    def __init__(
        self, tasks: Sequence[FolderTask], *, workers: int, skip: frozenset[str] = frozenset()
    ) -> None:
        global _TASKS, _SKIP
        self.tasks = list(tasks)
        self.workers = workers
        self.skip = skip
        self._pool: ProcessPoolExecutor | None = None
        self._results: Iterator[FolderRead] | None = None
        if workers > 0 and self.tasks:
            # pyarrow imports pandas on its first conversion from Python objects (a third
            # of a second): done here once, the forked workers inherit it
            pa.array([0])
            _TASKS, _SKIP = self.tasks, skip
            self._pool = ProcessPoolExecutor(
                max_workers=workers,
                mp_context=multiprocessing.get_context("fork"),
                initializer=_start_worker,
            )
            # small chunks: results stream back in order while the rest is read
            chunk = max(1, len(self.tasks) // (workers * 8))
            self._results = self._pool.map(_read_in_worker, range(len(self.tasks)), chunksize=chunk)
            _TASKS, _SKIP = (), frozenset()  # the forked workers hold their own copy

    def __iter__(self) -> Iterator[FolderRead]:
        if self._results is not None:
            yield from self._results
            return
        structures = StructureRows()
        for task in self.tasks:
            yield read_folder(task, structures=structures, skip=self.skip)

    def close(self) -> None:
        """Stop the workers (those reading finish their folder first)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> FolderReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
