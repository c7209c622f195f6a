"""A model of one's own through the real ``mlpeg`` command, and its results as a bundle.

One module-scoped world, built with the console entry point (``python -m mlpeg.cli``):
warehouse A runs ASE's EMT, registered as ``family: python`` in a user registry, on the
first two S22 reactions (6 species); ``mlpeg bundle`` packs it; ``mlpeg ingest`` loads the
bundle into warehouse B, which has no user registry. Warehouse C stays empty: every bad
bundle is tried on it and must leave it so.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow.parquet as pq
import pytest
from ase import Atoms
from ase.calculators.emt import EMT
from conftest import MIRROR

from mlpeg.bundle.pack import write_bundle
from mlpeg.bundle.unpack import BundleRejected, ingest_bundle
from mlpeg.models import registry
from mlpeg.paths import REPO_ROOT
from mlpeg.warehouse.connect import writer

MY_EMT = """
my-emt:
  family: python
  factory: ase.calculators.emt:EMT
  trained_on_dispersion: true   # so no D3 is added: the energies are EMT's alone
  elements: [H, C, N, O, Al, Ni, Cu, Pd, Ag, Pt, Au]
  level_of_theory: EMT
"""

#: Tables whose contents a rejected bundle must leave as they were.
TABLES = ("models", "runs", "predictions", "structures", "parts", "reference_values")


@dataclass(frozen=True)
class World:
    root: Path
    models_file: Path
    a: Path
    b: Path
    c: Path
    bundle: Path
    env: dict
    held: dict  # warehouse path -> a writer connection kept open for the module's tests


def _mlpeg(env: dict, *args: object) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "mlpeg.cli", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("own-model")
    models_file = root / "mine.yml"
    models_file.write_text(MY_EMT)
    a = root / "a" / "mlpeg.duckdb"
    env = {
        **os.environ,
        "MLPEG_WAREHOUSE": str(a),
        "PYTHONPATH": str(REPO_ROOT),
        "MLPEG_DATA_MIRROR": str(MIRROR),
        "MLPEG_CACHE": str(tmp_path_factory.getbasetemp() / "cache"),
        "XDG_CONFIG_HOME": str(root / "config"),
        "OMP_NUM_THREADS": "1",
        "COLUMNS": "200",
    }
    for name in ("MLPEG_MODELS", "MLPEG_MODELS_FILES", "MLPEG_BENCHMARKS"):
        env.pop(name, None)
    a, b, c = (root / name / "mlpeg.duckdb" for name in "abc")
    # the README's commands, through the console entry point: register, then calc and ingest
    _mlpeg(env, "--models-file", models_file, "run", "-b", "S22", "--subset", 2, "-m", "my-emt")
    bundle = root / "my-emt.tar"
    with pytest.MonkeyPatch.context() as patch:
        for name in ("MLPEG_MODELS", "MLPEG_MODELS_FILES"):
            patch.delenv(name, raising=False)
        patch.setenv("XDG_CONFIG_HOME", env["XDG_CONFIG_HOME"])
        registry.clear_cache()
        write_bundle(a, "my-emt", bundle)  # after the run, the entry as registered
        registry.clear_cache()
        with writer(c):  # an empty warehouse; B starts as a copy of it and takes the bundle
            pass
        b.parent.mkdir()
        shutil.copyfile(c, b)
        with writer(b) as con:
            ingest_bundle(con, bundle, b)  # B knows my-emt only from the bundle
        registry.clear_cache()
        # one writer each for the tests (opening one checks the install: seconds each time)
        with writer(b, publish=False) as con_b, writer(c, publish=False) as con_c:
            HELD.update({b: con_b, c: con_c})
            try:
                yield World(root, models_file, a, b, c, bundle, env, HELD)
            finally:
                HELD.clear()


@pytest.fixture
def shipped_registry(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """This process reads the registries as the subprocesses did (no user file)."""
    for name in ("MLPEG_MODELS", "MLPEG_MODELS_FILES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", world.env["XDG_CONFIG_HOME"])
    registry.clear_cache()


#: Writer connections the module holds open, by warehouse (B and C).
HELD: dict[Path, duckdb.DuckDBPyConnection] = {}


def _rows(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    if warehouse in HELD:
        return HELD[warehouse].execute(sql, params or []).fetchall()
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def test_an_emt_factory_run_through_mlpeg_gives_emt_energies(world):
    rows = _rows(
        world.a,
        "select p.system, p.state, p.energy, p.forces, s.numbers, s.positions, s.cell, s.pbc "
        "from predictions p join structures s using (structure_id) "
        "where p.model_key = 'my-emt' order by p.system",
    )
    assert len(rows) == 6  # the species of S22's first two reactions
    for system, state, energy, forces, numbers, positions, cell, pbc in rows:
        assert state == "ok", system
        atoms = Atoms(numbers=numbers, positions=positions, cell=np.reshape(cell, (3, 3)), pbc=pbc)
        atoms.calc = EMT()
        assert energy == pytest.approx(atoms.get_potential_energy(), abs=1e-10), system
        assert forces is None  # S22's species are energies only
    family, checkpoint, dispersion = _rows(
        world.a, "select family, checkpoint, dispersion from runs where model_key = 'my-emt'"
    )[0]
    assert (family, checkpoint, dispersion) == ("python", "ase.calculators.emt:EMT", "none")


def _scores(warehouse: Path) -> list[tuple]:
    return _rows(
        warehouse,
        "select benchmark_key, metric_key, value, score, state, dispersion, band "
        "from metric_scores where model_key = 'my-emt' and state != 'not_run' order by all",
    )


def test_a_bundle_moves_the_scores_to_another_warehouse_unchanged(world):
    scores = _scores(world.a)
    assert scores[0][:2] == ("S22", "MAE")
    assert scores[0][2] > 0  # a real error of EMT against CCSD(T), in kcal/mol
    assert _scores(world.b) == scores
    source, n_parts, created_by = _rows(
        world.b, "select source_path, n_parts, created_by from bundles"
    )[0]
    assert (source, n_parts) == (str(world.bundle), 3)
    assert json.loads(created_by)["warehouse"] == str(world.a)
    family, notes = _rows(world.b, "select family, notes from models where model_key = 'my-emt'")[0]
    assert family == "python" and notes.startswith("from bundle ")


def _state(warehouse: Path) -> dict:
    counts = {t: _rows(warehouse, f"select count(*) from {t}")[0][0] for t in TABLES}
    landing = warehouse.parent / "landing"
    counts["landing"] = sorted(str(p) for p in landing.rglob("*")) if landing.exists() else []
    return counts


def _ingest(warehouse: Path, bundle: Path):
    return ingest_bundle(HELD[warehouse], bundle, warehouse)


def test_ingesting_the_same_bundle_again_changes_nothing(world, shipped_registry):
    before = _state(world.b)
    result = _ingest(world.b, world.bundle)
    assert (result.loaded, result.skipped) == (0, 3)
    assert _state(world.b) == before


def _members(bundle: Path) -> dict[str, bytes]:
    with tarfile.open(bundle) as archive:
        return {m.name: archive.extractfile(m).read() for m in archive.getmembers()}


def _write(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def _relisted(members: dict[str, bytes], **changes: bytes) -> dict[str, bytes]:
    """Members with some files replaced and the manifest's sums updated to match."""
    import hashlib

    manifest = json.loads(members["manifest.json"])
    members = {**members}
    for item in manifest["files"]:
        new = changes.get(item["name"].replace("parts/", "").split("__")[-1].split(".")[0])
        if new is not None:
            members[item["name"]] = new
            item["sha256"], item["size"] = hashlib.sha256(new).hexdigest(), len(new)
    members["manifest.json"] = json.dumps(manifest).encode()
    return members


def _predictions_name(members: dict[str, bytes]) -> str:
    return next(name for name in members if "__my-emt__" in name)


def _rewritten_part(data: bytes, column: str, value: object, run_key: str | None = None) -> bytes:
    """A predictions or references part with one column set to ``value`` in every row."""
    table = pq.read_table(io.BytesIO(data))
    metadata = json.loads(table.schema.metadata[b"mlpeg"])
    if run_key:
        metadata["run"][run_key] = value
    index = table.schema.get_field_index(column)
    field = table.schema.field(index)
    import pyarrow as pa

    table = table.set_column(index, field, pa.array([value] * table.num_rows, field.type))
    table = table.replace_schema_metadata({b"mlpeg": json.dumps(metadata).encode()})
    out = io.BytesIO()
    pq.write_table(table, out)
    return out.getvalue()


def _missing_part(members):
    members.pop(_predictions_name(members))
    return members


def _altered_part(members):
    name = _predictions_name(members)
    data = bytearray(members[name])
    data[len(data) // 2] ^= 0xFF
    members[name] = bytes(data)
    return members


def _unlisted_part(members):
    members["parts/extra.parquet"] = members[_predictions_name(members)]
    return members


def _foreign_model_part(members):
    name = _predictions_name(members)
    foreign = _rewritten_part(members[name], "model_key", "chgnet-0.3.0", run_key="model_key")
    manifest = json.loads(members["manifest.json"])
    import hashlib

    for item in manifest["files"]:
        if item["name"] == name:
            item["sha256"], item["size"] = hashlib.sha256(foreign).hexdigest(), len(foreign)
    return {**members, name: foreign, "manifest.json": json.dumps(manifest).encode()}


def _other_references(members):
    value = _rewritten_part(members["parts/S22__references.parquet"], "value", 1.0)
    return _relisted(members, references=value)


def _other_model(members):
    entry = "my-emt: {family: python, factory: 'ase.calculators.lj:LennardJones'}\n"
    return _relisted(members, **{"model": entry.encode()})


def _not_json(members):
    members["manifest.json"] = b"{not json"
    return members


BAD = {
    "missing": (_missing_part, "its manifest lists parts/S22__my-emt__"),
    "altered": (_altered_part, "does not match its size and sha256 in the manifest (altered)."),
    "unlisted": (
        _unlisted_part,
        "it holds parts/extra.parquet, which its manifest does not list (a foreign file).",
    ),
    "foreign model": (
        _foreign_model_part,
        "holds predictions of 'chgnet-0.3.0', not of the bundle's model 'my-emt' (a foreign part).",
    ),
    "other references": (_other_references, "its reference_values for S22 ("),
    "not json": (_not_json, "its manifest.json is not JSON"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_bundle_is_rejected_whole_in_one_sentence(world, shipped_registry, tmp_path, case):
    make, expected = BAD[case]
    bundle = _write(tmp_path / "bad.tar", make(_members(world.bundle)))
    # C is empty; B holds the references the bundle's must agree with
    target = world.b if case == "other references" else world.c
    before = _state(target)
    with pytest.raises(BundleRejected) as error:
        _ingest(target, bundle)
    message = str(error.value)
    assert message.startswith(f"Bundle {bundle} rejected, nothing loaded: ")
    assert expected in message and "\n" not in message
    assert _state(target) == before


def test_a_bundle_of_another_model_under_a_known_name_is_rejected(
    world, shipped_registry, tmp_path
):
    bundle = _write(tmp_path / "other.tar", _other_model(_members(world.bundle)))
    before = _state(world.b)
    with pytest.raises(
        BundleRejected,
        match=r"model 'my-emt' here is family python with "
        "checkpoint ase.calculators.emt:EMT, the bundle's is family python with "
        "checkpoint ase.calculators.lj:LennardJones; rename one of them.",
    ):
        _ingest(world.b, bundle)
    assert _state(world.b) == before


def test_a_truncated_bundle_is_rejected_whole(world, shipped_registry, tmp_path):
    data = world.bundle.read_bytes()
    cut = tmp_path / "cut.tar"
    cut.write_bytes(data[: len(data) * 2 // 3])
    before = _state(world.c)
    with pytest.raises(BundleRejected) as error:
        _ingest(world.c, cut)
    assert str(error.value).startswith(f"Bundle {cut} rejected, nothing loaded: it is not a ")
    assert "(truncated or not a tar: unexpected end of data)." in str(error.value)
    assert _state(world.c) == before
