"""GFN-xTB through tblite (PyPI ``tblite``): a semi-empirical baseline, not an MLIP.

The checkpoint is the method tblite knows (``GFN2-xTB``, ``GFN1-xTB``); its parameters ship
in the wheel, so nothing is downloaded. Each structure's total charge and spin
multiplicity (``atoms.info["charge"]``, ``atoms.info["spin"]`` = 2S+1) become tblite's
``charge`` and ``multiplicity`` (tblite then sets 2S = multiplicity − 1 unpaired
electrons), so a cation, a radical and a neutral molecule at one geometry never share a
result. tblite computes periodic cells too (GFN1 and GFN2, energies, forces and stress), so
the family accepts them; but only at the Γ point, which is not converged for the few-atom
cells of the materials benchmarks, so the shipped gfn1/gfn2-xtb entries are molecular
(``accepts: {periodic: false}`` in models.yml) and crystals are recorded unsupported.

tblite 0.8.0's ASE calculator fails to pass an electric field to its library (a numpy
array where a C pointer is expected), so fields are declared unsupported here until a
release fixes it.
"""

from __future__ import annotations

import importlib.util

from ase.calculators.calculator import Calculator, all_changes
from ase.outputs import all_outputs

from mlpeg.errors import ConfigError
from mlpeg.models.capabilities import Accepts
from mlpeg.models.prepare import charge_and_spin, charge_spin_changed
from mlpeg.models.registry import ModelSpec

#: Methods tblite implements.
METHODS = ("GFN2-xTB", "GFN1-xTB", "IPEA1-xTB")
ACCEPTS = Accepts(charge=True, spin=True, field=False, periodic=True, molecules=True)


class XTBCalculator(Calculator):
    """tblite's ASE calculator, fed each structure's charge and multiplicity.

    Parameters
    ----------
    method
        ``GFN2-xTB`` or ``GFN1-xTB``.
    **parameters
        Passed to ``tblite.ase.TBLite`` (``accuracy``, ``electronic_temperature``, ...).
    """

    implemented_properties = ("energy", "free_energy", "forces", "stress")

    def __init__(self, method: str, **parameters):
        super().__init__()
        self.method = method
        self.parameters_tblite = parameters

    def check_state(self, atoms, tol=1e-15):
        """Report a changed charge or spin too, so such a change is never served from cache."""
        changes = super().check_state(atoms, tol=tol)
        if not changes and charge_spin_changed(self.atoms, atoms):
            changes.append("info")
        return changes

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        """Compute with tblite given the charge and multiplicity in ``atoms.info``.

        A fresh tblite calculator per structure: changing the charge of a cached one
        first applies it to the previous structure, which fails when the electron count
        and the number of unpaired electrons do not fit together.
        """
        from tblite.ase import TBLite

        super().calculate(atoms, properties, system_changes)
        charge, multiplicity = charge_and_spin(self.atoms.info)
        tblite = TBLite(
            method=self.method,
            charge=charge,
            multiplicity=multiplicity,
            verbosity=0,
            **self.parameters_tblite,
        )
        tblite.calculate(self.atoms.copy(), ["energy", "forces"], all_changes)
        self.results = {
            name: value
            for name, value in tblite.results.items()
            if name in all_outputs and name in self.implemented_properties
        }


def validate(spec: ModelSpec) -> None:
    """Check the checkpoint is a method tblite implements."""
    if spec.checkpoint not in METHODS:
        raise ConfigError(f"tblite has no method '{spec.checkpoint}' ({', '.join(METHODS)}).")


def availability(spec: ModelSpec) -> tuple[bool, str]:
    """Say whether xTB runs here: where tblite is installed (parameters ship in its wheel)."""
    if importlib.util.find_spec("tblite") is None:
        return False, "package tblite is not installed (pip install 'mlpeg[xtb]')"
    return True, "parameters ship in the tblite wheel"


def make_calculator(spec: ModelSpec, *, device: str) -> Calculator:
    """Return an :class:`XTBCalculator` for the entry's method (CPU only)."""
    return XTBCalculator(spec.checkpoint, **spec.options)
