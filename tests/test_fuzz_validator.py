"""Fuzz the landing-part validator: any input is loaded or rejected cleanly, never crashes."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from helpers import prediction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlpeg.errors import PartRejected
from mlpeg.landing import METADATA_KEY, PREDICTIONS_SCHEMA
from mlpeg.warehouse.validate import read_part, validate_predictions

floats = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True, width=64))
numbers = st.lists(st.integers(min_value=-5, max_value=130), min_size=0, max_size=4)


@st.composite
def rows(draw):
    """Prediction rows with random energies, states, atomic numbers and force shapes."""
    from ase import Atoms

    n_rows = draw(st.integers(min_value=0, max_value=4))
    out = []
    for index in range(n_rows):
        zs = draw(st.lists(st.integers(min_value=1, max_value=20), min_size=1, max_size=3))
        atoms = Atoms(numbers=zs, positions=[[i, 0, 0] for i in range(len(zs))])
        n_forces = draw(st.integers(min_value=0, max_value=4))
        forces = draw(st.one_of(st.none(), st.just([[draw(floats) or 0.0, 0.0, 0.0]] * n_forces)))
        row = prediction(
            draw(st.sampled_from(["a", "b"])) + str(index % 2),
            draw(st.sampled_from(["solid", "molecule"])),
            atoms,
            draw(floats),
            state=draw(st.sampled_from(["ok", "failed", "unsupported", "weird"])),
            forces=forces,
        )
        if draw(st.booleans()):
            row["structure"]["numbers"] = draw(numbers)
        out.append(
            {
                "run_id": "r",
                "model_key": draw(st.sampled_from(["model-a", "nobody"])),
                "benchmark_key": draw(st.sampled_from(["X23", "X99"])),
                **row,
            }
        )
    return out


@st.composite
def tables(draw):
    table = pa.Table.from_pylist(draw(rows()), schema=PREDICTIONS_SCHEMA)
    drop = draw(st.lists(st.sampled_from(PREDICTIONS_SCHEMA.names), max_size=2, unique=True))
    table = table.drop_columns(drop)
    if draw(st.booleans()) and table.num_columns:
        # replace one column by a column of another type
        name = draw(st.sampled_from(table.column_names))
        table = table.set_column(
            table.column_names.index(name), name, pa.array([1] * table.num_rows, type=pa.int64())
        )
    units = draw(st.sampled_from([{"energy": "eV"}, {"energy": "Ha"}, {}]))
    meta = draw(
        st.sampled_from(
            [
                None,
                {"format_version": 1, "kind": "predictions", "units": units, "run": {}},
                {"format_version": 9, "kind": "predictions"},
                {"format_version": 1, "kind": "nonsense"},
            ]
        )
    )
    if meta is not None:
        table = table.replace_schema_metadata({METADATA_KEY: json.dumps(meta).encode()})
    return table


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table=tables(), truncate=st.booleans())
def test_validator_rejects_cleanly_or_accepts(table: pa.Table, truncate: bool):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "part.parquet"
        pq.write_table(table, path)
        if truncate:
            path.write_bytes(path.read_bytes()[: max(1, path.stat().st_size // 3)])
        try:
            read, metadata = read_part(path)
            validate_predictions(
                path, read, metadata, known_models={"model-a"}, known_benchmarks={"X23"}
            )
        except PartRejected as exc:
            assert str(exc).startswith("part.parquet: ")
            return
    # accepted: then it really is a well-formed part
    assert read.schema.equals(PREDICTIONS_SCHEMA, check_metadata=False)
    for row in read.to_pylist():
        assert row["model_key"] == "model-a" and row["benchmark_key"] == "X23"
        assert row["state"] in {"ok", "failed", "unsupported"}
        assert all(1 <= z <= 118 for z in row["structure"]["numbers"])
        if row["state"] == "ok":
            assert row["energy"] is not None and abs(row["energy"]) < float("inf")
        if row["forces"] is not None:
            assert len(row["forces"]) == len(row["structure"]["numbers"])
