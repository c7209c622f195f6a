"""GSCDB138_tm_complexes: GSCDB138's transition-metal complexes data sets, from refdata."""

from mlpeg.reactions import gscdb138_benchmark, gscdb138_subset

# fmt: off
DATASETS = [
    "3d4dIPSS", "CUAGAU83", "DAPD", "MME52", "MOBH28", "MOR13", "ROST61", "TMB11", "TMD10",
]
# fmt: on
SUBSETS = [gscdb138_subset(name) for name in DATASETS]

BENCHMARK = gscdb138_benchmark(__file__, SUBSETS, level_of_theory="CCSD(T)/CBS")
tasks, references, reactions = BENCHMARK.tasks, BENCHMARK.references, BENCHMARK.reactions
