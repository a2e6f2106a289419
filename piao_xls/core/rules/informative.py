"""informative: reported, not scored (an empty target)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..model import Rule, ScoringPolicy
from .base import INFORMATIVE, Kind, Score


class Informative(Kind):
    name = "informative"
    order = 90
    label_it = "informativo"
    units = ("percent", "number", "amount")
    percent_params = ()
    scored = False
    doc_it = "non valutato: il valore è solo riportato"

    def score(self, rule: Rule, values: Mapping[str, Any], policy: ScoringPolicy) -> Score:
        return INFORMATIVE, None, ""

    def formula(self, rule: Rule, cells: Sequence[str], policy: ScoringPolicy) -> str | None:
        return None

    def wording(self, rule: Rule) -> str:
        return "indicatore informativo, non valutato"

    def describe(self, rule: Rule) -> str:
        return "informative"


KIND = Informative()
