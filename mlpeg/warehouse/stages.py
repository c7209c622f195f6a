"""Seconds spent per stage of an ingest, for ``bench/ingest.py`` and progress reports."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


class Stages:
    """Accumulate wall and CPU seconds per named stage; safe to use from several threads.

    Stages run in several threads (parts are read and validated while the previous batch is
    written), so their wall seconds can add up to more than the ingest took. CPU seconds
    are the calling thread's (DuckDB and pyarrow work in it unless they are given more
    threads), which a loaded machine changes much less than wall seconds.
    """

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.cpu_seconds: dict[str, float] = {}
        self._lock = threading.Lock()

    def add(self, stage: str, seconds: float, cpu_seconds: float = 0.0) -> None:
        """Add ``seconds`` (wall) and ``cpu_seconds`` to ``stage``."""
        with self._lock:
            self.seconds[stage] = self.seconds.get(stage, 0.0) + seconds
            self.cpu_seconds[stage] = self.cpu_seconds.get(stage, 0.0) + cpu_seconds

    @contextmanager
    def time(self, stage: str) -> Iterator[None]:
        """Time the block as ``stage`` (also when it raises)."""
        start, cpu = time.perf_counter(), time.thread_time()
        try:
            yield
        finally:
            self.add(stage, time.perf_counter() - start, time.thread_time() - cpu)
