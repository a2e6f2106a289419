"""informative: reported, not scored (an empty target)."""

from __future__ import annotations

from .base import INFORMATIVE, Kind


class Informative(Kind):
    name = "informative"
    order = 90
    label_it = "informativo"
    units = ("percent", "number", "amount")
    percent_params = ()
    scored = False
    doc_it = "non valutato: il valore è solo riportato"

    def score(self, rule, values, policy):
        return INFORMATIVE, None, ""

    def formula(self, rule, cells, policy):
        return None

    def wording(self, rule):
        return "indicatore informativo, non valutato"

    def describe(self, rule):
        return "informative"


KIND = Informative()
