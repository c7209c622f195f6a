"""Output of the listing commands (benchmarks, models, leaderboard) in four formats.

``table`` is a rich table for people; ``csv``, ``json`` and ``markdown`` are for pipes,
files and documents. A table written to a pipe or a file is never cut to the width of a
terminal that is not there: keys stay whole, so ``mlpeg benchmarks | grep GSCDB`` works.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from typing import Any, TextIO

from rich.console import Console, RenderableType


class ListFormat(StrEnum):
    """Formats of the listing commands."""

    TABLE = "table"
    CSV = "csv"
    JSON = "json"
    MARKDOWN = "markdown"


#: Width given to rich when writing to a pipe or file: wide enough for any row.
UNBOUNDED_WIDTH = 100_000


def table_console(file: TextIO | None = None) -> Console:
    """Return a console for tables: the terminal's width, or unbounded off a terminal."""
    stream = file or sys.stdout
    if stream.isatty():
        return Console(file=stream)
    return Console(file=stream, width=UNBOUNDED_WIDTH)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list | tuple):
        return ", ".join(_cell(v) for v in value)
    return str(value)


def markdown(rows: list[dict[str, Any]], columns: list[str]) -> str:
    """Return rows as a GitHub-flavoured Markdown table (pipes in cells escaped)."""
    lines = [
        "| " + " | ".join(columns) + " |",
        "| " + " | ".join("---" for _ in columns) + " |",
    ]
    for row in rows:
        cells = [
            _cell(row.get(column)).replace("|", "\\|").replace("\n", " ") for column in columns
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def emit(
    rows: list[dict[str, Any]],
    format_: ListFormat,
    *,
    table: RenderableType | None = None,
    columns: list[str] | None = None,
    file: TextIO | None = None,
) -> None:
    """Write rows in ``format_``; ``table`` is what the ``table`` format prints.

    Parameters
    ----------
    rows
        One dict per row (the machine-readable columns).
    format_
        ``table``, ``csv``, ``json`` (a list of objects) or ``markdown``.
    table
        The rich renderable for ``table`` (people's view; may colour and abbreviate).
    columns
        Column order for csv and markdown (default: the first row's keys).
    file
        Where to write (default: stdout).
    """
    stream = file or sys.stdout
    columns = columns or (list(rows[0]) if rows else [])
    if format_ == ListFormat.TABLE:
        table_console(stream).print(table if table is not None else markdown(rows, columns))
    elif format_ == ListFormat.JSON:
        stream.write(json.dumps(rows, default=str, ensure_ascii=False, indent=1) + "\n")
    elif format_ == ListFormat.MARKDOWN:
        stream.write(markdown(rows, columns))
    else:
        import polars as pl  # only for csv: polars takes a tenth of a second to import

        flat = [{c: _flat(row.get(c)) for c in columns} for row in rows]
        frame = pl.DataFrame(flat, schema=_csv_schema(flat, columns), strict=False)
        stream.write(frame.write_csv())


def _flat(value: Any) -> Any:
    """CSV cells hold scalars: lists are joined with '; ', times and the rest as text."""
    if isinstance(value, list | tuple):
        return "; ".join(str(v) for v in value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _csv_schema(rows: list[dict[str, Any]], columns: list[str]) -> dict[str, Any]:
    """Polars type per column from its values: bool, int, float (ints among floats), else text."""
    import polars as pl

    schema: dict[str, Any] = {}
    for column in columns:
        kinds = {type(row[column]) for row in rows if row[column] is not None}
        if kinds == {bool}:
            schema[column] = pl.Boolean
        elif kinds == {int}:
            schema[column] = pl.Int64
        elif kinds and kinds <= {int, float}:
            schema[column] = pl.Float64
        else:
            schema[column] = pl.String
    return schema
