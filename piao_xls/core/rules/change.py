"""What the two kinds of change against a baseline share (:mod:`.increase`, :mod:`.decrease`).

The baseline is either filled in by the Responsabile (two inputs: baseline and current value) or stated
by the plan (``baseline``: one input). The value to reach is ``target`` when the plan states it
("da 60 a 20 giorni"), else the baseline changed by the stated share ("riduzione del 10%").
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, cast

from ..model import Rule, ScoringPolicy
from .base import InputSpec, Kind, RuleProblem, en_number, it_number, it_quantity, xl_number


class Change(Kind):
    share = ""  # the Rule field holding the share of change: "increase" or "decrease"
    sign = "+"
    word = ""  # "incremento" / "riduzione"
    units = ("number", "amount")
    percent_params = ()
    fixed_inputs = None  # one input when the plan states the baseline, two otherwise
    optional = ("target", "baseline", "baseline_year", "measure")

    def check(self, rule: Rule) -> None:
        super().check(rule)
        p = getattr(rule, self.share)
        if p is None and rule.target is None:
            raise RuleProblem(f"la regola «{self.label_it or self.name}» richiede la variazione ({self.share})", self.share)
        if p is not None and rule.target is not None:
            raise RuleProblem(f"la regola «{self.label_it or self.name}» indica la variazione "
                              f"({self.share}) oppure il valore da raggiungere (target), non entrambi", "target")
        if rule.target is not None and rule.baseline is None:
            raise RuleProblem(f"la regola «{self.label_it or self.name}» con un valore da raggiungere "
                              "richiede il valore di partenza (baseline)", "baseline")
        if p is not None and not 0 <= p <= self.max_share:
            raise RuleProblem(f"la variazione ({self.share}) deve essere tra 0% e "
                              f"{it_number(self.max_share * 100)}%", self.share)

    max_share = float("inf")

    def inputs(self, rule: Rule, year: int) -> tuple[InputSpec, ...]:
        by = rule.baseline_year or year - 1
        unit = rule.unit
        what = re.sub(r"^(?:di|del|della|dei|delle|degli|dello|dell')\s*", "", rule.measure or "")  # "tempi di attesa"
        suffix = " (€)" if unit == "amount" else f" ({what})" if what else ""
        current = InputSpec("current", f"Valore {year}{suffix}", unit, 0.0)
        if rule.baseline is not None:
            return (current,)
        return (InputSpec("baseline", f"Valore {by} (riferimento){suffix}", unit, 0.0), current)

    def values(self, rule: Rule, values: Mapping[str, Any]) -> tuple[float, float]:
        base = rule.baseline if rule.baseline is not None else float(values["baseline"])
        return base, float(values["current"])

    def cells(self, rule: Rule, cells: Sequence[str]) -> tuple[str, str]:
        """(baseline, current) as formula terms: the baseline is a constant when the plan states it."""
        if rule.baseline is not None:
            return xl_number(rule.baseline), cells[0]
        return cells[0], cells[1]

    def expression(self, rule: Rule, cells: Sequence[str], policy: ScoringPolicy) -> str:
        return self.expression2(rule, *self.cells(rule, cells))

    def expression2(self, rule: Rule, a: str, b: str) -> str:
        """The achievement over the baseline ``a`` and the current value ``b`` (formula terms)."""
        raise NotImplementedError(f"{type(self).__name__} must define expression2()")

    def _reference(self, rule: Rule) -> str:
        year = f"al {rule.baseline_year}" if rule.baseline_year else "all'anno precedente"
        return f"rispetto {year}"

    def wording(self, rule: Rule) -> str:
        year = f" rispetto al {rule.baseline_year}" if rule.baseline_year else ""
        if rule.target is not None:
            return f"{self.word} da {it_number(cast(float, rule.baseline))} a {it_quantity(rule, rule.target)}{year}"
        share = f"{self.sign}{it_number(round(getattr(rule, self.share) * 100, 10))}%"
        if rule.baseline is not None:
            of_year = f" del {rule.baseline_year}" if rule.baseline_year else ""
            return f"{share} rispetto al valore di riferimento {it_quantity(rule, rule.baseline)}{of_year}"
        what = f" {rule.measure}" if rule.measure else ""  # "-10% dei tempi di attesa rispetto al 2024"
        return f"{share}{what} {self._reference(rule)}"

    def describe(self, rule: Rule) -> str:
        base = f" over {rule.baseline_year}" if rule.baseline_year else " over baseline"
        if rule.baseline is not None:
            base += f" (baseline {en_number(rule.baseline)})"
        if rule.target is not None:
            return f"{self.name} to {en_number(rule.target)}{base}"
        return f"{self.name} {self.sign}{getattr(rule, self.share) * 100:g}%{base}"
