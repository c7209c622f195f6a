"""Engines: where a run's tasks are evaluated. ``local`` (this process) or ``ray`` (actors).

Every engine takes the tasks still to do and the rows carried over from a previous run,
writes the run's landing parts itself (or through its workers), calls ``report`` with the
states of the rows as they are written (progress and counts), and returns the parts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from mlpeg.calc.parts import RunInfo
from mlpeg.calc.tasks import Task
from mlpeg.models.registry import ModelSpec

if TYPE_CHECKING:
    from mlpeg.calc.options import CalcOptions


def run_engine(
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
    """Evaluate ``todo`` with the engine ``options.engine`` names; return the parts written.

    Parameters
    ----------
    todo
        Tasks to compute.
    carried
        Rows carried over from a previous run (already holding this run's id).
    spec, with_d3, device
        The model, whether D3 is added, and the resolved device.
    run
        The run's provenance.
    landing
        The landing folder.
    options
        The calc options.
    report
        Called with the states of rows as they are written.
    """
    if options.engine == "ray":
        from mlpeg.calc.engines.ray import run_ray as engine
    else:
        from mlpeg.calc.engines.local import run_local as engine
    return engine(
        todo,
        carried,
        spec=spec,
        with_d3=with_d3,
        device=device,
        run=run,
        landing=landing,
        options=options,
        report=report,
    )
