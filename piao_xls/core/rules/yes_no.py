"""yes_no: done or not ("Sì", "realizzato", "adottato")."""

from __future__ import annotations

from ..answers import yes_formula
from .base import SCORED, InputSpec, Kind


class YesNo(Kind):
    name = "yes_no"
    order = 50
    label_it = "sì/no"
    units = ("yes_no",)
    default_unit = "yes_no"
    percent_params = ()
    doc_it = "100% con «Sì», 0 con «No»"

    def inputs(self, rule, year):
        return (InputSpec("value", "Raggiunto (Sì/No)", "yes_no"),)

    def achievement(self, rule, values, policy):
        return SCORED, 1.0 if values["value"] else 0.0, ""

    def formula(self, rule, cells, policy):
        return f"=IF({yes_formula(cells[0])},1,0)"

    def requirement_it(self, rule):
        return "la risposta attesa è Sì; No conta 0"

    def wording(self, rule):
        return "Sì"

    def describe(self, rule):
        return "yes_no"


KIND = YesNo()
