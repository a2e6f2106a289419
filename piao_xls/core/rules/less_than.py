"""less_than: the value must be strictly below the target ("inferiore a 30", "< 30", "meno di 30");
all or nothing."""

from __future__ import annotations

from .base import SCORED, Kind, en_quantity, it_quantity, xl_number


class LessThan(Kind):
    name = "less_than"
    order = 21
    label_it = "inferiore a"
    phrases = ("inferiore a", "inferiore al", "inferiore alla", "minore di", "minore a", "meno di", "sotto",
               "sotto il", "al di sotto di", "<")
    required = ("target",)
    optional = ("measure",)
    doc_it = "100% se il valore è strettamente inferiore all'obiettivo, altrimenti 0"

    def achievement(self, rule, values, policy):
        return SCORED, 1.0 if float(values["value"]) < (rule.target or 0.0) else 0.0, ""

    def expression(self, rule, cells, policy):
        return f"IF({cells[0]}<{xl_number(rule.target or 0.0)},1,0)"

    def wording(self, rule):
        return f"inferiore a {it_quantity(rule, rule.target)}"

    def describe(self, rule):
        return f"less_than {en_quantity(rule, rule.target)} ({rule.unit})"


KIND = LessThan()
