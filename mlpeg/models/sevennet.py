"""SevenNet (``sevenn``): pretrained checkpoints ship inside the wheel (``7net-0``).

The checkpoint is a name sevenn knows (``7net-0``, ``7net-l3i5``, ...) or a local
checkpoint file. sevenn imports e3nn, whose import loads a pickled constants file that
torch >= 2.6 refuses under its default ``weights_only`` loading; e3nn is therefore imported
first with ``slice`` allow-listed for that one load, instead of switching the check off for
the whole process.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from ase.calculators.calculator import Calculator

from mlpeg.errors import ConfigError
from mlpeg.models.registry import ModelSpec

#: Checkpoint files of the pretrained names, relative to the installed ``sevenn`` package.
PRETRAINED_FILES = {
    "7net-0": "pretrained_potentials/SevenNet_0__11Jul2024/checkpoint_sevennet_0.pth",
    "7net-0_22may2024": "pretrained_potentials/SevenNet_0__22May2024/checkpoint_sevennet_0.pth",
    "7net-l3i5": "pretrained_potentials/SevenNet_l3i5/checkpoint_l3i5.pth",
    # from sevenn 0.11 on (not in 0.10.4): runs in the sevenn-0.13 environment
    "7net-mf-0": "pretrained_potentials/SevenNet_MF_0/checkpoint_sevennet_mf_0.pth",
}


def _package_dir() -> Path | None:
    found = importlib.util.find_spec("sevenn")
    if found is None or not found.submodule_search_locations:
        return None
    return Path(next(iter(found.submodule_search_locations)))


def validate(spec: ModelSpec) -> None:
    """Check that a named checkpoint is one sevenn ships."""
    if spec.checkpoint_kind == "name" and spec.checkpoint.lower() not in PRETRAINED_FILES:
        known = ", ".join(PRETRAINED_FILES)
        raise ConfigError(f"sevenn has no pretrained model '{spec.checkpoint}' ({known}).")
    if spec.checkpoint_kind == "url":
        raise ConfigError("sevennet checkpoints are names or local files, not URLs.")


def checkpoint_file(spec: ModelSpec) -> Path | None:
    """Return the checkpoint file: inside the sevenn package for pretrained names."""
    if spec.checkpoint_kind == "file":
        return Path(spec.checkpoint)
    package = _package_dir()
    return package / PRETRAINED_FILES[spec.checkpoint.lower()] if package else None


def availability(spec: ModelSpec) -> tuple[bool, str]:
    """SevenNet runs where sevenn is installed; its pretrained weights ship with it."""
    if _package_dir() is None:
        return False, "package sevenn is not installed (pip install 'mlpeg[sevennet]')"
    path = checkpoint_file(spec)
    if path is None or not path.is_file():
        return False, f"checkpoint {path} does not exist"
    if spec.checkpoint_kind == "name":
        return True, "weights ship in the sevenn wheel"
    return True, f"checkpoint file {path}"


def import_e3nn() -> None:
    """Import e3nn under torch >= 2.6 without turning off safe loading globally."""
    import torch

    with torch.serialization.safe_globals([slice]):
        import e3nn.o3  # noqa: F401


def make_calculator(spec: ModelSpec, *, device: str) -> Calculator:
    """Build sevenn's calculator for the entry.

    Parameters
    ----------
    spec
        The registry entry.
    device
        ``cpu`` or ``cuda``.

    Returns
    -------
    Calculator
        ``SevenNetCalculator`` (energy, forces, stress).
    """
    import_e3nn()
    from sevenn.calculator import SevenNetCalculator

    path = checkpoint_file(spec)
    if path is None or not path.is_file():
        raise ConfigError(f"Model '{spec.name}': checkpoint {path} does not exist.")
    return SevenNetCalculator(model=str(path), device=device, **spec.options)
