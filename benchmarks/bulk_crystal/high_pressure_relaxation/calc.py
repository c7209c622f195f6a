"""Crystal relaxations under pressure (0–150 GPa) against Alexandria's PBE relaxations.

As in ML-PEG, every material starts from its 0 GPa structure and is relaxed (cell and
atoms, symmetry kept) at each pressure; the view compares the volume and the enthalpy
H = E + PV per atom with Alexandria's at that pressure (whose stored ``energy`` is the
enthalpy: dH/dP = V holds between its pressures, see the tests), and counts convergence.
"""

from __future__ import annotations

import bz2
import json
import random
from functools import cache
from pathlib import Path

from ase.units import GPa

from mlpeg.calc.kinds import Relax
from mlpeg.calc.tasks import Reference, Task
from mlpeg.data import fetch, read_manifest
from mlpeg.errors import DataError
from mlpeg.pymatgen_json import entry_to_atoms

FILES = read_manifest(Path(__file__).with_name("data.sha256"))
DATA = "ml_peg/calcs/bulk_crystal/high_pressure_relaxation/data"
PRESSURES = (0, 25, 50, 75, 100, 125, 150)  # GPa
#: ML-PEG's selection: random.Random(42).sample(range(n_entries), 3000) over P000's entries.
N_FULL, SEED, N_QUICK = 3000, 42, 1
SOURCE = "Alexandria PBE pressure benchmark (Schmidt et al.), via ddmms/ml-peg@e056b23e"


def label(pressure: int) -> str:
    """Return ML-PEG's file label of a pressure, e.g. ``P025``."""
    return f"P{pressure:03d}"


@cache
def entries(pressure: int) -> dict[str, dict]:
    """Return one pressure's entries keyed by Alexandria ``mat_id`` (file order kept)."""
    path = fetch(FILES[f"{DATA}/{label(pressure)}.json.bz2"])
    try:
        with bz2.open(path, "rt") as handle:
            found = json.load(handle)["entries"]
    except (OSError, EOFError, KeyError, TypeError, json.JSONDecodeError) as exc:
        raise DataError(f"{path}: cannot read the entries ({exc!r}).") from exc
    by_id = {}
    for index, entry in enumerate(found):
        mat_id = (entry.get("data") or {}).get("mat_id")
        if not mat_id:
            raise DataError(f"{path}: entry {index} has no data.mat_id.")
        by_id[mat_id] = entry
    return by_id


def selected(*, full: bool) -> list[str]:
    """ML-PEG's 3,000 materials, or the quick band: the one with the fewest atoms."""
    ids = list(entries(0))
    chosen = [ids[i] for i in random.Random(SEED).sample(range(len(ids)), N_FULL)]
    if full:
        return chosen
    size = {mat_id: len(entries(0)[mat_id]["structure"]["sites"]) for mat_id in chosen}
    return sorted(chosen, key=lambda mat_id: (size[mat_id], mat_id))[:N_QUICK]


def tasks(*, full: bool = False) -> list[Task]:
    found = []
    for mat_id in selected(full=full):
        atoms, _ = entry_to_atoms(entries(0)[mat_id], where=f"P000 {mat_id}")
        for pressure in PRESSURES:
            kind = Relax(
                fmax=0.0002,
                max_steps=500,
                optimizer="LBFGS",
                relax_cell=True,
                scalar_pressure=pressure * GPa,
                fix_symmetry=True,
                require_convergence=True,
            )
            found.append(Task(mat_id, label(pressure), atoms, kind))
    return found


def references() -> list[Reference]:
    found = []
    for mat_id in selected(full=True):
        for pressure in PRESSURES:
            entry = entries(pressure).get(mat_id)
            if entry is None:
                raise DataError(f"{label(pressure)}: no entry for {mat_id}.")
            atoms, fields = entry_to_atoms(entry, where=f"{label(pressure)} {mat_id}")
            n = len(atoms)
            system = f"{mat_id}@{label(pressure)}"
            found.append(
                Reference(
                    system,
                    "volume_per_atom",
                    atoms.get_volume() / n,
                    "Å^3/atom",
                    None,
                    "PBE",
                    SOURCE,
                )
            )
            found.append(
                Reference(
                    system,
                    "enthalpy_per_atom",
                    fields["energy"] / n,
                    "eV/atom",
                    None,
                    "PBE",
                    SOURCE,
                )
            )
    return found
