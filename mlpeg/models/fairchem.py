"""UMA through fairchem (``fairchem-core``): one checkpoint, a task head per domain.

The checkpoint is a fairchem model name (``uma-s-1p1``, ``uma-m-1p1``, ``uma-s-1p2``) that
``pretrained_mlip.get_predict_unit`` fetches from Hugging Face (``facebook/UMA``, a gated
repository: accept its licence and set ``HF_TOKEN``); ``options.task_name`` picks the head
(``omat`` for inorganic materials, ``omol`` for molecules, which reads ``charge`` and
``spin`` from ``atoms.info``). fairchem-core 2 pulls e3nn 0.6, which mace-torch 0.3.16 here
cannot share (e3nn 0.4.4), so it runs in an environment of its own.
"""

from __future__ import annotations

import os
from pathlib import Path

from ase.calculators.calculator import Calculator

from mlpeg.errors import ConfigError
from mlpeg.models.packaged import missing_package, weights_availability
from mlpeg.models.registry import ModelSpec

MODELS = ("uma-s-1p1", "uma-m-1p1", "uma-s-1p2")
TASKS = ("omat", "omol", "oc20", "odac", "omc")
HUB_URL = "https://huggingface.co/facebook/UMA"
WHY_NOT_HERE = "it needs e3nn 0.6; mace-torch here pins e3nn 0.4.4"


def _hub_cache() -> Path:
    root = os.environ.get("HF_HOME", Path.home() / ".cache" / "huggingface")
    return Path(root) / "hub" / "models--facebook--UMA"


def validate(spec: ModelSpec) -> None:
    """Check the model name and the task head."""
    if spec.checkpoint not in MODELS:
        raise ConfigError(f"fairchem has no model '{spec.checkpoint}' ({', '.join(MODELS)}).")
    if spec.options.get("task_name") not in TASKS:
        raise ConfigError(f"options.task_name must be one of {', '.join(TASKS)}.")


def availability(spec: ModelSpec) -> tuple[bool, str]:
    """UMA runs where fairchem-core is installed and its gated weights are cached or online."""
    missing = missing_package("fairchem.core", "fairchem-core", WHY_NOT_HERE)
    return missing or weights_availability(HUB_URL, _hub_cache())


def make_calculator(spec: ModelSpec, *, device: str) -> Calculator:
    """Build ``FAIRChemCalculator`` for the model and its task head."""
    from fairchem.core import FAIRChemCalculator, pretrained_mlip

    predictor = pretrained_mlip.get_predict_unit(spec.checkpoint, device=device)
    return FAIRChemCalculator(predictor, task_name=spec.options["task_name"])
