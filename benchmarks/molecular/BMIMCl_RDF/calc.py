"""BMIMCl_RDF: does a model form Cl–C bonds in liquid 1-butyl-3-methylimidazolium chloride?

A box of ten [BMIM]⁺Cl⁻ ion pairs (260 atoms; four in the quick band) is packed from
SMILES at the experimental density at 353.15 K (1052 kg/m³, Yang et al. 2017) with RDKit
and Packmol (through molify, seeded, as ML-PEG), relaxed at fixed cell (LBFGS to
0.1 eV/Å) and run with Langevin NVT molecular dynamics at 353.15 K. Chloride stays a free anion
in this liquid, held by C–H···Cl⁻ hydrogen bonds, never at a covalent C–Cl bond's 1.8 Å.
The views compute the Cl–C g(r) from the stored frames; a peak above 0.1 below 2.5 Å means
the model made covalent Cl–C bonds. There is no reference data: the reference is this
physical fact.
"""

from __future__ import annotations

from mlpeg.calc.kinds import MolecularDynamics
from mlpeg.calc.tasks import Reference, Task
from mlpeg.packing import ion_pair_box

CATION = "CCCCN1C=C[N+](=C1)C"  # 1-butyl-3-methylimidazolium, as ML-PEG writes it
ANION = "[Cl-]"
N_ION_PAIRS = 10
#: Experimental density of [BMIM]Cl at 353.15 K (Yang et al., J. Chem. Eng. Data 2017).
DENSITY_KG_M3 = 1052.0
TEMPERATURE_K = 353.15
SYSTEM = "bmimcl_353K"
#: Full: ML-PEG's ten ion pairs and 10,000 Langevin steps of 0.5 fs (5 ps), relaxed first
#: (at most 10,000 LBFGS steps; ML-PEG sets no limit); a frame every 10 steps (ML-PEG
#: keeps every step; the g(r) is the same time average sampled ten times more sparsely).
#: Quick: four ion pairs (104 atoms) at the same density, at most 20 relaxation steps, then
#: 40 steps (20 fs), a frame every 4: a smoke test of the pipeline, labelled quick.
BANDS = {
    False: {"n_pairs": 4, "n_steps": 40, "frame_stride": 4, "relax_max_steps": 20},
    True: {
        "n_pairs": N_ION_PAIRS,
        "n_steps": 10_000,
        "frame_stride": 10,
        "relax_max_steps": 10_000,
    },
}


def box(n_pairs: int = N_ION_PAIRS):
    """Return ``n_pairs`` [BMIM]⁺Cl⁻ pairs packed at 1052 kg/m³ (seed 42, charge 0)."""
    return ion_pair_box(CATION, ANION, n_pairs, DENSITY_KG_M3, seed=42)


def tasks(*, full: bool = False) -> list[Task]:
    band = BANDS[full]
    kind = MolecularDynamics(
        ensemble="nvt",
        n_steps=band["n_steps"],
        timestep_fs=0.5,
        temperature_K=TEMPERATURE_K,
        friction_per_fs=0.01,
        frame_stride=band["frame_stride"],
        seed=0,
        relax_fmax=0.1,
        relax_max_steps=band["relax_max_steps"],
    )
    return [Task(SYSTEM, "nvt", box(band["n_pairs"]), kind)]


def references() -> list[Reference]:
    return []  # physical: chloride forms no covalent bond with carbon here (views: ref = 0)
