"""S66: each dimer and its two monomers (at the dimer geometry), from refdata."""

from pathlib import Path

from mlpeg.reactions import ReactionBenchmark, RefdataSubset, load_refdata

# s66.din lists 23 hydrogen-bonded, 23 dispersion-bound and 20 other dimers, in that order.
SUBSETS = ("hydrogen bonds",) * 23 + ("dispersion",) * 23 + ("other",) * 20

BENCHMARK = ReactionBenchmark(
    lambda: load_refdata(
        Path(__file__).with_name("data.sha256"),
        [RefdataSubset("10_din/s66.din", ("20_s66",), lambda r, _: SUBSETS[r.index - 1])],
        quantity="binding_energy",
        level_of_theory="CCSD(T)/CBS",
        source="Řezáč et al., JCTC 7, 2427 (2011); DiLabio et al., PCCP 15, 12821 (2013)",
    )
)
tasks, references, reactions = BENCHMARK.tasks, BENCHMARK.references, BENCHMARK.reactions
