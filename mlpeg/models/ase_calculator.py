"""Any ASE calculator class, named ``module:Class`` as the checkpoint.

For packages that ship an ASE calculator and need no loader of their own, often in an
environment of their own (``environment:`` in models.yml). ``options`` are passed to the
class as keyword arguments. The tests use it with a small package installed only in a
throwaway venv, to show that a model runs in its environment's interpreter.
"""

from __future__ import annotations

import importlib
import importlib.util

from ase.calculators.calculator import Calculator

from mlpeg.errors import ConfigError
from mlpeg.models.registry import ModelSpec


def _target(spec: ModelSpec) -> tuple[str, str]:
    module, _, name = spec.checkpoint.partition(":")
    return module, name


def validate(spec: ModelSpec) -> None:
    """Check that the checkpoint reads ``module:Class``."""
    module, name = _target(spec)
    if not module or not name or not all(part.isidentifier() for part in module.split(".")):
        raise ConfigError(
            f"checkpoint must name a calculator as module:Class, not '{spec.checkpoint}'."
        )


def availability(spec: ModelSpec) -> tuple[bool, str]:
    """Say whether the calculator's package can be imported here (found, not imported)."""
    module, name = _target(spec)
    top = module.split(".")[0]
    if importlib.util.find_spec(top) is None:
        return False, f"package {top} is not installed"
    return True, f"{module}:{name}"


def make_calculator(spec: ModelSpec, *, device: str) -> Calculator:
    """Import the class and build it with ``spec.options``.

    Parameters
    ----------
    spec
        The registry entry (checkpoint ``module:Class``).
    device
        Not used: the class decides (pass ``device`` in options where it takes one).
    """
    module, name = _target(spec)
    try:
        factory = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"Model '{spec.name}': cannot import {module}:{name} ({exc}).") from exc
    return factory(**spec.options)
