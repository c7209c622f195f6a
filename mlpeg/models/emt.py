"""ASE's effective-medium theory: a cheap, real potential for tests; never on a leaderboard.

EMT is parametrised for Al, Cu, Ag, Au, Ni, Pd and Pt (H, C, N and O roughly).
"""

from __future__ import annotations

from ase.calculators.calculator import Calculator
from ase.calculators.emt import EMT

from mlpeg.models.registry import ModelSpec


def make_calculator(spec: ModelSpec, *, device: str) -> Calculator:
    """Return ASE's :class:`~ase.calculators.emt.EMT`."""
    return EMT(**spec.options)
