"""Cell references, one way for the whole package: 0-based (row, column) to Excel's A1 notation."""

from __future__ import annotations


def col_name(col: int) -> str:
    """0 -> 'A', 25 -> 'Z', 26 -> 'AA', 16383 -> 'XFD'."""
    if col < 0:
        raise ValueError(f"column index {col} < 0")
    out = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        out = chr(65 + rem) + out
    return out


def a1(row: int, col: int, absolute: bool = False) -> str:
    """0-based (row, col) -> 'B7' (or '$B$7' when ``absolute``)."""
    if row < 0:
        raise ValueError(f"row index {row} < 0")
    return f"${col_name(col)}${row + 1}" if absolute else f"{col_name(col)}{row + 1}"
