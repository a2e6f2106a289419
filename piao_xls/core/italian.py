"""Italian text of numbers, percentages, amounts, dates and plurals: one module, built on babel (CLDR it_IT).

Every figure a person reads goes through here. A figure is first rounded as published —
:func:`piao_xls.core.model.publish_round`: at 15 significant digits, then half away from zero, as Excel's
ROUND — and only then written with Italian separators, so 0.94995 is «95,00%» everywhere, and never
«94,99%» in one output and «95,00» in another. Numbers are never written in exponent notation
(2.5e6 is «2.500.000»), and a negative amount is «-1.234,50 €».
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import TypeGuard

from babel.numbers import get_decimal_symbol, get_group_symbol

from .model import publish_round

LOCALE = "it_IT"
#: the most decimals a plain number shows (beyond, it is rounded)
MAX_DECIMALS = 6
#: from here on a plain number is written as a power of ten (1e18 € is no amount anyone reports)
HUGE = 1e18
EMPTY = ""


def finite(x: object) -> TypeGuard[float]:
    """Whether ``x`` is a finite number (not a bool)."""
    if x.__class__ is float:  # most calls (hundreds of thousands for a large summary): x - x is NaN for NaN and inf
        return x - x == 0.0
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def rounded(x: float, decimals: int) -> float:
    """``x`` rounded as published: :func:`publish_round` (half away from zero, on the figure a person reads).

    Fast path: away from a half-way point (by more than a thousandth of the last digit, far more than the
    noise the 15-significant-digit reading absorbs) every rounding gives the same figure, and Python's
    ``round`` is ten times cheaper than the decimal one. tests/test_italian.py checks both agree."""
    x = float(x)
    if 0 <= decimals <= 6 and abs(x) < 1e8:
        scaled = x * _POWERS[decimals]
        if abs(scaled - math.floor(scaled) - 0.5) > 1e-3:
            return round(x, decimals)
    return publish_round(x, decimals)


_POWERS = [10.0 ** d for d in range(7)]


#: the separators of it_IT, from CLDR (babel): "." between thousands, "," before the decimals
_COMMA = get_decimal_symbol(LOCALE)
_SEPARATORS = str.maketrans({",": get_group_symbol(LOCALE), ".": _COMMA})


def _text(x: float, decimals: int) -> str:
    """``x`` (already rounded to ``decimals``) with exactly ``decimals`` decimals and it_IT separators. The
    nearest float to a figure of a few decimals prints back as that figure: no second rounding happens here."""
    if x == 0:
        x = 0.0  # never "-0"
    return f"{x:,.{max(decimals, 0)}f}".translate(_SEPARATORS)


def number(x: float, decimals: int = 2) -> str:
    """``1234567.891`` -> ``1.234.567,89``: exactly ``decimals`` decimals ("" for a value that is not finite)."""
    if not finite(x):
        return EMPTY
    key = (x, decimals)
    text = _NUMBERS.get(key)
    if text is None:
        text = _text(rounded(x, decimals), decimals)
        if len(_NUMBERS) < 1 << 16:
            _NUMBERS[key] = text
    return text


#: figures already written (a summary writes the same published figures thousands of times): (x, decimals) -> text;
#: numbers that compare equal (1 and 1.0, 0.0 and -0.0) are written alike
_NUMBERS: dict[tuple[float, int], str] = {}


def plain(x: float, decimals: int = MAX_DECIMALS) -> str:
    """A number with the decimals it has, up to ``decimals``: ``3`` -> ``3``, ``-2.5`` -> ``-2,5``,
    ``2500000.0`` -> ``2.500.000``, ``0.1 + 0.2`` -> ``0,3``."""
    if not finite(x):
        return EMPTY
    if abs(x) >= HUGE:  # an absurd figure someone typed: its order of magnitude, not 300 digits
        mantissa, exponent = f"{x:.3e}".split("e")
        return f"{plain(float(mantissa), 3)} × 10^{int(exponent)}"
    text = _text(rounded(x, decimals), decimals)
    return text.rstrip("0").rstrip(_COMMA) if _COMMA in text else text


def percent(fraction: float, decimals: int = 2) -> str:
    """``0.97`` -> ``97%``; ``0.944444`` -> ``94,44%``; ``0.94995`` -> ``95%`` (rounded as published first:
    a whole figure shows no decimals)."""
    if not finite(fraction):
        return EMPTY
    v = rounded(fraction * 100, decimals)
    return f"{_text(v, 0 if v.is_integer() else decimals)}%"


def percent_plain(fraction: float, decimals: int = 2) -> str:
    """A percentage with the decimals it has, up to ``decimals``: ``0.905`` -> ``90,5%``."""
    return f"{plain(fraction * 100, decimals)}%" if finite(fraction) else EMPTY


def amount(x: float) -> str:
    """``-1234.5`` -> ``-1.234,50 €``."""
    return f"{number(x, 2)} €" if finite(x) else EMPTY


def day(d: date | datetime | str | None) -> str:
    """A date, date-time or ISO text -> ``05/12/2025`` (``05/12/2025 10:30`` with a time of day); text that is
    not a date is returned as it is."""
    if isinstance(d, str):
        try:
            return day(datetime.fromisoformat(d.replace("Z", "+00:00")))
        except ValueError:
            return d
    if isinstance(d, datetime):
        return f"{d:%d/%m/%Y %H:%M}" if (d.hour, d.minute, d.second) != (0, 0, 0) else f"{d:%d/%m/%Y}"
    if isinstance(d, date):
        return f"{d:%d/%m/%Y}"
    return EMPTY if d is None else str(d)


def yes_no(v: bool) -> str:
    return "Sì" if v else "No"


def plural(n: int, one: str, many: str) -> str:
    """``1 segnalazione``, ``2 segnalazioni``, ``0 segnalazioni``."""
    return f"{number(n, 0)} {one if n == 1 else many}"


def value(v: object, unit: str = "", empty: str = "—", decimals: int = 2) -> str:
    """One value as a person reads it, by its unit (``percent``, ``amount``, ``date``, ``yes_no``, ``number``):
    ``95%``, ``1.234,5`` (the decimals it has, up to ``decimals``), ``1.234,50 €``, ``31/12/2025``, ``Sì``;
    ``empty`` for None."""
    if v is None:
        return empty
    if isinstance(v, bool):
        return yes_no(v)
    if isinstance(v, (date, datetime)):
        return day(v)
    if isinstance(v, (int, float)):
        if not math.isfinite(v):
            return empty
        if unit == "percent":
            return percent_plain(v, decimals)
        if unit == "amount":
            return amount(v)
        return plain(v, decimals)
    return str(v)


__all__ = ["amount", "day", "finite", "number", "percent", "percent_plain", "plain", "plural", "rounded", "value",
           "yes_no"]
