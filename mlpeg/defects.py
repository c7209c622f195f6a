"""Vacancy formation at a fixed (reference) volume.

Unlike :class:`mlpeg.materials.VacancyFormation`, which first scales the cell to the
model's own zero pressure, this kind keeps the volume it is given, as a DFT data set that
lists its own volume per atom asks: the perfect and the defect supercell both sit at the
reference volume and only the atoms (and, optionally, the cell's shape at that volume)
relax with the model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from ase import Atoms
from ase.filters import FrechetCellFilter
from ase.optimize import BFGS, FIRE

from mlpeg.calc.kinds import NotConverged, TaskSettingsError
from mlpeg.calc.tasks import TaskResult


def _snapshot(atoms: Atoms) -> Atoms:
    frame = Atoms(atoms.numbers, atoms.positions, cell=atoms.cell.array, pbc=atoms.pbc)
    frame.info.update(atoms.info)
    return frame


def relax_shape_at_volume(atoms: Atoms, *, fmax: float, max_steps: int) -> int:
    """Relax cell shape and positions of ``atoms`` in place at constant volume.

    Parameters
    ----------
    atoms
        A periodic crystal with a calculator attached.
    fmax
        Threshold on forces and on the cell filter's generalised forces (eV/Å).
    max_steps
        Step limit; reaching it raises :class:`NotConverged`.

    Returns
    -------
    int
        The number of optimiser steps taken.
    """
    optimizer = FIRE(FrechetCellFilter(atoms, constant_volume=True), logfile=None)
    if not optimizer.run(fmax=fmax, steps=max_steps):
        raise NotConverged(f"cell shape did not reach fmax {fmax} eV/Å in {max_steps} steps")
    return int(optimizer.nsteps)


@dataclass(frozen=True)
class VacancyAtVolume:
    """Energies of a perfect supercell and of the same cell with one atom removed.

    The view computes E_vac = E_defect − (N − 1)/N · E_perfect.

    Parameters
    ----------
    supercell
        Repetitions of the given cell along a, b and c.
    relax_shape
        First relax the cell's shape (e.g. hcp c/a) and positions at the given volume.
    fmax
        Force threshold of the vacancy relaxation (eV/Å).
    shape_fmax
        Threshold of the shape relaxation (eV/Å); tighter, as a small cell's generalised
        cell forces are small (ASE scales them by the number of atoms).
    max_steps
        Step limit of each relaxation; reaching it fails the task (the row is 'failed'
        with the reason).

    Notes
    -----
    Properties: ``energy_perfect``, ``energy_defect`` (eV), ``n_atoms_perfect``,
    ``n_steps`` (of the defect relaxation), ``volume_per_atom`` (Å³) and ``c_over_a`` (of
    the unit cell after any shape relaxation). Frames: the perfect and the relaxed defect
    supercell; the result's energy is the defect's.
    """

    supercell: tuple[int, int, int] = (3, 3, 3)
    relax_shape: bool = False
    fmax: float = 0.02
    shape_fmax: float = 0.001
    max_steps: int = 300
    name: ClassVar[str] = "vacancy_at_volume"

    def __post_init__(self) -> None:
        if len(self.supercell) != 3 or min(self.supercell) < 1:
            raise TaskSettingsError("VacancyAtVolume needs three repetitions, each ≥ 1.")
        object.__setattr__(self, "supercell", tuple(int(n) for n in self.supercell))

    def settings(self) -> dict[str, Any]:
        """Return the supercell and relaxation settings."""
        return {
            "supercell": list(self.supercell),
            "relax_shape": self.relax_shape,
            "shape_fmax": self.shape_fmax if self.relax_shape else None,
            "fmax": self.fmax,
            "max_steps": self.max_steps,
        }

    def run(self, atoms: Atoms) -> TaskResult:
        """Relax the shape if asked, then compute the perfect and relaxed defect cells."""
        if not atoms.pbc.all():
            raise TaskSettingsError("VacancyAtVolume needs a fully periodic crystal.")
        calc = atoms.calc
        unit = atoms.copy()
        unit.calc = calc
        if self.relax_shape:
            relax_shape_at_volume(unit, fmax=self.shape_fmax, max_steps=self.max_steps)
        perfect = unit.repeat(self.supercell)
        perfect.calc = calc
        energy_perfect = float(perfect.get_potential_energy())
        defect = perfect.copy()
        del defect[0]
        defect.calc = calc
        optimizer = BFGS(defect, logfile=None)
        if not optimizer.run(fmax=self.fmax, steps=self.max_steps):
            raise NotConverged(
                f"vacancy cell did not reach fmax {self.fmax} eV/Å in {self.max_steps} steps"
            )
        energy_defect = float(defect.get_potential_energy())
        lengths = unit.cell.lengths()
        return TaskResult(
            energy=energy_defect,
            properties={
                "energy_perfect": energy_perfect,
                "energy_defect": energy_defect,
                "n_atoms_perfect": float(len(perfect)),
                "n_steps": float(optimizer.nsteps),
                "volume_per_atom": float(unit.get_volume() / len(unit)),
                "c_over_a": float(lengths[2] / lengths[0]),
            },
            frames=[_snapshot(perfect), _snapshot(defect)],
        )
