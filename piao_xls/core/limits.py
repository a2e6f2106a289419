"""The upper limit of a percent input, from its indicator (pure).

A *share* (the part of a whole: "% Procedimenti conclusi …", "% Fatture liquidate … / Totale fatture",
"giudizio da 0 a 100") cannot exceed 100%. Any other percentage can (a satisfaction rate "rispetto al
previsto", a coverage above plan): it gets a generous limit, so that 105% can be typed and scores 1.
The data validation of the cell, the reader and the scoring use this one limit.
"""

from __future__ import annotations

import re

from .model import Indicator, Rule

SHARE_LIMIT = 1.0  # 100%
GENEROUS_LIMIT = 10.0  # 1000%

_SHARE = re.compile(r"^\s*(%|percentuale\b|quota\b|tasso\b)|/|\bsul totale\b|\bda 0 a 100\b")
_NOT_SHARE = re.compile(r"\brispetto al(?:l[ao']|lo)?\b|\bincremento\b|\baumento\b|\bvariazione\b|\bcrescita\b"
                        r"|\bscostamento\b")


def is_share(description: str) -> bool:
    """True when an indicator's description reads as the part of a whole (at most 100%)."""
    text = " ".join((description or "").lower().split())
    return bool(_SHARE.search(text)) and not _NOT_SHARE.search(text)


def percent_limit(rule: Rule, description: str = "") -> float:
    """The largest value (as a fraction: 1.0 = 100%) a percent input of this indicator accepts."""
    base = SHARE_LIMIT if is_share(description) else GENEROUS_LIMIT
    return max(base, rule.target or 0.0, rule.high or 0.0, rule.worst or 0.0)


def indicator_percent_limit(ind: Indicator) -> float:
    return percent_limit(ind.rule, ind.description)
