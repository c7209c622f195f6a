"""CHGNet (``chgnet`` package): pretrained versions ship inside the wheel.

chgnet 0.4.2 ships ``0.3.0``, ``0.2.0`` (its first MPtrj release, loaded with the output
bias it was trained with) and ``r2scan`` (0.3.0 fine-tuned on MP-r2SCAN); ``CHGNet.load``
sets each one's architecture.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from ase.calculators.calculator import Calculator

from mlpeg.errors import ConfigError
from mlpeg.models.registry import ModelSpec

#: Weights of the pretrained versions, relative to the installed ``chgnet`` package.
PRETRAINED_FILES = {
    "0.3.0": "pretrained/0.3.0/chgnet_0.3.0_e29f68s314m37.pth.tar",
    "0.2.0": "pretrained/0.2.0/chgnet_0.2.0_e30f77s348m32.pth.tar",
    "r2scan": "pretrained/r2scan/chgnet_r2scan_transfer_learning_e15f36s161m23.pth.tar",
}


def _package_dir() -> Path | None:
    found = importlib.util.find_spec("chgnet")
    if found is None or not found.submodule_search_locations:
        return None
    return Path(next(iter(found.submodule_search_locations)))


def validate(spec: ModelSpec) -> None:
    """Check that a named version is one the chgnet wheel ships."""
    if spec.checkpoint_kind == "name" and spec.checkpoint not in PRETRAINED_FILES:
        known = ", ".join(PRETRAINED_FILES)
        raise ConfigError(f"chgnet has no pretrained version '{spec.checkpoint}' ({known}).")
    if spec.checkpoint_kind == "url":
        raise ConfigError("chgnet checkpoints are versions or local files, not URLs.")


def checkpoint_file(spec: ModelSpec) -> Path | None:
    """Return the weights file: inside the chgnet package for pretrained versions."""
    if spec.checkpoint_kind == "file":
        return Path(spec.checkpoint)
    package = _package_dir()
    return package / PRETRAINED_FILES[spec.checkpoint] if package else None


def availability(spec: ModelSpec) -> tuple[bool, str]:
    """CHGNet is available when the ``chgnet`` package is installed."""
    if _package_dir() is None:
        return False, "package chgnet is not installed (pip install 'mlpeg[chgnet]')"
    path = checkpoint_file(spec)
    if path is None or not path.is_file():
        return False, f"weights {path} do not exist"
    if spec.checkpoint_kind == "name":
        return True, "weights ship in the chgnet wheel"
    return True, f"weights file {path}"


def make_calculator(spec: ModelSpec, *, device: str) -> Calculator:
    """Load a CHGNet version by name (``0.3.0``) or from a local file."""
    from chgnet.model import CHGNet, CHGNetCalculator

    if spec.checkpoint_kind == "file":
        model = CHGNet.from_file(spec.checkpoint)
    else:
        model = CHGNet.load(model_name=spec.checkpoint, use_device=device, verbose=False)
    return CHGNetCalculator(model=model, use_device=device, **spec.options)
