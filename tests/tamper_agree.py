"""Runs every tampering check of the reader twice, quick and cell by cell, and records where they differ."""

from __future__ import annotations

from piao_xls.returns import reader


def install(setattr_=setattr) -> list[str]:
    """Wrap :func:`reader._check_tamper` (with ``setattr_``, e.g. pytest's monkeypatch.setattr); returns the
    list that collects each disagreement between the two paths."""
    check, untouched = reader._check_tamper, reader._untouched
    disagreements: list[str] = []

    def both(sheet, layout, exp, book, file, severity=reader.ERROR):
        fast = check(sheet, layout, exp, book, file, severity)
        reader._untouched = lambda *_: False
        try:
            slow = check(sheet, layout, exp, book, file, severity)
        finally:
            reader._untouched = untouched
        if [f.to_dict() for f in fast] != [f.to_dict() for f in slow]:
            disagreements.append(f"{file} {layout.name}: quick {[f.message for f in fast][:3]}, "
                                 f"cell by cell {[f.message for f in slow][:3]}")
        return fast

    setattr_(reader, "_check_tamper", both)
    return disagreements
