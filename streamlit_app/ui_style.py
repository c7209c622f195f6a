"""How scores and states look: a 0–1 colour scale, and a distinct look per non-ok state.

Not run, failed, unsupported and filtered each get their own label and colours, so a cell
without a score always says why (never a blank).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping

import pandas as pd
import streamlit as st
from pandas.io.formats.style import Styler

from mlpeg.render import STATE_STYLES

#: Label shown in a cell without a score, per state (shared with the terminal renderer).
STATE_LABELS: dict[str, str] = {state: label for state, (label, _) in STATE_STYLES.items()}

#: Cell style per non-ok state.
STATE_CSS: dict[str, str] = {
    "not_run": "color: #5f6368; background-color: #eeeeee; font-style: italic",
    "failed": "color: #ffffff; background-color: #b3261e; font-weight: bold",
    "unsupported": "color: #4a148c; background-color: #e8d5f5",
    "filtered": "color: #004d57; background-color: #b9ecf2; font-style: italic",
}

_STOPS = ((0.0, (0xF2, 0x6B, 0x6B)), (0.5, (0xFF, 0xE0, 0x82)), (1.0, (0x5C, 0xB8, 0x7A)))


def score_colour(score: float) -> str:
    """Return the background colour of a 0–1 score (red → yellow → green)."""
    score = min(1.0, max(0.0, score))
    for (low, low_rgb), (high, high_rgb) in itertools.pairwise(_STOPS):
        if score <= high:
            t = (score - low) / (high - low)
            rgb = (round(a + (b - a) * t) for a, b in zip(low_rgb, high_rgb, strict=True))
            return "#{:02x}{:02x}{:02x}".format(*rgb)
    return "#{:02x}{:02x}{:02x}".format(*_STOPS[-1][1])


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def styled(
    frame: pd.DataFrame,
    states: pd.DataFrame,
    *,
    coloured: list[str],
    formats: Mapping[str, str] | None = None,
    colour_by: pd.DataFrame | None = None,
) -> Styler:
    """Style a table of values: coloured scores, and state labels where there is no value.

    Parameters
    ----------
    frame
        Values to show (a RangeIndex); numeric columns stay numeric so they sort.
    states
        Same shape and columns as the numeric part of ``frame``: each cell's state.
    coloured
        Columns holding 0–1 scores, coloured on the red → green scale.
    formats
        Number format per column (default ``{:.3f}`` for scores, ``{:.4g}`` otherwise).
    colour_by
        Scores to colour ``coloured`` columns by, when they show raw values instead.
    """
    formats = dict(formats or {})

    def css(_: pd.DataFrame) -> pd.DataFrame:
        out = pd.DataFrame("", index=frame.index, columns=frame.columns)
        for column in states.columns:
            for index in frame.index:
                value = frame.at[index, column]
                state = states.at[index, column]
                if _is_missing(value):
                    out.at[index, column] = STATE_CSS.get(state, STATE_CSS["not_run"])
                elif column in coloured:
                    score = value if colour_by is None else colour_by.at[index, column]
                    if not _is_missing(score):
                        out.at[index, column] = (
                            f"background-color: {score_colour(float(score))}; color: #1b1b1b"
                        )
        return out

    styler = frame.style.apply(css, axis=None)
    for column in states.columns:
        is_score = column in coloured and colour_by is None
        number = formats.get(column, "{:.3f}" if is_score else "{:.4g}")
        styler = styler.format(number, subset=[column], na_rep="–")
        for state, label in STATE_LABELS.items():
            rows = [
                index
                for index in frame.index
                if _is_missing(frame.at[index, column]) and states.at[index, column] == state
            ]
            if rows:
                styler = styler.format(
                    lambda _, label=label: label, subset=pd.IndexSlice[rows, [column]]
                )
    return styler


def legend() -> None:
    """Show the colour scale and the four state styles."""
    swatches = "".join(
        f"<span style='{STATE_CSS[state]}; padding: 1px 6px; margin-right: 6px; "
        f"border-radius: 3px'>{STATE_LABELS[state]}</span>"
        for state in STATE_CSS
    )
    scale = "".join(
        f"<span style='background-color: {score_colour(s / 4)}; padding: 1px 6px'>"
        f"{s / 4:.2f}</span>"
        for s in range(5)
    )
    st.html(
        f"<div style='font-size: 0.8rem; margin: 2px 0 8px 0'>score {scale}"
        f"<span style='margin-left: 16px'>{swatches}</span></div>"
    )


def leaderboard_frame(
    table: pd.DataFrame, categories: list[dict]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (values, states) for the summary table: Model, Overall, one column per category."""
    values = pd.DataFrame({"Model": table["model_key"], "Overall": table["overall"]})
    states = pd.DataFrame({"Overall": table["state"]})
    for category in categories:
        key, title = category["category_key"], category["title"]
        values[title] = table[key]
        states[title] = table[f"{key}__state"]
    return values.reset_index(drop=True), states.reset_index(drop=True)
