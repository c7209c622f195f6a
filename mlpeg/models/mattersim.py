"""MatterSim (``mattersim``): Microsoft's M3GNet-style universal potentials.

The checkpoint is a pretrained file name (``MatterSim-v1.0.0-1M.pth``,
``MatterSim-v1.0.0-5M.pth``) that ``MatterSimCalculator`` downloads itself on first use
into ``~/.local/mattersim/pretrained_models``. mattersim 1.2 pulls torch 2.14 and e3nn
0.6, which the main environment cannot take beside mace-torch (e3nn 0.4.4); it runs in
an environment of its own.
"""

from __future__ import annotations

from pathlib import Path

from ase.calculators.calculator import Calculator

from mlpeg.errors import ConfigError
from mlpeg.models.packaged import missing_package, weights_availability
from mlpeg.models.registry import ModelSpec

_RAW = "https://raw.githubusercontent.com/microsoft/mattersim/main/pretrained_models/"
#: Where mattersim downloads each pretrained checkpoint from.
PRETRAINED_URLS = {
    "MatterSim-v1.0.0-1M.pth": _RAW + "mattersim-v1.0.0-1M.pth",
    "MatterSim-v1.0.0-5M.pth": _RAW + "mattersim-v1.0.0-5M.pth",
}
WHY_NOT_HERE = "it needs torch 2.14 and e3nn 0.6; mace-torch here pins e3nn 0.4.4"


def _cached(name: str) -> Path:
    return Path.home() / ".local" / "mattersim" / "pretrained_models" / name.lower()


def validate(spec: ModelSpec) -> None:
    """Check the checkpoint is a pretrained name mattersim knows, or a local file."""
    if spec.checkpoint_kind == "name" and spec.checkpoint not in PRETRAINED_URLS:
        known = ", ".join(PRETRAINED_URLS)
        raise ConfigError(f"mattersim has no pretrained model '{spec.checkpoint}' ({known}).")


def checkpoint_file(spec: ModelSpec) -> Path | None:
    """Return the local checkpoint (mattersim's cache for pretrained names)."""
    if spec.checkpoint_kind == "name":
        return _cached(spec.checkpoint)
    return Path(spec.checkpoint)


def availability(spec: ModelSpec) -> tuple[bool, str]:
    """MatterSim runs where mattersim is installed and its weights are cached or online."""
    missing = missing_package("mattersim", "mattersim", WHY_NOT_HERE)
    if missing:
        return missing
    if spec.checkpoint_kind != "name":
        path = Path(spec.checkpoint)
        return path.is_file(), f"checkpoint file {path}"
    return weights_availability(PRETRAINED_URLS[spec.checkpoint], _cached(spec.checkpoint))


def make_calculator(spec: ModelSpec, *, device: str) -> Calculator:
    """Build ``MatterSimCalculator`` (energy, forces, stress) for the checkpoint."""
    from mattersim.forcefield import MatterSimCalculator

    return MatterSimCalculator(load_path=spec.checkpoint, device=device, **spec.options)
