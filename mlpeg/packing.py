"""Liquid boxes of ion pairs packed from SMILES with RDKit and Packmol, through molify.

molify (Zills, JOSS 2025) embeds one conformer per SMILES with RDKit's ETKDG and places
copies with Packmol; both take a seed, so a box is the same on every run and machine. This is
how ML-PEG builds its ionic-liquid box (BMIMCl_RDF): one cation and one anion packed into an
ion pair first, then that pair packed ``n_pairs`` times at the target density.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from ase import Atoms

from mlpeg.errors import MlpegError


class PackingError(MlpegError):
    """A box could not be built (missing packages, bad SMILES, Packmol failed)."""


def _molify() -> tuple[Any, str]:
    try:
        import molify
        from packmol.cli import get_binary_path
    except ImportError as exc:
        raise PackingError(
            f"Building liquid boxes from SMILES needs molify, rdkit and packmol ({exc}); "
            "install them with: pip install 'mlpeg[molecules]'."
        ) from exc
    return molify, str(get_binary_path())


@lru_cache(maxsize=8)
def _ion_pair_box(
    cation: str, anion: str, n_pairs: int, density_kg_m3: float, seed: int, pair_density: float
) -> Atoms:
    molify, packmol = _molify()
    try:
        ions = [molify.smiles2atoms(smiles, seed=seed) for smiles in (cation, anion)]
    except ValueError as exc:
        raise PackingError(f"RDKit could not embed '{cation}' or '{anion}': {exc}") from exc
    formal = [round(float(ion.get_initial_charges().sum())) for ion in ions]
    if sum(formal) != 0:
        raise PackingError(
            f"'{cation}' ({formal[0]:+d}) and '{anion}' ({formal[1]:+d}) are not a neutral pair."
        )
    try:
        pair = molify.pack(
            data=[[ions[0]], [ions[1]]],
            counts=[1, 1],
            density=pair_density,
            seed=seed,
            packmol=packmol,
        )
        box = molify.pack(
            data=[[pair]], counts=[n_pairs], density=density_kg_m3, seed=seed, packmol=packmol
        )
    except (FileNotFoundError, RuntimeError, OSError) as exc:
        raise PackingError(
            f"Packmol failed to pack {n_pairs} '{cation}.{anion}' pairs: {exc}"
        ) from exc
    atoms = Atoms(numbers=box.numbers, positions=box.positions, cell=box.cell.array, pbc=True)
    atoms.set_initial_charges(box.get_initial_charges())
    atoms.info.update(charge=0, spin=1)
    return atoms


def ion_pair_box(
    cation: str,
    anion: str,
    n_pairs: int,
    density_kg_m3: float,
    *,
    seed: int = 42,
    pair_density_kg_m3: float = 900.0,
) -> Atoms:
    """Return a periodic cubic box of ``n_pairs`` cation–anion pairs at a given density.

    The pair is packed first (one cation, one anion, at ``pair_density_kg_m3`` as ML-PEG
    does), then ``n_pairs`` copies of it are packed into a cube sized for
    ``density_kg_m3``. Packmol keeps atoms of different molecules at least 2 Å apart,
    across the periodic boundaries too. Built once per process (cached); each call
    returns a fresh copy.

    Parameters
    ----------
    cation, anion
        SMILES of the two ions (their formal charges must cancel).
    n_pairs
        Number of ion pairs in the box.
    density_kg_m3
        Target mass density in kg/m³.
    seed
        Seed of RDKit's conformer embedding and of Packmol (molify's default, 42, is ML-PEG's).
    pair_density_kg_m3
        Density used to pack the single ion pair.

    Returns
    -------
    Atoms
        The box, ion pair after ion pair (cation atoms, then the anion), with each atom's
        formal charge as its initial charge, ``info['charge'] = 0`` and ``info['spin'] = 1``.

    Raises
    ------
    PackingError
        When molify, rdkit or packmol is missing, a SMILES cannot be embedded, the ions are
        not a neutral pair, or Packmol fails.
    """
    if n_pairs < 1 or density_kg_m3 <= 0:
        raise PackingError(
            f"A box needs n_pairs ≥ 1 and a positive density, not {n_pairs}, {density_kg_m3} kg/m³."
        )
    box = _ion_pair_box(cation, anion, n_pairs, float(density_kg_m3), seed, pair_density_kg_m3)
    copy = box.copy()
    copy.info = dict(box.info)
    return copy
