"""DFT-D3 dispersion added to a model with ASE's ``SumCalculator``.

Two backends compute the same D3 energy: ``dftd3`` (simple-dftd3, compiled) and
``torch-dftd`` (PyTorch). Both give −0.037527 eV for the S22 water dimer with D3(BJ)-PBE,
and agree within 2.3e-6 eV and 2.3e-6 eV/Å on X23 cells up to 108 atoms.
``bench/d3_backends.py`` timed them in the same run (2 shared CPU cores): torch-dftd took
14× (30-atom molecule), 430× (48-atom X23 benzene cell) and 195× (108-atom CO2 cell) as
long as dftd3 per energy+forces(+stress) call at the default cutoffs (95 and 40 bohr);
a second, more loaded run gave 105×, 1029× and 14×. So ``dftd3`` is the default where it
is installed and ``torch-dftd`` the fallback, in float64 (float32 is at most 2× faster
and moves forces by up to 2e-6 eV/Å).
"""

from __future__ import annotations

import importlib.util
from typing import Any

from ase.calculators.calculator import Calculator
from ase.calculators.mixing import SumCalculator
from ase.units import Bohr

#: torch-dftd's default real-space cutoff (95 bohr), also used for dftd3's.
DEFAULT_CUTOFF = 95.0 * Bohr
#: torch-dftd's coordination-number cutoff (40 bohr), also used for dftd3's.
CN_CUTOFF = 40.0 * Bohr


#: D3 settings used unless a models.yml entry's ``dispersion`` says otherwise.
DEFAULTS: dict[str, Any] = {"damping": "bj", "functional": "pbe", "cutoff": DEFAULT_CUTOFF}
DAMPING_NAMES = {"bj": "d3bj", "zero": "d3zero", "bjm": "d3bjm", "zerom": "d3mzero"}


def default_backend() -> str:
    """Return ``dftd3`` when simple-dftd3 is installed, else ``torch-dftd``."""
    return "dftd3" if importlib.util.find_spec("dftd3") else "torch-dftd"


def resolved_settings(**settings: Any) -> dict[str, Any]:
    """Return complete D3 settings (damping, functional, cutoff in Å, backend).

    Parameters
    ----------
    **settings
        Any of ``damping``, ``functional``, ``cutoff`` and ``backend``; the rest default.
    """
    resolved = {**DEFAULTS, **settings}
    resolved["backend"] = resolved.get("backend") or default_backend()
    return resolved


def d3_calculator(
    *,
    damping: str = "bj",
    functional: str = "pbe",
    cutoff: float = DEFAULT_CUTOFF,
    backend: str | None = None,
    device: str = "cpu",
    dtype: str = "float64",
) -> Calculator:
    """Return a calculator of the D3 dispersion energy alone.

    Parameters
    ----------
    damping
        ``zero``, ``bj``, ``zerom`` or ``bjm``.
    functional
        Functional whose D3 parameters are used (``pbe``).
    cutoff
        Real-space cutoff of the two-body term, in Å.
    backend
        ``dftd3`` or ``torch-dftd``; :func:`default_backend` when ``None``.
    device
        Device for the torch-dftd backend.
    dtype
        Precision of the torch-dftd backend (``float64`` or ``float32``; dftd3 is
        always double precision).

    Returns
    -------
    Calculator
        Energy, forces and stress of the D3 correction.
    """
    backend = backend or default_backend()
    if backend == "dftd3":
        from dftd3.ase import DFTD3

        return DFTD3(
            method=functional.upper(),
            damping=DAMPING_NAMES[damping],
            realspace_cutoff={"disp2": cutoff, "cn": CN_CUTOFF},
        )
    import torch
    from torch_dftd.torch_dftd3_calculator import TorchDFTD3Calculator

    return TorchDFTD3Calculator(
        device=device,
        damping=damping,
        xc=functional,
        cutoff=cutoff,
        cnthr=CN_CUTOFF,
        dtype=getattr(torch, dtype),
    )


def add_d3(calc: Calculator, *, device: str = "cpu", **settings: object) -> Calculator:
    """Return ``calc`` plus a D3 correction, as one ASE calculator.

    Parameters
    ----------
    calc
        The model's calculator.
    device
        Device for the torch-dftd backend.
    **settings
        ``damping``, ``functional``, ``cutoff`` and ``backend`` for :func:`d3_calculator`.
    """
    return ModelPlusD3([calc, d3_calculator(device=device, **settings)])


class ModelPlusD3(SumCalculator):
    """A model plus D3 that, like the model, recomputes when only charge or spin change."""

    def check_state(self, atoms, tol=1e-15):
        """Positions, numbers, cell and pbc as usual; total charge and spin as well."""
        from mlpeg.models.prepare import charge_spin_changed

        changes = super().check_state(atoms, tol=tol)
        if not changes and charge_spin_changed(self.atoms, atoms):
            changes.append("info")
        return changes
