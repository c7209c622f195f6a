"""Ray as users run it: the ``mlpeg calc`` command, a simulated two-node cluster, a lost node.

The cluster is Ray's own ``ray.cluster_utils.Cluster`` on this machine: a head and one
worker node, one CPU each, so the two actors of a run land on different nodes. The model
is ASE's EMT (through the test-only ``hazard`` family, which can be made slow), on S22's
species (H, C, N, O), loaded through the benchmark's own loader.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from mlpeg import catalog
from mlpeg.calc.engines.ray import placement
from mlpeg.calc.runner import CalcOptions, run_tasks
from mlpeg.errors import MlpegError
from mlpeg.models import registry
from mlpeg.paths import REPO_ROOT

MODELS = """
emt: {family: emt, checkpoint: none, trained_on_dispersion: true, elements: [H, C, N, O]}
slow-emt: {family: hazard, checkpoint: none, trained_on_dispersion: true,
           elements: [H, C, N, O], options: {sleep_s: 1.5}}
"""


# --- placement: arithmetic only, no GPU needed ---------------------------------------------


def test_cuda_places_one_actor_per_gpu_by_default():
    assert placement("cuda", None, {"CPU": 64.0, "GPU": 8.0}) == (
        8,
        {"num_gpus": 1.0, "num_cpus": 1.0},
    )


def test_more_workers_than_gpus_share_them_evenly():
    n, resources = placement("cuda", 16, {"CPU": 64.0, "GPU": 8.0})
    assert (n, resources["num_gpus"]) == (16, 0.5)  # two actors per GPU
    n, resources = placement("cuda", 3, {"CPU": 8.0, "GPU": 2.0})
    assert (n, resources["num_gpus"]) == (3, 0.5)  # ceil(3/2) = 2 per GPU: all three fit
    assert placement("cuda:0", 2, {"GPU": 4.0})[1]["num_gpus"] == 1.0


def test_cpu_places_one_actor_per_cpu_and_cuda_without_gpus_says_so():
    assert placement("cpu", None, {"CPU": 2.0}) == (2, {"num_cpus": 1.0})
    assert placement("cpu", 5, {"CPU": 2.0}) == (5, {"num_cpus": 1.0})
    with pytest.raises(MlpegError, match="has no GPU"):
        placement("cuda", None, {"CPU": 16.0})


# --- the real command ------------------------------------------------------------------------


def _mlpeg(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "mlpeg.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO_ROOT,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Traceback" not in result.stdout + result.stderr
    return result


def _predictions(landing: Path) -> dict[tuple[str, str], tuple[float, list]]:
    rows = {}
    for path in landing.glob("S22__emt__*.parquet"):
        for row in pq.read_table(path, columns=["system", "role", "energy", "forces"]).to_pylist():
            assert (row["system"], row["role"]) not in rows, "a task written twice"
            rows[(row["system"], row["role"])] = (row["energy"], row["forces"])
    return rows


@pytest.fixture(scope="module")
def models_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("models") / "models.yml"
    path.write_text(MODELS)
    return path


# --- a simulated cluster: a head and a worker node -------------------------------------------


@pytest.fixture(scope="module")
def cluster(models_file):
    ray = pytest.importorskip("ray")
    from ray.cluster_utils import Cluster

    if ray.is_initialized():  # another module's local Ray
        ray.shutdown()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLPEG_MODELS", str(models_file))
        registry.clear_cache()
        simulated = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
        simulated.add_node(num_cpus=1)
        simulated.wait_for_nodes()
        ray.init(address=simulated.address, logging_level="ERROR", log_to_driver=False)
        try:
            yield simulated
        finally:
            ray.shutdown()
            simulated.shutdown()
            registry.clear_cache()


def _s22_tasks(n: int) -> list:
    return catalog.get_benchmark("S22").calc_module().tasks()[:n]


def _rows(landing: Path, model: str) -> list[dict]:
    return [
        row
        for path in sorted(landing.glob(f"S22__{model}__*.parquet"))
        for row in pq.read_table(path, columns=["system", "role", "state"]).to_pylist()
    ]


def _nodes_of_parts(landing: Path, model: str) -> set[str]:
    return {
        p.name.split("-")[-2].split(".")[1]
        for p in landing.glob(f"S22__{model}__*.parquet")
        if ".parquet" in p.name and "-driver-" not in p.name
    }


def _worker_node(cluster):
    return next(node for node in cluster.list_all_nodes() if node is not cluster.head_node)


@pytest.mark.slow  # actors start on two nodes of a loaded 2-core machine
def test_both_nodes_write_into_one_landing_folder_and_ingest_loads_it_once(cluster, tmp_path):
    from mlpeg.warehouse.connect import writer
    from mlpeg.warehouse.ingest import Outcome, ingest

    landing = tmp_path / "landing"
    bench = catalog.get_benchmark("S22")
    options = CalcOptions(engine="ray", workers=2, address=cluster.address)
    summary = run_tasks(
        _s22_tasks(12), registry.get_model("emt"), bench, landing=landing, options=options
    )
    assert (summary.n_ok, summary.n_failed) == (12, 0)
    nodes = {n.node_id[:8] for n in cluster.list_all_nodes()}
    assert len(nodes) == 2 and _nodes_of_parts(landing, "emt") == nodes
    with writer(tmp_path / "w.duckdb") as con:
        first = ingest(con, [landing])
        again = ingest(con, [landing])
        stored = con.execute(
            "select count(*), count(distinct system) from predictions "
            "where benchmark_key = 'S22' and model_key = 'emt'"
        ).fetchone()
    assert first.count(Outcome.LOADED) == len(summary.parts) and first.rows_loaded == 12
    assert again.count(Outcome.LOADED) == 0 and again.rows_loaded == 0
    assert stored == (12, 12)


@pytest.mark.slow  # a slow model on two nodes, one of which is killed
def test_a_worker_node_killed_mid_run_loses_nothing_and_the_run_resumes(cluster, tmp_path):
    landing = tmp_path / "landing"
    bench = catalog.get_benchmark("S22")
    spec = registry.get_model("slow-emt")
    tasks = _s22_tasks(10)
    options = CalcOptions(engine="ray", workers=2, address=cluster.address)
    victim = _worker_node(cluster)
    killed = threading.Event()

    def kill_the_worker_node_once_it_has_written() -> None:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if victim.node_id[:8] in _nodes_of_parts(landing, "slow-emt"):
                cluster.remove_node(victim, allow_graceful=False)  # as a crashed machine
                killed.set()
                return
            time.sleep(0.2)

    killer = threading.Thread(target=kill_the_worker_node_once_it_has_written)
    killer.start()
    try:
        summary = run_tasks(tasks, spec, bench, landing=landing, options=options)
    finally:
        killer.join()
        cluster.add_node(num_cpus=1)  # for the other tests of the module
        cluster.wait_for_nodes()
    assert killed.is_set()
    rows = _rows(landing, "slow-emt")
    keys = [(row["system"], row["role"]) for row in rows]
    assert sorted(keys) == sorted((t.system, t.role) for t in tasks)  # each once, none lost
    # the lost node's unfinished shard went to the surviving node: nothing failed
    assert (summary.n_ok, summary.n_failed) == (10, 0)
    again = run_tasks(tasks, spec, bench, landing=landing, options=options)
    assert (again.n_computed, again.n_skipped) == (0, 10)  # resumes: all there, as local


@pytest.mark.slow  # four commands, one starting a local Ray, one joining the cluster
def test_the_calc_command_on_ray_gives_the_local_engines_predictions(
    tmp_path, models_file, cluster
):
    env = {
        **os.environ,
        "MLPEG_MODELS": str(models_file),
        "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    calc = ["calc", "-b", "S22", "-m", "emt", "--subset", "3"]
    _mlpeg(*calc, "-w", str(tmp_path / "local" / "w.duckdb"), env=env)
    ray_runs = {
        "ray": ["--engine", "ray", "--workers", "2"],  # a local Ray of its own
        "cluster": ["--engine", "ray", "--address", cluster.address],  # joins the cluster
    }
    local = _predictions(tmp_path / "local" / "landing")
    assert len(local) == 9  # 3 dimers and their 6 monomers
    for name, engine in ray_runs.items():
        result = _mlpeg(*calc, "-w", str(tmp_path / name / "w.duckdb"), *engine, env=env)
        assert "Calc summary" in result.stdout, name
        assert "9/9" in result.stdout, name  # the progress bar reached the end
        # the same numbers, bit for bit: same code, same inputs, each task once
        assert _predictions(tmp_path / name / "landing") == local, name
        parts = (tmp_path / name / "landing").glob("S22__emt__*.parquet")
        writers = {p.name.split("-")[-2].split(".")[0] for p in parts}
        assert writers == {"ray000", "ray001"}, name
    before = sorted((tmp_path / "ray" / "landing").glob("*.parquet"))
    _mlpeg(*calc, "-w", str(tmp_path / "ray" / "w.duckdb"), *ray_runs["ray"], env=env)
    assert sorted((tmp_path / "ray" / "landing").glob("*.parquet")) == before  # all skipped
