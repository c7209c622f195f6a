"""Every offline family's registry calculator equals its own package's calculator.

One molecule (water in a box, non-periodic) and one crystal (rattled diamond Si; GeTe
rocksalt for the Ge/Sb/Te MACE) per model: energies to 1e-6 eV, forces to 1e-5 eV/Å,
stress to 1e-6 eV/Å³. Each test builds the model twice, so they are marked slow.
"""

from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk, molecule
from ase.units import Bohr, Hartree
from conftest import MIRROR

from mlpeg.models import registry

MATGL = MIRROR / "materialsvirtuallab/matgl/e9cde2291acd0b4c4a342428e7dd5e4d596b7bf9"
MACE_GE_SB_TE = MIRROR / "ACEsuit/mace/4bb7f799790d2ccf626ea1fbfaa379dd6123ef23/training"
#: GFN2-xTB energy of ASE's water in eV, as tblite's own documentation prints it.
TBLITE_DOCS_WATER_GFN2 = -137.96777625229421


def water() -> Atoms:
    atoms = molecule("H2O")
    atoms.center(vacuum=6.0)
    atoms.pbc = False
    return atoms


def silicon() -> Atoms:
    atoms = bulk("Si", "diamond", a=5.43) * (1, 1, 2)
    atoms.rattle(0.02, seed=4)
    return atoms


def assert_same(model_calc, package_calc, atoms: Atoms) -> None:
    ours, theirs = atoms.copy(), atoms.copy()
    ours.calc, theirs.calc = model_calc, package_calc
    assert ours.get_potential_energy() == pytest.approx(theirs.get_potential_energy(), abs=1e-6)
    np.testing.assert_allclose(ours.get_forces(), theirs.get_forces(), atol=1e-5)
    if atoms.pbc.all():
        np.testing.assert_allclose(ours.get_stress(), theirs.get_stress(), atol=1e-6)


def built(name: str):
    return registry.make_calculator(registry.get_model(name), device="cpu")


@pytest.mark.slow
@pytest.mark.parametrize("name, version", [("chgnet-0.2.0", "0.2.0"), ("chgnet-r2scan", "r2scan")])
def test_chgnet_versions_equal_chgnet_calculator(name, version):
    from chgnet.model import CHGNet, CHGNetCalculator

    package = CHGNetCalculator(CHGNet.load(model_name=version, verbose=False), use_device="cpu")
    ours = built(name)
    for atoms in (water(), silicon()):
        assert_same(ours, package, atoms)


@pytest.mark.slow
@pytest.mark.parametrize(
    "name, checkpoint",
    [("sevennet-0-22may2024", "7net-0_22may2024"), ("sevennet-l3i5", "7net-l3i5")],
)
def test_sevennet_checkpoints_equal_sevenn_calculator(name, checkpoint):
    from mlpeg.models.sevennet import import_e3nn

    import_e3nn()
    from sevenn.calculator import SevenNetCalculator

    package = SevenNetCalculator(checkpoint, device="cpu")
    ours = built(name)
    for atoms in (water(), silicon()):
        assert_same(ours, package, atoms)


@pytest.mark.slow
@pytest.mark.parametrize(
    "name, folder",
    [
        ("tensornet-matpes-pbe", "TensorNet-MatPES-PBE-v2025.1-PES"),
        ("tensornet-matpes-r2scan", "TensorNet-MatPES-r2SCAN-v2025.1-PES"),
        ("m3gnet-matpes-pbe", "M3GNet-MatPES-PBE-v2025.1-PES"),
    ],
)
def test_matgl_potentials_equal_matgl_calculator(name, folder):
    import matgl
    from matgl.ext.ase import PESCalculator

    from mlpeg.models import matgl_legacy

    potential = matgl.load_model(MATGL / "pretrained_models" / folder)
    # trained with matgl <= 2.1.2's convention (test_matgl_conventions checks the values)
    matgl_legacy.apply(potential, "destination")
    package = PESCalculator(potential, stress_unit="eV/A3")
    ours = built(name)
    for atoms in (water(), silicon()):
        assert_same(ours, package, atoms)
    # the pinned files were fetched into the cache and checked, not read in place
    path, sha256 = registry.checkpoint_provenance(registry.get_model(name))
    assert path.endswith(f"{folder}/model.pt") and len(sha256) == 64


@pytest.mark.slow
@pytest.mark.parametrize("name, method", [("gfn2-xtb", "GFN2-xTB"), ("gfn1-xtb", "GFN1-xTB")])
def test_xtb_equals_tblite_on_molecules_crystals_ions_and_radicals(name, method):
    from tblite.ase import TBLite

    ours = built(name)
    for atoms in (water(), silicon()):
        assert_same(ours, TBLite(method=method, verbosity=0), atoms)
    hydroxide = molecule("OH")  # 9 electrons neutral: as an anion, closed shell
    hydroxide.info.update(charge=-1, spin=1)
    assert_same(ours, TBLite(method=method, charge=-1, multiplicity=1, verbosity=0), hydroxide)
    oxygen = molecule("O2")  # triplet ground state: two unpaired electrons
    oxygen.info.update(charge=0, spin=3)
    assert_same(ours, TBLite(method=method, multiplicity=3, verbosity=0), oxygen)


@pytest.mark.slow
def test_gfn2_water_energy_equals_tblite_called_directly():
    from tblite.interface import Calculator

    atoms = molecule("H2O")
    atoms.calc = built("gfn2-xtb")
    energy = atoms.get_potential_energy()
    direct = Calculator("GFN2-xTB", atoms.numbers, atoms.positions / Bohr)  # atomic units
    direct.set("verbosity", 0)
    assert energy == pytest.approx(direct.singlepoint().get("energy") * Hartree, abs=1e-6)
    assert energy == pytest.approx(TBLITE_DOCS_WATER_GFN2, abs=1e-5)


@pytest.mark.slow
def test_charge_changes_are_never_served_from_the_xtb_cache():
    calc = built("gfn2-xtb")
    neutral = molecule("H2O")
    cation = neutral.copy()
    cation.info.update(charge=1, spin=2)
    neutral.calc = calc
    e_neutral = neutral.get_potential_energy()
    cation.calc = calc
    e_cation = cation.get_potential_energy()
    assert e_cation - e_neutral > 10.0  # a GFN2 vertical ionisation energy of water, eV


@pytest.mark.slow
def test_ge_sb_te_mace_equals_mace_calculator():
    from mace.calculators import MACECalculator

    package = MACECalculator(
        model_paths=str(MACE_GE_SB_TE / "mace_swa.model"), device="cpu", default_dtype="float64"
    )
    ours = built("mace-ge-sb-te")
    crystal = bulk("GeTe", "rocksalt", a=6.0) * (1, 1, 2)
    crystal.rattle(0.02, seed=1)
    dimer = Atoms("Te2", positions=[[0, 0, 0], [0, 0, 2.6]], cell=[12, 12, 12])
    for atoms in (dimer, crystal):
        assert_same(ours, package, atoms)
