"""threshold: the value must reach a minimum threshold, all or nothing ("soglia minima 80%")."""

from __future__ import annotations

from .base import SCORED, Kind, en_quantity, it_quantity, xl_number


class Threshold(Kind):
    name = "threshold"
    order = 12
    label_it = "soglia minima"
    phrases = ("soglia minima", "soglia minima di", "soglia minima del", "soglia di", "soglia del")
    required = ("target",)
    optional = ("measure",)
    doc_it = "100% se il valore raggiunge la soglia, altrimenti 0 (tutto o niente)"

    def achievement(self, rule, values, policy):
        return SCORED, 1.0 if float(values["value"]) >= (rule.target or 0.0) else 0.0, ""

    def expression(self, rule, cells, policy):
        return f"IF({cells[0]}>={xl_number(rule.target or 0.0)},1,0)"

    def wording(self, rule):
        return f"soglia minima {it_quantity(rule, rule.target)}"

    def describe(self, rule):
        return f"threshold {en_quantity(rule, rule.target)} ({rule.unit}, all or nothing)"


KIND = Threshold()
