"""threshold: the value must reach a minimum threshold, all or nothing ("soglia minima 80%")."""

from __future__ import annotations

from ..model import Rule
from .base import AllOrNothing


class Threshold(AllOrNothing):
    name = "threshold"
    order = 12
    label_it = "soglia minima"
    phrases = ("soglia minima", "soglia minima di", "soglia minima del", "soglia di", "soglia del")
    op, word = ">=", "soglia minima"
    doc_it = "100% se il valore raggiunge la soglia, altrimenti 0 (tutto o niente)"

    def describe(self, rule: Rule) -> str:
        return f"{super().describe(rule)[:-1]}, all or nothing)"


KIND = Threshold()
