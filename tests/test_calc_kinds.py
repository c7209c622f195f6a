"""Task kinds checked against independent calculations with cheap deterministic models."""

from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk
from ase.calculators.calculator import Calculator, all_changes
from ase.calculators.emt import EMT
from ase.eos import EquationOfState

from mlpeg.calc.kinds import (
    NEB,
    EnergyVolumeScan,
    MolecularDynamics,
    NotConverged,
    Relax,
    TaskSettingsError,
    frame_series,
)
from mlpeg.calc.tasks import settings_hash


@pytest.fixture(autouse=True)
def _one_blas_thread():
    """Small BLAS calls (EMT, optimisers) are much slower with threads fighting for cores."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(1):
        yield


def emt_cu_lattice_constant() -> tuple[float, float]:
    """EMT's fcc Cu lattice constant and energy per atom, from an EOS fit of perfect cells."""
    volumes, energies = [], []
    for a in np.linspace(3.55, 3.63, 9):
        atoms = bulk("Cu", "fcc", a=a, cubic=True)
        atoms.calc = EMT()
        volumes.append(atoms.get_volume() / len(atoms))
        energies.append(atoms.get_potential_energy() / len(atoms))
    v0, e0, _ = EquationOfState(volumes, energies, eos="birchmurnaghan").fit()
    return (4 * v0) ** (1 / 3), e0


def test_relax_rattled_cu_reaches_the_emt_lattice_constant_and_energy():
    a0, e0 = emt_cu_lattice_constant()
    atoms = bulk("Cu", "fcc", a=3.70, cubic=True).repeat(2)  # 32 atoms, 3 % too large
    atoms.rattle(stdev=0.05, seed=1)
    atoms.calc = EMT()
    kind = Relax(fmax=1e-3, max_steps=1000, relax_cell=True, optimizer="LBFGS")
    result = kind.run(atoms)
    n_atoms = len(atoms)
    a_relaxed = (4 * result.properties["volume"] / n_atoms) ** (1 / 3)
    assert a_relaxed == pytest.approx(a0, abs=2e-3)
    assert result.energy / n_atoms == pytest.approx(e0, abs=2e-4)
    assert result.properties["converged"] == 1.0
    assert 0 < result.properties["n_steps"] <= 1000
    assert result.properties["energy_initial"] > result.energy
    assert result.properties["fmax_final"] < 1e-3
    assert np.abs(result.stress).max() < 1e-3  # eV/Å³: the cell is relaxed too
    relaxed = result.frames[-1]
    assert relaxed.calc is None
    np.testing.assert_allclose(relaxed.positions, atoms.positions)
    np.testing.assert_allclose(relaxed.cell.array, atoms.cell.array)


def test_relax_positions_only_keeps_the_cell_and_matches_plain_ase():
    from ase.optimize import BFGS

    start = bulk("Cu", "fcc", a=3.6, cubic=True).repeat((1, 1, 2))
    start.rattle(stdev=0.05, seed=3)
    ours = start.copy()
    ours.calc = EMT()
    result = Relax(fmax=0.01, optimizer="BFGS").run(ours)
    theirs = start.copy()
    theirs.calc = EMT()
    BFGS(theirs, logfile=None).run(fmax=0.01)
    assert result.energy == pytest.approx(theirs.get_potential_energy(), abs=1e-9)
    np.testing.assert_allclose(result.frames[-1].cell.array, start.cell.array)
    assert result.properties["volume"] == pytest.approx(start.get_volume())


def test_relax_step_limit_is_recorded_or_raised():
    atoms = _with_emt(bulk("Cu", "fcc", a=3.6, cubic=True))
    atoms.rattle(stdev=0.1, seed=2)
    result = Relax(fmax=1e-4, max_steps=3, trajectory_stride=1).run(_with_emt(atoms.copy()))
    assert result.properties["converged"] == 0.0
    assert result.properties["n_steps"] == 3
    assert len(result.frames) == 4 + 1  # steps 0..3, then the final structure
    with pytest.raises(NotConverged):
        Relax(fmax=1e-4, max_steps=3, require_convergence=True).run(atoms)


def test_relax_rejects_bad_settings():
    with pytest.raises(TaskSettingsError, match="Unknown optimiser"):
        Relax(optimizer="Newton")
    molecule = Atoms("H2", positions=[[0, 0, 0], [0, 0, 0.8]])
    molecule.calc = EMT()
    with pytest.raises(TaskSettingsError, match="periodic"):
        Relax(relax_cell=True).run(molecule)


def _with_emt(atoms: Atoms) -> Atoms:
    atoms.calc = EMT()
    return atoms


def test_energy_volume_scan_matches_directly_strained_cells():
    a = 3.6
    strains = (-0.02, 0.0, 0.01, 0.03)
    atoms = _with_emt(bulk("Cu", "fcc", a=a))
    result = EnergyVolumeScan(strains=strains).run(atoms)
    volumes = frame_series(result.properties, "volume")
    energies = frame_series(result.properties, "energy")
    for strain, volume, energy in zip(strains, volumes, energies, strict=True):
        direct = _with_emt(bulk("Cu", "fcc", a=a * (1 + strain)))
        assert volume == pytest.approx(a**3 / 4 * (1 + strain) ** 3, rel=1e-12)
        assert energy == pytest.approx(direct.get_potential_energy(), abs=1e-10)
    assert frame_series(result.properties, "strain") == list(strains)
    assert result.energy == min(energies)
    assert len(result.frames) == len(strains)
    assert result.frames[1].get_volume() == pytest.approx(volumes[1])
    scan = EnergyVolumeScan.from_volume_factors([0.94, 1.0, 1.06], keep_frames=False)
    volumes = frame_series(scan.run(_with_emt(bulk("Cu", "fcc", a=a))).properties, "volume")
    np.testing.assert_allclose(volumes, np.array([0.94, 1.0, 1.06]) * a**3 / 4, rtol=1e-12)


class DoubleWell(Calculator):
    """E = h (x² − 1)² + t x + k (y² + z²) on atom 0; the other atoms feel nothing."""

    implemented_properties = ("energy", "forces")

    def __init__(self, height: float, tilt: float, stiffness: float = 1.0):
        super().__init__()
        self.height, self.tilt, self.stiffness = height, tilt, stiffness

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        x, y, z = self.atoms.positions[0]
        h, t, k = self.height, self.tilt, self.stiffness
        forces = np.zeros((len(self.atoms), 3))
        forces[0] = [-(4 * h * x * (x * x - 1) + t), -2 * k * y, -2 * k * z]
        self.results = {"energy": h * (x * x - 1) ** 2 + t * x + k * (y * y + z * z)}
        self.results["forces"] = forces


def _well_minimum(h: float, t: float, near: float) -> float:
    roots = np.roots([4 * h, 0, -4 * h, t])
    real = roots[np.isclose(roots.imag, 0)].real
    return float(real[np.argmin(np.abs(real - near))])


def test_climbing_image_neb_finds_the_analytic_saddle_of_a_tilted_double_well():
    h, t = 0.5, 0.1
    energy = lambda x: h * (x * x - 1) ** 2 + t * x  # noqa: E731
    x_left, x_saddle, x_right = (_well_minimum(h, t, near) for near in (-1, 0, 1))
    initial = Atoms("H", positions=[[x_left, 0.3, 0.0]])  # off the path: the band must relax
    final = Atoms("H", positions=[[x_right, -0.2, 0.0]])
    initial.calc = DoubleWell(h, t)
    kind = NEB(final=final, n_images=5, fmax=1e-3, max_steps=2000, interpolation="linear")
    result = kind.run(initial)
    props = result.properties
    assert props["converged"] == 1.0
    image_energies = frame_series(props, "energy")
    assert len(image_energies) == len(result.frames) == 7
    # The end points stay where they were put (with their y offsets).
    assert image_energies[0] == pytest.approx(energy(x_left) + 0.09, abs=1e-12)
    assert image_energies[-1] == pytest.approx(energy(x_right) + 0.04, abs=1e-12)
    saddle = result.frames[int(props["saddle_index"])]
    assert saddle.positions[0, 0] == pytest.approx(x_saddle, abs=2e-3)
    assert result.energy == pytest.approx(energy(x_saddle), abs=1e-5)
    assert props["barrier"] == pytest.approx(energy(x_saddle) - image_energies[0], abs=1e-5)
    assert props["reaction_energy"] == pytest.approx(image_energies[-1] - image_energies[0])
    # Without the climbing image the highest image sits below the saddle.
    plain = NEB(final=final, n_images=4, climb=False, fmax=1e-3, interpolation="linear")
    initial.calc = DoubleWell(h, t)
    assert plain.run(initial).energy < energy(x_saddle) - 1e-4


def test_neb_with_relaxed_end_points_and_idpp_on_an_emt_adatom_hop():
    from ase.build import add_adsorbate, fcc100
    from ase.constraints import FixAtoms

    def slab_with_adatom(shift: float) -> Atoms:
        slab = fcc100("Al", size=(2, 2, 2), vacuum=5.0)
        add_adsorbate(slab, "Al", 1.7, "hollow")
        slab.positions[-1, 0] += shift
        slab.set_constraint(FixAtoms(indices=range(4)))
        return slab

    spacing = 4.05 / np.sqrt(2)  # hollow to the next hollow site, over a bridge
    initial = _with_emt(slab_with_adatom(0.0))
    final = slab_with_adatom(spacing)
    kind = NEB(final=final, n_images=3, fmax=0.05, relax_endpoints=True, max_steps=300)
    result = kind.run(initial)
    props = result.properties
    # Both ends are equivalent hollow sites: a symmetric path with a positive barrier.
    assert props["reaction_energy"] == pytest.approx(0.0, abs=5e-3)
    assert 0.1 < props["barrier"] < 1.0
    assert props["saddle_index"] == 2.0
    assert props["converged"] == 1.0


def test_neb_settings_hash_follows_the_end_point_content():
    a = Atoms("H", positions=[[1.0, 0, 0]])
    b = Atoms("H", positions=[[1.0, 0, 0]])
    c = Atoms("H", positions=[[1.1, 0, 0]])
    assert settings_hash(NEB(final=a)) == settings_hash(NEB(final=b))
    assert settings_hash(NEB(final=a)) != settings_hash(NEB(final=c))
    assert settings_hash(NEB(final=a)) != settings_hash(NEB(final=a, climb=False))


def test_neb_rejects_mismatched_end_points():
    initial = Atoms("H2", positions=[[0, 0, 0], [0, 0, 1]])
    initial.calc = EMT()
    with pytest.raises(TaskSettingsError, match="same atoms"):
        NEB(final=Atoms("H", positions=[[0, 0, 0]])).run(initial)


def _md_cell() -> Atoms:
    atoms = bulk("Cu", "fcc", a=3.6, cubic=True).repeat(2)
    atoms.calc = EMT()
    return atoms


def test_nve_conserves_energy_and_keeps_strided_frames():
    kind = MolecularDynamics(
        ensemble="nve", n_steps=40, timestep_fs=2.0, temperature_K=300, frame_stride=10, seed=4
    )
    result = kind.run(_md_cell())
    props = result.properties
    assert len(result.frames) == props["n_frames"] == 5  # steps 0, 10, 20, 30, 40
    assert frame_series(props, "time") == [0.0, 20.0, 40.0, 60.0, 80.0]
    assert abs(props["etotal_drift_per_atom"]) < 1e-3
    temperatures = frame_series(props, "temperature")
    assert temperatures[0] == pytest.approx(300, rel=0.5)  # 32 atoms: a broad distribution
    assert props["temperature_mean"] == pytest.approx(np.mean(temperatures))
    final = result.frames[-1]
    direct = _md_cell()
    direct.positions = final.positions
    assert result.energy == pytest.approx(direct.get_potential_energy(), abs=1e-10)


def test_langevin_md_is_repeatable_with_a_seed_and_differs_without():
    kind = MolecularDynamics(ensemble="nvt", n_steps=10, frame_stride=5, seed=7)
    first, again = kind.run(_md_cell()), kind.run(_md_cell())
    other = MolecularDynamics(ensemble="nvt", n_steps=10, frame_stride=5, seed=8).run(_md_cell())
    np.testing.assert_array_equal(first.frames[-1].positions, again.frames[-1].positions)
    assert not np.allclose(first.frames[-1].positions, other.frames[-1].positions)
    assert len(first.frames) == 3


def test_npt_md_moves_the_volume_and_records_it():
    kind = MolecularDynamics(
        ensemble="npt",
        n_steps=20,
        frame_stride=10,
        pressure=0.0,
        temperature_K=300,
        tdamp_fs=50,
        pdamp_fs=200,
    )
    atoms = _md_cell()
    atoms.set_cell(atoms.cell * 1.03, scale_atoms=True)  # expanded: the barostat shrinks it
    result = kind.run(atoms)
    volumes = frame_series(result.properties, "volume")
    assert len(volumes) == 3
    assert volumes[-1] < volumes[0]
    assert result.stress is not None
    with pytest.raises(TaskSettingsError, match="ensemble"):
        MolecularDynamics(ensemble="nph")


def test_relax_with_fixed_symmetry_keeps_the_cell_cubic():
    a0, _ = emt_cu_lattice_constant()
    atoms = _with_emt(bulk("Cu", "fcc", a=3.7, cubic=True))
    result = Relax(fmax=1e-3, relax_cell=True, fix_symmetry=True, optimizer="LBFGS").run(atoms)
    cell = result.frames[-1].cell.array
    np.testing.assert_allclose(cell, np.eye(3) * cell[0, 0], atol=1e-9)
    assert cell[0, 0] == pytest.approx(a0, abs=2e-3)
    assert atoms.constraints == []  # the symmetry constraint does not leak out


def test_md_relaxes_first_when_asked_and_keeps_old_hashes_otherwise():
    plain = MolecularDynamics(ensemble="nvt", n_steps=0, temperature_K=0, frame_stride=1)
    relaxing = MolecularDynamics(
        ensemble="nvt", n_steps=0, temperature_K=0, frame_stride=1, relax_fmax=0.01
    )
    # the new settings stay out of the hash unless used: tasks stored before keep theirs
    assert "relax_fmax" not in plain.settings() and "relax_max_steps" not in plain.settings()
    assert relaxing.settings()["relax_fmax"] == 0.01
    assert settings_hash(relaxing) != settings_hash(plain)

    def rattled() -> Atoms:
        atoms = _md_cell()
        atoms.rattle(0.05, seed=3)
        return atoms

    assert np.abs(rattled().get_forces()).max() > 0.1
    result = relaxing.run(rattled())
    props = result.properties
    assert props["relax_converged"] == 1.0 and props["relax_steps"] >= 1
    # the trajectory (here only step 0) starts from the relaxed positions
    assert np.sqrt((result.forces**2).sum(axis=1)).max() < 0.01
    assert "relax_steps" not in plain.run(rattled()).properties
    capped = MolecularDynamics(n_steps=0, temperature_K=0, relax_fmax=1e-6, relax_max_steps=2)
    props = capped.run(rattled()).properties
    assert (props["relax_converged"], props["relax_steps"]) == (0.0, 2.0)
    with pytest.raises(TaskSettingsError, match="relax_fmax"):
        MolecularDynamics(relax_fmax=0.0)
