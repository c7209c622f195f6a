"""Calc throughput: one structure at a time vs batched vs Ray workers, in one run.

Uses a real trained model that is reachable offline: mace's own Ge/Sb/Te example
(``mace-ge-sb-te`` in models.yml, fetched from the data mirror), on two sets of
structures:

- small molecules: Ge/Sb/Te clusters of 3 to 8 atoms in vacuum;
- 64-atom crystals: rattled rock-salt GeTe (2 × 2 × 2 conventional cells).

Each mode runs the same tasks through ``run_tasks`` end to end (planning, model build,
evaluation, parts written), into its own empty landing folder, and the best of
``--repeat`` runs is kept. Ratios are against one-at-a-time in the same run.

    python bench/calc_throughput.py [--molecules 256] [--crystals 32] [--repeat 2]
        [--workers 2] [--device cpu] [--no-ray]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.build import bulk
from rich.console import Console
from rich.table import Table

from mlpeg import catalog
from mlpeg.calc.execute import Evaluator, RunContext
from mlpeg.calc.runner import CalcOptions, run_tasks
from mlpeg.calc.tasks import SinglePoint, Task
from mlpeg.models import registry
from mlpeg.paths import REPO_ROOT

MODEL = "mace-ge-sb-te"
console = Console()


def clusters(count: int, seed: int = 0) -> list[Atoms]:
    """Random Ge/Sb/Te clusters of 3-8 atoms, no two atoms closer than 2.4 Å."""
    rng = np.random.default_rng(seed)
    found = []
    while len(found) < count:
        n_atoms = int(rng.integers(3, 9))
        positions = [np.zeros(3)]
        while len(positions) < n_atoms:
            trial = positions[int(rng.integers(len(positions)))] + rng.normal(size=3) * 1.8
            if min(np.linalg.norm(trial - p) for p in positions) > 2.4:
                positions.append(trial)
        symbols = rng.choice(["Ge", "Sb", "Te"], size=n_atoms)
        found.append(Atoms(symbols=list(symbols), positions=positions))
    return found


def crystals(count: int, seed: int = 0) -> list[Atoms]:
    """Rattled 64-atom rock-salt GeTe cells."""
    cells = []
    for index in range(count):
        atoms = bulk("GeTe", "rocksalt", a=6.0, cubic=True).repeat(2)
        atoms.rattle(0.05, seed=seed + index)
        cells.append(atoms)
    return cells


def make_tasks(structures: list[Atoms], label: str) -> list[Task]:
    kind = SinglePoint(("energy", "forces"))
    return [Task(f"{label}{i:04d}", "x", atoms, kind) for i, atoms in enumerate(structures)]


def timed(tasks, spec, options: CalcOptions, device: str, repeat: int) -> float:
    """Best wall time of ``repeat`` end-to-end runs (fresh landing folder each)."""
    bench = catalog.get_benchmark("X23")  # any known benchmark key; D3 is off for this model
    best = float("inf")
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as folder:
            summary = run_tasks(
                tasks, spec, bench, landing=Path(folder), device=device, options=options
            )
            assert summary.n_ok == len(tasks), (summary.n_failed, summary.n_unsupported)
            best = min(best, summary.wall_time_s)
    return best


def timed_evaluation(tasks, spec, batch_size: int, device: str, repeat: int) -> float:
    """Best time of evaluating the tasks with a model already built (no parts written)."""
    evaluator = Evaluator(spec, with_d3=False, device=device, batch_size=batch_size)
    evaluator.load()
    context = RunContext("bench", spec.name, "X23")
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        rows = [row for group in evaluator.rows(tasks, context) for row in group]
        best = min(best, time.perf_counter() - start)
        assert all(row["state"] == "ok" for row in rows)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--molecules", type=int, default=256)
    parser.add_argument("--crystals", type=int, default=32)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--no-ray", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("MLPEG_DATA_MIRROR", str(REPO_ROOT.parent / "shared" / "data"))

    import torch

    spec = registry.get_model(MODEL)
    spec = registry.ModelSpec(**{**spec.__dict__, "trained_on_dispersion": True})  # no D3
    start = time.perf_counter()
    registry.make_calculator(spec, device=args.device)
    load_s = time.perf_counter() - start
    console.print(
        f"model {MODEL} ({spec.dtype}) on {args.device}, torch threads "
        f"{torch.get_num_threads()}, CPUs {os.cpu_count()}; model build {load_s:.1f} s "
        "(included in every mode's time)"
    )
    modes = {
        "one at a time": CalcOptions(batch_size=1),
        f"batched ({args.batch_size})": CalcOptions(batch_size=args.batch_size),
    }
    if not args.no_ray:
        from mlpeg.calc.engines.ray import ensure_ray

        ensure_ray(workers=args.workers)
        modes[f"Ray × {args.workers}, batched"] = CalcOptions(
            engine="ray", workers=args.workers, batch_size=args.batch_size
        )
    sets = {
        f"molecules (3-8 atoms) × {args.molecules}": make_tasks(clusters(args.molecules), "m"),
        f"crystals (64 atoms) × {args.crystals}": make_tasks(crystals(args.crystals), "c"),
    }
    table = Table(title="calc throughput (best of repeats, end to end)", header_style="bold")
    for column in ("structures", "mode", "wall s", "structures/s", "× one at a time"):
        table.add_column(column, justify="left" if column in ("structures", "mode") else "right")
    for label, tasks in sets.items():
        baseline = None
        for mode, options in modes.items():
            seconds = timed(tasks, spec, options, args.device, args.repeat)
            rate = len(tasks) / seconds
            baseline = baseline or rate
            table.add_row(label, mode, f"{seconds:.2f}", f"{rate:.1f}", f"{rate / baseline:.2f}")
        table.add_section()
    console.print(table)
    table = Table(title="model evaluation only (model already built)", header_style="bold")
    for column in ("structures", "one at a time /s", "batched /s", "batched ×"):
        table.add_column(column, justify="left" if column == "structures" else "right")
    for label, tasks in sets.items():
        one = len(tasks) / timed_evaluation(tasks, spec, 1, args.device, args.repeat)
        many = len(tasks) / timed_evaluation(tasks, spec, args.batch_size, args.device, args.repeat)
        table.add_row(label, f"{one:.1f}", f"{many:.1f}", f"{many / one:.2f}")
    console.print(table)


if __name__ == "__main__":
    main()
