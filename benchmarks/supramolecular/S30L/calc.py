"""S30L: each host-guest complex, its host and its guest, from refdata."""

from pathlib import Path

from mlpeg.reactions import ReactionBenchmark, RefdataSubset, charge_subset, load_refdata

BENCHMARK = ReactionBenchmark(
    lambda: load_refdata(
        Path(__file__).with_name("data.sha256"),
        [RefdataSubset("10_din/s30l.din", ("20_s30l",), charge_subset)],
        quantity="association_energy",
        level_of_theory="Experimental (back-corrected)",
        source="Sure, Grimme, JCTC 11, 3785 (2015)",
    )
)
tasks, references, reactions = BENCHMARK.tasks, BENCHMARK.references, BENCHMARK.reactions
