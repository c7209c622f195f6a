"""Compare: two models side by side per benchmark, and the points where they disagree most."""

from __future__ import annotations

import pandas as pd
import streamlit as st
import ui_state

from mlpeg.appdata import insights, queries


def _with_intervals(frame: pd.DataFrame, intervals: pd.DataFrame, a: str, b: str) -> pd.DataFrame:
    """Add each score's 95 % interval as text columns beside it."""
    for label, model in (("A", a), ("B", b)):
        part = intervals[intervals["model_key"] == model].set_index("benchmark_key")
        lo = frame["benchmark_key"].map(part["lo"])
        hi = frame["benchmark_key"].map(part["hi"])
        frame[f"95 % interval {label}"] = [
            "–" if pd.isna(low) or pd.isna(high) else f"{low:.3f} – {high:.3f}"
            for low, high in zip(lo, hi, strict=True)
        ]
    return frame


def main() -> None:
    """Draw the two-model comparison page."""
    st.title("Compare two models")
    store = ui_state.store()
    params = ui_state.params()
    models = queries.models(store, params).column("model_key").to_pylist()
    if len(models) < 2:
        st.info("Comparing needs two models with runs.")
        return
    left, right = st.columns(2)
    with left:
        a = ui_state.url_choice(st.selectbox, "Model A", models, key="compare_a")
    with right:
        others = [m for m in models if m != a]
        b = ui_state.url_choice(st.selectbox, "Model B", others, key="compare_b")
    frame = insights.compare(store, params, a, b).to_pandas()
    intervals = insights.intervals(store, params, a, b)
    if intervals is not None:
        frame = _with_intervals(frame, intervals.to_pandas(), a, b)
    frame = frame.rename(
        columns={
            "category_key": "Category",
            "benchmark_key": "Benchmark",
            "score_a": f"A: {a}",
            "state_a": "state A",
            "score_b": f"B: {b}",
            "state_b": "state B",
            "difference": "B − A",
        }
    )
    st.dataframe(
        frame,
        hide_index=True,
        key="compare_table",
        column_config={
            f"A: {a}": st.column_config.NumberColumn(format="%.3f"),
            f"B: {b}": st.column_config.NumberColumn(format="%.3f"),
            "B − A": st.column_config.NumberColumn(
                format="%+.3f", help="Benchmark score of B minus that of A (0–1 scale)."
            ),
        },
    )
    if intervals is None:
        why = (
            "its score_intervals view could not be read"
            if insights.has_intervals(store)
            else "this warehouse has no score_intervals view"
        )
        st.caption(f"Scores without intervals: {why}.")
    else:
        st.caption(
            "95 % intervals from bootstrap resamples of each benchmark's points "
            "(view score_intervals): where two intervals overlap, the difference may be noise."
        )
    st.subheader("Where they disagree most")
    st.caption(
        "Points both models computed, by |pred B − pred A| divided by the benchmark's mean "
        "absolute error over all models (the relative errors of the Element errors page)."
    )
    st.dataframe(
        insights.disagreements(store, params, a, b).to_pandas(),
        hide_index=True,
        key="compare_points",
        column_config={
            "relative_difference": st.column_config.NumberColumn(format="%.2f"),
            "relative_error_a": st.column_config.NumberColumn(format="%.2f"),
            "relative_error_b": st.column_config.NumberColumn(format="%.2f"),
        },
    )


main()
