"""Which tasks of a benchmark a calc runs: its quick band, the full set or a subset.

A benchmark's ``quick:`` entry in benchmark.yml fixes its quick band, which ``mlpeg run``
and ``mlpeg calc`` run by default: ``every: N`` keeps every Nth system (reaction, for
reaction benchmarks) in data-file order, ``first: N`` the first N, and neither keeps what
calc.py's ``tasks()`` returns by default (``tasks(full=True)`` being the full set).
``--full`` runs the full set, ``--subset N`` the first N systems or reactions. The band
is recorded on every run, so a quick-band score is never mistaken for a full one.
"""

from __future__ import annotations

import inspect
from types import ModuleType

from mlpeg.calc.tasks import Task
from mlpeg.catalog import Benchmark
from mlpeg.enums import Band


def band_of(benchmark: Benchmark, *, full: bool, subset: int | None) -> Band:
    """Return the band a calc of ``benchmark`` runs with these options."""
    if subset:
        return Band.SUBSET
    if full or benchmark.quick is None:
        return Band.FULL
    return Band.QUICK


def _units(module: ModuleType, tasks: list[Task]) -> list[list[str]]:
    """Return the systems grouped as a band counts them: per reaction, or one by one."""
    if hasattr(module, "reactions"):
        return [[name for name, _ in reaction.species] for reaction in module.reactions()]
    return [[system] for system in dict.fromkeys(task.system for task in tasks)]


def _keep(module: ModuleType, tasks: list[Task], chosen: list[list[str]]) -> list[Task]:
    keep = {system for unit in chosen for system in unit}
    return [task for task in tasks if task.system in keep]


def select_tasks(
    benchmark: Benchmark, module: ModuleType, *, full: bool = False, subset: int | None = None
) -> tuple[list[Task], Band]:
    """Return the tasks a calc runs, and the band they make up.

    Parameters
    ----------
    benchmark
        The benchmark (its ``quick`` entry).
    module
        Its calc.py.
    full
        Run the full definition (``tasks(full=True)`` where calc.py takes it).
    subset
        Only the first N systems (reactions, for reaction benchmarks) of what would run
        otherwise (calc.py's default tasks, or its full set with ``full``).

    Returns
    -------
    tuple
        The tasks, and ``full``, ``quick`` or ``subset``.
    """
    band = band_of(benchmark, full=full, subset=subset)
    takes_full = "full" in inspect.signature(module.tasks).parameters
    if band == Band.QUICK:
        tasks = module.tasks()
        quick = benchmark.quick or {}
        if "every" in quick:
            return _keep(module, tasks, _units(module, tasks)[:: quick["every"]]), band
        if "first" in quick:
            return _keep(module, tasks, _units(module, tasks)[: quick["first"]]), band
        return tasks, band
    tasks = module.tasks(full=True) if takes_full and full else module.tasks()
    if band == Band.SUBSET:
        return _keep(module, tasks, _units(module, tasks)[:subset]), band
    return tasks, band
