"""ML-PEG's analysis versus mlpeg's import and query, on the same X23 outputs tree.

Writes an ML-PEG-shaped X23 tree for N models (real X23 structures, synthetic energies
and forces, written with ase.io.write as ML-PEG's calc does), then times in this run:

(a) ML-PEG's way: ase.io.read every file, lattice energies and MAE per model in Python,
    as ml_peg/analysis/molecular_crystal/X23/analyse_X23.py does (without writing the
    app's copies of the structures and the plot JSON, which ML-PEG also does);
(b) mlpeg's way: import the tree into a fresh warehouse (``mlpeg ingest --from-ml-peg``)
    then query the leaderboard;
(c) the leaderboard query alone on the ingested warehouse (open, query, close): the
    median of repeats, and the first one in its process (only imports done before it);
    also in CPU seconds against (a)'s, which move less with the load of a shared machine.

Each phase runs in its own process, so its peak resident memory is its own (ru_maxrss);
module imports happen before the clock starts. (b) is also run as the two CLI commands,
timed from outside, interpreter start included. Ratios are printed against (a), and the
MAE of every model is checked to be the same both ways.

Usage: python bench/vs_ml_peg.py [--models 50] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MIRROR = REPO.parent / "shared" / "data"


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def phase_ml_peg(tree: Path) -> dict:
    """(a): read every file with ASE; lattice energies and MAE per model in Python."""
    import numpy as np
    from ase import units
    from ase.io import read

    base = _rss_mb()
    start, cpu_start = time.perf_counter(), time.process_time()
    outputs = tree / "molecular_crystal" / "X23" / "outputs"
    ev_to_kj_per_mol = units.mol / units.kJ
    results: dict[str, list[float]] = {"ref": []}
    ref_stored = False
    for model_dir in sorted(p for p in outputs.iterdir() if p.is_dir()):
        results[model_dir.name] = []
        for xyz_file in sorted(model_dir.glob("*.xyz")):
            structs = read(xyz_file, index=":")
            solid_energy = structs[0].get_potential_energy()
            num_molecules = structs[0].info["num_molecules"]
            molecule_energy = structs[1].get_potential_energy()
            lattice_energy = solid_energy / num_molecules - molecule_energy
            results[model_dir.name].append(lattice_energy * ev_to_kj_per_mol)
            if not ref_stored:
                results["ref"].append(structs[0].info["ref"])
        ref_stored = True
    ref = np.asarray(results.pop("ref"))
    maes = {}
    for model, predicted in results.items():
        values = np.asarray(predicted, dtype=float)
        maes[model] = float("nan") if np.isnan(values.sum()) else float(np.abs(ref - values).mean())
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu_start
    return {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "peak_rss_mb": _rss_mb(),
        "base_rss_mb": base,
        "mae": maes,
    }


LEADERBOARD = "select * from leaderboard"
X23_MAE = "select model_key, value from x23.metrics"


def _leaderboard(warehouse: Path) -> tuple[list, dict]:
    from mlpeg.warehouse.connect import reader

    with reader(warehouse) as con:
        board = con.sql(LEADERBOARD).fetchall()
        maes = dict(con.sql(X23_MAE).fetchall())
    return board, maes


def phase_mlpeg(tree: Path, warehouse: Path) -> dict:
    """(b): import the tree into a fresh warehouse, then query the leaderboard."""
    import pandas  # noqa: F401  (duckdb imports it on first register; keep it off the clock)

    from mlpeg.importers.ml_peg import import_tree
    from mlpeg.paths import landing_dir
    from mlpeg.warehouse.connect import writer

    base = _rss_mb()
    start = time.perf_counter()
    with writer(warehouse) as con:
        connected = time.perf_counter()
        report = import_tree(con, tree, landing=landing_dir(warehouse))
        imported = time.perf_counter()
    closed = time.perf_counter()
    board, maes = _leaderboard(warehouse)
    end = time.perf_counter()
    return {
        "seconds": end - start,
        "stages": {
            "open writer (schema install)": connected - start,
            "read files, write parts, ingest": imported - connected,
            "close and publish snapshot": closed - imported,
            "leaderboard + X23 MAE query": end - closed,
        },
        "peak_rss_mb": _rss_mb(),
        "base_rss_mb": base,
        "mae": maes,
        "rows": len(board),
        "skipped": len(report.files) - sum(m.n_imported for m in report.models),
    }


def _median_seconds(run, repeats: int, cpu: list[float] | None = None) -> float:
    """Median wall seconds of ``run``; its median CPU seconds are appended to ``cpu``."""
    times, cpu_times = [], []
    for _ in range(repeats):
        start, cpu_start = time.perf_counter(), time.process_time()
        run()
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - cpu_start)
    if cpu is not None:
        cpu.append(statistics.median(cpu_times))
    return statistics.median(times)


def phase_query(warehouse: Path, repeats: int) -> dict:
    """(c): queries on the ingested warehouse: with open and close, and on an open one."""
    from mlpeg.warehouse.connect import connect_reader, reader

    def open_query_close(sql: str) -> None:
        with reader(warehouse) as con:
            con.sql(sql).fetchall()

    start = time.perf_counter()  # the first in this process: nothing warmed but imports
    open_query_close(LEADERBOARD)
    first = time.perf_counter() - start
    _leaderboard(warehouse)  # warm the file cache and code paths once
    base = _rss_mb()
    cpu: list[float] = []
    result = {
        "first_seconds": first,
        "seconds": _median_seconds(lambda: open_query_close(LEADERBOARD), repeats, cpu),
        "cpu_seconds": cpu[0],
        "x23_seconds": _median_seconds(lambda: open_query_close(X23_MAE), repeats),
    }
    con = connect_reader(warehouse)
    result["query_only_seconds"] = _median_seconds(lambda: con.sql(LEADERBOARD).fetchall(), repeats)
    result["x23_query_only_seconds"] = _median_seconds(lambda: con.sql(X23_MAE).fetchall(), repeats)
    con.close()
    return result | {"peak_rss_mb": _rss_mb(), "base_rss_mb": base}


def _child(args: list[str]) -> dict:
    command = [sys.executable, __file__, *args]
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=os.environ)
    if done.returncode != 0:
        sys.exit(f"phase {args} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _cli_seconds(tree: Path, warehouse: Path) -> float:
    start = time.perf_counter()
    for args in (
        ["ingest", "--from-ml-peg", str(tree), "-w", str(warehouse)],
        ["leaderboard", "-w", str(warehouse)],
    ):
        done = subprocess.run(
            [sys.executable, "-m", "mlpeg.cli", *args],
            capture_output=True,
            text=True,
            check=False,
            env=os.environ,
        )
        if done.returncode != 0:
            sys.exit(f"mlpeg {' '.join(args)} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--query-repeats", type=int, default=7)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--phase", choices=["a", "b", "c"], help=argparse.SUPPRESS)
    parser.add_argument("--tree", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--warehouse", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.phase:
        if args.phase == "a":
            result = phase_ml_peg(args.tree)
        elif args.phase == "b":
            result = phase_mlpeg(args.tree, args.warehouse)
        else:
            result = phase_query(args.warehouse, args.query_repeats)
        print(json.dumps(result))
        return

    if "MLPEG_DATA_MIRROR" not in os.environ and MIRROR.is_dir():
        os.environ["MLPEG_DATA_MIRROR"] = str(MIRROR)
    os.environ.setdefault("MLPEG_LOCK_TIMEOUT", "30")
    work = args.workdir or Path(tempfile.mkdtemp(prefix="mlpeg-vs-ml-peg-"))
    os.environ.setdefault("MLPEG_CACHE", str(work / "cache"))
    from mlpeg.importers.synthetic import write_x23_tree

    tree = work / "tree"
    shutil.rmtree(tree, ignore_errors=True)
    start = time.perf_counter()
    models = [f"model-{index:02d}" for index in range(args.models)]
    write_x23_tree(tree, models, seed=1, forces=True)
    n_files = sum(1 for _ in tree.rglob("*.xyz"))
    size_mb = sum(p.stat().st_size for p in tree.rglob("*.xyz")) / 1e6
    print(
        f"tree: {args.models} models, {n_files} files, {size_mb:.1f} MB, "
        f"written in {time.perf_counter() - start:.1f} s ({tree})"
    )

    runs: dict[str, list[dict]] = {"a": [], "b": []}
    for repeat in range(args.repeats):
        warehouse = work / f"wh-{repeat}" / "mlpeg.duckdb"
        shutil.rmtree(warehouse.parent, ignore_errors=True)
        runs["a"].append(_child(["--phase", "a", "--tree", str(tree)]))
        runs["b"].append(
            _child(["--phase", "b", "--tree", str(tree), "--warehouse", str(warehouse)])
        )
    query = _child(
        ["--phase", "c", "--warehouse", str(warehouse), "--query-repeats", str(args.query_repeats)]
    )
    cli_warehouse = work / "wh-cli" / "mlpeg.duckdb"
    shutil.rmtree(cli_warehouse.parent, ignore_errors=True)
    cli = _cli_seconds(tree, cli_warehouse)

    mae_a, mae_b = runs["a"][0]["mae"], runs["b"][0]["mae"]
    worst = max(abs(mae_a[model] - mae_b[model]) for model in mae_a)
    assert set(mae_a) == set(mae_b), "the two ways scored different models"
    a = statistics.median(run["seconds"] for run in runs["a"])
    b = statistics.median(run["seconds"] for run in runs["b"])
    c = query["seconds"]
    c_only = query["query_only_seconds"]

    def row(label: str, seconds: float, peak: float | None, base: float | None) -> str:
        memory = f"{peak:8.0f} MB (+{peak - base:.0f})" if peak is not None else " " * 8 + "–"
        return f"{label:<52} {seconds:9.3f} s  {a / seconds:9.1f}×  {memory}"

    from mlpeg import catalog

    print(f"catalogue: {len(catalog.benchmarks())} benchmarks feed the leaderboard views")
    print(f"\nMAE parity: {len(mae_a)} models, max |MAE(a) − MAE(b)| = {worst:.2e} kJ/mol")
    header = f"{'phase (median of runs)':<52} {'time':>11}  {'(a)/this':>10}"
    print(f"{header}  peak RSS (+ over imports)")
    pa, pb = runs["a"][0], runs["b"][0]
    print(row("(a) ML-PEG: ase.io.read + MAE in Python", a, pa["peak_rss_mb"], pa["base_rss_mb"]))
    print(row("(b) mlpeg: import + ingest + leaderboard", b, pb["peak_rss_mb"], pb["base_rss_mb"]))
    print(row("(b) as CLI: ingest --from-ml-peg; leaderboard", cli, None, None))
    peak, base = query["peak_rss_mb"], query["base_rss_mb"]
    print(row("(c) leaderboard query (open, query, close)", c, peak, base))
    print(row("(c) the same, first in a fresh process", query["first_seconds"], None, None))
    a_cpu = statistics.median(run["cpu_seconds"] for run in runs["a"])
    print(
        f"{'(c) the same, CPU seconds (of all its threads)':<52} {query['cpu_seconds']:9.3f} s"
        f"  {a_cpu / query['cpu_seconds']:9.1f}×  (against (a)'s {a_cpu:.3f} CPU s)"
    )
    print(row("(c) leaderboard query on an open connection", c_only, None, None))
    print(row("(c) X23 MAE per model (open, query, close)", query["x23_seconds"], None, None))
    print(
        row(
            "(c) X23 MAE per model on an open connection",
            query["x23_query_only_seconds"],
            None,
            None,
        )
    )
    print("\n(b) by stage (first run):")
    for stage, seconds in runs["b"][0]["stages"].items():
        print(f"  {stage:<50} {seconds:9.3f} s")
    print(
        f"\ntargets: (c) ≥ 100× faster than (a): leaderboard {a / c:.0f}× "
        f"[{'met' if a / c >= 100 else 'NOT met'}], X23 MAE {a / query['x23_seconds']:.0f}× "
        f"[{'met' if a / query['x23_seconds'] >= 100 else 'NOT met'}]; "
        f"(b) no slower than (a): {a / b:.2f}× [{'met' if b <= a else 'NOT met'}]"
    )
    if args.workdir is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
