"""giudizio: a qualitative target ("Rispetto degli adempimenti"): whoever the plan names (by default the Nucleo
di Valutazione) states a percentage of achievement and must motivate it in the analysis column."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..model import Rule, ScoringPolicy
from .base import SCORED, InputSpec, Kind, Score, clamp01


class Giudizio(Kind):
    name = "giudizio"
    order = 80
    label_it = "giudizio"
    units = ("percent",)
    default_unit = "percent"
    percent_params = ()
    needs_motivation = True
    default_source = "nucleo"
    doc_it = "la percentuale indicata, con motivazione obbligatoria nella colonna «Analisi»"

    def inputs(self, rule: Rule, year: int) -> tuple[InputSpec, ...]:
        return (InputSpec("value", "Giudizio motivato (%)", "percent", 0.0, 1.0),)

    def achievement(self, rule: Rule, values: Mapping[str, Any], policy: ScoringPolicy) -> Score:
        return SCORED, clamp01(float(values["value"])), ""

    def expression(self, rule: Rule, cells: Sequence[str], policy: ScoringPolicy) -> str:
        return f"MIN(1,MAX(0,{cells[0]}))"

    def requirement_it(self, rule: Rule) -> str:
        return "il grado di raggiungimento giudicato, in percentuale da 0% a 100%"

    def wording(self, rule: Rule) -> str:
        return "giudizio motivato sul grado di raggiungimento"

    def describe(self, rule: Rule) -> str:
        return "giudizio (stated percentage with a motivation)"


KIND = Giudizio()
