"""increase: the current value grows by a share of the baseline ("+60% rispetto al 2024", "incremento del 5%",
"raddoppio") or to a stated value ("incremento da 10 a 20")."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..model import Rule, ScoringPolicy
from .base import SCORED, Score, at_least_expression, at_least_ratio, xl_number
from .change import Change


class Increase(Change):
    name = "increase"
    order = 70
    label_it = "incremento"
    share = "increase"
    sign = "+"
    word = "incremento"
    doc_it = ("valore attuale / valore da raggiungere (riferimento × (1 + incremento), o il valore indicato), "
              "al massimo 100%; riferimento 0: 100% se il valore attuale è positivo")

    def achievement(self, rule: Rule, values: Mapping[str, Any], policy: ScoringPolicy) -> Score:
        base, current = self.values(rule, values)
        if rule.target is not None:
            return SCORED, at_least_ratio(current, rule.target), ""
        if base == 0:
            return SCORED, 1.0 if current > 0 else 0.0, ""
        return SCORED, at_least_ratio(current, base * (1 + (rule.increase or 0.0))), ""

    def expression2(self, rule: Rule, a: str, b: str) -> str:
        if rule.target is not None:
            return at_least_expression(b, rule.target)
        factor = xl_number(1 + (rule.increase or 0.0))
        return f"IF({a}=0,IF({b}>0,1,0),MIN(1,MAX(0,{b}/({a}*{factor}))))"


KIND = Increase()
