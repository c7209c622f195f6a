"""Test-only family whose calculator raises on every structure."""

from __future__ import annotations

from ase.calculators.calculator import Calculator, all_changes

from mlpeg.models.capabilities import Accepts
from mlpeg.models.registry import ModelSpec

#: A test family takes whatever a benchmark gives it (charged, open-shell, in a field).
ACCEPTS = Accepts(charge=True, spin=True, field=True)


class FailingCalculator(Calculator):
    """Raises ``RuntimeError`` whenever asked for anything."""

    implemented_properties = ("energy", "forces", "stress")

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        """Raise, as a crashing model would."""
        raise RuntimeError("the 'error' test model always fails")


def make_calculator(spec: ModelSpec, *, device: str) -> Calculator:
    """Return a :class:`FailingCalculator`."""
    return FailingCalculator()
