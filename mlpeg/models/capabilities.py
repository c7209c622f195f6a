"""What a model accepts beyond its elements: charge, spin, an external field, periodic cells.

A structure carries its total charge and spin multiplicity in ``atoms.info["charge"]`` and
``atoms.info["spin"]`` (2S+1), and a uniform external electric field in
``atoms.info["external_field"]`` (a 3-vector in V/Å). A model that cannot take one of these
would silently compute a neutral, closed-shell, field-free or isolated system instead; such
a structure is recorded as ``unsupported`` with the reason, as one with an element outside
the model's training data is.

Each family module declares its defaults as ``ACCEPTS`` (an :class:`Accepts`); an entry in
``models.yml`` may override any of them under ``accepts:`` (MACE-OMOL takes charge and spin
while MACE-MP does not).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np
from ase import Atoms

from mlpeg.errors import ConfigError, MlpegError
from mlpeg.models.prepare import charge_and_spin

#: ``atoms.info`` key of a uniform external electric field (V/Å, three components).
FIELD_KEY = "external_field"
#: ``atoms.info[IMPLICIT_STATE_KEY] = True``: the structure's charge and spin are given for
#: the models that take them, and a model that takes none computes it as it is (a benchmark
#: that asks whether a model infers an oxidation state from the atoms around it).
IMPLICIT_STATE_KEY = "state_implicit"


@dataclass(frozen=True)
class Accepts:
    """What a model can be given.

    Parameters
    ----------
    charge
        A total charge other than zero.
    spin
        A spin multiplicity other than 1 (open shell).
    field
        A uniform external electric field.
    periodic
        Periodic cells (crystals, slabs).
    molecules
        Non-periodic structures (molecules, clusters).
    """

    charge: bool = False
    spin: bool = False
    field: bool = False
    periodic: bool = True
    molecules: bool = True

    def updated(self, overrides: dict[str, Any] | None, where: str) -> Accepts:
        """Return a copy with ``overrides`` (an ``accepts:`` mapping) applied."""
        if not overrides:
            return self
        known = {item.name for item in fields(self)}
        for key, value in overrides.items():
            if key not in known:
                raise ConfigError(f"{where}: accepts has no '{key}' ({', '.join(sorted(known))}).")
            if not isinstance(value, bool):
                raise ConfigError(f"{where}: accepts.{key} must be true or false, not {value!r}.")
        return replace(self, **overrides)

    def as_dict(self) -> dict[str, bool]:
        """Return the flags as a plain dict."""
        return {item.name: getattr(self, item.name) for item in fields(self)}

    def summary(self) -> str:
        """Return the accepted extras in a few words (``charge, spin, periodic``)."""
        return ", ".join(name for name, value in self.as_dict().items() if value) or "–"


def external_field(atoms: Atoms) -> np.ndarray | None:
    """Return the structure's external field (V/Å), or None when it has none or a zero one.

    Raises
    ------
    MlpegError
        If ``atoms.info["external_field"]`` is not three finite numbers.
    """
    value = atoms.info.get(FIELD_KEY)
    if value is None:
        return None
    try:
        field = np.asarray(value, dtype=float).reshape(3)
    except (TypeError, ValueError) as exc:
        raise MlpegError(
            f"atoms.info['{FIELD_KEY}'] = {value!r} is not a 3-vector in V/Å."
        ) from exc
    if not np.all(np.isfinite(field)):
        raise MlpegError(f"atoms.info['{FIELD_KEY}'] = {value!r} is not finite.")
    return field if np.any(field != 0.0) else None


def unsupported_reason(accepts: Accepts, atoms: Atoms, model: str) -> str | None:
    """Return why ``model`` cannot compute ``atoms`` as given, or None when it can.

    Parameters
    ----------
    accepts
        What the model accepts.
    atoms
        The structure, with charge, spin and field in ``atoms.info`` where it has them.
    model
        The model's name, for the message.
    """
    periodic = bool(np.any(atoms.pbc))
    if periodic and not accepts.periodic:
        return f"periodic cells not supported by {model}"
    if not periodic and not accepts.molecules:
        return f"non-periodic structures not supported by {model}"
    charge, multiplicity = charge_and_spin(atoms.info)
    implicit = bool(atoms.info.get(IMPLICIT_STATE_KEY))  # computed as it is, state unread
    if charge != 0 and not accepts.charge and not implicit:
        return f"charge {charge:+d} not supported by {model} (it takes no total charge)"
    if multiplicity != 1 and not accepts.spin and not implicit:
        return f"spin multiplicity {multiplicity} not supported by {model} (closed shell only)"
    # A declared field, zero included, makes a field calculation: a benchmark of field
    # responses declares its zero-field references too, so that a model blind to fields
    # is not scored on their half of each energy difference (external_field also checks
    # that the value is three finite numbers).
    if (external_field(atoms) is not None or FIELD_KEY in atoms.info) and not accepts.field:
        return f"external electric field not supported by {model}"
    return None
