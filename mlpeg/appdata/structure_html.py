"""Stored structures (and their frames) as a self-contained 3Dmol.js viewer page.

py3Dmol writes the viewer; the 3Dmol.js it loads is the copy ``make setup`` fetched from
the npm registry (``streamlit_app/static/3Dmol-min.js``), served by Streamlit's static
file serving, so a structure renders with no internet. Periodic structures get their unit
cell drawn as twelve edges; a relaxation, trajectory or NEB is shown as an animation of
its frames.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from ase.data import chemical_symbols

from mlpeg.paths import APP_DIR

#: Version of 3Dmol.js that py3Dmol 2.5.5 expects; ``make setup`` fetches this one.
THREEDMOL_VERSION = "2.5.5"
#: Where ``make setup`` puts 3Dmol.js (git-ignored; served at ``/app/static/...``).
THREEDMOL_FILE = APP_DIR / "static" / "3Dmol-min.js"
#: The URL Streamlit serves it at when static serving is on.
THREEDMOL_URL = "/app/static/3Dmol-min.js"


def to_xyz(frame: dict[str, Any], *, comment: str = "") -> str:
    """Return one stored structure row as an XYZ block."""
    numbers = list(frame["numbers"])
    positions = np.asarray(frame["positions"], dtype=float).reshape(-1, 3)
    lines = [str(len(numbers)), comment.replace("\n", " ")]
    for number, (x, y, z) in zip(numbers, positions, strict=True):
        lines.append(f"{chemical_symbols[int(number)]} {x:.6f} {y:.6f} {z:.6f}")
    return "\n".join(lines) + "\n"


def cell_edges(cell: Sequence[float]) -> list[tuple[list[float], list[float]]]:
    """Return the 12 edges of the parallelepiped spanned by a 3×3 cell (row vectors)."""
    vectors = np.asarray(cell, dtype=float).reshape(3, 3)
    corners = {
        (i, j, k): (i * vectors[0] + j * vectors[1] + k * vectors[2]).tolist()
        for i, j, k in itertools.product((0, 1), repeat=3)
    }
    edges = []
    for corner in corners:
        for axis in range(3):
            if corner[axis] == 0:
                other = tuple(1 if a == axis else c for a, c in enumerate(corner))
                edges.append((corners[corner], corners[other]))
    return edges


def is_periodic(frame: dict[str, Any]) -> bool:
    """Return whether a structure has periodic boundaries and a non-zero cell."""
    cell = np.asarray(frame["cell"], dtype=float).reshape(3, 3)
    return any(frame["pbc"]) and abs(np.linalg.det(cell)) > 1e-9


def viewer_html(
    frames: Sequence[dict[str, Any]],
    *,
    js_url: str = THREEDMOL_URL,
    inline_js: str | None = None,
    width: int | str = "100%",
    height: int = 420,
    animate: bool = True,
    interval_ms: int = 400,
) -> str:
    """Return an HTML page that shows a structure (one frame) or an animation of frames.

    Parameters
    ----------
    frames
        Structure rows (``numbers``, ``positions``, ``cell``, ``pbc``), in order.
    js_url
        Where the page loads 3Dmol.js from (the locally served copy by default).
    inline_js
        The text of 3Dmol.js to embed instead of loading it from ``js_url``.
    width, height
        Viewer size (pixels, or a CSS length such as ``"100%"``).
    animate
        Play several frames as a loop (otherwise only the first frame is shown).
    interval_ms
        Time per frame in the animation.
    """
    import py3Dmol

    if not frames:
        raise ValueError("viewer_html needs at least one frame.")
    shown = list(frames) if animate else [frames[0]]
    view = py3Dmol.view(width=width, height=height, js=js_url)
    data = "".join(to_xyz(frame, comment=f"frame {index}") for index, frame in enumerate(shown))
    if len(shown) > 1:
        view.addModelsAsFrames(data, "xyz")
    else:
        view.addModel(data, "xyz")
    view.setStyle({"stick": {"radius": 0.12}, "sphere": {"scale": 0.28}})
    last = shown[-1]
    if is_periodic(last):
        for start, end in cell_edges(last["cell"]):
            view.addLine(
                {
                    "start": dict(zip("xyz", start, strict=True)),
                    "end": dict(zip("xyz", end, strict=True)),
                    "color": "#444444",
                    "dashed": False,
                }
            )
    view.zoomTo()
    view.rotate(25, "x")  # a slight tilt shows depth (and a diatomic along z is not a dot)
    view.rotate(-20, "y")
    if len(shown) > 1:
        view.animate({"loop": "forward", "interval": interval_ms})
    body = view.write_html()
    if inline_js is not None:
        # Define $3Dmol before py3Dmol's loader runs, and point the loader at nothing.
        body = body.replace(json.dumps(js_url)[1:-1], "data:text/javascript,")
        body = f"<script>{inline_js}</script>\n{body}"
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'></head>"
        "<body style='margin:0;padding:0;overflow:hidden'>"
        f"{body}</body></html>"
    )


def local_js() -> str | None:
    """Return the text of the locally installed 3Dmol.js, or ``None`` if it is missing."""
    path = Path(THREEDMOL_FILE)
    return path.read_text(encoding="utf-8") if path.is_file() else None
