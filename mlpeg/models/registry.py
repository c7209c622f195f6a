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
from mlpeg.models.capabilities import Accepts, unsupported_reason
from mlpeg.models.environments import (
    ENVIRONMENTS_KEY,
    Environment,
    all_environments,
    merged_environments,
    parse_environments,
)
from mlpeg.models.sources import RegistrySource, registry_sources

#: Former suffix of model keys with D3 added; now refused (D3 is a property of the run).
D3_SUFFIX = "-D3"
#: What ``mlpeg run`` compares when no model is named: both ship their weights in the wheel,
#: and the two keep ``make run`` to about ten minutes of calc on two cores. ``all-offline``
#: (every model that runs here, :func:`offline_models`) is the side-by-side comparison.
DEFAULT_MODELS = ("chgnet-0.3.0", "sevennet-0")
#: Names that stand for a set of models on the command line.
MODEL_SETS = ("default", "all-offline")
#: What a registered model is: a machine-learned potential, or a baseline method (xTB).
MODEL_KINDS = ("mlip", "baseline")


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
    factory: str | None = None
    licence: str | None = None
    paper: str | None = None
    n_params: int | None = None
    notes: str | None = None
    test_only: bool = False
    options: dict[str, Any] = field(default_factory=dict)
    kind: str = "mlip"
    accepts: Accepts = field(default_factory=Accepts)
    environment: str | None = None

    def supports(self, numbers: Any) -> bool:
        """Return whether every atomic number in ``numbers`` is covered by the model."""
        return set(int(z) for z in numbers) <= set(self.elements)

    def unsupported_reason(self, atoms: Any) -> str | None:
        """Return why the model cannot compute ``atoms`` as given, or None when it can.

        Elements outside its coverage come first, then what :class:`Accepts` rules out
        (a charge, an open shell, an external field, a periodic cell).
        """
        if not self.supports(atoms.numbers):
            covered = set(element_symbols(self))
            missing = sorted(set(atoms.get_chemical_symbols()) - covered)
            return f"elements not supported by {self.name}: {', '.join(missing)}"
        return unsupported_reason(self.accepts, atoms, self.name)

    @property
    def is_baseline(self) -> bool:
        """Whether the model is a baseline method (xTB), not a machine-learned potential."""
        return self.kind == "baseline"

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


def _family_accepts(family: Any, where: str) -> Accepts:
    """Return what a family's models accept unless an entry says otherwise."""
    try:
        module = importlib.import_module(f"mlpeg.models.{family}")
    except ModuleNotFoundError as exc:
        if exc.name != f"mlpeg.models.{family}":
            raise
        raise ConfigError(
            f"{where}: family '{family}' has no module mlpeg/models/{family}.py."
        ) from exc
    return getattr(module, "ACCEPTS", Accepts())


def _validate(spec: ModelSpec, where: str) -> None:
    if spec.checkpoint_kind == "url" and not spec.checkpoint_sha256:
        raise ConfigError(f"{where}: a URL checkpoint needs checkpoint_sha256 to be verified.")
    check = getattr(family_module(spec), "validate", None)
    if check is not None:
        try:
            check(spec)
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc}") from exc


def _parse_entries(
    document: dict[str, Any], label: str, folder: Path, environments: dict[str, Environment]
) -> dict[str, ModelSpec]:
    """Turn the model entries of one source into specs (``environments``: all defined)."""
    specs = {}
    for name, entry in document.items():
        if name == ENVIRONMENTS_KEY:
            continue
        where = f"{label}: model '{name}'"
        if name.endswith(D3_SUFFIX):
            raise ConfigError(d3_name_error(name, label))
        entry = dict(entry)
        entry["training_sets"] = tuple(entry.get("training_sets", ()))
        entry["elements"] = _elements(entry.get("elements", 118), where)
        if entry.get("checkpoint") is None:  # family python: the factory names the model
            entry["checkpoint"] = str(entry.get("factory") or "")
        entry["checkpoint"] = _resolve_checkpoint(str(entry["checkpoint"]), folder)
        if entry.get("kind", "mlip") not in MODEL_KINDS:
            raise ConfigError(f"{where}: kind must be one of {', '.join(MODEL_KINDS)}.")
        entry["accepts"] = _family_accepts(entry.get("family"), where).updated(
            entry.get("accepts"), where
        )
        specs[name] = ModelSpec(name=name, **entry)
        if specs[name].environment and specs[name].environment not in environments:
            defined = ", ".join(sorted(environments)) or "none"
            raise ConfigError(
                f"{where}: environment '{specs[name].environment}' is not defined under "
                f"'{ENVIRONMENTS_KEY}' (defined: {defined})."
            )
        _validate(specs[name], where)
    return specs


def parse_registry(path: Path) -> dict[str, ModelSpec]:
    """Read and validate one models.yml on its own.

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
    document = dict(load_yaml(path, "models") or {})
    environments = parse_environments(document.get(ENVIRONMENTS_KEY), str(path))
    return _parse_entries(document, str(path), path.parent, environments)


def merge_sources(sources: tuple[RegistrySource, ...]) -> dict[str, ModelSpec]:
    """Merge the entries of several sources into one registry.

    Raises
    ------
    ConfigError
        When a model (or an environment) is defined in two sources, naming both.
    """
    environments = merged_environments(sources)
    specs: dict[str, ModelSpec] = {}
    origin: dict[str, str] = {}
    for source in sources:
        for name in source.document:
            if name != ENVIRONMENTS_KEY and name in origin:
                raise ConfigError(
                    f"Model '{name}' is defined twice: in {origin[name]} and in "
                    f"{source.label}; rename one of them."
                )
            origin[name] = source.label
        specs.update(_parse_entries(source.document, source.label, source.folder, environments))
    return specs


@functools.cache
def _merged(sources: tuple[RegistrySource, ...]) -> dict[str, ModelSpec]:
    return merge_sources(sources)


def all_models() -> dict[str, ModelSpec]:
    """Return every registered model: shipped, user registries and installed packages."""
    return _merged(registry_sources())


def model_origin(name: str) -> str:
    """Return where a model is defined: a registry file or a package's entry point."""
    for source in registry_sources():
        if name in source.document and name != ENVIRONMENTS_KEY:
            return source.label
    raise ConfigError(f"Unknown model '{name}'.")


def get_environment(name: str) -> Environment:
    """Return an environment by name, or raise one clear error naming the known ones."""
    environments = all_environments()
    if name not in environments:
        known = ", ".join(sorted(environments)) or "none"
        raise ConfigError(f"Unknown environment '{name}'. Known environments: {known}.")
    return environments[name]


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


def offline_models() -> list[ModelSpec]:
    """Return every registered model (not test-only) that can run on this machine now."""
    return [spec for spec in all_models().values() if not spec.test_only and availability(spec)[0]]


def select_models(names: list[str] | None) -> list[ModelSpec]:
    """Resolve model names from the command line; ``default`` and ``all-offline`` are sets.

    Parameters
    ----------
    names
        Model names or set names; none gives the default set.

    Returns
    -------
    list
        The models, each once, in the order named.
    """
    selected: dict[str, ModelSpec] = {}
    for name in names or ["default"]:
        if name == "default":
            found = default_models()
        elif name == "all-offline":
            found = offline_models()
            if not found:
                raise ConfigError("No registered model can run here ('mlpeg models' says why).")
        else:
            found = [get_model(name)]
        selected.update((spec.name, spec) for spec in found)
    return list(selected.values())


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
    """Return whether the model can be built here, and why not if it cannot.

    A model of another environment is asked about in that environment (a subprocess).
    """
    if spec.environment:
        from mlpeg.models.environments import availability as in_environment

        return in_environment([spec])[spec.name]
    return availability_here(spec)


def availability_here(spec: ModelSpec) -> tuple[bool, str]:
    """Return whether this interpreter can build the model (its environment ignored)."""
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


def preflight(spec: ModelSpec, *, device: str | None = None) -> None:
    """Check a model on its first use, before a run writes anything (family ``python``).

    Families whose calculators come from outside mlpeg define ``preflight``; it raises
    :class:`ConfigError` in one sentence. Models of another environment are checked there.
    """
    check = getattr(family_module(spec), "preflight", None)
    if check is not None and not spec.environment:
        with _torch_default_dtype_kept():
            check(spec, device=resolve_device(device or spec.device))


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


def run_provenance(spec: ModelSpec, *, with_d3: bool, located: bool = True) -> dict[str, Any]:
    """Return what a run records about its model (stored in ``runs``).

    Parameters
    ----------
    spec
        The model.
    with_d3
        Whether D3 is added.
    located
        Look for the weights file here; False for a model of another environment, whose
        weights are located there.

    Returns
    -------
    dict
        ``family``; ``checkpoint`` (the weights file, or the registry's checkpoint when
        no file is known yet) and its ``checkpoint_sha256``; ``d3``, the resolved D3
        settings when D3 is added, else None.
    """
    path, sha256 = checkpoint_provenance(spec) if located else (None, None)
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
    from mlpeg.models import sources
    from mlpeg.models.environments import clear_cache as clear_probes

    sources.clear_cache()
    _merged.cache_clear()
    clear_probes()
