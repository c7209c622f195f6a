"""The Ray engine: actors that each load the model once and write their own parts.

The driver splits the tasks into shards and keeps every actor busy with one shard at a
time; an actor evaluates its shard (batched where the model allows, with the per-task
timeout of :mod:`mlpeg.calc.isolate` when one is set), writes the rows as its own landing
part and returns their states, which the driver turns into progress. When an actor dies
(its process crashed or its node went away), the rows it already wrote stay; the rest of
its shard is retried one task at a time on a fresh actor, and a task that kills a second
actor is recorded as failed by the driver. A fresh actor may never start (its node is gone
and the others hold every resource): once nothing else is queued, an idle actor takes
over the shard it was waiting with. The same code runs on a laptop (a local Ray
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
    from mlpeg.calc.options import CalcOptions

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
        Names that make this actor's parts unique and sortable; the writer name gets the
        first 8 hex digits of the Ray node's id (``ray003.1f2e3d4c``), so a part says
        which node wrote it.

    Notes
    -----
    Everything the actor needs travels with it: the model entry (the family's loader
    fetches and checks the weights on the node) and, in each task, the structure itself,
    so a node reads nothing from the driver's disk except the landing folder it writes.
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
        import ray

        self.node_id = ray.get_runtime_context().get_node_id()
        self.evaluator = make_evaluator(spec, with_d3=with_d3, device=device, options=options)
        self.context = RunContext(run.run_id, run.model_key, run.benchmark_key)
        self.writer = PartWriter(
            Path(landing),
            run,
            writer=f"{writer}.{self.node_id[:8]}",
            session=session,
            max_rows=options.flush_rows,
            max_seconds=options.flush_seconds,
        )

    def ready(self) -> str:
        """Return the id of the Ray node this actor runs on (answers once it is built)."""
        return self.node_id

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
        with ``workers`` CPUs (all CPUs when None), even if ``RAY_ADDRESS`` is set.
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
            # "local": a Ray of its own even where RAY_ADDRESS names a cluster (which
            # ray.init would otherwise join, refusing num_cpus)
            ray.init(address="local", num_cpus=workers, **settings)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = address or "a local Ray"
        raise MlpegError(f"Could not start or join {where}: {exc}") from exc
    exit_on_sigterm()  # ray.init's own handler aborts: no ray.shutdown, services left running
    return ray


def placement(
    device: str, workers: int | None, resources: dict[str, float]
) -> tuple[int, dict[str, float]]:
    """Return how many actors to start and the Ray resources each one asks for.

    On ``cuda`` each actor holds one GPU (``num_gpus=1``; Ray sets its
    ``CUDA_VISIBLE_DEVICES``), so by default there is one actor per GPU of the cluster,
    each loading the model once and batching ``--batch-size`` structures on its device.
    More workers than GPUs share them evenly (two per GPU: ``num_gpus=0.5``), for models
    too small to fill a GPU alone. Elsewhere each actor takes one CPU.

    Parameters
    ----------
    device
        The resolved device (``cpu``, ``cuda``, ``cuda:N``).
    workers
        Actors asked for (``--workers``); None for the default.
    resources
        ``ray.cluster_resources()``: totals such as ``{"CPU": 64, "GPU": 8}``.

    Raises
    ------
    MlpegError
        If a GPU is asked for and the cluster has none.
    """
    if device.startswith("cuda"):
        gpus = int(resources.get("GPU", 0))
        if gpus < 1:
            raise MlpegError(
                "--device cuda, but the Ray cluster has no GPU (start its nodes with "
                "'ray start --num-gpus N', or use --device cpu)."
            )
        n_actors = workers or gpus
        per_gpu = math.ceil(n_actors / gpus)
        return n_actors, {"num_gpus": 1.0 / per_gpu, "num_cpus": 1.0}
    return workers or max(1, int(resources.get("CPU", 1))), {"num_cpus": 1.0}


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

    wanted, resources = placement(device, options.workers, ray.cluster_resources())
    if device.startswith("cuda"):  # an actor sees only its own GPU(s), as device 0
        device = "cuda"
    n_workers = max(1, min(wanted, len(todo)))
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
    actor_class = ray.remote(CalcWorker)
    started = 0

    def new_actor() -> Any:
        nonlocal started
        actor = actor_class.options(**resources).remote(
            spec, with_d3, device, options, run, str(landing), f"ray{started:03d}", session
        )
        started += 1
        return actor

    def replace(index: int) -> None:
        actors[index] = new_actor()
        waiting[index] = actors[index].ready.remote()

    size = max(1, min(options.flush_rows, math.ceil(len(todo) / (n_workers * SHARDS_PER_WORKER))))
    shards: deque[tuple[list[Task], int]] = deque(
        (list(todo[i : i + size]), 0) for i in range(0, len(todo), size)
    )
    actors = {index: new_actor() for index in range(n_workers)}
    waiting: dict[int, Any] = {}  # replacement actors → their ready() call
    in_flight: dict[Any, tuple[int, list[Task], int]] = {}

    def not_started(index: int) -> bool:
        if index not in waiting:
            return False
        done, _ = ray.wait([waiting[index]], timeout=0)
        if done:
            del waiting[index]
        return not done

    def submit(index: int) -> None:
        if shards:
            tasks, attempt = shards.popleft()
            reference = actors[index].run.remote(tasks, not shards)
            in_flight[reference] = (index, tasks, attempt)
            return
        # Nothing queued: take over a shard waiting for a replacement actor that has not
        # started (one replacing an actor lost with its node may never find resources).
        for reference, (other, tasks, attempt) in list(in_flight.items()):
            if other != index and not_started(other):
                ray.kill(actors.pop(other))
                del in_flight[reference], waiting[other]
                shards.append((tasks, attempt))
                submit(index)
                return

    try:
        for index in actors:
            submit(index)
        while in_flight:
            finished, _ = ray.wait(list(in_flight), num_returns=1)
            index, tasks, attempt = in_flight.pop(finished[0])
            try:
                report(ray.get(finished[0]))
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
                replace(index)
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
