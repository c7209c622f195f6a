"""Orb (``orb-models``): pretrained names, or local weights loaded into a named architecture.

A checkpoint is a pretrained name (``orb-v3-conservative-inf-omat``), fetched by orb's own
loader, or a weights file (local path, or URL pinned by sha256) with
``options.architecture`` saying which architecture the weights fit: a pretrained name, or
a mapping ``{kind: conservative|direct, radius, max_num_neighbors, <architecture
arguments>}`` for a custom model. Either way the weights go through orb's ``load_model``
as its ``weights_path``. ``torch.compile`` stays off on CPU, where it makes the first call
take about 80 s; ``options.compile`` overrides.

orb sets torch's global default dtype when it loads a model; the registry restores it
after building, and the calculator sets orb's dtype only while orb computes, so float64
models built before or after are unaffected.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

from ase.calculators.calculator import Calculator

from mlpeg.errors import ConfigError
from mlpeg.models import checkpoints
from mlpeg.models.registry import ModelSpec

_S3 = "https://orbitalmaterials-public-models.s3.us-west-1.amazonaws.com/forcefields/"
#: Where orb-models 0.5.5 downloads each pretrained model from (``tests/test_models_orb.py``
#: checks them against orb's own defaults).
PRETRAINED_URLS: dict[str, str] = {
    "orb-v3-conservative-inf-omat": _S3 + "orb-v3/orb-v3-conservative-inf-omat-20250404.ckpt",
    "orb-v3-conservative-20-omat": _S3 + "orb-v3/orb-v3-conservative-20-omat-20250404.ckpt",
    "orb-v3-direct-inf-omat": _S3 + "orb-v3/orb-v3-direct-inf-omat-20250404.ckpt",
    "orb-v3-direct-20-omat": _S3 + "orb-v3/orb-v3-direct-20-omat-20250404.ckpt",
    "orb-v3-conservative-inf-mpa": _S3 + "orb-v3/orb-v3-conservative-inf-mpa-20250404.ckpt",
    "orb-v3-direct-inf-mpa": _S3 + "orb-v3/orb-v3-direct-inf-mpa-20250404.ckpt",
    "orb-v3-conservative-omol": _S3 + "orb-v3-conservative-omol-20250820.ckpt",
    "orb-v3-direct-omol": _S3 + "orb-v3-direct-omol-20250820.ckpt",
    "orb-v2": _S3 + "orb-v2-20241011.ckpt",
}
ARCHITECTURE_KINDS = ("conservative", "direct")


def _cached_path_dir() -> Path:
    """Where ``cached_path`` (orb's downloader) keeps files."""
    default = Path.home() / ".cache" / "cached_path"
    return Path(os.environ.get("CACHED_PATH_CACHE_ROOT", default))


def cached_pretrained_file(name: str) -> Path | None:
    """Return orb's cached download of a pretrained model, or None when not cached.

    ``cached_path`` names a download ``sha256(url)[.sha256(etag)]`` next to ``.json`` and
    ``.lock`` files; the newest such file is the one it would use.
    """
    stem = checkpoints.url_sha256_name(PRETRAINED_URLS[name])
    found = [
        path
        for path in _cached_path_dir().glob(f"{stem}*")
        if path.suffix not in (".json", ".lock") and path.is_file()
    ]
    return max(found, key=lambda path: path.stat().st_mtime) if found else None


def validate(spec: ModelSpec) -> None:
    """Check the pretrained name, or that a weights file comes with its architecture."""
    if spec.checkpoint_kind == "name":
        if spec.checkpoint not in PRETRAINED_URLS:
            known = ", ".join(PRETRAINED_URLS)
            raise ConfigError(f"orb has no pretrained model '{spec.checkpoint}' ({known}).")
        return
    architecture = spec.options.get("architecture")
    if architecture is None:
        raise ConfigError("a weights file needs options.architecture (a pretrained name).")
    if isinstance(architecture, str) and architecture not in PRETRAINED_URLS:
        raise ConfigError(f"options.architecture '{architecture}' is not a pretrained name.")
    if isinstance(architecture, dict) and architecture.get("kind") not in ARCHITECTURE_KINDS:
        raise ConfigError("options.architecture.kind must be 'conservative' or 'direct'.")


def checkpoint_file(spec: ModelSpec) -> Path | None:
    """Return the local weights file behind the entry."""
    if spec.checkpoint_kind == "name":
        return cached_pretrained_file(spec.checkpoint)
    if spec.checkpoint_kind == "url":
        return checkpoints.cached_url(spec.checkpoint, spec.checkpoint_sha256 or "")
    return Path(spec.checkpoint)


def availability(spec: ModelSpec) -> tuple[bool, str]:
    """Orb runs where orb-models is installed and the weights are local or downloadable."""
    if importlib.util.find_spec("orb_models") is None:
        return False, "package orb-models is not installed (pip install 'mlpeg[orb]')"
    if spec.checkpoint_kind == "name":
        return checkpoints.download_availability(
            PRETRAINED_URLS[spec.checkpoint], cached_pretrained_file(spec.checkpoint)
        )
    if spec.checkpoint_kind == "url":
        return checkpoints.url_availability(spec.checkpoint, spec.checkpoint_sha256 or "")
    if Path(spec.checkpoint).is_file():
        return True, f"weights file {spec.checkpoint}"
    return False, f"weights file {spec.checkpoint} does not exist"


def _weights_path(spec: ModelSpec) -> str:
    if spec.checkpoint_kind == "url":
        return str(checkpoints.fetch_url(spec.checkpoint, spec.checkpoint_sha256 or ""))
    if not Path(spec.checkpoint).is_file():
        raise ConfigError(f"Model '{spec.name}': weights file {spec.checkpoint} does not exist.")
    return spec.checkpoint


def _custom_model(architecture: dict[str, Any], weights: str, **load: Any) -> Any:
    """Build a custom orb-v3 architecture and load ``weights`` into it with orb's loader."""
    from orb_models.forcefield import pretrained
    from orb_models.forcefield.atomic_system import SystemConfig

    arguments = dict(architecture)
    kind = arguments.pop("kind")
    system_config = SystemConfig(
        radius=float(arguments.pop("radius", 6.0)),
        max_num_neighbors=int(arguments.pop("max_num_neighbors", 120)),
    )
    build = getattr(pretrained, f"orb_v3_{kind}_architecture")
    model = build(device=load["device"], system_config=system_config, **arguments)
    return pretrained.load_model(model, weights, train=False, **load)


def make_calculator(spec: ModelSpec, *, device: str) -> Calculator:
    """Build an Orb calculator for the entry.

    Parameters
    ----------
    spec
        The registry entry; ``options`` may set ``architecture``, ``precision``
        (``float32-high``, ``float32-highest``, ``float64``) and ``compile``.
    device
        ``cpu`` or ``cuda``.

    Returns
    -------
    Calculator
        orb's ``ORBCalculator``, fed ``charge`` and ``spin`` when the model takes them.
    """
    from orb_models.forcefield import pretrained
    from orb_models.forcefield.calculator import ORBCalculator

    from mlpeg.models.prepare import PreparedCalculator

    default_precision = "float64" if spec.dtype == "float64" else "float32-high"
    precision = spec.options.get("precision", default_precision)
    compile_model = spec.options.get("compile", False if device == "cpu" else None)
    load = {"device": device, "precision": precision, "compile": compile_model}
    if spec.checkpoint_kind == "name":
        model = pretrained.ORB_PRETRAINED_MODELS[spec.checkpoint](**load)
    else:
        architecture = spec.options["architecture"]
        weights = _weights_path(spec)
        if isinstance(architecture, str):
            model = pretrained.ORB_PRETRAINED_MODELS[architecture](weights_path=weights, **load)
        else:
            model = _custom_model(architecture, weights, **load)
    calc = ORBCalculator(model, device=device)
    dtype = "float64" if precision == "float64" else "float32"
    return PreparedCalculator(calc, charge_spin=calc.expects_charge_and_spin, torch_dtype=dtype)
