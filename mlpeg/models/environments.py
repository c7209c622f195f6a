"""Environments of their own for model families whose packages conflict with the main one.

``models.yml`` may define named environments under its top-level ``environments`` key,
and a model names the one it runs in (``environment: sevenn-0.13``). An environment is
either a requirements set that ``mlpeg env build <name>`` installs into a venv of its own
(under ``$MLPEG_ENVS``, default ``~/.cache/mlpeg/envs/<name>``), or an existing
interpreter (``python: /path/to/python``). The calc engine then runs that model in a
worker process started with the environment's interpreter (:mod:`mlpeg.calc.isolate`);
the parent writes the landing parts as for any model.

How the worker imports mlpeg: the environment's interpreter gets a folder holding only a
link to this ``mlpeg`` package on its ``PYTHONPATH`` (so the worker runs the very code
the parent runs, and nothing else of the main environment leaks in), and the
environment holds mlpeg's light worker dependencies (:data:`WORKER_DISTRIBUTIONS`:
numpy, ase, pyarrow, PyYAML, jsonschema, and spglib and phonopy for the materials task
kinds). ``env build`` pins those to the versions
installed here, so the tasks and rows pickled between the two processes read back the
same; an existing interpreter must provide them itself, or is reported as broken.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
import os
import pickle
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlpeg.errors import ConfigError, MlpegError
from mlpeg.models.sources import RegistrySource, registry_sources
from mlpeg.paths import PACKAGE_DIR, cache_dir

if TYPE_CHECKING:
    from mlpeg.models.registry import ModelSpec

#: What mlpeg's worker imports, as ``import name: distribution`` (see the module docstring).
WORKER_DISTRIBUTIONS = {
    "numpy": "numpy",
    "ase": "ase",
    "pyarrow": "pyarrow",
    "yaml": "PyYAML",
    "jsonschema": "jsonschema",
    # the task kinds the worker runs: elastic tensors standardise cells, phonons use phonopy
    "spglib": "spglib",
    "phonopy": "phonopy",
}
#: The oldest Python mlpeg's code runs on.
MIN_PYTHON = (3, 11)
#: Written last by a build: the requirements it installed.
MARKER = "mlpeg-environment.json"
#: Seconds a probe of an environment may take (imports only, no model is built).
PROBE_TIMEOUT_S = 300.0


class BrokenEnvironment(MlpegError):
    """An environment cannot run its models: not built, no interpreter, missing packages."""


@dataclass(frozen=True)
class Environment:
    """A named environment from ``models.yml``.

    Parameters
    ----------
    name
        Its key under ``environments``.
    requirements
        pip requirement strings ``env build`` installs (exact pins).
    python
        An existing interpreter instead of a built venv.
    description
        What it is for.
    """

    name: str
    requirements: tuple[str, ...] = ()
    python: str | None = None
    description: str | None = None

    @property
    def managed(self) -> bool:
        """Whether mlpeg builds it (a requirements set) rather than using an interpreter."""
        return self.python is None

    @property
    def folder(self) -> Path:
        """The venv ``env build`` creates (meaningful for managed environments)."""
        return envs_dir() / self.name

    @property
    def interpreter(self) -> Path:
        """The Python that runs this environment's workers."""
        if self.python is not None:
            return Path(self.python)
        return self.folder / "bin" / "python"

    def label(self) -> str:
        """Short text for tables: the name and where its interpreter is."""
        return f"{self.name} ({self.interpreter})"


def envs_dir() -> Path:
    """Return where built environments live (``MLPEG_ENVS``, default ``<cache>/envs``)."""
    return Path(os.environ.get("MLPEG_ENVS", cache_dir() / "envs"))


def parse_environments(section: Any, where: str) -> dict[str, Environment]:
    """Turn the ``environments`` section of a models.yml into :class:`Environment` objects.

    Raises
    ------
    ConfigError
        When an entry names neither requirements nor an interpreter, or both.
    """
    environments = {}
    for name, entry in (section or {}).items():
        entry = dict(entry or {})
        here = f"{where}: environment '{name}'"
        if bool(entry.get("requirements")) == bool(entry.get("python")):
            raise ConfigError(f"{here}: give either requirements or python, not both or neither.")
        python = entry.get("python")
        if python is not None and not Path(python).expanduser().is_absolute():
            raise ConfigError(f"{here}: python must be an absolute path, not '{python}'.")
        environments[name] = Environment(
            name=name,
            requirements=tuple(str(r) for r in entry.get("requirements", ())),
            python=str(Path(python).expanduser()) if python else None,
            description=entry.get("description"),
        )
    return environments


def worker_pins() -> list[str]:
    """Return mlpeg's worker dependencies pinned to the versions installed here."""
    pins = []
    for distribution in WORKER_DISTRIBUTIONS.values():
        try:
            pins.append(f"{distribution}=={importlib.metadata.version(distribution)}")
        except importlib.metadata.PackageNotFoundError:  # pragma: no cover - mlpeg needs them
            pins.append(distribution)
    return pins


def _requirements_digest(environment: Environment) -> str:
    text = "\n".join([*environment.requirements, *worker_pins()])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def build(
    environment: Environment,
    *,
    python: str | None = None,
    force: bool = False,
    run: Callable[[list[str]], None] | None = None,
) -> Path:
    """Create the environment's venv and install its requirements and mlpeg's worker pins.

    A new venv is built under a temporary name and renamed into place when pip succeeds,
    so a failed or interrupted build leaves no half environment. An environment already
    built from other requirements is updated in place (pip installs what changed; nothing
    is removed); ``force`` builds it afresh.

    Parameters
    ----------
    environment
        A managed environment (one with requirements).
    python
        The interpreter the venv is created from (default: the one running mlpeg).
    force
        Rebuild even when the built environment has the same requirements.
    run
        Runs one command (default: ``subprocess.run`` with output shown, checked).

    Returns
    -------
    Path
        The environment's folder.
    """
    if not environment.managed:
        raise BrokenEnvironment(
            f"Environment '{environment.name}' uses an existing interpreter "
            f"({environment.python}); there is nothing to build."
        )
    run = run or _run_shown
    digest = _requirements_digest(environment)
    built = _built_digest(environment)
    if not force and built == digest:
        return environment.folder
    if not force and built is not None:  # update in place
        staging = environment.folder
    else:
        staging = environment.folder.with_name(environment.name + ".building")
        shutil.rmtree(staging, ignore_errors=True)
        staging.parent.mkdir(parents=True, exist_ok=True)
        run([python or _base_python(), "-m", "venv", str(staging)])
    run(
        [
            str(staging / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            *environment.requirements,
            *worker_pins(),
        ]
    )
    (staging / MARKER).write_text(
        json.dumps(
            {
                "name": environment.name,
                "requirements": list(environment.requirements),
                "worker": worker_pins(),
                "digest": digest,
            },
            indent=2,
        )
        + "\n"
    )
    if staging == environment.folder:
        return environment.folder
    if environment.folder.exists():
        shutil.rmtree(environment.folder)
    staging.rename(environment.folder)  # the venv's scripts keep the staging path in their
    # first line; mlpeg only ever runs `bin/python -m ...`, which does not read it
    return environment.folder


def _base_python() -> str:
    """Return the interpreter a new venv is made from: this one's base, not a venv's."""
    return getattr(sys, "_base_executable", None) or sys.executable


def _run_shown(command: list[str]) -> None:
    try:
        subprocess.run(command, check=True)
    except FileNotFoundError as exc:
        raise BrokenEnvironment(f"Cannot run {command[0]}: {exc.strerror}.") from exc
    except subprocess.CalledProcessError as exc:
        raise BrokenEnvironment(
            f"Building the environment failed: `{' '.join(command[:4])} ...` "
            f"exited with code {exc.returncode} (its output is above)."
        ) from exc


def _built_digest(environment: Environment) -> str | None:
    try:
        return json.loads((environment.folder / MARKER).read_text()).get("digest")
    except (OSError, ValueError):
        return None


def source_path() -> Path:
    """Return a folder holding only a link to this mlpeg package (the workers' PYTHONPATH).

    The folder that holds ``mlpeg`` may hold other packages too (a site-packages), which
    must not shadow an environment's own; a link keeps the worker on exactly this code.
    """
    digest = hashlib.sha256(str(PACKAGE_DIR).encode()).hexdigest()[:12]
    folder = envs_dir() / ".source" / digest
    link = folder / "mlpeg"
    if not link.is_symlink() or link.resolve() != PACKAGE_DIR:
        folder.mkdir(parents=True, exist_ok=True)
        temporary = folder / f".mlpeg.{os.getpid()}"
        temporary.unlink(missing_ok=True)
        temporary.symlink_to(PACKAGE_DIR, target_is_directory=True)
        temporary.replace(link)  # atomic, so concurrent workers never see a missing link
    return folder


def worker_command(python: str | Path, *arguments: str) -> list[str]:
    """Return the command that runs mlpeg's worker module with ``python``."""
    # -P: the working directory is not put on sys.path (it could shadow the environment's)
    return [str(python), "-P", "-m", "mlpeg.calc.worker", *arguments]


def worker_environ(*, isolated: bool) -> dict[str, str]:
    """Return the process environment of a worker.

    Parameters
    ----------
    isolated
        True for another environment's interpreter: its ``PYTHONPATH`` holds only the
        link to mlpeg, and user site-packages are off. False (the main interpreter): the
        link goes before the current ``PYTHONPATH``.
    """
    environ = dict(os.environ)
    source = str(source_path())
    if isolated:
        environ["PYTHONPATH"] = source
        environ["PYTHONNOUSERSITE"] = "1"
        environ.pop("PYTHONHOME", None)
    else:
        environ["PYTHONPATH"] = os.pathsep.join(
            part for part in (source, environ.get("PYTHONPATH", "")) if part
        )
    return environ


@dataclass(frozen=True)
class Probe:
    """What an environment's interpreter reported about itself and some models.

    ``error`` is set when the environment cannot run anything (one sentence); otherwise
    ``models`` maps each model name to ``{available, why}`` (and, when asked,
    ``checkpoint`` and ``checkpoint_sha256``), and ``versions`` holds package versions.
    """

    environment: Environment
    error: str | None = None
    python_version: str | None = None
    versions: dict[str, str] | None = None
    models: dict[str, dict[str, Any]] | None = None


def _not_ready(environment: Environment) -> str | None:
    """Why the environment's interpreter cannot be started at all, or None."""
    python = environment.interpreter
    if environment.managed:
        if not python.exists():
            return (
                f"environment '{environment.name}' is not built: run "
                f"`mlpeg env build {environment.name}` (it goes to {environment.folder})"
            )
        if _built_digest(environment) != _requirements_digest(environment):
            return (
                f"environment '{environment.name}' was built from other requirements than "
                f"models.yml lists now: run `mlpeg env build {environment.name}` again"
            )
    elif not python.exists():
        return f"environment '{environment.name}': interpreter {python} does not exist"
    elif not os.access(python, os.X_OK):
        return f"environment '{environment.name}': interpreter {python} is not executable"
    return None


def probe(
    environment: Environment, specs: Sequence[ModelSpec], *, provenance: bool = False
) -> Probe:
    """Ask the environment's interpreter whether it can run ``specs`` (one subprocess).

    Parameters
    ----------
    environment
        The environment.
    specs
        Models that run in it.
    provenance
        Also return each model's checkpoint file and its sha256, and package versions.

    Returns
    -------
    Probe
        With ``error`` set (one sentence) when the environment is broken.
    """
    reason = _not_ready(environment)
    if reason:
        return Probe(environment, error=reason)
    request = pickle.dumps({"specs": list(specs), "provenance": provenance})
    try:
        done = subprocess.run(
            worker_command(environment.interpreter, "probe"),
            input=request,
            capture_output=True,
            env=worker_environ(isolated=True),
            timeout=PROBE_TIMEOUT_S,
            check=False,
        )
    except OSError as exc:
        return Probe(
            environment,
            error=f"environment '{environment.name}': cannot start {environment.interpreter} "
            f"({exc.strerror})",
        )
    except subprocess.TimeoutExpired:
        return Probe(
            environment,
            error=f"environment '{environment.name}': {environment.interpreter} did not "
            f"answer within {PROBE_TIMEOUT_S:g} s",
        )
    answer = _last_json_line(done.stdout)
    if done.returncode != 0 or answer is None:
        tail = done.stderr.decode(errors="replace").strip().splitlines()
        last = tail[-1] if tail else f"exit code {done.returncode}"
        return Probe(
            environment,
            error=f"environment '{environment.name}': {environment.interpreter} failed to "
            f"start mlpeg's worker ({last})",
        )
    version = tuple(answer.get("python_version_info", ()))[:2]
    if version < MIN_PYTHON:
        return Probe(
            environment,
            error=f"environment '{environment.name}': {environment.interpreter} is Python "
            f"{answer.get('python_version')}; mlpeg's worker needs "
            f"{'.'.join(map(str, MIN_PYTHON))} or newer",
        )
    if answer.get("missing"):
        missing = [WORKER_DISTRIBUTIONS.get(name, name) for name in answer["missing"]]
        return Probe(
            environment,
            error=f"environment '{environment.name}': {environment.interpreter} lacks "
            f"{', '.join(missing)}, which mlpeg's worker needs (pip install "
            + " ".join(pin for pin in worker_pins() if pin.split("==")[0] in missing)
            + ")",
        )
    return Probe(
        environment,
        python_version=answer.get("python_version"),
        versions=answer.get("versions"),
        models=answer.get("models", {}),
    )


def _last_json_line(stdout: bytes) -> dict[str, Any] | None:
    """Return the worker's answer: its last JSON line (libraries may print before it)."""
    for line in reversed(stdout.decode(errors="replace").splitlines()):
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                return None
    return None


#: The top-level key of models.yml that defines environments (every other key is a model).
ENVIRONMENTS_KEY = "environments"


def merged_environments(sources: tuple[RegistrySource, ...]) -> dict[str, Environment]:
    """Return the environments every registry source defines, by name.

    Raises
    ------
    ConfigError
        When two sources define an environment of the same name.
    """
    environments: dict[str, Environment] = {}
    origin: dict[str, str] = {}
    for source in sources:
        section = source.document.get(ENVIRONMENTS_KEY)
        for name, environment in parse_environments(section, source.label).items():
            if name in origin:
                raise ConfigError(
                    f"Environment '{name}' is defined twice: in {origin[name]} and in "
                    f"{source.label}; rename one of them."
                )
            origin[name] = source.label
            environments[name] = environment
    return environments


@functools.cache
def _environments(sources: tuple[RegistrySource, ...]) -> dict[str, Environment]:
    return merged_environments(sources)


def all_environments() -> dict[str, Environment]:
    """Return the environments the registries define, by name."""
    return _environments(registry_sources())


def environment_of(spec: ModelSpec) -> Environment | None:
    """Return the environment a model runs in, or None for this one."""
    if not spec.environment:
        return None
    environments = all_environments()
    if spec.environment not in environments:
        raise ConfigError(
            f"Model '{spec.name}' names environment '{spec.environment}', which models.yml "
            f"does not define (defined: {', '.join(sorted(environments)) or 'none'})."
        )
    return environments[spec.environment]


_PROBES: dict[tuple[Environment, tuple[str, ...]], Probe] = {}


def _cached_probe(environment: Environment, specs: Sequence[ModelSpec]) -> Probe:
    key = (environment, tuple(spec.name for spec in specs))
    if key not in _PROBES:
        _PROBES[key] = probe(environment, specs)
    return _PROBES[key]


def availability(specs: Iterable[ModelSpec]) -> dict[str, tuple[bool, str]]:
    """Return ``(runs here, why not)`` for models in other environments, one probe each.

    Models of the main environment are left out of the answer.
    """
    grouped: dict[Environment, list[ModelSpec]] = {}
    for spec in specs:
        environment = environment_of(spec)
        if environment is not None:
            grouped.setdefault(environment, []).append(spec)
    answer: dict[str, tuple[bool, str]] = {}
    for environment, members in grouped.items():
        result = _cached_probe(environment, tuple(members))
        for spec in members:
            if result.error:
                answer[spec.name] = (False, result.error)
            else:
                found = (result.models or {}).get(spec.name, {})
                answer[spec.name] = (bool(found.get("available")), found.get("why", ""))
    return answer


def check(specs: Iterable[ModelSpec]) -> tuple[list[ModelSpec], list[str]]:
    """Split models into those that can run and one error line per broken environment.

    A model of the main environment always passes here (its own failures become rows).
    A model whose environment is broken, or that its environment cannot build (its
    package is missing there), is held back, and its environment gets one line naming
    the reason and every model held back.
    """
    specs = list(specs)
    verdicts = availability(specs)
    runnable: list[ModelSpec] = []
    held: dict[tuple[str | None, str], list[str]] = {}
    for spec in specs:
        ok, why = verdicts.get(spec.name, (True, ""))
        if ok:
            runnable.append(spec)
        else:
            held.setdefault((spec.environment, why), []).append(spec.name)
    errors = []
    for (name, why), names in held.items():
        prefix = "" if why.startswith("environment '") else f"environment '{name}': "
        errors.append(f"{prefix}{why}; not run: {', '.join(names)}.")
    return runnable, errors


def describe(spec: ModelSpec) -> Probe:
    """Probe one model's environment for its run's provenance (checkpoint, versions).

    Raises
    ------
    BrokenEnvironment
        When the environment is broken.
    """
    environment = environment_of(spec)
    assert environment is not None
    key = (environment, (spec.name, "+provenance"))
    if key not in _PROBES:  # once per process: every benchmark of a calc shares it
        _PROBES[key] = probe(environment, [spec], provenance=True)
    result = _PROBES[key]
    if result.error:
        raise BrokenEnvironment(result.error[0].upper() + result.error[1:] + ".")
    return result


def clear_cache() -> None:
    """Forget cached environments and probes (after a build, or in tests)."""
    _environments.cache_clear()
    _PROBES.clear()
