"""The scoring engine: pure functions from validated values to degrees of achievement.

The live formulas in the workbook (:mod:`piao_xls.core.formulas`) implement exactly these rules;
the reader never trusts them and scores with these functions. See docs/scoring.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from .model import Indicator, Objective, Rule, ScoringPolicy, Sector
from .rules import kind_of
from .rules.base import INFORMATIVE, INVALID, MISSING, SCORED, clamp01  # noqa: F401 (public names)


def at_least(actual: float, target: float) -> float:
    return kind_of("at_least").achievement(Rule("at_least", target=target), {"value": actual}, ScoringPolicy())[1]


def at_most(actual: float, target: float, worst: float | None = None) -> float:
    return kind_of("at_most").achievement(Rule("at_most", target=target, worst=worst), {"value": actual},
                                          ScoringPolicy())[1]


def in_range(actual: float, low: float, high: float) -> float:
    return kind_of("range").achievement(Rule("range", low=low, high=high), {"value": actual}, ScoringPolicy())[1]


def deadline(done: date, due: date, late_penalty_per_month: float = 1.0) -> float:
    return kind_of("deadline").achievement(Rule("deadline", unit="date", deadline=due), {"date": done},
                                           ScoringPolicy(late_penalty_per_month=late_penalty_per_month))[1]


def increase(baseline: float, current: float, p: float) -> float:
    return kind_of("increase").achievement(Rule("increase", increase=p), {"baseline": baseline, "current": current},
                                           ScoringPolicy())[1]


@dataclass(frozen=True)
class IndicatorScore:
    indicator_id: str
    status: str
    achievement: float | None  # None only for informative indicators
    reason: str = ""  # why MISSING / INVALID

    @property
    def counts(self) -> bool:
        return self.status != INFORMATIVE


def score_rule(rule: Rule, values: Mapping[str, object], policy: ScoringPolicy) -> tuple[str, float | None, str]:
    """Score one rule from already validated values: (status, achievement, reason).

    Values: floats for percent (as fractions), numbers and amounts; ``datetime.date`` for
    dates; ``bool`` for yes/no. A missing value is ``None`` or absent.
    """
    try:
        kind = kind_of(rule.kind)
    except KeyError:
        raise ValueError(f"unknown rule kind {rule.kind!r}") from None
    return kind.score(rule, values, policy)


def score_indicator(ind: Indicator, values: Mapping[str, object], policy: ScoringPolicy) -> IndicatorScore:
    status, ach, reason = score_rule(ind.rule, values, policy)
    return IndicatorScore(ind.id, status, ach, reason)


@dataclass(frozen=True)
class ObjectiveScore:
    objective_id: str
    weight: float
    achievement: float | None  # None when the objective has no scored indicator
    points: float  # weight x achievement (0 when not evaluable)
    indicators: tuple[IndicatorScore, ...]

    @property
    def evaluable(self) -> bool:
        return self.achievement is not None


def score_objective(obj: Objective, scores: Mapping[str, IndicatorScore], policy: ScoringPolicy) -> ObjectiveScore:
    """Combine indicator scores (keyed by indicator id) into the objective's achievement."""
    own = tuple(scores[i.id] for i in obj.indicators)
    counted = [(i, scores[i.id]) for i in obj.indicators if scores[i.id].counts]
    if not counted:
        return ObjectiveScore(obj.id, obj.weight, None, 0.0, own)
    if policy.aggregation == "min":
        ach = min(s.achievement or 0.0 for _, s in counted)
    else:
        total_w = sum(i.weight for i, _ in counted)
        ach = sum(i.weight * (s.achievement or 0.0) for i, s in counted) / total_w
    if policy.threshold is not None and ach < policy.threshold:
        ach = 0.0
    return ObjectiveScore(obj.id, obj.weight, ach, obj.weight * ach, own)


@dataclass(frozen=True)
class SectorScore:
    sector_code: str
    score: float  # 0..100 points, full precision
    band_code: str
    band_label: str
    objectives: tuple[ObjectiveScore, ...]


def sector_score_value(objectives: tuple[ObjectiveScore, ...]) -> float:
    """Σ weight × achievement over evaluable objectives, rescaled when some weight is not evaluable."""
    ev = [o for o in objectives if o.evaluable]
    w = sum(o.weight for o in ev)
    if w == 0:
        return 0.0
    return sum(o.points for o in ev) * 100.0 / w


def score_sector(sector: Sector, values: Mapping[str, Mapping[str, object]], policy: ScoringPolicy) -> SectorScore:
    """Score a sector from ``values[indicator_id][input_name]`` (validated values)."""
    ind_scores = {i.id: score_indicator(i, values.get(i.id, {}), policy) for i in sector.indicators}
    objs = tuple(score_objective(o, ind_scores, policy) for o in sector.objectives)
    total = sector_score_value(objs)
    # choose the band on the score rounded to 1e-9: 10 x 0.89 + 20 x 0.94 + 30 x 0.99 + 40 x 0.94 is 95
    # but sums to 94.99999999999999 in binary floating point, which must not drop to band B
    band = policy.band(total)
    return SectorScore(sector.code, total, band.code, band.label, objs)
