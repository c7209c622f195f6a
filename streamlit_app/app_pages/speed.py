"""Speed: each model's score against its measured cost, with the Pareto front."""

from __future__ import annotations

import streamlit as st
import ui_state

from mlpeg.appdata import insight_figures, insights, queries

ALL_DEVICES = "All devices"


def main() -> None:
    """Draw the speed against accuracy page."""
    st.title("Speed against accuracy")
    st.caption(
        "Each model's score (under the current weights, thresholds and element filter) "
        "against its cost: the median µs per atom of its single-point calculations across "
        "every benchmark, on the device it ran on. A model is on the Pareto front when no "
        "other model is both at least as accurate and at least as fast (and better in one)."
    )
    store = ui_state.store()
    params = ui_state.params()
    titles = {row["category_key"]: row["title"] for row in queries.categories(store).to_pylist()}
    scopes = {"overall": "Overall score", **{key: title for key, title in titles.items()}}
    scope = ui_state.url_choice(
        st.selectbox, "Score", list(scopes), key="speed_scope", format_func=scopes.get
    )
    frame = insights.pareto(store, params, scope).to_pandas()
    missing = insights.unplaced(store, params, scope)
    if frame.empty:
        st.info(
            "No model has both a score here and timed single points (imported predictions "
            "carry no timings)."
        )
        return
    devices = sorted(frame["device"].fillna("unrecorded").unique())
    device = ui_state.url_choice(
        st.selectbox,
        "Device",
        [ALL_DEVICES, *devices],
        key="speed_device",
        help="Speeds on different devices are not comparable; with one device chosen, the "
        "front is drawn among the models timed on it.",
    )
    front = "is_pareto"
    frame = frame.assign(device=frame["device"].fillna("unrecorded"))
    if device != ALL_DEVICES:
        frame = frame[frame["device"] == device]
        front = "is_pareto_on_device"
    st.plotly_chart(
        insight_figures.pareto_figure(frame, front=front, score_title=scopes[scope]),
        key="pareto_chart",
        config={"displayModeBar": False},
    )
    table = frame.rename(
        columns={
            "model_key": "Model",
            "device": "Device",
            "score": "Score",
            "us_per_atom": "µs per atom",
            "n_timed_structures": "Timed structures",
            front: "On the front",
        }
    )[["Model", "Device", "Score", "µs per atom", "Timed structures", "On the front"]]
    st.dataframe(
        table,
        hide_index=True,
        key="pareto_table",
        column_config={
            "Score": st.column_config.NumberColumn(format="%.3f"),
            "µs per atom": st.column_config.NumberColumn(format="%,.0f"),
        },
    )
    if missing:
        st.caption(f"Not placed (no score here, or no timed single points): {', '.join(missing)}.")


main()
