"""The orb family: small random-weight orb-v3 models loaded through orb's weights_path path."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from ase import Atoms

from mlpeg.models import orb as orb_family
from mlpeg.models import registry

ARCHITECTURE = {
    "latent_dim": 16,
    "base_mlp_hidden_dim": 32,
    "base_mlp_depth": 1,
    "head_mlp_hidden_dim": 16,
    "head_mlp_depth": 1,
    "num_message_passing_steps": 2,
}


def build_tiny_orb(**extra):
    """Return a small random orb-v3 conservative model (float32) and its architecture."""
    import torch
    from orb_models.forcefield import pretrained
    from orb_models.forcefield.atomic_system import SystemConfig

    torch.manual_seed(11)
    model = pretrained.orb_v3_conservative_architecture(
        device="cpu",
        system_config=SystemConfig(radius=5.0, max_num_neighbors=30),
        **ARCHITECTURE,
        **extra,
    )
    with torch.no_grad():  # orb zero-initialises some layers (the charge/spin ones)
        for parameter in model.parameters():
            if not parameter.any():
                parameter.normal_(0.0, 0.5)
    return model, {"kind": "conservative", "radius": 5.0, "max_num_neighbors": 30, **ARCHITECTURE}


def register(tmp_path, monkeypatch, name: str, architecture: dict) -> None:
    import yaml

    entry = {
        "family": "orb",
        "checkpoint": f"{name}.ckpt",
        "dtype": "float32",
        "elements": ["H", "C", "N", "O"],
        "trained_on_dispersion": True,
        "options": {"architecture": architecture},
    }
    (tmp_path / "models.yml").write_text(yaml.safe_dump({name: entry}))
    monkeypatch.setenv("MLPEG_MODELS", str(tmp_path / "models.yml"))
    registry.clear_cache()


def direct_calculator(weights):
    """orb's own loading path for the same weights, as a user of orb would write it."""
    from orb_models.forcefield import pretrained
    from orb_models.forcefield.calculator import ORBCalculator

    model, _ = build_tiny_orb(**weights["extra"])
    model = pretrained.load_model(
        model, str(weights["path"]), device="cpu", precision="float32-high", compile=False
    )
    return ORBCalculator(model, device="cpu")


def ammonia_cell() -> Atoms:
    atoms = Atoms(
        "NHHH",
        positions=[[0, 0, 0], [1.01, 0, 0], [-0.34, 0.95, 0], [-0.34, -0.47, 0.83]],
        cell=[5.5, 5.5, 5.5],
        pbc=True,
    )
    atoms.positions += 2.0
    atoms.rattle(0.05, seed=2)
    return atoms


def evaluate(atoms: Atoms, calc, *properties: str) -> list:
    atoms = atoms.copy()
    atoms.calc = calc
    getters = {"energy": atoms.get_potential_energy, "forces": atoms.get_forces}
    getters["stress"] = atoms.get_stress
    return [getters[name]() for name in properties]


@pytest.fixture
def tiny_orb(tmp_path, monkeypatch):
    import torch

    model, architecture = build_tiny_orb()
    torch.save(model.state_dict(), tmp_path / "tiny-orb.ckpt")
    register(tmp_path, monkeypatch, "tiny-orb", architecture)
    return {"path": tmp_path / "tiny-orb.ckpt", "extra": {}}


def test_registry_gives_what_orb_gives_and_keeps_float64_default(tiny_orb):
    import torch

    spec = registry.get_model("tiny-orb")
    torch.set_default_dtype(torch.float64)  # as a float64 model left it
    try:
        ours = registry.make_calculator(spec, device="cpu")
        assert torch.get_default_dtype() == torch.float64  # orb's float32 did not leak
        energy, forces, stress = evaluate(ammonia_cell(), ours, "energy", "forces", "stress")
        assert torch.get_default_dtype() == torch.float64
    finally:
        torch.set_default_dtype(torch.float32)
    direct = direct_calculator(tiny_orb)
    energy_direct, forces_direct, stress_direct = evaluate(
        ammonia_cell(), direct, "energy", "forces", "stress"
    )
    assert energy == pytest.approx(energy_direct, rel=1e-6)
    np.testing.assert_allclose(forces, forces_direct, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(stress, stress_direct, rtol=1e-5, atol=1e-7)
    assert np.abs(forces).max() > 1e-4  # a real (random) model, not zeros
    path, sha256 = registry.checkpoint_provenance(spec)
    assert path == str(tiny_orb["path"]) and len(sha256) == 64


def test_charge_and_spin_reach_an_orb_model_that_takes_them(tmp_path, monkeypatch):
    import torch

    model, architecture = build_tiny_orb(has_charge_spin_cond=True, has_stress=False)
    torch.save(model.state_dict(), tmp_path / "tiny-orb-omol.ckpt")
    register(
        tmp_path,
        monkeypatch,
        "tiny-orb-omol",
        {**architecture, "has_stress": False, "has_charge_spin_cond": True},
    )
    ours = registry.make_calculator(registry.get_model("tiny-orb-omol"), device="cpu")
    direct = direct_calculator(
        {
            "path": tmp_path / "tiny-orb-omol.ckpt",
            "extra": {"has_charge_spin_cond": True, "has_stress": False},
        }
    )
    molecule = ammonia_cell()
    molecule.pbc = False
    with pytest.raises(ValueError, match="must contain both 'charge' and 'spin'"):
        evaluate(molecule, direct, "energy")  # orb alone needs both keys
    neutral = evaluate(molecule, ours, "energy")[0]  # neutral singlet when absent
    singlet = molecule.copy()
    singlet.info.update(charge=0, spin=1)
    assert neutral == pytest.approx(evaluate(singlet, direct, "energy")[0], rel=1e-6)
    cation = molecule.copy()
    cation.info.update(charge=1, multiplicity=2)  # "multiplicity" is read as the spin
    charged = evaluate(cation, ours, "energy")[0]  # same calculator, same geometry
    as_orb_wants = molecule.copy()
    as_orb_wants.info.update(charge=1, spin=2)
    direct.reset()  # orb's calculator alone would reuse the neutral result: same positions
    assert charged == pytest.approx(evaluate(as_orb_wants, direct, "energy")[0], rel=1e-6)
    assert charged != pytest.approx(neutral, abs=1e-6)


def test_pretrained_urls_and_cache_names_match_orb(monkeypatch, tmp_path):
    import cached_path
    from orb_models.forcefield import pretrained

    for name, url in orb_family.PRETRAINED_URLS.items():
        loader = pretrained.ORB_PRETRAINED_MODELS[name]
        assert inspect.signature(loader).parameters["weights_path"].default == url
    monkeypatch.setenv("CACHED_PATH_CACHE_ROOT", str(tmp_path))
    url = orb_family.PRETRAINED_URLS["orb-v3-conservative-inf-omat"]
    assert orb_family.cached_pretrained_file("orb-v3-conservative-inf-omat") is None
    stored = tmp_path / cached_path.resource_to_filename(url, etag='"abc"')
    stored.write_bytes(b"weights")
    stored.with_suffix(stored.suffix + ".json").write_text("{}")
    assert orb_family.cached_pretrained_file("orb-v3-conservative-inf-omat") == stored
    assert cached_path.find_latest_cached(url, cache_dir=tmp_path) == stored
