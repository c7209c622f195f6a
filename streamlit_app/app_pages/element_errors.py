"""Element errors: a model's error per element across every benchmark, as a periodic table."""

from __future__ import annotations

import streamlit as st
import ui_state

from mlpeg.appdata import insight_figures, insights, queries

ELEMENT_KEY = "element_errors_element"


def _clicked(chart_key: str) -> None:
    """Select the element clicked in the heat map (and clear the chart's own selection)."""
    state = st.session_state.get(chart_key) or {}
    selected = state.get("selection", {}).get("points", [])
    if selected and selected[0].get("customdata"):
        st.session_state[ELEMENT_KEY] = selected[0]["customdata"][0]
        st.query_params[ELEMENT_KEY] = selected[0]["customdata"][0]
    st.session_state["element_errors_version"] = (
        st.session_state.get("element_errors_version", 0) + 1
    )


def main() -> None:
    """Draw the element errors page."""
    st.title("Errors per element")
    st.caption(
        "A point's relative error is its |pred − ref| divided by the mean absolute error of "
        "every model on the same benchmark and quantity, so 1 means as wrong as the models "
        "are on average there, and benchmarks of any unit compare. An element counts for a "
        "point when one of the point's structures holds it. Per element: the mean over "
        "benchmarks of each benchmark's mean relative error. Click an element for its "
        "worst points."
    )
    store = ui_state.store()
    params = ui_state.params()
    models = queries.models(store, params).column("model_key").to_pylist()
    if not models:
        st.info("No model has run yet.")
        return
    model = ui_state.url_choice(st.selectbox, "Model", models, key="element_errors_model")
    errors = insights.element_errors(store, params, model).to_pandas()
    if errors.empty:
        st.info(f"{model} has no ok point with a reference yet.")
        return
    by_element = dict(zip(errors["element"], errors["mean_relative_error"], strict=True))
    counts = dict(zip(errors["element"], errors["n_points"], strict=True))
    chart_key = f"element_errors_chart::{st.session_state.get('element_errors_version', 0)}"
    st.plotly_chart(
        insight_figures.element_heatmap(by_element, counts),
        key=chart_key,
        on_select=lambda: _clicked(chart_key),
        selection_mode="points",
        config={"displayModeBar": False},
    )
    elements = list(errors["element"])
    element = ui_state.url_choice(
        st.selectbox, "Element", elements, key=ELEMENT_KEY, help="Or click it above."
    )
    left, right = st.columns([2, 3])
    with left:
        st.dataframe(
            errors.rename(
                columns={
                    "element": "Element",
                    "n_benchmarks": "Benchmarks",
                    "n_points": "Points",
                    "mean_relative_error": "Relative error",
                    "worst_benchmark_key": "Worst benchmark",
                }
            )[["Element", "Relative error", "Points", "Benchmarks", "Worst benchmark"]],
            hide_index=True,
            key="element_errors_table",
            column_config={"Relative error": st.column_config.NumberColumn(format="%.2f")},
        )
    with right:
        st.markdown(f"**{element}** in each benchmark")
        st.dataframe(
            insights.element_benchmarks(store, params, model, element).to_pandas(),
            hide_index=True,
            key="element_benchmarks_table",
        )
    st.subheader(f"Worst points of {model} holding {element}")
    st.dataframe(
        insights.worst_points(store, params, model, element).to_pandas(),
        hide_index=True,
        key="element_worst_points",
        column_config={"relative_error": st.column_config.NumberColumn(format="%.2f")},
    )


main()
