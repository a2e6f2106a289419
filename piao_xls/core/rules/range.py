"""range: the value lies between two bounds ("90% ≤ x ≤ 100%", "tra 10 e 20"); outside, proportionally less."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..model import Rule, ScoringPolicy
from .base import SCORED, Kind, RuleProblem, Score, en_quantity, it_number, it_quantity, xl_number


class Range(Kind):
    name = "range"
    order = 30
    label_it = "intervallo"
    required = ("low", "high")
    optional = ("measure",)
    doc_it = "100% tra i due limiti; sotto: valore / minimo; sopra: massimo / valore"

    def check(self, rule: Rule) -> None:
        super().check(rule)
        low, high = rule.low, rule.high
        if low is not None and high is not None and low > high:  # both required: checked above
            raise RuleProblem(f"nell'intervallo il minimo {it_number(low)} supera il massimo "
                              f"{it_number(high)}", "low")

    def achievement(self, rule: Rule, values: Mapping[str, Any], policy: ScoringPolicy) -> Score:
        actual, low, high = float(values["value"]), rule.low or 0.0, rule.high or 0.0
        if low <= actual <= high:
            return SCORED, 1.0, ""
        if actual < low:
            return SCORED, (max(0.0, actual / low) if low > 0 else 0.0), ""
        return SCORED, (high / actual if actual > 0 else 0.0), ""

    def expression(self, rule: Rule, cells: Sequence[str], policy: ScoringPolicy) -> str:
        a = cells[0]
        lo, hi = xl_number(rule.low or 0.0), xl_number(rule.high or 0.0)
        below = f"MAX(0,{a}/{lo})" if (rule.low or 0) > 0 else "0"
        return f"IF(AND({a}>={lo},{a}<={hi}),1,IF({a}<{lo},{below},IF({a}>0,{hi}/{a},0)))"

    def requirement_it(self, rule: Rule) -> str:
        return (f"il valore deve essere compreso tra {it_quantity(rule, rule.low)} e "
                f"{it_quantity(rule, rule.high)} (estremi inclusi)")

    def wording(self, rule: Rule) -> str:
        return f"tra {it_quantity(rule, rule.low)} e {it_quantity(rule, rule.high)}"

    def describe(self, rule: Rule) -> str:
        return f"range {en_quantity(rule, rule.low)}..{en_quantity(rule, rule.high)} ({rule.unit})"


KIND = Range()
