"""GSCDB138_barriers: GSCDB138's barrier heights data sets as ML-PEG groups them, from refdata."""

from mlpeg.reactions import gscdb138_benchmark, gscdb138_subset

# fmt: off
DATASETS = [
    "BH28", "BH46", "BH876", "BHDIV7", "BHPERI11", "BHROT27", "CRBH14", "DBH22", "INV23",
    "ORBH35", "PX9", "WCPT26",
]
# fmt: on
SUBSETS = [gscdb138_subset(name) for name in DATASETS]

BENCHMARK = gscdb138_benchmark(__file__, SUBSETS, quantity="barrier_height")
tasks, references, reactions = BENCHMARK.tasks, BENCHMARK.references, BENCHMARK.reactions
