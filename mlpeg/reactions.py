"""Reaction-energy benchmarks: species computed once, reactions formed in SQL.

Most molecular benchmarks (S22, S66, GMTKN55, GSCDB138, BH9, ...) have one shape: structures
("species"), and reactions that combine them with stoichiometric coefficients, each with a
reference energy. Here a benchmark of that shape is a :class:`ReactionData`: its ``tasks()``
compute every distinct species once per model (system = species name, role ``species``);
its ``references()`` hold one reference energy per reaction (eV); its ``reactions()`` hold
the stoichiometry, which the runner writes as a ``reactions`` landing part and which
``sql/macros_reactions.sql`` joins, by key, to the predictions.

A benchmark's ``calc.py`` builds one :class:`ReactionBenchmark` (lazily loaded) and exposes
its three methods; see ``benchmarks/non_covalent_interactions/S66/calc.py``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import pyarrow as pa
from ase import Atoms
from ase.units import kcal, kJ, mol

from mlpeg.calc.tasks import Reference, SinglePoint, Task
from mlpeg.catalog import Benchmark
from mlpeg.data import RemoteFile, fetch, read_manifest
from mlpeg.enums import CostClass, PartKind
from mlpeg.errors import DataError
from mlpeg.landing import REACTIONS_SCHEMA, write_part
from mlpeg.refdata import DinReaction, read_din, read_xyz
from mlpeg.structures import structure_hash

#: One kcal/mol and one kJ/mol in eV (references are stored in eV).
KCAL_PER_MOL = kcal / mol
KJ_PER_MOL = kJ / mol

#: Role of every species task.
SPECIES_ROLE = "species"


@dataclass(frozen=True)
class Reaction:
    """A reaction: Σ coefficient × E(species) should equal the reference energy.

    Parameters
    ----------
    name
        Unique within its benchmark; the ``system`` of its points and reference.
    species
        ``(species, coefficient)`` pairs, each species once.
    reference_ev
        Reference energy in eV.
    subset
        The data set or group it belongs to (subset metrics), if any.
    quantity
        Its reference quantity, when it differs from the benchmark's.
    """

    name: str
    species: tuple[tuple[str, float], ...]
    reference_ev: float
    subset: str | None = None
    quantity: str | None = None


#: Vacuum on each side of a molecule's box (Å): images are 2 × 10 Å apart, beyond the cutoffs
#: of the models here (CHGNet 6 Å, MACE 5–6 Å).
VACUUM = 10.0


def in_vacuum_box(atoms: Atoms, vacuum: float = VACUUM) -> Atoms:
    """Return a molecule centred in a box with ``vacuum`` Å on each side, still non-periodic.

    Models that read only positions (MACE, orb, D3) ignore the box; models that always build
    a periodic graph (CHGNet, through pymatgen) need a cell and see no periodic image within
    their cutoff. Periodic structures and molecules that already have a cell are returned
    unchanged.

    Parameters
    ----------
    atoms
        The structure.
    vacuum
        Vacuum on each side, in Å.

    Returns
    -------
    ase.Atoms
        A copy (or ``atoms`` itself when it is left unchanged).
    """
    if atoms.pbc.any() or atoms.cell.rank > 0:
        return atoms
    boxed = atoms.copy()
    boxed.center(vacuum=vacuum)
    return boxed


def combine_species(pairs: Sequence[tuple[str, float]]) -> tuple[tuple[str, float], ...]:
    """Sum the coefficients of a species listed more than once, keeping first-seen order."""
    totals: dict[str, float] = {}
    for species, coefficient in pairs:
        totals[species] = totals.get(species, 0.0) + coefficient
    return tuple(totals.items())


@dataclass
class ReactionData:
    """Reactions and the structures of their species.

    Parameters
    ----------
    reactions
        Every reaction of the benchmark.
    structures
        Species name → structure; ``atoms.info`` carries ``charge`` and ``spin``
        (the multiplicity, 2S+1).
    quantity
        Name of the reference quantity (``interaction_energy``, ``reaction_energy``, ...)
        of reactions that do not name their own.
    level_of_theory, source
        Provenance stored with the reference values.
    """

    reactions: list[Reaction]
    structures: dict[str, Atoms]
    quantity: str
    level_of_theory: str
    source: str

    def __post_init__(self) -> None:
        names = [reaction.name for reaction in self.reactions]
        if len(set(names)) != len(names):
            duplicate = next(name for name in names if names.count(name) > 1)
            raise DataError(f"Reaction '{duplicate}' is defined twice.")
        missing = {s for r in self.reactions for s, _ in r.species} - set(self.structures)
        if missing:
            raise DataError(f"No structure for species {', '.join(sorted(missing)[:5])}.")

    def species_names(self, reactions: Sequence[Reaction] | None = None) -> list[str]:
        """Species of ``reactions`` (default: all reactions), in first-use order."""
        chosen = self.reactions if reactions is None else reactions
        return list(dict.fromkeys(s for r in chosen for s, _ in r.species))

    def tasks(self, reactions: Sequence[Reaction] | None = None) -> list[Task]:
        """One energy single point per species (of ``reactions``, default all), molecules boxed."""
        return [
            Task(name, SPECIES_ROLE, in_vacuum_box(self.structures[name]), SinglePoint(("energy",)))
            for name in self.species_names(reactions)
        ]

    def references(self) -> list[Reference]:
        """One reference energy (eV) per reaction."""
        return [
            Reference(
                r.name,
                r.quantity or self.quantity,
                r.reference_ev,
                "eV",
                None,
                self.level_of_theory,
                self.source,
            )
            for r in self.reactions
        ]


def merge_identical_species(data: ReactionData) -> ReactionData:
    """Compute each distinct structure once: merge species that hold the same structure.

    Species with the same geometry, charge and spin are renamed to the first of them, and
    their coefficients summed within a reaction.

    Parameters
    ----------
    data
        Reactions whose species may repeat a structure under several names.

    Returns
    -------
    ReactionData
        The same reactions over distinct structures only.
    """
    canonical: dict[tuple[str, object, object], str] = {}
    rename: dict[str, str] = {}
    for name in data.species_names():
        atoms = data.structures[name]
        key = (structure_hash(atoms), atoms.info.get("charge"), atoms.info.get("spin"))
        rename[name] = canonical.setdefault(key, name)
    reactions = [
        replace(r, species=combine_species([(rename[s], c) for s, c in r.species]))
        for r in data.reactions
    ]
    structures = {name: data.structures[name] for name in dict.fromkeys(rename.values())}
    return replace(data, reactions=reactions, structures=structures)


def reaction_rows(reactions: Sequence[Reaction], benchmark_key: str) -> pa.Table:
    """Return the stoichiometry as a table matching :data:`mlpeg.landing.REACTIONS_SCHEMA`."""
    rows = [
        {
            "benchmark_key": benchmark_key,
            "reaction": reaction.name,
            "subset": reaction.subset,
            "species": species,
            "coefficient": float(coefficient),
        }
        for reaction in reactions
        for species, coefficient in reaction.species
    ]
    return pa.Table.from_pylist(rows, schema=REACTIONS_SCHEMA)


def write_reactions(reactions: Sequence[Reaction], benchmark: Benchmark, *, landing: Path) -> Path:
    """Write a benchmark's stoichiometry as a ``reactions`` landing part; return its path."""
    return write_part(
        reaction_rows(reactions, benchmark.key),
        kind=PartKind.REACTIONS,
        folder=landing,
        name=f"{benchmark.key}__reactions",
    )


class ReactionBenchmark:
    """What a reaction benchmark's ``calc.py`` exposes, loaded once on first use.

    Parameters
    ----------
    load
        Returns the benchmark's :class:`ReactionData` (reads data files; called once).
    quick
        Picks the reactions of the quick band (the default run) from all of them; the
        species of those reactions are computed unless ``tasks(full=True)``. None: the
        quick band is the whole benchmark.
    """

    def __init__(
        self,
        load: Callable[[], ReactionData],
        *,
        quick: Callable[[Sequence[Reaction]], Sequence[Reaction | str]] | None = None,
    ) -> None:
        self._load = functools.cache(load)
        self._quick = quick

    @property
    def data(self) -> ReactionData:
        """Reactions and structures, loaded on first use."""
        return self._load()

    def tasks(self, *, full: bool = False) -> list[Task]:
        """One single point per distinct species: of the quick band's reactions, or of all."""
        if full or self._quick is None:
            return self.data.tasks()
        return self.data.tasks(self.quick_reactions())

    def quick_reactions(self) -> list[Reaction]:
        """Return the reactions of the quick band (all of them when it has none).

        The quick rule may return reactions or their names; a name that is no reaction of
        the benchmark is one clear error.
        """
        reactions = self.data.reactions
        if self._quick is None:
            return list(reactions)
        by_name = {reaction.name: reaction for reaction in reactions}
        chosen = list(self._quick(reactions))
        names = [item if isinstance(item, str) else item.name for item in chosen]
        unknown = sorted(set(names) - set(by_name))
        if unknown:
            raise DataError(f"Quick band names unknown reactions: {', '.join(unknown[:5])}.")
        return [by_name[name] for name in names]

    def references(self) -> list[Reference]:
        """One reference energy per reaction (eV)."""
        return self.data.references()

    def reactions(self) -> list[Reaction]:
        """Return the stoichiometry of every reaction."""
        return self.data.reactions


@dataclass(frozen=True)
class RefdataSubset:
    """One ``.din`` file of aoterodelaroza/refdata and where its structures are.

    Parameters
    ----------
    din
        Path of the ``.din`` file inside the repository (``10_din/s66.din``).
    folders
        Folders holding its ``<species>.xyz`` files, searched in order.
    subset
        Subset name given to its reactions, or a function of the reaction and the
        structures of its species (e.g. charged or neutral) returning one.
    prefix
        Prefix reaction names with the subset (when names repeat between subsets).
    species_name
        Turns a file stem into the species name the ``.din`` file uses, where they differ.
    negate
        Negate the file's coefficients, for a file whose coefficients have the opposite sign
        to its reference values (refdata's ``ihb100x10.din``).
    """

    din: str
    folders: tuple[str, ...]
    subset: str | Callable[[DinReaction, Mapping[str, Atoms]], str] | None = None
    prefix: bool = False
    species_name: Callable[[str], str] | None = None
    negate: bool = False


def _xyz_index(files: Mapping[str, RemoteFile], subset: RefdataSubset) -> dict[str, RemoteFile]:
    index: dict[str, RemoteFile] = {}
    for folder in reversed(subset.folders):  # earlier folders win
        for path, remote in files.items():
            if path.startswith(folder.rstrip("/") + "/") and path.endswith(".xyz"):
                stem = Path(path).stem
                index[subset.species_name(stem) if subset.species_name else stem] = remote
    return index


def load_refdata(
    manifest: Path,
    subsets: Sequence[RefdataSubset],
    *,
    quantity: str,
    level_of_theory: str,
    source: str,
    merge_identical: bool = True,
) -> ReactionData:
    """Load reactions and structures from refdata files pinned in a manifest.

    Parameters
    ----------
    manifest
        The benchmark's ``data.sha256``; it must list every ``.din`` and ``.xyz`` file used.
    subsets
        The ``.din`` files to read.
    quantity, level_of_theory, source
        Provenance of the reference values.
    merge_identical
        Compute structures repeated under several names once (see
        :func:`merge_identical_species`).

    Returns
    -------
    ReactionData
        Reference energies converted from kcal/mol to eV.

    Raises
    ------
    DataError
        When a file is missing from the manifest or mirror, or names clash.
    """
    files = read_manifest(manifest)
    reactions: list[Reaction] = []
    structures: dict[str, Atoms] = {}
    origin: dict[str, str] = {}
    for subset in subsets:
        if subset.din not in files:
            raise DataError(f"{manifest}: does not list {subset.din}.")
        index = _xyz_index(files, subset)
        for din_reaction in read_din(fetch(files[subset.din])):
            local: dict[str, Atoms] = {}
            pairs = []
            for coefficient, name in din_reaction.species:
                remote = index.get(name)
                if remote is None:
                    raise DataError(
                        f"{manifest}: no xyz file for species '{name}' of {subset.din} in "
                        f"{', '.join(subset.folders)}."
                    )
                key = name if origin.get(name, remote.path) == remote.path else remote.path
                origin.setdefault(key, remote.path)
                if key not in structures:
                    structures[key] = read_xyz(fetch(remote))
                local[name] = structures[key]
                pairs.append((key, -coefficient if subset.negate else coefficient))
            label = subset.subset(din_reaction, local) if callable(subset.subset) else subset.subset
            name = f"{label}/{din_reaction.name}" if subset.prefix and label else din_reaction.name
            reactions.append(
                Reaction(
                    name,
                    combine_species(pairs),
                    din_reaction.reference_kcal_per_mol * KCAL_PER_MOL,
                    label,
                )
            )
    data = ReactionData(reactions, structures, quantity, level_of_theory, source)
    return merge_identical_species(data) if merge_identical else data


def gscdb138_subset(
    dataset: str, subset: str | Callable[[DinReaction, Mapping[str, Atoms]], str] | None = None
) -> RefdataSubset:
    """Return one GSCDB138 data set of refdata (``10_din-GSCDB138/<dataset>.din``).

    Parameters
    ----------
    dataset
        Its name in refdata (``A24``, ``BH876``, ...); its reaction names are unique across
        GSCDB138, so they are not prefixed.
    subset
        The subset its reactions count towards, when it differs from ``dataset``.
    """
    return RefdataSubset(
        f"10_din-GSCDB138/{dataset}.din",
        (f"30_collection-GSCDB138/{dataset}",),
        subset or dataset,
    )


GSCDB138_SOURCE = "Liang, Head-Gordon, GSCDB138 (arXiv:2508.13468), via refdata"


def gscdb138_benchmark(
    calc_file: str,
    subsets: Sequence[RefdataSubset],
    *,
    quantity: str = "reaction_energy",
    level_of_theory: str = "CCSD(T)",
) -> ReactionBenchmark:
    """Return a benchmark made of GSCDB138 data sets, read lazily from refdata.

    Parameters
    ----------
    calc_file
        The benchmark's ``calc.py`` (``__file__``): its ``data.sha256`` lies beside it.
    subsets
        The data sets (:func:`gscdb138_subset`).
    quantity, level_of_theory
        What the reference values are, and at which level.
    """
    manifest = Path(calc_file).with_name("data.sha256")
    return ReactionBenchmark(
        lambda: load_refdata(
            manifest,
            subsets,
            quantity=quantity,
            level_of_theory=level_of_theory,
            source=GSCDB138_SOURCE,
        )
    )


def ionisation_subset(prefix: str) -> Callable[[DinReaction, Mapping[str, Atoms]], str]:
    """Return a subset rule that splits a data set by the charges of its species.

    ``<prefix>IP`` if a cation takes part, ``<prefix>EA`` if an anion does, ``<prefix>AE``
    (atomisation) otherwise.
    """

    def classify(reaction: DinReaction, structures: Mapping[str, Atoms]) -> str:
        charges = [structures[name].info.get("charge", 0) for _, name in reaction.species]
        kind = (
            "IP" if any(q > 0 for q in charges) else "EA" if any(q < 0 for q in charges) else "AE"
        )
        return prefix + kind

    return classify


def charge_subset(reaction: DinReaction, structures: Mapping[str, Atoms]) -> str:
    """Return ``charged`` if any species of the reaction carries a charge, else ``neutral``."""
    charged = any(structures[name].info.get("charge", 0) for _, name in reaction.species)
    return "charged" if charged else "neutral"


def cost_class(n_structures: int, n_atoms: int) -> CostClass:
    """Classify a benchmark by size: what one model costs on one CPU, roughly.

    Parameters
    ----------
    n_structures
        Distinct structures computed per model.
    n_atoms
        Atoms summed over those structures.

    Returns
    -------
    CostClass
        ``quick`` up to 100 structures and 3,000 atoms (seconds to a minute), ``slow`` up
        to 30,000 atoms (minutes), ``very_slow`` beyond.
    """
    if n_structures <= 100 and n_atoms <= 3_000:
        return CostClass.QUICK
    if n_atoms <= 30_000:
        return CostClass.SLOW
    return CostClass.VERY_SLOW
