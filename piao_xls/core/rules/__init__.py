"""The registry of rule kinds: one module per kind in this package, each with a module-level ``KIND``.

A kind (:class:`~.base.Kind`) is everything the program knows about the rules of that kind: parameters and
their validation, inputs, score, live Excel formula, Italian wording. The plan loaders, the layout, the
reader, the scoring engine and the docs ask this registry; adding a kind is adding a module here (and its
phrases to the target grammar, :mod:`piao_xls.core.targets`, when the plan can print it).
"""

from __future__ import annotations

import importlib
import pkgutil

from ..model import Rule
from .base import NO_SPELLINGS, YES_SPELLINGS, InputSpec, Kind, RuleProblem, it_number


def _discover() -> dict[str, Kind]:
    found = []
    for info in pkgutil.iter_modules(__path__):
        kind = getattr(importlib.import_module(f"{__name__}.{info.name}"), "KIND", None)
        if isinstance(kind, Kind):
            found.append(kind)
    return {k.name: k for k in sorted(found, key=lambda k: (k.order, k.name))}


KINDS: dict[str, Kind] = _discover()
RULE_KINDS: tuple[str, ...] = tuple(KINDS)


def kind_of(name: str) -> Kind:
    """The kind called ``name``; KeyError for a name no module registers."""
    return KINDS[name]


def check_rule(rule: Rule) -> None:
    """Raise :class:`RuleProblem` when the rule's parameters do not make a rule of its kind."""
    kind = KINDS.get(rule.kind)
    if kind is None:
        raise RuleProblem(f"il tipo di regola «{rule.kind}» non esiste: scelga tra {', '.join(RULE_KINDS)}", "kind")
    kind.check(rule)


__all__ = ["KINDS", "NO_SPELLINGS", "RULE_KINDS", "YES_SPELLINGS", "InputSpec", "Kind", "RuleProblem", "check_rule",
           "it_number", "kind_of"]
