"""Read extended XYZ files as ASE writes them, fast enough for trees of thousands of files.

The comment line of each frame is parsed as ASE's ``key_val_str_to_dict`` parses it (plain
``key=value`` pairs here, anything else by ASE's own function) and the ``Properties`` spec
as ASE's ``parse_properties`` does, so keys, types and the ``Lattice`` and ``stress``
conventions mean what they mean to ``ase.io.read`` (the tests hold the two to the same
results). Only the atom block is read differently: all of a frame's columns are split at
once and converted with numpy, instead of a Python conversion per value. ``ase.io`` itself
is imported only for a comment line the fast path cannot read: importing it imports SciPy,
half a second of every ``mlpeg ingest --from-ml-peg``. Results follow ASE's: ``energy``
and ``stress`` from the comment line and ``forces`` from the atom block are the calculator
results; every other comment key is ``info``. A malformed file raises
:class:`ExtxyzError` naming the file and line.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from ase import Atoms
from ase.calculators.calculator import all_properties
from ase.data import atomic_numbers
from ase.outputs import ArrayProperty, all_outputs

from mlpeg.errors import DataError

DEFAULT_PROPERTIES = "species:S:1:pos:R:3"
_BOOLEANS = {"T": True, "F": False, "True": True, "False": False}

#: Comment-line keys ASE keeps as text (``ase.io.extxyz.UNPROCESSED_KEYS``).
UNPROCESSED_KEYS = frozenset({"uid"})
#: Comment-line keys holding a 3×3 matrix as 9 numbers, column-major (ASE's SPECIAL_3_3_KEYS).
SPECIAL_3_3_KEYS = frozenset({"Lattice", "virial", "stress"})
#: Calculator results of one structure (not per atom) that ASE takes off ``info``: those of
#: ASE's outputs a calculator may report whose shape does not start with the atom count.
PER_CONFIG_PROPERTIES = tuple(
    key
    for key, output in all_outputs.items()
    if key in all_properties
    and not (isinstance(output, ArrayProperty) and output.shapespec[0] == "natoms")
)
#: Per-atom column names of the ``Properties`` spec and the ASE array names they stand for.
_ARRAY_NAMES = {"pos": "positions", "Z": "numbers", "charge": "charges", "species": "symbols"}
_PROPERTY_TYPES = frozenset("RISL")


def parse_properties(spec: str) -> tuple[dict[str, tuple[str, int]], list[str]]:
    """Read a ``Properties`` spec (``species:S:1:pos:R:3``) as ASE's ``parse_properties``.

    Parameters
    ----------
    spec
        ``NAME:TYPE:COLUMNS`` triples joined by ``:``; TYPE is R, I, S or L.

    Returns
    -------
    tuple[dict[str, tuple[str, int]], list[str]]
        Per property name its ASE array name and column count, and the names in order.

    Raises
    ------
    ValueError
        On a column count that is not an integer, an unknown type, or a name given twice.
    """
    fields = spec.split(":")
    widths = [int(value) for value in fields[2::3]]
    properties: dict[str, tuple[str, int]] = {}
    names: list[str] = []
    columns: set[str] = set()  # ASE names the columns of pos:R:3 pos0, pos1, pos2
    for name, kind, width in zip(fields[::3], fields[1::3], widths, strict=False):
        if kind not in _PROPERTY_TYPES:
            raise ValueError(f"Unknown property type: {kind}")
        named = {name} if width == 1 else {f"{name}{index}" for index in range(width)}
        if name in properties or named & columns:
            raise ValueError(f"property {name!r} is given twice")
        columns |= named
        properties[name] = (_ARRAY_NAMES.get(name, name), width)
        names.append(name)
    return properties, names


class ExtxyzError(DataError):
    """An extended XYZ file that cannot be read; the message names file and line."""


@dataclass
class Frame:
    """One structure of an extended XYZ file, with its stored calculator results.

    Parameters
    ----------
    numbers, positions, cell, pbc
        The structure (positions and cell in Å; ``cell`` rows are lattice vectors).
    info
        Comment-line keys other than the structure and the calculator results.
    energy
        ``energy`` from the comment line (eV), None when absent.
    forces
        Per-atom ``forces`` column (eV/Å), None when absent.
    stress
        ``stress`` in Voigt order xx, yy, zz, yz, xz, xy (eV/Å³), None when absent.
    line
        1-based line of the frame's atom count, for messages.
    """

    numbers: np.ndarray
    positions: np.ndarray
    cell: np.ndarray
    pbc: np.ndarray
    info: dict[str, Any] = field(default_factory=dict)
    energy: float | None = None
    forces: np.ndarray | None = None
    stress: np.ndarray | None = None
    line: int = 1

    def __len__(self) -> int:
        return len(self.numbers)

    def atoms(self) -> Atoms:
        """Return the structure as ``ase.Atoms`` (with ``info``, without results)."""
        return Atoms(
            numbers=self.numbers,
            positions=self.positions,
            cell=self.cell,
            pbc=self.pbc,
            info=dict(self.info),
        )


def _fail(path: Path, line: int, message: str) -> ExtxyzError:
    return ExtxyzError(f"{path}: line {line}: {message}.")


def _first_bad_line(block: list[str], n_columns: int) -> tuple[int, int]:
    for offset, text in enumerate(block):
        found = len(text.split())
        if found != n_columns:
            return offset, found
    return 0, n_columns  # pragma: no cover - only called when some line is off


def _column(
    path: Path, first_line: int, table: np.ndarray, name: str, kind: str, start: int, width: int
) -> np.ndarray:
    """Convert columns ``start:start+width`` of the token table to the property's type."""
    raw = table[:, start : start + width]
    try:
        if kind == "R":
            values = raw.astype(np.float64)
        elif kind == "I":
            values = raw.astype(np.int64)
        elif kind == "L":
            values = np.vectorize(_BOOLEANS.__getitem__, otypes=[bool])(raw)
        else:
            values = raw
    except (ValueError, KeyError, OverflowError):
        for row, tokens in enumerate(raw):
            for token in tokens:
                try:
                    if kind == "R":
                        float(token)
                    elif kind == "I":
                        int(token)
                    elif kind == "L":
                        _BOOLEANS[token]
                except (ValueError, KeyError, OverflowError):
                    expected = {"R": "a real number", "I": "an integer", "L": "T or F"}[kind]
                    raise _fail(
                        path,
                        first_line + row,
                        f"{str(token)!r} in property '{name}' is not {expected}",
                    ) from None
        raise  # pragma: no cover - numpy and Python disagree on a token
    return values[:, 0] if width == 1 else values


def _numbers(path: Path, line: int, arrays: dict[str, np.ndarray]) -> np.ndarray:
    if "numbers" in arrays:
        numbers = np.asarray(arrays["numbers"], dtype=np.int64)
        bad = (numbers < 1) | (numbers > 118)
        if bad.any():
            row = int(np.argmax(bad))
            raise _fail(path, line + 2 + row, f"atomic number {numbers[row]} is not in 1-118")
        return numbers
    if "symbols" not in arrays:
        raise _fail(path, line + 1, "Properties has neither 'species' nor 'Z'")
    symbols = arrays["symbols"]
    lookup = {}
    for symbol in set(symbols.tolist()):
        number = atomic_numbers.get(str(symbol).capitalize(), 0)
        if number == 0:
            row = symbols.tolist().index(symbol)
            raise _fail(path, line + 2 + row, f"{str(symbol)!r} is not a chemical symbol")
        lookup[symbol] = number
    return np.fromiter((lookup[s] for s in symbols.tolist()), dtype=np.int64, count=len(symbols))


def _pbc(path: Path, line: int, info: dict[str, Any], has_lattice: bool) -> np.ndarray:
    if "pbc" not in info:
        return np.full(3, has_lattice)
    value = info.pop("pbc")
    try:
        pbc = np.broadcast_to(np.asarray(value), (3,))
    except ValueError:
        raise _fail(path, line, f"pbc {value!r} is not one or three of T/F") from None
    if pbc.dtype != bool:
        raise _fail(path, line, f"pbc {value!r} is not one or three of T/F")
    return pbc.copy()


def _stress(path: Path, line: int, value: Any) -> np.ndarray:
    stress = np.asarray(value)
    if stress.dtype.kind not in "if":
        raise _fail(path, line, f"stress {value!r} is not numeric")
    stress = stress.astype(np.float64)
    if stress.shape == (3, 3):
        return stress[[0, 1, 2, 1, 0, 0], [0, 1, 2, 2, 2, 1]]
    if stress.shape == (6,):
        return stress
    raise _fail(path, line, f"stress has {stress.size} values; expected 6 or 9")


def _energy(path: Path, line: int, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise _fail(path, line, f"energy {value!r} is not a number")
    return float(value)


#: ``key=value`` or ``key="value"``: the pairs ASE writes. Lines with anything else
#: (escapes, brackets, single quotes, bare keys) go to ASE's character-by-character parser.
_PAIR = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_\-]*)=(?:"([^"\\\[\]{}\']*)"|([^\s"\\\[\]{}\'=]+))')
_VALUE_PARTS = re.compile(r"[^\s,]+")
_INTEGER = re.compile(r"[+-]?[0-9]+\Z")
_FLOAT = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?\Z")
_STRING_BOOLEANS = {
    "T": True,
    "F": False,
    "true": True,
    "false": False,
    "True": True,
    "False": False,
    "TRUE": True,
    "FALSE": False,
}


def _converted(key: str, value: str) -> Any:
    """Turn one comment-line value into what ASE's ``key_val_str_to_dict`` makes of it."""
    if key.lower() in UNPROCESSED_KEYS:
        return value
    if key not in SPECIAL_3_3_KEYS:  # plain numbers, the common case, without numpy
        if _INTEGER.match(value) and -(2**63) <= (integer := int(value)) < 2**63:
            return np.int64(integer)  # what np.array([value], dtype=int)[0] gives
        if _FLOAT.match(value):
            return np.float64(float(value))
    parts = _VALUE_PARTS.findall(value)
    converted: Any = value
    try:
        try:
            number = np.array(parts, dtype=int)
        except (ValueError, OverflowError):
            number = np.array(parts, dtype=float)
        converted = number[0] if len(number) == 1 else number
    except (ValueError, OverflowError):
        pass
    if key in SPECIAL_3_3_KEYS:
        if not isinstance(converted, np.ndarray) or converted.shape != (9,):
            raise ValueError(f"{key} must be 9 numbers")
        return converted.reshape((3, 3), order="F")
    if isinstance(converted, str):
        if parts and all(part in _STRING_BOOLEANS for part in parts):
            flags = [_STRING_BOOLEANS[part] for part in parts]
            return flags[0] if len(flags) == 1 else flags
        if converted.startswith("_JSON "):
            decoded = json.loads(converted.replace("_JSON ", "", 1))
            array = np.array(decoded)
            return array if array.dtype.kind in "ifb" else decoded
    return converted


def comment_info(line: str) -> dict[str, Any]:
    """Parse a comment line as ASE's ``key_val_str_to_dict`` does, faster for plain pairs.

    Raises
    ------
    ValueError
        When a special 3×3 key (``Lattice``, ``stress``, ``virial``) is not 9 numbers.
    """
    text = line.strip()
    info: dict[str, Any] = {}
    position = 0
    while position < len(text):
        match = _PAIR.match(text, position)
        if match is None or (match.end() < len(text) and not text[match.end()].isspace()):
            from ase.io.extxyz import key_val_str_to_dict  # rare: imports ase.io and SciPy

            return key_val_str_to_dict(line)
        key = match.group(1)
        raw = match.group(2) if match.group(2) is not None else match.group(3)
        info[key] = _converted(key, raw)
        position = match.end()
    return info


def _frame(path: Path, lines: list[str], start: int) -> tuple[Frame, int]:
    """Parse the frame whose atom count is on ``lines[start]``; return it and the next line."""
    line = start + 1
    head = lines[start].strip()
    try:
        n_atoms = int(head.split()[0])
    except (ValueError, IndexError):
        raise _fail(path, line, f"expected the number of atoms, found {head[:40]!r}") from None
    if n_atoms < 0:
        raise _fail(path, line, f"the number of atoms is negative ({n_atoms})")
    if start + 1 >= len(lines):
        raise _fail(path, line, "the file ends before the frame's comment line")
    comment = lines[start + 1].strip()
    try:
        info = comment_info(comment) if comment else {}
    except (ValueError, IndexError) as exc:
        raise _fail(path, line + 1, f"unreadable comment line ({exc})") from None
    spec = info.pop("Properties", DEFAULT_PROPERTIES)
    try:
        properties, names = parse_properties(str(spec))
    except (ValueError, IndexError) as exc:
        raise _fail(path, line + 1, f"unreadable Properties {spec!r} ({exc})") from None
    block = lines[start + 2 : start + 2 + n_atoms]
    if len(block) < n_atoms:
        raise _fail(
            path, line, f"the frame has {n_atoms} atoms but the file ends after {len(block)}"
        )
    kinds = dict(zip(spec.split(":")[::3], spec.split(":")[1::3], strict=False))
    n_columns = sum(properties[name][1] for name in names)
    tokens = " ".join(block).split()
    if len(tokens) != n_atoms * n_columns:
        offset, found = _first_bad_line(block, n_columns)
        raise _fail(path, line + 2 + offset, f"expected {n_columns} columns, found {found}")
    table = np.asarray(tokens, dtype=object).reshape(n_atoms, n_columns)
    arrays: dict[str, np.ndarray] = {}
    column = 0
    for name in names:
        ase_name, width = properties[name]
        arrays[ase_name] = _column(path, line + 2, table, name, kinds[name], column, width)
        column += width
    if "positions" not in arrays or arrays["positions"].shape != (n_atoms, 3):
        raise _fail(path, line + 1, "Properties lacks 'pos:R:3'")
    numbers = _numbers(path, line, arrays)
    has_lattice = "Lattice" in info
    cell = np.zeros((3, 3))
    if has_lattice:
        lattice = np.asarray(info.pop("Lattice"))
        if lattice.shape != (3, 3) or lattice.dtype.kind not in "if":
            raise _fail(path, line + 1, "Lattice must hold 9 numbers")
        cell = lattice.T.astype(np.float64)
    pbc = _pbc(path, line + 1, info, has_lattice)
    energy = _energy(path, line + 1, info["energy"]) if "energy" in info else None
    stress = _stress(path, line + 1, info["stress"]) if "stress" in info else None
    for key in PER_CONFIG_PROPERTIES:
        info.pop(key, None)
    forces = arrays.get("forces")
    if forces is not None and forces.shape != (n_atoms, 3):
        raise _fail(path, line + 1, "forces must have three columns")
    frame = Frame(
        numbers=numbers,
        positions=arrays["positions"],
        cell=cell,
        pbc=pbc,
        info=info,
        energy=energy,
        forces=forces,
        stress=stress,
        line=line,
    )
    return frame, start + 2 + n_atoms


def parse_frames(text: str, path: Path) -> list[Frame]:
    """Parse every frame of an extended XYZ text.

    Parameters
    ----------
    text
        The file's contents.
    path
        The file, named in error messages.

    Returns
    -------
    list[Frame]
        The frames in file order.

    Raises
    ------
    ExtxyzError
        Naming the file and line of the first problem.
    """
    lines = text.splitlines()
    frames = []
    position = 0
    while position < len(lines):
        if not lines[position].strip():
            # ASE stops reading at a blank line; trailing ones are harmless, but content
            # after one would be silently lost, so it is an error here.
            rest = next((i for i in range(position, len(lines)) if lines[i].strip()), None)
            if rest is None:
                break
            raise _fail(path, position + 1, "blank line before more content (ASE stops there)")
        frame, position = _frame(path, lines, position)
        frames.append(frame)
    if not frames:
        raise ExtxyzError(f"{path}: holds no structure.")
    return frames


def read_frames(path: Path) -> tuple[list[Frame], bytes]:
    """Read an extended XYZ file; return its frames and its raw bytes (for hashing).

    Raises
    ------
    ExtxyzError
        If the file cannot be read, is not UTF-8 text, or is malformed.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ExtxyzError(f"{path}: cannot be read ({exc.strerror}).") from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ExtxyzError(f"{path}: is not UTF-8 text (byte {exc.start}).") from exc
    return parse_frames(text, path), data
