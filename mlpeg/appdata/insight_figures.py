"""Figures of the Speed and Element errors pages (Plotly), drawn from view rows as given."""

from __future__ import annotations

import math
from collections.abc import Mapping

import pandas as pd
import plotly.graph_objects as go

from mlpeg.appdata.periodic import table as periodic_table

#: Colours per device, in order of appearance (Plotly's default qualitative cycle).
DEVICE_COLOURS = ("#636efa", "#ef553b", "#00cc96", "#ab63fa", "#ffa15a", "#19d3f3")


def pareto_figure(frame: pd.DataFrame, *, front: str, score_title: str) -> go.Figure:
    """Return score against µs per atom, one trace per device, the front as a step line.

    Parameters
    ----------
    frame
        Rows of ``model_pareto`` for one scope: model_key, model_kind, device, score,
        us_per_atom and the boolean column named by ``front``.
    front
        ``is_pareto`` (across devices) or ``is_pareto_on_device``.
    score_title
        The y axis title ("Overall score", a category's title).
    """
    figure = go.Figure()
    devices = list(dict.fromkeys(frame["device"].fillna("unrecorded")))
    for index, device in enumerate(devices):
        part = frame[frame["device"].fillna("unrecorded") == device]
        on_front = part[front].to_numpy(bool)
        figure.add_trace(
            go.Scatter(
                x=part["us_per_atom"],
                y=part["score"],
                mode="markers+text",
                name=device,
                text=part["model_key"],
                textposition="top center",
                customdata=part[["model_key", "model_kind"]].to_numpy(),
                hovertemplate="%{customdata[0]} (%{customdata[1]})<br>%{x:,.0f} µs/atom"
                "<br>score %{y:.3f}<extra>" + device + "</extra>",
                marker={
                    "size": [13 if flag else 9 for flag in on_front],
                    "color": DEVICE_COLOURS[index % len(DEVICE_COLOURS)],
                    "symbol": [
                        "diamond" if kind == "baseline" else "circle" for kind in part["model_kind"]
                    ],
                    "line": {"width": [2 if flag else 0 for flag in on_front], "color": "#202124"},
                },
            )
        )
    line = frame[frame[front].to_numpy(bool)].sort_values(["us_per_atom", "score"])
    groups = [line] if front == "is_pareto" else [g for _, g in line.groupby("device")]
    for index, group in enumerate(groups):
        figure.add_trace(
            go.Scatter(
                x=group["us_per_atom"],
                y=group["score"],
                mode="lines",
                line={"shape": "hv", "dash": "dot", "color": "#202124", "width": 1.5},
                name="Pareto front",
                showlegend=index == 0,
                hoverinfo="skip",
            )
        )
    figure.update_xaxes(type="log", title="Cost: median µs per atom per single point (log)")
    figure.update_yaxes(title=f"{score_title} (higher is better)", range=[-0.05, 1.08])
    figure.update_layout(
        height=480, margin={"l": 10, "r": 10, "t": 10, "b": 10}, legend_title="Device"
    )
    return figure


def element_heatmap(errors: Mapping[str, float], counts: Mapping[str, int]) -> go.Figure:
    """Return a periodic table coloured by relative error (grey: no point holds the element).

    Parameters
    ----------
    errors
        Element -> mean relative error (1 = the benchmarks' mean absolute error).
    counts
        Element -> number of points holding it.
    """
    rows = periodic_table()
    present = [row for row in rows if row[0] in errors and not math.isnan(errors[row[0]])]
    absent = [row for row in rows if row not in present]
    figure = go.Figure()
    figure.add_trace(
        go.Scatter(
            x=[column for *_, column in absent],
            y=[row for *_, row, _ in absent],
            mode="markers+text",
            text=[symbol for symbol, *_ in absent],
            customdata=[[symbol] for symbol, *_ in absent],
            hoverinfo="skip",
            textfont={"size": 11, "color": "#9aa0a6"},
            marker={"symbol": "square", "size": 30, "color": "#f1f3f4"},
            showlegend=False,
        )
    )
    values = [errors[symbol] for symbol, *_ in present]
    top = max([2.0, *values]) if values else 2.0
    figure.add_trace(
        go.Scatter(
            x=[column for *_, column in present],
            y=[row for *_, row, _ in present],
            mode="markers+text",
            text=[symbol for symbol, *_ in present],
            customdata=[[symbol] for symbol, *_ in present],
            hovertext=[
                f"{symbol}: relative error {errors[symbol]:.2f} over {counts.get(symbol, 0)} points"
                for symbol, *_ in present
            ],
            hoverinfo="text",
            textfont={"size": 11, "color": "#202124"},
            marker={
                "symbol": "square",
                "size": 30,
                "color": values,
                "cmin": 0.0,
                "cmax": top,
                "colorscale": "RdYlGn_r",
                "colorbar": {"title": "relative<br>error", "thickness": 12},
                "line": {"width": 1, "color": "#9aa0a6"},
            },
            showlegend=False,
        )
    )
    figure.update_xaxes(visible=False, range=[0.4, 18.6])
    figure.update_yaxes(visible=False, range=[10.6, 0.4])
    figure.update_layout(
        height=420,
        margin={"l": 0, "r": 0, "t": 0, "b": 0},
        clickmode="event+select",
        dragmode=False,
        plot_bgcolor="rgba(0,0,0,0)",
    )
    return figure
