"""An independent statement of what an input cell accepts, written from docs/inputs.md (not from
piao_xls.returns.reader): the expected results of the mutation suite and of the differential test of
``validate_value``.

``accepted(raw, unit, minimum, maximum, year, date1904)`` returns ``(ok, value)``: ``ok`` False for a refused
raw value, ``value`` None for an empty cell. It takes the bounds the form states in the cell's data validation.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timedelta

NOT_AVAILABLE = "non disponibile"
# docs/inputs.md, "Every unit"
ERROR_VALUES = {"#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!", "#GETTING_DATA"}
NOT_AVAILABLE_WORDS = {"non disponibile", "n.d.", "n.d", "nd", "n/d"}
# docs/inputs.md, "Per unit"
YES_WORDS = {"sì", "si", "sí", "si'", "yes", "vero", "true"}
NO_WORDS = {"no", "falso", "false"}
TEXT_DATE = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")


def _words(text: str) -> str:
    return " ".join(text.split()).lower()


def _is_number(raw: object) -> bool:
    return isinstance(raw, (int, float)) and not isinstance(raw, bool)


def accepted(raw: object, unit: str, minimum=None, maximum=None, year: int = 2025,
             date1904: bool = False) -> tuple[bool, object]:
    if raw is None or (isinstance(raw, str) and raw.strip() == ""):
        return True, None
    if isinstance(raw, float) and (math.isnan(raw) or math.isinf(raw)):
        return False, None
    if isinstance(raw, str) and (raw.strip().upper() in ERROR_VALUES or raw.startswith("Err:")):
        return False, None
    if unit != "text" and isinstance(raw, str) and _words(raw) in NOT_AVAILABLE_WORDS:
        return True, NOT_AVAILABLE
    if unit == "text":
        text = raw if isinstance(raw, str) else (format(raw, "g") if isinstance(raw, float) else str(raw))
        fits = len(text) <= (maximum or 2000)
        return fits, text if fits else None
    if unit == "yes_no":
        if isinstance(raw, bool):
            return True, raw
        word = _words(str(raw))
        if word in YES_WORDS:
            return True, True
        if word in NO_WORDS:
            return True, False
        return False, None
    if unit == "date":
        if isinstance(raw, datetime):
            day = raw.date()
        elif isinstance(raw, date):
            day = raw
        elif _is_number(raw):
            start = datetime(1904, 1, 1) if date1904 else datetime(1899, 12, 30)
            try:
                day = (start + timedelta(days=float(raw))).date()
            except (OverflowError, ValueError):
                return False, None
        else:
            m = TEXT_DATE.fullmatch(str(raw).strip())
            if m is None:
                return False, None
            try:
                day = date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
            except ValueError:
                return False, None
        first = minimum if isinstance(minimum, date) else date(year - 1, 1, 1)
        last = maximum if isinstance(maximum, date) else date(year + 1, 12, 31)
        return (True, day) if first <= day <= last else (False, None)
    # percent, amount, number
    if not _is_number(raw):
        return False, None
    x = float(raw)
    if not math.isfinite(x):
        return False, None
    if unit == "percent":
        top = 1.0 if maximum is None else maximum
        return (True, x) if 0 <= x <= top else (False, None)
    if unit == "amount":
        if x < 0 or (maximum is not None and x > maximum):
            return False, None
        return True, x
    if unit == "number":
        if (minimum is not None and x < minimum) or (maximum is not None and x > maximum):
            return False, None
        return True, x
    raise ValueError(f"unit {unit!r} is not in docs/inputs.md")
