"""Harmonic phonons with phonopy (finite displacements) and heat capacities from frequencies."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from ase import Atoms
from ase.filters import FrechetCellFilter
from ase.optimize import FIRE
from ase.units import _hplanck, _k, _Nav

from mlpeg.calc.kinds import NotConverged, TaskSettingsError
from mlpeg.calc.tasks import TaskResult


def heat_capacity(
    frequencies_thz: np.ndarray, temperature: float, *, cutoff: float = 1e-3
) -> float:
    """Return the harmonic isochoric heat capacity (J/K per mole of cells) at ``temperature``.

    Parameters
    ----------
    frequencies_thz
        Array (n_q, n_modes) of frequencies on an evenly weighted q mesh, THz.
    temperature
        Temperature in K.
    cutoff
        Frequencies at or below this (THz; acoustic modes at Γ, imaginary modes) are left
        out, as phonopy does.

    Returns
    -------
    float
        C_V = N_A k_B Σ x² eˣ / (eˣ − 1)² / n_q with x = hν / k_B T.

    Notes
    -----
    Each mode tends to k_B at high temperature, so C_V → 3 N_atoms R (Dulong–Petit).
    """
    frequencies = np.asarray(frequencies_thz, dtype=float)
    n_q = frequencies.shape[0]
    nu = frequencies[frequencies > cutoff] * 1e12
    x = _hplanck * nu / (_k * temperature)
    terms = x**2 * np.exp(-x) / (1.0 - np.exp(-x)) ** 2  # = x² eˣ/(eˣ − 1)², overflow-safe
    return float(_Nav * _k * terms.sum() / n_q)


def _phonopy_atoms(atoms: Atoms) -> Any:
    from phonopy.structure.atoms import PhonopyAtoms

    return PhonopyAtoms(
        symbols=atoms.get_chemical_symbols(),
        cell=atoms.cell.array,
        scaled_positions=atoms.get_scaled_positions(),
    )


@dataclass(frozen=True)
class PhononHeatCapacity:
    """Relax a crystal, compute its phonons with phonopy and the heat capacity at T.

    Parameters
    ----------
    supercell
        Repetitions of the (relaxed) cell for the finite displacements.
    displacement
        Displacement amplitude (Å).
    mesh
        q mesh for the thermal properties.
    temperatures
        Temperatures (K) of the heat capacities.
    relax
        Relax cell and atoms first (FIRE on FrechetCellFilter).
    fmax
        Force threshold of that relaxation (eV/Å); reaching ``max_steps`` fails the task.
    max_steps
        Step limit of the relaxation.

    Notes
    -----
    Properties: ``cv_NNN`` (J/K/mol of cells) at each temperature (``temperature_NNN``),
    ``frequency_min`` and ``frequency_max`` over the mesh (THz; a negative minimum means an
    imaginary mode), ``n_displacements``. The frame is the relaxed structure.
    """

    supercell: tuple[int, int, int] = (2, 2, 2)
    displacement: float = 0.01
    mesh: tuple[int, int, int] = (20, 20, 20)
    temperatures: tuple[float, ...] = (300.0,)
    relax: bool = True
    fmax: float = 0.01
    max_steps: int = 500
    name: ClassVar[str] = "phonon_heat_capacity"

    def __post_init__(self) -> None:
        if self.displacement <= 0 or not self.temperatures:
            raise TaskSettingsError("PhononHeatCapacity needs a displacement > 0 and temperatures.")

    def settings(self) -> dict[str, Any]:
        """Return every setting (all change the result)."""
        return {
            "supercell": list(self.supercell),
            "displacement": self.displacement,
            "mesh": list(self.mesh),
            "temperatures": list(self.temperatures),
            "relax": self.relax,
            "fmax": self.fmax,
            "max_steps": self.max_steps,
        }

    def run(self, atoms: Atoms) -> TaskResult:
        """Relax, displace, fit force constants, and return heat capacities."""
        from phonopy import Phonopy

        calc = atoms.calc
        if self.relax:
            optimizer = FIRE(FrechetCellFilter(atoms), logfile=None)
            if not optimizer.run(fmax=self.fmax, steps=self.max_steps):
                raise NotConverged(
                    f"structure did not reach fmax {self.fmax} eV/Å in {self.max_steps} steps"
                )
        phonon = Phonopy(_phonopy_atoms(atoms), supercell_matrix=np.diag(self.supercell))
        phonon.generate_displacements(distance=self.displacement)
        forces = []
        for displaced in phonon.supercells_with_displacements:
            cell = Atoms(
                symbols=displaced.symbols,
                cell=displaced.cell,
                scaled_positions=displaced.scaled_positions,
                pbc=True,
            )
            cell.calc = calc
            forces.append(np.asarray(cell.get_forces(), dtype=float))
        phonon.forces = forces
        phonon.produce_force_constants()
        phonon.run_mesh(list(self.mesh), is_gamma_center=True)
        frequencies = phonon.get_mesh_dict()["frequencies"]
        phonon.run_thermal_properties(temperatures=list(self.temperatures))
        capacities = phonon.get_thermal_properties_dict()["heat_capacity"]
        properties: dict[str, float] = {
            "frequency_min": float(np.min(frequencies)),
            "frequency_max": float(np.max(frequencies)),
            "n_displacements": float(len(forces)),
        }
        for index, (temperature, cv) in enumerate(zip(self.temperatures, capacities, strict=True)):
            properties[f"temperature_{index:03d}"] = float(temperature)
            properties[f"cv_{index:03d}"] = float(cv)
        frame = Atoms(atoms.numbers, atoms.positions, cell=atoms.cell.array, pbc=True)
        frame.info.update(atoms.info)
        return TaskResult(
            energy=float(atoms.get_potential_energy()),
            properties=properties,
            frames=[frame],
        )
