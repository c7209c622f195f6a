"""The Non-Covalent Interactions Atlas (Honza-R/NCIAtlas): dimers, cut monomers, CCSD(T)/CBS.

Each data set ``<set>`` (``NCIA_D1200``, ``NCIA_D442x10``, ``NCIA_R739x5``, ``NCIA_SH250x10``)
is a folder of dimers, ``geometries/<set>/<label>.xyz``, and a table of benchmark interaction
energies, ``tables/<set>/<set>_benchmark.txt`` (kcal/mol; ``#`` comment lines and a
``system Eint`` header before ``<label> <value>`` rows). A dimer's comment line says how to
cut it into its two monomers and what their charges are::

    charge=0 charge_a=0 charge_b=0 selection_a=1-12 selection_b=13-17 ... benchmark_Eint=2.610

(1-based, inclusive atom ranges). The interaction energy is
E(dimer) − E(monomer A) − E(monomer B), every fragment at its geometry in the dimer. Along a
dissociation curve (``x10``, ``x5``) the monomers are rigid and only move apart, so a monomer
equal, after translation, to one met before is the same species and computed once.

Every row of the table needs its geometry and every geometry of the set needs its row: a
reference without a structure, or the reverse, is an error, never a silent drop. Systems
left out on purpose (ML-PEG's noble-gas exclusion) are kept in :attr:`NciaSet.excluded` with
the reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from ase import Atoms

from mlpeg.data import RemoteFile, fetch, read_manifest
from mlpeg.errors import DataError
from mlpeg.reactions import KCAL_PER_MOL, Reaction, ReactionBenchmark, ReactionData
from mlpeg.refdata import parse_xyz

#: Atomic numbers of He, Ne, Ar, Kr, Xe and Rn.
NOBLE_GASES = frozenset({2, 10, 18, 36, 54, 86})

SOURCE = "Řezáč et al., Non-Covalent Interactions Atlas (Honza-R/NCIAtlas)"
LEVEL_OF_THEORY = "CCSD(T)/CBS"

#: Decimals (Å) to which monomer geometries must agree, after centring, to be one species.
MONOMER_DECIMALS = 5

_KEY_VALUE = re.compile(r"(\w+)=(\S+)")


@dataclass
class NciaSet:
    """One NCIAtlas data set, loaded.

    Parameters
    ----------
    data
        Reactions (one per dimer: dimer − A − B) and the structures of their species.
    excluded
        Labels left out, with the reason.
    complexes
        Complex (dimer without its distance suffix) of each included label, in table order.
    """

    data: ReactionData
    excluded: dict[str, str] = field(default_factory=dict)
    complexes: dict[str, str] = field(default_factory=dict)


def read_table(text: str, *, source: str) -> dict[str, float]:
    """Read a ``<set>_benchmark.txt`` table: label → interaction energy in kcal/mol.

    Parameters
    ----------
    text
        The table's content.
    source
        Name used in error messages.

    Raises
    ------
    DataError
        A row that is not ``<label> <number>``, or a label listed twice; names the line.
    """
    values: dict[str, float] = {}
    for lineno, line in enumerate(text.splitlines(), start=1):
        tokens = line.split()
        if not tokens or tokens[0].startswith("#") or tokens[0] == "system":
            continue
        try:
            label, value = tokens[0], float(tokens[1])
        except (IndexError, ValueError):
            raise DataError(
                f"{source}:{lineno}: expected '<label> <Eint>', got '{line}'."
            ) from None
        if len(tokens) != 2:
            raise DataError(f"{source}:{lineno}: expected '<label> <Eint>', got '{line}'.")
        if label in values:
            raise DataError(f"{source}:{lineno}: '{label}' is listed twice.")
        values[label] = value
    return values


def parse_selection(text: str, n_atoms: int, *, source: str) -> list[int]:
    """Turn ``1-12`` or ``13`` (or a comma-separated list of these) into 0-based indices."""
    indices: list[int] = []
    for part in text.split(","):
        first, dash, last = part.partition("-")
        try:
            start, stop = int(first), int(last) if dash else int(first)
        except ValueError:
            raise DataError(f"{source}: cannot read atom selection '{text}'.") from None
        if not 1 <= start <= stop <= n_atoms:
            raise DataError(f"{source}: selection '{text}' is outside atoms 1-{n_atoms}.")
        indices.extend(range(start - 1, stop))
    return indices


def cut_dimer(text: str, *, source: str) -> tuple[Atoms, Atoms, Atoms, dict[str, str]]:
    """Parse a NCIAtlas dimer and cut its two monomers.

    Parameters
    ----------
    text
        The xyz file's content.
    source
        Name used in error messages.

    Returns
    -------
    tuple
        Dimer, monomer A, monomer B (``info``: charge, and multiplicity 1 in ``spin``), and
        the comment line's ``key=value`` fields.

    Raises
    ------
    DataError
        An unreadable file, selections that overlap or leave atoms out, charges that do not
        add up, or an odd electron count (every NCIAtlas fragment is a closed-shell singlet).
    """
    dimer = parse_xyz(text, source=source)
    fields = dict(_KEY_VALUE.findall(text.splitlines()[1]))
    try:
        charge, charge_a, charge_b = (int(fields[k]) for k in ("charge", "charge_a", "charge_b"))
        selection_a, selection_b = fields["selection_a"], fields["selection_b"]
    except KeyError as exc:
        raise DataError(f"{source}: the comment line has no {exc.args[0]}.") from None
    except ValueError:
        raise DataError(f"{source}: a charge on the comment line is not an integer.") from None
    a = parse_selection(selection_a, len(dimer), source=source)
    b = parse_selection(selection_b, len(dimer), source=source)
    if sorted(a + b) != list(range(len(dimer))):
        raise DataError(
            f"{source}: selections {selection_a} and {selection_b} do not split its "
            f"{len(dimer)} atoms into two fragments."
        )
    if charge_a + charge_b != charge:
        raise DataError(f"{source}: charges {charge_a} + {charge_b} ≠ total {charge}.")
    parts = []
    for atoms, q in ((dimer, charge), (dimer[a], charge_a), (dimer[b], charge_b)):
        if (int(atoms.numbers.sum()) - q) % 2:
            raise DataError(f"{source}: a fragment of charge {q} has an odd electron count.")
        atoms.info.clear()
        atoms.info.update({"charge": q, "multiplicity": 1, "spin": 1})
        parts.append(atoms)
    return parts[0], parts[1], parts[2], fields


def _monomer_key(atoms: Atoms) -> tuple:
    centred = atoms.positions - atoms.positions.mean(axis=0)
    rounded = np.round(centred, MONOMER_DECIMALS) + 0.0
    return (atoms.numbers.tobytes(), rounded.tobytes(), atoms.info["charge"])


def complex_of(label: str) -> str:
    """Return the complex a label belongs to: the label without its ``_<distance>`` suffix."""
    return label.rsplit("_", 1)[0]


def load_ncia(
    manifest: Path,
    dataset: str,
    *,
    exclude_elements: Iterable[int] = (),
    exclusion_reason: str = "",
) -> NciaSet:
    """Load one NCIAtlas data set from files pinned in a manifest.

    Parameters
    ----------
    manifest
        The benchmark's ``data.sha256.gz``: the table and every geometry of the set.
    dataset
        ``NCIA_D1200``, ``NCIA_D442x10``, ``NCIA_R739x5`` or ``NCIA_SH250x10``.
    exclude_elements
        Atomic numbers whose presence leaves a dimer out (ML-PEG: noble gases).
    exclusion_reason
        Why, kept with each excluded label.

    Returns
    -------
    NciaSet
        Interaction energies in eV (from kcal/mol), one reaction per dimer.

    Raises
    ------
    DataError
        A missing or corrupt file, a table row without a geometry or a geometry without a
        row, a dimer that cannot be cut, or a comment-line Eint that disagrees with the table.
    """
    files = read_manifest(manifest)
    table_path = f"tables/{dataset}/{dataset}_benchmark.txt"
    if table_path not in files:
        raise DataError(f"{manifest}: does not list {table_path}.")
    table = read_table(fetch(files[table_path]).read_text(), source=table_path)
    prefix = f"geometries/{dataset}/"
    geometries: dict[str, RemoteFile] = {
        path.removeprefix(prefix).removesuffix(".xyz"): remote
        for path, remote in files.items()
        if path.startswith(prefix) and path.endswith(".xyz")
    }
    no_geometry = [label for label in table if label not in geometries]
    if no_geometry:
        raise DataError(
            f"{dataset}: {len(no_geometry)} reference rows have no geometry in {manifest} "
            f"(first: {no_geometry[0]})."
        )
    no_reference = sorted(set(geometries) - set(table))
    if no_reference:
        raise DataError(
            f"{dataset}: {len(no_reference)} geometries have no reference row in {table_path} "
            f"(first: {no_reference[0]})."
        )
    excluded_numbers = frozenset(exclude_elements)
    reactions: list[Reaction] = []
    structures: dict[str, Atoms] = {}
    monomers: dict[tuple, str] = {}
    excluded: dict[str, str] = {}
    complexes: dict[str, str] = {}
    for label, value in table.items():
        source = f"{prefix}{label}.xyz"
        text = fetch(geometries[label]).read_text(encoding="utf-8", errors="replace")
        dimer, mono_a, mono_b, fields = cut_dimer(text, source=source)
        if excluded_numbers & set(dimer.numbers.tolist()):
            excluded[label] = exclusion_reason
            continue
        if "benchmark_Eint" in fields and abs(float(fields["benchmark_Eint"]) - value) > 1e-6:
            raise DataError(
                f"{source}: benchmark_Eint={fields['benchmark_Eint']} differs from "
                f"{table_path} ({value})."
            )
        structures[label] = dimer
        names = []
        for suffix, monomer in (("A", mono_a), ("B", mono_b)):
            name = monomers.setdefault(_monomer_key(monomer), f"{label}/{suffix}")
            structures.setdefault(name, monomer)
            names.append(name)
        species = ((label, 1.0), (names[0], -1.0), (names[1], -1.0))
        reactions.append(Reaction(label, species, value * KCAL_PER_MOL, fields.get("group")))
        complexes[label] = complex_of(label)
    data = ReactionData(reactions, structures, "interaction_energy", LEVEL_OF_THEORY, SOURCE)
    return NciaSet(data, excluded, complexes)


def every_nth_complex(step: int) -> Callable[[NciaSet], list[str]]:
    """Return a quick-band rule: all distances of every ``step``-th complex, in table order.

    The first complex is always in; the rule is fixed, so the band is the same everywhere.
    """

    def select(loaded: NciaSet) -> list[str]:
        order = list(dict.fromkeys(loaded.complexes.values()))
        keep = set(order[::step])
        return [label for label, name in loaded.complexes.items() if name in keep]

    return select


def ncia_benchmark(
    calc_file: str,
    dataset: str,
    *,
    quick_step: int,
    exclude_noble_gases: bool,
) -> tuple[ReactionBenchmark, Callable[[], NciaSet]]:
    """Return the benchmark of one NCIAtlas set (read lazily) and its loader.

    Parameters
    ----------
    calc_file
        The benchmark's ``calc.py`` (``__file__``): ``data.sha256.gz`` lies beside it.
    dataset
        The set's folder name in NCIAtlas.
    quick_step
        The quick band computes every ``quick_step``-th complex (all its distances).
    exclude_noble_gases
        Leave out dimers with He–Rn, as ML-PEG does for D1200, D442x10 and R739x5.
    """
    import functools

    manifest = Path(calc_file).with_name("data.sha256.gz")
    reason = "contains a noble gas (left out as in ML-PEG)"

    @functools.cache
    def load() -> NciaSet:
        return load_ncia(
            manifest,
            dataset,
            exclude_elements=NOBLE_GASES if exclude_noble_gases else (),
            exclusion_reason=reason,
        )

    rule = every_nth_complex(quick_step)
    benchmark = ReactionBenchmark(lambda: load().data, quick=lambda _: rule(load()))
    return benchmark, load
