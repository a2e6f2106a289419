"""less_than: the value must be strictly below the target ("inferiore a 30", "< 30", "meno di 30");
all or nothing."""

from __future__ import annotations

from .base import AllOrNothing


class LessThan(AllOrNothing):
    name = "less_than"
    order = 21
    label_it = "inferiore a"
    phrases = ("inferiore a", "inferiore al", "inferiore alla", "minore di", "minore a", "meno di", "sotto",
               "sotto il", "al di sotto di", "<")
    op, word = "<", "inferiore a"
    doc_it = "100% se il valore è strettamente inferiore all'obiettivo, altrimenti 0"


KIND = LessThan()
