"""LNCI16: 16 large non-covalent complexes, E = E(complex) − E(host) − E(guest).

grimme-lab/benchmark-LNCI16 holds ``<system>/{complex,host,guest}/struc.xyz`` with the total
charge in ``.CHRG`` beside each, and the ωB97X-3c reference energies (kcal/mol) in ``.res``,
one line per system::

    $tmer {BNTube/complex,BNTube/guest,BNTube/host}/$f x 1 -1 -1 $w    -14.32

For TYK2 and FXa the host and guest files are relaxed structures, not cut from the complex, so
their ``.res`` values (−49.03 and −105.27) are association energies that include the
fragments' relaxation; computed from the same files, the model gives the same quantity. Those
two reactions carry the quantity ``association_energy``, the others ``interaction_energy``.
"""

from __future__ import annotations

import re
from pathlib import Path

from mlpeg.data import fetch, read_manifest
from mlpeg.errors import DataError
from mlpeg.reactions import KCAL_PER_MOL, Reaction, ReactionBenchmark, ReactionData
from mlpeg.refdata import lowest_multiplicity, parse_xyz

MANIFEST = Path(__file__).with_name("data.sha256")
LEVEL_OF_THEORY = "ωB97X-3c"
SOURCE = "Gorges, Bädorf, Hansen, Grimme, Synlett (2023), doi:10.1055/s-0042-1753141"

#: Systems whose host and guest are relaxed: .res gives association energies for them.
RELAXED_FRAGMENTS = frozenset({"TYK2", "FXa"})

#: Quick band: the 7 systems whose complex has fewer than 550 atoms (380-538).
QUICK = ("BpocBenz", "BpocMeOH", "BNTube", "2xHB238", "DithBrCap", "BrCap", "MolMus")

_RES_LINE = re.compile(r"^\$tmer\s+\{([^}]*)\}/\$f\s+x\s+(.*?)\s+\$w\s+(\S+)")


def parse_res(
    text: str, *, source: str = ".res"
) -> list[tuple[str, list[tuple[str, float]], float]]:
    """Read the ``.res`` file: (system, [(species folder, coefficient)], kcal/mol) per line.

    Raises
    ------
    DataError
        A ``$tmer`` line that does not parse, or whose folders and coefficients differ in number.
    """
    entries = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.startswith("$tmer {"):
            continue
        match = _RES_LINE.match(line)
        try:
            if not match:
                raise ValueError
            folders = [f.strip() for f in match.group(1).split(",")]
            coefficients = [float(c) for c in match.group(2).split()]
            value = float(match.group(3))
        except ValueError:
            raise DataError(f"{source}:{lineno}: cannot read '{line.strip()[:60]}'.") from None
        if len(folders) != len(coefficients):
            raise DataError(
                f"{source}:{lineno}: {len(folders)} folders, {len(coefficients)} coefficients."
            )
        system = folders[0].split("/")[0]
        entries.append((system, list(zip(folders, coefficients, strict=True)), value))
    return entries


def load_lnci16(manifest: Path = MANIFEST) -> ReactionData:
    """Load the 16 reactions and their 48 structures (charges from ``.CHRG``).

    Raises
    ------
    DataError
        A missing or corrupt file, a species folder without ``struc.xyz`` or ``.CHRG``, a
        structure folder that no ``.res`` line uses, or an odd electron count.
    """
    files = read_manifest(manifest)
    if ".res" not in files:
        raise DataError(f"{manifest}: does not list .res.")
    reactions, structures = [], {}
    for system, species, value in parse_res(fetch(files[".res"]).read_text(), source=".res"):
        for folder, _ in species:
            xyz, chrg = f"{folder}/struc.xyz", f"{folder}/.CHRG"
            for path in (xyz, chrg):
                if path not in files:
                    raise DataError(f"{manifest}: .res uses {folder}, which has no {path}.")
            atoms = parse_xyz(fetch(files[xyz]).read_text(), source=xyz)
            try:
                charge = int(fetch(files[chrg]).read_text().strip())
            except ValueError:
                raise DataError(f"{chrg}: expected one integer.") from None
            multiplicity = lowest_multiplicity(atoms.numbers, charge)
            if multiplicity != 1:
                raise DataError(f"{xyz}: odd electron count with charge {charge}.")
            atoms.info.update({"charge": charge, "multiplicity": 1, "spin": 1})
            structures[folder] = atoms
        quantity = "association_energy" if system in RELAXED_FRAGMENTS else "interaction_energy"
        reactions.append(
            Reaction(
                system,
                tuple(species),
                value * KCAL_PER_MOL,
                "charged" if any(structures[f].info["charge"] for f, _ in species) else "neutral",
                quantity,
            )
        )
    unused = {p.rsplit("/", 1)[0] for p in files if p.endswith("struc.xyz")} - set(structures)
    if unused:
        raise DataError(f"{manifest}: no .res line uses {', '.join(sorted(unused))}.")
    return ReactionData(reactions, structures, "interaction_energy", LEVEL_OF_THEORY, SOURCE)


BENCHMARK = ReactionBenchmark(load_lnci16, quick=lambda _: list(QUICK))
tasks, references, reactions = BENCHMARK.tasks, BENCHMARK.references, BENCHMARK.reactions
