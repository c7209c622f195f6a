"""Where each element sits in an 18-column periodic table (f-block in two rows below)."""

from __future__ import annotations

from ase.data import chemical_symbols

#: Rows 1–7 are periods; lanthanides and actinides go to rows 9 and 10 (row 8 is a gap).
F_BLOCK_ROWS = {6: 9, 7: 10}
_PERIOD_STARTS = (1, 3, 11, 19, 37, 55, 87, 119)


def position(number: int) -> tuple[int, int]:
    """Return ``(row, column)`` of an element, both 1-based, for atomic numbers 1–118.

    Parameters
    ----------
    number
        Atomic number.

    Returns
    -------
    tuple[int, int]
        Row (period, or 9/10 for the lanthanides/actinides) and column (group, or 3–17
        across the f-block rows).
    """
    if not 1 <= number <= 118:
        raise ValueError(f"No element with atomic number {number}.")
    period = next(p for p in range(1, 8) if _PERIOD_STARTS[p - 1] <= number < _PERIOD_STARTS[p])
    offset = number - _PERIOD_STARTS[period - 1]  # 0-based place in its period
    if period == 1:
        return 1, 1 if number == 1 else 18
    if period in (2, 3):
        return period, offset + 1 if offset < 2 else offset + 11
    if period in (4, 5):
        return period, offset + 1
    if offset < 2:
        return period, offset + 1
    if offset < 17:  # La..Lu or Ac..Lr
        return F_BLOCK_ROWS[period], offset + 1
    return period, offset - 13


def table() -> list[tuple[str, int, int, int]]:
    """Return ``(symbol, atomic number, row, column)`` for every element 1–118."""
    return [(chemical_symbols[z], z, *position(z)) for z in range(1, 119)]
