"""PET-MAD (``pet-mad``): the point-edge transformer trained on the MAD data set (PBEsol).

The checkpoint is a PET-MAD version (``v1.0.2``) that ``PETMADCalculator`` fetches from
Hugging Face (``lab-cosmo/pet-mad``). pet-mad's metatomic stack is built against torch
2.10, not the torch 2.13 of the main environment, so it runs in an environment of its own.
"""

from __future__ import annotations

from ase.calculators.calculator import Calculator

from mlpeg.models.packaged import missing_package, weights_availability
from mlpeg.models.registry import ModelSpec

HUB_URL = "https://huggingface.co/lab-cosmo/pet-mad"
WHY_NOT_HERE = "its metatomic-torch needs torch 2.10; the main environment has torch 2.13"


def availability(spec: ModelSpec) -> tuple[bool, str]:
    """PET-MAD runs where pet-mad is installed and its weights are cached or online."""
    missing = missing_package("pet_mad", "pet-mad", WHY_NOT_HERE)
    return missing or weights_availability(HUB_URL, None)


def make_calculator(spec: ModelSpec, *, device: str) -> Calculator:
    """Build ``PETMADCalculator`` for the version."""
    from pet_mad.calculator import PETMADCalculator

    return PETMADCalculator(version=spec.checkpoint, device=device, **spec.options)
