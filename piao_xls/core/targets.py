"""Target rules: from the Italian target text printed in the PIAO to a :class:`Rule`.

Pure functions. :func:`interpret` reads phrases such as ``100%``, ``<=0``,
``90% ≤ x ≤ 100%``, ``Novembre``, ``Entro il 31/12/2025``, ``entro dicembre 2025``,
``Accertamento del 100% delle somme stanziate nel Bilancio 2025`` or
``... il 60% in più rispetto al 2024``; an empty target makes the indicator informative.
:func:`inputs_for` says what a person fills in for each rule.
"""

from __future__ import annotations

import calendar
import functools
import re
from datetime import date

from .model import Rule
from .rules import InputSpec, kind_of

MONTHS = {
    "gennaio": 1, "febbraio": 2, "marzo": 3, "aprile": 4, "maggio": 5, "giugno": 6,
    "luglio": 7, "agosto": 8, "settembre": 9, "ottobre": 10, "novembre": 11, "dicembre": 12,
}
MONTH_ABBR = {name[:3]: n for name, n in MONTHS.items()}

_NUM = r"[-+]?\d+(?:[.,]\d+)?"


class TargetError(ValueError):
    """The target text cannot be read as a rule."""


def _num(s: str) -> float:
    s = s.strip().replace(" ", "")
    if "," in s and "." in s:  # 1.234,56
        s = s.replace(".", "").replace(",", ".")
    else:
        s = s.replace(",", ".")
    return float(s)


def _end_of_month(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _two_digit_year(y: int) -> int:
    return 2000 + y if y < 100 else y


def parse_date(text: str, year: int) -> date | None:
    """Find a date in an Italian deadline phrase; a bare month means its last day of ``year``."""
    t = text.strip().lower()
    try:
        m = re.search(r"(?<!\d)(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)", t)  # ISO 2025-12-31
        if m:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        m = re.search(r"(?<!\d)(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{2,4})(?!\d)", t)
        if m:
            d, mo, y = int(m.group(1)), int(m.group(2)), _two_digit_year(int(m.group(3)))
            return date(y, mo, d)
        m = re.search(r"(?<!\d)(\d{1,2})\s*[\-\s]\s*([a-z]{3,9})\s*[\-\s]\s*(\d{2,4})\b", t)
        if m and (m.group(2) in MONTHS or m.group(2)[:3] in MONTH_ABBR):
            mo = MONTHS.get(m.group(2)) or MONTH_ABBR[m.group(2)[:3]]
            return date(_two_digit_year(int(m.group(3))), mo, int(m.group(1)))
        for name, mo in MONTHS.items():
            m = re.search(rf"\b{name}\b(?:\s+(\d{{4}}))?", t)
            if m:
                return _end_of_month(int(m.group(1)) if m.group(1) else year, mo)
    except ValueError:  # 31/02/2025, year 0: no such day
        return None
    return None


_DEADLINE_ONLY = re.compile(
    r"^(entro\s+(il\s+|l'|la\s+)?)?("
    r"\d{1,2}\s*[/.\-]\s*\d{1,2}\s*[/.\-]\s*\d{2,4}"
    r"|\d{1,2}[\-\s][a-z]{3,9}[\-\s]\d{2,4}"
    r"|(" + "|".join(MONTHS) + r")(\s+\d{4})?"
    r")$"
)


def interpret(text: str, description: str = "", year: int = 2025) -> Rule:
    """Interpret a printed target. Raises :class:`TargetError` when it cannot."""
    raw = " ".join((text or "").split())
    t = raw.lower().replace("≥", ">=").replace("≤", "<=").replace("=<", "<=").replace("=>", ">=")
    desc = (description or "").lower()
    if not t:
        return Rule("informative", unit=_unit_for(desc))

    # "+60% rispetto al 2024", "il 60% in più rispetto al 2024": increase over a baseline year
    m = re.search(rf"({_NUM})\s*%\s*(?:in\s+più|in\s+piu|di\s+più|in\s+aumento)?\s*rispetto\s+al(?:l')?\s*(\d{{4}})", t)
    if m and ("più" in t or "piu" in t or "+" in m.group(1) or "aumento" in t):
        return Rule("increase", unit="number", increase=abs(_num(m.group(1))) / 100, baseline_year=int(m.group(2)))

    # "90% <= x <= 100%"
    m = re.fullmatch(rf"({_NUM})\s*(%?)\s*<=?\s*x\s*<=?\s*({_NUM})\s*(%?)", t)
    if m:
        pct = bool(m.group(2) or m.group(4))
        lo, hi = _num(m.group(1)), _num(m.group(3))
        if lo > hi:
            raise TargetError(f"range {raw!r} has its lower bound above its upper bound")
        return Rule("range", unit="percent" if pct else "number",
                    low=lo / 100 if pct else lo, high=hi / 100 if pct else hi)

    # "Accertamento del 100% delle somme stanziate ..." with "importo accertate / importo stanziate"
    m = re.search(rf"({_NUM})\s*%", t)
    if m and "/" in desc and ("somme" in t or "accertament" in t or "importo" in desc):
        return Rule("fraction", unit="percent", target=_num(m.group(1)) / 100)

    # "<=0", "< 30 giorni", ">= 80%", "100%", "50"
    m = re.fullmatch(rf"(<=|<|>=|>)?\s*({_NUM})\s*(%|€|euro|giorni|gg\.?)?", t)
    if m:
        op, value, suffix = m.group(1) or ">=", _num(m.group(2)), m.group(3) or ""
        unit = "percent" if suffix == "%" else "amount" if suffix in ("€", "euro") else "number"
        if unit == "percent":
            value /= 100
        return Rule("at_most" if op.startswith("<") else "at_least", unit=unit, target=value)

    if t in ("sì", "si", "sì/no", "si/no", "realizzato", "raggiunto"):
        return Rule("yes_no", unit="yes_no")

    if _DEADLINE_ONLY.match(t):
        d = parse_date(t, year)
        if d is not None:
            return Rule("deadline", unit="date", deadline=d)

    raise TargetError(
        f"cannot interpret target {raw!r}; state the rule explicitly, e.g. "
        "rule: {kind: at_least, unit: percent, target: 100%}"
    )


def _unit_for(desc: str) -> str:
    if "%" in desc:
        return "percent"
    if "somme" in desc or "importo" in desc or "€" in desc:
        return "amount"
    return "number"


def inputs_for(rule: Rule, year: int) -> tuple[InputSpec, ...]:
    """What a person fills in for this rule, in order (asks the rule's kind)."""
    return kind_of(rule.kind).inputs(rule, year)


@functools.lru_cache(maxsize=4096)
def explain_it(rule: Rule) -> str:
    """The target in Italian, for input messages and the Istruzioni sheet (memoized: plans repeat targets)."""
    return kind_of(rule.kind).wording(rule)
