"""equal: the value equals the target, within a tolerance the plan may state ("pari a 100", "= 95% ± 2%")."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..model import Rule, ScoringPolicy
from .base import SCORED, Kind, RuleProblem, Score, en_quantity, it_quantity, xl_number

SLACK = 1e-9  # binary floating point: 0.93 - 0.95 is 0.020000000000000018, within a tolerance of 2%


def _limit(rule: Rule) -> float:
    return (rule.tolerance or 0.0) + SLACK


class Equal(Kind):
    name = "equal"
    order = 25
    label_it = "pari a"
    phrases = ("pari a", "pari al", "uguale a", "uguale al", "esattamente", "=")
    required = ("target",)
    optional = ("tolerance", "measure")
    doc_it = "100% se il valore è pari all'obiettivo (entro la tolleranza indicata), altrimenti 0"

    def check(self, rule: Rule) -> None:
        super().check(rule)
        if rule.tolerance is not None and rule.tolerance < 0:
            raise RuleProblem("la tolleranza (tolerance) non può essere negativa", "tolerance")

    def achievement(self, rule: Rule, values: Mapping[str, Any], policy: ScoringPolicy) -> Score:
        return SCORED, 1.0 if abs(float(values["value"]) - (rule.target or 0.0)) <= _limit(rule) else 0.0, ""

    def expression(self, rule: Rule, cells: Sequence[str], policy: ScoringPolicy) -> str:
        return f"IF(ABS({cells[0]}-{xl_number(rule.target or 0.0)})<={xl_number(_limit(rule))},1,0)"

    def requirement_it(self, rule: Rule) -> str:
        tol = (f", con uno scarto ammesso di {it_quantity(rule, rule.tolerance)}" if rule.tolerance else "")
        return f"il valore deve essere uguale a {it_quantity(rule, rule.target)}{tol}"

    def wording(self, rule: Rule) -> str:
        tol = f" ± {it_quantity(rule, rule.tolerance)}" if rule.tolerance else ""
        return f"pari a {it_quantity(rule, rule.target)}{tol}"

    def describe(self, rule: Rule) -> str:
        tol = f" ± {en_quantity(rule, rule.tolerance)}" if rule.tolerance else ""
        return f"equal {en_quantity(rule, rule.target)}{tol} ({rule.unit})"


KIND = Equal()
