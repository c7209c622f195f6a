"""CRBH20: 20 cycloreversion barriers of heterocyclic rings, E(TS) − E(reactant), against r2SCAN.

Structures are ML-PEG's POSCARs (molecules in 25 Å boxes); the reference barriers (eV) are
the ``REF_BARRIERS_EV`` constant of ML-PEG's analysis script, read from that file's syntax
tree so no number is retyped here.
"""

import ast
from pathlib import Path

from ase.io import read

from mlpeg.data import read_manifest
from mlpeg.errors import DataError
from mlpeg.reactions import Reaction, ReactionBenchmark, ReactionData
from mlpeg.sources import pinned, set_charge_spin

MANIFEST = Path(__file__).with_name("data.sha256")
DATA = "ml_peg/calcs/molecular/CRBH20/data"
ANALYSIS = "ml_peg/analysis/molecular_reactions/CRBH20/analyse_CRBH20.py"
LEVEL = "r2SCAN"
SOURCE = "Batatia et al., J. Chem. Phys. (2025), doi:10.1063/5.0297006, Appendix B.5"


def reference_barriers(source: str, *, name: str = "REF_BARRIERS_EV") -> dict[int, float]:
    """Return the dict literal assigned to ``name`` at the top level of a Python source.

    Raises
    ------
    DataError
        When there is no such assignment or its value is not a literal {int: float} dict.
    """
    for node in ast.parse(source).body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            try:
                value = ast.literal_eval(node.value)
            except ValueError:
                break
            if isinstance(value, dict) and all(
                isinstance(k, int) and isinstance(v, float) for k, v in value.items()
            ):
                return value
            break
    raise DataError(f"{ANALYSIS}: no literal {name} = {{reaction: barrier in eV}} dict.")


def molecule(path: Path):
    """A POSCAR's molecule, isolated: no box, no periodicity, neutral singlet."""
    atoms = read(path, format="vasp")
    atoms.pbc = False
    atoms.cell = None
    return set_charge_spin(atoms, 0, 1)


def load(manifest: Path = MANIFEST) -> ReactionData:
    """Read the 20 barriers and their 40 structures from the files pinned in ``manifest``."""
    files = read_manifest(manifest)
    barriers = reference_barriers(pinned(files, ANALYSIS, manifest).read_text())
    folders = {int(p.split("/")[-3]) for p in files if p.startswith(DATA) and p.endswith("POSCAR")}
    if folders != set(barriers):
        missing = sorted(set(barriers) ^ folders)
        raise DataError(f"{manifest}: reactions {missing} have a barrier or POSCARs, not both.")
    reactions, structures = [], {}
    for number in sorted(barriers):
        for state in ("react", "ts"):
            path = pinned(files, f"{DATA}/{number}/{state}/POSCAR", manifest)
            try:
                structures[f"{number}/{state}"] = molecule(path)
            except (ValueError, IndexError, KeyError) as exc:
                raise DataError(f"{path}: cannot read the POSCAR ({exc}).") from exc
        species = ((f"{number}/ts", 1.0), (f"{number}/react", -1.0))
        reactions.append(Reaction(str(number), species, barriers[number]))
    return ReactionData(reactions, structures, "barrier_height", LEVEL, SOURCE)


BENCHMARK = ReactionBenchmark(load)
tasks, references, reactions = BENCHMARK.tasks, BENCHMARK.references, BENCHMARK.reactions
