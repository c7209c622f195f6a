"""Category: each model's benchmark scores in one category, with per-benchmark weights."""

from __future__ import annotations

import pandas as pd
import streamlit as st
import ui_state
import ui_style

from mlpeg.appdata import queries


def score_frame(
    scores: pd.DataFrame, totals: pd.DataFrame, benchmarks: list[dict]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (values, states): Model, category Score, one column per benchmark."""
    totals = totals.sort_values(["score", "model_key"], ascending=[False, True], na_position="last")
    values = pd.DataFrame({"Model": totals["model_key"], "Score": totals["score"]})
    states = pd.DataFrame({"Score": totals["state"]})
    for bench in benchmarks:
        part = scores[scores["benchmark_key"] == bench["benchmark_key"]].set_index("model_key")
        values[bench["benchmark_key"]] = values["Model"].map(part["score"])
        states[bench["benchmark_key"]] = values["Model"].map(part["state"]).fillna("not_run")
    return values.reset_index(drop=True), states.reset_index(drop=True)


def score_marks(scores: pd.DataFrame, models: pd.Series, benchmarks: list[dict]) -> pd.DataFrame:
    """Return the D3 and quick-band markers of each (model, benchmark) cell of the table."""
    marks = {}
    for bench in benchmarks:
        part = scores[scores["benchmark_key"] == bench["benchmark_key"]].set_index("model_key")
        found = {
            model: ui_style.mark(row.get("dispersion"), row.get("band"))
            for model, row in part.iterrows()
        }
        marks[bench["benchmark_key"]] = [found.get(model, "") for model in models]
    return pd.DataFrame(marks, index=range(len(models)))


@ui_state.fragment
def scores_section(category_key: str, benchmarks: list[dict]) -> None:
    """Benchmark weights and the scored table (a fragment: a weight reruns only this)."""
    ui_state.weight_sliders(
        "Benchmark weights",
        benchmarks,
        key_field="benchmark_key",
        prefix=ui_state.BENCHMARK_WEIGHT_PREFIX,
    )
    params = ui_state.params()
    store = ui_state.store()
    with st.spinner("Scoring…"):
        scores = queries.category_scores(store, params, category_key).to_pandas()
        totals = queries.category_totals(store, params, category_key).to_pandas()
    if totals.empty:
        st.info("No model has run yet.")
        return
    values, states = score_frame(scores, totals, benchmarks)
    marks = score_marks(scores, values["Model"], benchmarks)
    coloured = ["Score", *[b["benchmark_key"] for b in benchmarks]]
    st.dataframe(
        ui_style.styled(values, states, coloured=coloured, marks=marks),
        hide_index=True,
        key="category_table",
        column_config={
            "Model": st.column_config.TextColumn("Model", pinned=True),
            "Score": st.column_config.NumberColumn(
                "Score", help="Weighted mean of the benchmark scores (0–1)."
            ),
            **{
                b["benchmark_key"]: st.column_config.NumberColumn(
                    b["benchmark_key"],
                    help=f"{b['title']} · reference: {b['level_of_theory']}. "
                    + ui_style.MARKS_HELP,
                )
                for b in benchmarks
            },
        },
    )
    ui_style.legend(marks=bool(marks.to_numpy().astype(bool).any()))


def main() -> None:
    """Draw the category page."""
    store = ui_state.store()
    categories = queries.categories(store).to_pylist()
    if not categories:
        st.info("The warehouse holds no benchmarks yet.")
        return
    titles = {c["category_key"]: c["title"] for c in categories}
    key = ui_state.url_choice(
        st.selectbox, "Category", list(titles), key="category", format_func=titles.get
    )
    category = next(c for c in categories if c["category_key"] == key)
    st.title(category["title"])
    if category["description"]:
        st.caption(category["description"])
    benchmarks = [
        row for row in queries.benchmarks(store).to_pylist() if row["category_key"] == key
    ]
    scores_section(key, benchmarks)
    st.subheader("Benchmarks")
    for bench in benchmarks:
        st.page_link(
            "app_pages/benchmark.py",
            label=f"{bench['benchmark_key']} — {bench['title']}",
            query_params={"benchmark": bench["benchmark_key"]},
            icon=":material/scatter_plot:",
        )


main()
