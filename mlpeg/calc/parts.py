"""Write a run's rows as a series of small landing parts, so a killed run keeps its work.

A run (one model on one benchmark, one ``run_id``) may be written by several sessions (a
resumed run) and by several workers at once (Ray). Each writer flushes its rows every
``max_rows`` rows or ``max_seconds`` seconds to its own part named
``<benchmark>__<model>__<run_id>__<session>-<writer>-<seq>.parquet``; parts are written
atomically (see :func:`mlpeg.landing.write_part`) and sort in writing order. A writer's
last part, written when its share of the run is done, says ``completed``; earlier ones say
``running``. Ingest keeps the status of the last part it loads for a run, so a run killed
half-way reads ``running`` until it is resumed and finished.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from mlpeg.enums import PartKind
from mlpeg.landing import PREDICTIONS_SCHEMA, run_metadata, utc_now, write_part

#: Flush after this many rows, or this many seconds since the last flush.
DEFAULT_FLUSH_ROWS = 256
DEFAULT_FLUSH_SECONDS = 60.0


def part_prefix(benchmark_key: str, model_key: str, run_id: str) -> str:
    """Return the file-name prefix every part of a run starts with."""
    return f"{benchmark_key}__{model_key}__{run_id}"


def session_stamp() -> str:
    """Return a sortable stamp of this session (UTC, to the microsecond)."""
    return f"{utc_now():%Y%m%dT%H%M%S%f}"


@dataclass
class RunInfo:
    """Provenance every part of a run carries (see :func:`mlpeg.landing.run_metadata`)."""

    run_id: str
    model_key: str
    benchmark_key: str
    started_at: datetime
    device: str | None = None
    dtype: str | None = None
    versions: dict[str, str] = field(default_factory=dict)
    code_version: str | None = None
    model: dict[str, Any] = field(default_factory=dict)
    dispersion: str | None = None
    band: str | None = None

    def metadata(self, *, status: str) -> dict[str, Any]:
        """Return the run block of a part written now with ``status``."""
        return run_metadata(
            run_id=self.run_id,
            model_key=self.model_key,
            benchmark_key=self.benchmark_key,
            started_at=self.started_at,
            ended_at=utc_now(),
            device=self.device,
            dtype=self.dtype,
            versions=self.versions,
            code_version=self.code_version,
            status=status,
            model=self.model,
            dispersion=self.dispersion,
            band=self.band,
        )


class PartWriter:
    """Buffer rows and flush them as landing parts of one run.

    Parameters
    ----------
    landing
        The landing folder.
    run
        The run's provenance.
    writer
        This writer's name within the session (``w00``, ``ray03``, ...).
    session
        The session stamp (:func:`session_stamp`), shared by a session's writers.
    max_rows, max_seconds
        Flush when this many rows wait, or when the oldest waiting row is this old.
    expected
        Rows this writer will write in all; the part holding the last of them is flushed
        at once as ``completed``.
    """

    def __init__(
        self,
        landing: Path,
        run: RunInfo,
        *,
        writer: str = "w00",
        session: str | None = None,
        max_rows: int = DEFAULT_FLUSH_ROWS,
        max_seconds: float = DEFAULT_FLUSH_SECONDS,
        expected: int | None = None,
    ):
        self.landing = landing
        self.run = run
        self.writer = writer
        self.session = session or session_stamp()
        self.max_rows = max(1, max_rows)
        self.max_seconds = max_seconds
        self.expected = expected
        self.parts: list[Path] = []
        self.n_written = 0
        self._rows: list[dict[str, Any]] = []
        self._since: float | None = None
        self._sequence = 0

    def add(self, rows: list[dict[str, Any]], *, last: bool = False) -> None:
        """Queue rows, flushing when the buffer is full or old enough.

        Parameters
        ----------
        rows
            Prediction rows of this run.
        last
            These are the writer's last rows: flush them now as ``completed``.
        """
        if self._since is None:
            self._since = time.monotonic()
        self._rows.extend(rows)
        done = self.expected is not None and self.n_written + len(self._rows) >= self.expected
        if last or done:
            self.flush(status="completed")
        elif len(self._rows) >= self.max_rows or time.monotonic() - self._since >= self.max_seconds:
            self.flush()

    def flush(self, *, status: str = "running") -> Path | None:
        """Write the queued rows as one part (nothing when none wait)."""
        if not self._rows:
            return None
        table = pa.Table.from_pylist(self._rows, schema=PREDICTIONS_SCHEMA)
        name = (
            f"{part_prefix(self.run.benchmark_key, self.run.model_key, self.run.run_id)}"
            f"__{self.session}-{self.writer}-{self._sequence:05d}"
        )
        part = write_part(
            table,
            kind=PartKind.PREDICTIONS,
            folder=self.landing,
            name=name,
            run=self.run.metadata(status=status),
        )
        self.parts.append(part)
        self.n_written += len(self._rows)
        self._sequence += 1
        self._rows = []
        self._since = None
        return part

    def close(self) -> list[Path]:
        """Flush what is left as the writer's last, ``completed`` part; return all parts."""
        self.flush(status="completed")
        return list(self.parts)
