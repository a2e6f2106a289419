"""rate: N of something every M of something else ("1 sopralluogo ogni 50 pratiche", "almeno 2 controlli ogni
10 cantieri"): the Responsabile fills in both counts; the rate reached over the rate asked, at most 100%."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..model import Rule, ScoringPolicy
from .base import (
    INVALID,
    SCORED,
    InputSpec,
    Kind,
    RuleProblem,
    Score,
    at_least_expression,
    at_least_ratio,
    it_number,
    xl_number,
)


class Rate(Kind):
    name = "rate"
    order = 65
    label_it = "ogni"
    units = ("number",)
    required = ("target", "every")
    optional = ("measure", "per")
    percent_params = ()
    fixed_inputs = ("numerator", "denominator")
    doc_it = ("(conteggio / quantità di riferimento) / (N / M), al massimo 100%; quantità di riferimento 0: "
              "non valutabile (0)")

    def check(self, rule: Rule) -> None:
        super().check(rule)
        if rule.target is not None and rule.target <= 0:
            raise RuleProblem("nella regola «ogni» il numero richiesto (target) deve essere maggiore di 0", "target")
        if rule.every is not None and rule.every <= 0:
            raise RuleProblem("nella regola «ogni» la quantità di riferimento (every) deve essere maggiore di 0",
                              "every")

    def inputs(self, rule: Rule, year: int) -> tuple[InputSpec, ...]:
        what = f" ({rule.measure})" if rule.measure else ""
        per = f" ({rule.per})" if rule.per else ""
        return (InputSpec("numerator", f"Numero effettuato{what}", "number", 0.0),
                InputSpec("denominator", f"Quantità di riferimento{per}", "number", 0.0))

    def _rate(self, rule: Rule) -> float:
        return (rule.target or 0.0) / (rule.every or 1.0)

    def achievement(self, rule: Rule, values: Mapping[str, Any], policy: ScoringPolicy) -> Score:
        den = float(values["denominator"])
        if den == 0:
            return INVALID, 0.0, "quantità di riferimento pari a zero"
        return SCORED, at_least_ratio(float(values["numerator"]) / den, self._rate(rule)), ""

    def expression(self, rule: Rule, cells: Sequence[str], policy: ScoringPolicy) -> str:
        a, b = cells
        ratio = f"({a}/{b})/({xl_number(rule.target or 0.0)}/{xl_number(rule.every or 1.0)})"
        return f"IF({b}=0,0,{at_least_expression(ratio, 1.0)})"

    def wording(self, rule: Rule) -> str:
        what = f" {rule.measure}" if rule.measure else ""
        per = f" {rule.per}" if rule.per else ""
        return f"almeno {it_number(rule.target or 0.0)}{what} ogni {it_number(rule.every or 0.0)}{per}"

    def describe(self, rule: Rule) -> str:
        return f"rate at least {rule.target:g} every {rule.every:g}"


KIND = Rate()
