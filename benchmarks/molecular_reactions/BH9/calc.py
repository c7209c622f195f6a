"""BH9: transition states, reactants and products of 449 organic reactions, from refdata."""

from pathlib import Path

from mlpeg.reactions import ReactionBenchmark, RefdataSubset, load_refdata


def direction(reaction, structures) -> str:
    return reaction.name.rsplit("_", 1)[-1]  # BH9_12_forward -> forward


BENCHMARK = ReactionBenchmark(
    lambda: load_refdata(
        Path(__file__).with_name("data.sha256"),
        [RefdataSubset("10_din/bh9_bh.din", ("20_bh9",), direction)],
        quantity="barrier_height",
        level_of_theory="DLPNO-CCSD(T)/CBS",
        source="Prasad, Pillai, Salahub et al., JCTC 18, 151 (2022)",
    )
)
tasks, references, reactions = BENCHMARK.tasks, BENCHMARK.references, BENCHMARK.reactions
