"""fraction: numerator / denominator reaches a target share ("Accertamento del 100% delle somme stanziate"
with a description naming numerator/denominator)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..model import Rule, ScoringPolicy
from .base import INVALID, SCORED, InputSpec, Kind, Score, at_least_expression, at_least_ratio, en_quantity, it_quantity


class Fraction(Kind):
    name = "fraction"
    order = 60
    label_it = "rapporto"
    units = ("percent",)
    default_unit = "percent"
    required = ("target",)
    fixed_inputs = ("numerator", "denominator")
    doc_it = "(numeratore / denominatore) / obiettivo, al massimo 100%; denominatore 0: non valutabile (0)"

    def inputs(self, rule: Rule, year: int) -> tuple[InputSpec, ...]:
        return (InputSpec("numerator", "Numeratore: accertato (€)", "amount", 0.0),
                InputSpec("denominator", "Denominatore: stanziato (€)", "amount", 0.0))

    def achievement(self, rule: Rule, values: Mapping[str, Any], policy: ScoringPolicy) -> Score:
        den = float(values["denominator"])
        if den == 0:
            return INVALID, 0.0, "denominatore pari a zero"
        return SCORED, at_least_ratio(float(values["numerator"]) / den, rule.target or 0.0), ""

    def expression(self, rule: Rule, cells: Sequence[str], policy: ScoringPolicy) -> str:
        a, b = cells
        return f"IF({b}=0,0,{at_least_expression(f'{a}/{b}', rule.target or 0.0)})"

    def requirement_it(self, rule: Rule) -> str:
        return (f"numeratore/denominatore deve essere almeno {it_quantity(rule, rule.target)}; se è inferiore conta "
                "in proporzione")

    def wording(self, rule: Rule) -> str:
        return f"rapporto numeratore/denominatore almeno {it_quantity(rule, rule.target)}"

    def describe(self, rule: Rule) -> str:
        return f"fraction numerator/denominator at_least {en_quantity(rule, rule.target)}"


KIND = Fraction()
