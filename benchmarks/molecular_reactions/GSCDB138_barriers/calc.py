"""GSCDB138_barriers: GSCDB138's barrier heights data sets as ML-PEG groups them, from refdata."""

from pathlib import Path

from mlpeg.reactions import ReactionBenchmark, gscdb138_subset, load_refdata

# fmt: off
DATASETS = [
    "BH28", "BH46", "BH876", "BHDIV7", "BHPERI11", "BHROT27", "CRBH14", "DBH22", "INV23",
    "ORBH35", "PX9", "WCPT26",
]
# fmt: on
SUBSETS = [gscdb138_subset(name) for name in DATASETS]

BENCHMARK = ReactionBenchmark(
    lambda: load_refdata(
        Path(__file__).with_name("data.sha256"),
        SUBSETS,
        quantity="barrier_height",
        level_of_theory="CCSD(T)",
        source="Liang, Head-Gordon, GSCDB138 (arXiv:2508.13468), via refdata",
    )
)
tasks, references, reactions = BENCHMARK.tasks, BENCHMARK.references, BENCHMARK.reactions
