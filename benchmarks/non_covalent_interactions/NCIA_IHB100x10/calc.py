"""NCIA_IHB100x10: each dimer at 10 distances and its two monomers, from refdata."""

import re
from pathlib import Path

from mlpeg.reactions import ReactionBenchmark, RefdataSubset, load_refdata


def din_name(stem: str) -> str:
    # files carry a contact label the .din names lack: 01.001_OHk-O__oxonium--x -> 01.001_oxonium--x
    return re.sub(r"^(\d+\.\d+)_.*?__", r"\1_", stem)


BENCHMARK = ReactionBenchmark(
    lambda: load_refdata(
        Path(__file__).with_name("data.sha256"),
        # ihb100x10.din writes −E(dimer) + E(monomers) beside interaction energies that are
        # negative when bound (−22.4 kcal/mol for oxonium–methylcyanate at equilibrium), as in
        # HB300SPX and HB375x10: its coefficients are negated to E(dimer) − E(monomers).
        [
            RefdataSubset(
                "10_din/ihb100x10.din", ("20_ihb100x10",), species_name=din_name, negate=True
            )
        ],
        quantity="interaction_energy",
        level_of_theory="CCSD(T)/CBS",
        source="Řezáč, JCTC 16, 2355 (2020)",
    )
)
tasks, references, reactions = BENCHMARK.tasks, BENCHMARK.references, BENCHMARK.reactions
