"""more_than: the value must be strictly above the target ("superiore a 5", "> 5", "oltre 5"); all or nothing."""

from __future__ import annotations

from .base import SCORED, Kind, en_quantity, it_quantity, xl_number


class MoreThan(Kind):
    name = "more_than"
    order = 11
    label_it = "superiore a"
    phrases = ("superiore a", "superiore al", "superiore alla", "maggiore di", "maggiore a", "oltre", "più di",
               "piu di", "oltre il", "sopra", ">")
    required = ("target",)
    optional = ("measure",)
    doc_it = "100% se il valore supera strettamente l'obiettivo, altrimenti 0"

    def achievement(self, rule, values, policy):
        return SCORED, 1.0 if float(values["value"]) > (rule.target or 0.0) else 0.0, ""

    def expression(self, rule, cells, policy):
        return f"IF({cells[0]}>{xl_number(rule.target or 0.0)},1,0)"

    def wording(self, rule):
        return f"superiore a {it_quantity(rule, rule.target)}"

    def describe(self, rule):
        return f"more_than {en_quantity(rule, rule.target)} ({rule.unit})"


KIND = MoreThan()
