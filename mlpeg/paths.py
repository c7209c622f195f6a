"""Where mlpeg finds its SQL, benchmarks and default warehouse."""

from __future__ import annotations

import os
from pathlib import Path

#: Root of the source tree (holds ``sql/``, ``benchmarks/`` and ``warehouse/``).
REPO_ROOT = Path(__file__).resolve().parent.parent
SQL_DIR = REPO_ROOT / "sql"
PACKAGE_DIR = Path(__file__).resolve().parent


def benchmarks_dir() -> Path:
    """Return the folder holding ``<category>/<benchmark>/benchmark.yml`` trees."""
    return Path(os.environ.get("MLPEG_BENCHMARKS", REPO_ROOT / "benchmarks"))


def default_warehouse() -> Path:
    """Return the warehouse path from ``MLPEG_WAREHOUSE`` or ``warehouse/mlpeg.duckdb``."""
    return Path(os.environ.get("MLPEG_WAREHOUSE", REPO_ROOT / "warehouse" / "mlpeg.duckdb"))


def landing_dir(warehouse: Path) -> Path:
    """Return the landing folder for Parquet parts that belongs to ``warehouse``."""
    return warehouse.parent / "landing"


def cache_dir() -> Path:
    """Return the download cache (``MLPEG_CACHE``, default ``~/.cache/mlpeg``)."""
    return Path(os.environ.get("MLPEG_CACHE", Path.home() / ".cache" / "mlpeg"))
