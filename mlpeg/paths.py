"""Where mlpeg finds its SQL, benchmarks, app and default warehouse.

In a source checkout ``sql/``, ``benchmarks/`` and ``streamlit_app/`` are top-level folders
beside the package; an installed wheel ships them inside it (``mlpeg/sql``, ...; see
setup.py), so the installed ``mlpeg`` works from any directory.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
#: Root of the source tree (holds ``sql/``, ``benchmarks/`` and ``warehouse/``) when mlpeg
#: runs from a checkout or an editable install; the folder above the package otherwise.
REPO_ROOT = PACKAGE_DIR.parent
#: Whether the package runs from a source checkout (else from an installed wheel).
IS_SOURCE_TREE = (REPO_ROOT / "pyproject.toml").is_file() and (REPO_ROOT / "sql").is_dir()
#: Folder holding ``sql/``, ``benchmarks/`` and ``streamlit_app/``.
RESOURCE_ROOT = REPO_ROOT if IS_SOURCE_TREE else PACKAGE_DIR
SQL_DIR = RESOURCE_ROOT / "sql"
APP_DIR = RESOURCE_ROOT / "streamlit_app"


def benchmarks_dir() -> Path:
    """Return the folder holding ``<category>/<benchmark>/benchmark.yml`` trees."""
    return Path(os.environ.get("MLPEG_BENCHMARKS", RESOURCE_ROOT / "benchmarks"))


def data_home() -> Path:
    """Return where an installed mlpeg keeps its warehouse (``$XDG_DATA_HOME/mlpeg``)."""
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "mlpeg"


def default_warehouse() -> Path:
    """Return the warehouse path (``MLPEG_WAREHOUSE`` overrides).

    ``warehouse/mlpeg.duckdb`` in a checkout; in :func:`data_home` when installed.
    """
    if "MLPEG_WAREHOUSE" in os.environ:
        return Path(os.environ["MLPEG_WAREHOUSE"])
    root = REPO_ROOT if IS_SOURCE_TREE else data_home()
    return root / "warehouse" / "mlpeg.duckdb"


def landing_dir(warehouse: Path) -> Path:
    """Return the landing folder for Parquet parts that belongs to ``warehouse``."""
    return warehouse.parent / "landing"


def cache_dir() -> Path:
    """Return the download cache (``MLPEG_CACHE``, default ``~/.cache/mlpeg``)."""
    return Path(os.environ.get("MLPEG_CACHE", Path.home() / ".cache" / "mlpeg"))


def registry_path() -> Path:
    """Return the model registry file (``MLPEG_MODELS`` overrides the shipped one)."""
    return Path(os.environ.get("MLPEG_MODELS", PACKAGE_DIR / "models" / "models.yml"))


#: Environment variable listing user registries added to the shipped one (``os.pathsep``).
MODELS_FILES_VARIABLE = "MLPEG_MODELS_FILES"


def user_registry_path() -> Path:
    """Return the user's own registry, which ``mlpeg models add`` writes by default.

    ``$XDG_CONFIG_HOME/mlpeg/models.yml`` (``~/.config/mlpeg/models.yml``); read, when it
    exists, in addition to the shipped registry.
    """
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "mlpeg" / "models.yml"


def extra_registry_files() -> list[Path]:
    """Return the user registries named by ``MLPEG_MODELS_FILES`` (and ``--models-file``)."""
    value = os.environ.get(MODELS_FILES_VARIABLE, "")
    return [Path(item).expanduser() for item in value.split(os.pathsep) if item.strip()]
