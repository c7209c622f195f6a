"""How scores and states look: a 0–1 colour scale, and a distinct look per non-ok state.

Not run, failed, unsupported and filtered each get their own label and colours, so a cell
without a score always says why (never a blank).
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Mapping

import numpy as np
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


#: Colours step every 5 % of the score scale. Cells of equal colour then share one CSS
#: rule, and Streamlit's grid, which scans the table's whole stylesheet once per cell and
#: property, has about a third of the text to scan (50 models × 20 columns).
COLOUR_STEPS = 20


def score_colour(score: float) -> str:
    """Return the background colour of a 0–1 score (red → yellow → green, in 5 % steps)."""
    return _step_colour(round(min(1.0, max(0.0, score)) * COLOUR_STEPS))


@functools.cache
def _step_colour(step: int) -> str:
    score = step / COLOUR_STEPS
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


#: Cells without a value hold one of these (times −1 where higher is better): far beyond any
#: real value, so they sort after all of them, and distinct per state, so the formatter knows
#: the label. (Streamlit's grid flags numbers beyond ±2**53 as invalid and ignores the
#: Styler's text for them, hence 1e13, not 1e300.)
SENTINELS: dict[str, float] = {
    state: 1e13 * (1.0 + 0.125 * index)
    for index, state in enumerate(("not_run", "failed", "unsupported", "filtered", "ok"))
}
_LABEL_OF_SENTINEL = {
    sign * value: STATE_LABELS.get(state, "–")
    for state, value in SENTINELS.items()
    for sign in (1.0, -1.0)
}


def is_sentinel(value: float) -> bool:
    """Return whether a shown number stands for a state rather than a value."""
    return abs(value) >= 1e13


#: Markers after a score (as in the terminal): D3(BJ) added; quick band or subset only.
D3_MARK = "ᴰ³"
QUICK_MARK = "*"
MARKS_HELP = (
    f"{D3_MARK}: computed with D3(BJ) added (the benchmark declares dispersion). "
    f"{QUICK_MARK}: a quick band or subset, not the full benchmark."
)


def mark(dispersion: object = None, band: object = None) -> str:
    """Return the markers of a score from its run's dispersion and band."""
    return (D3_MARK if dispersion == "d3bj" else "") + (
        QUICK_MARK if band in ("quick", "subset") else ""
    )


def leaderboard_marks(table: pd.DataFrame, categories: list[dict]) -> pd.DataFrame:
    """Return the markers of the summary table's category cells (``<key>__marks``)."""
    marks = {}
    for category in categories:
        column = table.get(f"{category['category_key']}__marks")
        words = [] if column is None else [str(v or "").split() for v in column]
        marks[category["title"]] = [
            (D3_MARK if "D3" in w else "") + (QUICK_MARK if "quick" in w else "") for w in words
        ] or [""] * len(table)
    return pd.DataFrame(marks, index=range(len(table)))


def styled(
    frame: pd.DataFrame,
    states: pd.DataFrame,
    *,
    coloured: list[str],
    formats: Mapping[str, str] | None = None,
    colour_by: pd.DataFrame | None = None,
    higher_is_worse: set[str] | None = None,
    marks: pd.DataFrame | None = None,
) -> Styler:
    """Style a table of values: coloured scores, and state labels where there is no value.

    Streamlit draws every empty numeric cell as "None", whatever the Styler says, so a cell
    without a value holds a huge sentinel (see :data:`SENTINELS`) that sorts as the worst
    value of its column and shows its state's label ("not run", "failed", ...) in its
    state's colours.

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
    higher_is_worse
        Columns where a larger value is worse (errors): their sentinels are +huge.
    marks
        Same rows as ``frame``: text shown after a cell's value (the D3 and quick-band
        markers, :func:`mark`), for the columns it holds.
    """
    formats = dict(formats or {})
    higher_is_worse = set(higher_is_worse or ())
    columns = list(states.columns)
    # Columns are built as arrays and put together once: assigning a pandas column at a
    # time costs about a millisecond each.
    shown_columns = {column: frame[column].to_numpy() for column in frame.columns}
    style_columns = {column: np.full(len(frame), "", dtype=object) for column in frame.columns}
    for column in columns:
        numbers = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
        missing = np.isnan(numbers)
        column_states = states[column].to_numpy(dtype=object)
        sign = 1.0 if column in higher_is_worse else -1.0
        sentinels = np.array([sign * SENTINELS.get(s, SENTINELS["not_run"]) for s in column_states])
        shown_columns[column] = np.where(missing, sentinels, numbers)
        css = style_columns[column]
        if column in coloured:
            scores = (
                numbers
                if colour_by is None
                else pd.to_numeric(colour_by[column], errors="coerce").to_numpy(dtype=float)
            )
            has_score = ~np.isnan(scores)
            css[has_score] = [
                f"background-color: {score_colour(score)}; color: #1b1b1b"
                for score in scores[has_score]
            ]
        css[missing] = [
            STATE_CSS.get(state, STATE_CSS["not_run"]) for state in column_states[missing]
        ]
    shown = pd.DataFrame(shown_columns, index=frame.index)
    styles = pd.DataFrame(style_columns, index=frame.index)

    def formatter(column: str, suffix: str = ""):
        is_score = column in coloured and colour_by is None
        fmt = formats.get(column, "{:.3f}" if is_score else None)

        def show(value: float) -> str:
            if is_sentinel(value):
                return _LABEL_OF_SENTINEL.get(value, "–")
            return (fmt.format(value) if fmt else number(value)) + suffix

        return show

    # A one-letter uuid keeps every cell's CSS selector short: the grid scans the whole
    # stylesheet once per drawn cell, so its length is paid on every redraw.
    styler = Styler(shown, uuid="s", uuid_len=1, cell_ids=False)
    styler = styler.apply(lambda _: styles, axis=None).format(
        {column: formatter(column) for column in columns}
    )
    # marked cells: one formatter per (column, marker), on just those rows
    for column in columns if marks is not None else ():
        if column not in marks.columns:
            continue
        cell_marks = marks[column].fillna("").to_numpy(dtype=object)
        for suffix in set(cell_marks) - {""}:
            rows = frame.index[cell_marks == suffix]
            styler = styler.format(formatter(column, suffix), subset=(rows, [column]))
    return styler


def legend(*, marks: bool = False) -> None:
    """Show the colour scale and the four state styles (and the markers, if shown)."""
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
    shown_marks = f"<span style='margin-left: 16px'>{MARKS_HELP}</span>" if marks else ""
    st.html(
        f"<div style='font-size: 0.8rem; margin: 2px 0 8px 0'>score {scale}"
        f"<span style='margin-left: 16px'>{swatches}</span>{shown_marks}</div>"
    )


def leaderboard_frame(
    table: pd.DataFrame, categories: list[dict]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (values, states) for the summary table: Model, Overall, one column per category."""
    values = {"Model": table["model_key"].to_numpy(), "Overall": table["overall"].to_numpy()}
    states = {"Overall": table["state"].to_numpy()}
    for category in categories:
        key, title = category["category_key"], category["title"]
        values[title] = table[key].to_numpy()
        states[title] = table[f"{key}__state"].to_numpy()
    return pd.DataFrame(values), pd.DataFrame(states)


def table_csv(values: pd.DataFrame, states: pd.DataFrame) -> bytes:
    """Return a table as CSV: its values, then each column's states as ``<column> state``."""
    export = pd.concat([values, states.add_suffix(" state")], axis=1)
    return export.to_csv(index=False).encode()
