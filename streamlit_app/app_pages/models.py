"""Models: a card per model with metadata, element coverage, speed and run provenance."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st
import ui_state

from mlpeg.appdata import figures, queries

#: What ``models.dispersion`` means for the model's runs.
DISPERSION_TEXT = {
    "trained": "trained with dispersion: never gets D3",
    "none": "trained without: D3(BJ) added on benchmarks declaring dispersion d3",
    "unknown": "unknown (imported): D3(BJ) assumed added on d3 benchmarks, as ML-PEG does",
}


def _text(value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "–"
    return str(value)


def main() -> None:
    """Draw the model cards page."""
    st.title("Model cards")
    store = ui_state.store()
    params = ui_state.params()
    models = queries.models(store, params).to_pylist()
    if not models:
        st.info("No model has run yet.")
        return
    by_key = {row["model_key"]: row for row in models}
    key = ui_state.url_choice(st.selectbox, "Model", list(by_key), key="model")
    model = by_key[key]
    st.header(key)
    left, right = st.columns([1, 1])
    with left:
        fields = {
            "family": model["family"],
            "base model": model["base_model"],
            "checkpoint": model["checkpoint"],
            "checkpoint sha256": model["checkpoint_sha256"],
            "dispersion": DISPERSION_TEXT.get(model["dispersion"], model["dispersion"]),
            "dtype": model["dtype"],
            "training level of theory": model["level_of_theory"],
            "training sets": model["training_sets"],
            "licence": model["licence"],
            "paper": model["paper"],
            "parameters": f"{model['n_params']:,}" if model["n_params"] else None,
            "notes": model["notes"],
        }
        st.dataframe(
            pd.DataFrame({"": list(fields), "value": [_text(v) for v in fields.values()]}),
            hide_index=True,
            key="model_fields",
            height=36 * (len(fields) + 1) + 2,
        )
    with right:
        elements = model["elements"] or []
        st.markdown(f"**Element coverage**: {len(elements)} elements")
        st.plotly_chart(
            figures.periodic_figure({}, (), supported=elements, height=300),
            key="model_elements",
            config={"displayModeBar": False},
        )
    st.subheader("Speed")
    for row in queries.model_speed_summary(store, params, key).to_pylist():
        st.markdown(
            f"Single points on **{row['device'] or 'an unrecorded device'}**: median "
            f"**{row['median_us_per_atom']:,.0f} µs per atom**, "
            f"{row['median_s_per_structure']:.3g} s per structure "
            f"({row['n_structures']:,} structures, {row['n_benchmarks']} benchmarks)."
        )
    speed = queries.model_speed(store, params, key).to_pandas()
    st.dataframe(
        speed,
        hide_index=True,
        key="model_speed",
        column_config={
            "benchmark_key": "Benchmark",
            "device": "Device",
            "n_structures": "Timed",
            "median_s_per_structure": st.column_config.NumberColumn(
                "s / structure",
                format="%.3g",
                help="Median wall time per structure (ok rows of the latest run); a "
                "relaxation or scan counts as one structure.",
            ),
            "median_us_per_atom": st.column_config.NumberColumn(
                "µs / atom", format="%.4g", help="Median wall time per atom."
            ),
            "total_s": st.column_config.NumberColumn("Total [s]", format="%.4g"),
            "n_failed": "Failed",
            "n_unsupported": "Unsupported",
        },
    )
    st.subheader("Runs (provenance)")
    runs = queries.model_runs(store, params, key).to_pandas()
    runs["versions"] = [
        ", ".join(f"{k} {v}" for k, v in json.loads(text).items()) if text else "–"
        for text in runs["versions"]
    ]
    st.dataframe(
        runs,
        hide_index=True,
        key="model_runs",
        column_config={
            "run_id": "Run",
            "benchmark_key": "Benchmark",
            "started_at": st.column_config.DatetimeColumn("Started", format="YYYY-MM-DD HH:mm"),
            "ended_at": st.column_config.DatetimeColumn("Ended", format="YYYY-MM-DD HH:mm"),
            "host": "Host",
            "device": "Device",
            "dtype": "dtype",
            "versions": "Package versions",
            "code_version": "Code version",
            "status": "Status",
            "is_selected": st.column_config.CheckboxColumn(
                "Scored", help="The run the leaderboard reads (latest of its benchmark)."
            ),
        },
    )


main()
