"""DMC-ICE13 as ML-PEG's ``calc_DMC_ICE13.py`` writes it: one structure per file.

``outputs/<model>/<polymorph>_polymorph.xyz`` holds one ice polymorph with its energy and
the info keys ``polymorph`` and ``ref``; ``water.xyz`` holds the isolated water molecule.
mlpeg's DMC_ICE13 is a reaction benchmark whose species are the polymorphs (``Ih``,
``II``, ...) and ``water``, each computed once (role ``species``), so each file becomes one
prediction. ML-PEG's ``ref`` is a PBE-D3(BJ) lattice energy while mlpeg scores against
DMC, so no reference is taken from the files.
"""

from __future__ import annotations

import re
from pathlib import Path

from mlpeg.catalog import Benchmark
from mlpeg.importers.extxyz import Frame
from mlpeg.importers.mapping import ImportedFile, ImportedPrediction, SkipFile

WATER = "water"
ROLE = "species"  # mlpeg.reactions.SPECIES_ROLE
_POSCAR = re.compile(r"DMC-ICE13/poscars/ice_(?P<phase>[^/]+)\.vasp$")


def phase_key(name: str) -> str:
    """Return a polymorph name without ``ice``/``_polymorph`` decoration, lower-cased."""
    text = name.strip().lower()
    text = re.sub(r"_?polymorph$", "", text)
    return re.sub(r"^ice[_\-\s]*", "", text)


class DmcIce13Mapping:
    """Map ML-PEG DMC-ICE13 output files onto mlpeg's DMC_ICE13 species."""

    patterns = ("*.xyz", "*.extxyz")
    needs_benchmark_references = True

    def __init__(self, benchmark: Benchmark) -> None:
        module = benchmark.calc_module()
        phases = [m["phase"] for p in module.FILES if (m := _POSCAR.search(p))]
        self.phases = {phase_key(phase): phase for phase in phases}

    def read_file(self, path: Path, frames: list[Frame]) -> ImportedFile:
        """Map one file (one polymorph, or the water molecule) to one prediction.

        Raises
        ------
        SkipFile
            When the file holds other than one frame, has no energy, or names no
            DMC-ICE13 polymorph.
        """
        if len(frames) != 1:
            raise SkipFile(
                f"{path}: holds {len(frames)} frames; ML-PEG's DMC-ICE13 calc writes one."
            )
        (frame,) = frames
        if frame.energy is None:
            raise SkipFile(f"{path}: has no energy.")
        if path.stem == WATER and "polymorph" not in frame.info:
            return ImportedFile([ImportedPrediction(WATER, ROLE, frame)])
        name = str(frame.info.get("polymorph", path.stem))
        phase = self.phases.get(phase_key(name))
        if phase is None:
            raise SkipFile(
                f"{path}: polymorph {name!r} is not one of the 13 DMC-ICE13 phases "
                f"({', '.join(sorted(self.phases.values()))})."
            )
        return ImportedFile([ImportedPrediction(phase, ROLE, frame)])


def mapping(benchmark: Benchmark) -> DmcIce13Mapping:
    """Return the mapping ``mlpeg ingest --from-ml-peg`` uses for DMC-ICE13's output files."""
    return DmcIce13Mapping(benchmark)
