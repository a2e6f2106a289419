"""The scoring engine: pure functions from validated values to degrees of achievement.

The live formulas in the workbook (:mod:`piao_xls.core.formulas`) implement exactly these rules;
the reader never trusts them and scores with these functions. See docs/scoring.md.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from .answers import NOT_AVAILABLE
from .limits import indicator_percent_limit
from .model import Indicator, Objective, Rule, ScoringPolicy, Sector

# Indicator status
SCORED = "scored"
MISSING = "missing"  # non rendicontato: scores 0, reported
INVALID = "invalid"  # a value exists but cannot be scored (e.g. denominator 0): scores 0, reported
INFORMATIVE = "informative"  # not scored
NOT_AVAILABLE_REASON = "valore non disponibile"  # a MISSING indicator whose cell says "non disponibile"


def _clamp01(x: float) -> float:
    return 0.0 if x < 0 else 1.0 if x > 1 else x


def at_least(actual: float, target: float) -> float:
    if target == 0:
        return 1.0 if actual >= 0 else 0.0
    return _clamp01(actual / target)


def at_most(actual: float, target: float, worst: float | None = None) -> float:
    if actual <= target:
        return 1.0
    if worst is not None and worst > target and actual < worst:
        return (worst - actual) / (worst - target)
    return 0.0


def in_range(actual: float, low: float, high: float) -> float:
    if low <= actual <= high:
        return 1.0
    if actual < low:
        return max(0.0, actual / low) if low > 0 else 0.0
    return high / actual if actual > 0 else 0.0


def deadline(done: date, due: date, late_penalty_per_month: float = 1.0) -> float:
    if done <= due:
        return 1.0
    months_late = math.ceil((done - due).days / 30)
    return max(0.0, 1.0 - late_penalty_per_month * months_late)


def increase(baseline: float, current: float, p: float) -> float:
    if baseline == 0:
        return 1.0 if current > 0 else 0.0
    return at_least(current, baseline * (1 + p))


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
    k = rule.kind
    if k == "informative":
        return INFORMATIVE, None, ""
    needed = {"fraction": ("numerator", "denominator"), "increase": ("baseline", "current"),
              "deadline": ("date",)}.get(k, ("value",))
    if any(values.get(n) == NOT_AVAILABLE for n in needed):
        return MISSING, 0.0, NOT_AVAILABLE_REASON
    if any(values.get(n) is None for n in needed):
        return MISSING, 0.0, "non rendicontato"
    if k == "at_least":
        return SCORED, at_least(float(values["value"]), rule.target or 0.0), ""
    if k == "at_most":
        return SCORED, at_most(float(values["value"]), rule.target or 0.0, rule.worst), ""
    if k == "range":
        return SCORED, in_range(float(values["value"]), rule.low or 0.0, rule.high or 0.0), ""
    if k == "deadline":
        assert rule.deadline is not None
        return SCORED, deadline(values["date"], rule.deadline, policy.late_penalty_per_month), ""
    if k == "yes_no":
        return SCORED, 1.0 if values["value"] else 0.0, ""
    if k == "fraction":
        den = float(values["denominator"])
        if den == 0:
            return INVALID, 0.0, "denominatore pari a zero"
        return SCORED, at_least(float(values["numerator"]) / den, rule.target or 0.0), ""
    if k == "increase":
        return SCORED, increase(float(values["baseline"]), float(values["current"]), rule.increase or 0.0), ""
    raise ValueError(f"unknown rule kind {k!r}")


def score_indicator(ind: Indicator, values: Mapping[str, object], policy: ScoringPolicy) -> IndicatorScore:
    if ind.rule.unit == "percent" and ind.rule.kind in ("at_least", "at_most", "range"):
        value, limit = values.get("value"), indicator_percent_limit(ind)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value > limit + 1e-12:
            return IndicatorScore(ind.id, INVALID, 0.0, f"percentuale oltre il limite ammesso ({limit * 100:g}%)")
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
