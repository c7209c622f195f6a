"""ACONFL: 50 conformer energies of n-dodecane, n-hexadecane and n-icosane.

The ``.res`` file of grimme-lab/benchmark-ACONFL lists one line per conformer,
``$tmer <ref>/$f <conformer>/$f x -1 1 $w <kcal/mol>``: the conformer's energy relative to
its molecule's reference (the lowest folded conformer ``A<n>00``; ``A120`` for C12H26).
"""

from pathlib import Path

from mlpeg.data import fetch, read_manifest
from mlpeg.errors import DataError
from mlpeg.reactions import KCAL_PER_MOL, Reaction, ReactionBenchmark, ReactionData
from mlpeg.refdata import read_xyz
from mlpeg.sources import pinned, set_charge_spin

LEVEL = "PNO-LCCSD(T)-F12/AVQZ' (revised 2023)"
MANIFEST = Path(__file__).with_name("data.sha256")
SOURCE = "Ehlert, Grimme, Hansen, JPCA 126, 3521 (2022); revised references 2023"


def parse_res(text: str, *, source: str) -> list[Reaction]:
    """Read the ``$tmer`` lines of a Grimme-group ``.res`` file as reactions (kcal/mol → eV)."""
    reactions = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        tokens = line.split()
        if not tokens or tokens[0] != "$tmer":
            continue
        try:
            x, w = tokens.index("x"), tokens.index("$w")
            names = [t.removesuffix("/$f") for t in tokens[1:x]]
            coefficients = [float(t) for t in tokens[x + 1 : w]]
            value = float(tokens[w + 1])
        except (ValueError, IndexError):
            raise DataError(f"{source}:{lineno}: cannot read '{line.strip()}'.") from None
        if len(names) != len(coefficients):
            raise DataError(
                f"{source}:{lineno}: {len(names)} species, {len(coefficients)} coefficients."
            )
        molecule = "C" + names[-1][1:3]  # A1610 -> C16
        reactions.append(
            Reaction(
                names[-1],
                tuple(zip(names, coefficients, strict=True)),
                value * KCAL_PER_MOL,
                molecule,
            )
        )
    return reactions


def load(manifest: Path = MANIFEST) -> ReactionData:
    """Read the 50 conformer pairs and their 53 structures from the files pinned in ``manifest``."""
    files = read_manifest(manifest)
    res = pinned(files, ".res", manifest)
    reactions = parse_res(res.read_text(), source=str(res))
    named = dict.fromkeys(s for r in reactions for s, _ in r.species)
    unused = {path.split("/")[0] for path in files if path.endswith("/struc.xyz")} - set(named)
    if unused:
        raise DataError(f"{manifest}: no .res line uses {', '.join(sorted(unused))}.")
    structures = {}
    for name in named:
        remote = files.get(f"{name}/struc.xyz")
        if remote is None:
            raise DataError(f"{manifest}: .res names {name}, but {name}/struc.xyz is not listed.")
        # neutral closed-shell alkanes
        structures[name] = set_charge_spin(read_xyz(fetch(remote)), 0, 1)
    return ReactionData(reactions, structures, "conformer_energy", LEVEL, SOURCE)


BENCHMARK = ReactionBenchmark(load)
tasks, references, reactions = BENCHMARK.tasks, BENCHMARK.references, BENCHMARK.reactions
