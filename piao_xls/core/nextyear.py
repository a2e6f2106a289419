"""Next year's plan, drafted from this year's (pure).

:func:`draft_next_year` keeps every sector, objective and indicator with its identifier (``SF-6``, ``SF-6.1``: the
same code and number, so the years line up), moves the plan to the next year, and sets each indicator's
``previous`` — the value of the year before, as the plan workbook's column «Valore dell'anno precedente» shows
it — to this year's validated value (only values scored without error; a date, a yes/no or a judgement is no
baseline). Nothing is silently carried over as a target: every target is listed for the author to confirm, and
the texts that name this year (or an earlier one) are listed apart, to be rewritten.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import Enum

from . import italian
from .model import Indicator, Objective, Plan, QualitySettings
from .years import years_in


class ReviewKind(str, Enum):
    BASELINE = "baseline"  # this year's value set as next year's baseline
    NO_BASELINE = "no_baseline"  # no validated value: the baseline is to be written by the author
    TARGET_OLD_YEAR = "target_old_year"  # the target (or a step's timing) names this year or an earlier one
    TARGET_TO_CONFIRM = "target_to_confirm"  # the target is this year's: to confirm or change


@dataclass(frozen=True)
class Review:
    """One thing the author of next year's plan must look at (Italian ``text``)."""

    item_id: str
    kind: ReviewKind
    text: str


@dataclass(frozen=True)
class Draft:
    plan: Plan
    reviews: tuple[Review, ...]

    def of(self, kind: ReviewKind) -> tuple[Review, ...]:
        return tuple(r for r in self.reviews if r.kind is kind)


def baseline_of(values: Mapping[str, object]) -> float | None:
    """The one figure a set of validated inputs gives: ``value``, or ``numerator / denominator``; None for a date,
    a yes/no, a judgement or anything not a finite number."""
    def num(x: object) -> float | None:
        ok = isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)
        return float(x) if ok else None  # type: ignore[arg-type]

    def kept(x: float | None) -> float | None:
        # to 15 significant digits: the number reads back from the plan workbook as itself (a double written with
        # 16 digits, as the workbook writer does, does not always come back as the same double)
        return None if x is None else float(f"{x:.15g}")

    if "value" in values:
        return kept(num(values["value"]))
    n, d = num(values.get("numerator")), num(values.get("denominator"))
    if n is not None and d:
        return kept(n / d)
    return None


def _next_text(text: str, year: int) -> str:
    return text.replace(str(year), str(year + 1))


def _old_years(text: str, year: int) -> list[int]:
    return sorted({y for y in years_in(text) if y <= year})


def _years_it(years: list[int]) -> str:
    """«il 2025», «il 2024 e il 2025»."""
    named = [f"il {y}" for y in years]
    return named[0] if len(named) == 1 else ", ".join(named[:-1]) + " e " + named[-1]


def draft_next_year(plan: Plan, values: Mapping[str, Mapping[str, object]]) -> Draft:
    """Next year's plan from ``plan`` and this year's validated values (indicator id -> inputs)."""
    year = plan.year
    reviews: list[Review] = []

    def indicator(i: Indicator) -> Indicator:
        base = baseline_of(values.get(i.id, {})) if i.scored else None
        if base is not None:
            shown = italian.value(base, i.rule.unit if i.rule.unit in ("percent", "amount") else "number")
            reviews.append(Review(i.id, ReviewKind.BASELINE, f"indicatore {i.id}: valore di partenza {shown} "
                                  f"(il valore validato del {year})"))
        elif i.scored and i.rule.unit not in ("date", "yes_no") and i.rule.kind not in ("deadline", "giudizio",
                                                                                          "yes_no"):
            reviews.append(Review(i.id, ReviewKind.NO_BASELINE, f"indicatore {i.id}: nessun valore validato nel "
                                  f"{year}: il valore di partenza va indicato a mano"))
        old = _old_years(i.target_text, year)
        if old:
            reviews.append(Review(i.id, ReviewKind.TARGET_OLD_YEAR, f"indicatore {i.id}: il target «{i.target_text}» "
                                  f"nomina {_years_it(old)}: da riscrivere per il {year + 1}"))
        elif i.rule.deadline is not None and i.rule.deadline.year <= year:
            reviews.append(Review(i.id, ReviewKind.TARGET_OLD_YEAR, f"indicatore {i.id}: il target «{i.target_text}» "
                                  f"scade il {italian.day(i.rule.deadline)}: da riscrivere per il {year + 1}"))
        elif i.target_text.strip():
            reviews.append(Review(i.id, ReviewKind.TARGET_TO_CONFIRM, f"indicatore {i.id}: target del {year} "
                                  f"«{i.target_text}» ripreso: da confermare o cambiare"))
        return replace(i, previous=base)

    def objective(o: Objective) -> Objective:
        timing = [t for t in [o.tempi, *(s.tempi for s in o.steps)] if _old_years(t, year)]
        if timing:
            reviews.append(Review(o.id, ReviewKind.TARGET_OLD_YEAR, f"obiettivo {o.id}: i tempi «{timing[0]}» "
                                  f"nominano {_years_it(_old_years(timing[0], year))}: da riscrivere "
                                  f"per il {year + 1}"))
        return replace(o, indicators=tuple(indicator(i) for i in o.indicators))

    sectors = tuple(replace(s, objectives=tuple(objective(o) for o in s.objectives)) for s in plan.sectors)
    plan_id = _next_text(plan.plan_id, year) if str(year) in plan.plan_id else f"{plan.plan_id}-{year + 1}"
    new = Plan(plan_id=plan_id, comune=plan.comune, year=year + 1, title=_next_text(plan.title, year),
               ente_sovraordinato=plan.ente_sovraordinato, scoring=plan.scoring, sectors=sectors,
               contact=plan.contact,
               quality=replace(plan.quality, adopted=None) if plan.quality != QualitySettings() else plan.quality)
    return Draft(new, tuple(reviews))
