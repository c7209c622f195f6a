"""mlpeg.elastic: Voigt–Reuss–Hill moduli against hand calculations, the stress–strain fit
on a synthetic linear material, and a real (EMT) tensor against the cubic five-point one."""

from __future__ import annotations

import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.emt import EMT
from ase.units import GPa

from mlpeg.elastic import (
    ElasticTensor,
    fit_stiffness,
    primitive_lengths,
    standard_cell,
    strain_matrix,
    voigt_reuss_hill,
)
from mlpeg.materials import CubicElasticConstants


def _cubic(c11, c12, c44):
    c = np.zeros((6, 6))
    c[:3, :3] = c12
    np.fill_diagonal(c[:3, :3], c11)
    c[3, 3] = c[4, 4] = c[5, 5] = c44
    return c


def test_vrh_of_a_cubic_crystal_by_hand():
    moduli = voigt_reuss_hill(_cubic(100.0, 50.0, 30.0))
    # K_V = K_R = (C11 + 2 C12)/3; G_V = (C11 − C12 + 3 C44)/5 = 28;
    # G_R = 5 C44 (C11 − C12) / (4 C44 + 3 (C11 − C12)) = 7500/270
    assert moduli["k_voigt"] == pytest.approx(200 / 3)
    assert moduli["k_reuss"] == pytest.approx(200 / 3)
    assert moduli["g_voigt"] == pytest.approx(28.0)
    assert moduli["g_reuss"] == pytest.approx(7500 / 270)
    assert moduli["g_vrh"] == pytest.approx((28.0 + 7500 / 270) / 2)


def test_vrh_of_an_isotropic_solid_is_its_lame_moduli():
    lam, mu = 60.0, 25.0  # C11 = λ + 2μ, C12 = λ, C44 = μ: K = λ + 2μ/3, G = μ
    moduli = voigt_reuss_hill(_cubic(lam + 2 * mu, lam, mu))
    for key in ("k_voigt", "k_reuss", "k_vrh"):
        assert moduli[key] == pytest.approx(lam + 2 * mu / 3)
    for key in ("g_voigt", "g_reuss", "g_vrh"):
        assert moduli[key] == pytest.approx(mu)


def test_singular_tensor_has_no_reuss_bound():
    moduli = voigt_reuss_hill(np.zeros((6, 6)))
    assert np.isnan(moduli["k_reuss"]) and moduli["k_voigt"] == 0


def test_fit_recovers_a_linear_material_with_residual_stress():
    rng = np.random.default_rng(1)
    a = rng.uniform(-20, 20, (6, 6))
    c = a + a.T + np.eye(6) * 200
    strains = (-0.01, -0.005, 0.005, 0.01)
    residual = rng.uniform(-1, 1, 6)  # the unstrained cell's stress: the intercept
    stresses = np.array([[residual + c[:, j] * e for e in strains] for j in range(6)])
    assert fit_stiffness(strains, stresses) == pytest.approx(c)


def test_shear_strain_is_engineering():
    assert strain_matrix(3, 0.02)[1, 2] == pytest.approx(0.01)
    assert strain_matrix(0, 0.02)[0, 0] == pytest.approx(0.02)


@pytest.mark.slow
def test_emt_tensor_equals_the_cubic_five_point_constants():
    atoms = bulk("Cu", "fcc", a=3.6, cubic=True)
    atoms.calc = EMT()
    result = ElasticTensor(fmax=1e-4).run(atoms)
    p = result.properties
    reference = bulk("Cu", "fcc", a=3.6, cubic=True)
    reference.calc = EMT()
    cubic = CubicElasticConstants().run(reference).properties
    for ours, theirs in (("c11", "c11"), ("c12", "c12"), ("c44", "c44"), ("c22", "c11")):
        assert p[ours] / GPa == pytest.approx(cubic[theirs] / GPa, rel=0.01)
    assert abs(p["c14"]) / GPa < 0.5 and abs(p["c16"]) / GPa < 0.5
    assert p["k_vrh"] == pytest.approx((cubic["c11"] + 2 * cubic["c12"]) / 3, rel=0.01)
    assert p["primitive_atoms"] == 1 and len(result.frames) == 1


def test_primitive_lengths_ignore_the_cell_setting():
    conventional = bulk("Al", "fcc", a=4.05, cubic=True).repeat((2, 1, 1))
    n_atoms, lengths = primitive_lengths(conventional)
    assert n_atoms == 1 and lengths == pytest.approx([4.05 / 2**0.5] * 3)
    assert len(standard_cell(bulk("Al", "fcc", a=4.05))) == 4
    primitive = standard_cell(bulk("Al", "fcc", a=4.05, cubic=True), primitive=True)
    assert len(primitive) == 1 and primitive.get_volume() == pytest.approx(4.05**3 / 4)
