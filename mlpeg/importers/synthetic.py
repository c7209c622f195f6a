"""Write X23 output trees exactly as ML-PEG's calc step lays them out, with chosen energies.

Used by the importer's tests and by ``bench/vs_ml_peg.py``: real X23 structures (from the
benchmark's ``calc.py``), energies chosen by the caller or drawn at random, written with
``ase.io.write`` as ML-PEG's ``calc_X23.py`` does (solid then molecule in
``<system>.xyz``, info keys ``ref`` in kJ/mol, ``num_molecules`` and ``system``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator
from ase.io import write
from ase.units import kJ, mol

from mlpeg import catalog

#: (solid energy, molecule energy) in eV for one model and one system.
Energies = tuple[float, float]


def x23_inputs() -> tuple[dict[str, dict[str, Atoms]], dict[str, float]]:
    """Return X23's structures by system and role, and its DMC lattice energies (eV)."""
    module = catalog.get_benchmark("X23").calc_module()
    structures: dict[str, dict[str, Atoms]] = {}
    for task in module.tasks():
        structures.setdefault(task.system, {})[task.role] = task.atoms
    references = {ref.system: float(ref.value) for ref in module.references()}
    return structures, references


def random_energies(
    structures: dict[str, dict[str, Atoms]],
    references: dict[str, float],
    rng: np.random.Generator,
) -> dict[str, Energies]:
    """Draw one model's energies: lattice energy = DMC + a model bias + noise (eV).

    The molecule's energy is a sum of per-element energies (about −3 eV per atom), so the
    numbers look like a real model's.
    """
    per_element = rng.normal(-3.0, 0.5, size=119)
    bias = rng.normal(0.0, 0.05)
    energies = {}
    for system, roles in structures.items():
        molecule = float(per_element[roles["molecule"].numbers].sum())
        n_molecules = len(roles["solid"]) / len(roles["molecule"])
        lattice = references[system] + bias + rng.normal(0.0, 0.03)
        energies[system] = (n_molecules * (molecule + lattice), molecule)
    return energies


def write_x23_outputs(
    folder: Path,
    structures: dict[str, dict[str, Atoms]],
    references: dict[str, float],
    energies: dict[str, Energies],
    *,
    forces: np.random.Generator | None = None,
    name: Callable[[str], str] = str,
) -> list[Path]:
    """Write one model's ``outputs/<model>/`` folder as ML-PEG's X23 calc does.

    Parameters
    ----------
    folder
        The model folder (created).
    structures, references
        From :func:`x23_inputs`.
    energies
        (solid, molecule) energies in eV per system; systems not listed are not written.
    forces
        When given, random forces are stored too, as a MACE calculator's results would be.
    name
        Maps an mlpeg system name to the name written in ``info['system']`` and the file.

    Returns
    -------
    list[Path]
        The written files.
    """
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for system, (solid_energy, molecule_energy) in energies.items():
        solid = structures[system]["solid"].copy()
        molecule = structures[system]["molecule"].copy()
        frames = []
        for atoms, energy in ((solid, solid_energy), (molecule, molecule_energy)):
            results: dict[str, object] = {"energy": energy}
            if forces is not None:
                results["forces"] = forces.normal(0.0, 0.1, size=(len(atoms), 3))
            atoms.calc = SinglePointCalculator(atoms, **results)
            atoms.info["ref"] = references[system] * mol / kJ
            atoms.info["num_molecules"] = len(solid) / len(molecule)
            atoms.info["system"] = name(system)
            frames.append(atoms)
        path = folder / f"{name(system)}.xyz"
        write(path, frames)
        written.append(path)
    return written


def write_x23_tree(
    root: Path,
    models: Sequence[str],
    *,
    seed: int = 0,
    forces: bool = False,
) -> dict[str, dict[str, Energies]]:
    """Write ``<root>/molecular_crystal/X23/outputs/<model>/`` for each model, at random.

    Returns
    -------
    dict
        The energies written, by model then system.
    """
    structures, references = x23_inputs()
    rng = np.random.default_rng(seed)
    outputs = root / "molecular_crystal" / "X23" / "outputs"
    written = {}
    for model in models:
        energies = random_energies(structures, references, rng)
        write_x23_outputs(
            outputs / model, structures, references, energies, forces=rng if forces else None
        )
        written[model] = energies
    return written
