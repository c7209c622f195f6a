"""S22: each dimer and its two monomers (at the dimer geometry), from ase.data.s22."""

from ase.data import s22

from mlpeg.reactions import Reaction, ReactionBenchmark, ReactionData

# S22 numbering: 1-7 hydrogen-bonded, 8-15 dispersion-bound, 16-22 mixed.
SUBSETS = ["hydrogen bonds"] * 7 + ["dispersion"] * 8 + ["mixed"] * 7


def load() -> ReactionData:
    reactions, structures = [], {}
    for name, subset in zip(s22.s22, SUBSETS, strict=True):
        dimer = s22.create_s22_system(name)
        n_first = s22.data[name]["dimer atoms"][0]
        parts = {"dimer": dimer, "monomer_a": dimer[:n_first], "monomer_b": dimer[n_first:]}
        for part, atoms in parts.items():
            atoms.info.update(charge=0, multiplicity=1, spin=1)
            structures[f"{name}/{part}"] = atoms
        stoichiometry = (
            (f"{name}/dimer", 1.0),
            (f"{name}/monomer_a", -1.0),
            (f"{name}/monomer_b", -1.0),
        )
        # ASE stores the CCSD(T)/CBS interaction energy in eV, negative when bound
        reactions.append(
            Reaction(name, stoichiometry, s22.get_interaction_energy_s22(name), subset)
        )
    return ReactionData(
        reactions,
        structures,
        "interaction_energy",
        "CCSD(T)/CBS",
        "Takatani et al., JCP 132, 144104 (2010), via ase.data.s22",
    )


BENCHMARK = ReactionBenchmark(load)
tasks, references, reactions = BENCHMARK.tasks, BENCHMARK.references, BENCHMARK.reactions
