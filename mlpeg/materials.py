"""Task kinds and builders for crystal properties at a model's own lattice constant.

Elastic constants, vacancy and surface energies must be computed at the lattice constant
the *model* predicts, which is not known when tasks are built. Each kind here therefore
starts by scaling the cell it is given to zero pressure (:func:`equilibrium_scale`) and
then computes raw energies and stresses; the views turn those into properties, so every
number a metric uses can be traced back to stored energies.
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from ase import Atoms
from ase.build import surface
from ase.optimize import BFGS
from scipy.optimize import brentq

from mlpeg.calc.tasks import TaskResult
from mlpeg.structures import structure_hash

#: Voigt order of ASE stresses: xx, yy, zz, yz, xz, xy.
VOIGT_PAIRS = ((0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1))

#: Zero-pressure scales already found, per calculator (entries go with the calculator).
_SCALES: weakref.WeakKeyDictionary[Any, dict[tuple, float]] = weakref.WeakKeyDictionary()


class NotConvergedError(RuntimeError):
    """A relaxation stopped at its step limit (the task's row becomes 'failed')."""


def scaled(atoms: Atoms, factor: float) -> Atoms:
    """Return a copy with the cell (and atoms with it) scaled isotropically by ``factor``.

    The copy shares the calculator of ``atoms``.
    """
    copy = atoms.copy()
    copy.calc = atoms.calc
    copy.set_cell(atoms.cell.array * factor, scale_atoms=True)
    return copy


def volume_scan(
    atoms: Atoms, volume_per_atom: float, factors: tuple[float, ...]
) -> list[tuple[str, Atoms]]:
    """Return copies of a crystal at ``factor × volume_per_atom``, named by their factor.

    Parameters
    ----------
    atoms
        The crystal (any volume; only its shape and fractional coordinates are used).
    volume_per_atom
        The volume per atom (Å³) the factors multiply.
    factors
        Volume ratios, e.g. 0.94 … 1.06 for the Δ-test.

    Returns
    -------
    list of (str, Atoms)
        ``("v0.940", atoms), …``: the role of each scan point and its structure.
    """
    current = atoms.get_volume() / len(atoms)
    points = []
    for factor in factors:
        point = atoms.copy()
        linear = (factor * volume_per_atom / current) ** (1 / 3)
        point.set_cell(atoms.cell.array * linear, scale_atoms=True)
        points.append((f"v{factor:.3f}", point))
    return points


def pressure(atoms: Atoms) -> float:
    """Return the pressure −tr(σ)/3 of a periodic structure (eV/Å³)."""
    return float(-np.mean(atoms.get_stress(voigt=True)[:3]))


def equilibrium_scale(
    atoms: Atoms, *, low: float = 0.9, high: float = 1.1, xtol: float = 1e-7
) -> float:
    """Return the isotropic scale factor at which the model's pressure vanishes.

    Parameters
    ----------
    atoms
        A periodic crystal with a calculator attached that implements stress.
    low, high
        Bracket of linear scale factors; the pressure must change sign between them.
    xtol
        Absolute tolerance on the scale factor (Brent's method).

    Returns
    -------
    float
        The linear factor s such that scaling the cell by s gives zero pressure.

    Raises
    ------
    ValueError
        When the pressure has the same sign at both ends of the bracket.

    Notes
    -----
    The result depends only on the calculator and the structure, so it is remembered per
    calculator object: the kinds of one run that start from the same cell share one search.
    """
    key = (structure_hash(atoms), low, high, xtol)
    try:
        known = _SCALES.setdefault(atoms.calc, {})
    except TypeError:  # a calculator that cannot be weakly referenced: no memory
        known = {}
    if key not in known:
        known[key] = _find_zero_pressure(atoms, low=low, high=high, xtol=xtol)
    return known[key]


def _find_zero_pressure(atoms: Atoms, *, low: float, high: float, xtol: float) -> float:
    p_low, p_high = pressure(scaled(atoms, low)), pressure(scaled(atoms, high))
    if p_low * p_high > 0:
        raise ValueError(
            f"no zero pressure between {low} and {high} times the cell "
            f"(pressures {p_low:.3g} and {p_high:.3g} eV/Å³)"
        )
    return float(brentq(lambda s: pressure(scaled(atoms, s)), low, high, xtol=xtol))


def _snapshot(atoms: Atoms) -> Atoms:
    frame = Atoms(atoms.numbers, atoms.positions, cell=atoms.cell.array, pbc=atoms.pbc)
    frame.info.update(atoms.info)
    return frame


def _relax_positions(atoms: Atoms, *, fmax: float, max_steps: int) -> int:
    optimizer = BFGS(atoms, logfile=None)
    if not optimizer.run(fmax=fmax, steps=max_steps):
        raise NotConvergedError(f"positions did not reach fmax {fmax} eV/Å in {max_steps} steps")
    return int(optimizer.nsteps)


@dataclass(frozen=True)
class CubicElasticConstants:
    """C11, C12 and C44 of a cubic crystal from stress–strain finite differences.

    The cell is first scaled to zero pressure; then a normal strain ε_xx and an engineering
    shear strain γ_yz are applied at ±ε and ±2ε, and each C_ij = dσ_i/dε_j is the
    five-point derivative (8 (σ(ε) − σ(−ε)) − (σ(2ε) − σ(−2ε))) / 12ε, exact to O(ε⁴) so
    that ε can stay well above the noise of single-precision models. Cubic symmetry makes
    the other four strains redundant: C11 = dσ_xx/dε_xx, C12 is the mean of dσ_yy/dε_xx and
    dσ_zz/dε_xx, and C44 = dσ_yz/dγ_yz. Atoms are not relaxed under strain, which is exact
    when every atom is a centre of inversion (bcc, fcc; not diamond, whose C44 has internal
    relaxation).

    Parameters
    ----------
    strain
        Strain step ε.

    Notes
    -----
    Properties (eV/Å³): ``c11``, ``c12``, ``c44``; plus ``scale`` (the zero-pressure
    factor) and ``volume_per_atom`` (Å³). The frame is the zero-pressure cell, whose
    energy and stress the result holds.
    """

    strain: float = 0.002
    name: ClassVar[str] = "cubic_elastic_constants"

    def settings(self) -> dict[str, Any]:
        """Return the strain step."""
        return {"strain": self.strain, "stencil": 5}

    def _stress(self, base: Atoms, column: int, strain: float) -> np.ndarray:
        i, k = VOIGT_PAIRS[column]
        deformation = np.eye(3)
        amplitude = strain if i == k else strain / 2  # γ_yz = ε_yz + ε_zy
        deformation[i, k] += amplitude
        if i != k:
            deformation[k, i] += amplitude
        strained = base.copy()
        strained.calc = base.calc
        strained.set_cell(base.cell.array @ deformation, scale_atoms=True)
        return np.asarray(strained.get_stress(voigt=True), dtype=float)

    def run(self, atoms: Atoms) -> TaskResult:
        """Scale to zero pressure, strain along xx and yz, differentiate the stresses."""
        scale = equilibrium_scale(atoms)
        base = scaled(atoms, scale)
        slopes = {}
        for column in (0, 3):  # xx and yz
            stress = {n: self._stress(base, column, n * self.strain) for n in (-2, -1, 1, 2)}
            slopes[column] = (8 * (stress[1] - stress[-1]) - (stress[2] - stress[-2])) / (
                12 * self.strain
            )
        return TaskResult(
            energy=float(base.get_potential_energy()),
            stress=np.asarray(base.get_stress(voigt=True), dtype=float),
            properties={
                "c11": float(slopes[0][0]),
                "c12": float((slopes[0][1] + slopes[0][2]) / 2),
                "c44": float(slopes[3][3]),
                "scale": scale,
                "volume_per_atom": float(base.get_volume() / len(base)),
            },
            frames=[_snapshot(base)],
        )


@dataclass(frozen=True)
class VacancyFormation:
    """Energies for the vacancy formation energy of an elemental crystal.

    The cell is scaled to zero pressure and repeated ``supercell`` times along each axis;
    one atom is removed and the others relaxed at fixed cell. The view computes
    E_vac = E_defect − (N − 1) / N · E_perfect.

    Parameters
    ----------
    supercell
        Repetitions of the given cell along each axis.
    fmax
        Force threshold of the relaxation (eV/Å).
    max_steps
        Step limit; reaching it fails the task.

    Notes
    -----
    Properties: ``energy_perfect``, ``energy_defect`` (eV), ``n_atoms_perfect``,
    ``n_steps``, ``scale``. The frame is the relaxed defect cell and the result's energy is
    its energy (forces belong to the input structure, so none are returned).
    """

    supercell: int = 3
    fmax: float = 0.02
    max_steps: int = 300
    name: ClassVar[str] = "vacancy_formation"

    def settings(self) -> dict[str, Any]:
        """Return the supercell size and relaxation settings."""
        return {"supercell": self.supercell, "fmax": self.fmax, "max_steps": self.max_steps}

    def run(self, atoms: Atoms) -> TaskResult:
        """Compute the perfect and relaxed defect supercells."""
        scale = equilibrium_scale(atoms)
        perfect = scaled(atoms, scale).repeat(self.supercell)
        perfect.calc = atoms.calc
        energy_perfect = float(perfect.get_potential_energy())
        defect = perfect.copy()
        del defect[0]
        defect.calc = atoms.calc
        n_steps = _relax_positions(defect, fmax=self.fmax, max_steps=self.max_steps)
        energy_defect = float(defect.get_potential_energy())
        return TaskResult(
            energy=energy_defect,
            properties={
                "energy_perfect": energy_perfect,
                "energy_defect": energy_defect,
                "n_atoms_perfect": float(len(perfect)),
                "n_steps": float(n_steps),
                "scale": scale,
            },
            frames=[_snapshot(defect)],
        )


@dataclass(frozen=True)
class SurfaceEnergy:
    """Energies for the surface energy of a crystal facet at the model's lattice constant.

    The cell (a conventional cubic cell) is scaled to zero pressure; a slab of at least
    ``min_thickness`` Å with ``vacuum`` Å on each side is cut along ``miller`` and relaxed
    at fixed cell. The bulk energy per atom is that of the scaled cell itself (all atoms of
    a perfect crystal are alike), so the view computes
    γ = (E_slab − N_slab · E_bulk / N_bulk) / 2A.

    Parameters
    ----------
    miller
        The facet, e.g. ``(1, 1, 0)``.
    min_thickness
        Smallest slab thickness (Å); whole stacking units are added until it is reached.
    vacuum
        Vacuum on each side of the slab (Å).
    fmax
        Force threshold of the relaxation (eV/Å).
    max_steps
        Step limit; reaching it fails the task.

    Notes
    -----
    Properties: ``energy_bulk``, ``n_atoms_bulk``, ``energy_slab``, ``n_atoms_slab``,
    ``area`` (Å², one face), ``n_steps``, ``scale``. The frame is the relaxed slab and the
    result's energy is its energy (no forces: they would not match the input structure).
    """

    miller: tuple[int, int, int] = (1, 0, 0)
    min_thickness: float = 10.0
    vacuum: float = 10.0
    fmax: float = 0.02
    max_steps: int = 300
    name: ClassVar[str] = "surface_energy"

    def settings(self) -> dict[str, Any]:
        """Return the facet, slab geometry and relaxation settings."""
        return {
            "miller": list(self.miller),
            "min_thickness": self.min_thickness,
            "vacuum": self.vacuum,
            "fmax": self.fmax,
            "max_steps": self.max_steps,
        }

    def slab(self, bulk: Atoms) -> Atoms:
        """Return the unrelaxed slab cut from ``bulk`` (a conventional cubic cell)."""
        unit = surface(bulk, self.miller, 1, periodic=True)
        layers = max(1, math.ceil(self.min_thickness / unit.cell.lengths()[2] - 1e-9))
        return surface(bulk, self.miller, layers, vacuum=self.vacuum, periodic=True)

    def run(self, atoms: Atoms) -> TaskResult:
        """Compute the bulk reference and the relaxed slab."""
        scale = equilibrium_scale(atoms)
        bulk = scaled(atoms, scale)
        energy_bulk = float(bulk.get_potential_energy())
        slab = self.slab(bulk)
        slab.calc = atoms.calc
        n_steps = _relax_positions(slab, fmax=self.fmax, max_steps=self.max_steps)
        energy_slab = float(slab.get_potential_energy())
        cell = slab.cell.array
        return TaskResult(
            energy=energy_slab,
            properties={
                "energy_bulk": energy_bulk,
                "n_atoms_bulk": float(len(bulk)),
                "energy_slab": energy_slab,
                "n_atoms_slab": float(len(slab)),
                "area": float(np.linalg.norm(np.cross(cell[0], cell[1]))),
                "n_steps": float(n_steps),
                "scale": scale,
            },
            frames=[_snapshot(slab)],
        )


def reorder_like(reference: Atoms, atoms: Atoms) -> Atoms:
    """Return ``atoms`` with its atoms reordered to match ``reference`` one to one.

    Atoms of each element are paired by the assignment that minimises the total
    minimum-image distance in ``reference``'s cell, so an end point of a migration written
    with its atoms in another order becomes usable for a NEB.

    Parameters
    ----------
    reference
        The structure whose atom order is kept.
    atoms
        The same atoms (same elements and counts), in any order.

    Returns
    -------
    Atoms
        A copy of ``atoms`` in the order of ``reference``.
    """
    from scipy.optimize import linear_sum_assignment

    if sorted(reference.numbers) != sorted(atoms.numbers):
        raise ValueError("structures to match must hold the same atoms")
    reference_fractions = reference.cell.scaled_positions(reference.positions)
    fractions = reference.cell.scaled_positions(atoms.positions)
    order = np.empty(len(reference), dtype=int)
    for number in np.unique(reference.numbers):
        mine = np.flatnonzero(reference.numbers == number)
        theirs = np.flatnonzero(atoms.numbers == number)
        offsets = reference_fractions[mine][:, None, :] - fractions[theirs][None, :, :]
        offsets -= np.round(offsets) * reference.pbc
        distances = np.linalg.norm(offsets @ reference.cell.array, axis=2)
        rows, columns = linear_sum_assignment(distances)
        order[mine[rows]] = theirs[columns]
    return atoms[order]
