"""CHGNet (``chgnet`` package): pretrained versions ship inside the wheel."""

from __future__ import annotations

import importlib.util

from ase.calculators.calculator import Calculator

from mlpeg.models.registry import ModelSpec


def availability(spec: ModelSpec) -> tuple[bool, str]:
    """CHGNet is available when the ``chgnet`` package is installed."""
    if importlib.util.find_spec("chgnet") is None:
        return False, "package chgnet is not installed (pip install 'mlpeg[chgnet]')"
    return True, "weights ship in the chgnet wheel"


def make_calculator(spec: ModelSpec, *, device: str) -> Calculator:
    """Load a CHGNet version by name (``0.3.0``) or from a local file."""
    from pathlib import Path

    from chgnet.model import CHGNet, CHGNetCalculator

    if Path(spec.checkpoint).is_file():
        model = CHGNet.from_file(spec.checkpoint)
    else:
        model = CHGNet.load(model_name=spec.checkpoint, use_device=device, verbose=False)
    return CHGNetCalculator(model=model, use_device=device)
