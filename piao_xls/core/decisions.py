"""The Nucleo di Valutazione's decisions as values (pure): what each kind means is applied by
:func:`piao_xls.core.evaluation.evaluate`; reading them from a file is :mod:`piao_xls.results.decisions`.

Three kinds, each with who (``by``), when (``date``) and why (``reason``):

- ``neutralise`` an objective: its weight is left out and the sector's other weights are re-normalised;
- ``not_applicable`` an indicator: it no longer counts in its objective (an objective left with no counted
  indicator is neutralised as above);
- ``correct`` a reported value: ``old`` must equal the value reported (``None``: nothing was reported),
  ``new`` replaces it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

NEUTRALISE = "neutralise"
NOT_APPLICABLE = "not_applicable"
CORRECT = "correct"
#: the spellings of each kind a person may type (English and Italian)
KINDS = {NEUTRALISE: NEUTRALISE, "neutralizza": NEUTRALISE, "neutralizzazione": NEUTRALISE,
         NOT_APPLICABLE: NOT_APPLICABLE, "non_applicabile": NOT_APPLICABLE, "non applicabile": NOT_APPLICABLE,
         CORRECT: CORRECT, "correzione": CORRECT, "correggi": CORRECT}
#: who took a decision: the Nucleo di Valutazione, or the plan itself (an objective with nothing measurable)
NUCLEO = "nucleo"
PLAN = "piano"


@dataclass(frozen=True)
class Decision:
    """One decision, validated against the plan (``new`` and ``old`` already converted to engine values)."""

    kind: str
    sector: str
    objective: str
    indicator: str = ""
    input: str = ""
    old: object = None
    new: object = None
    reason: str = ""
    by: str = ""
    date: str = ""  # ISO date
    where: str = ""  # file:line, or file: 'Decisioni'!A5
    origin: str = NUCLEO  # or PLAN (recorded by the evaluation for what the plan itself decides)
    file: str = ""  # where it was written, for findings about it
    line: int | None = None
    sheet: str = ""
    cell: str = ""


def same_value(a: object, b: object) -> bool:
    """Whether a reported value equals a decision's ``old`` value (numbers to 1e-9, relative)."""
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, (bool, date)) or isinstance(b, (bool, date)):
        return a == b
    if not isinstance(a, (int, float, str)) or not isinstance(b, (int, float, str)):
        return a == b
    try:
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
    except (TypeError, ValueError):
        return False


__all__ = ["CORRECT", "KINDS", "NEUTRALISE", "NOT_APPLICABLE", "NUCLEO", "PLAN", "Decision", "same_value"]
