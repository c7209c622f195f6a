"""CYCLO70: transition states, reactants and products of 70 pericyclic reactions, from refdata."""

from pathlib import Path

from mlpeg.reactions import ReactionBenchmark, RefdataSubset, load_refdata


def direction(reaction, structures) -> str:
    return reaction.name.rsplit("_", 1)[-1]  # rxn_33_forward -> forward


BENCHMARK = ReactionBenchmark(
    lambda: load_refdata(
        Path(__file__).with_name("data.sha256"),
        [RefdataSubset("10_din/cyclo70_bh.din", ("20_cyclo70",), direction)],
        quantity="barrier_height",
        level_of_theory="DLPNO-CCSD(T)/CBS",
        source="Alfonso-Ramos, Adamo, Brémond, Stuyver, JCTC 21, 8907 (2025)",
    )
)
tasks, references, reactions = BENCHMARK.tasks, BENCHMARK.references, BENCHMARK.reactions
