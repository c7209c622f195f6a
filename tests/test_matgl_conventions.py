"""The MatPES v2025.1 matgl potentials compute what the matgl they were trained with computes.

They were trained with matgl <= 2.1.2, which summed TensorNet's pair embedding and M3GNet's
node update onto edge destinations; matgl 4.1.2 sums onto sources (mlpeg.models.matgl_legacy).
Loaded as they are, one-element crystals come out right and everything else wrong, so the
checks use two-element systems, with a one-element crystal beside them:

- energies, a force and the stress of water and a distorted LiCl cell equal matgl 2.1.2's
  own (TensorNet on its PyG backend, M3GNet on DGL 2.1.0, float32, the same folders);
- the E(a) minimum of rock-salt LiCl lies within 3% of the experimental 5.13 Å (PBE
  5.15, r2SCAN 5.10), and fcc Cu's within 3% of 3.61 Å. Without the fix TensorNet-PBE
  put LiCl at 5.93 Å, TensorNet-r2SCAN at 6.41 Å and M3GNet at 4.84 Å.
"""

from __future__ import annotations

import numpy as np
import pytest
from ase.build import bulk, molecule
from conftest import MIRROR

from mlpeg.models import registry

FOLDERS = MIRROR / (
    "materialsvirtuallab/matgl/e9cde2291acd0b4c4a342428e7dd5e4d596b7bf9/pretrained_models"
)
#: matgl 2.1.2 with torch 2.13.0 (M3GNet: MATGL_BACKEND=DGL, dgl 2.1.0): energy (eV) of
#: water and of the distorted LiCl cell, force on the moved Li (eV/Å), stress diagonal (eV/Å³).
MATGL_2_1_2 = {
    "tensornet-matpes-pbe": (
        -14.12686, -29.36980, (-0.03545, 0.02069, -0.01206), (-0.000648, -0.000467, -0.000394)
    ),
    "tensornet-matpes-r2scan": (
        -14.93971, -50.14252, (-0.05674, 0.03386, -0.01992), (0.006939, 0.007182, 0.007280)
    ),
    "m3gnet-matpes-pbe": (
        -14.13253, -29.46845, (-0.10273, 0.06136, -0.03602), (-0.005342, -0.005135, -0.005044)
    ),
}  # fmt: skip
FOLDER_OF = {
    "tensornet-matpes-pbe": "TensorNet-MatPES-PBE-v2025.1-PES",
    "tensornet-matpes-r2scan": "TensorNet-MatPES-r2SCAN-v2025.1-PES",
    "m3gnet-matpes-pbe": "M3GNet-MatPES-PBE-v2025.1-PES",
}


def distorted_licl():
    atoms = bulk("LiCl", "rocksalt", a=5.13, cubic=True)
    atoms.positions[0] += (0.08, -0.05, 0.03)
    return atoms


def water():
    atoms = molecule("H2O")
    atoms.center(vacuum=6.0)
    atoms.pbc = False
    return atoms


@pytest.fixture(params=sorted(FOLDER_OF))
def calculator(request):
    pytest.importorskip("matgl")
    if not (FOLDERS / FOLDER_OF[request.param]).is_dir():
        pytest.skip(f"the data mirror has no {FOLDER_OF[request.param]}")
    return request.param, registry.make_calculator(registry.get_model(request.param), device="cpu")


def per_atom_energy(calc, symbol: str, structure: str, a: float) -> float:
    atoms = bulk(symbol, structure, a=a)
    atoms.calc = calc
    return atoms.get_potential_energy() / len(atoms)


def test_matpes_potentials_equal_matgl_2_1_2(calculator):
    name, calc = calculator
    water_energy, licl_energy, li_force, stress = MATGL_2_1_2[name]
    h2o, licl = water(), distorted_licl()
    h2o.calc = licl.calc = calc
    assert h2o.get_potential_energy() == pytest.approx(water_energy, abs=1e-3)
    assert licl.get_potential_energy() == pytest.approx(licl_energy, abs=1e-3)
    np.testing.assert_allclose(licl.get_forces()[0], li_force, atol=5e-4)
    np.testing.assert_allclose(licl.get_stress()[:3], stress, atol=2e-5)


@pytest.mark.parametrize(
    ("symbol", "structure", "a0"), [("LiCl", "rocksalt", 5.13), ("Cu", "fcc", 3.61)]
)
def test_matpes_lattice_minimum_within_3_percent(calculator, symbol, structure, a0):
    """E(a) is lower at a0 than at 0.97 a0 and 1.03 a0: the minimum lies within 3%."""
    _, calc = calculator
    low, mid, high = (per_atom_energy(calc, symbol, structure, f * a0) for f in (0.97, 1.0, 1.03))
    assert mid < low and mid < high, (symbol, low, mid, high)


def test_tensornet_at_model_version_1_defaults_to_destination(tmp_path):
    """A local TensorNet folder of matgl <= 2.1.2 gets the old convention without options."""
    from mlpeg.models.matgl import default_aggregation

    folder = FOLDERS / FOLDER_OF["tensornet-matpes-pbe"]
    if not folder.is_dir():
        pytest.skip(f"the data mirror has no {folder.name}")
    assert default_aggregation(folder) == "destination"
    # M3GNet never bumped its version for the change: only models.yml can say it
    assert default_aggregation(FOLDERS / FOLDER_OF["m3gnet-matpes-pbe"]) == "source"
    text = (folder / "model.json").read_text()
    (tmp_path / "model.json").write_text(text.replace('"@model_version": 1', '"@model_version": 2'))
    assert default_aggregation(tmp_path) == "source"
