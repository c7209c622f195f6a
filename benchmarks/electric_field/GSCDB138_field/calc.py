"""GSCDB138_field: GSCDB138's six electric-field data sets, from JiashuLiang/GSCDB138."""

import functools
from pathlib import Path

from mlpeg.gscdb_fields import FieldSets, load_field_sets
from mlpeg.reactions import ReactionBenchmark

DATASETS = ("Dip146", "HR46", "OEEF", "Pol130", "T144", "V30")

#: Quick band: the first 10 reactions of each data set, in the order of DatasetEval.xlsx.
QUICK_PER_DATASET = 10


@functools.cache
def load() -> FieldSets:
    """The reactions, species and left-out reactions (read once)."""
    return load_field_sets(
        Path(__file__).with_name("data.sha256.gz"),
        DATASETS,
        level_of_theory="GSCDB138 reference (CCSD(T)-level, per data set)",
        source="Liang, Head-Gordon, GSCDB138 (arXiv:2508.13468), JiashuLiang/GSCDB138",
    )


def _quick(reactions) -> list[str]:
    seen: dict[str, int] = {}
    names = []
    for reaction in reactions:
        seen[reaction.subset] = seen.get(reaction.subset, 0) + 1
        if seen[reaction.subset] <= QUICK_PER_DATASET:
            names.append(reaction.name)
    return names


BENCHMARK = ReactionBenchmark(lambda: load().data, quick=_quick)
tasks, references, reactions = BENCHMARK.tasks, BENCHMARK.references, BENCHMARK.reactions
