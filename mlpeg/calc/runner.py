"""The shared runner: one benchmark × one model → landing Parquet parts of one run.

It plans the run from what the landing folder already holds (:mod:`mlpeg.calc.resume`:
skip what is done, continue a killed run under its id), then hands the remaining tasks to
an engine (:mod:`mlpeg.calc.engines`: ``local`` in this process, or ``ray`` actors) that
evaluates them (:mod:`mlpeg.calc.execute`: failures and unsupported elements become rows,
single points are batched where the model allows) and writes parts as it goes
(:mod:`mlpeg.calc.parts`), so a killed run keeps what it has written. It never opens the
warehouse.
"""

from __future__ import annotations

import importlib.metadata
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from mlpeg import __version__
from mlpeg.calc.options import CalcOptions
from mlpeg.calc.parts import RunInfo
from mlpeg.calc.resume import calc_lock, carried_rows, latest_run, plan_run
from mlpeg.calc.tasks import Reference, Task
from mlpeg.catalog import Benchmark
from mlpeg.enums import Dispersion, PartKind, State
from mlpeg.errors import MlpegError
from mlpeg.landing import REFERENCES_SCHEMA, utc_now, write_part
from mlpeg.models.registry import ModelSpec, resolve_device, run_provenance
from mlpeg.paths import REPO_ROOT

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

#: Engines ``run_tasks`` knows.

#: Kept for callers of the former private name.


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


def check_device(device: str) -> None:
    """Accept ``auto``, ``cpu``, ``cuda`` or ``cuda:N``; raise one clear sentence otherwise."""
    name, _, index = device.partition(":")
    if device in ("auto", "cpu", "cuda") or (name == "cuda" and index.isdigit()):
        return
    raise MlpegError(f"Unknown device '{device}'; use auto, cpu, cuda or cuda:N.")


def check_dispersion(spec: ModelSpec, benchmark: Benchmark, dispersion: str | None) -> Dispersion:
    """Return the dispersion a run of ``spec`` on ``benchmark`` uses.

    Parameters
    ----------
    spec, benchmark
        The model and the benchmark (its declared ``dispersion``).
    dispersion
        An override (``none`` or ``d3bj``), or None for the declared choice.

    Raises
    ------
    MlpegError
        For an unknown value, or ``d3bj`` on a model trained with dispersion.
    """
    if dispersion is None:
        return spec.declared_dispersion(benchmark.dispersion)
    choices = ", ".join(str(d) for d in Dispersion)
    try:
        chosen = Dispersion(dispersion)
    except ValueError:
        raise MlpegError(f"Unknown dispersion '{dispersion}'; choose one of {choices}.") from None
    if chosen == Dispersion.D3BJ and spec.trained_on_dispersion:
        raise MlpegError(
            f"Model '{spec.name}' was trained with dispersion: D3 is never added to it "
            "(drop --dispersion d3bj, or that model)."
        )
    return chosen


@dataclass(frozen=True)
class RunSummary:
    """What one benchmark × model calc did.

    ``n_ok``, ``n_failed`` and ``n_unsupported`` count the tasks computed in this call;
    ``n_skipped`` those whose result was already in the landing folder.
    """

    model_key: str
    benchmark_key: str
    part: Path | None
    n_ok: int
    n_failed: int
    n_unsupported: int
    wall_time_s: float
    n_skipped: int = 0
    run_id: str = ""
    parts: tuple[Path, ...] = ()
    resumed: bool = False
    note: str = ""

    @property
    def n_computed(self) -> int:
        """Tasks computed in this call (ok, failed or unsupported)."""
        return self.n_ok + self.n_failed + self.n_unsupported

    @property
    def structures_per_s(self) -> float:
        """Computed tasks per second of wall time."""
        return self.n_computed / self.wall_time_s if self.wall_time_s > 0 else 0.0


def run_tasks(
    tasks: Sequence[Task],
    spec: ModelSpec,
    benchmark: Benchmark,
    *,
    landing: Path,
    device: str | None = None,
    on_task_done: Callable[[], None] | None = None,
    options: CalcOptions | None = None,
    dispersion: str | None = None,
    band: str = "full",
) -> RunSummary:
    """Run every task not yet done with one model, writing landing parts as it goes.

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
        Called once per task, skipped ones included (progress bars).
    options
        Engine, resume, timeout and batching (:class:`CalcOptions`).
    dispersion
        ``none`` or ``d3bj``: overrides the benchmark's declared choice (a comparison
        run); None runs the declared choice, which is what the leaderboard scores.
    band
        ``full``, ``quick`` or ``subset``: what part of the benchmark ``tasks`` are,
        recorded on the run.

    Returns
    -------
    RunSummary
        The run's parts and how many tasks ended in each state.
    """
    from mlpeg.calc.engines import run_engine

    clock = time.perf_counter()
    options = options or CalcOptions()
    chosen = check_dispersion(spec, benchmark, dispersion)
    with_d3 = chosen == Dispersion.D3BJ
    model_key = spec.name
    check_device(device or spec.device)
    resolved = resolve_device(device or spec.device)
    counts = {str(state): 0 for state in State}

    def report(states: Sequence[str]) -> None:
        for state in states:
            counts[state] += 1
            if on_task_done is not None:
                on_task_done()

    with calc_lock(landing, benchmark.key, model_key):
        plan = plan_run(
            tasks,
            latest_run(landing, benchmark.key, model_key, dispersion=chosen, band=band),
            force=options.force,
            retry_failed=options.retry_failed,
        )
        for _ in plan.skipped:
            if on_task_done is not None:
                on_task_done()
        versions, model = _provenance(spec, with_d3=with_d3)
        run = RunInfo(
            run_id=plan.run_id,
            model_key=model_key,
            benchmark_key=benchmark.key,
            started_at=utc_now(),
            device=resolved,
            dtype=spec.dtype,
            versions=versions,
            code_version=code_version(),
            model=model,
            dispersion=str(chosen),
            band=band,
        )
        new_parts: list[Path] = []
        if plan.todo or plan.carry_keys:
            new_parts = run_engine(
                plan.todo,
                carried_rows(plan),
                spec=spec,
                with_d3=with_d3,
                device=resolved,
                run=run,
                landing=landing,
                options=options,
                report=report,
            )
    parts = tuple(plan.earlier_parts) + tuple(new_parts)
    return RunSummary(
        model_key=model_key,
        benchmark_key=benchmark.key,
        part=parts[-1] if parts else None,
        n_ok=counts[State.OK],
        n_failed=counts[State.FAILED],
        n_unsupported=counts[State.UNSUPPORTED],
        wall_time_s=time.perf_counter() - clock,
        n_skipped=len(plan.skipped),
        run_id=plan.run_id,
        parts=parts,
        resumed=plan.resumed,
        note=plan.note,
    )


def _provenance(spec: ModelSpec, *, with_d3: bool) -> tuple[dict[str, str], dict]:
    """Return the package versions and model provenance a run records.

    A model of another environment reports both from that environment (its package
    versions differ from this one's), with ``environment`` and ``python`` among the versions.
    """
    if not spec.environment:
        return package_versions(), run_provenance(spec, with_d3=with_d3)
    from mlpeg.models.environments import describe

    probe = describe(spec)
    found = (probe.models or {}).get(spec.name, {})
    model = run_provenance(spec, with_d3=with_d3, located=False)
    model["checkpoint"] = found.get("checkpoint") or spec.checkpoint
    model["checkpoint_sha256"] = found.get("checkpoint_sha256")
    if with_d3:
        model["d3"] = found.get("d3")
    versions = {
        **(probe.versions or {}),
        "environment": spec.environment,
        "python": probe.python_version or "",
    }
    return versions, model


def write_references(
    references: Sequence[Reference], benchmark: Benchmark, *, landing: Path
) -> Path:
    """Write a benchmark's reference values as a landing part and return its path."""
    rows = [{"benchmark_key": benchmark.key, **ref.__dict__} for ref in references]
    table = pa.Table.from_pylist(rows, schema=REFERENCES_SCHEMA)
    return write_part(
        table, kind=PartKind.REFERENCES, folder=landing, name=f"{benchmark.key}__references"
    )
