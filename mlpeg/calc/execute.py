"""Turn tasks into prediction rows with one model: the work every engine shares.

An :class:`Evaluator` builds the model's calculator once (lazily, so a run whose every
structure is unsupported never loads the model), then turns each task into exactly one
row: ``ok`` with the result, ``failed`` with the error (an exception, a non-finite
number, a model that could not be built), or ``unsupported`` with the reason: elements the
model lacks, or a charge, open shell, external field or periodic cell it does not accept
(:mod:`mlpeg.models.capabilities`). Single points of many structures go through the model
in batches where the family allows it (:mod:`mlpeg.calc.batch`); a batch that raises is
redone one structure at a time, so one bad structure fails alone.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mlpeg.calc.defaults import DEFAULT_BATCH_SIZE
from mlpeg.calc.tasks import SinglePoint, Task, TaskResult, settings_hash
from mlpeg.enums import State
from mlpeg.errors import MlpegError
from mlpeg.landing import utc_now
from mlpeg.models.registry import ModelSpec, make_calculator
from mlpeg.structures import atoms_to_row

#: Largest number of atoms in one batched forward pass (of structures: DEFAULT_BATCH_SIZE).
DEFAULT_BATCH_ATOMS = 4096


@dataclass(frozen=True)
class RunContext:
    """The columns every row of one run shares."""

    run_id: str
    model_key: str
    benchmark_key: str

    def columns(self) -> dict[str, str]:
        """Return the shared columns as a dict."""
        return {
            "run_id": self.run_id,
            "model_key": self.model_key,
            "benchmark_key": self.benchmark_key,
        }


def check_finite(result: TaskResult) -> str | None:
    """Return why a result is not finite, or None when every number is."""
    if result.energy is not None and not np.isfinite(result.energy):
        return "non-finite energy"
    for name in ("forces", "stress"):
        value = getattr(result, name)
        if value is not None and not np.all(np.isfinite(value)):
            return f"non-finite {name}"
    if any(not np.isfinite(v) for v in result.properties.values()):
        return "non-finite property"
    return None


def make_row(
    task: Task,
    context: RunContext,
    *,
    state: State,
    result: TaskResult | None = None,
    error: str | None = None,
    wall_time_s: float = 0.0,
) -> dict[str, Any]:
    """Return one prediction row (a dict matching ``PREDICTIONS_SCHEMA``).

    Parameters
    ----------
    task
        The task the row is about.
    context
        Run, model and benchmark.
    state
        ``ok``, ``failed`` or ``unsupported``; values are kept only when ``ok``.
    result
        What the task produced.
    error
        Why it failed or is unsupported.
    wall_time_s
        Seconds spent on it.
    """
    result = result or TaskResult()
    ok = state == State.OK
    return {
        **context.columns(),
        "system": task.system,
        "role": task.role,
        "task": task.kind.name,
        "settings_hash": settings_hash(task.kind),
        "structure": atoms_to_row(task.atoms),
        "frames": [atoms_to_row(frame) for frame in result.frames] if ok else [],
        "energy": result.energy if ok else None,
        "forces": result.forces.tolist() if ok and result.forces is not None else None,
        "stress": result.stress.tolist() if ok and result.stress is not None else None,
        "properties": list(result.properties.items()) if ok else [],
        "state": str(state),
        "error": error,
        "wall_time_s": wall_time_s,
        "computed_at": utc_now(),
    }


def failed_row(task: Task, context: RunContext, error: str, wall_time_s: float = 0.0) -> dict:
    """Return a failed row for ``task`` (timeouts, crashed workers, unbuildable models)."""
    return make_row(task, context, state=State.FAILED, error=error, wall_time_s=wall_time_s)


def _batch_key(task: Task) -> tuple | None:
    """Tasks with equal keys can share a batched forward pass; None: never batched."""
    if type(task.kind) is not SinglePoint:
        return None
    return (tuple(sorted(task.kind.properties)), bool(task.atoms.pbc.all()))


#: Calculators kept per process (least recently used dropped first): a calc of the main job
#: builds each model once, not once per benchmark (SevenNet takes 3-6 CPU seconds to load,
#: 33 times in the main job); enough for ``--models all-offline`` to keep every model.
CALCULATOR_CACHE_SIZE = 16
_calculators: OrderedDict[tuple, Any] = OrderedDict()


def _calculator_key(spec: ModelSpec, with_d3: bool, device: str) -> tuple:
    """Return the model's whole entry, and its checkpoint file's size and time if a file."""
    checkpoint = Path(spec.checkpoint).expanduser()
    stamp = None
    if checkpoint.is_file():  # a file rewritten in place is another model
        stat = checkpoint.stat()
        stamp = (stat.st_size, stat.st_mtime_ns)
    return (repr(spec), stamp, with_d3, device)


def cached_calculator(spec: ModelSpec, *, with_d3: bool, device: str) -> Any:
    """Return the model's calculator, built once per process and reused (results reset).

    Parameters
    ----------
    spec
        The model.
    with_d3
        Whether D3(BJ) is added.
    device
        ``cpu`` or ``cuda`` (already resolved).

    Returns
    -------
    Calculator
        As :func:`mlpeg.models.registry.make_calculator` builds it; a failure is not kept.
    """
    key = _calculator_key(spec, with_d3, device)
    calc = _calculators.pop(key, None)
    if calc is None:
        calc = make_calculator(spec, with_d3=with_d3, device=device)
    else:
        _forget_results(calc)  # no result of another benchmark's structure is reused
    _calculators[key] = calc
    while len(_calculators) > CALCULATOR_CACHE_SIZE:
        _calculators.popitem(last=False)
    return calc


def _forget_results(calc: Any) -> None:
    """Drop a calculator's cached results (and those of the calculators it sums)."""
    if hasattr(calc, "reset"):  # ase Calculator
        calc.reset()
    else:  # ase BaseCalculator, e.g. the SumCalculator of a model plus D3
        calc.results, calc.atoms = {}, None
    for part in getattr(getattr(calc, "mixer", None), "calcs", ()):
        _forget_results(part)


def clear_calculators() -> None:
    """Drop every cached calculator (tests, or to free memory)."""
    _calculators.clear()


class Evaluator:
    """One model's calculator and the rows it produces for tasks.

    Parameters
    ----------
    spec
        The model.
    with_d3
        Add the D3 correction.
    device
        ``cpu`` or ``cuda`` (already resolved).
    batch_size
        Most structures per batched forward pass; 1 turns batching off.
    batch_atoms
        Most atoms per batched forward pass.
    """

    def __init__(
        self,
        spec: ModelSpec,
        *,
        with_d3: bool,
        device: str,
        batch_size: int = DEFAULT_BATCH_SIZE,
        batch_atoms: int = DEFAULT_BATCH_ATOMS,
    ):
        self.spec = spec
        self.with_d3 = with_d3
        self.device = device
        self.batch_size = max(1, batch_size)
        self.batch_atoms = batch_atoms
        self._calc: Any = None
        self._batcher: Any = None
        self._calc_error: str | None = None
        self._loaded = False

    def load(self) -> None:
        """Build the calculator now (once); a failure is kept and reported per task."""
        if self._loaded:
            return
        self._loaded = True
        try:
            self._calc = cached_calculator(self.spec, with_d3=self.with_d3, device=self.device)
        except Exception as exc:  # a model that cannot load fails every task, visibly
            self._calc_error = f"model could not be built: {type(exc).__name__}: {exc}"
            return
        if self.batch_size > 1:
            from mlpeg.calc.batch import batch_evaluator

            self._batcher = batch_evaluator(self._calc)

    @property
    def batched(self) -> bool:
        """Whether single points go through the model in batches."""
        self.load()
        return self._batcher is not None

    def _check(self, task: Task) -> tuple[State, str] | None:
        """Return the state and reason of a task the model cannot take, else None."""
        try:
            reason = self.spec.unsupported_reason(task.atoms)
        except MlpegError as exc:  # malformed charge, spin or field in atoms.info
            return State.FAILED, str(exc)
        return (State.UNSUPPORTED, reason) if reason else None

    def _computable(self, task: Task) -> bool:
        return self._check(task) is None

    def one(self, task: Task, context: RunContext) -> dict:
        """Run one task and return its row (never raises for the task's own errors)."""
        refused = self._check(task)
        if refused is not None:
            return make_row(task, context, state=refused[0], error=refused[1])
        self.load()
        if self._calc is None:
            return failed_row(task, context, self._calc_error or "model could not be built")
        start = time.perf_counter()
        atoms = task.atoms.copy()
        atoms.calc = self._calc
        try:
            result = task.kind.run(atoms)
            error = check_finite(result)
        except Exception as exc:
            return failed_row(
                task, context, f"{type(exc).__name__}: {exc}", time.perf_counter() - start
            )
        return make_row(
            task,
            context,
            state=State.FAILED if error else State.OK,
            result=result,
            error=error,
            wall_time_s=time.perf_counter() - start,
        )

    def _batch(self, tasks: Sequence[Task], context: RunContext) -> list[dict]:
        kind = tasks[0].kind
        structures = [task.atoms for task in tasks]
        periodic = bool(structures[0].pbc.all())
        start = time.perf_counter()
        try:
            results = self._batcher.evaluate(
                structures,
                forces="forces" in kind.properties,
                stress="stress" in kind.properties and periodic,
            )
        except Exception:
            return [self.one(task, context) for task in tasks]  # find the bad one(s)
        elapsed = time.perf_counter() - start
        n_atoms = sum(len(atoms) for atoms in structures)
        rows = []
        for task, result in zip(tasks, results, strict=True):
            error = check_finite(result)
            rows.append(
                make_row(
                    task,
                    context,
                    state=State.FAILED if error else State.OK,
                    result=result,
                    error=error,
                    wall_time_s=elapsed * len(task.atoms) / n_atoms,  # share of the batch
                )
            )
        return rows

    def groups(self, tasks: Sequence[Task]) -> list[list[Task]]:
        """Split tasks into the groups :meth:`rows` evaluates together."""
        supported = [task for task in tasks if self._computable(task)]
        if not supported or not self.batched:  # no model is built when nothing is supported
            return [[task] for task in tasks]
        singles: list[list[Task]] = []
        by_key: dict[tuple, list[list[Task]]] = {}
        for task in tasks:
            key = _batch_key(task) if self._computable(task) else None
            if key is None:
                singles.append([task])
                continue
            batches = by_key.setdefault(key, [[]])
            current = batches[-1]
            atoms = sum(len(t.atoms) for t in current) + len(task.atoms)
            if current and (len(current) >= self.batch_size or atoms > self.batch_atoms):
                current = []
                batches.append(current)
            current.append(task)
        return singles + [batch for batches in by_key.values() for batch in batches]

    def rows(self, tasks: Sequence[Task], context: RunContext) -> Iterator[list[dict]]:
        """Yield the rows of ``tasks`` group by group (a batch, or one task)."""
        for group in self.groups(tasks):
            if len(group) == 1:
                yield [self.one(group[0], context)]
            else:
                yield self._batch(group, context)
