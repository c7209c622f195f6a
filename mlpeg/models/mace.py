"""MACE (``mace-torch``): foundation models through mace's loaders, files through MACECalculator.

A checkpoint is either ``<loader>:<model>`` for one of mace's own loaders (``mace_mp``,
``mace_off``, ``mace_omol``; ``<model>`` is a name the loader knows or a URL it accepts),
or a model file (a local path, or a URL pinned by sha256 fetched through
:mod:`mlpeg.models.checkpoints`), loaded with ``MACECalculator``. ``options`` go to the
calculator (``head`` for multi-head models, for instance).
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import urllib.parse
from pathlib import Path

from ase.calculators.calculator import Calculator

from mlpeg.errors import ConfigError
from mlpeg.models import checkpoints
from mlpeg.models.registry import ModelSpec

#: Where mace-torch 0.3.16's loaders download each foundation model from (the names
#: registered here; ``tests/test_models_mace.py`` checks them against mace's own tables).
FOUNDATION_URLS: dict[str, dict[str, str]] = {
    "mace_mp": {
        "medium": "https://github.com/ACEsuit/mace-mp/releases/download/mace_mp_0/"
        "2023-12-03-mace-128-L1_epoch-199.model",
        "medium-0b3": "https://github.com/ACEsuit/mace-mp/releases/download/mace_mp_0b3/"
        "mace-mp-0b3-medium.model",
        "medium-mpa-0": "https://github.com/ACEsuit/mace-mp/releases/download/mace_mpa_0/"
        "mace-mpa-0-medium.model",
        "medium-omat-0": "https://github.com/ACEsuit/mace-mp/releases/download/mace_omat_0/"
        "mace-omat-0-medium.model",
        "mace-matpes-r2scan-0": "https://github.com/ACEsuit/mace-foundations/releases/"
        "download/mace_matpes_0/MACE-matpes-r2scan-omat-ft.model",
        "mh-1": "https://github.com/ACEsuit/mace-foundations/releases/download/mace_mh_1/"
        "mace-mh-1.model",
    },
    "mace_off": {
        "small": "https://raw.githubusercontent.com/ACEsuit/mace-off/main/mace_off23/"
        "MACE-OFF23_small.model",
        "medium": "https://raw.githubusercontent.com/ACEsuit/mace-off/main/mace_off23/"
        "MACE-OFF23_medium.model",
        "large": "https://raw.githubusercontent.com/ACEsuit/mace-off/main/mace_off23/"
        "MACE-OFF23_large.model",
    },
    "mace_omol": {
        "extra_large": "https://github.com/ACEsuit/mace-foundations/releases/download/"
        "mace_omol_0/MACE-omol-0-extra-large-1024.model",
    },
}

#: mace's own loaders, usable as ``<loader>:<model>`` checkpoints.
LOADERS = tuple(FOUNDATION_URLS)


def _foundation(spec: ModelSpec) -> tuple[str, str] | None:
    """Return ``(loader, model)`` for a ``<loader>:<model>`` checkpoint, else None."""
    loader, sep, model = spec.checkpoint.partition(":")
    if sep and loader in LOADERS:
        return loader, model
    return None


def _download_url(loader: str, model: str) -> str:
    return FOUNDATION_URLS[loader].get(model, model)


def _mace_cache_dir() -> Path:
    """Where mace caches downloads (``$XDG_CACHE_HOME/mace``, as mace.tools.utils does)."""
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "mace"


def cached_foundation_file(loader: str, model: str) -> Path:
    """Return the path mace's loader caches a foundation model at (it may not exist yet)."""
    name = Path(urllib.parse.urlsplit(_download_url(loader, model)).path).name
    if loader == "mace_mp":  # mace_mp keeps only letters, digits and underscores
        name = "".join(c for c in name if c.isalnum() or c == "_")
    return _mace_cache_dir() / name


def validate(spec: ModelSpec) -> None:
    """Check that the checkpoint is a loader name mace knows, a URL or a model file."""
    foundation = _foundation(spec)
    if foundation is not None:
        loader, model = foundation
        if model not in FOUNDATION_URLS[loader] and not checkpoints.is_url(model):
            known = ", ".join(FOUNDATION_URLS[loader])
            raise ConfigError(f"{loader} has no model '{model}' (registered here: {known}).")
        return
    if spec.checkpoint_kind == "name":
        raise ConfigError(
            f"checkpoint '{spec.checkpoint}' is neither a model file nor "
            f"<loader>:<model> with a loader among {', '.join(LOADERS)}."
        )


def checkpoint_file(spec: ModelSpec) -> Path | None:
    """Return the local model file behind the entry (the loader's cache for foundations)."""
    foundation = _foundation(spec)
    if foundation is not None:
        return cached_foundation_file(*foundation)
    if spec.checkpoint_kind == "url":
        return checkpoints.cached_url(spec.checkpoint, spec.checkpoint_sha256 or "")
    return Path(spec.checkpoint)


def availability(spec: ModelSpec) -> tuple[bool, str]:
    """MACE runs where mace-torch is installed and the weights are local or downloadable."""
    if importlib.util.find_spec("mace") is None:
        return False, "package mace-torch is not installed (pip install 'mlpeg[mace]')"
    foundation = _foundation(spec)
    if foundation is not None:
        cached = cached_foundation_file(*foundation)
        return checkpoints.download_availability(
            _download_url(*foundation), cached if cached.is_file() else None
        )
    if spec.checkpoint_kind == "url":
        return checkpoints.url_availability(spec.checkpoint, spec.checkpoint_sha256 or "")
    if Path(spec.checkpoint).is_file():
        return True, f"model file {spec.checkpoint}"
    return False, f"model file {spec.checkpoint} does not exist"


def _model_file(spec: ModelSpec) -> str:
    if spec.checkpoint_kind == "url":
        return str(checkpoints.fetch_url(spec.checkpoint, spec.checkpoint_sha256 or ""))
    if not Path(spec.checkpoint).is_file():
        raise ConfigError(f"Model '{spec.name}': model file {spec.checkpoint} does not exist.")
    if spec.checkpoint_sha256:
        actual = checkpoints.file_sha256(Path(spec.checkpoint))
        if actual != spec.checkpoint_sha256:
            raise ConfigError(
                f"Model '{spec.name}': {spec.checkpoint} has sha256 {actual[:12]}…, "
                f"the registry pins {spec.checkpoint_sha256[:12]}…."
            )
    return spec.checkpoint


def make_calculator(spec: ModelSpec, *, device: str) -> Calculator:
    """Build a MACE calculator for the entry.

    Parameters
    ----------
    spec
        The registry entry.
    device
        ``cpu`` or ``cuda``.

    Returns
    -------
    Calculator
        The MACE calculator, fed ``charge`` and ``spin`` from ``atoms.info``.
    """
    import mace.calculators as mace_calculators  # imports e3nn safely under torch >= 2.6

    from mlpeg.models.prepare import PreparedCalculator

    foundation = _foundation(spec)
    quiet = io.StringIO()  # mace's loaders print download and dtype notes
    with contextlib.redirect_stdout(quiet):
        if foundation is not None:
            loader, model = foundation
            calc = getattr(mace_calculators, loader)(
                model=model, device=device, default_dtype=spec.dtype, **spec.options
            )
        else:
            calc = mace_calculators.MACECalculator(
                model_paths=_model_file(spec),
                device=device,
                default_dtype=spec.dtype,
                **spec.options,
            )
    return PreparedCalculator(calc, charge_spin=True)
