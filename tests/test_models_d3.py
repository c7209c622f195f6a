"""D3(BJ) added to models: both backends, the published water-dimer value, the sum."""

from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms
from ase.calculators.calculator import Calculator, all_changes
from ase.data.s22 import create_s22_system

from mlpeg.models import registry
from mlpeg.models.d3 import add_d3, d3_calculator
from mlpeg.models.mock import ZeroCalculator
from mlpeg.models.prepare import PreparedCalculator

#: D3(BJ)-PBE dispersion energy of the S22 water dimer (simple-dftd3 and torch-dftd agree).
WATER_DIMER_D3BJ_PBE_EV = -0.037527


@pytest.mark.parametrize("backend", ["dftd3", "torch-dftd"])
def test_water_dimer_d3bj_pbe(backend):
    dimer = create_s22_system("Water_dimer")
    dimer.calc = d3_calculator(backend=backend)
    assert round(dimer.get_potential_energy(), 6) == WATER_DIMER_D3BJ_PBE_EV
    forces = dimer.get_forces()
    np.testing.assert_allclose(forces.sum(axis=0), 0.0, atol=1e-10)  # no net force
    assert np.abs(forces).max() > 1e-4


def test_backends_agree_on_a_periodic_cell():
    cell = Atoms(
        "CO2CO2",
        scaled_positions=[
            [0.0, 0.0, 0.0],
            [0.1, 0.1, 0.1],
            [0.9, 0.9, 0.9],
            [0.5, 0.5, 0.0],
            [0.6, 0.4, 0.9],
            [0.4, 0.6, 0.1],
        ],
        cell=[5.6, 5.6, 5.6],
        pbc=True,
    )
    results = {}
    for backend in ("dftd3", "torch-dftd"):
        atoms = cell.copy()
        atoms.calc = d3_calculator(backend=backend)
        results[backend] = (atoms.get_potential_energy(), atoms.get_forces(), atoms.get_stress())
    (e1, f1, s1), (e2, f2, s2) = results["dftd3"], results["torch-dftd"]
    assert e1 < -0.1  # dispersion binds
    assert e2 == pytest.approx(e1, abs=1e-6)
    np.testing.assert_allclose(f2, f1, atol=1e-6)
    np.testing.assert_allclose(s2, s1, atol=1e-7)


def test_d3_is_added_to_the_model():
    dimer = create_s22_system("Water_dimer")
    dimer.calc = add_d3(ZeroCalculator())
    assert round(dimer.get_potential_energy(), 6) == WATER_DIMER_D3BJ_PBE_EV
    alone = dimer.copy()
    alone.calc = d3_calculator()
    np.testing.assert_allclose(dimer.get_forces(), alone.get_forces(), atol=1e-12)


class ChargeEnergy(Calculator):
    """Energy equal to the total charge in atoms.info: shows what reaches a model."""

    implemented_properties = ("energy", "forces")

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        self.results = {
            "energy": float(self.atoms.info["charge"]) + 0.001 * self.atoms.info["spin"],
            "forces": np.zeros((len(self.atoms), 3)),
        }


def test_charge_and_spin_reach_the_model_through_d3_and_are_never_cached_across():
    calc = add_d3(PreparedCalculator(ChargeEnergy(), charge_spin=True))
    dimer = create_s22_system("Water_dimer")
    energies = []
    for info in ({}, {"charge": 1, "spin": 2}, {"charge": -1, "multiplicity": 2}, {}):
        atoms = dimer.copy()
        atoms.info.update(info)
        atoms.calc = calc  # one calculator, one geometry, different charge and spin
        energies.append(atoms.get_potential_energy() - WATER_DIMER_D3BJ_PBE_EV)
    np.testing.assert_allclose(energies, [0.001, 1.002, -0.998, 0.001], atol=1e-6)


def test_default_models_are_scored_with_d3_on_x23():
    from mlpeg import catalog

    x23 = catalog.get_benchmark("X23")
    choices = [spec.declared_dispersion(x23.dispersion) for spec in registry.default_models()]
    assert choices == ["d3bj", "d3bj"]  # trained without dispersion: D3(BJ) added on X23
    assert registry.get_model("MACE-OFF23(L)").declared_dispersion(x23.dispersion) == "none"
