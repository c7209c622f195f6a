"""Adsorption energies as reactions: clean surface + n adsorbates → adsorbed system.

S24, CMRAds200 and elemental_slab_oxygen_adsorption are reaction benchmarks
(:mod:`mlpeg.reactions`): every structure is a species computed once per model, and an
adsorption energy is E(adsorbed) − E(surface) − n E(adsorbate). Here ``n`` is counted from
the compositions, never assumed to be 1: a structure with four adsorbed water molecules
is compared with four free ones.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from ase import Atoms

from mlpeg.calc.tasks import Task
from mlpeg.errors import DataError
from mlpeg.reactions import Reaction, ReactionData


def adsorbate_count(surface: Atoms, adsorbed: Atoms, adsorbate: Atoms, *, where: str) -> int:
    """Return how many adsorbates ``adsorbed`` holds beyond ``surface``.

    Parameters
    ----------
    surface, adsorbed, adsorbate
        The clean surface, the surface with adsorbates and one free adsorbate.
    where
        Names the system in the error message.

    Returns
    -------
    int
        n such that composition(adsorbed) = composition(surface) + n × composition(adsorbate).

    Raises
    ------
    DataError
        When no such positive whole number exists.
    """
    extra = Counter(adsorbed.get_chemical_symbols())
    extra.subtract(surface.get_chemical_symbols())
    unit = Counter(adsorbate.get_chemical_symbols())
    counts = {extra[s] / unit[s] for s in unit} | {0.0 for s in extra if s not in unit and extra[s]}
    n = counts.pop() if len(counts) == 1 else 0.0
    if n < 1 or n != int(n):
        raise DataError(
            f"{where}: {adsorbed.get_chemical_formula()} is not "
            f"{surface.get_chemical_formula()} plus a whole number of "
            f"{adsorbate.get_chemical_formula()}."
        )
    return int(n)


def adsorption_reaction(
    name: str,
    species: tuple[str, str, str],
    structures: tuple[Atoms, Atoms, Atoms],
    reference_ev: float,
    *,
    subset: str | None = None,
) -> Reaction:
    """Return the reaction surface + n adsorbate → adsorbed.

    Parameters
    ----------
    name
        The reaction's name (its ``system`` in the views).
    species
        Species names of (surface, adsorbed, adsorbate).
    structures
        Their structures, in the same order (used to count n).
    reference_ev
        Reference adsorption energy (eV) of all n adsorbates together.
    subset
        Group for subset metrics, if any.
    """
    n = adsorbate_count(*structures, where=name)
    surface, adsorbed, adsorbate = species
    return Reaction(
        name, ((adsorbed, 1.0), (surface, -1.0), (adsorbate, -float(n))), reference_ev, subset
    )


def band_tasks(data: ReactionData, reactions: Iterable[str] | None) -> list[Task]:
    """Return the species tasks of the named reactions only (all when None).

    Parameters
    ----------
    data
        The benchmark's reactions and structures.
    reactions
        Names of the reactions of the band (a quick subset), or None for every reaction.

    Returns
    -------
    list of Task
        One single point per species those reactions need, in first-use order.

    Raises
    ------
    DataError
        When a named reaction does not exist.
    """
    if reactions is None:
        return data.tasks()
    wanted = list(reactions)
    known = {r.name: r for r in data.reactions}
    missing = [name for name in wanted if name not in known]
    if missing:
        raise DataError(f"Quick band names unknown reactions: {', '.join(missing)}.")
    needed = {species for name in wanted for species, _ in known[name].species}
    return [task for task in data.tasks() if task.system in needed]
