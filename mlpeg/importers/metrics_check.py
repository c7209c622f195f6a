"""Compare ML-PEG's ``metrics.yml`` files with our ``benchmark.yml`` thresholds.

ML-PEG keeps a benchmark's metrics in ``ml_peg/analysis/<category>/<benchmark>/
metrics.yml``: ``metrics: {<name>: {good, bad, unit, weight (default 1), tooltip,
level_of_theory}}`` with ``unit: null`` for unitless metrics. Benchmarks are matched by
name ignoring case and punctuation (``DMC_ICE13`` matches ``DMC-ICE13``), metrics by key
or title likewise.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mlpeg import catalog
from mlpeg.errors import ConfigError, MlpegError

#: Fields compared, in display order.
FIELDS = ("unit", "good", "bad", "weight")


@dataclass(frozen=True)
class Difference:
    """One disagreement between mlpeg and ML-PEG about a metric."""

    benchmark: str
    metric: str
    field: str
    mlpeg: Any
    ml_peg: Any


@dataclass
class Comparison:
    """The result of comparing every benchmark both sides define."""

    differences: list[Difference] = field(default_factory=list)
    n_compared: int = 0
    only_in_ml_peg: list[str] = field(default_factory=list)
    only_in_mlpeg: list[str] = field(default_factory=list)


def _normalised(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _unit(value: Any) -> str:
    text = "" if value is None else str(value).strip()
    return "-" if text in ("", "-", "null", "None") else text


def _number(value: Any, where: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: {value!r} is not a number.") from None


def _same(a: float, b: float) -> bool:
    return a == b or math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)


def find_metrics_files(root: Path) -> dict[str, Path]:
    """Return ML-PEG ``metrics.yml`` files under ``root`` by benchmark folder name.

    Raises
    ------
    MlpegError
        When ``root`` is not a folder or holds no ``metrics.yml``.
    """
    if not root.is_dir():
        raise MlpegError(f"{root}: no such folder (expected an ML-PEG checkout).")
    files = {path.parent.name: path for path in sorted(root.rglob("metrics.yml"))}
    if not files:
        raise MlpegError(
            f"{root} holds no metrics.yml; expected ml_peg/analysis/<category>/<benchmark>/"
            "metrics.yml."
        )
    return files


def read_metrics_file(path: Path) -> dict[str, dict[str, Any]]:
    """Read one ML-PEG ``metrics.yml`` into {metric: {unit, good, bad, weight}}.

    Raises
    ------
    ConfigError
        When the file is not YAML or a metric lacks good, bad or unit.
    """
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot be read as YAML ({exc}).") from exc
    metrics = document.get("metrics") if isinstance(document, dict) else None
    if not isinstance(metrics, dict):
        raise ConfigError(f"{path}: has no 'metrics' mapping.")
    parsed = {}
    for name, entry in metrics.items():
        where = f"{path}: metric '{name}'"
        if not isinstance(entry, dict) or not {"good", "bad", "unit"} <= set(entry):
            raise ConfigError(f"{where}: needs good, bad and unit.")
        parsed[str(name)] = {
            "unit": _unit(entry["unit"]),
            "good": _number(entry["good"], f"{where} good"),
            "bad": _number(entry["bad"], f"{where} bad"),
            "weight": _number(entry.get("weight", 1.0), f"{where} weight"),
        }
    return parsed


def compare(root: Path) -> Comparison:
    """Compare every benchmark defined both here and in the ML-PEG tree at ``root``.

    Parameters
    ----------
    root
        An ML-PEG checkout, or any folder holding ``<benchmark>/metrics.yml`` files.

    Returns
    -------
    Comparison
        Differences per (benchmark, metric, field), and what only one side defines.
    """
    files = find_metrics_files(root)
    ml_peg = {_normalised(name): (name, path) for name, path in files.items()}
    ours = {_normalised(b.key): b for b in catalog.benchmarks().values()}
    result = Comparison(
        only_in_ml_peg=sorted(ml_peg[key][0] for key in ml_peg.keys() - ours.keys()),
        only_in_mlpeg=sorted(ours[key].key for key in ours.keys() - ml_peg.keys()),
    )
    for key in sorted(ours.keys() & ml_peg.keys()):
        benchmark = ours[key]
        theirs = read_metrics_file(ml_peg[key][1])
        by_name = {_normalised(name): name for name in theirs}
        matched = set()
        result.n_compared += 1
        for metric in benchmark.metrics:
            name = by_name.get(_normalised(metric.key)) or by_name.get(_normalised(metric.title))
            if name is None:
                result.differences.append(
                    Difference(benchmark.key, metric.key, "metric", "defined", "absent")
                )
                continue
            matched.add(name)
            mine = {
                "unit": _unit(metric.unit),
                "good": float(metric.good),
                "bad": float(metric.bad),
                "weight": float(metric.weight),
            }
            for name_of_field in FIELDS:
                a, b = mine[name_of_field], theirs[name][name_of_field]
                same = a == b if name_of_field == "unit" else _same(a, b)
                if not same:
                    result.differences.append(
                        Difference(benchmark.key, metric.key, name_of_field, a, b)
                    )
        for name in sorted(set(theirs) - matched):
            absent = Difference(benchmark.key, name, "metric", "absent", "defined")
            result.differences.append(absent)
    return result
