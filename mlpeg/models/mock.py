"""Test-only families: ``mock`` returns zeros, ``error`` raises. Never on a leaderboard."""

from __future__ import annotations

import numpy as np
from ase.calculators.calculator import Calculator, all_changes

from mlpeg.models.capabilities import Accepts
from mlpeg.models.registry import ModelSpec

#: A test family takes whatever a benchmark gives it (charged, open-shell, in a field).
ACCEPTS = Accepts(charge=True, spin=True, field=True)


class ZeroCalculator(Calculator):
    """Zero energy, forces and stress for any structure."""

    implemented_properties = ("energy", "free_energy", "forces", "stress")

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        """Fill ``results`` with zeros."""
        super().calculate(atoms, properties, system_changes)
        n_atoms = len(self.atoms)
        self.results = {
            "energy": 0.0,
            "free_energy": 0.0,
            "forces": np.zeros((n_atoms, 3)),
            "stress": np.zeros(6),
        }


def make_calculator(spec: ModelSpec, *, device: str) -> Calculator:
    """Return a :class:`ZeroCalculator`."""
    return ZeroCalculator()
