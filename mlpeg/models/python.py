"""Bring your own model: any Python callable that returns an ASE calculator.

An entry of family ``python`` names its calculator by ``factory: package.module:callable``;
the callable is called with the entry's ``options`` as keyword arguments (and
``checkpoint=<file>`` when the entry names a checkpoint file, whose sha256 is checked
first when the entry pins one). Installed packages may register such models through the
``mlpeg.models`` entry-point group (:mod:`mlpeg.models.sources`).

On first use in a process the calculator is checked, so that a broken model is one clear
error before anything runs instead of a run of failed rows: it must be an ASE calculator
(:class:`~ase.calculators.calculator.BaseCalculator`) that declares ``energy`` and
``forces`` in ``implemented_properties``, and it must return a finite energy and finite
forces for a probe: a homonuclear dimer of the lowest element the entry declares, at twice
its covalent radius, in a 12 Å periodic box (or isolated, when the entry does not accept
periodic cells). A structure with a charge or an open shell is ``unsupported`` unless the
entry says ``accepts: {charge: true}`` or ``{spin: true}``; an entry that says so must give
another energy for the probe as a cation or a triplet (``atoms.info["charge"]``,
``["spin"]``), or the calculator does not read what the entry claims it takes.
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path
from typing import Any

import numpy as np
from ase import Atoms
from ase.calculators.calculator import BaseCalculator
from ase.data import chemical_symbols, covalent_radii

from mlpeg.errors import ConfigError
from mlpeg.models.capabilities import Accepts
from mlpeg.models.registry import ModelSpec

#: A generic calculator is given neutral, closed-shell, field-free structures unless its
#: entry declares more.
ACCEPTS = Accepts()
#: What every benchmark asks of a calculator.
REQUIRED_PROPERTIES = ("energy", "forces")
#: Edge of the probe's cubic box (Å).
PROBE_BOX = 12.0

#: Calculators built and checked in this process, by what built them.
_CHECKED: dict[tuple, BaseCalculator] = {}


def factory_name(spec: ModelSpec) -> str:
    """Return ``package.module:callable`` (``checkpoint`` for the ``ase_calculator`` alias)."""
    return spec.factory or spec.checkpoint


def _target(spec: ModelSpec) -> tuple[str, str]:
    module, _, name = factory_name(spec).partition(":")
    return module, name


def validate(spec: ModelSpec) -> None:
    """Check that the factory reads ``package.module:callable``."""
    module, name = _target(spec)
    if not module or not name or not all(part.isidentifier() for part in module.split(".")):
        raise ConfigError(
            f"factory must name a callable as package.module:callable, not '{factory_name(spec)}'."
        )


def _module_found(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent package is missing
        return False


def availability(spec: ModelSpec) -> tuple[bool, str]:
    """Say whether the factory's module can be found here (found, not imported)."""
    module, name = _target(spec)
    top = module.split(".")[0]
    if not _module_found(top):
        return False, f"package {top} is not installed"
    if not _module_found(module):
        return False, f"module {module} is not found"
    return True, f"{module}:{name}"


def _load_factory(spec: ModelSpec) -> Any:
    """Import the factory named by the entry, or raise one sentence saying why not."""
    module, name = _target(spec)
    try:
        target: Any = importlib.import_module(module)
        for attribute in name.split("."):
            target = getattr(target, attribute)
    except Exception as exc:  # ImportError, AttributeError, or the module's own failure
        raise ConfigError(
            f"Model '{spec.name}': factory {module}:{name} cannot be imported "
            f"({type(exc).__name__}: {exc})."
        ) from exc
    if not callable(target):
        raise ConfigError(
            f"Model '{spec.name}': factory {module}:{name} is a {type(target).__name__}, "
            "not a callable."
        )
    return target


def _arguments(spec: ModelSpec) -> dict[str, Any]:
    """Return the factory's keyword arguments: options, and the checkpoint file if any."""
    arguments = dict(spec.options)
    if spec.factory and spec.checkpoint_kind == "file":
        path = Path(spec.checkpoint)
        if not path.is_file():
            raise ConfigError(f"Model '{spec.name}': checkpoint {path} does not exist.")
        if spec.checkpoint_sha256:
            from mlpeg.models.checkpoints import file_sha256

            actual = file_sha256(path)
            if actual != spec.checkpoint_sha256:
                raise ConfigError(
                    f"Model '{spec.name}': {path} has sha256 {actual[:12]}…, the registry "
                    f"pins {spec.checkpoint_sha256[:12]}…."
                )
        arguments.setdefault("checkpoint", str(path))
    return arguments


def probe_structure(spec: ModelSpec) -> Atoms:
    """Return the probe: a dimer of the lowest declared element, periodic where accepted."""
    z = min(spec.elements)
    bond = 2 * covalent_radii[z]
    centre = PROBE_BOX / 2
    positions = [[centre, centre, centre - bond / 2], [centre, centre, centre + bond / 2]]
    periodic = spec.accepts.periodic or not spec.accepts.molecules
    return Atoms(numbers=[z, z], positions=positions, cell=[PROBE_BOX] * 3, pbc=periodic)


def check_calculator(spec: ModelSpec, calc: Any) -> None:
    """Check what a factory returned: its type, its properties, and a finite probe.

    Raises
    ------
    ConfigError
        One sentence naming the model, the factory and what is wrong.
    """
    where = f"Model '{spec.name}': factory {factory_name(spec)}"
    if not isinstance(calc, BaseCalculator):
        raise ConfigError(
            f"{where} returned a {type(calc).__module__}.{type(calc).__qualname__}, not an "
            "ASE calculator (ase.calculators.calculator.BaseCalculator)."
        )
    declared = set(getattr(calc, "implemented_properties", ()) or ())
    missing = [name for name in REQUIRED_PROPERTIES if name not in declared]
    if missing:
        raise ConfigError(
            f"{where} returned a {type(calc).__name__} whose implemented_properties lack "
            f"{', '.join(missing)} (it declares {', '.join(sorted(declared)) or 'none'})."
        )
    atoms = probe_structure(spec)
    probe = f"a probe {chemical_symbols[atoms.numbers[0]]}2 dimer"
    atoms.calc = calc
    try:
        energy = atoms.get_potential_energy()
        forces = np.asarray(atoms.get_forces(), dtype=float)
    except Exception as exc:
        raise ConfigError(
            f"{where}: its calculator raised {type(exc).__name__} ({exc}) on {probe}, the "
            "first structure it was given (declare the elements it covers with elements: "
            "in its entry if that one is not)."
        ) from exc
    finally:
        atoms.calc = None
    if not np.isfinite(energy):
        raise ConfigError(f"{where}: its calculator returned energy {energy} for {probe}.")
    if forces.shape != (2, 3) or not np.isfinite(forces).all():
        raise ConfigError(
            f"{where}: its calculator returned non-finite or misshapen forces "
            f"{forces.tolist()} for {probe}."
        )
    _check_declared_charge_spin(spec, calc, where, energy)


def _check_declared_charge_spin(spec: ModelSpec, calc: BaseCalculator, where: str, neutral: float):
    """Refuse ``accepts: charge`` or ``spin`` from a calculator that ignores them.

    The probe is computed again as a cation (charge +2, closed shell) and as a triplet; a
    calculator that reads ``atoms.info["charge"]`` or ``["spin"]`` gives another energy.
    """
    for flag, info, what in (
        ("charge", {"charge": 2, "spin": 1}, "charge +2"),
        ("spin", {"charge": 0, "spin": 3}, "spin multiplicity 3"),
    ):
        if not getattr(spec.accepts, flag):
            continue
        atoms = probe_structure(spec)
        atoms.info.update(info)
        calc.reset()  # ASE reuses results while only atoms.info changes
        atoms.calc = calc
        try:
            energy = atoms.get_potential_energy()
        except Exception as exc:
            raise ConfigError(
                f"{where}: its entry says it accepts {flag}, but its calculator raised "
                f"{type(exc).__name__} ({exc}) on the probe with {what}."
            ) from exc
        finally:
            atoms.calc = None
            calc.reset()
        if not np.isfinite(energy) or abs(energy - neutral) <= 1e-8 * max(1.0, abs(neutral)):
            raise ConfigError(
                f"{where}: its entry says it accepts {flag}, but its calculator gives energy "
                f"{energy} for the probe with {what}, as for the neutral singlet (it does not "
                f"read atoms.info['{flag}']); drop accepts: {flag}."
            )


def make_calculator(spec: ModelSpec, *, device: str) -> BaseCalculator:
    """Build the calculator with the factory, checked on its first use in this process.

    Parameters
    ----------
    spec
        The registry entry (``factory`` and ``options``).
    device
        Not passed on: a factory that takes a device gets it from ``options``.

    Raises
    ------
    ConfigError
        When the factory cannot be imported, raises, returns something that is not an
        ASE calculator, or its calculator fails the probe.
    """
    key = (
        spec.name,
        factory_name(spec),
        spec.checkpoint,
        spec.checkpoint_sha256,
        repr(sorted(spec.options.items())),
    )
    if key not in _CHECKED:
        factory = _load_factory(spec)
        arguments = _arguments(spec)
        try:
            calc = factory(**arguments)
        except Exception as exc:
            raise ConfigError(
                f"Model '{spec.name}': factory {factory_name(spec)} raised "
                f"{type(exc).__name__} ({exc}) when called with {arguments or 'no arguments'}."
            ) from exc
        check_calculator(spec, calc)
        _CHECKED[key] = calc
    return _CHECKED[key]


def preflight(spec: ModelSpec, *, device: str) -> None:
    """Build and check the calculator now, before a run writes anything."""
    make_calculator(spec, device=device)
