"""Seconds spent per stage of an ingest, for ``bench/ingest.py`` and progress reports."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


class Stages:
    """Accumulate wall seconds per named stage; safe to use from the read-ahead thread.

    Stages run in two threads (parts are read and validated while the previous batch is
    written), so their sum can exceed the ingest's wall time.
    """

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._lock = threading.Lock()

    def add(self, stage: str, seconds: float) -> None:
        """Add ``seconds`` to ``stage``."""
        with self._lock:
            self.seconds[stage] = self.seconds.get(stage, 0.0) + seconds

    @contextmanager
    def time(self, stage: str) -> Iterator[None]:
        """Time the block as ``stage`` (also when it raises)."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.add(stage, time.perf_counter() - start)
