"""Density of liquid water from NPT molecular dynamics at 270, 290, 300 and 330 K.

A cubic box of randomly oriented water molecules at 1 g/cm³ (mlpeg.liquids.water_box) is
run at 1 atm with ASE's isotropic MTK barostat (tdamp 50 fs, pdamp 500 fs, as ML-PEG); the
view averages the density over the second half of each trajectory. The experimental
densities are read, with Python's ``ast``, from ML-PEG's own analysis file.
"""

from __future__ import annotations

import ast
from pathlib import Path

from ase.units import bar

from mlpeg.calc.kinds import MolecularDynamics
from mlpeg.calc.tasks import Reference, Task
from mlpeg.data import fetch, read_manifest
from mlpeg.errors import DataError
from mlpeg.liquids import water_box

FILES = read_manifest(Path(__file__).with_name("data.sha256"))
ANALYSIS = "ml_peg/analysis/molecular_dynamics/water_density/analyse_water_density.py"
TEMPERATURES = (270.0, 290.0, 300.0, 330.0)
#: Quick: 8 molecules, 20 steps of 1 fs (a smoke test of the pipeline, scored as quick; 27
#: molecules and 100 steps cost CHGNet over five CPU minutes, half the main job's budget,
#: most of it in the D3 lattice sum, whose 95-bohr cutoff spans thousands of small cells).
#: Full: ML-PEG's protocol, 1 ns of 1 fs steps (the first 500 ps discarded), 216 molecules.
BANDS = {
    False: {"n_per_side": 2, "n_steps": 20, "frame_stride": 4},
    True: {"n_per_side": 6, "n_steps": 1_000_000, "frame_stride": 1000},
}
SOURCE = "Experiment, as tabulated in ML-PEG's analyse_water_density.py (ddmms/ml-peg@6a03c7a)"


def experimental_densities() -> dict[str, float]:
    """Return ML-PEG's ``EXPERIMENTAL_DATA`` (g/cm³ keyed ``water_<T>_K``), parsed, not run."""
    path = fetch(FILES[ANALYSIS])
    try:
        tree = ast.parse(path.read_text())
    except SyntaxError as exc:
        raise DataError(f"{path}: not Python ({exc}).") from exc
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "EXPERIMENTAL_DATA"
            for target in node.targets
        ):
            return {str(k): float(v) for k, v in ast.literal_eval(node.value).items()}
    raise DataError(f"{path}: no EXPERIMENTAL_DATA assignment.")


def system(temperature: float) -> str:
    """Return ML-PEG's label of a temperature, e.g. ``water_300.0_K``."""
    return f"water_{temperature:.1f}_K"


def tasks(*, full: bool = False) -> list[Task]:
    band = BANDS[full]
    box = water_box(band["n_per_side"], seed=0)
    return [
        Task(
            system(temperature),
            "npt",
            box,
            MolecularDynamics(
                ensemble="npt",
                n_steps=band["n_steps"],
                timestep_fs=1.0,
                temperature_K=temperature,
                pressure=1.01325 * bar,
                tdamp_fs=50.0,
                pdamp_fs=500.0,
                frame_stride=band["frame_stride"],
                seed=0,
            ),
        )
        for temperature in TEMPERATURES
    ]


def references() -> list[Reference]:
    data = experimental_densities()
    missing = [system(t) for t in TEMPERATURES if system(t) not in data]
    if missing:
        raise DataError(f"{ANALYSIS}: EXPERIMENTAL_DATA lacks {', '.join(missing)}.")
    return [
        Reference(system(t), "density", data[system(t)], "g/cm^3", None, "experiment", SOURCE)
        for t in TEMPERATURES
    ]
