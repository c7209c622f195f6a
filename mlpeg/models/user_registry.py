"""``mlpeg models add``: write a model entry to a user registry, checked before it is written.

The entry is checked as the registry would read it (schema, family, elements, a name not
defined anywhere else) and appended to the file, so the comments already in it stay; a
checkpoint that is a local file is stored as an absolute path with its sha256, which the
family checks before loading it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from mlpeg.catalog import validate_document
from mlpeg.errors import ConfigError
from mlpeg.models import registry
from mlpeg.models.checkpoints import file_sha256, is_url
from mlpeg.paths import MODELS_FILES_VARIABLE

_HEADER = (
    "# Models of my own, added to mlpeg's shipped registry (mlpeg models add writes here).\n"
    "# Keys as in mlpeg/models/models.yml; family python takes factory: package.module:callable.\n"
)


def use_models_files(paths: list[Path]) -> None:
    """Add registry files for this process and the workers it starts (``--models-file``).

    They go to the front of ``MLPEG_MODELS_FILES``, so worker processes read them too.
    """
    before = os.environ.get(MODELS_FILES_VARIABLE, "")
    named = [str(Path(path).expanduser().resolve()) for path in paths]
    os.environ[MODELS_FILES_VARIABLE] = os.pathsep.join([*named, *filter(None, [before])])
    registry.clear_cache()


def _looks_like_path(checkpoint: str) -> bool:
    return checkpoint.startswith((".", "/", "~")) or os.sep in checkpoint


def checkpoint_fields(checkpoint: str) -> dict[str, str]:
    """Return ``checkpoint`` (absolute when a file) and, for a file, its ``checkpoint_sha256``.

    Raises
    ------
    ConfigError
        When the checkpoint looks like a path but no such file exists.
    """
    if is_url(checkpoint):
        return {"checkpoint": checkpoint}
    path = Path(checkpoint).expanduser()
    if path.is_file():
        resolved = path.resolve()
        return {"checkpoint": str(resolved), "checkpoint_sha256": file_sha256(resolved)}
    if _looks_like_path(checkpoint):
        raise ConfigError(f"Checkpoint {checkpoint} does not exist.")
    return {"checkpoint": checkpoint}  # a name the family's package resolves itself


def build_entry(
    *,
    family: str,
    checkpoint: str | None = None,
    factory: str | None = None,
    options: dict[str, Any] | None = None,
    elements: list[str] | None = None,
    accepts: list[str] | None = None,
    level_of_theory: str | None = None,
    trained_on_dispersion: bool = False,
    notes: str | None = None,
) -> dict[str, Any]:
    """Return a models.yml entry from ``mlpeg models add``'s options (unset keys left out)."""
    entry: dict[str, Any] = {"family": family}
    if factory:
        entry["factory"] = factory
    if checkpoint:
        entry.update(checkpoint_fields(checkpoint))
    entry["trained_on_dispersion"] = trained_on_dispersion
    if elements:
        entry["elements"] = elements
    if accepts:
        entry["accepts"] = {flag: True for flag in accepts}
    if level_of_theory:
        entry["level_of_theory"] = level_of_theory
    if options:
        entry["options"] = options
    if notes:
        entry["notes"] = notes
    return entry


def add_model(name: str, entry: dict[str, Any], target: Path) -> registry.ModelSpec:
    """Check an entry and append it to the registry file ``target``.

    Parameters
    ----------
    name
        The model's name; must not be defined in any registry source already.
    entry
        The models.yml entry (:func:`build_entry`).
    target
        The user registry file; created with its folder when missing.

    Returns
    -------
    ModelSpec
        The entry as the registry reads it.

    Raises
    ------
    ConfigError
        For a name already defined (naming where), or an entry the registry refuses.
    """
    models = registry.all_models()
    if name in models:
        raise ConfigError(
            f"Model '{name}' is already defined in {registry.model_origin(name)}; choose "
            "another name or edit it there."
        )
    label = f"{target}: model '{name}'"
    validate_document({name: entry}, "models", where=str(target))
    source = registry.RegistrySource(str(target), target.parent, {name: entry})
    spec = registry.merge_sources((source,))[name]  # family, elements, checkpoint checks
    text = yaml.safe_dump({name: entry}, sort_keys=False, default_flow_style=None)
    target.parent.mkdir(parents=True, exist_ok=True)
    before = target.read_text() if target.is_file() else _HEADER
    if before and not before.endswith("\n"):
        before += "\n"
    partial = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    partial.write_text(before + "\n" + text)
    try:
        yaml.safe_load(partial.read_text())  # the whole file must still read back
    except yaml.YAMLError as exc:
        partial.unlink()
        raise ConfigError(f"{label}: the file would not read back as YAML ({exc}).") from exc
    partial.replace(target)
    registry.clear_cache()
    return spec
