"""yes_no: done or not ("Sì", "realizzato", "adottato")."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..answers import yes_formula
from ..model import Rule, ScoringPolicy
from .base import SCORED, InputSpec, Kind, Score


class YesNo(Kind):
    name = "yes_no"
    order = 50
    label_it = "sì/no"
    units = ("yes_no",)
    default_unit = "yes_no"
    percent_params = ()
    doc_it = "100% con «Sì», 0 con «No»"

    def inputs(self, rule: Rule, year: int) -> tuple[InputSpec, ...]:
        return (InputSpec("value", "Raggiunto (Sì/No)", "yes_no"),)

    def achievement(self, rule: Rule, values: Mapping[str, Any], policy: ScoringPolicy) -> Score:
        return SCORED, 1.0 if values["value"] else 0.0, ""

    def formula(self, rule: Rule, cells: Sequence[str], policy: ScoringPolicy) -> str | None:
        return f"=IF({yes_formula(cells[0])},1,0)"

    def requirement_it(self, rule: Rule) -> str:
        return "la risposta attesa è Sì; No conta 0"

    def wording(self, rule: Rule) -> str:
        return "Sì"

    def describe(self, rule: Rule) -> str:
        return "yes_no"


KIND = YesNo()
