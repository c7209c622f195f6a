"""Task kinds beyond the single point: relaxation, energy–volume scan, NEB and MD.

Each kind follows :class:`mlpeg.calc.tasks.TaskKind`: a frozen dataclass of settings, a
``name``, ``settings()`` (what is hashed to decide whether a task was already done) and
``run(atoms)`` on a structure whose calculator is attached. Output structures (the relaxed
geometry, scan points, NEB images, MD frames) go in ``TaskResult.frames``; scalar results
go in ``TaskResult.properties`` in warehouse units (eV, Å, Å³, eV/Å³, K, fs).

Per-frame values use zero-padded indices so that they sort, e.g. ``energy_003`` is the
energy of ``frames[3]``; :func:`frame_series` reads such a series back.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from ase import Atoms
from ase.filters import FrechetCellFilter
from ase.optimize import BFGS, FIRE, LBFGS, BFGSLineSearch
from ase.optimize.optimize import Optimizer

from mlpeg.calc.tasks import TaskResult
from mlpeg.errors import MlpegError
from mlpeg.structures import structure_hash

#: ASE optimisers a task may name.
OPTIMIZERS: dict[str, type[Optimizer]] = {
    "FIRE": FIRE,
    "BFGS": BFGS,
    "LBFGS": LBFGS,
    "BFGSLineSearch": BFGSLineSearch,
}


class TaskSettingsError(MlpegError):
    """A task kind was given settings it cannot use."""


class NotConverged(RuntimeError):
    """A task that requires convergence did not converge (the row becomes 'failed')."""


def _indexed(prefix: str, values: Sequence[float]) -> dict[str, float]:
    width = max(3, len(str(max(len(values) - 1, 0))))
    return {f"{prefix}_{i:0{width}d}": float(value) for i, value in enumerate(values)}


def frame_series(properties: Mapping[str, float], prefix: str) -> list[float]:
    """Return the per-frame series ``prefix_000, prefix_001, ...`` in frame order.

    Parameters
    ----------
    properties
        A task's properties (a dict, or the pairs a Parquet map column holds).
    prefix
        The series name, e.g. ``energy`` or ``volume``.

    Returns
    -------
    list of float
        The values ordered by their index.
    """
    items = properties.items() if isinstance(properties, Mapping) else properties
    indexed = []
    for key, value in items:
        head, _, index = key.rpartition("_")
        if head == prefix and index.isdigit():
            indexed.append((int(index), float(value)))
    return [value for _, value in sorted(indexed)]


def _optimizer(name: str) -> type[Optimizer]:
    if name not in OPTIMIZERS:
        raise TaskSettingsError(
            f"Unknown optimiser '{name}'; choose one of {', '.join(sorted(OPTIMIZERS))}."
        )
    return OPTIMIZERS[name]


def _snapshot(atoms: Atoms) -> Atoms:
    """Return a copy of the geometry without calculator or constraints."""
    frame = Atoms(
        numbers=atoms.numbers.copy(),
        positions=atoms.positions.copy(),
        cell=atoms.cell.array.copy(),
        pbc=atoms.pbc.copy(),
    )
    frame.info.update(atoms.info)
    return frame


def _max_force(atoms: Atoms) -> float:
    forces = atoms.get_forces()
    return float(np.sqrt((forces**2).sum(axis=1).max())) if len(forces) else 0.0


def _finish_single(atoms: Atoms, result: TaskResult, *, stress: bool) -> TaskResult:
    result.energy = float(atoms.get_potential_energy())
    result.forces = np.asarray(atoms.get_forces(), dtype=float)
    if stress and atoms.pbc.all():
        result.stress = np.asarray(atoms.get_stress(voigt=True), dtype=float)
    return result


@dataclass(frozen=True)
class Relax:
    """Geometry optimisation of positions and, optionally, the cell.

    Parameters
    ----------
    fmax
        Convergence threshold on the largest atomic force (eV/Å); with ``relax_cell``
        it applies to the cell filter's generalised forces (stress × volume) too.
    max_steps
        Step limit; the task stops there and records ``converged = 0``.
    optimizer
        ``FIRE``, ``BFGS``, ``LBFGS`` or ``BFGSLineSearch``.
    relax_cell
        Also relax the cell with ASE's ``FrechetCellFilter``.
    hydrostatic_strain
        With ``relax_cell``: scale the cell only (keep its shape).
    constant_volume
        With ``relax_cell``: keep the volume (shape changes only).
    scalar_pressure
        With ``relax_cell``: external pressure in eV/Å³.
    fix_symmetry
        Keep the space group of the input structure (ASE ``FixSymmetry``, needs spglib).
    require_convergence
        Raise (the row becomes 'failed') when the step limit is reached.
    trajectory_stride
        Keep every n-th optimiser step as an extra frame before the final one (0: only
        the relaxed structure).

    Notes
    -----
    The result holds the relaxed energy, forces and (periodic) stress; properties
    ``converged`` (1 or 0), ``n_steps``, ``energy_initial``, ``fmax_final`` and, for
    periodic cells, ``volume`` and ``volume_initial`` (Å³). ``frames[-1]`` is the relaxed
    structure.
    """

    fmax: float = 0.05
    max_steps: int = 500
    optimizer: str = "FIRE"
    relax_cell: bool = False
    hydrostatic_strain: bool = False
    constant_volume: bool = False
    scalar_pressure: float = 0.0
    fix_symmetry: bool = False
    require_convergence: bool = False
    trajectory_stride: int = 0
    name: ClassVar[str] = "relax"

    def __post_init__(self) -> None:
        _optimizer(self.optimizer)
        if self.fmax <= 0 or self.max_steps < 0 or self.trajectory_stride < 0:
            raise TaskSettingsError(
                "Relax needs fmax > 0, max_steps ≥ 0 and trajectory_stride ≥ 0."
            )

    def settings(self) -> dict[str, Any]:
        """Return every setting (all change the result)."""
        return {
            "fmax": self.fmax,
            "max_steps": self.max_steps,
            "optimizer": self.optimizer,
            "relax_cell": self.relax_cell,
            "hydrostatic_strain": self.hydrostatic_strain,
            "constant_volume": self.constant_volume,
            "scalar_pressure": self.scalar_pressure,
            "fix_symmetry": self.fix_symmetry,
            "require_convergence": self.require_convergence,
            "trajectory_stride": self.trajectory_stride,
        }

    def run(self, atoms: Atoms) -> TaskResult:
        """Relax ``atoms`` in place and return the relaxed energy, forces and frames."""
        result = TaskResult()
        periodic = bool(atoms.pbc.all())
        if self.relax_cell and not periodic:
            raise TaskSettingsError("Relax(relax_cell=True) needs a fully periodic structure.")
        energy_initial = float(atoms.get_potential_energy())
        volume_initial = float(atoms.get_volume()) if periodic else None
        if self.fix_symmetry:
            from ase.constraints import FixSymmetry

            atoms.set_constraint(FixSymmetry(atoms))
        target: Any = atoms
        if self.relax_cell:
            target = FrechetCellFilter(
                atoms,
                hydrostatic_strain=self.hydrostatic_strain,
                constant_volume=self.constant_volume,
                scalar_pressure=self.scalar_pressure,
            )
        optimizer = _optimizer(self.optimizer)(target, logfile=None)
        if self.trajectory_stride:
            stride = self.trajectory_stride
            optimizer.attach(lambda: result.frames.append(_snapshot(atoms)), interval=stride)
        converged = bool(optimizer.run(fmax=self.fmax, steps=self.max_steps))
        if self.require_convergence and not converged:
            raise NotConverged(
                f"relaxation did not reach fmax {self.fmax} eV/Å in {self.max_steps} steps"
            )
        atoms.set_constraint()
        _finish_single(atoms, result, stress=True)
        result.frames.append(_snapshot(atoms))
        result.properties = {
            "converged": float(converged),
            "n_steps": float(optimizer.nsteps),
            "energy_initial": energy_initial,
            "fmax_final": _max_force(atoms),
        }
        if periodic:
            result.properties["volume_initial"] = volume_initial
            result.properties["volume"] = float(atoms.get_volume())
        return result


@dataclass(frozen=True)
class EnergyVolumeScan:
    """Energies of isotropically strained copies of a periodic structure.

    Parameters
    ----------
    strains
        Linear strains ε; each point scales the cell (and fractional positions with it)
        by 1 + ε, so its volume is V₀ (1 + ε)³.
    relax_positions
        Relax atomic positions at each fixed cell (for structures with free internal
        coordinates).
    fmax
        Force threshold of that relaxation (eV/Å).
    max_steps
        Step limit of that relaxation.
    keep_frames
        Keep each point's structure as a frame.

    Notes
    -----
    Properties hold ``strain_NNN``, ``volume_NNN`` (Å³) and ``energy_NNN`` (eV) per point,
    in the order of ``strains``, plus ``n_points``; the result's ``energy`` is the lowest
    energy of the scan. With ``keep_frames``, ``frames[i]`` is point ``i``.
    """

    strains: tuple[float, ...] = (-0.03, -0.02, -0.01, 0.0, 0.01, 0.02, 0.03)
    relax_positions: bool = False
    fmax: float = 0.01
    max_steps: int = 200
    keep_frames: bool = True
    name: ClassVar[str] = "energy_volume_scan"

    def __post_init__(self) -> None:
        if not self.strains or any(s <= -1 for s in self.strains):
            raise TaskSettingsError("EnergyVolumeScan needs at least one strain, each > -1.")
        object.__setattr__(self, "strains", tuple(float(s) for s in self.strains))

    @classmethod
    def from_volume_factors(cls, factors: Sequence[float], **kwargs: Any) -> EnergyVolumeScan:
        """Build a scan from volume ratios V/V₀ instead of linear strains."""
        return cls(strains=tuple(float(f) ** (1 / 3) - 1 for f in factors), **kwargs)

    def settings(self) -> dict[str, Any]:
        """Return every setting (all change the result)."""
        return {
            "strains": list(self.strains),
            "relax_positions": self.relax_positions,
            "fmax": self.fmax if self.relax_positions else None,
            "max_steps": self.max_steps if self.relax_positions else None,
            "keep_frames": self.keep_frames,
        }

    def run(self, atoms: Atoms) -> TaskResult:
        """Compute the energy at each strain and return the whole curve."""
        if not atoms.pbc.all():
            raise TaskSettingsError("EnergyVolumeScan needs a fully periodic structure.")
        calc = atoms.calc
        reference_cell = atoms.cell.array.copy()
        volumes, energies, frames = [], [], []
        for strain in self.strains:
            point = atoms.copy()
            point.calc = calc
            point.set_cell(reference_cell * (1.0 + strain), scale_atoms=True)
            if self.relax_positions:
                FIRE(point, logfile=None).run(fmax=self.fmax, steps=self.max_steps)
            energies.append(float(point.get_potential_energy()))
            volumes.append(float(point.get_volume()))
            if self.keep_frames:
                frames.append(_snapshot(point))
        result = TaskResult(energy=min(energies), frames=frames)
        result.properties = {
            **_indexed("strain", self.strains),
            **_indexed("volume", volumes),
            **_indexed("energy", energies),
            "n_points": float(len(energies)),
        }
        return result


@dataclass(frozen=True, eq=False)
class NEB:
    """Nudged elastic band from the task's structure to ``final`` (ASE, climbing image).

    Parameters
    ----------
    final
        The end point (same atoms in the same order as the task's structure).
    n_images
        Intermediate images between the end points.
    climb
        Use the climbing-image method (the highest image climbs to the saddle point).
    fmax
        Convergence threshold on the NEB forces (eV/Å).
    max_steps
        Step limit of the band optimisation; 0 computes single points on the interpolated
        images without optimising them (a fixed band).
    optimizer
        ``FIRE``, ``BFGS``, ``LBFGS`` or ``BFGSLineSearch``.
    spring
        Spring constant between images (eV/Å²).
    interpolation
        ``linear`` or ``idpp`` (image-dependent pair potential).
    relax_endpoints
        Relax both end points (positions only) with the model before the band.
    endpoint_fmax
        Force threshold of that end-point relaxation.
    method
        ASE's NEB tangent method: ``aseneb``, ``improvedtangent``, ``eb`` or ``spline``.
    require_convergence
        Raise (the row becomes 'failed') when the step limit is reached.

    Notes
    -----
    ``frames`` are the final images, end points included; properties hold
    ``energy_NNN`` per image, ``barrier`` (highest image minus initial, eV),
    ``barrier_reverse`` (highest minus final), ``reaction_energy`` (final minus
    initial), ``saddle_index``, ``converged`` and ``n_steps``. The result's ``energy``
    and ``forces`` are those of the highest image.
    """

    final: Atoms
    n_images: int = 5
    climb: bool = True
    fmax: float = 0.05
    max_steps: int = 500
    optimizer: str = "FIRE"
    spring: float = 0.1
    interpolation: str = "idpp"
    relax_endpoints: bool = False
    endpoint_fmax: float = 0.01
    method: str = "aseneb"
    require_convergence: bool = False
    name: ClassVar[str] = "neb"

    def __post_init__(self) -> None:
        _optimizer(self.optimizer)
        if self.n_images < 1:
            raise TaskSettingsError("NEB needs at least one intermediate image.")
        if self.interpolation not in ("linear", "idpp"):
            raise TaskSettingsError("NEB interpolation must be 'linear' or 'idpp'.")

    def settings(self) -> dict[str, Any]:
        """Return every setting, the end point by its content hash."""
        return {
            "final": structure_hash(self.final),
            "n_images": self.n_images,
            "climb": self.climb,
            "fmax": self.fmax,
            "max_steps": self.max_steps,
            "optimizer": self.optimizer,
            "spring": self.spring,
            "interpolation": self.interpolation,
            "relax_endpoints": self.relax_endpoints,
            "endpoint_fmax": self.endpoint_fmax if self.relax_endpoints else None,
            "method": self.method,
            "require_convergence": self.require_convergence,
        }

    def run(self, atoms: Atoms) -> TaskResult:
        """Optimise the band and return its images, energies and barrier."""
        from ase import mep

        if len(self.final) != len(atoms) or (self.final.numbers != atoms.numbers).any():
            raise TaskSettingsError("NEB end points must hold the same atoms in the same order.")
        calc = atoms.calc
        initial = atoms
        final = self.final.copy()
        final.calc = calc
        if self.relax_endpoints:
            for end in (initial, final):
                FIRE(end, logfile=None).run(fmax=self.endpoint_fmax, steps=self.max_steps)
        images = [initial]
        for _ in range(self.n_images):
            image = initial.copy()
            image.calc = calc
            images.append(image)
        images.append(final)
        band = mep.NEB(
            images,
            k=self.spring,
            climb=self.climb,
            method=self.method,
            allow_shared_calculator=True,
        )
        periodic = bool(initial.pbc.any())
        if self.interpolation == "idpp":
            band.interpolate(method="idpp", mic=periodic)
        else:
            band.interpolate(mic=periodic)
        n_steps = 0
        converged = False
        if self.max_steps > 0:  # max_steps 0: single points on the interpolated images
            optimizer = _optimizer(self.optimizer)(band, logfile=None)
            converged = bool(optimizer.run(fmax=self.fmax, steps=self.max_steps))
            n_steps = optimizer.nsteps
        if self.require_convergence and not converged:
            raise NotConverged(f"NEB did not reach fmax {self.fmax} eV/Å in {self.max_steps} steps")
        energies = [float(image.get_potential_energy()) for image in images]
        saddle = int(np.argmax(energies))
        result = TaskResult(
            energy=energies[saddle],
            forces=np.asarray(images[saddle].get_forces(), dtype=float),
            frames=[_snapshot(image) for image in images],
        )
        result.properties = {
            **_indexed("energy", energies),
            "barrier": energies[saddle] - energies[0],
            "barrier_reverse": energies[saddle] - energies[-1],
            "reaction_energy": energies[-1] - energies[0],
            "saddle_index": float(saddle),
            "converged": float(converged),
            "n_steps": float(n_steps),
        }
        return result


#: Ensembles :class:`MolecularDynamics` can run.
ENSEMBLES = ("nve", "nvt", "npt")


@dataclass(frozen=True)
class MolecularDynamics:
    """Molecular dynamics: NVE (velocity Verlet), NVT (Langevin) or NPT (MTK chains).

    Parameters
    ----------
    ensemble
        ``nve``, ``nvt`` or ``npt``.
    n_steps
        Number of MD steps.
    timestep_fs
        Time step in fs.
    temperature_K
        Initial (Maxwell–Boltzmann) and, for NVT/NPT, target temperature in K.
    friction_per_fs
        Langevin friction for NVT, in 1/fs.
    pressure
        NPT target pressure in eV/Å³.
    tdamp_fs, pdamp_fs
        NPT thermostat and barostat time constants in fs.
    frame_stride
        Keep every n-th step as a frame (step 0 included).
    seed
        Seed of the initial velocities and of the Langevin noise (runs are repeatable).
    relax_fmax
        If set, first relax the positions (fixed cell, LBFGS) to this largest force in
        eV/Å, as ML-PEG does before some trajectories; None (the default) starts the
        trajectory from the structure as given.
    relax_max_steps
        Most LBFGS steps of that relaxation; the trajectory starts from where it stopped
        whether or not it converged (``relax_converged`` says which).

    Notes
    -----
    Properties hold per frame ``epot_NNN``, ``ekin_NNN`` (eV), ``temperature_NNN`` (K),
    ``time_NNN`` (fs) and, for NPT, ``volume_NNN`` (Å³); plus ``temperature_mean`` and
    ``etotal_drift_per_atom`` (last minus first frame, eV/atom); with ``relax_fmax``, also
    ``relax_steps`` and ``relax_converged`` (1 or 0). The result's energy and forces are
    those of the last step.
    """

    ensemble: str = "nvt"
    n_steps: int = 100
    timestep_fs: float = 1.0
    temperature_K: float = 300.0  # noqa: N815 (ASE's spelling)
    friction_per_fs: float = 0.01
    pressure: float = 0.0
    tdamp_fs: float = 100.0
    pdamp_fs: float = 1000.0
    frame_stride: int = 10
    seed: int = 0
    relax_fmax: float | None = None
    relax_max_steps: int = 1000
    name: ClassVar[str] = "molecular_dynamics"

    def __post_init__(self) -> None:
        if self.ensemble not in ENSEMBLES:
            raise TaskSettingsError(
                f"Unknown ensemble '{self.ensemble}'; choose one of {', '.join(ENSEMBLES)}."
            )
        if self.n_steps < 0 or self.frame_stride < 1 or self.timestep_fs <= 0:
            raise TaskSettingsError(
                "MolecularDynamics needs n_steps ≥ 0, frame_stride ≥ 1 and timestep_fs > 0."
            )
        if self.relax_fmax is not None and (self.relax_fmax <= 0 or self.relax_max_steps < 1):
            raise TaskSettingsError(
                "MolecularDynamics needs relax_fmax > 0 and relax_max_steps ≥ 1 to relax first."
            )

    def settings(self) -> dict[str, Any]:
        """Return the settings that matter for the chosen ensemble."""
        settings: dict[str, Any] = {
            "ensemble": self.ensemble,
            "n_steps": self.n_steps,
            "timestep_fs": self.timestep_fs,
            "temperature_K": self.temperature_K,
            "frame_stride": self.frame_stride,
            "seed": self.seed,
        }
        if self.ensemble == "nvt":
            settings["friction_per_fs"] = self.friction_per_fs
        if self.ensemble == "npt":
            settings.update(pressure=self.pressure, tdamp_fs=self.tdamp_fs, pdamp_fs=self.pdamp_fs)
        if self.relax_fmax is not None:  # absent otherwise: earlier tasks keep their hashes
            settings.update(relax_fmax=self.relax_fmax, relax_max_steps=self.relax_max_steps)
        return settings

    def _dynamics(self, atoms: Atoms, rng: np.random.Generator) -> Any:
        from ase import units

        timestep = self.timestep_fs * units.fs
        if self.ensemble == "nve":
            from ase.md.verlet import VelocityVerlet

            return VelocityVerlet(atoms, timestep=timestep, logfile=None)
        if self.ensemble == "nvt":
            from ase.md.langevin import Langevin

            return Langevin(
                atoms,
                timestep=timestep,
                temperature_K=self.temperature_K,
                friction=self.friction_per_fs / units.fs,
                fixcm=False,
                rng=rng,
                logfile=None,
            )
        if not atoms.pbc.all():
            raise TaskSettingsError("NPT molecular dynamics needs a fully periodic structure.")
        from ase.md.nose_hoover_chain import IsotropicMTKNPT

        return IsotropicMTKNPT(
            atoms,
            timestep=timestep,
            temperature_K=self.temperature_K,
            pressure_au=self.pressure,
            tdamp=self.tdamp_fs * units.fs,
            pdamp=self.pdamp_fs * units.fs,
            logfile=None,
        )

    def run(self, atoms: Atoms) -> TaskResult:
        """Run the trajectory and return its frames and per-frame energies."""
        from ase.md.velocitydistribution import MaxwellBoltzmannDistribution, Stationary

        relaxation: dict[str, float] = {}
        if self.relax_fmax is not None:
            optimizer = LBFGS(atoms, logfile=None)
            converged = bool(optimizer.run(fmax=self.relax_fmax, steps=self.relax_max_steps))
            relaxation = {
                "relax_steps": float(optimizer.nsteps),
                "relax_converged": float(converged),
            }
        rng = np.random.default_rng(self.seed)
        if self.temperature_K > 0:
            MaxwellBoltzmannDistribution(atoms, temperature_K=self.temperature_K, rng=rng)
            Stationary(atoms)
        dynamics = self._dynamics(atoms, rng)
        frames: list[Atoms] = []
        steps: list[int] = []
        series: dict[str, list[float]] = {
            "time": [],
            "epot": [],
            "ekin": [],
            "temperature": [],
            "volume": [],
        }

        def record() -> None:
            frames.append(_snapshot(atoms))
            steps.append(dynamics.nsteps)
            series["time"].append(dynamics.nsteps * self.timestep_fs)
            series["epot"].append(float(atoms.get_potential_energy()))
            series["ekin"].append(float(atoms.get_kinetic_energy()))
            series["temperature"].append(float(atoms.get_temperature()))
            if self.ensemble == "npt":
                series["volume"].append(float(atoms.get_volume()))

        dynamics.attach(record, interval=self.frame_stride)
        dynamics.run(self.n_steps)
        if not steps or steps[-1] != dynamics.nsteps:
            record()  # always keep the last step
        result = TaskResult(frames=frames)
        _finish_single(atoms, result, stress=self.ensemble == "npt")
        etotal = np.add(series["epot"], series["ekin"])
        result.properties = {
            key: value
            for name, values in series.items()
            if values
            for key, value in _indexed(name, values).items()
        }
        result.properties["temperature_mean"] = float(np.mean(series["temperature"]))
        result.properties["etotal_drift_per_atom"] = float(
            (etotal[-1] - etotal[0]) / max(len(atoms), 1)
        )
        result.properties["n_frames"] = float(len(frames))
        result.properties.update(relaxation)
        if not math.isfinite(result.properties["etotal_drift_per_atom"]):
            raise FloatingPointError("molecular dynamics diverged (non-finite energy)")
        return result
