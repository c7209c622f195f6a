"""Test-only family: ASE's EMT that hangs, kills its process or raises on chosen structures.

``options`` name structures by ``atoms.info["name"]``: ``hang_on`` (sleep forever),
``crash_on`` (the process kills itself with SIGKILL, as the out-of-memory killer would)
and ``raise_on`` (raise ``RuntimeError``); ``sleep_s`` makes every structure take that
many seconds longer (a slow model), and ``announce`` names a file that gets a line as each
such sleep begins (so a test knows the model is busy). Every other structure gets plain
EMT energies. It exists to test timeouts, crashed workers and resuming. Never on a leaderboard.
"""

from __future__ import annotations

import os
import signal
import time

from ase.calculators.calculator import Calculator, all_changes
from ase.calculators.emt import EMT

from mlpeg.models.capabilities import Accepts
from mlpeg.models.registry import ModelSpec

#: A test family takes whatever a benchmark gives it (charged, open-shell, in a field).
ACCEPTS = Accepts(charge=True, spin=True, field=True)


class HazardCalculator(EMT):
    """EMT, except on the structures named in ``hang_on``, ``crash_on`` or ``raise_on``."""

    def __init__(self, hang_on=(), crash_on=(), raise_on=(), sleep_s=0.0, announce=None):
        super().__init__()
        self.sleep_s, self.announce = float(sleep_s), announce
        self.hang_on, self.crash_on, self.raise_on = set(hang_on), set(crash_on), set(raise_on)

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        """Misbehave on the named structures, else compute EMT."""
        name = (atoms if atoms is not None else self.atoms).info.get("name")
        if name in self.hang_on:
            while True:
                time.sleep(1)
        if name in self.crash_on:
            os.kill(os.getpid(), signal.SIGKILL)
        if name in self.raise_on:
            raise RuntimeError(f"the hazard model refuses {name}")
        if self.sleep_s and self.announce:
            with open(self.announce, "a") as log:
                log.write(f"sleeping {self.sleep_s:g} s on {name}\n")
        time.sleep(self.sleep_s)
        super().calculate(atoms, properties, system_changes)


def make_calculator(spec: ModelSpec, *, device: str) -> Calculator:
    """Return a :class:`HazardCalculator` configured by ``spec.options``."""
    return HazardCalculator(**spec.options)
