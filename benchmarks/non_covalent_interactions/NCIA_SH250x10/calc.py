"""NCIA_SH250x10: NCIAtlas dimers cut into their monomers at the dimer geometry (mlpeg.ncia)."""

from mlpeg.ncia import ncia_benchmark

# Quick band: every 20th complex of the table (all its distances); --full: all of them.
BENCHMARK, load = ncia_benchmark(
    __file__, "NCIA_SH250x10", quick_step=20, exclude_noble_gases=False
)
tasks, references, reactions = BENCHMARK.tasks, BENCHMARK.references, BENCHMARK.reactions
