"""maintain: the value stays at least at its baseline ("mantenimento del livello del 2024", "non peggiorare
rispetto all'anno precedente"), optionally within a tolerance below it; under that floor, the share of it
reached.

The baseline is filled in by the Responsabile (two inputs: baseline and current value) or stated by the plan
(``baseline``: one input). The tolerance is in the value's unit (percentage points for a percentage).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from ..model import Rule, ScoringPolicy
from .base import SCORED, InputSpec, Kind, RuleProblem, Score, at_least_ratio, en_number, it_quantity, xl_number


class Maintain(Kind):
    name = "maintain"
    order = 75
    label_it = "mantenimento"
    fixed_inputs = None  # one input when the plan states the baseline, two otherwise
    optional = ("baseline", "baseline_year", "tolerance", "measure")
    percent_params = ("baseline", "tolerance")
    doc_it = ("100% se il valore attuale non scende sotto il valore di riferimento (meno la tolleranza "
              "indicata); sotto: valore attuale / (riferimento − tolleranza); riferimento 0: 100% se il valore "
              "non è negativo")

    def check(self, rule: Rule) -> None:
        super().check(rule)
        if rule.tolerance is not None and rule.tolerance < 0:
            raise RuleProblem("la tolleranza (tolerance) del mantenimento non può essere negativa", "tolerance")

    def inputs(self, rule: Rule, year: int) -> tuple[InputSpec, ...]:
        by = rule.baseline_year or year - 1
        what = re.sub(r"^(?:di|del|della|dei|delle|degli|dello|dell')\s*", "", rule.measure or "")
        suffix = " (€)" if rule.unit == "amount" else " (%)" if rule.unit == "percent" else (
            f" ({what})" if what else "")
        top = 1.0 if rule.unit == "percent" else None
        current = InputSpec("current", f"Valore {year}{suffix}", rule.unit, 0.0, top)
        if rule.baseline is not None:
            return (current,)
        return (InputSpec("baseline", f"Valore {by} (riferimento){suffix}", rule.unit, 0.0, top), current)

    def _floor(self, base: float, rule: Rule) -> float:
        return base - (rule.tolerance or 0.0)

    def achievement(self, rule: Rule, values: Mapping[str, Any], policy: ScoringPolicy) -> Score:
        base = rule.baseline if rule.baseline is not None else float(values["baseline"])
        current = float(values["current"])
        floor = self._floor(base, rule)
        if current >= floor:
            return SCORED, 1.0, ""
        if floor <= 0:
            return SCORED, 0.0, ""
        return SCORED, at_least_ratio(current, floor), ""

    def expression(self, rule: Rule, cells: Sequence[str], policy: ScoringPolicy) -> str:
        base = xl_number(rule.baseline) if rule.baseline is not None else cells[0]
        current = cells[0] if rule.baseline is not None else cells[1]
        tol = rule.tolerance or 0.0
        floor = f"({base}-{xl_number(tol)})" if tol else base
        return f"IF({current}>={floor},1,IF({floor}<=0,0,MIN(1,MAX(0,{current}/{floor}))))"

    def wording(self, rule: Rule) -> str:
        if rule.baseline is not None:
            of_year = f" del {rule.baseline_year}" if rule.baseline_year else ""
            text = f"mantenimento del valore di riferimento {it_quantity(rule, rule.baseline)}{of_year}"
        else:
            what = f" {rule.measure}" if rule.measure else ""
            year = f"del {rule.baseline_year}" if rule.baseline_year else "dell'anno precedente"
            text = f"mantenimento{what} del valore {year}"
        if rule.tolerance:
            text += f" con tolleranza di {it_quantity(replace(rule, measure=None), rule.tolerance)}"
        return text

    def requirement_it(self, rule: Rule) -> str:
        if rule.baseline is not None:  # the floor stated by the plan
            return f"il valore deve essere almeno {it_quantity(rule, self._floor(rule.baseline, rule))}"
        year = f"del {rule.baseline_year}" if rule.baseline_year else "dell'anno precedente"
        tol = f" di oltre {it_quantity(replace(rule, measure=None), rule.tolerance)}" if rule.tolerance else ""
        return f"il valore non deve scendere{tol} sotto quello {year}"

    def describe(self, rule: Rule) -> str:
        base = f" {en_number(rule.baseline)}" if rule.baseline is not None else ""
        year = f" of {rule.baseline_year}" if rule.baseline_year else " of the previous year"
        tol = f" within {en_number(rule.tolerance)}" if rule.tolerance else ""
        return f"maintain the baseline{base}{year}{tol}"


KIND = Maintain()
