"""GSCDB138_tm_complexes: GSCDB138's transition-metal complexes data sets, from refdata."""

from pathlib import Path

from mlpeg.reactions import ReactionBenchmark, gscdb138_subset, load_refdata

# fmt: off
DATASETS = [
    "3d4dIPSS", "CUAGAU83", "DAPD", "MME52", "MOBH28", "MOR13", "ROST61", "TMB11", "TMD10",
]
# fmt: on
SUBSETS = [gscdb138_subset(name) for name in DATASETS]

BENCHMARK = ReactionBenchmark(
    lambda: load_refdata(
        Path(__file__).with_name("data.sha256"),
        SUBSETS,
        quantity="reaction_energy",
        level_of_theory="CCSD(T)/CBS",
        source="Liang, Head-Gordon, GSCDB138 (arXiv:2508.13468), via refdata",
    )
)
tasks, references, reactions = BENCHMARK.tasks, BENCHMARK.references, BENCHMARK.reactions
