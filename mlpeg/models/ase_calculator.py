"""Any ASE calculator class, named ``module:Class`` as the checkpoint (the older form).

New entries say ``family: python`` with ``factory: package.module:callable``
(:mod:`mlpeg.models.python`), which also checks the calculator on first use. This family
builds the class with ``options`` as keyword arguments and nothing more, so a calculator
that fails on some structure fails only there (as a failed row); it is kept for registries
that use it, often with a model in an environment of its own.
"""

from __future__ import annotations

from ase.calculators.calculator import Calculator

from mlpeg.models.python import _load_factory, availability, validate
from mlpeg.models.registry import ModelSpec

__all__ = ["availability", "make_calculator", "validate"]


def make_calculator(spec: ModelSpec, *, device: str) -> Calculator:
    """Import the class and build it with ``spec.options`` (``device`` is not passed)."""
    return _load_factory(spec)(**spec.options)
