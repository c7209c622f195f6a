"""Plotly figures of the app: parity scatter (or density) and the periodic table.

Figures only draw rows the views returned; each clickable marker carries
``customdata = [model_key, system]`` so a click can be traced back to its point.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from mlpeg.appdata.periodic import table as periodic_table

#: Above this many plotted points the parity plot becomes a density plot.
DENSITY_THRESHOLD = 2000
#: How many of the largest errors stay clickable on a density plot.
OUTLIERS_SHOWN = 300
#: Above this many models the legend is left out: 50 entries bury the plot and slow its
#: drawing; the hover text names each point's model, and the page can show one model.
LEGEND_MAX_MODELS = 15

_HOVER = (
    "<b>%{customdata[1]}</b><br>model: %{customdata[0]}<br>"
    "predicted: %{y:.4g}<br>reference: %{x:.4g}<br>error: %{customdata[2]:.4g}<extra></extra>"
)


def _marker_data(frame: pd.DataFrame) -> np.ndarray:
    return np.column_stack(
        [frame["model_key"].astype(str), frame["system"].astype(str), frame["pred"] - frame["ref"]]
    ).astype(object)


def parity_figure(points: pd.DataFrame, *, unit: str, title: str = "") -> go.Figure:
    """Return predicted vs reference for the rows of a ``points`` view.

    Parameters
    ----------
    points
        Rows with ``model_key``, ``system``, ``pred``, ``ref`` and ``state``.
    unit
        Unit of ``pred`` and ``ref`` (axis labels).
    title
        Figure title.

    Returns
    -------
    go.Figure
        One scatter trace per model for ``ok`` points (clickable), a grey trace for points
        the element filter removed, and the y = x line. With more than
        :data:`DENSITY_THRESHOLD` ok points, a 2-D histogram of all of them plus the
        :data:`OUTLIERS_SHOWN` largest errors as clickable markers.
    """
    ok = points[(points["state"] == "ok") & points["pred"].notna() & points["ref"].notna()]
    filtered = points[(points["state"] == "filtered") & points["pred"].notna()]
    traces: list[dict] = []
    density = len(ok) > DENSITY_THRESHOLD
    if density:
        traces.append(
            {
                "type": "histogram2d",
                "x": ok["ref"].to_numpy(),
                "y": ok["pred"].to_numpy(),
                "nbinsx": 80,
                "nbinsy": 80,
                "colorscale": "Blues",
                "name": "density",
                "colorbar": {"title": {"text": "points"}},
                "hovertemplate": "reference %{x}<br>predicted %{y}<br>%{z} points<extra></extra>",
            }
        )
        worst = ok.reindex((ok["pred"] - ok["ref"]).abs().sort_values(ascending=False).index)
        shown = {"largest errors": worst.head(OUTLIERS_SHOWN)}
    else:
        shown = {model: group for model, group in ok.groupby("model_key", sort=True)}
    for name, group in shown.items():
        traces.append(
            {
                "type": "scatter",
                "x": group["ref"].to_numpy(),
                "y": group["pred"].to_numpy(),
                "mode": "markers",
                "name": str(name),
                "customdata": _marker_data(group),
                "hovertemplate": _HOVER,
                "marker": {"size": 8, "opacity": 0.85, "line": {"width": 0.5, "color": "white"}},
            }
        )
    if len(filtered):
        traces.append(
            {
                "type": "scatter",
                "x": filtered["ref"].to_numpy(),
                "y": filtered["pred"].to_numpy(),
                "mode": "markers",
                "name": "filtered (element filter)",
                "customdata": _marker_data(filtered),
                "hovertemplate": _HOVER,
                "marker": {"symbol": "x", "size": 7, "color": "#9e9e9e"},
            }
        )
    values = pd.concat([ok["ref"], ok["pred"], filtered["ref"], filtered["pred"]]).dropna()
    if len(values):
        low, high = float(values.min()), float(values.max())
        pad = 0.05 * (high - low or 1.0)
        traces.append(
            {
                "type": "scatter",
                "x": [low - pad, high + pad],
                "y": [low - pad, high + pad],
                "mode": "lines",
                "name": "y = x",
                "line": {"color": "#666666", "dash": "dash", "width": 1},
                "hoverinfo": "skip",
            }
        )
    layout = {
        "title": {"text": title} if title else None,
        "xaxis": {"title": {"text": f"reference [{unit}]"}},
        "yaxis": {"title": {"text": f"predicted [{unit}]"}, "scaleanchor": "x", "scaleratio": 1},
        "width": 640,
        "height": 600,
        "margin": {"l": 10, "r": 10, "t": 40 if title else 10, "b": 10},
        "legend": {"orientation": "h", "y": -0.15},
        "showlegend": len(shown) <= LEGEND_MAX_MODELS,
        "clickmode": "event+select",
        "dragmode": "zoom",
    }
    # Traces as plain dicts of numpy arrays: Plotly checks them about 3x faster than
    # go.Scatter objects added one by one from pandas columns (bench/app.py).
    return go.Figure(data=traces, layout=layout)


def periodic_figure(
    counts: Mapping[str, int],
    excluded: Iterable[str],
    *,
    supported: Iterable[str] | None = None,
    height: int = 420,
) -> go.Figure:
    """Return a clickable periodic table.

    Parameters
    ----------
    counts
        Number of structures per element in the warehouse (elements absent are greyed).
    excluded
        Elements the user excluded (drawn red).
    supported
        When given (a model card), elements outside it are drawn hollow.
    height
        Figure height in pixels.
    """
    excluded = set(excluded)
    supported_set = set(supported) if supported is not None else None
    rows = periodic_table()
    colours, texts, hovers = [], [], []
    for symbol, number, _, _ in rows:
        count = counts.get(symbol, 0)
        if symbol in excluded:
            colours.append("#d93025")
        elif supported_set is not None:
            colours.append("#5c9ded" if symbol in supported_set else "#f1f3f4")
        elif count:
            colours.append("#5c9ded")
        else:
            colours.append("#e8eaed")
        texts.append(symbol)
        state = "excluded" if symbol in excluded else ("present" if count else "not present")
        hovers.append(f"{symbol} (Z={number}): {count} structures, {state}")
    figure = go.Figure(
        go.Scatter(
            x=[column for *_, column in rows],
            y=[row for *_, row, _ in rows],
            mode="markers+text",
            text=texts,
            customdata=[[symbol] for symbol, *_ in rows],
            hovertext=hovers,
            hoverinfo="text",
            textfont={"size": 11, "color": "#202124"},
            marker={
                "symbol": "square",
                "size": 30,
                "color": colours,
                "line": {"width": 1, "color": "#9aa0a6"},
            },
        )
    )
    figure.update_xaxes(visible=False, range=[0.4, 18.6])
    figure.update_yaxes(visible=False, range=[10.6, 0.4])
    figure.update_layout(
        height=height,
        margin={"l": 0, "r": 0, "t": 0, "b": 0},
        showlegend=False,
        clickmode="event+select",
        dragmode=False,
        plot_bgcolor="rgba(0,0,0,0)",
    )
    return figure


_INTERVAL_HOVER = (
    "<b>%{y}</b><br>score: %{x:.3f}<br>95 % interval: %{customdata[0]:.3f} to "
    "%{customdata[1]:.3f}<br>%{customdata[2]}<extra></extra>"
)


def interval_figure(intervals: pd.DataFrame, *, title: str = "") -> go.Figure:
    """Return scores with their 95 % intervals as horizontal error bars, best at the top.

    Parameters
    ----------
    intervals
        Rows of ``score_intervals`` for one level: ``model_key``, ``score``, ``lo``, ``hi``,
        ``is_partial`` and ``note``. Models without a score are left out; one without an
        interval is drawn as a bare marker, its note in the hover text.
    title
        Figure title.
    """
    rows = intervals[intervals["score"].notna()].sort_values("score")
    has = rows["lo"].notna()
    notes = [
        (note or "")
        if not has_interval
        else ("some parts held at their value (not resampled)" if partial else "")
        for note, has_interval, partial in zip(
            rows["note"], has, rows["is_partial"].fillna(False), strict=True
        )
    ]
    figure = go.Figure(
        go.Scatter(
            x=rows["score"].tolist(),
            y=rows["model_key"].tolist(),
            mode="markers",
            marker={"size": 9, "color": "#1f77b4"},
            error_x={
                "type": "data",
                "symmetric": False,
                "array": (rows["hi"] - rows["score"]).fillna(0).clip(lower=0).tolist(),
                "arrayminus": (rows["score"] - rows["lo"]).fillna(0).clip(lower=0).tolist(),
                "thickness": 1.5,
                "width": 4,
            },
            customdata=[
                [lo, hi, note]
                for lo, hi, note in zip(
                    rows["lo"].tolist(), rows["hi"].tolist(), notes, strict=True
                )
            ],
            hovertemplate=_INTERVAL_HOVER,
        )
    )
    figure.update_layout(
        title=title,
        xaxis={"title": "score (0–1, higher is better)", "range": [0, 1.02]},
        yaxis={"title": None},
        height=max(260, 28 * len(rows) + 120),
        margin={"l": 10, "r": 10, "t": 40 if title else 10, "b": 40},
        showlegend=False,
    )
    return figure
