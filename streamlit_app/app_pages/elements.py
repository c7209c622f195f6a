"""Elements: the element filter as a periodic table (click an element to exclude it)."""

from __future__ import annotations

import streamlit as st
import ui_state

from mlpeg.appdata import figures, queries


def _toggle(key: str) -> None:
    state = st.session_state.get(key) or {}
    selected = state.get("selection", {}).get("points", [])
    if not selected or not selected[0].get("customdata"):
        return
    symbol = selected[0]["customdata"][0]
    excluded = list(st.session_state.get(ui_state.EXCLUDED_KEY) or [])
    if symbol in excluded:
        excluded.remove(symbol)
    else:
        excluded.append(symbol)
    st.session_state[ui_state.EXCLUDED_KEY] = excluded
    # A new chart key clears the chart's own selection, so the next click toggles again.
    st.session_state["periodic_version"] = st.session_state.get("periodic_version", 0) + 1


def _clear() -> None:
    st.session_state[ui_state.EXCLUDED_KEY] = []


def main() -> None:
    """Draw the element filter page."""
    st.title("Element filter")
    st.caption(
        "Excluding an element drops every point whose structure contains it (not whole "
        "benchmarks), and every score is recomputed. Click an element to exclude it or to "
        "bring it back; the sidebar list is the same filter."
    )
    store = ui_state.store()
    params = ui_state.params()
    counts = {
        row["element"]: row["n_structures"]
        for row in queries.element_counts(store, params).to_pylist()
    }
    excluded = params.excluded_elements
    key = f"periodic::{st.session_state.get('periodic_version', 0)}"
    st.plotly_chart(
        figures.periodic_figure(counts, excluded),
        key=key,
        on_select=lambda: _toggle(key),
        selection_mode="points",
        config={"displayModeBar": False},
    )
    n_predictions, n_filtered = queries.filtered_count(store, params)
    if excluded:
        st.write(
            f"Excluded: **{', '.join(excluded)}** — {n_filtered:,} of {n_predictions:,} "
            "predictions are filtered."
        )
        st.button("Clear the filter", on_click=_clear)
    else:
        st.write(f"No element excluded; {n_predictions:,} predictions are scored.")
    st.caption("Blue: in the warehouse · grey: not present · red: excluded.")


main()
