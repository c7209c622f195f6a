"""Ingest: idempotent, each part all-in or all-out, bad parts rejected with file/row/field."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from ase.build import bulk, molecule
from helpers import prediction, predictions_part, references_part

from mlpeg.landing import METADATA_KEY
from mlpeg.warehouse.connect import reader, writer
from mlpeg.warehouse.ingest import Outcome, ingest

COUNTED = ("predictions", "structures", "runs", "parts", "reference_values")


def counts(warehouse: Path) -> dict[str, int]:
    with writer(warehouse) as con:
        return {t: con.execute(f"select count(*) from {t}").fetchone()[0] for t in COUNTED}


def snapshot(warehouse: Path) -> list:
    with writer(warehouse) as con:
        return con.execute(
            "select run_id, system, role, energy, state from predictions order by all"
        ).fetchall()


@pytest.fixture
def good_parts(tmp_path: Path, test_models) -> Path:
    landing = tmp_path / "landing"
    water, cu = molecule("H2O"), bulk("Cu", "fcc", a=3.6)
    references_part(landing, "X23", [("urea", "lattice_energy", -1.0)])
    predictions_part(
        landing,
        [
            prediction("urea", "solid", cu, -10.0),
            prediction("urea", "molecule", water, -5.0, forces=[[0.0, 0.0, 0.1]] * 3),
        ],
        model="model-a",
        benchmark="X23",
        run_id="r1",
    )
    predictions_part(
        landing,
        [prediction("urea", "solid", cu, -11.0), prediction("urea", "molecule", water, -5.0)],
        model="model-b",
        benchmark="X23",
        run_id="r2",
    )
    return landing


def test_ingest_twice_changes_nothing(good_parts: Path, warehouse: Path):
    with writer(warehouse) as con:
        first = ingest(con, [good_parts])
    after_first = counts(warehouse)
    with writer(warehouse) as con:
        second = ingest(con, [good_parts])
    assert first.count(Outcome.LOADED) == 3 and first.rows_loaded == 5
    assert second.count(Outcome.SKIPPED) == 3 and second.count(Outcome.LOADED) == 0
    # the same water and Cu geometries are shared by both models: stored once each
    assert after_first == {
        "predictions": 4,
        "structures": 2,
        "runs": 2,
        "parts": 3,
        "reference_values": 1,
    }
    assert counts(warehouse) == after_first


def _load(warehouse: Path, *paths: Path):
    with writer(warehouse) as con:
        return ingest(con, list(paths))


def _rewrite(path: Path, table: pa.Table, target: Path) -> Path:
    pq.write_table(table, target)
    return target


def test_truncated_part_is_rejected_and_nothing_changes(good_parts, warehouse, tmp_path):
    _load(warehouse, good_parts)
    before, rows_before = counts(warehouse), snapshot(warehouse)
    part = next(good_parts.glob("X23__model-a__*.parquet"))
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(part.read_bytes()[: part.stat().st_size // 2])
    report = _load(warehouse, broken)
    assert report.count(Outcome.REJECTED) == 1
    assert report.rejected[0].message.startswith("broken.parquet: not a readable Parquet file")
    assert counts(warehouse) == before and snapshot(warehouse) == rows_before


def test_foreign_parquet_is_rejected(good_parts, warehouse, tmp_path):
    foreign = tmp_path / "foreign.parquet"
    pq.write_table(pa.table({"a": [1, 2], "energy": [0.1, 0.2]}), foreign)
    report = _load(warehouse, foreign)
    assert "no 'mlpeg' metadata" in report.rejected[0].message


def _mutated(part: Path, target: Path, column: str, values: list) -> Path:
    table = pq.read_table(part)
    index = table.column_names.index(column)
    array = pa.array(values, type=table.schema.field(column).type)
    return _rewrite(part, table.set_column(index, table.schema.field(column), array), target)


@pytest.mark.parametrize(
    ("column", "values", "expected"),
    [
        ("energy", [float("nan"), -5.0], "row 0, field 'energy': is not finite"),
        ("energy", [-10.0, float("inf")], "row 1, field 'energy': is not finite"),
        ("energy", [None, -5.0], "row 0, field 'energy': is null in a row whose state is 'ok'"),
        ("forces", [None, [[0.0, 0.0, 0.0]] * 2], "row 1, field 'forces': has a different number"),
        ("forces", [None, [[0.0, float("nan"), 0.0]] * 3], "row 1, field 'forces': holds a non-"),
        ("state", ["ok", "maybe"], "row 1, field 'state': state 'maybe' is not one of"),
        ("model_key", ["nobody", "nobody"], "row 0, field 'model_key': unknown model 'nobody'"),
        ("benchmark_key", ["X99", "X99"], "row 0, field 'benchmark_key': unknown benchmark"),
        ("system", ["urea", "urea"], None),  # same system, different roles: fine
        ("role", ["solid", "solid"], "appears twice"),
    ],
)
def test_bad_values_are_named(good_parts, warehouse, tmp_path, column, values, expected):
    part = next(good_parts.glob("X23__model-a__*.parquet"))
    table = pq.read_table(part)
    # keep the mlpeg metadata so that only the column under test is wrong
    bad = _mutated(part, tmp_path / "bad.parquet", column, values)
    fixed = pq.read_table(bad).replace_schema_metadata(table.schema.metadata)
    if column in ("model_key", "benchmark_key"):
        meta = json.loads(table.schema.metadata[METADATA_KEY])
        meta["run"][column] = values[0]
        fixed = fixed.replace_schema_metadata({METADATA_KEY: json.dumps(meta).encode()})
    pq.write_table(fixed, bad)
    report = _load(warehouse, bad)
    if expected is None:
        assert report.count(Outcome.LOADED) == 1
        return
    assert report.count(Outcome.REJECTED) == 1
    message = report.rejected[0].message
    assert message.startswith("bad.parquet: ") and expected in message, message
    assert counts(warehouse)["predictions"] == 0


def test_wrong_units_declared(good_parts, warehouse, tmp_path):
    part = next(good_parts.glob("X23__model-a__*.parquet"))
    table = pq.read_table(part)
    meta = json.loads(table.schema.metadata[METADATA_KEY])
    meta["units"]["energy"] = "kcal/mol"
    bad = tmp_path / "units.parquet"
    pq.write_table(table.replace_schema_metadata({METADATA_KEY: json.dumps(meta).encode()}), bad)
    message = _load(warehouse, bad).rejected[0].message
    assert "declares energy in 'kcal/mol'; the warehouse stores 'eV'" in message


def test_missing_column(good_parts, warehouse, tmp_path):
    part = next(good_parts.glob("X23__model-a__*.parquet"))
    table = pq.read_table(part)
    bad = _rewrite(part, table.drop_columns(["energy"]), tmp_path / "missing.parquet")
    assert "field 'energy': required column is missing" in _load(warehouse, bad).rejected[0].message


def test_good_parts_load_beside_a_bad_one(good_parts, warehouse, tmp_path):
    (good_parts / "zzz_junk.parquet").write_bytes(b"PAR1 not really")
    report = _load(warehouse, good_parts)
    assert report.count(Outcome.LOADED) == 3 and report.count(Outcome.REJECTED) == 1
    assert counts(warehouse)["predictions"] == 4


def test_resumed_run_may_not_repeat_a_structure(good_parts, warehouse, tmp_path):
    _load(warehouse, good_parts)
    again = predictions_part(
        tmp_path / "again",
        [prediction("urea", "solid", bulk("Cu"), -1.0)],
        model="model-a",
        benchmark="X23",
        run_id="r1",
        name="again",
    )
    message = _load(warehouse, again).rejected[0].message
    assert "run r1 already holds" in message
    assert counts(warehouse)["predictions"] == 4


def test_a_new_structure_is_checked_and_its_row_named(good_parts, warehouse, tmp_path):
    """Only new structures are read whole; a bad one is named by its row in the part."""
    _load(warehouse, good_parts)
    broken = molecule("H2O")
    broken.positions[1, 2] = float("nan")
    part = predictions_part(
        tmp_path / "more",
        [
            prediction("urea", "solid", bulk("Cu", "fcc", a=3.6), -10.0),  # stored already
            prediction("ice", "solid", broken, -3.0),  # new, and not finite
        ],
        model="model-a",
        benchmark="X23",
        run_id="r3",
    )
    before = counts(warehouse)
    message = _load(warehouse, part).rejected[0].message
    assert message.endswith("row 1, field 'positions': holds a non-finite number (NaN or inf)")
    assert counts(warehouse) == before


def test_a_database_error_in_a_batch_rejects_only_its_part(good_parts, warehouse, monkeypatch):
    """Both predictions parts share a batch; a DuckDB error on one replays them one by one."""
    import duckdb

    from mlpeg.warehouse import batch

    real = batch._upsert_runs

    def fail_on_r2(con, parts):
        if any(part.run_id == "r2" for part in parts):
            raise duckdb.ConstraintException("Constraint Error: planted for run r2")
        real(con, parts)

    monkeypatch.setattr(batch, "_upsert_runs", fail_on_r2)
    report = _load(warehouse, good_parts)
    assert report.count(Outcome.LOADED) == 2 and report.count(Outcome.REJECTED) == 1
    assert report.rejected[0].message.endswith("Constraint Error: planted for run r2")
    assert report.rejected[0].path.name.startswith("X23__model-b")
    assert counts(warehouse) == {
        "predictions": 2,
        "structures": 2,
        "runs": 1,
        "parts": 2,
        "reference_values": 1,
    }


def test_two_parts_of_one_run_in_one_call(warehouse, tmp_path, test_models):
    """A resumed run's parts may share a batch: the second is checked against the first."""
    landing = tmp_path / "landing"
    cu, water = bulk("Cu", "fcc", a=3.6), molecule("H2O")
    first = dict(model="model-a", benchmark="X23", run_id="r1")
    predictions_part(landing, [prediction("urea", "solid", cu, -10.0)], name="a1", **first)
    predictions_part(landing, [prediction("urea", "molecule", water, -5.0)], name="a2", **first)
    # and a run whose second part repeats the first one's (system, role)
    again = dict(model="model-b", benchmark="X23", run_id="r2")
    predictions_part(landing, [prediction("urea", "solid", cu, -11.0)], name="b1", **again)
    predictions_part(landing, [prediction("urea", "solid", cu, -12.0)], name="b2", **again)
    report = _load(warehouse, landing)
    assert report.count(Outcome.LOADED) == 3
    (rejected,) = report.rejected
    assert rejected.path.name.startswith("b2")
    assert "run r2 already holds (system, role) = ('urea', 'solid')" in rejected.message
    with reader(warehouse) as con:
        rows = con.execute(
            "select run_id, system, role, energy from predictions order by run_id, role"
        ).fetchall()
        runs = con.execute("select run_id, model_key from runs order by run_id").fetchall()
    assert rows == [
        ("r1", "urea", "molecule", -5.0),
        ("r1", "urea", "solid", -10.0),
        ("r2", "urea", "solid", -11.0),
    ]
    assert runs == [("r1", "model-a"), ("r2", "model-b")]
