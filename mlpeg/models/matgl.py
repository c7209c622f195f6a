"""matgl (PyPI ``matgl``): MatPES TensorNet and M3GNet potentials loaded from a folder.

A matgl potential is a folder of ``model.json``, ``model.pt`` and ``state.pt`` that
``matgl.load_model(<folder>)`` reads. The checkpoint is either the name of a folder listed
in ``matgl.sha256`` beside this module (each file pinned by commit and sha256, fetched
through :mod:`mlpeg.data`: from the cache, the data mirror or GitHub), or a local folder.
matgl's own download path (Hugging Face) is never used, so a run always loads the
files the manifest pins.

The MatPES v2025.1 folders were trained with matgl <= 2.1.2, whose TensorNet pair
embedding and M3GNet node update summed messages onto edge destinations; matgl 2.2.0 and
later sum onto sources. Loaded into matgl 4.1.2 as they are, both potentials were right
for one-element crystals and wrong for everything else (TensorNet-PBE: LiCl 5.93 Å for
PBE's 5.13, MgO 5.31 for 4.25, errors of 0.5-3.5 eV/atom; M3GNet: LiCl 4.84 Å, 1 eV/atom).
``options.aggregation: destination`` (in ``models.yml`` for the three folders, and the
default for any TensorNet folder at ``@model_version`` 1) restores the old convention
through :mod:`mlpeg.models.matgl_legacy`, which matches matgl 2.1.2 itself; matgl's
"model version is older than the code" warning is then expected and silenced. Stress is
asked of matgl in eV/Å³ (its default is GPa).
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import warnings
from pathlib import Path

from ase.calculators.calculator import Calculator

from mlpeg.data import RemoteFile, fetch, read_manifest
from mlpeg.errors import ConfigError, DataError
from mlpeg.models.registry import ModelSpec
from mlpeg.paths import cache_dir

MANIFEST = Path(__file__).with_name("matgl.sha256")
#: The files a matgl model folder holds.
MODEL_FILES = ("model.json", "model.pt", "state.pt")
#: ``options.aggregation``: where the checkpoint's training code summed per-edge messages.
AGGREGATIONS = ("destination", "source")


@functools.cache
def pretrained_files() -> dict[str, tuple[RemoteFile, ...]]:
    """Return the pinned files of each pretrained folder, keyed by folder name."""
    folders: dict[str, list[RemoteFile]] = {}
    for path, remote in read_manifest(MANIFEST).items():
        folder, _, name = path.rpartition("/")
        if name in MODEL_FILES:
            folders.setdefault(Path(folder).name, []).append(remote)
    return {name: tuple(files) for name, files in folders.items()}


def validate(spec: ModelSpec) -> None:
    """Check the checkpoint names a pinned folder, or is a local folder path."""
    if spec.checkpoint_kind == "url":
        raise ConfigError("matgl checkpoints are pinned folder names or local folders.")
    if spec.checkpoint_kind == "name" and spec.checkpoint not in pretrained_files():
        known = ", ".join(pretrained_files())
        raise ConfigError(f"matgl.sha256 pins no folder '{spec.checkpoint}' ({known}).")
    aggregation = spec.options.get("aggregation")
    if aggregation is not None and aggregation not in AGGREGATIONS:
        raise ConfigError(
            f"Model '{spec.name}': options.aggregation must be one of {AGGREGATIONS}, "
            f"not '{aggregation}'."
        )


def default_aggregation(folder: Path) -> str:
    """Return the convention a folder's model was trained with when ``models.yml`` is silent.

    ``destination`` for a TensorNet saved at ``@model_version`` 1 (matgl <= 2.1.2, which
    bumped the version with the change), else ``source`` (matgl's current convention).
    """
    model = json.loads((folder / "model.json").read_text()).get("kwargs", {}).get("model", {})
    if model.get("@class") == "TensorNet" and model.get("@model_version", 0) < 2:
        return "destination"
    return "source"


def _local_copy(remote: RemoteFile) -> Path | None:
    """Return the cached or mirrored copy of a pinned file without fetching it."""
    cached = cache_dir() / remote.relpath
    if cached.is_file():
        return cached
    mirror = os.environ.get("MLPEG_DATA_MIRROR")
    if mirror and (Path(mirror) / remote.relpath).is_file():
        return Path(mirror) / remote.relpath
    return None


def model_folder(spec: ModelSpec) -> Path:
    """Return a local folder holding the model's verified files, fetching them if needed.

    Raises
    ------
    DataError
        If a pinned file cannot be fetched or its sha256 differs.
    ConfigError
        If a local folder lacks one of ``model.json``, ``model.pt``, ``state.pt``.
    """
    if spec.checkpoint_kind == "name":
        paths = {fetch(remote).parent for remote in pretrained_files()[spec.checkpoint]}
        if len(paths) != 1:
            raise DataError(f"matgl model '{spec.checkpoint}': its files landed apart: {paths}.")
        return paths.pop()
    folder = Path(spec.checkpoint)
    missing = [name for name in MODEL_FILES if not (folder / name).is_file()]
    if missing:
        raise ConfigError(f"Model '{spec.name}': {folder} has no {', '.join(missing)}.")
    return folder


def checkpoint_file(spec: ModelSpec) -> Path | None:
    """Return the weights file (``model.pt``) where it is local."""
    if spec.checkpoint_kind == "name":
        weights = [r for r in pretrained_files()[spec.checkpoint] if r.path.endswith("model.pt")]
        return _local_copy(weights[0]) if weights else None
    return Path(spec.checkpoint) / "model.pt"


def availability(spec: ModelSpec) -> tuple[bool, str]:
    """Say whether matgl runs here: installed, and the pinned files cached, mirrored or online."""
    if importlib.util.find_spec("matgl") is None:
        return False, "package matgl is not installed (pip install 'mlpeg[matgl]')"
    if spec.checkpoint_kind != "name":
        folder = Path(spec.checkpoint)
        if all((folder / name).is_file() for name in MODEL_FILES):
            return True, f"model folder {folder}"
        return False, f"model folder {folder} lacks {', '.join(MODEL_FILES)}"
    remotes = pretrained_files()[spec.checkpoint]
    if all(_local_copy(remote) is not None for remote in remotes):
        return True, "weights in the cache or data mirror (pinned by sha256)"
    from mlpeg.models.checkpoints import download_availability

    return download_availability(remotes[0].url, None, mirrored=True)


def make_calculator(spec: ModelSpec, *, device: str) -> Calculator:
    """Load the potential with ``matgl.load_model`` and wrap it in matgl's ASE calculator.

    Parameters
    ----------
    spec
        The registry entry; ``options.aggregation`` (``destination`` or ``source``) says
        which matgl convention the checkpoint was trained with, the other ``options`` go
        to ``PESCalculator``.
    device
        ``cpu`` or ``cuda``.

    Returns
    -------
    Calculator
        matgl's ``PESCalculator`` (energy, forces, stress in eV/Å³).
    """
    import matgl
    from matgl.ext.ase import PESCalculator

    from mlpeg.models import matgl_legacy
    from mlpeg.models.prepare import PreparedCalculator

    folder = model_folder(spec)
    options = dict(spec.options)
    aggregation = options.pop("aggregation", None) or default_aggregation(folder)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Incompatible model version")
        potential = matgl.load_model(folder)
    matgl_legacy.apply(potential, aggregation)
    potential = potential.to(device)
    calc = PESCalculator(potential, stress_unit="eV/A3", **options)
    return PreparedCalculator(calc, charge_spin=False, torch_dtype="float32")
