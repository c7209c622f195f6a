"""Keep model libraries' prints and warnings out of the progress display, in a log file.

CHGNet prints a line every time a model loads and one per structure with an isolated atom;
torch, e3nn and orb raise ``UserWarning``s. Shown under a progress bar they bury it, yet
they can matter (an isolated atom means CHGNet's energy is suspect), so they are kept,
one per line, in a log beside the landing parts and counted at the end.
"""

from __future__ import annotations

import contextlib
import faulthandler
import io
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from mlpeg.landing import utc_now


@dataclass
class ChatterLog:
    """Where captured messages went and how many lines they made."""

    path: Path
    n_lines: int = 0

    def summary(self) -> str:
        """One line for the terminal, or ``""`` when the libraries said nothing."""
        if not self.n_lines:
            return ""
        noun = "line" if self.n_lines == 1 else "lines"
        return f"{self.n_lines:,} {noun} of model-library output kept in {self.path}"


class _CountingWriter(io.TextIOBase):
    """A text stream that appends to the log file and counts the lines written.

    It is a real file to whoever asks: ``fileno()`` is the log's descriptor, so a library
    that writes below Python (``faulthandler``, which ``ray.init`` enables on
    ``sys.stderr``; C extensions given the descriptor) writes into the same log. Those
    bytes are kept but not counted.
    """

    def __init__(self, handle: TextIO, log: ChatterLog) -> None:
        super().__init__()
        self._handle = handle
        self._log = log

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self._handle.encoding

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return self._handle.errors

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._log.n_lines += text.count("\n")
        return self._handle.write(text)

    def flush(self) -> None:
        if not self._handle.closed:
            self._handle.flush()

    def fileno(self) -> int:
        return self._handle.fileno()

    def isatty(self) -> bool:
        return False


@contextlib.contextmanager
def captured_chatter(folder: Path) -> Iterator[ChatterLog]:
    """Send ``print`` output and Python warnings to ``folder/logs/calc-<time>.log``.

    Parameters
    ----------
    folder
        The landing folder; the log goes in its ``logs`` subfolder.

    Yields
    ------
    ChatterLog
        The log's path and, once the block ends, how many lines it holds. An empty log
        is removed.

    Notes
    -----
    Output already bound to a stream (a rich ``Console`` created with ``file=``) is not
    affected, so progress bars keep drawing on the real terminal. The replacement streams
    have the log's file descriptor, so code that asks for ``sys.stderr.fileno()`` works;
    if ``faulthandler`` was switched on inside the block, it is pointed back at the real
    standard error when the block ends (the log file is then closed).
    """
    logs = folder / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    stamp = utc_now().strftime("%Y%m%dT%H%M%S")
    log = ChatterLog(logs / f"calc-{stamp}.log")
    with open(log.path, "a", encoding="utf-8") as handle:
        writer = _CountingWriter(handle, log)

        def show(message, category, filename, lineno, file=None, line=None) -> None:
            writer.write(warnings.formatwarning(message, category, filename, lineno, line))

        with (
            warnings.catch_warnings(),
            contextlib.redirect_stdout(writer),  # type: ignore[type-var]
            contextlib.redirect_stderr(writer),  # type: ignore[type-var]
        ):
            warnings.simplefilter("default")  # each distinct warning once per place
            warnings.showwarning = show
            try:
                yield log
            finally:
                writer.flush()
                if faulthandler.is_enabled():  # enabled on the log (by ray.init): not past it
                    faulthandler.enable(file=sys.__stderr__)
    if log.n_lines == 0 and log.path.stat().st_size == 0:
        log.path.unlink(missing_ok=True)
