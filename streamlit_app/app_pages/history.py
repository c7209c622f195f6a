"""History: the leaderboard as of a date or a run, and two runs of a model side by side."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time

import pandas as pd
import streamlit as st
import ui_state
import ui_style

from mlpeg.appdata import queries


def as_of_section(store, runs: pd.DataFrame, categories: list[dict]) -> None:
    """Show the leaderboard with only the runs that had ended by a chosen date or run."""
    st.subheader("Leaderboard as of")
    mode = st.radio("As of", ["a date", "a run"], horizontal=True, key="history_mode")
    if mode == "a date":
        first = runs["ended_at"].min().date()
        last = runs["ended_at"].max().date()
        day = st.date_input(
            "Date (end of day, UTC)",
            value=last,
            min_value=first,
            max_value=last,
            key="history_date",
        )
        as_of = datetime.combine(day, time.max, tzinfo=UTC)
    else:
        labels = {
            row["run_id"]: f"{row['ended_at']:%Y-%m-%d %H:%M} · {row['model_key']} · "
            f"{row['benchmark_key']} · {row['run_id']}"
            for row in runs.to_dict("records")
        }
        run_id = st.selectbox("Run", list(labels), format_func=labels.get, key="history_run")
        as_of = runs.loc[runs["run_id"] == run_id, "ended_at"].iloc[0].to_pydatetime()
    params = replace(ui_state.params(), as_of=as_of)
    table = queries.leaderboard(store, params).to_pandas()
    st.caption(f"Runs that ended by {as_of:%Y-%m-%d %H:%M:%S %Z}.")
    if table.empty:
        st.info("No run had ended by then.")
        return
    values, states = ui_style.leaderboard_frame(table, categories)
    titles = [c["title"] for c in categories]
    st.dataframe(
        ui_style.styled(values, states, coloured=["Overall", *titles]),
        hide_index=True,
        key="history_table",
    )


def diff_section(store, runs: pd.DataFrame) -> None:
    """Two runs of one model on one benchmark: metric values and points side by side."""
    st.subheader("Compare two runs of a model")
    counts = runs.groupby(["model_key", "benchmark_key"]).size()
    pairs = counts[counts >= 2]
    if pairs.empty:
        st.info("No model has two runs of the same benchmark yet.")
        return
    models = sorted({model for model, _ in pairs.index})
    model = st.selectbox("Model", models, key="diff_model")
    benchmarks = sorted(bench for m, bench in pairs.index if m == model)
    bench_key = st.selectbox("Benchmark", benchmarks, key="diff_benchmark")
    mine = runs[(runs["model_key"] == model) & (runs["benchmark_key"] == bench_key)]
    labels = {
        r["run_id"]: f"{r['ended_at']:%Y-%m-%d %H:%M} · {r['run_id']}"
        for r in mine.to_dict("records")
    }
    ids = list(labels)
    left, right = st.columns(2)
    run_a = left.selectbox(
        "Run A (before)", ids, index=len(ids) - 1, format_func=labels.get, key="diff_a"
    )
    run_b = right.selectbox("Run B (after)", ids, index=0, format_func=labels.get, key="diff_b")
    if run_a == run_b:
        st.info("Choose two different runs.")
        return
    benchmark = queries.benchmark_info(store, bench_key)
    diff = queries.run_diff(store, ui_state.params(), benchmark, model, run_a, run_b)
    st.markdown("**Metrics** (value and score under the current thresholds)")
    st.dataframe(
        diff.metrics.to_pandas(),
        hide_index=True,
        key="diff_metrics",
        column_config={
            "metric_key": "Metric",
            "unit": "Unit",
            "value_a": st.column_config.NumberColumn("Value A", format="%.4g"),
            "value_b": st.column_config.NumberColumn("Value B", format="%.4g"),
            "value_change": st.column_config.NumberColumn("B − A", format="%+.4g"),
            "score_a": st.column_config.NumberColumn("Score A", format="%.3f"),
            "score_b": st.column_config.NumberColumn("Score B", format="%.3f"),
        },
    )
    st.markdown("**Points** (largest change first)")
    st.dataframe(
        diff.points.to_pandas(),
        hide_index=True,
        key="diff_points",
        column_config={
            "system": "System",
            "quantity": "Quantity",
            "pred_a": st.column_config.NumberColumn("Predicted A", format="%.4g"),
            "pred_b": st.column_config.NumberColumn("Predicted B", format="%.4g"),
            "pred_change": st.column_config.NumberColumn("B − A", format="%+.4g"),
            "ref": st.column_config.NumberColumn("Reference", format="%.4g"),
            "error_change": st.column_config.NumberColumn(
                "|error| B − A", format="%+.4g", help="Negative: run B is closer to the reference."
            ),
            "state_a": "State A",
            "state_b": "State B",
        },
    )


def main() -> None:
    """Draw the history page."""
    st.title("History")
    store = ui_state.store()
    runs = queries.runs(store).to_pandas()
    if runs.empty:
        st.info("No run in the warehouse yet.")
        return
    categories = queries.categories(store).to_pylist()
    as_of_section(store, runs, categories)
    diff_section(store, runs)


main()
