"""The local engine: evaluate in this process, or in one worker process.

A worker process is used under a timeout, and for a model of another environment.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlpeg.calc.execute import Evaluator, RunContext
from mlpeg.calc.isolate import IsolatedEvaluator
from mlpeg.calc.parts import PartWriter, RunInfo
from mlpeg.calc.tasks import Task
from mlpeg.models.registry import ModelSpec

if TYPE_CHECKING:
    from mlpeg.calc.options import CalcOptions


def make_evaluator(
    spec: ModelSpec, *, with_d3: bool, device: str, options: CalcOptions
) -> Evaluator | IsolatedEvaluator:
    """Return an in-process evaluator, or an isolated one when a timeout is set.

    A model of another environment always runs isolated, under that environment's
    interpreter (with no timeout unless one is set).
    """
    from mlpeg.models.environments import environment_of

    environment = environment_of(spec)
    settings: dict[str, Any] = {
        "spec": spec,
        "with_d3": with_d3,
        "device": device,
        "batch_size": options.batch_size,
    }
    if environment is not None:
        python = str(environment.interpreter)
        return IsolatedEvaluator(timeout=options.timeout, python=python, **settings)
    if options.timeout is not None:
        return IsolatedEvaluator(timeout=options.timeout, **settings)
    return Evaluator(**settings)


def run_local(
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
    """Evaluate ``todo`` here, writing parts as rows accumulate; return the parts.

    On an interruption (Ctrl-C, an error outside any task) the rows already computed are
    written before the exception propagates, so a resumed run need not redo them.
    """
    writer = PartWriter(
        landing,
        run,
        writer="w00",
        max_rows=options.flush_rows,
        max_seconds=options.flush_seconds,
        expected=len(todo) + len(carried),
    )
    writer.add(carried)
    context = RunContext(run.run_id, run.model_key, run.benchmark_key)
    evaluator = make_evaluator(spec, with_d3=with_d3, device=device, options=options)
    try:
        for rows in evaluator.rows(todo, context):
            writer.add(rows)
            report([row["state"] for row in rows])
    except BaseException:
        writer.flush(status="running")
        raise
    finally:
        if isinstance(evaluator, IsolatedEvaluator):
            evaluator.close()
    return writer.close()
