"""GSCDB138_NCIs: GSCDB138's non-covalent interactions data sets, from refdata."""

from mlpeg.reactions import gscdb138_benchmark, gscdb138_subset

# ML-PEG's XB25 is refdata's XB20 and XB8, kept as two data sets.
# fmt: off
DATASETS = [
    "3B-69", "3BHET", "A19Rel6", "A24", "ADIM6", "AHB21", "Bauza30", "BzDC215", "CARBHB8",
    "CHB6", "CT20", "DS14", "FmH2O10", "H2O16Rel4", "H2O20Rel9", "HB262", "HB49", "HCP32",
    "He3", "HEAVY28", "HSG", "HW30", "HW6Cl5", "HW6F", "IHB100", "IHB100x2", "IL16", "NBC10",
    "NC11", "O24", "O24x4", "PNICO23", "RG10N", "RG18", "S22", "S66", "S66Rel7", "Shields38",
    "SW49Bind22", "SW49Rel28", "TA13", "WATER27", "X40", "X40x5", "XB20", "XB8",
]
# fmt: on
SUBSETS = [gscdb138_subset(name) for name in DATASETS]

BENCHMARK = gscdb138_benchmark(__file__, SUBSETS)
tasks, references, reactions = BENCHMARK.tasks, BENCHMARK.references, BENCHMARK.reactions
