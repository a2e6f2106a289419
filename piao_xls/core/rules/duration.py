"""duration: a time to complete in months or years ("entro 18 mesi", "entro due anni dall'avvio", "durata
massima 6 mesi"): 100% within the duration; longer, the duration asked over the one taken."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from ..model import Rule, ScoringPolicy
from .base import SCORED, InputSpec, Kind, RuleProblem, Score, it_number, xl_number

#: the time units a duration is stated in, as the plan prints them
TIME_UNIT = re.compile(r"(?:anni|anno|mesi|mese)\b")


class Duration(Kind):
    name = "duration"
    order = 45
    label_it = "durata"
    units = ("number",)
    required = ("target", "measure")
    percent_params = ()
    doc_it = ("100% se la durata effettiva non supera quella indicata (in mesi o anni); oltre: durata indicata / "
              "durata effettiva")

    def check(self, rule: Rule) -> None:
        super().check(rule)
        if rule.measure is not None and not TIME_UNIT.match(rule.measure):
            raise RuleProblem("la regola «durata» si misura in mesi o anni (measure: mesi, anni)", "measure")
        if rule.target is not None and rule.target <= 0:
            raise RuleProblem("la durata (target) deve essere maggiore di 0", "target")

    def inputs(self, rule: Rule, year: int) -> tuple[InputSpec, ...]:
        unit = "anni" if (rule.measure or "").startswith("ann") else "mesi"
        return (InputSpec("value", f"Durata effettiva ({unit})", "number", 0.0),)

    def achievement(self, rule: Rule, values: Mapping[str, Any], policy: ScoringPolicy) -> Score:
        actual, target = float(values["value"]), rule.target or 0.0
        if actual <= target:
            return SCORED, 1.0, ""
        return SCORED, target / actual, ""

    def expression(self, rule: Rule, cells: Sequence[str], policy: ScoringPolicy) -> str:
        a, t = cells[0], xl_number(rule.target or 0.0)
        return f"IF({a}<={t},1,{t}/{a})"

    def wording(self, rule: Rule) -> str:
        return f"durata massima {it_number(rule.target or 0.0)} {rule.measure}"

    def requirement_it(self, rule: Rule) -> str:
        return f"durata effettiva al massimo di {it_number(rule.target or 0.0)} {rule.measure}"

    def describe(self, rule: Rule) -> str:
        return f"duration at most {rule.target:g} {rule.measure}"


KIND = Duration()
