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


def number(value: float) -> str:
    """Format a measured value: 4 significant digits, rounding-level noise shown as 0."""
    return "0" if abs(value) < 1e-9 else f"{value:.4g}"


def cell(value: object) -> str:
    """Format any value for a two-column details table."""
    if _is_missing(value):
        return "–"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def styled(
    frame: pd.DataFrame,
    states: pd.DataFrame,
    *,
    coloured: list[str],
    formats: Mapping[str, object] | None = None,
    colour_by: pd.DataFrame | None = None,
    worst: Mapping[str, float] | None = None,
) -> Styler:
    """Style a table of values: coloured scores, and state labels where there is no value.

    Streamlit draws every empty numeric cell as "None", whatever the Styler says, so a cell
    without a value holds a sentinel that sorts as the worst value of its column (−∞ by
    default) and shows its state's label ("not run", "failed", ...) in its state's colours.

    Parameters
    ----------
    frame
        Values to show (a RangeIndex); numeric columns stay numeric so they sort.
    states
        Same rows as ``frame``, one column per numeric column of ``frame``: each cell's state.
    coloured
        Columns coloured on the red → green scale.
    formats
        Number format per column (default ``{:.3f}`` for scores, 4 significant digits else).
    colour_by
        Scores to colour ``coloured`` columns by, when they show raw values instead.
    worst
        Sentinel per column for cells without a value (``inf`` where lower is better).
    """
    formats = dict(formats or {})
    worst = dict(worst or {})
    missing = pd.DataFrame(False, index=frame.index, columns=frame.columns)
    shown = frame.copy()
    for column in states.columns:
        missing[column] = [_is_missing(value) for value in frame[column]]
        shown[column] = (
            frame[column].astype(float).where(~missing[column], worst.get(column, -math.inf))
        )

    def css(_: pd.DataFrame) -> pd.DataFrame:
        out = pd.DataFrame("", index=frame.index, columns=frame.columns)
        for column in states.columns:
            for index in frame.index:
                if missing.at[index, column]:
                    state = states.at[index, column]
                    out.at[index, column] = STATE_CSS.get(state, STATE_CSS["not_run"])
                elif column in coloured:
                    score = (
                        frame.at[index, column]
                        if colour_by is None
                        else colour_by.at[index, column]
                    )
                    if not _is_missing(score):
                        out.at[index, column] = (
                            f"background-color: {score_colour(float(score))}; color: #1b1b1b"
                        )
        return out

    styler = shown.style.apply(css, axis=None)
    for column in states.columns:
        is_score = column in coloured and colour_by is None
        styler = styler.format(
            formats.get(column, "{:.3f}" if is_score else number), subset=[column]
        )
        for state in set(states[column]):
            rows = [
                i for i in frame.index if missing.at[i, column] and states.at[i, column] == state
            ]
            if rows:
                label = STATE_LABELS.get(state, "–")
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
