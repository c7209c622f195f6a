"""How a calc runs (engine, resuming, faults, batching): one request for every engine.

Kept apart from :mod:`mlpeg.calc.runner` so that the engines, which the runner starts,
need not import the runner to know their options.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlpeg.calc.execute import DEFAULT_BATCH_SIZE
from mlpeg.calc.parts import DEFAULT_FLUSH_ROWS, DEFAULT_FLUSH_SECONDS
from mlpeg.errors import MlpegError

#: Engines ``--engine`` accepts.
ENGINES = ("local", "ray")


@dataclass(frozen=True)
class CalcOptions:
    """How to run: engine, resuming, faults and batching.

    Parameters
    ----------
    engine
        ``local`` (this process) or ``ray`` (one actor per worker).
    force
        Compute everything in a new run, even what the landing folder already holds.
    retry_failed
        Recompute the failed tasks of the latest run (a new run carries the rest over).
    timeout
        Seconds one task may take before it is stopped and recorded as failed; the
        model then runs in a worker process. None: no limit, in this process.
    batch_size
        Most structures per batched forward pass (1: no batching).
    workers
        Ray actors (default: one per CPU, or per GPU with ``--device cuda``).
    address
        Ray cluster to join (``auto``, ``ray://host:10001``); None starts a local one.
    flush_rows, flush_seconds
        Write a part every this many rows or seconds (what a crash can lose at most).
    """

    engine: str = "local"
    force: bool = False
    retry_failed: bool = False
    timeout: float | None = None
    batch_size: int = DEFAULT_BATCH_SIZE
    workers: int | None = None
    address: str | None = None
    flush_rows: int = DEFAULT_FLUSH_ROWS
    flush_seconds: float = DEFAULT_FLUSH_SECONDS

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise MlpegError(f"Unknown engine '{self.engine}'; choose one of {', '.join(ENGINES)}.")
        if self.timeout is not None and self.timeout <= 0:
            raise MlpegError(f"--timeout must be a positive number of seconds, not {self.timeout}.")
        if self.workers is not None and self.workers < 1:
            raise MlpegError(f"--workers must be at least 1, not {self.workers}.")
