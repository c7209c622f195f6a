"""Full elastic tensors from stress–strain fits, and their Voigt–Reuss–Hill moduli.

:class:`ElasticTensor` relaxes a crystal (cell and positions), applies each of the six
Voigt strains at a few magnitudes, relaxes the atoms at each fixed strained cell, and fits
the stresses linearly: C_ij = dσ_i/dε_j (ASE's stress sign: positive under tension). The
6×6 matrix is symmetrised; :func:`voigt_reuss_hill` turns it into bulk and shear moduli.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from ase import Atoms
from ase.filters import FrechetCellFilter
from ase.optimize import BFGS, FIRE

from mlpeg.calc.kinds import NotConverged, TaskSettingsError
from mlpeg.calc.tasks import TaskResult

#: Voigt order: xx, yy, zz, yz, xz, xy.
VOIGT_PAIRS = ((0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1))


def voigt_reuss_hill(c: np.ndarray) -> dict[str, float]:
    """Return Voigt, Reuss and Hill bulk and shear moduli of a 6×6 stiffness matrix.

    Parameters
    ----------
    c
        Stiffness in Voigt notation (engineering shear strains), any unit.

    Returns
    -------
    dict
        ``k_voigt``, ``g_voigt``, ``k_reuss``, ``g_reuss``, ``k_vrh``, ``g_vrh`` in the
        unit of ``c``. The Reuss bounds are NaN when ``c`` is singular.

    Notes
    -----
    K_V = [(C11 + C22 + C33) + 2 (C12 + C23 + C31)] / 9,
    G_V = [(C11 + C22 + C33) − (C12 + C23 + C31) + 3 (C44 + C55 + C66)] / 15,
    with S = C⁻¹: K_R = 1 / [(S11 + S22 + S33) + 2 (S12 + S23 + S31)],
    G_R = 15 / [4 (S11 + S22 + S33) − 4 (S12 + S23 + S31) + 3 (S44 + S55 + S66)],
    and the Hill values are the means of the two bounds.
    """
    c = np.asarray(c, dtype=float)
    diagonal = c[0, 0] + c[1, 1] + c[2, 2]
    off = c[0, 1] + c[1, 2] + c[2, 0]
    shear = c[3, 3] + c[4, 4] + c[5, 5]
    k_voigt = (diagonal + 2 * off) / 9
    g_voigt = (diagonal - off + 3 * shear) / 15
    try:
        s = np.linalg.inv(c)
        k_reuss = 1 / (s[0, 0] + s[1, 1] + s[2, 2] + 2 * (s[0, 1] + s[1, 2] + s[2, 0]))
        g_reuss = 15 / (
            4 * (s[0, 0] + s[1, 1] + s[2, 2])
            - 4 * (s[0, 1] + s[1, 2] + s[2, 0])
            + 3 * (s[3, 3] + s[4, 4] + s[5, 5])
        )
    except np.linalg.LinAlgError:
        k_reuss = g_reuss = float("nan")
    return {
        "k_voigt": float(k_voigt),
        "g_voigt": float(g_voigt),
        "k_reuss": float(k_reuss),
        "g_reuss": float(g_reuss),
        "k_vrh": float((k_voigt + k_reuss) / 2),
        "g_vrh": float((g_voigt + g_reuss) / 2),
    }


def strain_matrix(column: int, amplitude: float) -> np.ndarray:
    """Return the symmetric strain tensor of Voigt component ``column`` at ``amplitude``.

    Shear components are engineering strains: γ_yz = 2 ε_yz.
    """
    i, k = VOIGT_PAIRS[column]
    strain = np.zeros((3, 3))
    if i == k:
        strain[i, i] = amplitude
    else:
        strain[i, k] = strain[k, i] = amplitude / 2
    return strain


def fit_stiffness(strains: Sequence[float], stresses: np.ndarray) -> np.ndarray:
    """Fit C_ij = dσ_i/dε_j from stresses at several strains of each Voigt component.

    Parameters
    ----------
    strains
        The n strain magnitudes applied to every component.
    stresses
        Array (6, n, 6): the Voigt stress for component j at strain k.

    Returns
    -------
    numpy.ndarray
        The symmetrised 6×6 stiffness (a least-squares slope per entry, intercept free).
    """
    x = np.asarray(strains, dtype=float)
    x = x - x.mean()
    c = np.empty((6, 6))
    for j in range(6):
        y = stresses[j] - stresses[j].mean(axis=0)
        c[:, j] = x @ y / (x @ x)
    return (c + c.T) / 2


@dataclass(frozen=True)
class ElasticTensor:
    """The 6×6 elastic tensor of a relaxed crystal from strained, ion-relaxed cells.

    Parameters
    ----------
    strains
        Strain magnitudes applied to each of the six Voigt components (shear as
        engineering strain).
    relax_structure
        Relax cell and positions first (FIRE on ASE's ``FrechetCellFilter``).
    relax_deformed
        Relax positions at each strained cell (BFGS).
    fmax
        Force threshold of both relaxations (eV/Å).
    max_steps
        Step limit of each relaxation; reaching it in the first one fails the task.

    Notes
    -----
    Properties (eV/Å³): ``c11`` … ``c66`` (the 21 independent entries, ``cij`` with
    i ≤ j), ``k_voigt``, ``g_voigt``, ``k_reuss``, ``g_reuss``, ``k_vrh``, ``g_vrh`` (the
    Reuss and Hill values absent when the tensor is singular); the relaxed cell's
    ``volume_per_atom`` (Å³), ``a``, ``b``, ``c`` (Å), ``alpha``, ``beta``, ``gamma``
    (degrees), ``energy_per_atom`` (eV) and ``n_steps``; and the relaxed crystal's
    ``primitive_atoms`` and ``primitive_length_1`` … ``_3`` (sorted Niggli-reduced lengths
    of its primitive cell, Å), comparable across cell settings. The frame is
    the relaxed structure, whose energy and stress the result holds.
    """

    strains: tuple[float, ...] = (-0.01, -0.005, 0.005, 0.01)
    relax_structure: bool = True
    relax_deformed: bool = True
    fmax: float = 0.01
    max_steps: int = 500
    name: ClassVar[str] = "elastic_tensor"

    def __post_init__(self) -> None:
        if len(set(self.strains)) < 2:
            raise TaskSettingsError("ElasticTensor needs at least two distinct strains.")
        object.__setattr__(self, "strains", tuple(float(s) for s in self.strains))

    def settings(self) -> dict[str, Any]:
        """Return every setting (all change the result)."""
        return {
            "strains": list(self.strains),
            "relax_structure": self.relax_structure,
            "relax_deformed": self.relax_deformed,
            "fmax": self.fmax,
            "max_steps": self.max_steps,
        }

    def run(self, atoms: Atoms) -> TaskResult:
        """Relax, strain, relax ions, fit the stresses and return C and its moduli."""
        if not atoms.pbc.all():
            raise TaskSettingsError("ElasticTensor needs a fully periodic crystal.")
        calc = atoms.calc
        n_steps = 0
        if self.relax_structure:
            optimizer = FIRE(FrechetCellFilter(atoms), logfile=None)
            if not optimizer.run(fmax=self.fmax, steps=self.max_steps):
                raise NotConverged(
                    f"structure did not reach fmax {self.fmax} eV/Å in {self.max_steps} steps"
                )
            n_steps = int(optimizer.nsteps)
        cell = atoms.cell.array.copy()
        stresses = np.empty((6, len(self.strains), 6))
        for j in range(6):
            for k, amplitude in enumerate(self.strains):
                strained = atoms.copy()
                strained.calc = calc
                deformation = np.eye(3) + strain_matrix(j, amplitude)
                strained.set_cell(cell @ deformation, scale_atoms=True)
                if self.relax_deformed:
                    BFGS(strained, logfile=None).run(fmax=self.fmax, steps=self.max_steps)
                stresses[j, k] = strained.get_stress(voigt=True)
        c = fit_stiffness(self.strains, stresses)
        a, b, c_len, alpha, beta, gamma = atoms.cell.cellpar()
        properties = {f"c{i + 1}{j + 1}": float(c[i, j]) for i in range(6) for j in range(i, 6)}
        # a singular tensor has no Reuss bound: those keys stay absent (NaN is not stored)
        properties.update({k: v for k, v in voigt_reuss_hill(c).items() if np.isfinite(v)})
        n_primitive, lengths = primitive_lengths(atoms)
        properties["primitive_atoms"] = float(n_primitive)
        properties.update({f"primitive_length_{i + 1}": x for i, x in enumerate(lengths)})
        energy = float(atoms.get_potential_energy())
        properties.update(
            volume_per_atom=float(atoms.get_volume() / len(atoms)),
            a=float(a),
            b=float(b),
            c=float(c_len),
            alpha=float(alpha),
            beta=float(beta),
            gamma=float(gamma),
            energy_per_atom=energy / len(atoms),
            n_steps=float(n_steps),
        )
        frame = Atoms(atoms.numbers, atoms.positions, cell=atoms.cell.array, pbc=True)
        frame.info.update(atoms.info)
        return TaskResult(
            energy=energy,
            stress=np.asarray(atoms.get_stress(voigt=True), dtype=float),
            properties=properties,
            frames=[frame],
        )


def primitive_lengths(atoms: Atoms, *, symprec: float = 1e-3) -> tuple[int, list[float]]:
    """Return the atom count and sorted Niggli-reduced lengths of the primitive cell.

    Cell lengths compared across cell settings (a supercell, another choice of primitive
    vectors) must come from one canonical cell: spglib's primitive cell, Niggli-reduced.

    Parameters
    ----------
    atoms
        A periodic crystal.
    symprec
        spglib's symmetry tolerance (Å).

    Returns
    -------
    tuple
        (atoms in the primitive cell, its three lengths in ascending order, Å).
    """
    import spglib
    from ase.cell import Cell

    cell = (atoms.cell.array, atoms.get_scaled_positions(), atoms.numbers)
    found = spglib.standardize_cell(cell, to_primitive=True, no_idealize=True, symprec=symprec)
    lattice, numbers = (
        (found[0], found[2]) if found is not None else (atoms.cell.array, atoms.numbers)
    )
    reduced, _ = Cell(lattice).niggli_reduce()
    return len(numbers), sorted(float(x) for x in reduced.lengths())


def standard_cell(atoms: Atoms, *, primitive: bool = False, symprec: float = 1e-3) -> Atoms:
    """Return spglib's standardised cell of ``atoms`` in its standard orientation.

    Elastic constants depend on the crystal's orientation in the Cartesian frame; this is
    the frame in which tabulated tensors (Materials Project, pymatgen) are given. The
    primitive standardised cell shares the conventional one's orientation, so it gives the
    same tensor with fewer atoms.

    Parameters
    ----------
    atoms
        A periodic crystal.
    primitive
        Return the standardised primitive cell instead of the conventional one.
    symprec
        spglib's symmetry tolerance (Å).
    """
    import spglib

    cell = (atoms.cell.array, atoms.get_scaled_positions(), atoms.numbers)
    found = spglib.standardize_cell(
        cell, to_primitive=primitive, no_idealize=False, symprec=symprec
    )
    if found is None:
        return atoms.copy()
    lattice, positions, numbers = found
    standard = Atoms(numbers=numbers, scaled_positions=positions, cell=lattice, pbc=True)
    standard.info.update(atoms.info)
    return standard
