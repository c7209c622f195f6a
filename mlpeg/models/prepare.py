"""What a model sees of a structure: total charge and spin, and torch's default dtype.

Benchmarks put the total charge and the spin multiplicity of a structure in
``atoms.info["charge"]`` and ``atoms.info["spin"]`` (``multiplicity`` is accepted for
``spin``). Models that take them (MACE-OMOL, orb-v3 OMol) read those keys; a structure that
carries neither is treated as neutral and closed-shell (charge 0, multiplicity 1), which
is what such models need to run at all.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from ase import Atoms
from ase.calculators.calculator import Calculator, all_changes
from ase.outputs import all_outputs

from mlpeg.errors import MlpegError

#: Neutral, closed-shell: what a structure without charge or spin is taken to be.
DEFAULT_CHARGE = 0
DEFAULT_MULTIPLICITY = 1


def charge_and_spin(info: dict[str, Any]) -> tuple[int, int]:
    """Return ``(total charge, spin multiplicity)`` from ``atoms.info``.

    Parameters
    ----------
    info
        The structure's info; ``charge`` and ``spin`` (or ``multiplicity``) are read.

    Returns
    -------
    tuple
        Integers; missing values default to 0 and 1.

    Raises
    ------
    MlpegError
        If a value is not a whole number or the multiplicity is below 1.
    """
    charge = info.get("charge", DEFAULT_CHARGE)
    spin = info.get("spin", info.get("multiplicity", DEFAULT_MULTIPLICITY))
    values = []
    for name, value in (("charge", charge), ("spin", spin)):
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = float("nan")
        if not number.is_integer():
            raise MlpegError(f"atoms.info['{name}'] = {value!r} is not a whole number.")
        values.append(int(number))
    if values[1] < 1:
        raise MlpegError(f"atoms.info['spin'] = {spin!r}: a spin multiplicity is at least 1.")
    return values[0], values[1]


def charge_spin_changed(previous: Atoms | None, atoms: Atoms) -> bool:
    """Return whether ``atoms`` differs from ``previous`` in total charge or spin.

    ASE calculators reuse results while positions, numbers, cell and pbc stay the same;
    a cation and its neutral molecule at one geometry must not share a result.
    """
    if previous is None:
        return False
    return charge_and_spin(previous.info) != charge_and_spin(atoms.info)


def with_charge_and_spin(atoms: Atoms) -> Atoms:
    """Return a copy of ``atoms`` whose info holds integer ``charge`` and ``spin``."""
    prepared = atoms.copy()
    prepared.info["charge"], prepared.info["spin"] = charge_and_spin(atoms.info)
    prepared.info.pop("multiplicity", None)
    return prepared


@contextlib.contextmanager
def torch_default_dtype(dtype_name: str | None) -> Iterator[None]:
    """Set torch's global default dtype (``float32``/``float64``) inside the block only."""
    if dtype_name is None:
        yield
        return
    import torch

    before = torch.get_default_dtype()
    torch.set_default_dtype(getattr(torch, dtype_name))
    try:
        yield
    finally:
        torch.set_default_dtype(before)


class PreparedCalculator(Calculator):
    """Wrap a model's calculator so it sees charge and spin, and its own default dtype.

    Parameters
    ----------
    model
        The family package's calculator.
    charge_spin
        Fill ``atoms.info`` with ``charge`` and ``spin`` before each call.
    torch_dtype
        Default dtype torch must have while the model computes (orb builds its inputs
        with the global default, which other models set differently); None to leave it.
    """

    def __init__(
        self, model: Calculator, *, charge_spin: bool = True, torch_dtype: str | None = None
    ):
        super().__init__()
        self.model = model
        self.charge_spin = charge_spin
        self.torch_dtype = torch_dtype
        self.implemented_properties = list(model.implemented_properties)

    def check_state(self, atoms, tol=1e-15):
        """Report changed charge or spin too, so such a change is never served from cache."""
        changes = super().check_state(atoms, tol=tol)
        if self.charge_spin and not changes and charge_spin_changed(self.atoms, atoms):
            changes.append("info")
        return changes

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        """Run the wrapped calculator on a prepared copy and take over its ASE results.

        Results ASE does not know (orb's ``grad_forces``, ``confidence``) are dropped, so
        ``atoms.get_properties`` and ASE's file writers work on the wrapped model.
        """
        super().calculate(atoms, properties, system_changes)
        prepared = with_charge_and_spin(self.atoms) if self.charge_spin else self.atoms.copy()
        with torch_default_dtype(self.torch_dtype):
            self.model.calculate(prepared, list(properties), all_changes)
        self.results = {
            name: value for name, value in self.model.results.items() if name in all_outputs
        }
