"""Terminal rendering of Arrow results: rich tables with scores coloured by state."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:  # rendering needs no pyarrow: ``mlpeg leaderboard`` does not import it
    import pyarrow as pa

#: How each non-ok state is shown, so not run, failed, unsupported and filtered never
#: look alike (and never look like a blank).
STATE_STYLES: dict[str, tuple[str, str]] = {
    "not_run": ("not run", "dim"),
    "failed": ("failed", "bold red"),
    "unsupported": ("unsupported", "magenta"),
    "filtered": ("filtered", "cyan"),
}


def score_text(score: float | None, state: str | None = None) -> Text:
    """Render a 0–1 score on a red→green scale, or its state when there is no score."""
    if score is None or (isinstance(score, float) and math.isnan(score)):
        label, style = STATE_STYLES.get(state or "", ("–", "dim"))
        return Text(label, style=style)
    red = int(255 * (1 - score))
    green = int(200 * score)
    return Text(f"{score:.3f}", style=f"rgb({red},{green},60)")


#: Markers beside a score: D3(BJ) was added to the model; only a quick band or subset ran.
D3_MARK = "ᴰ³"
QUICK_MARK = "*"
MARKS_LEGEND = (
    f"{D3_MARK} D3(BJ) added (the benchmark declares dispersion)   "
    f"{QUICK_MARK} quick band or subset, not the full benchmark (mlpeg calc --full)"
)


def interval_text(interval: tuple[float | None, float | None] | None) -> str:
    """Render a 95 % interval as ``±`` half its width (`` ±0.021``), or nothing without one."""
    if interval is None or interval[0] is None or interval[1] is None:
        return ""
    return f" ±{(interval[1] - interval[0]) / 2:.3f}"


#: What ``±`` means beside a score (the CLI's ``--ci`` and the app).
INTERVAL_LEGEND = (
    "± half the width of the 95 % bootstrap interval (csv, json and markdown give its ends: "
    "<column>__lo, <column>__hi)"
)


def marked_score(
    score: float | None,
    state: str | None = None,
    *,
    d3: bool = False,
    quick: bool = False,
    interval: tuple[float | None, float | None] | None = None,
) -> Text:
    """Render a score as :func:`score_text` with its interval and the D3 and quick markers."""
    text = score_text(score, state)
    if score is None or (isinstance(score, float) and math.isnan(score)):
        return text
    if interval is not None:
        text.append(interval_text(interval), style="dim")
    marks = (D3_MARK if d3 else "") + (QUICK_MARK if quick else "")
    if marks:
        text.append(marks, style="dim")
    return text


def value_text(value: Any) -> str:
    """Format one cell for display."""
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def arrow_table(result: pa.Table, *, title: str | None = None, max_rows: int = 200) -> Table:
    """Render an Arrow table as a rich table (first ``max_rows`` rows)."""
    table = Table(title=title, show_lines=False, header_style="bold")
    for name in result.column_names:
        table.add_column(name)
    for row in result.slice(0, max_rows).to_pylist():
        table.add_row(*(value_text(v) for v in row.values()))
    if result.num_rows > max_rows:
        table.caption = f"{max_rows} of {result.num_rows} rows shown"
    return table


def _interval(row: dict, column: str, shown: bool) -> tuple | None:
    return (row.get(f"{column}__lo"), row.get(f"{column}__hi")) if shown else None


def leaderboard_table(
    result: pa.Table | Sequence[dict[str, Any]],
    categories: dict[str, str],
    title: str,
    *,
    weights: dict[str, float] | None = None,
    intervals: bool = False,
) -> Table:
    """Render the ``leaderboard`` view: model, overall, one coloured column per category.

    Parameters
    ----------
    result
        Rows of the ``leaderboard`` view (an Arrow table, or one dict per row).
    categories
        Category key → title, in column order.
    title
        The table's title.
    weights
        Category key → weight, shown under each title (a category weighted 0 does not
        move ``overall``, which would otherwise puzzle a reader).
    intervals
        Show ``±`` half the 95 % interval after each score, from the ``<column>__lo`` and
        ``<column>__hi`` entries of the rows.

    Returns
    -------
    rich.table.Table
        Categories that no model has run are left out of the columns, so that a narrow
        terminal shows the scores, and are named in the caption instead.
    """
    rows = result.to_pylist() if hasattr(result, "to_pylist") else list(result)
    shown = {
        key: name
        for key, name in categories.items()
        if any(row.get(f"{key}__state") != "not_run" for row in rows)
    }
    table = Table(title=title, header_style="bold")
    table.add_column("model", no_wrap=True)
    table.add_column("overall", justify="right")
    for key, name in shown.items():
        header = name if weights is None else f"{name}\nweight {weights[key]:g}"
        table.add_column(header, justify="right")
    any_marks = False
    for row in rows:
        name = row["model_key"]
        if row.get("model_kind") == "baseline":
            name = f"{name} [dim](baseline)[/]"
        cells = [
            name,
            marked_score(
                row["overall"], row["state"], interval=_interval(row, "overall", intervals)
            ),
        ]
        for key in shown:
            marks = (row.get(f"{key}__marks") or "").split()
            any_marks = any_marks or bool(marks)
            cells.append(
                marked_score(
                    row.get(key),
                    row.get(f"{key}__state"),
                    d3="D3" in marks,
                    quick="quick" in marks,
                    interval=_interval(row, key, intervals),
                )
            )
        table.add_row(*cells)
    unrun = [name for key, name in categories.items() if key not in shown]
    captions = [MARKS_LEGEND] if any_marks else []
    if intervals:
        captions.append(INTERVAL_LEGEND)
    if rows and unrun:
        captions.append("Not run by any model: " + ", ".join(unrun))
    if any(row.get("model_kind") == "baseline" for row in rows):
        captions.append("(baseline): a reference method such as GFN2-xTB, not an MLIP")
    table.caption = "\n".join(captions) or None
    return table
