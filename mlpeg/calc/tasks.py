"""What a benchmark asks of a model: tasks over structures, and reference values.

A benchmark's ``calc.py`` defines ``tasks()`` returning :class:`Task` objects and
``references()`` returning :class:`Reference` objects; the shared runner does the rest
(calculator, timing, failures, Parquet). A task's ``kind`` says what to compute; the
single point is the default.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

import numpy as np
from ase import Atoms


@dataclass
class TaskResult:
    """What one task produced (energies in eV, forces eV/Å, stress eV/Å³ Voigt)."""

    energy: float | None = None
    forces: np.ndarray | None = None
    stress: np.ndarray | None = None
    properties: dict[str, float] = field(default_factory=dict)
    frames: list[Atoms] = field(default_factory=list)


class TaskKind(Protocol):
    """A reusable computation on one structure with a calculator attached."""

    name: ClassVar[str]

    def settings(self) -> dict[str, Any]:
        """Return the settings that change the result (hashed for resuming)."""
        ...

    def run(self, atoms: Atoms) -> TaskResult:
        """Compute on ``atoms`` (calculator attached) and return the result."""
        ...


@dataclass(frozen=True)
class SinglePoint:
    """Energy, and optionally forces and stress, of a fixed structure.

    Parameters
    ----------
    properties
        Any of ``energy``, ``forces``, ``stress``. Stress is only computed for fully
        periodic structures.
    """

    properties: tuple[str, ...] = ("energy", "forces")
    name: ClassVar[str] = "single_point"

    def settings(self) -> dict[str, Any]:
        """Return the requested properties."""
        return {"properties": sorted(self.properties)}

    def run(self, atoms: Atoms) -> TaskResult:
        """Evaluate the attached calculator once."""
        result = TaskResult(energy=float(atoms.get_potential_energy()))
        if "forces" in self.properties:
            result.forces = np.asarray(atoms.get_forces(), dtype=float)
        if "stress" in self.properties and atoms.pbc.all():
            result.stress = np.asarray(atoms.get_stress(voigt=True), dtype=float)
        return result


def settings_hash(kind: TaskKind) -> str:
    """Return a short hash of a task kind's name and settings."""
    text = json.dumps({"kind": kind.name, **kind.settings()}, sort_keys=True, default=str)
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


@dataclass
class Task:
    """One structure to compute for every model.

    Parameters
    ----------
    system
        The system it belongs to (an X23 crystal, a reaction's species, ...).
    role
        Its role within the system (``solid``, ``molecule``, a frame index, ...).
    atoms
        The input structure; ``atoms.info`` may carry ``charge`` and ``spin``.
    kind
        What to compute; a single point of energy and forces by default.
    """

    system: str
    role: str
    atoms: Atoms
    kind: TaskKind = field(default_factory=SinglePoint)


@dataclass(frozen=True)
class Reference:
    """A reference value of one quantity of one system, in warehouse units (eV, Å)."""

    system: str
    quantity: str
    value: float
    unit: str
    uncertainty: float | None = None
    level_of_theory: str | None = None
    source: str | None = None
