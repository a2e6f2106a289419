"""at_least: the value reaches the target ("almeno 100%"); below it, the share of the target reached."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..model import Rule, ScoringPolicy
from .base import SCORED, Kind, Score, at_least_expression, at_least_ratio, en_quantity, it_quantity


class AtLeast(Kind):
    name = "at_least"
    order = 10
    label_it = "almeno"
    phrases = ("almeno", "non inferiore a", "non inferiore al", "non inferiore alla", "non meno di",
               "pari o superiore a", "pari o superiore al", "uguale o superiore a", "maggiore o uguale a",
               "superiore o uguale a", "maggiore o uguale al", "minimo", "min.", "non al di sotto di", ">=")
    required = ("target",)
    optional = ("measure",)
    doc_it = "valore / obiettivo, al massimo 100% (obiettivo 0: raggiunto con un valore non negativo)"

    def achievement(self, rule: Rule, values: Mapping[str, Any], policy: ScoringPolicy) -> Score:
        return SCORED, at_least_ratio(float(values["value"]), rule.target or 0.0), ""

    def expression(self, rule: Rule, cells: Sequence[str], policy: ScoringPolicy) -> str:
        return at_least_expression(cells[0], rule.target or 0.0)

    def wording(self, rule: Rule) -> str:
        return f"almeno {it_quantity(rule, rule.target)}"

    def requirement_it(self, rule: Rule) -> str:
        return (f"il valore deve essere maggiore o uguale a {it_quantity(rule, rule.target)}; se è inferiore conta "
                "in proporzione")

    def describe(self, rule: Rule) -> str:
        return f"at_least {en_quantity(rule, rule.target)} ({rule.unit})"


KIND = AtLeast()
