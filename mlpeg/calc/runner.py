"""The shared runner: one benchmark × one model → one landing Parquet part.

It builds the model's calculator once, runs every task, times each, turns exceptions and
non-finite results into failed rows and unsupported elements into unsupported rows, and
writes the part atomically. It never opens the warehouse.
"""

from __future__ import annotations

import importlib.metadata
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from mlpeg import __version__
from mlpeg.calc.tasks import Reference, Task, TaskResult, settings_hash
from mlpeg.catalog import Benchmark
from mlpeg.enums import PartKind, State
from mlpeg.landing import (
    PREDICTIONS_SCHEMA,
    REFERENCES_SCHEMA,
    new_run_id,
    run_metadata,
    utc_now,
    write_part,
)
from mlpeg.models.registry import ModelSpec, make_calculator, resolve_device
from mlpeg.paths import REPO_ROOT
from mlpeg.structures import atoms_to_row

#: Packages whose versions are recorded with every run.
TRACKED_PACKAGES = (
    "torch",
    "ase",
    "e3nn",
    "mace-torch",
    "orb-models",
    "chgnet",
    "sevenn",
    "torch-dftd",
    "dftd3",
    "numpy",
)


def package_versions() -> dict[str, str]:
    """Return installed versions of the packages that can change a prediction."""
    versions = {"mlpeg": __version__}
    for name in TRACKED_PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def code_version() -> str | None:
    """Return the git commit of the source tree (with ``-dirty``), or None outside git."""
    try:
        commit = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "describe", "--always", "--dirty", "--abbrev=12"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return commit or None


@dataclass(frozen=True)
class RunSummary:
    """Counts of one benchmark × model run."""

    model_key: str
    benchmark_key: str
    part: Path
    n_ok: int
    n_failed: int
    n_unsupported: int
    wall_time_s: float


def _check_finite(result: TaskResult) -> str | None:
    if result.energy is not None and not np.isfinite(result.energy):
        return "non-finite energy"
    for name in ("forces", "stress"):
        value = getattr(result, name)
        if value is not None and not np.all(np.isfinite(value)):
            return f"non-finite {name}"
    if any(not np.isfinite(v) for v in result.properties.values()):
        return "non-finite property"
    return None


def _row(
    task: Task,
    *,
    state: State,
    result: TaskResult | None,
    error: str | None,
    wall_time_s: float,
    common: dict[str, Any],
) -> dict[str, Any]:
    result = result or TaskResult()
    return {
        **common,
        "system": task.system,
        "role": task.role,
        "task": task.kind.name,
        "settings_hash": settings_hash(task.kind),
        "structure": atoms_to_row(task.atoms),
        "frames": [atoms_to_row(frame) for frame in result.frames],
        "energy": result.energy if state == State.OK else None,
        "forces": result.forces.tolist()
        if state == State.OK and result.forces is not None
        else None,
        "stress": result.stress.tolist()
        if state == State.OK and result.stress is not None
        else None,
        "properties": list(result.properties.items()) if state == State.OK else [],
        "state": str(state),
        "error": error,
        "wall_time_s": wall_time_s,
        "computed_at": utc_now(),
    }


def run_tasks(
    tasks: Sequence[Task],
    spec: ModelSpec,
    benchmark: Benchmark,
    *,
    landing: Path,
    device: str | None = None,
    on_task_done: Callable[[], None] | None = None,
) -> RunSummary:
    """Run every task with one model and write one landing part.

    Parameters
    ----------
    tasks
        The benchmark's tasks.
    spec
        The model.
    benchmark
        The benchmark (its ``dispersion`` decides whether D3 is added).
    landing
        The landing folder.
    device
        ``auto``, ``cpu`` or ``cuda``; the model entry's device when None.
    on_task_done
        Called after each task (progress bars).

    Returns
    -------
    RunSummary
        Where the part went and how many tasks ended in each state.
    """
    with_d3 = spec.needs_d3(benchmark.dispersion)
    model_key = spec.key(with_d3=with_d3)
    run_id = new_run_id()
    started_at = utc_now()
    resolved = resolve_device(device or spec.device)
    common = {"run_id": run_id, "model_key": model_key, "benchmark_key": benchmark.key}
    supported = [spec.supports(task.atoms.numbers) for task in tasks]
    calc = None
    calc_error = None
    if any(supported):
        try:
            calc = make_calculator(spec, with_d3=with_d3, device=resolved)
        except Exception as exc:  # a model that cannot load fails every task, visibly
            calc_error = f"model could not be built: {type(exc).__name__}: {exc}"
    rows = []
    clock = time.perf_counter()
    for task, is_supported in zip(tasks, supported, strict=True):
        start = time.perf_counter()
        result, error = None, None
        if not is_supported:
            state = State.UNSUPPORTED
            missing = sorted(set(task.atoms.get_chemical_symbols()) - {s for s in _symbols(spec)})
            error = f"elements not supported by {spec.name}: {', '.join(missing)}"
        elif calc is None:
            state, error = State.FAILED, calc_error
        else:
            atoms = task.atoms.copy()
            atoms.calc = calc
            try:
                result = task.kind.run(atoms)
                error = _check_finite(result)
                state = State.FAILED if error else State.OK
            except Exception as exc:
                state, error = State.FAILED, f"{type(exc).__name__}: {exc}"
        rows.append(
            _row(
                task,
                state=state,
                result=result,
                error=error,
                wall_time_s=time.perf_counter() - start,
                common=common,
            )
        )
        if on_task_done is not None:
            on_task_done()
    ended_at = utc_now()
    run = run_metadata(
        run_id=run_id,
        model_key=model_key,
        benchmark_key=benchmark.key,
        started_at=started_at,
        ended_at=ended_at,
        device=resolved,
        dtype=spec.dtype,
        versions=package_versions(),
        code_version=code_version(),
    )
    table = pa.Table.from_pylist(rows, schema=PREDICTIONS_SCHEMA)
    part = write_part(
        table,
        kind=PartKind.PREDICTIONS,
        folder=landing,
        name=f"{benchmark.key}__{model_key}__{run_id}",
        run=run,
    )
    states = [row["state"] for row in rows]
    return RunSummary(
        model_key=model_key,
        benchmark_key=benchmark.key,
        part=part,
        n_ok=states.count(State.OK),
        n_failed=states.count(State.FAILED),
        n_unsupported=states.count(State.UNSUPPORTED),
        wall_time_s=time.perf_counter() - clock,
    )


def _symbols(spec: ModelSpec) -> list[str]:
    from mlpeg.models.registry import element_symbols

    return element_symbols(spec)


def write_references(
    references: Sequence[Reference], benchmark: Benchmark, *, landing: Path
) -> Path:
    """Write a benchmark's reference values as a landing part and return its path."""
    rows = [{"benchmark_key": benchmark.key, **ref.__dict__} for ref in references]
    table = pa.Table.from_pylist(rows, schema=REFERENCES_SCHEMA)
    return write_part(
        table, kind=PartKind.REFERENCES, folder=landing, name=f"{benchmark.key}__references"
    )
