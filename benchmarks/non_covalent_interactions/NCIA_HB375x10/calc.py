"""NCIA_HB375x10: each dimer at 10 distances and its two monomers, from refdata."""

from pathlib import Path

from mlpeg.reactions import ReactionBenchmark, RefdataSubset, load_refdata

BENCHMARK = ReactionBenchmark(
    lambda: load_refdata(
        Path(__file__).with_name("data.sha256"),
        [RefdataSubset("10_din/hb375x10.din", ("20_hb375x10",))],
        quantity="interaction_energy",
        level_of_theory="CCSD(T)/CBS",
        source="Řezáč, JCTC 16, 2355 (2020)",
    )
)
tasks, references, reactions = BENCHMARK.tasks, BENCHMARK.references, BENCHMARK.reactions
