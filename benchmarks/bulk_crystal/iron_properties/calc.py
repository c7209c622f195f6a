"""BCC iron: equation of state, elastic constants, vacancy, bcc–fcc energy, surface energies.

Every property is computed at the model's own lattice constant: the equations of state are
single points on scaled cells (fitted in the views), and the other kinds scale their cell to
zero pressure first (mlpeg.materials). References: PBE values of Zhang et al. (2023) as
ML-PEG uses them.
"""

from ase.build import bulk
from ase.units import GPa, J, m

from mlpeg.calc.tasks import Reference, SinglePoint, Task
from mlpeg.materials import CubicElasticConstants, SurfaceEnergy, VacancyFormation, volume_scan

LATTICE_CONSTANT = 2.831  # Å, PBE (the scans are centred on it)
BCC_FACTORS = tuple(round(0.94 + 0.01 * i, 2) for i in range(13))  # V/V_ref 0.94 … 1.06
FCC_FACTORS = tuple(round(0.88 + 0.02 * i, 2) for i in range(13))  # 0.88 … 1.12: fcc is denser
FACETS = ((1, 0, 0), (1, 1, 0), (1, 1, 1), (1, 1, 2))
SOURCE = "Zhang, Csányi, van der Giessen, Maresca, arXiv:2307.10072 (2023), via ML-PEG"

#: (system, quantity, value in warehouse units) of the PBE references.
REFERENCES = (
    ("a0", "lattice_constant", 2.831),  # Å
    ("B0", "bulk_modulus", 178.0 * GPa),  # eV/Å³
    ("C11", "elastic_constant", 296.7 * GPa),
    ("C12", "elastic_constant", 151.4 * GPa),
    ("C44", "elastic_constant", 104.7 * GPa),
    ("E_vac", "vacancy_formation_energy", 2.02),  # eV
    ("dE_bcc_fcc", "energy_difference", 0.0835),  # eV/atom, E(fcc) − E(bcc)
    ("gamma_100", "surface_energy", 2.41 * J / m**2),  # eV/Å²
    ("gamma_110", "surface_energy", 2.37 * J / m**2),
    ("gamma_111", "surface_energy", 2.58 * J / m**2),
    ("gamma_112", "surface_energy", 2.48 * J / m**2),
)
UNITS = {
    "lattice_constant": "Å",
    "bulk_modulus": "eV/Å^3",
    "elastic_constant": "eV/Å^3",
    "vacancy_formation_energy": "eV",
    "energy_difference": "eV/atom",
    "surface_energy": "eV/Å^2",
}


def crystal_tasks(symbol: str, lattice_constant: float, *, full: bool = False) -> list[Task]:
    """Return the tasks for a bcc metal (the benchmark runs iron; tests run others)."""
    cell = bulk(symbol, "bcc", a=lattice_constant, cubic=True)
    cell.info.update(charge=0, spin=1)
    volume = cell.get_volume() / len(cell)
    fcc = bulk(symbol, "fcc", a=lattice_constant * 2 ** (1 / 3), cubic=True)  # same V/atom
    scans = [("bcc", role, atoms) for role, atoms in volume_scan(cell, volume, BCC_FACTORS)]
    scans += [("fcc", role, atoms) for role, atoms in volume_scan(fcc, volume, FCC_FACTORS)]
    thickness = 16.0 if full else 10.0
    return [
        *(Task(system, role, atoms, SinglePoint(("energy",))) for system, role, atoms in scans),
        Task("elastic", "bcc", cell, CubicElasticConstants()),
        Task("vacancy", "bcc", cell, VacancyFormation(supercell=4 if full else 3)),
        *(
            Task(
                f"gamma_{''.join(map(str, facet))}",
                "slab",
                cell,
                SurfaceEnergy(facet, min_thickness=thickness),
            )
            for facet in FACETS
        ),
    ]


def tasks(*, full: bool = False) -> list[Task]:
    return crystal_tasks("Fe", LATTICE_CONSTANT, full=full)


def references() -> list[Reference]:
    return [
        Reference(system, quantity, value, UNITS[quantity], None, "PBE", SOURCE)
        for system, quantity, value in REFERENCES
    ]
