"""BH2O-36: forward and reverse barriers of 18 hydrolysis reactions (36 barriers), in vacuum.

hydrobench names structures ``<reaction>_<rct|pro|ts>_<charge>.xyz`` (``amide_2_1_ts_-1``)
and keys its reference energies (Eh) ``<reaction without underscores>_<state>_vacuum``
(``amide21_ts_vacuum``). The corrected reference file (2023-06-25) differs from the first
one only for the acetic-anhydride TS, recomputed on a new TS geometry that the repository
added with it as ``aceticanhydride_realts_0.xyz`` (its ``src/calc/correct_sp.py``): that
geometry is the TS here, and the superseded ``aceticanhydride_ts_0.xyz`` is not used.
"""

import json
from pathlib import Path

from ase.units import Hartree

from mlpeg.data import fetch, read_manifest
from mlpeg.errors import DataError
from mlpeg.reactions import Reaction, ReactionBenchmark, ReactionData
from mlpeg.refdata import read_xyz
from mlpeg.sources import pinned, set_charge_spin

MANIFEST = Path(__file__).with_name("data.sha256")
REFERENCE = "src/data/reference/corrected/20230625_mp2_super.json"
FOLDER = "src/data/molecules/for_sp/"
LEVEL = "MP2/CBS + ΔCCSD(T)/def2-TZVP"
SOURCE = "Spotte-Smith et al., JCTC 19, 3159 (2023); hydrobench corrected references (2023)"
STATES = {"rct": "rct", "pro": "pro", "ts": "ts", "realts": "ts"}


def structure_index(paths) -> dict[tuple[str, str], tuple[str, int]]:
    """Map (reaction key, state) to (file path, charge) from ``<name>_<state>_<charge>.xyz``."""
    index: dict[tuple[str, str], tuple[str, int]] = {}
    for path in paths:
        name, state, charge = Path(path).stem.rsplit("_", 2)
        if state not in STATES:
            raise DataError(f"{path}: state '{state}' is not one of {', '.join(STATES)}.")
        key = (name.replace("_", ""), STATES[state])
        if key in index:
            raise DataError(f"{path} and {index[key][0]} are both the {key[1]} of {key[0]}.")
        index[key] = (path, int(charge))
    return index


def load(manifest: Path = MANIFEST) -> ReactionData:
    """Read the 36 barriers and their 54 structures from the files pinned in ``manifest``."""
    files = read_manifest(manifest)
    reference = json.loads(pinned(files, REFERENCE, manifest).read_text())
    energies: dict[str, dict[str, float]] = {}
    for key, value in reference.items():
        name, state, medium = key.split("_")
        if medium == "vacuum":
            energies.setdefault(name, {})[state] = value * Hartree
    index = structure_index(p for p in files if p.startswith(FOLDER) and p.endswith(".xyz"))
    unused = sorted(f"{n} {s}" for n, s in index if s not in energies.get(n, {}))
    if unused:
        raise DataError(f"{manifest}: structures without a reference energy: {', '.join(unused)}.")
    reactions, structures = [], {}
    for name in sorted(energies):
        states = energies[name]
        for state in ("rct", "pro", "ts"):
            if (name, state) not in index or state not in states:
                raise DataError(f"{manifest}: {name} has no {state} structure and energy.")
            path, charge = index[name, state]
            structures[f"{name}/{state}"] = set_charge_spin(read_xyz(fetch(files[path])), charge, 1)
        for subset, end in (("forward", "rct"), ("reverse", "pro")):
            reactions.append(
                Reaction(
                    f"{name}/{subset}",
                    ((f"{name}/ts", 1.0), (f"{name}/{end}", -1.0)),
                    states["ts"] - states[end],
                    subset,
                )
            )
    return ReactionData(reactions, structures, "barrier_height", LEVEL, SOURCE)


BENCHMARK = ReactionBenchmark(load)
tasks, references, reactions = BENCHMARK.tasks, BENCHMARK.references, BENCHMARK.reactions
