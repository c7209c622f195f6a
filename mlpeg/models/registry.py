"""The model registry: ``models.yml`` entries as frozen specs, and calculators from them.

Each family is one module in ``mlpeg.models`` exposing ``make_calculator(spec, device)``
and, optionally, ``availability(spec)`` (can it run here, and why not),
``validate(spec)`` (checks at load time, raising :class:`ConfigError`) and
``checkpoint_file(spec)`` (the local weights, for provenance). Family packages are
imported only when a calculator is built, so listing models never imports torch.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ase.calculators.calculator import Calculator
from ase.data import atomic_numbers, chemical_symbols

from mlpeg.catalog import load_yaml
from mlpeg.enums import Dispersion
from mlpeg.errors import ConfigError

REGISTRY_FILE = Path(__file__).with_name("models.yml")
#: Former suffix of model keys with D3 added; now refused (D3 is a property of the run).
D3_SUFFIX = "-D3"
#: What ``mlpeg run`` compares when no model is named: both ship their weights in the wheel.
DEFAULT_MODELS = ("chgnet-0.3.0", "sevennet-0")


@dataclass(frozen=True)
class ModelSpec:
    """One registered model (a ``models.yml`` entry).

    Parameters mirror ``mlpeg/schemas/models.schema.yml``.
    """

    name: str
    family: str
    checkpoint: str
    checkpoint_sha256: str | None = None
    device: str = "auto"
    dtype: str = "float64"
    trained_on_dispersion: bool = False
    dispersion: dict[str, Any] = field(default_factory=dict)
    level_of_theory: str | None = None
    training_sets: tuple[str, ...] = ()
    elements: tuple[int, ...] = ()
    licence: str | None = None
    paper: str | None = None
    n_params: int | None = None
    notes: str | None = None
    test_only: bool = False
    options: dict[str, Any] = field(default_factory=dict)
    external_field: bool = False

    def supports(self, numbers: Any) -> bool:
        """Return whether every atomic number in ``numbers`` is covered by the model."""
        return set(int(z) for z in numbers) <= set(self.elements)

    def unsupported_reason(self, atoms: Any) -> str | None:
        """Return why the model cannot compute ``atoms``, or None when it can.

        A structure is unsupported when it holds an element the model does not cover, or
        when it is to be computed in an applied electric field (``atoms.info["external_field"]``
        in V/Å, see :func:`needs_external_field`) and the model does not declare
        ``external_field: true``: a model blind to fields would return the zero-field energy,
        which is not an answer.
        """
        if not self.supports(atoms.numbers):
            missing = {int(z) for z in atoms.numbers} - set(self.elements)
            symbols = ", ".join(sorted(chemical_symbols[z] for z in missing))
            return f"elements not supported by {self.name}: {symbols}"
        if needs_external_field(atoms) and not self.external_field:
            return f"{self.name} does not take an external electric field"
        return None

    def declared_dispersion(self, benchmark_dispersion: str) -> Dispersion:
        """Return the dispersion this model runs with on a benchmark (its leaderboard run).

        A benchmark declaring ``d3`` gets D3(BJ) added to models trained without
        dispersion; a model trained with dispersion never gets it twice.
        """
        if benchmark_dispersion == "d3" and not self.trained_on_dispersion:
            return Dispersion.D3BJ
        return Dispersion.NONE

    @property
    def checkpoint_kind(self) -> str:
        """``url`` (pinned by sha256), ``file`` (a local path) or ``name`` (package's own)."""
        from mlpeg.models.checkpoints import is_url

        if is_url(self.checkpoint):
            return "url"
        if Path(self.checkpoint).is_absolute():
            return "file"
        return "name"


def needs_external_field(atoms: Any) -> bool:
    """Return whether a structure is to be computed in an applied electric field.

    A task declares it with ``atoms.info["external_field"]`` (V/Å), zero included: a
    benchmark of field responses declares its zero-field references too, so that a model
    blind to fields is not scored on their half of each energy difference.
    """
    return atoms.info.get("external_field") is not None


def _atomic_number(symbol: str, where: str) -> int:
    if symbol not in atomic_numbers or symbol == "X":
        raise ConfigError(f"{where}: '{symbol}' is not a chemical symbol.")
    return atomic_numbers[symbol]


def _elements(value: Any, where: str) -> tuple[int, ...]:
    """Turn ``118``, ``[H, C, O]`` or ranges such as ``[H-Bi, Ac-Pu]`` into numbers."""
    if isinstance(value, int):
        return tuple(range(1, value + 1))
    numbers: set[int] = set()
    for item in value or ():
        first, dash, last = item.partition("-")
        start = _atomic_number(first.strip(), where)
        stop = _atomic_number(last.strip(), where) if dash else start
        if stop < start:
            raise ConfigError(f"{where}: element range '{item}' runs backwards.")
        numbers.update(range(start, stop + 1))
    return tuple(sorted(numbers))


def _resolve_checkpoint(checkpoint: str, folder: Path) -> str:
    """Make a checkpoint that names an existing file relative to ``folder`` absolute."""
    from mlpeg.models.checkpoints import is_url

    if is_url(checkpoint) or ":" in checkpoint.split("/")[0]:  # URL, or <loader>:<name>
        return checkpoint
    path = Path(checkpoint).expanduser()
    candidate = path if path.is_absolute() else folder / path
    if candidate.is_file() or path.is_absolute() or len(path.parts) > 1:
        return str(candidate.resolve())
    return checkpoint


def _validate(spec: ModelSpec, where: str) -> None:
    if spec.checkpoint_kind == "url" and not spec.checkpoint_sha256:
        raise ConfigError(f"{where}: a URL checkpoint needs checkpoint_sha256 to be verified.")
    check = getattr(family_module(spec), "validate", None)
    if check is not None:
        try:
            check(spec)
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc}") from exc


def parse_registry(path: Path) -> dict[str, ModelSpec]:
    """Read and validate a models.yml.

    Parameters
    ----------
    path
        The registry file.

    Returns
    -------
    dict
        Specs keyed by model name.

    Raises
    ------
    ConfigError
        For malformed YAML, unknown keys or families, or missing checkpoints.
    """
    document = load_yaml(path, "models") or {}
    specs = {}
    for name, entry in document.items():
        where = f"{path}: model '{name}'"
        if name.endswith(D3_SUFFIX):
            raise ConfigError(d3_name_error(name, str(path)))
        entry = dict(entry)
        entry["training_sets"] = tuple(entry.get("training_sets", ()))
        entry["elements"] = _elements(entry.get("elements", 118), where)
        entry["checkpoint"] = _resolve_checkpoint(str(entry["checkpoint"]), path.parent)
        specs[name] = ModelSpec(name=name, **entry)
        _validate(specs[name], where)
    return specs


@functools.cache
def _registry(path: Path) -> dict[str, ModelSpec]:
    return parse_registry(path)


def registry_path() -> Path:
    """Return the registry file (``MLPEG_MODELS`` overrides the shipped one)."""
    return Path(os.environ.get("MLPEG_MODELS", REGISTRY_FILE))


def all_models() -> dict[str, ModelSpec]:
    """Return every registered model."""
    return _registry(registry_path().resolve())


def d3_name_error(name: str, where: str | None = None) -> str:
    """Return the sentence that refuses a model name ending in ``-D3`` (``where``: a file)."""
    base = name.removesuffix(D3_SUFFIX)
    prefix = f"{where}: model" if where else "Model"
    return (
        f"{prefix} '{name}': D3 is not part of a model's name. Use '{base}': D3(BJ) is "
        "added to it on the benchmarks that declare dispersion: d3 when models.yml says "
        "trained_on_dispersion: false, and mlpeg calc --dispersion d3bj|none runs the other "
        "choice for comparison."
    )


def get_model(name: str) -> ModelSpec:
    """Return a model by name.

    Raises
    ------
    ConfigError
        For an unknown name, and for a name ending in ``-D3`` (D3 is a property of a run).
    """
    models = all_models()
    if name not in models and name.endswith(D3_SUFFIX):
        raise ConfigError(d3_name_error(name))
    if name not in models:
        known = ", ".join(sorted(models))
        raise ConfigError(f"Unknown model '{name}'. Known models: {known}.")
    return models[name]


def default_models() -> list[ModelSpec]:
    """Return the models ``mlpeg run`` uses when none is named."""
    return [get_model(name) for name in DEFAULT_MODELS]


def resolve_device(device: str) -> str:
    """Turn ``auto`` into ``cuda`` when a GPU is visible, else ``cpu``."""
    if device != "auto":
        return device
    try:
        import torch
    except ImportError:
        return "cpu"
    return "cuda" if torch.cuda.is_available() else "cpu"


def family_module(spec: ModelSpec) -> Any:
    """Import the module that builds calculators for ``spec.family``."""
    try:
        return importlib.import_module(f"mlpeg.models.{spec.family}")
    except ModuleNotFoundError as exc:
        if exc.name != f"mlpeg.models.{spec.family}":
            raise
        raise ConfigError(
            f"Model '{spec.name}': family '{spec.family}' has no module mlpeg/models/"
            f"{spec.family}.py."
        ) from exc


def availability(spec: ModelSpec) -> tuple[bool, str]:
    """Return whether the model can be built here, and why not if it cannot."""
    module = family_module(spec)
    check = getattr(module, "availability", None)
    return check(spec) if check else (True, "")


def make_calculator(
    spec: ModelSpec, *, with_d3: bool = False, device: str | None = None
) -> Calculator:
    """Build the ASE calculator for a model, with D3(BJ) added when asked.

    Parameters
    ----------
    spec
        The registry entry.
    with_d3
        Add a D3 dispersion correction (``spec.dispersion`` sets damping, functional,
        cutoff and backend).
    device
        ``auto``, ``cpu`` or ``cuda``; defaults to the entry's device.

    Returns
    -------
    Calculator
        A calculator implementing at least ``energy`` and ``forces``.
    """
    resolved = resolve_device(device or spec.device)
    with _torch_default_dtype_kept():
        calc = family_module(spec).make_calculator(spec, device=resolved)
        if with_d3:
            from mlpeg.models.d3 import add_d3

            calc = add_d3(calc, device=resolved, **spec.dispersion)
    return calc


@contextlib.contextmanager
def _torch_default_dtype_kept() -> Iterator[None]:
    """Undo changes a family's loader makes to torch's global default dtype (orb does)."""
    torch = sys.modules.get("torch")
    before = torch.get_default_dtype() if torch is not None else None
    try:
        yield
    finally:
        torch = sys.modules.get("torch")
        if torch is not None:
            torch.set_default_dtype(before or torch.float32)


def d3_settings(spec: ModelSpec) -> dict[str, Any]:
    """Return the D3 settings used when D3 is added to ``spec``, backend resolved."""
    from mlpeg.models.d3 import resolved_settings

    return resolved_settings(**spec.dispersion)


def checkpoint_provenance(spec: ModelSpec) -> tuple[str | None, str | None]:
    """Return the local weights file of a model and its sha256, where known.

    A checkpoint URL pinned by sha256 is fetched first (the build needs it anyway).
    Weights a family's package downloads itself are known once it has cached them, so
    the first run of such a model records ``(None, None)``, as do families whose weights
    are not one file (the test families).
    """
    from mlpeg.errors import DataError
    from mlpeg.models.checkpoints import fetch_url, file_sha256

    if spec.checkpoint_kind == "url" and spec.checkpoint_sha256:
        try:
            fetch_url(spec.checkpoint, spec.checkpoint_sha256)
        except DataError:
            return None, None
    locate = getattr(family_module(spec), "checkpoint_file", None)
    path = locate(spec) if locate is not None else None
    if path is None or not Path(path).is_file():
        return None, None
    return str(path), file_sha256(Path(path))


def run_provenance(spec: ModelSpec, *, with_d3: bool) -> dict[str, Any]:
    """Return what a run records about its model (stored in ``runs``).

    Returns
    -------
    dict
        ``family``; ``checkpoint`` (the weights file, or the registry's checkpoint when
        no file is known yet) and its ``checkpoint_sha256``; ``d3``, the resolved D3
        settings when D3 is added, else None.
    """
    path, sha256 = checkpoint_provenance(spec)
    return {
        "family": spec.family,
        "checkpoint": path or spec.checkpoint,
        "checkpoint_sha256": sha256,
        "d3": d3_settings(spec) if with_d3 else None,
    }


def element_symbols(spec: ModelSpec) -> list[str]:
    """Return the symbols of the elements a model supports."""
    return [chemical_symbols[z] for z in spec.elements]


def clear_cache() -> None:
    """Forget the cached registry (tests that point MLPEG_MODELS elsewhere call this)."""
    _registry.cache_clear()
