"""at_most: the value does not exceed the target ("<=0", "entro 30 giorni"); optionally linear down to a
worst acceptable value."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..model import Rule, ScoringPolicy
from .base import SCORED, Kind, RuleProblem, Score, en_quantity, it_quantity, xl_number


class AtMost(Kind):
    name = "at_most"
    order = 20
    label_it = "al massimo"
    phrases = ("al massimo", "massimo", "max", "max.", "non superiore a", "non superiore al", "non superiore alla",
               "non oltre", "non più di", "non piu di", "pari o inferiore a", "pari o inferiore al",
               "uguale o inferiore a", "minore o uguale a", "inferiore o uguale a", "minore o uguale al", "fino a",
               "fino al", "entro", "entro il", "non al di sopra di", "<=")
    required = ("target",)
    optional = ("worst", "measure")
    doc_it = ("100% se il valore non supera l'obiettivo; con un valore peggiore accettabile, "
              "decresce in linea retta fino a 0 a quel valore; altrimenti 0")

    def check(self, rule: Rule) -> None:
        super().check(rule)
        if rule.worst is not None and rule.target is not None and rule.worst <= rule.target:  # target: required
            raise RuleProblem("il valore peggiore (worst) deve essere sopra il valore obiettivo "
                              "(target) in una regola «al massimo»", "worst")

    def achievement(self, rule: Rule, values: Mapping[str, Any], policy: ScoringPolicy) -> Score:
        actual, target, worst = float(values["value"]), rule.target or 0.0, rule.worst
        if actual <= target:
            return SCORED, 1.0, ""
        if worst is not None and worst > target and actual < worst:
            return SCORED, (worst - actual) / (worst - target), ""
        return SCORED, 0.0, ""

    def expression(self, rule: Rule, cells: Sequence[str], policy: ScoringPolicy) -> str:
        a, t = cells[0], xl_number(rule.target or 0.0)
        if rule.worst is not None:
            w = xl_number(rule.worst)
            return f"IF({a}<={t},1,IF({a}<{w},({w}-{a})/({w}-{t}),0))"
        return f"IF({a}<={t},1,0)"

    def wording(self, rule: Rule) -> str:
        worst = f" (valore peggiore accettabile {it_quantity(rule, rule.worst)})" if rule.worst is not None else ""
        return f"al massimo {it_quantity(rule, rule.target)}{worst}"

    def requirement_it(self, rule: Rule) -> str:
        target = it_quantity(rule, rule.target)
        if rule.worst is not None:
            worst = it_quantity(rule, rule.worst)
            return f"il valore deve essere minore o uguale a {target}; oltre, scende fino a 0 a {worst}"
        return f"il valore deve essere minore o uguale a {target}; altrimenti conta 0"

    def describe(self, rule: Rule) -> str:
        worst = f", worst acceptable {en_quantity(rule, rule.worst)}" if rule.worst is not None else ""
        return f"at_most {en_quantity(rule, rule.target)} ({rule.unit}{worst})"


KIND = AtMost()
