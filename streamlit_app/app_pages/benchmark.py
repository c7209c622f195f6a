"""Benchmark: metrics table, editable thresholds, parity scatter and 3D structures."""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st
import ui_state
import ui_style
import ui_viewer

from mlpeg.appdata import figures, queries
from mlpeg.appdata.params import ScoringParams

ALL_MODELS = "All models"


# -- thresholds and weights ---------------------------------------------------------------------


def _editor_key(benchmark_key: str) -> str:
    version = st.session_state.setdefault("editor_version", 0)
    return f"thresholds::{benchmark_key}::{version}"


def _store_edits(benchmark_key: str, base: pd.DataFrame, key: str) -> None:
    edits = st.session_state.get(key, {}).get("edited_rows", {})
    overrides = ui_state.metric_overrides()
    for row_index, changes in edits.items():
        metric = base.iloc[int(row_index)]
        entry = overrides.setdefault((benchmark_key, metric["metric_key"]), {})
        for column in ("good", "bad", "weight"):
            if column in changes and changes[column] is not None:
                value = float(changes[column])
                if value == float(metric[f"default_{column}"]):
                    entry.pop(column, None)
                else:
                    entry[column] = value
        if not entry:
            overrides.pop((benchmark_key, metric["metric_key"]), None)
    st.session_state["editor_version"] = st.session_state.get("editor_version", 0) + 1


def _reset_edits(benchmark_key: str) -> None:
    overrides = ui_state.metric_overrides()
    for key in [key for key in overrides if key[0] == benchmark_key]:
        overrides.pop(key)
    st.session_state["editor_version"] = st.session_state.get("editor_version", 0) + 1


def threshold_editor(store, benchmark_key: str) -> None:
    """Editable good/bad/weight per metric; a change rescores every page through SQL."""
    defaults = queries.metric_definitions(store, ScoringParams(), benchmark_key).to_pandas()
    overrides = ui_state.metric_overrides()
    base = pd.DataFrame(
        {
            "metric_key": defaults["metric_key"],
            "unit": defaults["unit"],
            "default_good": defaults["good"],
            "default_bad": defaults["bad"],
            "default_weight": defaults["weight"],
        }
    )
    for column in ("good", "bad", "weight"):
        base[column] = [
            overrides.get((benchmark_key, metric), {}).get(column, default)
            for metric, default in zip(defaults["metric_key"], defaults[column], strict=True)
        ]
    base["level_of_theory"] = defaults["level_of_theory"]
    panel = st.expander("Thresholds and weights", key="thresholds_panel", on_change="rerun")
    if not panel.open:  # the editor is built only when it is opened
        return
    with panel:
        st.caption(
            "Score = clip((value − bad) / (good − bad), 0, 1). Edit good, bad or weight; every "
            "score is recomputed by the SQL views."
        )
        key = _editor_key(benchmark_key)
        st.data_editor(
            base,
            key=key,
            hide_index=True,
            disabled=[
                "metric_key",
                "unit",
                "default_good",
                "default_bad",
                "default_weight",
                "level_of_theory",
            ],
            column_order=[
                "metric_key",
                "unit",
                "good",
                "bad",
                "weight",
                "default_good",
                "default_bad",
                "default_weight",
                "level_of_theory",
            ],
            column_config={
                "metric_key": "Metric",
                "unit": "Unit",
                "good": st.column_config.NumberColumn("Good", format="%.4g"),
                "bad": st.column_config.NumberColumn("Bad", format="%.4g"),
                "weight": st.column_config.NumberColumn("Weight", min_value=0.0, format="%.3g"),
                "default_good": st.column_config.NumberColumn("Good (YAML)", format="%.4g"),
                "default_bad": st.column_config.NumberColumn("Bad (YAML)", format="%.4g"),
                "default_weight": st.column_config.NumberColumn("Weight (YAML)", format="%.3g"),
                "level_of_theory": "Reference level of theory",
            },
            on_change=_store_edits,
            args=(benchmark_key, base, key),
        )
        if any(key[0] == benchmark_key for key in overrides):
            st.button("Reset thresholds", on_click=_reset_edits, args=(benchmark_key,))


# -- metrics table ----------------------------------------------------------------------------


def metrics_table(store, params, benchmark_key: str, definitions: pd.DataFrame) -> None:
    """Models × metrics: raw values with units, or normalised scores on a toggle."""
    scores = queries.metric_scores(store, params, benchmark_key).to_pandas()
    totals = queries.benchmark_totals(store, params, benchmark_key).to_pandas()
    levels = queries.level_of_theory(store, params, benchmark_key).to_pandas()
    if totals.empty:
        st.info("No model has run on this benchmark yet.")
        return
    normalised = st.toggle(
        "Normalised scores (0–1)",
        key="normalised",
        persist_state="session",
        help="Show each metric's score instead of its value.",
    )
    totals = totals.sort_values(["score", "model_key"], ascending=[False, True], na_position="last")
    models = list(totals["model_key"])
    mismatch = levels[levels["is_mismatch"]].groupby("model_key")["model_level_of_theory"].first()
    values = pd.DataFrame({"Model": models})
    trained = {
        row["model_key"]: row["model_level_of_theory"]
        for row in levels.to_dict("records")
        if isinstance(row["model_level_of_theory"], str)
    }
    values["Training level of theory"] = [
        ("⚠ " if model in mismatch.index else "") + trained.get(model, "unknown")
        for model in models
    ]
    values["Score"] = list(totals["score"])
    states = pd.DataFrame({"Score": list(totals["state"])})
    colour_by = pd.DataFrame({"Score": list(totals["score"])})
    errors: set[str] = set()
    column_config = {
        "Model": st.column_config.TextColumn("Model", pinned=True),
        "Score": st.column_config.NumberColumn("Score", help="Weighted mean of metric scores."),
    }
    for metric in definitions.to_dict("records"):
        rows = scores[scores["metric_key"] == metric["metric_key"]].set_index("model_key")
        label = metric["metric_key"] if normalised else f"{metric['metric_key']} [{metric['unit']}]"
        shown = rows["score"] if normalised else rows["value"]
        values[label] = [shown.get(model) for model in models]
        states[label] = [rows["state"].get(model, "not_run") for model in models]
        colour_by[label] = [rows["score"].get(model) for model in models]
        if not normalised and metric["good"] < metric["bad"]:
            errors.add(label)  # lower is better: a value-less cell sorts after the largest
        tooltip = metric["tooltip"] or metric["title"] or metric["metric_key"]
        column_config[label] = st.column_config.NumberColumn(
            label,
            help=f"{tooltip} Good {metric['good']:g}, bad {metric['bad']:g}, weight "
            f"{metric['weight']:g}; reference: {metric['level_of_theory'] or '–'}.",
        )
    coverage = scores.groupby("model_key")[["n_ok", "n_points"]].max()
    values["Points ok"] = [
        f"{int(coverage.at[m, 'n_ok'])}/{int(coverage.at[m, 'n_points'])}"
        if m in coverage.index
        else "–"
        for m in models
    ]
    score_columns = ["Score", *(states.columns[1:] if normalised else [])]
    formats = {column: "{:.3f}" for column in score_columns}
    marks = pd.DataFrame(
        {"Score": [ui_style.mark(row["dispersion"], row["band"]) for _, row in totals.iterrows()]}
    )
    column_config["Score"] = st.column_config.NumberColumn(
        "Score", help="Weighted mean of metric scores. " + ui_style.MARKS_HELP
    )
    st.dataframe(
        ui_style.styled(
            values,
            states,
            coloured=list(states.columns),
            colour_by=colour_by,
            formats=formats,
            higher_is_worse=errors,
            marks=marks,
        ),
        hide_index=True,
        key="metrics_table",
        column_config=column_config,
    )
    ui_style.legend(marks=bool(marks.to_numpy().astype(bool).any()))
    other_dispersion_table(store, params, benchmark_key, definitions, scores)
    if len(mismatch):
        reference = ", ".join(sorted({str(v) for v in levels["reference_level_of_theory"] if v}))
        listed = ", ".join(f"{m} ({trained.get(m, 'unknown')})" for m in mismatch.index)
        st.warning(
            f"Reference level of theory: {reference or 'unknown'}. These models were trained "
            f"on a different level, so part of their error is the difference between levels: "
            f"{listed}."
        )


# -- scatter and structures -----------------------------------------------------------------


def _structure_columns(row: dict) -> dict[str, str]:
    """Map a label to each structure id a point holds (``structure_id``, ``*_structure_id``)."""
    found = {}
    for column, value in row.items():
        if column.endswith("structure_id") and value:
            label = column.removesuffix("structure_id").rstrip("_") or "structure"
            found[label] = value
    return found


def _on_point_selected(key: str) -> None:
    state = st.session_state.get(key)
    selected = (state or {}).get("selection", {}).get("points", [])
    if selected and selected[0].get("customdata"):
        model, system = selected[0]["customdata"][:2]
        st.session_state["inspect_model"] = model
        st.session_state["inspect_system"] = system


@st.cache_resource(max_entries=64, show_spinner=False, hash_funcs={pd.DataFrame: lambda _: 0})
def _parity_figure(identity: tuple, points: pd.DataFrame, unit: str, title: str):
    """Build a parity figure once per (warehouse version, parameters, benchmark, metric, model).

    Plotly validates every trace on construction (~0.5 s for 50 models); the figure only
    depends on ``identity``, so ``points`` is not hashed.
    """
    del identity
    return figures.parity_figure(points, unit=unit, title=title)


def scatter(store, params, benchmark, metric: dict) -> pd.DataFrame:
    """Parity plot of the metric's points; clicking a point selects it for the 3D view."""
    points = queries.points(store, params, benchmark, quantity=metric["quantity"]).to_pandas()
    if points.empty:
        st.info("This metric has no points yet.")
        return points
    models = sorted(points["model_key"].unique())
    chosen = st.selectbox(
        "Models in the scatter",
        [ALL_MODELS, *models],
        key="scatter_model",
        persist_state="session",
    )
    shown = points if chosen == ALL_MODELS else points[points["model_key"] == chosen]
    unit = str(shown["unit"].iloc[0]) if len(shown) else metric["unit"]
    figure = _parity_figure(
        (store.version(), params, benchmark.key, metric["metric_key"], chosen),
        shown,
        unit,
        f"{benchmark.key}: {metric['metric_key']}",
    )
    key = f"scatter::{benchmark.key}::{metric['metric_key']}::{chosen}"
    st.plotly_chart(
        figure,
        key=key,
        on_select=lambda: _on_point_selected(key),
        selection_mode="points",
        width="content",
        config={"displaylogo": False},
    )
    counts = shown["state"].value_counts()
    hidden = {state: int(counts.get(state, 0)) for state in ("failed", "unsupported", "filtered")}
    if any(hidden.values()):
        st.caption(
            "Not plotted as ok points: "
            + ", ".join(f"{n} {ui_style.STATE_LABELS[s]}" for s, n in hidden.items() if n)
            + (" (filtered points are grey crosses)." if hidden["filtered"] else ".")
        )
    if len(shown[shown["state"] == "ok"]) > figures.DENSITY_THRESHOLD:
        st.caption(
            f"{len(shown):,} points: density plot; the {figures.OUTLIERS_SHOWN} largest errors "
            "are drawn as points you can click."
        )
    return points


def _point_row(points: pd.DataFrame, model: str, system: str) -> dict:
    """Return one point of the scatter's rows as a dict, missing numbers as ``None``."""
    match = points[(points["model_key"] == model) & (points["system"] == system)]
    return {
        column: None if isinstance(value, float) and math.isnan(value) else value
        for column, value in match.iloc[0].items()
    }


def inspect(store, params, benchmark, metric: dict, points: pd.DataFrame) -> None:
    """Show a chosen point: its numbers and its structure (frames animated) in 3D."""
    st.subheader("Structure")
    models = sorted(points["model_key"].unique())
    if st.session_state.get("inspect_model") not in models:
        st.session_state["inspect_model"] = models[0]
    left, right = st.columns([1, 2])
    with left:
        model = st.selectbox("Model", models, key="inspect_model")
        systems = sorted(points.loc[points["model_key"] == model, "system"].unique())
        if st.session_state.get("inspect_system") not in systems:
            st.session_state["inspect_system"] = systems[0]
        system = st.selectbox("System", systems, key="inspect_system")
        row = _point_row(points, model, system)
        error = None if row["pred"] is None or row["ref"] is None else row["pred"] - row["ref"]
        details = {
            "system": row["system"],
            "model": row["model_key"],
            "state": ui_style.STATE_LABELS.get(row["state"], row["state"]),
            f"prediction [{row['unit']}]": row["pred"],
            f"reference [{row['unit']}]": row["ref"],
            f"error [{row['unit']}]": error,
        }
        extra = {
            k: v
            for k, v in row.items()
            if k not in {"model_key", "system", "pred", "ref", "unit", "state", "quantity"}
            and not k.endswith("structure_id")
        }
        details |= extra
        st.dataframe(
            pd.DataFrame(
                {"": list(details), "value": [ui_style.cell(v) for v in details.values()]}
            ),
            hide_index=True,
            key="point_details",
        )
        structures = _structure_columns(row)
        if not structures:
            st.info("This point has no stored structure.")
            return
        label = st.radio("Show", list(structures), horizontal=True, key="inspect_structure")
        structure_id = structures[label]
        frames = queries.frames(store, params, benchmark.key, model, structure_id)
        animate = False
        if frames:
            animate = st.toggle(f"Animate {len(frames) + 1} frames", value=True, key="animate")
    with right:
        base = queries.structure(store, structure_id)
        if base is None:
            st.info(f"Structure {structure_id} is not in the warehouse.")
            return
        shown = [base, *frames] if frames else [base]
        ui_viewer.show_structure(shown, animate=animate)
        st.caption(
            f"{label}: {base['n_atoms']} atoms, {', '.join(base['elements'])}"
            + (", periodic (unit cell drawn)" if any(base["pbc"]) else "")
            + (f", {len(frames)} output frames" if frames else "")
        )


def other_dispersion_table(
    store, params, benchmark_key: str, definitions: pd.DataFrame, scores: pd.DataFrame
) -> None:
    """Metric values of the other dispersion choice (comparison runs), beside the scored ones."""
    other = queries.other_dispersion(store, params, benchmark_key).to_pandas()
    if other.empty:
        return
    rows = []
    for model, runs in other.groupby("model_key", sort=True):
        choice = runs["dispersion"].iloc[0]
        scored = scores[scores["model_key"] == model].set_index("metric_key")
        for metric in definitions.to_dict("records"):
            key = metric["metric_key"]
            value = runs.set_index("metric_key")["value"].get(key)
            rows.append(
                {
                    "Model": model,
                    "Metric": f"{key} [{metric['unit']}]",
                    "Scored": scored["value"].get(key),
                    "Other choice": value,
                    "Other dispersion": "D3(BJ) added" if choice == "d3bj" else "no D3",
                }
            )
    with st.expander(f"The other dispersion choice ({other['model_key'].nunique()} models)"):
        st.caption(
            "Comparison runs (mlpeg calc --dispersion) with the dispersion this benchmark does "
            "not declare for the model; not scored. Scored: the leaderboard's run."
        )
        st.dataframe(pd.DataFrame(rows), hide_index=True, key="other_dispersion_table")


@ui_state.fragment
def metrics_section(benchmark_key: str) -> None:
    """Thresholds and the metrics table (a fragment: an edit reruns only this part)."""
    store = ui_state.store()
    threshold_editor(store, benchmark_key)
    params = ui_state.params()
    definitions = queries.metric_definitions(store, params, benchmark_key).to_pandas()
    metrics_table(store, params, benchmark_key, definitions)


@ui_state.fragment
def parity_section(benchmark) -> None:
    """Metric choice, parity scatter and the chosen point's structure (a fragment)."""
    store = ui_state.store()
    st.subheader("Parity")
    definitions = queries.metric_definitions(store, ScoringParams(), benchmark.key).to_pandas()
    metric_key = ui_state.url_choice(
        st.segmented_control,
        "Metric",
        list(definitions["metric_key"]),
        key="metric",
        help="Choose a metric to see the points behind it.",
    )
    if metric_key is None:
        st.caption("Choose a metric to see its points.")
        return
    metric = definitions[definitions["metric_key"] == metric_key].iloc[0].to_dict()
    params = ui_state.params()
    points = scatter(store, params, benchmark, metric)
    if not points.empty:
        inspect(store, params, benchmark, metric, points)


def main() -> None:
    """Draw the benchmark page."""
    store = ui_state.store()
    catalogue = queries.benchmarks(store).to_pylist()
    if not catalogue:
        st.info("The warehouse holds no benchmarks yet.")
        return
    titles = {row["benchmark_key"]: row["title"] for row in catalogue}
    key = ui_state.url_choice(
        st.selectbox,
        "Benchmark",
        list(titles),
        key="benchmark",
        format_func=lambda k: f"{k} — {titles[k]}",
    )
    benchmark = queries.benchmark_info(store, key)
    st.title(f"{benchmark.key}: {benchmark.title}")
    st.caption(
        f"{benchmark.description}  \nReference level of theory: **{benchmark.level_of_theory}**"
        + (f" · [{benchmark.doi}]({benchmark.doi})" if benchmark.doi else "")
    )
    metrics_section(benchmark.key)
    parity_section(benchmark)


main()
