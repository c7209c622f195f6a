"""Single-point throughput of every model that runs here, on the same structures, one run.

Structures (the same for every model, built with ASE, no download):

- 100 molecules: the first 100 closed-shell molecules of ASE's G2 set (H-Cl), each in a
  box with 8 Å of vacuum, non-periodic, neutral singlets (G2's radicals are left out, as
  models that take no spin would record them as unsupported);
- 20 crystals: conventional cells of elements and binaries (2-8 atoms, rattled 0.02 Å),
  two of them Ge/Sb/Te so that the Ge/Sb/Te MACE example has something to compute.

Each model is built once (build time reported apart), warmed up on one molecule and one
crystal, then evaluated through the calc engine's :class:`Evaluator` (energy and forces,
plus stress on crystals; batched where the family batches), timing molecules and
crystals separately. Structures a model cannot take (elements, charge, spin) are counted
as unsupported and not timed.

    python bench/model_throughput.py [--models all-offline] [--device cpu] [--out FILE]

On a shared machine run it with ``OMP_NUM_THREADS=1``: with two cores and a load of ~30,
torch's two threads spin against each other and CHGNet fell from 3.4 to 0.1 molecules/s.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.build import bulk, molecule
from ase.collections import g2
from rich.console import Console
from rich.table import Table

from mlpeg.calc.execute import Evaluator, RunContext
from mlpeg.calc.tasks import SinglePoint, Task
from mlpeg.models import registry

console = Console()

#: (formula, ASE crystal structure, lattice constant Å, extra bulk() arguments)
CRYSTALS = [
    ("Si", "diamond", 5.43, {}), ("Ge", "diamond", 5.66, {}), ("C", "diamond", 3.57, {}),
    ("Cu", "fcc", 3.61, {}), ("Al", "fcc", 4.05, {}), ("Ni", "fcc", 3.52, {}),
    ("Ag", "fcc", 4.09, {}), ("Fe", "bcc", 2.87, {}), ("W", "bcc", 3.17, {}),
    ("Mo", "bcc", 3.15, {}), ("Na", "bcc", 4.23, {}), ("NaCl", "rocksalt", 5.64, {}),
    ("MgO", "rocksalt", 4.21, {}), ("LiF", "rocksalt", 4.03, {}),
    ("GeTe", "rocksalt", 6.0, {}), ("GaAs", "zincblende", 5.65, {}),
    ("ZnS", "zincblende", 5.41, {}), ("CsCl", "cesiumchloride", 4.12, {}),
    ("SiC", "zincblende", 4.36, {}), ("AlN", "zincblende", 4.38, {}),
]  # fmt: skip


def molecules(count: int = 100) -> list[Atoms]:
    """The first ``count`` closed-shell G2 molecules in boxes (charge 0, singlet)."""
    found = []
    for name in g2.names:
        atoms = molecule(name)
        if np.any(atoms.get_initial_magnetic_moments()):  # radicals: not every model takes spin
            continue
        atoms.center(vacuum=8.0)
        atoms.pbc = False
        atoms.info.update(charge=0, spin=1, name=name)
        found.append(atoms)
        if len(found) == count:
            break
    return found


def crystals() -> list[Atoms]:
    """Twenty rattled conventional cells (2-8 atoms)."""
    found = []
    for index, (formula, structure, a, extra) in enumerate(CRYSTALS):
        atoms = bulk(formula, structure, a=a, cubic=True, **extra)
        atoms.rattle(0.02, seed=index)
        atoms.info.update(charge=0, spin=1, name=formula)
        found.append(atoms)
    return found


def timed(evaluator: Evaluator, structures: list[Atoms], role: str) -> tuple[int, float]:
    """Evaluate ``structures``; return (how many came out ok, seconds)."""
    kind = SinglePoint(("energy", "forces", "stress"))
    tasks = [Task(a.info["name"], role, a, kind) for a in structures]
    context = RunContext("bench", evaluator.spec.name, "throughput")
    start = time.perf_counter()
    rows = [row for group in evaluator.rows(tasks, context) for row in group]
    elapsed = time.perf_counter() - start
    return sum(row["state"] == "ok" for row in rows), elapsed


HEADER = [
    "model", "family", "build s", "molecules run", "molecules/s", "crystals run",
    "crystals/s", "all/s",
]  # fmt: skip


def write_markdown(path: Path, rows: list[list[str]]) -> None:
    """Write the table so far as Markdown."""
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    path.write_text("\n".join(lines) + "\n")


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:.1f}" if count and seconds > 0 else "–"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=["all-offline"])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", type=Path, help="Also write the table as Markdown here.")
    args = parser.parse_args()
    mols, cells = molecules(), crystals()
    specs = registry.select_models(args.models)
    console.print(
        f"{len(mols)} molecules ({sum(len(a) for a in mols)} atoms), {len(cells)} crystals "
        f"({sum(len(a) for a in cells)} atoms); {len(specs)} models; {platform.node()}, "
        f"{os.cpu_count()} CPUs, torch threads {os.environ.get('OMP_NUM_THREADS', 'default')}"
    )
    rows = []
    for spec in specs:
        console.print(f"[bold]{spec.name}[/] …")
        start = time.perf_counter()
        evaluator = Evaluator(spec, with_d3=False, device=args.device)
        evaluator.load()
        build_s = time.perf_counter() - start
        timed(evaluator, mols[:1], "molecule")  # warm-up: first-call compilation, caches
        timed(evaluator, cells[:1], "crystal")
        mol_ok, mol_s = timed(evaluator, mols, "molecule")
        cry_ok, cry_s = timed(evaluator, cells, "crystal")
        rows.append(
            [
                spec.name + (" (baseline)" if spec.is_baseline else ""),
                spec.family,
                f"{build_s:.1f}",
                f"{mol_ok}/{len(mols)}",
                rate(mol_ok, mol_s),
                f"{cry_ok}/{len(cells)}",
                rate(cry_ok, cry_s),
                rate(mol_ok + cry_ok, mol_s + cry_s),
            ]
        )
        console.print(f"  molecules {rows[-1][4]}/s, crystals {rows[-1][6]}/s")
        if args.out:  # after every model, so a run cut short keeps what it measured
            write_markdown(args.out, rows)
    table = Table(title="Single-point throughput (energy, forces; stress on crystals)")
    for column in HEADER:
        table.add_column(column, justify="left" if column in ("model", "family") else "right")
    for row in rows:
        table.add_row(*row)
    console.print(table)


if __name__ == "__main__":
    main()
