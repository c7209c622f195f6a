"""Command-line options of ``mlpeg calc`` and ``mlpeg run`` for the engine, and its summary."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from mlpeg.calc.defaults import DEFAULT_BATCH_SIZE

if TYPE_CHECKING:  # the engine is imported by the commands that run it, not by every one
    from rich.table import Table

    from mlpeg.calc.options import CalcOptions
    from mlpeg.calc.runner import RunSummary


class Engine(StrEnum):
    """Where tasks are evaluated."""

    LOCAL = "local"
    RAY = "ray"


EngineOption = Annotated[
    Engine, typer.Option(help="local: this process; ray: Ray actors, one model load each.")
]
AddressOption = Annotated[
    str | None,
    typer.Option(help="Ray cluster to join (auto, ray://host:10001); default starts one here."),
]
WorkersOption = Annotated[
    int | None, typer.Option(help="Ray workers (default: one per CPU, or per GPU on cuda).")
]
ForceOption = Annotated[
    bool, typer.Option("--force", help="Recompute tasks already in the landing folder.")
]
RetryFailedOption = Annotated[
    bool, typer.Option("--retry-failed", help="Recompute the failed tasks of the latest run.")
]
TimeoutOption = Annotated[
    float | None,
    typer.Option(help="Seconds a task may take; past it the task is stopped and recorded."),
]
ThreadsOption = Annotated[
    int,
    typer.Option(
        help="CPU threads per model process (0: one per core). One is fastest for small "
        "structures and on a busy machine."
    ),
]
BatchOption = Annotated[
    int,
    typer.Option("--batch-size", help="Single points per batched forward pass (MACE, Orb)."),
]


def calc_options(
    *,
    engine: Engine = Engine.LOCAL,
    address: str | None = None,
    workers: int | None = None,
    force: bool = False,
    retry_failed: bool = False,
    timeout: float | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> CalcOptions:
    """Return the :class:`CalcOptions` the command-line options describe."""
    from mlpeg.calc.options import CalcOptions

    return CalcOptions(
        engine=str(engine),
        address=address,
        workers=workers,
        force=force,
        retry_failed=retry_failed,
        timeout=timeout,
        batch_size=batch_size,
    )


def _rate(per_second: float) -> str:
    """Structures per second, readable for slow tasks too (an NEB: one per 20 minutes)."""
    return f"{per_second:.1f}" if per_second >= 0.1 else f"1/{1 / per_second:.0f}s"


def summary_table(summaries: Sequence[RunSummary]) -> Table:
    """Return the end-of-calc table: done, skipped, failed, unsupported, time, rate."""
    from rich.table import Table

    table = Table(title="Calc summary", header_style="bold")
    # names in full (the numbers are short), so an 80-column log stays readable
    table.add_column("benchmark", no_wrap=True)
    table.add_column("model", no_wrap=True)
    for column in ("ok", "skip", "fail", "uns.", "time", "/s"):
        table.add_column(column, justify="right", no_wrap=True)
    for s in summaries:
        table.add_row(
            s.benchmark_key,
            s.model_key + (" (resumed)" if s.resumed else ""),
            str(s.n_ok),
            str(s.n_skipped),
            f"[red]{s.n_failed}[/]" if s.n_failed else "0",
            str(s.n_unsupported),
            f"{s.wall_time_s:.0f}s",
            _rate(s.structures_per_s) if s.n_computed else "–",
        )
    if len(summaries) > 1:
        total_time = sum(s.wall_time_s for s in summaries)
        total = sum(s.n_computed for s in summaries)
        table.add_section()
        table.add_row(
            "all",
            "",
            str(sum(s.n_ok for s in summaries)),
            str(sum(s.n_skipped for s in summaries)),
            str(sum(s.n_failed for s in summaries)),
            str(sum(s.n_unsupported for s in summaries)),
            f"{total_time:.0f}s",
            _rate(total / total_time) if total and total_time > 0 else "–",
        )
    return table
