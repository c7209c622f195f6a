"""How one benchmark's ML-PEG output files map to mlpeg predictions and references.

A mapping reads the frames of one output file and says which (system, role) each frame
is, which reference values the file carries, and anything worth telling the user. It
raises :class:`SkipFile` when the file is not what the benchmark's ML-PEG calc writes.

A benchmark that can be imported owns its mapping: ``ml_peg_import.py`` in its folder,
exposing ``mapping(benchmark)`` (see ``benchmarks/molecular_crystal/X23/``). This module
only defines what a mapping returns and finds it.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from mlpeg.calc.tasks import Reference
from mlpeg.catalog import Benchmark
from mlpeg.errors import ConfigError, MlpegError
from mlpeg.importers.extxyz import Frame

#: Name of the optional per-benchmark mapping module inside a benchmark folder.
HOOK_FILE = "ml_peg_import.py"


class SkipFile(MlpegError):
    """An output file that cannot be imported; the message says why, in one sentence."""


@dataclass(frozen=True)
class ImportedPrediction:
    """One frame of an output file, placed as a (system, role) of the benchmark."""

    system: str
    role: str
    frame: Frame


@dataclass
class ImportedFile:
    """What one output file contributes."""

    predictions: list[ImportedPrediction]
    references: list[Reference] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class BenchmarkMapping(Protocol):
    """Maps the files of one benchmark's ML-PEG ``outputs/<model>/`` folder."""

    #: Glob patterns of the output files inside a model folder.
    patterns: tuple[str, ...]
    #: True when the files carry no usable references, so the benchmark's own (calc.py's
    #: ``references()`` and, for reaction benchmarks, ``reactions()``) are loaded instead.
    needs_benchmark_references: bool

    def read_file(self, path: Path, frames: list[Frame]) -> ImportedFile:
        """Map one file's frames; raise :class:`SkipFile` when it cannot be imported."""
        ...


def mapping_for(benchmark: Benchmark) -> BenchmarkMapping | None:
    """Return the mapping of a benchmark, or None when it has none.

    Parameters
    ----------
    benchmark
        An mlpeg benchmark.

    Returns
    -------
    BenchmarkMapping or None
        From the benchmark folder's ``ml_peg_import.py``, or None without one.

    Raises
    ------
    ConfigError
        If the folder's ``ml_peg_import.py`` lacks a ``mapping`` function.
    """
    hook = benchmark.folder / HOOK_FILE
    if hook.is_file():
        spec = importlib.util.spec_from_file_location(
            f"mlpeg_benchmarks.{benchmark.key}_ml_peg_import", hook
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        factory = getattr(module, "mapping", None)
        if not callable(factory):
            raise ConfigError(f"{hook}: must define a function mapping(benchmark).")
        return factory(benchmark)
    return None
