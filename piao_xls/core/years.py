"""The years a plan's texts name, and the year an indicator's target belongs to (pure)."""

from __future__ import annotations

import re

from .model import Indicator

#: a year in a text: 2026, «dic-26», 31/12/26
YEAR_RE = re.compile(r"\b(20\d\d)\b|\b[a-z]{3}-(\d\d)\b|\b\d{1,2}[./-]\d{1,2}[./-](\d\d)\b", re.I)


def years_in(text: str) -> list[int]:
    """Every year ``text`` names, in order (two-digit years are 20xx)."""
    out = []
    for m in YEAR_RE.finditer(text):
        y = m.group(1) or m.group(2) or m.group(3)
        out.append(int(y) if len(y) == 4 else 2000 + int(y))
    return out


def target_year(ind: Indicator, year: int) -> int:
    """The year an indicator's target belongs to: its deadline's year, else a later year its target text
    names ("100% entro il 2026"), else the plan year. PIAO are triennial: later years are kept as printed."""
    if ind.rule.deadline is not None:
        return ind.rule.deadline.year
    if not any(ch.isdigit() for ch in ind.target_text):
        return year
    later = [y for y in years_in(ind.target_text) if y > year]
    return max(later) if later and ind.rule.kind != "increase" else year


__all__ = ["YEAR_RE", "target_year", "years_in"]
