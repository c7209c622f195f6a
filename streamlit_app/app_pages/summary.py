"""Summary: one row per model, the overall score and one coloured column per category."""

from __future__ import annotations

import streamlit as st
import ui_profiles
import ui_state
import ui_style

from mlpeg.appdata import figures, queries


def weight_controls(categories: list[dict]) -> None:
    """Scoring profile pills and one weight slider per category (they rescore in SQL)."""
    ui_profiles.selector()
    ui_state.weight_sliders(
        "Category weights",
        categories,
        key_field="category_key",
        prefix=ui_state.CATEGORY_WEIGHT_PREFIX,
    )


@ui_state.fragment
def leaderboard_section(categories: list[dict]) -> None:
    """Weights, model filter and the scored table.

    A fragment: moving a weight or choosing models reruns only this part of the page.
    """
    weight_controls(categories)
    params = ui_state.params()
    weights = {c["category_key"]: c["weight"] for c in categories} | dict(params.category_weights)
    if not any(weights.values()):
        st.warning("Every category weight is 0, so no model has an overall score.")
    with st.spinner("Scoring…"):
        table = queries.leaderboard(ui_state.store(), params).to_pandas()
    if table.empty:
        st.info("No model has run yet.")
        return
    if "model_kind" in table and (table["model_kind"] == "baseline").any():
        show_baselines = st.toggle(
            "Show baselines",
            value=True,
            key="summary_baselines",
            help="Baselines (GFN2-xTB, GFN1-xTB) are reference methods, not MLIPs; "
            "they are marked (baseline) in the table.",
        )
        baseline = table["model_kind"] == "baseline"
        if not show_baselines:
            table = table[~baseline]
        else:
            table = table.assign(
                model_key=table["model_key"].where(~baseline, table["model_key"] + " (baseline)")
            )
    models = st.multiselect(
        "Models",
        options=list(table["model_key"]),
        key="summary_models",
        persist_state="session",
        placeholder="all models",
    )
    if models:
        table = table[table["model_key"].isin(models)]
    values, states = ui_style.leaderboard_frame(table, categories)
    marks = ui_style.leaderboard_marks(table, categories)
    titles = [category["title"] for category in categories]
    st.dataframe(
        ui_style.styled(values, states, coloured=["Overall", *titles], marks=marks),
        hide_index=True,
        key="summary_table",
        column_config={
            "Model": st.column_config.TextColumn("Model", pinned=True),
            "Overall": st.column_config.NumberColumn(
                "Overall", help="Weighted mean of the category scores (0–1, higher is better)."
            ),
            **{
                category["title"]: st.column_config.NumberColumn(
                    category["title"],
                    help=" ".join(filter(None, [category["description"], ui_style.MARKS_HELP])),
                )
                for category in categories
            },
        },
    )
    ui_style.legend(marks=bool(marks.to_numpy().astype(bool).any()))
    st.download_button(
        "Download CSV",
        lambda: ui_style.table_csv(values, states),  # made on click, not on every rerun
        file_name="mlpeg-leaderboard.csv",
        mime="text/csv",
        on_click="ignore",
    )
    intervals_section(categories, params, models)


def intervals_section(categories: list[dict], params, models: list[str]) -> None:
    """Overall or one category's scores with their 95 % bootstrap intervals (error bars)."""
    store = ui_state.store()
    described = queries.interval_description(store, params)
    if not st.toggle("Show 95 % intervals", value=True, key="summary_intervals", help=described):
        return
    scopes = {"Overall": None} | {c["title"]: c["category_key"] for c in categories}
    scope = st.selectbox("Intervals of", list(scopes), key="summary_interval_scope", help=described)
    category_key = scopes[scope]
    level = "overall" if category_key is None else "category"
    with st.spinner("Resampling…"):
        table = queries.score_intervals(store, params, level, category_key=category_key).to_pandas()
    if models:
        table = table[table["model_key"].isin(models)]
    if table["score"].notna().sum() == 0:
        st.info(f"No model has a {scope.lower()} score.")
        return
    st.plotly_chart(
        figures.interval_figure(table, title=f"{scope} score, 95 % bootstrap interval"),
        key="summary_intervals_chart",
        width="stretch",
    )
    st.caption(described)


def main() -> None:
    """Draw the summary page."""
    st.title("Leaderboard")
    categories = queries.categories(ui_state.store()).to_pylist()
    if not categories:
        st.info("The warehouse holds no benchmarks yet: run `mlpeg run` or `mlpeg ingest`.")
        return
    leaderboard_section(categories)
    st.subheader("Categories")
    links = st.columns(min(4, len(categories)))
    for index, category in enumerate(categories):
        with links[index % len(links)]:
            st.page_link(
                "app_pages/category.py",
                label=category["title"],
                query_params={"category": category["category_key"]},
                icon=":material/category:",
            )


main()
