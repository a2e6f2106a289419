"""more_than: the value must be strictly above the target ("superiore a 5", "> 5", "oltre 5"); all or nothing."""

from __future__ import annotations

from .base import AllOrNothing


class MoreThan(AllOrNothing):
    name = "more_than"
    order = 11
    label_it = "superiore a"
    phrases = ("superiore a", "superiore al", "superiore alla", "maggiore di", "maggiore a", "oltre", "più di",
               "piu di", "oltre il", "sopra", ">")
    op, word = ">", "superiore a"
    doc_it = "100% se il valore supera strettamente l'obiettivo, altrimenti 0"


KIND = MoreThan()
