"""The Ray engine: actors that each load the model once and write their own parts.

The driver splits the tasks into shards and keeps every actor busy with one shard at a
time; an actor evaluates its shard (batched where the model allows, with the per-task
timeout of :mod:`mlpeg.calc.isolate` when one is set), writes the rows as its own landing
part and returns their states, which the driver turns into progress. When an actor dies
(its process crashed or its node went away), the rows it already wrote stay; the rest of
its shard is retried one task at a time on a fresh actor, and a task that kills a second
actor is recorded as failed by the driver. The same code runs on a laptop (a local Ray
started here) and on a cluster (``--address auto`` or ``ray://host:10001``); on a cluster
the landing folder must be on a file system every node can write to.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow.parquet as pq

from mlpeg.calc.engines.local import make_evaluator
from mlpeg.calc.execute import RunContext, failed_row
from mlpeg.calc.isolate import IsolatedEvaluator
from mlpeg.calc.parts import PartWriter, RunInfo, part_prefix, session_stamp
from mlpeg.calc.tasks import Task
from mlpeg.errors import MlpegError
from mlpeg.models.registry import ModelSpec
from mlpeg.stopping import exit_on_sigterm

if TYPE_CHECKING:
    from mlpeg.calc.runner import CalcOptions

#: Shards per worker the tasks are split into (more: finer progress and balance).
SHARDS_PER_WORKER = 4


class CalcWorker:
    """One actor's work: a model loaded once, and a writer of its own parts.

    Parameters
    ----------
    spec, with_d3, device
        The model, whether D3 is added, and the resolved device.
    options
        The calc options (batch size, timeout, flush settings).
    run
        The run's provenance.
    landing
        The landing folder (must be writable from the actor's node).
    writer, session
        Names that make this actor's parts unique and sortable.
    """

    def __init__(
        self,
        spec: ModelSpec,
        with_d3: bool,
        device: str,
        options: CalcOptions,
        run: RunInfo,
        landing: str,
        writer: str,
        session: str,
    ):
        self.evaluator = make_evaluator(spec, with_d3=with_d3, device=device, options=options)
        self.context = RunContext(run.run_id, run.model_key, run.benchmark_key)
        self.writer = PartWriter(
            Path(landing),
            run,
            writer=writer,
            session=session,
            max_rows=options.flush_rows,
            max_seconds=options.flush_seconds,
        )

    def run(self, tasks: list[Task], last: bool) -> list[str]:
        """Evaluate a shard, write its rows as a part, and return their states."""
        states = []
        for rows in self.evaluator.rows(tasks, self.context):
            self.writer.add(rows)
            states.extend(row["state"] for row in rows)
        self.writer.flush(status="completed" if last else "running")
        return states

    def close(self) -> list[str]:
        """Write what is left, stop any model process, and return this actor's parts."""
        if isinstance(self.evaluator, IsolatedEvaluator):
            self.evaluator.close()
        return [str(path) for path in self.writer.close()]


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise MlpegError(
            "The Ray engine needs Ray: pip install 'mlpeg[ray]' (or use --engine local)."
        ) from None
    return ray


def ensure_ray(address: str | None = None, workers: int | None = None) -> Any:
    """Start or join Ray once per process and return the ``ray`` module.

    Parameters
    ----------
    address
        A cluster to join (``auto``, ``ray://host:10001``); None starts a local Ray
        with ``workers`` CPUs (all CPUs when None).
    workers
        CPUs of the local Ray started here.
    """
    ray = _import_ray()
    if ray.is_initialized():
        return ray
    settings: dict[str, Any] = {
        "include_dashboard": False,
        "logging_level": "ERROR",
        "log_to_driver": False,
    }
    try:
        if address:
            ray.init(address=address, **settings)
        else:
            ray.init(num_cpus=workers, **settings)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = address or "a local Ray"
        raise MlpegError(f"Could not start or join {where}: {exc}") from exc
    exit_on_sigterm()  # ray.init's own handler aborts: no ray.shutdown, services left running
    return ray


def _default_workers(ray: Any, device: str) -> int:
    resources = ray.cluster_resources()
    count = resources.get("GPU", 0) if device == "cuda" else resources.get("CPU", 1)
    return max(1, int(count))


def _written(landing: Path, run: RunInfo) -> dict[tuple[str, str], str]:
    """Return (system, role) → state for every row of the run already on disk."""
    prefix = part_prefix(run.benchmark_key, run.model_key, run.run_id)
    written = {}
    for path in landing.glob(f"{prefix}__*.parquet"):
        table = pq.read_table(path, columns=["system", "role", "state"])
        for system, role, state in zip(*(c.to_pylist() for c in table.columns), strict=True):
            written[(system, role)] = state
    return written


def run_ray(
    todo: Sequence[Task],
    carried: list[dict],
    *,
    spec: ModelSpec,
    with_d3: bool,
    device: str,
    run: RunInfo,
    landing: Path,
    options: CalcOptions,
    report: Callable[[Sequence[str]], None],
) -> list[Path]:
    """Evaluate ``todo`` on Ray actors; return every part written (the actors' and ours)."""
    ray = ensure_ray(options.address, options.workers)
    from ray.exceptions import RayActorError

    n_workers = max(1, min(options.workers or _default_workers(ray, device), len(todo)))
    session = session_stamp()
    landing.mkdir(parents=True, exist_ok=True)
    driver = PartWriter(
        landing,
        run,
        writer="driver",
        session=session,
        max_rows=options.flush_rows,
        max_seconds=options.flush_seconds,
    )
    driver.add(carried)
    context = RunContext(run.run_id, run.model_key, run.benchmark_key)
    resources = {"num_gpus": 1} if device == "cuda" else {"num_cpus": 1}
    actor_class = ray.remote(CalcWorker)
    started = 0

    def new_actor() -> Any:
        nonlocal started
        actor = actor_class.options(**resources).remote(
            spec, with_d3, device, options, run, str(landing), f"ray{started:03d}", session
        )
        started += 1
        return actor

    size = max(1, min(options.flush_rows, math.ceil(len(todo) / (n_workers * SHARDS_PER_WORKER))))
    shards: deque[tuple[list[Task], int]] = deque(
        (list(todo[i : i + size]), 0) for i in range(0, len(todo), size)
    )
    actors = {index: new_actor() for index in range(n_workers)}
    in_flight: dict[Any, tuple[int, list[Task], int]] = {}

    def submit(index: int) -> None:
        if shards:
            tasks, attempt = shards.popleft()
            reference = actors[index].run.remote(tasks, not shards)
            in_flight[reference] = (index, tasks, attempt)

    try:
        for index in actors:
            submit(index)
        while in_flight:
            ready, _ = ray.wait(list(in_flight), num_returns=1)
            index, tasks, attempt = in_flight.pop(ready[0])
            try:
                report(ray.get(ready[0]))
            except RayActorError as exc:
                reason = f"Ray worker died ({type(exc).__name__})"
                written = _written(landing, run)
                for task in tasks:
                    key = (task.system, task.role)
                    if key in written:
                        report([written[key]])
                    elif len(tasks) == 1 and attempt >= 1:
                        driver.add([failed_row(task, context, reason)])
                        report(["failed"])
                    else:
                        shards.appendleft(([task], attempt + 1))
                actors[index] = new_actor()
            submit(index)
    except BaseException:
        # Stopped (Ctrl-C, SIGTERM) or failed: waiting for busy actors to close could take
        # as long as their shards; what they flushed stays, the rest is computed on resume.
        for actor in actors.values():
            ray.kill(actor)
        driver.close()
        raise
    for result in [actor.close.remote() for actor in actors.values()]:
        try:
            ray.get(result)
        except RayActorError:
            continue
    driver.close()
    for actor in actors.values():
        ray.kill(actor)
    # Every part this session wrote, dead actors' included (they cannot tell us theirs).
    prefix = part_prefix(run.benchmark_key, run.model_key, run.run_id)
    return sorted(landing.glob(f"{prefix}__{session}-*.parquet"))
