"""GSCDB138_thermochemistry: GSCDB138's thermochemistry data sets, from refdata."""

from mlpeg.reactions import gscdb138_benchmark, gscdb138_subset, ionisation_subset

# ML-PEG's P34AE, P34EA and P34IP are refdata's P34 split by the charges of its
# species; its PlatonicRE18 is refdata's PlatonicHD6, PlatonicID6 and PlatonicIG6.
# fmt: off
DATASETS = [
    "AE11", "AE18", "AL2X6", "ALK8", "AlkAtom19", "ALKBDE10", "AlkIsod14", "BDE99MR",
    "BDE99nonMR", "BH76RC", "BSR36", "CR20", "DARC", "DC13", "DIPCS9", "EA50", "FH51", "G21EA",
    "G21IP", "G2RC24", "HAT707MR", "HAT707nonMR", "HEAVYSB11", "HNBrBDE18", "IP23", "IP30",
    "MB08-165", "MB16-43", "MX34", "NBPRC", "PA26", "PlatonicTAE6", "RC21", "RSE43", "SIE4x4",
    "SN13", "TAE_W4-17MR", "TAE_W4-17nonMR", "WCPT6", "YBDE18",
]
# fmt: on
SUBSETS = [gscdb138_subset(name) for name in DATASETS] + [
    gscdb138_subset("P34", ionisation_subset("P34")),
    gscdb138_subset("PlatonicHD6", "PlatonicRE18"),
    gscdb138_subset("PlatonicID6", "PlatonicRE18"),
    gscdb138_subset("PlatonicIG6", "PlatonicRE18"),
]

BENCHMARK = gscdb138_benchmark(__file__, SUBSETS)
tasks, references, reactions = BENCHMARK.tasks, BENCHMARK.references, BENCHMARK.reactions
