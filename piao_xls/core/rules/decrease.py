"""decrease: the current value falls by a share of the baseline ("riduzione del 10%", "-10%", "dimezzamento")
or to a stated value ("da 60 a 20 giorni")."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..model import Rule, ScoringPolicy
from .base import SCORED, Score, clamp01, xl_number
from .change import Change


class Decrease(Change):
    name = "decrease"
    order = 71
    label_it = "riduzione"
    share = "decrease"
    sign = "-"
    word = "riduzione"
    max_share = 1.0
    doc_it = ("100% se il valore attuale non supera il valore da raggiungere (riferimento × (1 − riduzione), "
              "o il valore indicato); altrimenti la parte di riduzione ottenuta, (riferimento − attuale) / "
              "(riferimento − valore da raggiungere)")

    def required_value(self, rule: Rule, base: float) -> float:
        if rule.target is not None:
            return rule.target
        factor = 1 - (rule.decrease or 0.0)
        return base * factor

    def achievement(self, rule: Rule, values: Mapping[str, Any], policy: ScoringPolicy) -> Score:
        base, current = self.values(rule, values)
        goal = self.required_value(rule, base)
        if current <= goal:
            return SCORED, 1.0, ""
        if base <= goal:
            return SCORED, 0.0, ""
        return SCORED, clamp01((base - current) / (base - goal)), ""

    def expression2(self, rule: Rule, a: str, b: str) -> str:
        goal = xl_number(rule.target) if rule.target is not None else f"{a}*{xl_number(1 - (rule.decrease or 0.0))}"
        return f"IF({b}<={goal},1,IF({a}<={goal},0,MIN(1,MAX(0,({a}-{b})/({a}-{goal})))))"


KIND = Decrease()
