"""Slab relaxation with the bottom layer held fixed (a task kind, :mod:`mlpeg.calc.kinds`).

A slab model of a surface keeps its lowest layer at the bulk geometry: atoms within
``fixed_depth`` of the lowest z are fixed and the rest relax. The result is that of
:class:`mlpeg.calc.kinds.Relax` (relaxed structure as the last frame, ``converged``,
``n_steps``, ...) plus ``n_fixed``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from ase import Atoms
from ase.constraints import FixAtoms

from mlpeg.calc.kinds import Relax, TaskSettingsError
from mlpeg.calc.tasks import TaskResult


def bottom_layer(atoms: Atoms, depth: float) -> np.ndarray:
    """Return the indices of atoms within ``depth`` Å of the lowest z coordinate."""
    z = atoms.positions[:, 2]
    return np.flatnonzero(z < z.min() + depth) if len(atoms) else np.array([], dtype=int)


@dataclass(frozen=True)
class SlabRelax:
    """Relax positions with the atoms of the bottom layer fixed.

    Parameters
    ----------
    fmax
        Force threshold (eV/Å) on the free atoms.
    max_steps
        Step limit.
    optimizer
        ``FIRE``, ``BFGS``, ``LBFGS`` or ``BFGSLineSearch``.
    fixed_depth
        Atoms with z below (lowest z + ``fixed_depth``) are fixed (Å).
    require_convergence
        Raise at the step limit (the row becomes 'failed' with the reason).
    """

    fmax: float = 0.05
    max_steps: int = 500
    optimizer: str = "BFGS"
    fixed_depth: float = 0.1
    require_convergence: bool = True
    name: ClassVar[str] = "slab_relax"

    def __post_init__(self) -> None:
        if self.fixed_depth < 0:
            raise TaskSettingsError("SlabRelax needs fixed_depth ≥ 0.")
        self._relax()  # validates fmax, max_steps and the optimiser

    def _relax(self) -> Relax:
        return Relax(
            fmax=self.fmax,
            max_steps=self.max_steps,
            optimizer=self.optimizer,
            require_convergence=self.require_convergence,
        )

    def settings(self) -> dict[str, Any]:
        """Return every setting (all change the result)."""
        return {
            "fmax": self.fmax,
            "max_steps": self.max_steps,
            "optimizer": self.optimizer,
            "fixed_depth": self.fixed_depth,
            "require_convergence": self.require_convergence,
        }

    def run(self, atoms: Atoms) -> TaskResult:
        """Fix the bottom layer, relax the rest, and return the relaxed structure."""
        fixed = bottom_layer(atoms, self.fixed_depth)
        atoms.set_constraint(FixAtoms(indices=fixed))
        result = self._relax().run(atoms)  # clears the constraint when done
        result.properties["n_fixed"] = float(len(fixed))
        return result
