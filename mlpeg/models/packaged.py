"""Shared checks for families whose package downloads its own weights (MatterSim, UMA, ...).

Such a family says it cannot run here for one of two plain reasons: its package is not
installed (with why it is not in the main environment, where that is known), or the host
its package downloads weights from cannot be reached and nothing is cached.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from mlpeg.models import checkpoints


def missing_package(import_name: str, pip_name: str, why: str = "") -> tuple[bool, str] | None:
    """Return ``(False, reason)`` when ``import_name`` is not importable, else None.

    Parameters
    ----------
    import_name
        The module the family imports (``mattersim``).
    pip_name
        What to install (``mattersim``).
    why
        Why the main environment does not hold it (a pin conflict), if known.
    """
    try:
        found = importlib.util.find_spec(import_name) is not None
    except ModuleNotFoundError:  # a dotted name whose parent package is missing
        found = False
    if found:
        return None
    reason = f"package {pip_name} is not installed"
    return False, f"{reason} ({why})" if why else reason


def weights_availability(url: str, cached: Path | None) -> tuple[bool, str]:
    """Say whether weights the package fetches from ``url`` are cached or downloadable."""
    return checkpoints.download_availability(url, cached if cached and cached.exists() else None)
