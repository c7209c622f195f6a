"""Al–Zn–Cu–Mg regression (ML-PEG, from evalpot): bulk, elastic and surface properties.

Eight OQMD crystals (Al, Cu, Mg, Zn and the Al2Cu θ′/θ, Al3Cu θ″ and S-phase precipitates)
are relaxed (cell and atoms) by each model in their standardised primitive cell; the
relaxed cell gives the volume and lattice constants, and strained copies with relaxed
atoms give the 6×6 elastic tensor and its Voigt moduli (mlpeg.elastic). Slabs of fcc Al
and Cu ({111}, {100}, {110}) and, with ``--full``, of hcp Mg and Zn (seven facets each) give
surface energies at the model's own lattice constant (mlpeg.materials.SurfaceEnergy).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from ase import Atoms
from ase.build import bulk
from ase.cell import Cell
from ase.io import read
from ase.units import GPa, J, m

from mlpeg.calc.tasks import Reference, Task
from mlpeg.data import fetch, read_manifest
from mlpeg.elastic import ElasticTensor, standard_cell
from mlpeg.errors import DataError
from mlpeg.materials import SurfaceEnergy

FILES = read_manifest(Path(__file__).with_name("data.sha256"))
DATA = "ml_peg/calcs/alloy_metallurgy/alzncumg_regression/data"
STRUCTURES = {
    "8100": "Al",
    "635950": "Cu",
    "9226": "Mg",
    "122929": "Zn",
    "695020": "Al2Cu theta-prime",
    "10434": "Al2CuMg S-phase",
    "NOTINOQMD_00001": "Al2Cu theta",
    "NOTINOQMD_00002": "Al3Cu theta-double-prime",
}
FCC_FACETS = {"111": (1, 1, 1), "100": (1, 0, 0), "110": (1, 1, 0)}
#: ML-PEG's hcp facet labels (m = minus) and the three-index Miller indices it cuts.
HCP_FACETS = {
    "0001": (0, 0, 1),
    "10m10": (1, 0, 0),
    "11m20": (1, 1, 0),
    "1m101": (1, 0, 1),
    "10m12": (1, 0, 2),
    "11m21": (1, 1, 1),
    "11m22": (1, 1, 2),
}
#: Full: ±0.5 % and ±1 %; quick: ±1 % only (symmetric pairs cancel the quadratic term).
QUICK_CRYSTALS = ("8100", "635950", "9226", "122929", "695020")
ELASTIC = {
    True: ElasticTensor(strains=(-0.01, -0.005, 0.005, 0.01), fmax=0.005, max_steps=500),
    False: ElasticTensor(strains=(-0.01, 0.01), fmax=0.005, max_steps=500),
}
SOURCE = "ML-PEG alzncumg_regression (evalpot DFT.json, ddmms/ml-peg@bb98fd7e)"


def dft_references() -> dict[str, list]:
    """Return DFT.json: ``"<id>-<property>": [value, uncertainty]``."""
    path = fetch(FILES[f"{DATA}/references/DFT.json"])
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: not valid JSON ({exc}).") from exc


def structure(oqmd_id: str) -> Atoms:
    """Return the OQMD input structure (POSCAR) of one entry."""
    name = f"OQMD_{oqmd_id}" if oqmd_id[0].isdigit() else oqmd_id
    path = fetch(FILES[f"{DATA}/structures/OQMD-Dumps/{name}"])
    try:
        atoms = read(path, format="vasp")
    except Exception as exc:
        raise DataError(f"{path}: cannot read the POSCAR of {oqmd_id} ({exc}).") from exc
    atoms.info.update(charge=0, spin=1)
    return atoms


def _fcc(symbol: str, oqmd_id: str) -> Atoms:
    volume = structure(oqmd_id).get_volume()  # one atom
    atoms = bulk(symbol, "fcc", a=(4 * volume) ** (1 / 3), cubic=True)
    atoms.info.update(charge=0, spin=1)
    return atoms


def tasks(*, full: bool = False) -> list[Task]:
    found = [
        Task(oqmd_id, "bulk", standard_cell(structure(oqmd_id), primitive=True), ELASTIC[full])
        for oqmd_id in (STRUCTURES if full else QUICK_CRYSTALS)
    ]
    for oqmd_id, symbol in (("8100", "Al"), ("635950", "Cu")):
        cubic = _fcc(symbol, oqmd_id)
        found += [
            Task(
                f"{oqmd_id}-SurfaceEnergy_{label}", "slab", cubic, SurfaceEnergy(miller, 10.0, 4.0)
            )
            for label, miller in FCC_FACETS.items()
            if full or label == "111"
        ]
    if full:
        for oqmd_id in ("9226", "122929"):
            hcp = structure(oqmd_id)
            found += [
                Task(f"{oqmd_id}-SurfaceHCP_{label}", "slab", hcp, SurfaceEnergy(miller, 10.0, 4.0))
                for label, miller in HCP_FACETS.items()
            ]
    return found


def _lattice_lengths(dft: dict, oqmd_id: str) -> tuple[int, list[float]]:
    """Atoms in the DFT cell and its sorted Niggli-reduced lengths."""
    cellpar = [
        dft[f"{oqmd_id}-{key}"][0]
        for key in ("lattice_a", "lattice_b", "lattice_c", "angle_alph", "angle_beta", "angle_gamm")
    ]
    cell = Cell.fromcellpar(cellpar)
    reduced, _ = cell.niggli_reduce()
    n_atoms = round(cell.volume / dft[f"{oqmd_id}-volume_peratom"][0])
    return n_atoms, sorted(float(x) for x in reduced.lengths())


def references() -> list[Reference]:
    dft = dft_references()
    found = []

    def add(system: str, quantity: str, value: float, unit: str) -> None:
        if not math.isfinite(value):
            raise DataError(f"DFT.json: {system} {quantity} is not a number.")
        found.append(Reference(system, quantity, value, unit, None, "PBE", SOURCE))

    for oqmd_id in STRUCTURES:
        add(oqmd_id, "volume_per_atom", dft[f"{oqmd_id}-volume_peratom"][0], "Å^3/atom")
        add(oqmd_id, "k_voigt", dft[f"{oqmd_id}-k_voigt"][0] * GPa, "eV/Å^3")
        add(oqmd_id, "g_voigt", dft[f"{oqmd_id}-g_voigt"][0] * GPa, "eV/Å^3")
        n_atoms, lengths = _lattice_lengths(dft, oqmd_id)
        add(oqmd_id, "cell_atoms", n_atoms, "1")
        for index, length in enumerate(lengths, start=1):
            add(oqmd_id, f"lattice_{index}", length, "Å")
        for i in range(6):
            for j in range(i + 1):  # DFT.json holds the lower triangle C_ij, j ≤ i
                add(
                    oqmd_id,
                    f"c{j + 1}{i + 1}",
                    dft[f"{oqmd_id}-C_{i + 1}{j + 1}"][0] * GPa,
                    "eV/Å^3",
                )
    surfaces = [f"{i}-SurfaceEnergy_{label}" for i in ("8100", "635950") for label in FCC_FACETS]
    surfaces += [f"{i}-SurfaceHCP_{label}" for i in ("9226", "122929") for label in HCP_FACETS]
    for key in surfaces:
        add(key, "surface_energy", dft[key][0] * 1e-3 * J / m**2, "eV/Å^2")
    return found
