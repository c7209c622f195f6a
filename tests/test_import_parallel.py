"""Reading an ML-PEG tree in worker processes: same warehouse as in-process, same errors.

The tree is four models × X23 written as ML-PEG's calc writes it (real X23 structures,
random energies and forces); one model folder holds a damaged file.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from ase.io.extxyz import (
    SPECIAL_3_3_KEYS as ASE_SPECIAL_3_3_KEYS,
)
from ase.io.extxyz import (
    UNPROCESSED_KEYS as ASE_UNPROCESSED_KEYS,
)
from ase.io.extxyz import (
    parse_properties as ase_parse_properties,
)
from ase.io.extxyz import (
    per_config_properties as ase_per_config_properties,
)
from helpers import only_benchmark
from typer.testing import CliRunner

from mlpeg.cli import app
from mlpeg.errors import MlpegError
from mlpeg.importers import console, extxyz, ml_peg, reading
from mlpeg.importers.ml_peg import FileStatus, import_tree, plan_tree, start_reading
from mlpeg.importers.reading import FILES_PER_WORKER, worker_count
from mlpeg.importers.synthetic import write_x23_tree
from mlpeg.paths import landing_dir
from mlpeg.warehouse.connect import writer

MODELS = ["model-a", "model-c", "ml-peg-one", "ml-peg-two"]
OUTPUTS = Path("molecular_crystal/X23/outputs")
#: Every stored column that does not record when it was stored.
PREDICTION_COLUMNS = (
    "run_id, model_key, benchmark_key, system, role, structure_id, energy, forces, state, "
    "error, computed_at"
)
RUN_COLUMNS = "run_id, model_key, benchmark_key, started_at, ended_at, dispersion"


@pytest.fixture(autouse=True)
def x23_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A benchmarks tree holding only X23: a fresh warehouse installs in a second."""
    only_benchmark(tmp_path, monkeypatch)


@pytest.fixture
def tree(tmp_path: Path, test_models: Path) -> Path:
    """Four models' X23 outputs with forces; ml-peg-two's urea.xyz is cut short."""
    root = tmp_path / "tree"
    write_x23_tree(root, MODELS, seed=3, forces=True)
    urea = root / OUTPUTS / "ml-peg-two" / "urea.xyz"
    urea.write_text(urea.read_text()[:300])
    return root


def _contents(warehouse: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return {
            "predictions": con.execute(
                f"select {PREDICTION_COLUMNS} from predictions order by all"
            ).fetchall(),
            "runs": con.execute(f"select {RUN_COLUMNS} from runs order by all").fetchall(),
            "references": con.execute("from reference_values order by all").fetchall(),
            # summed by DuckDB's threads in any order: equal to the last few digits
            "metrics": [
                (model, metric, pytest.approx(value, rel=1e-12, abs=1e-12))
                for model, metric, value in con.execute(
                    "select model_key, metric_key, value from x23.metrics order by all"
                ).fetchall()
            ],
            "models": con.execute("select model_key, family from models order by all").fetchall(),
        }
    finally:
        con.close()


def _import(warehouse: Path, root: Path, workers: int):
    with writer(warehouse) as con:
        return import_tree(con, root, landing=landing_dir(warehouse), workers=workers)


def test_parallel_import_stores_exactly_what_a_serial_one_does(tree, tmp_path):
    serial, parallel = tmp_path / "serial" / "w.duckdb", tmp_path / "parallel" / "w.duckdb"
    one = _import(serial, tree, workers=0)  # in this process
    three = _import(parallel, tree, workers=3)

    assert [(f.path, f.status, f.message) for f in three.files] == [
        (f.path, f.status, f.message) for f in one.files
    ]
    stored = _contents(parallel)
    assert stored == _contents(serial)
    # 4 models × 23 systems × (solid, molecule), less the damaged file's two frames
    assert len(stored["predictions"]) == 4 * 46 - 2
    assert len(stored["runs"]) == 4 and len(stored["metrics"]) >= 4
    skipped = three.files_with(FileStatus.SKIPPED)
    assert len(skipped) == 1
    assert skipped[0].message.startswith(f"{OUTPUTS}/ml-peg-two/urea.xyz: line ")
    # the parts the workers wrote are byte for byte the in-process ones
    parts = sorted(landing_dir(serial).glob("X23__*.parquet"))
    assert len(parts) == 5  # four models' predictions and the references
    for part in parts:
        twin = landing_dir(parallel) / part.name
        assert twin.read_bytes() == part.read_bytes(), part.name


def test_parallel_reimport_reads_nothing_again(tree, warehouse):
    _import(warehouse, tree, workers=2)
    before = _contents(warehouse)
    again = _import(warehouse, tree, workers=2)
    assert {f.status for f in again.files} == {FileStatus.UNCHANGED}  # the damaged one too
    assert len(again.files) == 4 * 23
    assert _contents(warehouse) == before
    # folders whose run is in are hashed (the run id) but not parsed
    with writer(warehouse) as con:
        imported = frozenset(r[0] for r in con.execute("select run_id from runs").fetchall())
    plan = plan_tree(tree)
    with start_reading(plan, landing=landing_dir(warehouse), workers=2, skip=imported) as reader:
        reads = list(reader)
    assert {read.run_id for read in reads} == set(imported)
    assert not any(read.was_parsed or read.part for read in reads)


def test_cli_reads_a_new_warehouses_tree_while_installing_it(
    tree, warehouse, tmp_path, monkeypatch
):
    assert console.start_reading is ml_peg.start_reading  # bound before the patch below
    restarted = []
    start_reading = ml_peg.start_reading
    monkeypatch.setattr(ml_peg, "start_reading", lambda *a, **k: restarted.append(a))
    args = ["ingest", "--from-ml-peg", str(tree), "-w", str(warehouse), "--workers", "2"]
    result = CliRunner().invoke(app, args)
    assert not restarted  # the reading started before the warehouse was opened was used
    monkeypatch.setattr(ml_peg, "start_reading", start_reading)
    assert result.exit_code == 1, result.output  # the damaged file
    text = " ".join(result.output.split())
    assert "92 files: 91 imported, 0 already in, 1 skipped" in text
    assert "ml-peg-two/urea.xyz: line" in text
    reference = tmp_path / "reference" / "w.duckdb"
    _import(reference, tree, workers=0)
    assert _contents(warehouse) == _contents(reference)


def test_worker_count_is_checked_and_sized(monkeypatch):
    assert worker_count(3, 10, 2) == 2  # never more workers than folders
    assert worker_count(0, 10_000, 50) == 0  # read in this process
    assert worker_count(1, 10, 50) == 1
    assert worker_count(None, FILES_PER_WORKER - 1, 50) == 0  # small: read in-process
    monkeypatch.setattr(reading, "available_cores", lambda: 16)
    assert worker_count(None, 100 * FILES_PER_WORKER, 50) == 15  # one core left to ingest
    assert worker_count(None, 3 * FILES_PER_WORKER, 50) == 3  # a hundred files each at least
    monkeypatch.setattr(reading, "available_cores", lambda: 1)
    assert worker_count(None, 100 * FILES_PER_WORKER, 50) == 1
    for bad in (-1, -2):
        with pytest.raises(MlpegError, match=f"0 \\(read in this process\\) or more, not {bad}"):
            worker_count(bad, 10, 2)


def test_cli_refuses_a_bad_worker_count_before_opening_the_warehouse(tree, warehouse):
    runner = CliRunner()
    result = runner.invoke(
        app, ["ingest", "--from-ml-peg", str(tree), "-w", str(warehouse), "--workers", "-1"]
    )
    assert isinstance(result.exception, MlpegError)
    assert "or more, not -1" in str(result.exception)
    result = runner.invoke(app, ["ingest", "-w", str(warehouse), "--workers", "2"])
    assert isinstance(result.exception, MlpegError)
    assert "--from-ml-peg" in str(result.exception)
    assert not warehouse.exists()


_ORPHAN_SCRIPT = """
import sys, time
from pathlib import Path
from mlpeg.importers.ml_peg import plan_tree, start_reading
reader = start_reading(plan_tree(Path(sys.argv[1])), landing=Path(sys.argv[2]), workers=2)
print(" ".join(str(p.pid) for p in reader._pool._processes.values()), flush=True)
time.sleep(600)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as handle:  # a zombie is gone for our purpose
        return handle.read().split(") ")[-1][0] != "Z"


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc")
def test_workers_exit_when_the_importer_is_killed(tree, tmp_path):
    """Orphaned workers would hold the files (the write lock) their parent had open."""
    child = subprocess.Popen(
        [sys.executable, "-c", _ORPHAN_SCRIPT, str(tree), str(tmp_path / "landing")],
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ,
    )
    pids = [int(pid) for pid in child.stdout.readline().split()]
    assert len(pids) == 2 and all(_alive(pid) for pid in pids)
    child.send_signal(signal.SIGKILL)
    child.wait()
    deadline = time.monotonic() + 10  # they poll their parent every 0.2 s
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in pids)


@pytest.mark.parametrize(
    "spec",
    [
        "species:S:1:pos:R:3",
        "species:S:1:pos:R:3:forces:R:3:Z:I:1:charge:R:1:fixed:L:3",
        "pos:R:3",
        "species:S:1:pos:R:3:extra",  # a trailing name without type: ignored by both
    ],
)
def test_properties_spec_is_read_as_ase_reads_it(spec):
    ase_properties, ase_names, _, _ = ase_parse_properties(spec)
    assert extxyz.parse_properties(spec) == (ase_properties, ase_names)


@pytest.mark.parametrize(
    "spec", ["species:S:1:pos:X:3", "species:S:one:pos:R:3", "pos:R:3:pos:R:3", "pos:R:3:pos0:R:1"]
)
def test_properties_spec_errors_where_ase_errors(spec):
    with pytest.raises(ValueError):
        ase_parse_properties(spec)
    with pytest.raises(ValueError):
        extxyz.parse_properties(spec)


def test_extxyz_constants_are_ases():
    assert list(extxyz.PER_CONFIG_PROPERTIES) == ase_per_config_properties
    assert set(extxyz.SPECIAL_3_3_KEYS) == ASE_SPECIAL_3_3_KEYS
    assert set(extxyz.UNPROCESSED_KEYS) == ASE_UNPROCESSED_KEYS


def test_ingest_command_does_not_import_the_heavy_modules_it_does_not_use():
    code = (
        "import sys; import mlpeg.cli, mlpeg.importers.console; "
        "print(sorted(m for m in ('scipy', 'polars', 'mlpeg.calc.execute', 'ase.io') "
        "if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=os.environ
    )
    assert done.stdout.strip() == "[]"


def test_leaderboard_command_prints_without_importing_arrow(tree, warehouse):
    _import(warehouse, tree, workers=1)  # one worker process
    code = (
        "import sys; from mlpeg.cli import main; "
        f"sys.argv = ['mlpeg', 'leaderboard', '-w', {str(warehouse)!r}]\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
        "print(sorted(m for m in ('pyarrow', 'numpy', 'pandas', 'polars') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=os.environ
    )
    lines = done.stdout.strip().splitlines()
    assert lines[-1] == "[]"
    assert any(line.startswith("│ ml-peg-one") for line in lines)  # the table was printed
