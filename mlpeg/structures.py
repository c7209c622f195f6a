"""Convert ``ase.Atoms`` to and from Arrow rows, and address structures by content.

A structure's id is a hash of its atomic numbers, positions (rounded to 1e-6 Å), cell
(likewise) and periodic boundary conditions, so the same geometry computed by fifty models
is stored once and joins across benchmarks.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np
import pyarrow as pa
from ase import Atoms

#: Decimal places kept in positions and cell before hashing (1e-6 Å).
HASH_DECIMALS = 6

STRUCTURE_TYPE = pa.struct(
    [
        ("structure_id", pa.string()),
        ("numbers", pa.list_(pa.int16())),
        ("positions", pa.list_(pa.list_(pa.float64(), 3))),
        ("cell", pa.list_(pa.float64(), 9)),
        ("pbc", pa.list_(pa.bool_(), 3)),
        ("info", pa.string()),
    ]
)

#: ``atoms.info`` keys kept with a structure (charge and spin reach the models).
KEPT_INFO_KEYS = ("charge", "spin", "multiplicity", "name", "system", "external_field")


def _canonical(values: np.ndarray) -> np.ndarray:
    # Adding 0.0 turns -0.0 into 0.0 so that sign of zero never changes a hash.
    return np.round(np.asarray(values, dtype=np.float64), HASH_DECIMALS) + 0.0


def structure_hash(atoms: Atoms) -> str:
    """Return the content hash of a structure (32 hex characters).

    Parameters
    ----------
    atoms
        The structure.

    Returns
    -------
    str
        BLAKE2b digest of numbers, rounded positions, rounded cell and pbc, and of the
        applied electric field (``info["external_field"]``) when there is a non-zero one.
    """
    digest = hashlib.blake2b(digest_size=16)
    digest.update(np.asarray(atoms.numbers, dtype=np.int64).tobytes())
    digest.update(_canonical(atoms.positions).tobytes())
    digest.update(_canonical(atoms.cell.array).tobytes())
    digest.update(np.asarray(atoms.pbc, dtype=np.uint8).tobytes())
    field_v_per_a = atoms.info.get("external_field")
    if field_v_per_a is not None and np.any(np.asarray(field_v_per_a, dtype=np.float64) != 0):
        # the same geometry in another applied field is another structure (hashes of
        # structures without a field are unchanged)
        digest.update(b"external_field")
        digest.update(_canonical(np.asarray(field_v_per_a, dtype=np.float64)).tobytes())
    return digest.hexdigest()


def _json_safe(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


def atoms_to_row(atoms: Atoms) -> dict[str, Any]:
    """Return a structure as a dict matching :data:`STRUCTURE_TYPE`."""
    info = {key: _json_safe(atoms.info[key]) for key in KEPT_INFO_KEYS if key in atoms.info}
    return {
        "structure_id": structure_hash(atoms),
        "numbers": atoms.numbers.astype(np.int16).tolist(),
        "positions": np.asarray(atoms.positions, dtype=np.float64).tolist(),
        "cell": np.asarray(atoms.cell.array, dtype=np.float64).reshape(9).tolist(),
        "pbc": [bool(flag) for flag in atoms.pbc],
        "info": json.dumps(info, sort_keys=True),
    }


def row_to_atoms(row: dict[str, Any]) -> Atoms:
    """Rebuild ``ase.Atoms`` from a structure row (from Arrow, DuckDB or Polars)."""
    atoms = Atoms(
        numbers=np.asarray(row["numbers"], dtype=int),
        positions=np.asarray(row["positions"], dtype=float).reshape(-1, 3),
        cell=np.asarray(row["cell"], dtype=float).reshape(3, 3),
        pbc=np.asarray(row["pbc"], dtype=bool),
    )
    info = row.get("info")
    if info:
        atoms.info.update(json.loads(info) if isinstance(info, str) else dict(info))
    return atoms
