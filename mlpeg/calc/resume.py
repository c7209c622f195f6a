"""Decide what a calc still has to do, from the landing parts already written.

The landing folder is the record of what was computed (runners never open the warehouse).
For one model on one benchmark, the latest run found there decides:

- tasks it holds with the same structure (content hash) and settings are **skipped**;
- if it lacks some tasks (it was killed half-way, or the benchmark grew) and holds nothing
  that disagrees, the missing tasks are computed **under the same run id**, so the run
  ends whole and ingest merges its parts;
- if it holds a task with another structure or other settings (or ``retry_failed`` asks to
  redo its failures), a **new run** starts; its matching rows are carried into the new run
  unchanged, so the new run is whole without recomputing them;
- ``force`` starts a new run and computes everything.

A task's identity is (system, role); its result is reusable when the structure hash and
settings hash match too.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from mlpeg.calc.tasks import Task, settings_hash
from mlpeg.enums import PartKind, State
from mlpeg.errors import MlpegError
from mlpeg.landing import new_run_id, read_metadata
from mlpeg.structures import structure_hash

Key = tuple[str, str]


class CalcBusy(MlpegError):
    """Another calc is writing the same model and benchmark into the same landing folder."""


@dataclass
class PriorRun:
    """The latest run of one model on one benchmark found in the landing folder."""

    run_id: str
    parts: list[Path]
    #: (system, role) → (structure id, settings hash, state)
    done: dict[Key, tuple[str, str, str]]


def _run_of(path: Path) -> dict | None:
    try:
        metadata = read_metadata(pq.read_schema(path))
    except (OSError, pa.ArrowException):
        return None  # not ours or unreadable: ingest will say so
    if not metadata or metadata.get("kind") != str(PartKind.PREDICTIONS):
        return None
    return metadata.get("run") or None


def _variant(run: dict) -> tuple[str, str | None]:
    """Return a run's (dispersion, band); parts from before they were recorded: (from D3, None)."""
    dispersion = run.get("dispersion")
    if dispersion is None:
        dispersion = "d3bj" if (run.get("model") or {}).get("d3") else "none"
    return dispersion, run.get("band")


def latest_run(
    landing: Path,
    benchmark_key: str,
    model_key: str,
    *,
    dispersion: str = "none",
    band: str | None = None,
) -> PriorRun | None:
    """Return the latest run of ``model_key`` on ``benchmark_key`` in ``landing``, if any.

    Parameters
    ----------
    landing
        The landing folder.
    benchmark_key, model_key
        What was run.
    dispersion, band
        Which variant: a run with D3 and one without, or a quick band and the full set,
        are different runs and never continue each other. Runs written before the band
        was recorded match any band.

    Returns
    -------
    PriorRun or None
        Its id, parts and the (system, role) it holds.
    """
    if not landing.is_dir():
        return None
    runs: dict[str, list[Path]] = {}
    for path in sorted(landing.glob(f"{benchmark_key}__{model_key}__*.parquet")):
        run = _run_of(path)
        if not run or run.get("model_key") != model_key:
            continue
        if run.get("benchmark_key") != benchmark_key:
            continue
        run_dispersion, run_band = _variant(run)
        if run_dispersion == dispersion and run_band in (band, None):
            runs.setdefault(run["run_id"], []).append(path)
    if not runs:
        return None
    run_id = max(runs)
    done: dict[Key, tuple[str, str, str]] = {}
    columns = ["system", "role", "settings_hash", "state", "structure.structure_id"]
    for path in runs[run_id]:
        table = pq.read_table(path, columns=columns)
        for system, role, settings, state, structure_id in zip(
            *(table.column(i).to_pylist() for i in range(table.num_columns)), strict=True
        ):
            done[(system, role)] = (structure_id, settings, state)
    return PriorRun(run_id, runs[run_id], done)


@dataclass
class Plan:
    """What one calc of one model on one benchmark will do."""

    run_id: str
    todo: list[Task]
    #: Tasks whose result is reused (already in this run, or carried into it).
    skipped: list[Task] = field(default_factory=list)
    #: Parts of a previous run whose rows the new run carries (with the keys to carry).
    carry_from: list[Path] = field(default_factory=list)
    carry_keys: set[Key] = field(default_factory=set)
    #: Whether the run continues an existing run id.
    resumed: bool = False
    #: Parts already on disk for this run id (a resumed run's earlier sessions).
    earlier_parts: list[Path] = field(default_factory=list)
    #: One sentence on why a new run was started, for the user.
    note: str = ""


def task_keys(tasks: Sequence[Task]) -> dict[Key, tuple[str, str]]:
    """Return (system, role) → (structure hash, settings hash) for each task.

    Raises
    ------
    MlpegError
        When two tasks share a (system, role): a run can hold each only once.
    """
    keys: dict[Key, tuple[str, str]] = {}
    for task in tasks:
        key = (task.system, task.role)
        if key in keys:
            raise MlpegError(
                f"Two tasks have (system, role) = {key}; each must be unique in a benchmark."
            )
        keys[key] = (structure_hash(task.atoms), settings_hash(task.kind))
    return keys


def plan_run(
    tasks: Sequence[Task],
    prior: PriorRun | None,
    *,
    force: bool = False,
    retry_failed: bool = False,
) -> Plan:
    """Decide which tasks to compute and under which run id (see the module docstring).

    Parameters
    ----------
    tasks
        The benchmark's tasks for this model.
    prior
        The latest run in the landing folder (:func:`latest_run`).
    force
        Compute everything in a new run.
    retry_failed
        Recompute the prior run's failed tasks (in a new run carrying the rest).

    Returns
    -------
    Plan
        The run id, the tasks to compute and those skipped.
    """
    keys = task_keys(tasks)
    if force or prior is None:
        return Plan(new_run_id(), list(tasks))
    reusable, conflicts = set(), []
    for key, identity in keys.items():
        previous = prior.done.get(key)
        if previous is None:
            continue
        if previous[:2] != identity:
            conflicts.append(key)
        elif not (retry_failed and previous[2] == State.FAILED):
            reusable.add(key)
    retried = [k for k in keys if k in prior.done and k not in reusable and k not in conflicts]
    if not conflicts and not retried:
        todo = [task for task in tasks if (task.system, task.role) not in prior.done]
        skipped = [task for task in tasks if (task.system, task.role) in prior.done]
        return Plan(
            prior.run_id,
            todo,
            skipped,
            resumed=bool(todo),
            earlier_parts=list(prior.parts),
        )
    note = (
        f"run {prior.run_id} holds {len(conflicts)} task(s) with another structure or settings"
        if conflicts
        else f"retrying {len(retried)} failed task(s) of run {prior.run_id}"
    )
    return Plan(
        new_run_id(),
        [task for task in tasks if (task.system, task.role) not in reusable],
        [task for task in tasks if (task.system, task.role) in reusable],
        carry_from=list(prior.parts),
        carry_keys=reusable,
        note=f"new run: {note}; {len(reusable)} result(s) carried over",
    )


def carried_rows(plan: Plan) -> list[dict]:
    """Return the rows a new run carries over from the previous one, with the new run id."""
    rows: list[dict] = []
    if not plan.carry_keys:
        return rows
    for path in plan.carry_from:
        table = pq.read_table(path)
        keep = pc.is_in(
            pc.binary_join_element_wise(table.column("system"), table.column("role"), "\x1f"),
            pa.array([f"{system}\x1f{role}" for system, role in plan.carry_keys]),
        )
        for row in table.filter(keep).to_pylist():
            row["run_id"] = plan.run_id
            rows.append(row)
    return rows


@contextmanager
def calc_lock(landing: Path, benchmark_key: str, model_key: str) -> Iterator[None]:
    """Hold an exclusive lock on one (benchmark, model) in a landing folder.

    Raises
    ------
    CalcBusy
        When another process holds it (two calcs would write the same run twice).
    """
    folder = landing / ".locks"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{benchmark_key}__{model_key}.lock"
    handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise CalcBusy(
                f"Another mlpeg calc is running {model_key} on {benchmark_key} into {landing}; "
                "wait for it to finish."
            ) from None
        yield
    finally:
        os.close(handle)
