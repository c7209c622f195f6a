"""Start the Streamlit leaderboard (``mlpeg app``) on a warehouse, read-only and offline.

``mlpeg app`` becomes the Streamlit server (``exec``): one process, so the signal that stops
``mlpeg app`` (SIGTERM from a process manager, a CI job or ``kill``; SIGINT from Ctrl-C)
reaches the server itself, which closes its sessions and background queries and frees the
port. A parent that started Streamlit as a child and died by SIGTERM left the child
serving an old warehouse.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import NoReturn

from mlpeg.appdata.structure_html import THREEDMOL_FILE
from mlpeg.errors import MlpegError
from mlpeg.paths import APP_DIR

APP_SCRIPT = APP_DIR / "app.py"


def streamlit_command(*, port: int | None, host: str) -> list[str]:
    """Return the ``streamlit run`` command line for the app (static serving on, no telemetry).

    Without ``port``, the caller adds ``--server.port``.
    """
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP_SCRIPT),
        *(["--server.port", str(port)] if port is not None else []),
        "--server.address",
        host,
        "--server.headless",
        "true",
        "--server.enableStaticServing",
        "true",
        "--server.fileWatcherType",
        "none",
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "viewer",
    ]


def app_environment(warehouse: Path, *, sql_page: bool) -> dict[str, str]:
    """Return the environment the app runs with (which warehouse, whether SQL is served)."""
    env = dict(os.environ)
    env["MLPEG_WAREHOUSE"] = str(Path(warehouse).resolve())
    env["MLPEG_APP_NO_SQL"] = "0" if sql_page else "1"
    return env


def launch(
    warehouse: Path, *, port: int = 8501, host: str = "127.0.0.1", sql_page: bool = True
) -> NoReturn:
    """Replace this process with the Streamlit server of the app; return only on error.

    On systems without ``exec`` (Windows) the server runs as a child, waited for, and
    stopped with this process's Ctrl-C.

    Raises
    ------
    MlpegError
        If there is no warehouse to serve or the app is not installed.
    """
    warehouse = Path(warehouse)
    snapshot = warehouse.with_name(f"{warehouse.stem}.snapshot{warehouse.suffix}")
    if not warehouse.is_file() and not snapshot.is_file():
        raise MlpegError(
            f"No warehouse at {warehouse}: run 'mlpeg run' or 'mlpeg ingest' first, "
            "or pass --warehouse."
        )
    if not APP_SCRIPT.is_file():
        raise MlpegError(f"The app is missing: {APP_SCRIPT} does not exist.")
    try:
        import streamlit  # noqa: F401
    except ImportError as exc:
        raise MlpegError("Streamlit is not installed: pip install -e '.[app]'.") from exc
    if not THREEDMOL_FILE.is_file():
        print(
            f"warning: 3Dmol.js is missing ({THREEDMOL_FILE}); structures will not be drawn. "
            "Run 'make setup' to fetch it.",
            file=sys.stderr,
        )
    print(f"Serving the leaderboard on http://{host}:{port} from {warehouse} (read-only).")
    command = streamlit_command(port=port, host=host)
    environment = app_environment(warehouse, sql_page=sql_page)
    sys.stdout.flush()
    sys.stderr.flush()
    if os.name == "posix":
        os.execve(sys.executable, command, environment)
    with subprocess.Popen(command, env=environment) as server:  # pragma: no cover - Windows
        try:
            raise SystemExit(server.wait())
        except KeyboardInterrupt:
            server.terminate()
            raise SystemExit(server.wait()) from None
