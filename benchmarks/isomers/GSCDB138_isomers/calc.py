"""GSCDB138_isomers: GSCDB138's isomerisation energies data sets, from refdata."""

from mlpeg.reactions import gscdb138_benchmark, gscdb138_subset

# fmt: off
DATASETS = [
    "ACONF", "AlkIsomer11", "Amino20x4", "BUT14DIOL", "C20C246", "C60ISO7", "DIE60", "EIE22",
    "ICONF", "IDISP", "ISO34", "ISOL23", "ISOMERIZATION20", "MCONF", "PArel", "PCONF21",
    "Pentane13", "SCONF", "Styrene42", "TAUT15", "UPU23",
]
# fmt: on
SUBSETS = [gscdb138_subset(name) for name in DATASETS]

BENCHMARK = gscdb138_benchmark(__file__, SUBSETS)
tasks, references, reactions = BENCHMARK.tasks, BENCHMARK.references, BENCHMARK.reactions
