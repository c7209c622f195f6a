"""Validate a landing part before it touches the warehouse.

Every check is vectorised over the Arrow table (pyarrow.compute); the first problem found
is reported as one sentence naming the file, the row and the field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from mlpeg.enums import WAREHOUSE_UNITS, Band, Dispersion, PartKind, State
from mlpeg.errors import PartRejected
from mlpeg.landing import FORMAT_VERSION, PREDICTIONS_SCHEMA, SCHEMAS, read_metadata
from mlpeg.structures import STRUCTURE_TYPE


def _reject(path: Path, message: str, row: int | None = None, field: str | None = None) -> NoReturn:
    where = str(path.name)
    if row is not None:
        where += f": row {row}"
    if field is not None:
        where += f", field '{field}'" if row is not None else f": field '{field}'"
    raise PartRejected(f"{where}: {message}")


#: What ingest reads of a predictions part's ``structure``: its id and atomic numbers (the
#: atom count and elements). Positions, cell and the rest are read only for structures the
#: warehouse does not hold yet (:func:`read_structures`); the rows point at stored ones.
STRUCTURE_KEY_TYPE = pa.struct(
    [STRUCTURE_TYPE.field("structure_id"), STRUCTURE_TYPE.field("numbers")]
)
PREDICTIONS_KEY_SCHEMA = pa.schema(
    [
        pa.field("structure", STRUCTURE_KEY_TYPE) if field.name == "structure" else field
        for field in PREDICTIONS_SCHEMA
    ]
)


def _open(path: Path) -> pq.ParquetFile:
    try:
        return pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        _reject(path, f"not a readable Parquet file ({str(exc).splitlines()[0]})")


def _read(path: Path, parquet: pq.ParquetFile, columns: list[str]) -> pa.Table:
    try:
        return parquet.read(columns=columns)
    except (pa.ArrowException, OSError) as exc:
        _reject(path, f"not a readable Parquet file ({str(exc).splitlines()[0]})")


def _has_key_fields(parquet: pq.ParquetFile) -> bool:
    schema = parquet.schema_arrow
    if "structure" not in schema.names:
        return False
    kind = schema.field("structure").type
    return pa.types.is_struct(kind) and all(
        kind.get_field_index(name) >= 0 for name in STRUCTURE_KEY_TYPE.names
    )


def read_part(path: Path, *, keys_only: bool = False) -> tuple[pa.Table, dict[str, Any]]:
    """Read a part and its metadata, rejecting unreadable or foreign files.

    Parameters
    ----------
    path
        The Parquet file.
    keys_only
        For a predictions part, read of ``structure`` only its id and atomic numbers
        (:data:`PREDICTIONS_KEY_SCHEMA`); :func:`read_structures` reads the rest for the
        rows whose structure is new. Other kinds are read whole.

    Returns
    -------
    tuple
        The table cast to its kind's schema, and the ``mlpeg`` metadata block.

    Raises
    ------
    PartRejected
        If the file is not Parquet, not an mlpeg part, or has wrong columns or units.
    """
    parquet = _open(path)
    metadata = read_metadata(parquet.schema_arrow)
    if metadata is None:
        _reject(path, "not an mlpeg landing part (no 'mlpeg' metadata); foreign Parquet file")
    if metadata.get("format_version", 0) > FORMAT_VERSION:
        _reject(path, f"format version {metadata.get('format_version')} is newer than this mlpeg")
    try:
        kind = PartKind(metadata.get("kind"))
    except ValueError:
        _reject(path, f"unknown part kind {metadata.get('kind')!r}")
    units = metadata.get("units") or {}
    for quantity, unit in units.items():
        expected = WAREHOUSE_UNITS.get(quantity)
        if expected is not None and unit != expected:
            _reject(
                path,
                f"declares {quantity} in {unit!r}; the warehouse stores {expected!r}",
                field=quantity,
            )
    schema = SCHEMAS[kind]
    for field in schema:
        if field.name not in parquet.schema_arrow.names:
            _reject(path, "required column is missing", field=field.name)
    columns = schema.names
    if keys_only and kind == PartKind.PREDICTIONS and _has_key_fields(parquet):
        schema = PREDICTIONS_KEY_SCHEMA
        columns = [name for name in schema.names if name != "structure"]
        columns += [f"structure.{name}" for name in STRUCTURE_KEY_TYPE.names]
    table = _read(path, parquet, columns)
    return _cast(path, table, schema), metadata


def _cast(path: Path, table: pa.Table, schema: pa.Schema) -> pa.Table:
    try:
        return table.select(schema.names).cast(schema)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError) as exc:
        for field in schema:
            try:
                table.column(field.name).cast(field.type)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError):
                actual = table.schema.field(field.name).type
                _reject(path, f"has type {actual}, expected {field.type}", field=field.name)
        _reject(path, f"cannot be cast to the part schema ({exc})")


def read_structures(path: Path, rows: pa.Array) -> pa.Array:
    """Read the whole ``structure`` of some rows of a predictions part.

    Parameters
    ----------
    path
        The part (already read with ``keys_only``).
    rows
        Row indices in the part.

    Returns
    -------
    pyarrow.Array
        The structures of those rows, of :data:`mlpeg.structures.STRUCTURE_TYPE`.
    """
    parquet = _open(path)
    table = _cast(
        path, _read(path, parquet, ["structure"]), pa.schema([("structure", STRUCTURE_TYPE)])
    )
    return table.column("structure").take(rows).combine_chunks()


def _first_true(mask: pa.ChunkedArray | pa.Array) -> int | None:
    if not pc.any(mask).as_py():  # nulls count as false; None when all are null
        return None
    return pc.index(pc.fill_null(mask, False), True).as_py()


def _check_not_null(path: Path, table: pa.Table, columns: list[str]) -> None:
    for column in columns:
        values = table.column(column)
        if values.null_count == 0:  # Arrow keeps the count: no scan
            continue
        row = _first_true(pc.is_null(values))
        if row is not None:
            _reject(path, "must not be null", row, column)


def _first_nonfinite_row(array: pa.ChunkedArray | pa.Array, depth: int) -> int | None:
    """Row of the first non-finite number in a list (depth 1) or list of lists (depth 2)."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if isinstance(array, pa.ExtensionArray):  # pragma: no cover - defensive
        array = array.storage
    values = array
    for _ in range(depth):
        values = pc.list_flatten(values)
    if len(values) == 0 or pc.all(pc.is_finite(values)).as_py() is not False:
        return None  # the common case, without building the row index of every number
    values, parents = array, None
    for _ in range(depth):
        indices = pc.list_parent_indices(values)
        values = pc.list_flatten(values)
        parents = indices if parents is None else pc.take(parents, indices)
    return parents[_first_true(pc.invert(pc.is_finite(values)))].as_py()


def _check_finite_nested(path: Path, table: pa.Table, column: str, depth: int) -> None:
    """Reject non-finite numbers inside a list (depth 1) or list of lists (depth 2)."""
    row = _first_nonfinite_row(table.column(column), depth)
    if row is not None:
        _reject(path, "holds a non-finite number (NaN or inf)", row, column)


def _check_atomic_numbers(
    path: Path, numbers: pa.ChunkedArray | pa.Array, rows: pa.Array | None
) -> None:
    flat = pc.list_flatten(numbers)
    position = _first_true(pc.or_(pc.less(flat, 1), pc.greater(flat, 118)))
    if position is not None:
        parent = pc.list_parent_indices(numbers)[position].as_py()
        _reject(
            path,
            "holds an atomic number outside 1-118",
            parent if rows is None else rows[parent].as_py(),
            "structure.numbers",
        )


def validate_structures(
    path: Path, structures: pa.StructArray, rows: pa.Array | None = None
) -> None:
    """Check whole structures of a predictions part: atoms, positions and cell.

    Parameters
    ----------
    path
        The part (named in the message).
    structures
        Values of its ``structure`` column (all rows, or those of ``rows``).
    rows
        The part's row index of each structure; ``None`` when they are all rows, in order.

    Raises
    ------
    PartRejected
        Naming the file, row and field.
    """

    def row_of(index: int) -> int:
        return index if rows is None else rows[index].as_py()

    numbers = structures.field("numbers")
    positions = structures.field("positions")
    n_atoms = pc.list_value_length(numbers)
    row = _first_true(pc.not_equal(n_atoms, pc.list_value_length(positions)))
    if row is not None:
        _reject(path, "numbers and positions differ in length", row_of(row), "structure")
    row = _first_true(pc.equal(n_atoms, 0))
    if row is not None:
        _reject(path, "has no atoms", row_of(row), "structure")
    _check_atomic_numbers(path, numbers, rows)
    for column, depth in (("positions", 2), ("cell", 1)):
        row = _first_nonfinite_row(structures.field(column), depth)
        if row is not None:
            _reject(path, "holds a non-finite number (NaN or inf)", row_of(row), column)


def validate_predictions(
    path: Path,
    table: pa.Table,
    metadata: dict[str, Any],
    *,
    known_models: set[str],
    known_benchmarks: set[str],
) -> None:
    """Check a predictions part row by row, vectorised; raise on the first problem.

    Raises
    ------
    PartRejected
        Naming the file, row and field.
    """
    _check_not_null(
        path,
        table,
        ["run_id", "model_key", "benchmark_key", "system", "role", "task", "structure", "state"],
    )
    run = metadata.get("run") or {}
    for column in ("run_id", "model_key", "benchmark_key"):
        values = pc.unique(table.column(column)).to_pylist()
        if len(values) > 1:
            _reject(
                path, f"a part holds one run, model and benchmark; found {values[:3]}", field=column
            )
        if values and run.get(column) not in (None, values[0]):
            _reject(
                path,
                f"{values[0]!r} disagrees with the part metadata {run.get(column)!r}",
                field=column,
            )
    for name, vocabulary in (("dispersion", Dispersion), ("band", Band)):
        value = run.get(name)
        if value is not None and value not in {str(v) for v in vocabulary}:
            choices = ", ".join(str(v) for v in vocabulary)
            _reject(path, f"run {name} {value!r} is not one of {choices}", field=name)
    models = set(pc.unique(table.column("model_key")).to_pylist())
    for model in models - known_models:
        row = _first_true(pc.equal(table.column("model_key"), model))
        _reject(path, f"unknown model {model!r} (not in models.yml)", row, "model_key")
    benchmarks = set(pc.unique(table.column("benchmark_key")).to_pylist())
    for benchmark in benchmarks - known_benchmarks:
        row = _first_true(pc.equal(table.column("benchmark_key"), benchmark))
        _reject(path, f"unknown benchmark {benchmark!r}", row, "benchmark_key")
    states = pc.is_in(table.column("state"), pa.array([str(s) for s in State]))
    row = _first_true(pc.invert(states))
    if row is not None:
        _reject(
            path,
            f"state {table.column('state')[row].as_py()!r} is not one of {[str(s) for s in State]}",
            row,
            "state",
        )
    is_ok = pc.equal(table.column("state"), str(State.OK))
    row = _first_true(pc.and_(is_ok, pc.is_null(table.column("energy"))))
    if row is not None:
        _reject(path, "is null in a row whose state is 'ok'", row, "energy")
    row = _first_true(pc.invert(pc.is_finite(table.column("energy"))))
    if row is not None:
        _reject(path, "is not finite (NaN or inf)", row, "energy")

    numbers = pc.struct_field(table.column("structure"), "numbers")
    n_atoms = pc.list_value_length(numbers)
    row = _first_true(pc.equal(n_atoms, 0))
    if row is not None:
        _reject(path, "has no atoms", row, "structure")
    _check_atomic_numbers(path, numbers, None)
    if table.schema.field("structure").type.get_field_index("positions") >= 0:
        validate_structures(path, table.column("structure").combine_chunks())
    forces = table.column("forces")
    row = _first_true(
        pc.and_(pc.is_valid(forces), pc.not_equal(pc.list_value_length(forces), n_atoms))
    )
    if row is not None:
        _reject(path, "has a different number of rows than the structure has atoms", row, "forces")
    _check_finite_nested(path, table, "forces", 2)
    _check_finite_nested(path, table, "stress", 1)
    properties = table.column("properties").combine_chunks()
    if len(properties.items):
        position = _first_true(pc.invert(pc.is_finite(properties.items)))
        if position is not None:
            lengths = np.diff(np.asarray(properties.offsets))
            parents = np.repeat(np.arange(len(properties)), lengths)
            _reject(path, "holds a non-finite value", int(parents[position]), "properties")
    keys = pa.table({"system": table.column("system"), "role": table.column("role")})
    if keys.group_by(["system", "role"]).aggregate([]).num_rows != table.num_rows:
        counts = keys.group_by(["system", "role"]).aggregate([("system", "count")])
        duplicate = counts.filter(pc.greater(counts.column("system_count"), 1)).slice(0, 1)
        system = duplicate.column("system")[0].as_py()
        role = duplicate.column("role")[0].as_py()
        row = _first_true(
            pc.and_(pc.equal(table.column("system"), system), pc.equal(table.column("role"), role))
        )
        _reject(path, f"(system, role) = ({system!r}, {role!r}) appears twice", row, "system")


def validate_references(path: Path, table: pa.Table, *, known_benchmarks: set[str]) -> None:
    """Check a references part; raise :class:`PartRejected` on the first problem."""
    _check_not_null(path, table, ["benchmark_key", "system", "quantity", "value", "unit"])
    benchmarks = set(pc.unique(table.column("benchmark_key")).to_pylist())
    for benchmark in benchmarks - known_benchmarks:
        row = _first_true(pc.equal(table.column("benchmark_key"), benchmark))
        _reject(path, f"unknown benchmark {benchmark!r}", row, "benchmark_key")
    row = _first_true(pc.invert(pc.is_finite(table.column("value"))))
    if row is not None:
        _reject(path, "is not finite (NaN or inf)", row, "value")
    keys = table.select(["benchmark_key", "system", "quantity"])
    if keys.group_by(keys.column_names).aggregate([]).num_rows != table.num_rows:
        _reject(path, "a (benchmark, system, quantity) appears twice", field="system")


def validate_reactions(path: Path, table: pa.Table, *, known_benchmarks: set[str]) -> None:
    """Check a reactions (stoichiometry) part; raise :class:`PartRejected` on the first problem."""
    _check_not_null(path, table, ["benchmark_key", "reaction", "species", "coefficient"])
    benchmarks = set(pc.unique(table.column("benchmark_key")).to_pylist())
    for benchmark in benchmarks - known_benchmarks:
        row = _first_true(pc.equal(table.column("benchmark_key"), benchmark))
        _reject(path, f"unknown benchmark {benchmark!r}", row, "benchmark_key")
    row = _first_true(pc.invert(pc.is_finite(table.column("coefficient"))))
    if row is not None:
        _reject(path, "is not finite (NaN or inf)", row, "coefficient")
    keys = table.select(["benchmark_key", "reaction", "species"])
    if keys.group_by(keys.column_names).aggregate([]).num_rows != table.num_rows:
        _reject(path, "a (benchmark, reaction, species) appears twice", field="species")
    reactions = table.select(["benchmark_key", "reaction"])
    with_subset = table.select(["benchmark_key", "reaction", "subset"])
    n_reactions = reactions.group_by(reactions.column_names).aggregate([]).num_rows
    if with_subset.group_by(with_subset.column_names).aggregate([]).num_rows != n_reactions:
        _reject(path, "a reaction is given more than one subset", field="subset")
