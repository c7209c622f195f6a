"""D3(BJ)-PBE backends: compiled ``dftd3`` (simple-dftd3) against ``torch-dftd``, same run.

Times energy + forces (+ stress for cells) of each backend on molecules (S22 water dimer,
S22 adenine-thymine) and periodic cells (X23 benzene, and X23 CO2 repeated 3×3×1 to 108
atoms), all at mlpeg's default cutoffs (95 bohr two-body, 40 bohr coordination number).
Prints per-call times, the torch-dftd/dftd3 time ratios, and the largest energy and
force differences from dftd3; exits non-zero if the backends disagree or the water-dimer
energy is not −0.037527 eV. Each timing is the median of ``--repeats`` calls on slightly
moved atoms (so no cached result is reused), after one untimed call. Run:
``MLPEG_DATA_MIRROR=../shared/data python bench/d3_backends.py [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.data.s22 import create_s22_system
from ase.io import read
from rich.console import Console
from rich.table import Table

from mlpeg.data import fetch, read_manifest
from mlpeg.models.d3 import d3_calculator

WATER_DIMER_EV = -0.037527
ENERGY_TOLERANCE_EV = 1e-5
FORCE_TOLERANCE_EV_A = 1e-4
X23 = Path(__file__).parents[1] / "benchmarks/molecular_crystal/X23/data.sha256"
BACKENDS = {
    "dftd3": {"backend": "dftd3"},
    "torch f64": {"backend": "torch-dftd", "dtype": "float64"},
    "torch f32": {"backend": "torch-dftd", "dtype": "float32"},
}


def structures() -> dict[str, Atoms]:
    files = read_manifest(X23)
    benzene = read(fetch(files["data_dmc/solid/06benzene/POSCAR"]), format="vasp")
    co2 = read(fetch(files["data_dmc/solid/07co2/POSCAR"]), format="vasp")
    return {
        "S22 water dimer": create_s22_system("Water_dimer"),
        "S22 adenine-thymine": create_s22_system("Adenine-thymine_Watson-Crick_complex"),
        "X23 benzene cell": benzene,
        "X23 CO2 cell 3×3×1": co2.repeat((3, 3, 1)),
    }


def evaluate(atoms: Atoms, settings: dict, repeats: int) -> tuple[float, float, np.ndarray]:
    """Return (median seconds per call, energy, forces) of one backend on one structure."""
    atoms = atoms.copy()
    atoms.calc = d3_calculator(**settings)
    periodic = bool(atoms.pbc.all())
    energy = atoms.get_potential_energy()
    forces = atoms.get_forces()
    rng = np.random.default_rng(0)
    reference = atoms.positions.copy()
    seconds = []
    for _ in range(repeats):
        atoms.positions = reference + rng.normal(scale=1e-4, size=reference.shape)
        start = time.perf_counter()
        atoms.get_potential_energy()
        atoms.get_forces()
        if periodic:
            atoms.get_stress()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds), energy, forces


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    console = Console()
    timing = Table(title="D3(BJ)-PBE, seconds per call", header_style="bold")
    for column in ("structure", "atoms", *BACKENDS, "f64/dftd3", "f32/dftd3"):
        timing.add_column(column, justify="left" if column == "structure" else "right")
    agreement = Table(title="Differences from dftd3", header_style="bold")
    for column in ("structure", "E dftd3 (eV)", "ΔE f64", "ΔE f32", "ΔF f64", "ΔF f32"):
        agreement.add_column(column, justify="left" if column == "structure" else "right")
    failures = []
    for name, atoms in structures().items():
        results = {}
        for backend, settings in BACKENDS.items():
            console.print(f"{name}: {backend} …", highlight=False)
            results[backend] = evaluate(atoms, settings, args.repeats)
        base_time, base_energy, base_forces = results["dftd3"]
        times = [results[backend][0] for backend in BACKENDS]
        ratios = [f"{t / base_time:.0f}×" for t in times[1:]]
        timing.add_row(name, str(len(atoms)), *(f"{t:.4f}" for t in times), *ratios)
        delta_e, delta_f = [], []
        for backend in list(BACKENDS)[1:]:
            _, energy, forces = results[backend]
            delta_e.append(abs(energy - base_energy))
            delta_f.append(float(np.abs(forces - base_forces).max()))
            if delta_e[-1] > ENERGY_TOLERANCE_EV or delta_f[-1] > FORCE_TOLERANCE_EV_A:
                failures.append(f"{backend} disagrees with dftd3 on {name}")
        for backend, (_, energy, _) in results.items():
            if "water" in name and round(energy, 6) != WATER_DIMER_EV:
                failures.append(f"{backend}: water dimer {energy:.6f} eV, not {WATER_DIMER_EV}")
        agreement.add_row(name, f"{base_energy:.6f}", *(f"{d:.1e}" for d in delta_e + delta_f))
    console.print(timing)
    console.print(agreement)
    console.print("ΔE in eV, ΔF = largest force component difference in eV/Å.")
    for failure in failures:
        console.print(f"[red]{failure}[/]")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
