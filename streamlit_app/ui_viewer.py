"""Show a stored structure with 3Dmol.js in an ``st.iframe`` (served locally, no CDN)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import streamlit as st

from mlpeg.appdata import structure_html


def show_structure(frames: Sequence[dict[str, Any]], *, animate: bool, height: int = 420) -> None:
    """Draw ``frames`` (one structure, or an animation) in an iframe.

    3Dmol.js is loaded from Streamlit's static serving when it is on (``mlpeg app`` turns
    it on); otherwise the locally installed file is inlined. Without a local copy the
    viewer is not drawn and the page says how to install it.
    """
    js_path = structure_html.THREEDMOL_FILE
    if not js_path.is_file():
        st.warning(
            f"3Dmol.js {structure_html.THREEDMOL_VERSION} is not installed at {js_path}; "
            "run `make setup` to fetch it from the npm registry."
        )
        return
    if st.get_option("server.enableStaticServing"):
        base = st.get_option("server.baseUrlPath").strip("/")
        url = ("/" + base if base else "") + structure_html.THREEDMOL_URL
        html = structure_html.viewer_html(frames, js_url=url, animate=animate, height=height)
    else:
        html = structure_html.viewer_html(
            frames, inline_js=structure_html.local_js(), animate=animate, height=height
        )
    st.iframe(html, height=height + 10, alt="Structure viewer")
