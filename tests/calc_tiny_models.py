"""Tiny random-weight MACE and Orb models, built and saved locally (no downloads)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

#: Elements the tiny models know.
TINY_ELEMENTS = (1, 6, 7, 8)


def tiny_mace_file(folder: Path, *, seed: int = 0, dtype: str = "float64") -> Path:
    """Save a two-interaction MACE with random weights and return the model file."""
    import mace.calculators  # noqa: F401  (first: it imports e3nn safely under torch >= 2.6)
    import torch
    from mace import modules

    torch.manual_seed(seed)
    import e3nn
    from e3nn import o3

    previous = torch.get_default_dtype()
    torch.set_default_dtype(getattr(torch, dtype))
    jit = e3nn.get_optimization_defaults()["jit_script_fx"]
    e3nn.set_optimization_defaults(jit_script_fx=False)  # TorchScript compiling takes seconds
    try:
        model = modules.ScaleShiftMACE(
            atomic_inter_scale=1.0,
            atomic_inter_shift=0.0,
            r_max=4.0,
            num_bessel=4,
            num_polynomial_cutoff=5,
            max_ell=1,
            interaction_cls=modules.interaction_classes["RealAgnosticResidualInteractionBlock"],
            interaction_cls_first=modules.interaction_classes[
                "RealAgnosticResidualInteractionBlock"
            ],
            num_interactions=2,
            num_elements=len(TINY_ELEMENTS),
            hidden_irreps=o3.Irreps("4x0e + 4x1o"),
            MLP_irreps=o3.Irreps("4x0e"),
            atomic_energies=np.array([-13.6, -1029.0, -1485.0, -2042.0]),
            avg_num_neighbors=4.0,
            atomic_numbers=list(TINY_ELEMENTS),
            correlation=2,
            gate=torch.nn.functional.silu,
        )
    finally:
        torch.set_default_dtype(previous)
        e3nn.set_optimization_defaults(jit_script_fx=jit)
    path = folder / f"tiny-mace-{dtype}.model"
    torch.save(model, path)
    return path


def tiny_orb_weights(folder: Path, *, seed: int = 0) -> tuple[Path, dict]:
    """Save a small random orb-v3 conservative model; return weights and architecture."""
    import torch
    from orb_models.forcefield import pretrained

    architecture = {
        "kind": "conservative",
        "latent_dim": 16,
        "base_mlp_hidden_dim": 32,
        "base_mlp_depth": 1,
        "head_mlp_hidden_dim": 16,
        "head_mlp_depth": 1,
        "num_message_passing_steps": 2,
    }
    torch.manual_seed(seed)
    arguments = {k: v for k, v in architecture.items() if k != "kind"}
    model = pretrained.orb_v3_conservative_architecture(device="cpu", **arguments)
    path = folder / "tiny-orb.ckpt"
    torch.save(model.state_dict(), path)
    return path, {**architecture, "radius": 5.0, "max_num_neighbors": 30}
