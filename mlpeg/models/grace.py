"""GRACE (``tensorpotential``): graph atomic cluster expansion foundation models.

The checkpoint is a foundation-model name (``GRACE-2L-OAM``, ``GRACE-1L-OAM``) that
``grace_fm`` downloads into ``~/.cache/grace``. tensorpotential runs on TensorFlow 2.20,
several GB of wheels that the torch environment does not hold; it runs in an environment
of its own.
"""

from __future__ import annotations

from pathlib import Path

from ase.calculators.calculator import Calculator

from mlpeg.errors import ConfigError
from mlpeg.models.packaged import missing_package
from mlpeg.models.registry import ModelSpec

MODELS = ("GRACE-1L-OAM", "GRACE-2L-OAM", "GRACE-2L-OMAT", "GRACE-1L-OMAT")
WHY_NOT_HERE = "it runs on TensorFlow 2.20, which the torch environment does not hold"


def validate(spec: ModelSpec) -> None:
    """Check the foundation-model name."""
    if spec.checkpoint not in MODELS:
        raise ConfigError(f"grace has no model '{spec.checkpoint}' ({', '.join(MODELS)}).")


def availability(spec: ModelSpec) -> tuple[bool, str]:
    """GRACE runs where tensorpotential is installed and the model is cached or online."""
    missing = missing_package("tensorpotential", "tensorpotential", WHY_NOT_HERE)
    if missing:
        return missing
    cached = Path.home() / ".cache" / "grace" / spec.checkpoint
    if cached.exists():
        return True, f"weights at {cached}"
    return False, "weights not cached; grace_fm downloads them on first use (needs internet)"


def make_calculator(spec: ModelSpec, *, device: str) -> Calculator:
    """Build the GRACE calculator with ``grace_fm``."""
    from tensorpotential.calculator.foundation_models import grace_fm

    return grace_fm(spec.checkpoint, **spec.options)
