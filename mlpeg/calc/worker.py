"""The model worker process: ``python -m mlpeg.calc.worker serve FD`` or ``... probe``.

Started by :class:`mlpeg.calc.isolate.IsolatedEvaluator` (``serve``: evaluate tasks sent
over the connection on file descriptor FD) and by :func:`mlpeg.models.environments.probe`
(``probe``: read pickled model specs on stdin, print one JSON line saying whether each can
run here). It may run under another environment's interpreter, so this module imports
only the standard library until it has checked that mlpeg's worker dependencies are
there: a missing one is reported as such, not as a traceback.
"""

from __future__ import annotations

import importlib.util
import json
import pickle
import sys
from typing import Any

#: Import names mlpeg's worker needs (mirrors ``environments.WORKER_DISTRIBUTIONS``).
WORKER_IMPORTS = ("numpy", "ase", "pyarrow", "yaml", "jsonschema")


def missing_imports() -> list[str]:
    """Return the worker dependencies this interpreter cannot import."""
    return [name for name in WORKER_IMPORTS if importlib.util.find_spec(name) is None]


def serve(fd: int) -> None:
    """Receive the evaluator's options on connection ``fd``, then answer task groups."""
    from multiprocessing.connection import Connection

    from mlpeg.calc.isolate import serve_connection

    connection = Connection(fd)
    try:
        options, parent_pid = connection.recv()
        serve_connection(connection, options, parent_pid)
    except (EOFError, BrokenPipeError, ConnectionResetError, KeyboardInterrupt):
        return  # the parent went away or was interrupted (Ctrl-C reaches both): stop quietly


def probe(request: dict[str, Any]) -> dict[str, Any]:
    """Answer whether each spec in ``request`` can run here (and its provenance if asked)."""
    from mlpeg.calc.runner import package_versions
    from mlpeg.models.registry import availability_here, checkpoint_provenance, d3_settings

    models = {}
    for spec in request["specs"]:
        try:
            available, why = availability_here(spec)
        except Exception as exc:  # a family module that cannot even be imported here
            available, why = False, f"{type(exc).__name__}: {exc}"
        entry: dict[str, Any] = {"available": available, "why": why}
        if request.get("provenance") and available:
            entry["checkpoint"], entry["checkpoint_sha256"] = checkpoint_provenance(spec)
            entry["d3"] = d3_settings(spec)  # the backend is the one installed there
        models[spec.name] = entry
    return {"models": models, "versions": package_versions()}


def main(argv: list[str]) -> int:
    """Run the worker command in ``argv`` (``serve FD`` or ``probe``)."""
    if argv[:1] == ["serve"] and len(argv) == 2:
        serve(int(argv[1]))
        return 0
    if argv != ["probe"]:
        print("usage: python -m mlpeg.calc.worker serve FD | probe", file=sys.stderr)
        return 2
    answer: dict[str, Any] = {
        "python_version": sys.version.split()[0],
        "python_version_info": list(sys.version_info[:3]),
        "executable": sys.executable,
        "missing": missing_imports(),
    }
    if sys.version_info >= (3, 11) and not answer["missing"]:
        answer.update(probe(pickle.loads(sys.stdin.buffer.read())))
    print(json.dumps(answer))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
