"""Where model entries come from: the shipped registry, user registries, installed packages.

The registry is the union of, in this order:

- the shipped ``models.yml`` (``MLPEG_MODELS`` replaces it);
- the user's registry ``~/.config/mlpeg/models.yml`` when it exists (``mlpeg models add``
  writes there by default);
- every file named by ``MLPEG_MODELS_FILES`` (``os.pathsep``-separated) and by
  ``--models-file`` on the command line;
- every entry point of the group ``mlpeg.models`` of an installed package. Its object is
  either the factory itself (a callable returning an ASE calculator: the entry point's name
  becomes a model of family ``python``) or a mapping with the keys of a models.yml entry.

This module only collects the sources; :mod:`mlpeg.models.registry` turns them into specs
and refuses a name defined twice, naming both places.
"""

from __future__ import annotations

import functools
import hashlib
import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from mlpeg.catalog import load_yaml, validate_document
from mlpeg.errors import ConfigError
from mlpeg.paths import extra_registry_files, registry_path, user_registry_path

#: Entry-point group through which installed packages register models.
ENTRY_POINT_GROUP = "mlpeg.models"
#: Family of models whose calculator comes from a Python callable (``factory``).
PYTHON_FAMILY = "python"


@dataclass(frozen=True)
class RegistrySource:
    """One place model entries come from.

    Parameters
    ----------
    label
        How errors name it: a file path, or ``entry point 'x' of package y 1.0``.
    folder
        Where checkpoints given as relative paths are found.
    document
        Its entries by model name (and ``environments``, for files).
    """

    label: str
    folder: Path
    document: dict[str, Any] = field(hash=False, compare=False)


def registry_files() -> list[Path]:
    """Return the registry files read, shipped first, each once.

    Raises
    ------
    ConfigError
        When a file named by ``MLPEG_MODELS_FILES`` or ``--models-file`` does not exist.
    """
    files = [registry_path().resolve()]
    user = user_registry_path()
    if user.is_file():
        files.append(user.resolve())
    for path in extra_registry_files():
        if not path.is_file():
            raise ConfigError(
                f"Models file {path} (from --models-file or MLPEG_MODELS_FILES) does not exist."
            )
        files.append(path.resolve())
    return list(dict.fromkeys(files))


def _entry_point_label(entry_point: metadata.EntryPoint) -> str:
    dist = entry_point.dist
    package = f" of package {dist.name} {dist.version}" if dist is not None else ""
    return f"entry point '{entry_point.name}' ({entry_point.value}){package}"


def _entry_point_source(entry_point: metadata.EntryPoint) -> RegistrySource:
    """Load one ``mlpeg.models`` entry point and turn it into a registry source."""
    label = _entry_point_label(entry_point)
    try:
        target = entry_point.load()
    except Exception as exc:  # a broken installed package: say which one
        raise ConfigError(
            f"{label} cannot be loaded ({type(exc).__name__}: {exc}); fix or uninstall "
            "that package."
        ) from exc
    if isinstance(target, Mapping):
        entry = dict(target)
        if entry.get("family", PYTHON_FAMILY) == PYTHON_FAMILY:
            entry.setdefault("family", PYTHON_FAMILY)
            entry.setdefault("factory", None)
            if entry["factory"] is None:
                raise ConfigError(f"{label}: a mapping of family python needs a factory.")
    elif callable(target):
        entry = {"family": PYTHON_FAMILY, "factory": entry_point.value}
    else:
        raise ConfigError(
            f"{label} is a {type(target).__name__}: it must be a factory (a callable that "
            "returns an ASE calculator) or a mapping with the keys of a models.yml entry."
        )
    document = {entry_point.name: entry}
    validate_document(document, "models", where=label)
    module = sys.modules.get(entry_point.module)
    folder = Path(module.__file__).parent if getattr(module, "__file__", None) else Path.cwd()
    return RegistrySource(label, folder, document)  # a relative checkpoint: beside the module


@functools.cache
def _entry_point_sources() -> tuple[RegistrySource, ...]:
    found = sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name)
    return tuple(_entry_point_source(entry_point) for entry_point in found)


@functools.cache
def _file_sources(files: tuple[Path, ...]) -> tuple[RegistrySource, ...]:
    return tuple(
        RegistrySource(str(path), path.parent, dict(load_yaml(path, "models") or {}))
        for path in files
    )


def registry_sources() -> tuple[RegistrySource, ...]:
    """Return every source of model entries: files first, then installed packages."""
    return _file_sources(tuple(registry_files())) + _entry_point_sources()


def fingerprint() -> str:
    """Return a hash of every source's label and entries (the warehouse syncs on change)."""
    text = json.dumps(
        [(source.label, source.document) for source in registry_sources()],
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(text.encode()).hexdigest()


def clear_cache() -> None:
    """Forget the sources read (tests that change the files or packages call this)."""
    _file_sources.cache_clear()
    _entry_point_sources.cache_clear()
