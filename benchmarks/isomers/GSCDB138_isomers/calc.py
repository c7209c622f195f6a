"""GSCDB138_isomers: GSCDB138's isomerisation energies data sets, from refdata."""

from pathlib import Path

from mlpeg.reactions import ReactionBenchmark, gscdb138_subset, load_refdata

# fmt: off
DATASETS = [
    "ACONF", "AlkIsomer11", "Amino20x4", "BUT14DIOL", "C20C246", "C60ISO7", "DIE60", "EIE22",
    "ICONF", "IDISP", "ISO34", "ISOL23", "ISOMERIZATION20", "MCONF", "PArel", "PCONF21",
    "Pentane13", "SCONF", "Styrene42", "TAUT15", "UPU23",
]
# fmt: on
SUBSETS = [gscdb138_subset(name) for name in DATASETS]

BENCHMARK = ReactionBenchmark(
    lambda: load_refdata(
        Path(__file__).with_name("data.sha256"),
        SUBSETS,
        quantity="reaction_energy",
        level_of_theory="CCSD(T)",
        source="Liang, Head-Gordon, GSCDB138 (arXiv:2508.13468), via refdata",
    )
)
tasks, references, reactions = BENCHMARK.tasks, BENCHMARK.references, BENCHMARK.reactions
