"""Discover and validate benchmarks and categories from ``benchmarks/*/*/benchmark.yml``.

Adding a benchmark means adding one folder: the catalogue globs for it, validates its YAML
against ``mlpeg/schemas/benchmark.schema.yml`` and checks that the folder is named after
its ``key`` and sits in its category's folder.
"""

from __future__ import annotations

import functools
import importlib.util
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import jsonschema
import yaml

from mlpeg.errors import ConfigError
from mlpeg.paths import PACKAGE_DIR, benchmarks_dir

#: libyaml's parser when PyYAML was built with it: the same documents as ``yaml.safe_load``
#: at a quarter of the time (0.6 s less CPU to read the catalogue, in every process).
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_yaml(text: str) -> Any:
    """Parse YAML as ``yaml.safe_load`` does, with libyaml when it is available."""
    return yaml.load(text, Loader=_LOADER)  # a safe loader: plain data, no Python objects


@functools.cache
def _schema(name: str) -> dict[str, Any]:
    return parse_yaml((PACKAGE_DIR / "schemas" / f"{name}.schema.yml").read_text())


def load_yaml(path: Path, schema: str) -> dict[str, Any]:
    """Read a YAML file and validate it, raising one clear error on any problem.

    Parameters
    ----------
    path
        The file to read.
    schema
        Name of a schema in ``mlpeg/schemas`` (``benchmark``, ``category``, ``models``).

    Returns
    -------
    dict
        The parsed document.

    Raises
    ------
    ConfigError
        Naming the file and, for schema violations, the key path.
    """
    document = read_yaml(path)
    validate_document(document, schema, where=str(path))
    return document


def read_yaml(path: Path) -> Any:
    """Parse a YAML file, raising one :class:`ConfigError` naming the file and line.

    Parameters
    ----------
    path
        The file to read.

    Returns
    -------
    Any
        The parsed document, not yet validated.
    """
    try:
        return parse_yaml(path.read_text())
    except OSError as exc:
        raise ConfigError(f"Cannot read {path}: {exc.strerror}.") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{path}{where}: invalid YAML ({problem}).") from exc


def validate_document(document: Any, schema: str, *, where: str) -> None:
    """Validate a parsed YAML document against a schema of ``mlpeg/schemas``.

    Parameters
    ----------
    document
        The parsed document.
    schema
        Name of the schema (``benchmark``, ``category``, ``models``, ``profile``).
    where
        What to call the document in the error (a file name).

    Raises
    ------
    ConfigError
        Naming ``where`` and the key path of the first violation.
    """
    validator = jsonschema.Draft7Validator(_schema(schema))
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        key_path = "/".join(str(part) for part in first.absolute_path) or "(top level)"
        raise ConfigError(f"{where}: at {key_path}: {first.message}.")


@dataclass(frozen=True)
class Metric:
    """One metric of a benchmark, with ML-PEG's scoring thresholds."""

    key: str
    unit: str
    good: float
    bad: float
    weight: float
    title: str = ""
    quantity: str | None = None
    level_of_theory: str | None = None
    tooltip: str = ""


@dataclass(frozen=True)
class Category:
    """A category: a weighted group of benchmarks."""

    key: str
    title: str
    weight: float
    description: str = ""
    benchmark_weights: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Benchmark:
    """A benchmark folder: its YAML, its calc module and its views."""

    key: str
    title: str
    category: str
    description: str
    level_of_theory: str
    cost: str
    folder: Path
    metrics: tuple[Metric, ...]
    dispersion: str = "none"
    kind: str = "custom"
    quick: dict[str, Any] | None = None
    main_job: bool | None = None
    structures: int | None = None
    doi: str = ""
    docs: str = ""
    notes: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    checks: tuple[dict[str, Any], ...] = ()
    no_intervals: str | None = None  # why its scores get no bootstrap interval

    @property
    def in_main_job(self) -> bool:
        """Whether ``mlpeg run`` computes this benchmark when none is named."""
        return self.cost == "quick" if self.main_job is None else self.main_job

    @property
    def schema_name(self) -> str:
        """DuckDB schema holding this benchmark's views (lower-case key)."""
        return self.key.lower()

    @property
    def views_sql(self) -> Path:
        """Path of the benchmark's ``views.sql``."""
        return self.folder / "views.sql"

    def calc_module(self) -> ModuleType:
        """Import and return the benchmark's ``calc.py``."""
        path = self.folder / "calc.py"
        if not path.is_file():
            raise ConfigError(f"Benchmark {self.key} has no calc.py in {self.folder}.")
        spec = importlib.util.spec_from_file_location(f"mlpeg_benchmarks.{self.key}", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module


def _load_benchmark(path: Path) -> Benchmark:
    doc = load_yaml(path, "benchmark")
    folder = path.parent
    if doc["key"] != folder.name:
        raise ConfigError(f"{path}: key '{doc['key']}' must equal the folder name '{folder.name}'.")
    if doc["category"] != folder.parent.name:
        raise ConfigError(
            f"{path}: category '{doc['category']}' must equal the parent folder "
            f"'{folder.parent.name}'."
        )
    metrics = tuple(Metric(**metric) for metric in doc.pop("metrics"))
    keys = [metric.key for metric in metrics]
    if len(set(keys)) != len(keys):
        raise ConfigError(f"{path}: metric keys must be unique, got {keys}.")
    checks = tuple(doc.pop("checks", ()))
    if doc["cost"] != "quick" and "quick" not in doc:
        raise ConfigError(
            f"{path}: a {doc['cost']} benchmark needs a quick band (quick: with a description, "
            "and every: N or first: N, or calc.py's tasks() default), so that mlpeg run scores "
            "its category in minutes."
        )
    quick = doc.get("quick") or {}
    if "every" in quick and "first" in quick:
        raise ConfigError(f"{path}: quick takes every: or first:, not both.")
    return Benchmark(folder=folder, metrics=metrics, checks=checks, **doc)


@functools.cache
def _catalog(root: Path) -> tuple[dict[str, Category], dict[str, Benchmark]]:
    categories: dict[str, Category] = {}
    for path in sorted(root.glob("*/category.yml")):
        doc = load_yaml(path, "category")
        if doc["key"] != path.parent.name:
            raise ConfigError(f"{path}: key '{doc['key']}' must equal the folder name.")
        categories[doc["key"]] = Category(**doc)
    benchmarks: dict[str, Benchmark] = {}
    for path in sorted(root.glob("*/*/benchmark.yml")):
        benchmark = _load_benchmark(path)
        if benchmark.category not in categories:
            raise ConfigError(f"{path}: category '{benchmark.category}' has no category.yml.")
        if benchmark.schema_name in {b.schema_name for b in benchmarks.values()}:
            raise ConfigError(f"{path}: a benchmark with key '{benchmark.key}' already exists.")
        benchmarks[benchmark.key] = benchmark
    return categories, benchmarks


def categories(root: Path | None = None) -> dict[str, Category]:
    """Return every category, keyed by its key."""
    return _catalog((root or benchmarks_dir()).resolve())[0]


def benchmarks(root: Path | None = None) -> dict[str, Benchmark]:
    """Return every benchmark, keyed by its key, in folder order."""
    return _catalog((root or benchmarks_dir()).resolve())[1]


def get_benchmark(key: str, root: Path | None = None) -> Benchmark:
    """Return one benchmark by key (case-insensitive), with a clear error if unknown."""
    found = {b.key.lower(): b for b in benchmarks(root).values()}
    try:
        return found[key.lower()]
    except KeyError:
        known = ", ".join(sorted(b.key for b in found.values()))
        raise ConfigError(f"Unknown benchmark '{key}'. Known benchmarks: {known}.") from None


def clear_cache() -> None:
    """Forget cached catalogues (tests that write benchmark folders call this)."""
    _catalog.cache_clear()
