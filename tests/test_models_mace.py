"""The mace family: a random-weight model from the registry, and the offline Ge/Sb/Te model."""

from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk

from mlpeg.models import mace as mace_family
from mlpeg.models import registry

GE_SB_TE_SHA256 = "3f1251c8655192faf9d28f2f857533f66507bb7abee3f1781c6a71336f26da3f"


def save_tiny_mace(path, *, seed: int = 7) -> None:
    """Save a two-layer MACE for H, C and O with random weights (float64)."""
    import mace.calculators  # noqa: F401  (imports e3nn safely under torch >= 2.6)
    import torch
    from e3nn import o3
    from mace import modules

    torch.manual_seed(seed)
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        block = modules.interaction_classes["RealAgnosticResidualInteractionBlock"]
        model = modules.ScaleShiftMACE(
            r_max=4.0,
            num_bessel=4,
            num_polynomial_cutoff=5,
            max_ell=2,
            interaction_cls=block,
            interaction_cls_first=block,
            num_interactions=2,
            num_elements=3,
            hidden_irreps=o3.Irreps("8x0e + 8x1o"),
            MLP_irreps=o3.Irreps("8x0e"),
            atomic_energies=np.array([-13.6, -1029.5, -2042.6]),
            avg_num_neighbors=6.0,
            atomic_numbers=[1, 6, 8],
            correlation=2,
            gate=torch.nn.functional.silu,
            atomic_inter_scale=0.7,
            atomic_inter_shift=0.1,
        )
    finally:
        torch.set_default_dtype(before)
    torch.save(model, path)


def methanol_cell() -> Atoms:
    """CH3OH in a 6 Å periodic box, rattled so no force vanishes by symmetry."""
    atoms = Atoms(
        "COHHHH",
        positions=[
            [0.0, 0.0, 0.0],
            [1.42, 0.0, 0.0],
            [-0.36, 1.03, 0.0],
            [-0.36, -0.51, 0.89],
            [-0.36, -0.51, -0.89],
            [1.74, 0.91, 0.0],
        ],
        cell=[6.0, 6.0, 6.0],
        pbc=True,
    )
    atoms.positions += 2.0
    atoms.rattle(0.05, seed=1)
    return atoms


@pytest.fixture
def tiny_registry(tmp_path, monkeypatch):
    save_tiny_mace(tmp_path / "tiny.model")
    (tmp_path / "models.yml").write_text(
        "tiny-mace:\n"
        "  family: mace\n"
        "  checkpoint: tiny.model\n"  # relative to models.yml
        "  dtype: float64\n"
        "  elements: [H, C, O]\n"
        "  trained_on_dispersion: true\n"
    )
    monkeypatch.setenv("MLPEG_MODELS", str(tmp_path / "models.yml"))
    registry.clear_cache()
    return tmp_path


def results(atoms: Atoms, calc) -> tuple[float, np.ndarray, np.ndarray]:
    atoms = atoms.copy()
    atoms.calc = calc
    return atoms.get_potential_energy(), atoms.get_forces(), atoms.get_stress()


def test_registry_gives_what_mace_calculator_gives(tiny_registry):
    import torch
    from mace.calculators import MACECalculator

    spec = registry.get_model("tiny-mace")
    assert spec.checkpoint == str(tiny_registry / "tiny.model")
    before = torch.get_default_dtype()
    ours = registry.make_calculator(spec, device="cpu")
    assert torch.get_default_dtype() == before  # building it changed nothing global
    direct = MACECalculator(model_paths=spec.checkpoint, device="cpu", default_dtype="float64")
    atoms = methanol_cell()
    energy, forces, stress = results(atoms, ours)
    energy_direct, forces_direct, stress_direct = results(atoms, direct)
    assert energy == pytest.approx(energy_direct, abs=1e-10)
    np.testing.assert_allclose(forces, forces_direct, atol=1e-10)
    np.testing.assert_allclose(stress, stress_direct, atol=1e-12)
    assert np.abs(forces).max() > 1e-3 and np.abs(stress).max() > 1e-6  # not trivially zero
    moved = atoms.copy()
    moved.positions[0] += [0.1, 0.0, 0.0]
    assert results(moved, ours)[0] != pytest.approx(energy, abs=1e-6)
    path, sha256 = registry.checkpoint_provenance(spec)
    assert path == spec.checkpoint and len(sha256) == 64


def test_a_pinned_sha256_that_differs_stops_the_build(tiny_registry):
    text = (tiny_registry / "models.yml").read_text()
    (tiny_registry / "models.yml").write_text(text + f"  checkpoint_sha256: '{'ab' * 32}'\n")
    registry.clear_cache()
    with pytest.raises(Exception, match="the registry pins abababababab"):
        registry.make_calculator(registry.get_model("tiny-mace"), device="cpu")


def test_ge_sb_te_model_loads_from_the_mirror_by_url_and_sha256():
    from mace.calculators import MACECalculator

    spec = registry.get_model("mace-ge-sb-te")
    assert spec.checkpoint_kind == "url" and spec.checkpoint_sha256 == GE_SB_TE_SHA256
    ours = registry.make_calculator(spec, device="cpu")
    path, sha256 = registry.checkpoint_provenance(spec)
    assert sha256 == GE_SB_TE_SHA256
    assert "ACEsuit/mace/4bb7f799790d2ccf626ea1fbfaa379dd6123ef23/training" in path
    direct = MACECalculator(model_paths=path, device="cpu", default_dtype="float64")
    cell = bulk("GeTe", "rocksalt", a=6.0) * (1, 1, 2)
    cell.set_chemical_symbols(["Ge", "Te", "Sb", "Te"])
    cell.rattle(0.03, seed=3)
    energy, forces, stress = results(cell, ours)
    energy_direct, forces_direct, stress_direct = results(cell, direct)
    assert energy == pytest.approx(energy_direct, abs=1e-9)
    np.testing.assert_allclose(forces, forces_direct, atol=1e-9)
    np.testing.assert_allclose(stress, stress_direct, atol=1e-12)
    assert -6.0 < energy / len(cell) < -2.0  # a bound solid, in eV/atom, not a random model


def test_foundation_urls_and_cache_names_match_mace(monkeypatch, tmp_path):
    from mace.calculators import foundations_models as upstream

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    for name, url in mace_family.FOUNDATION_URLS["mace_mp"].items():
        assert upstream.mace_mp_urls[name] == url
        ours = mace_family.cached_foundation_file("mace_mp", name)
        ours.parent.mkdir(parents=True, exist_ok=True)
        ours.write_bytes(b"placeholder")  # present, so mace returns its path without a download
        assert upstream.download_mace_mp_checkpoint(name) == str(ours)
    assert mace_family.FOUNDATION_URLS["mace_off"] == upstream.mace_off_urls
    assert mace_family.cached_foundation_file("mace_off", "large").name == (
        "MACE-OFF23_large.model"
    )
