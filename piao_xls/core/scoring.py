"""The scoring engine: pure functions from validated values to degrees of achievement.

The live formulas in the workbook (:mod:`piao_xls.core.formulas`) implement exactly these rules;
the reader never trusts them and scores with these functions. See docs/scoring.md.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date

from .answers import NOT_AVAILABLE_REASON  # noqa: F401 (public name)
from .italian import percent_plain
from .limits import indicator_percent_limit
from .model import Indicator, Objective, Rule, ScoringPolicy, Sector
from .rules import kind_of
from .rules.base import INFORMATIVE, INVALID, MISSING, SCORED, clamp01  # noqa: F401 (public names)

NOT_APPLICABLE = "not_applicable"  # declared "non applicabile" by a recorded decision: not scored


def _of(scored: tuple[str, float | None, str]) -> float:
    """The achievement of a rule that always gives one (the shortcuts below score complete values)."""
    achievement = scored[1]
    if achievement is None:
        raise ValueError("no achievement: the values are incomplete")
    return achievement


def at_least(actual: float, target: float) -> float:
    return _of(kind_of("at_least").achievement(Rule("at_least", target=target), {"value": actual}, ScoringPolicy()))


def at_most(actual: float, target: float, worst: float | None = None) -> float:
    return _of(kind_of("at_most").achievement(Rule("at_most", target=target, worst=worst), {"value": actual},
                                              ScoringPolicy()))


def in_range(actual: float, low: float, high: float) -> float:
    return _of(kind_of("range").achievement(Rule("range", low=low, high=high), {"value": actual}, ScoringPolicy()))


def deadline(done: date, due: date, late_penalty_per_month: float = 1.0) -> float:
    return _of(kind_of("deadline").achievement(Rule("deadline", unit="date", deadline=due), {"date": done},
                                               ScoringPolicy(late_penalty_per_month=late_penalty_per_month)))


def increase(baseline: float, current: float, p: float) -> float:
    return _of(kind_of("increase").achievement(Rule("increase", increase=p), {"baseline": baseline,
                                                                              "current": current}, ScoringPolicy()))


@dataclass(frozen=True)
class IndicatorScore:
    indicator_id: str
    status: str
    achievement: float | None  # None only for informative indicators
    reason: str = ""  # why MISSING / INVALID

    @property
    def counts(self) -> bool:
        return self.status not in (INFORMATIVE, NOT_APPLICABLE)


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
    if ind.rule.unit == "percent" and ind.rule.kind in ("at_least", "at_most", "range"):
        value, limit = values.get("value"), indicator_percent_limit(ind)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value > limit + 1e-12:
            return IndicatorScore(ind.id, INVALID, 0.0, f"percentuale oltre il limite ammesso ({percent_plain(limit)})")
    status, ach, reason = score_rule(ind.rule, values, policy)
    return IndicatorScore(ind.id, status, ach, reason)


@dataclass(frozen=True)
class ObjectiveScore:
    objective_id: str
    weight: float
    achievement: float | None  # None when the objective has no scored indicator
    points: float  # weight x achievement (0 when not evaluable, and for a gate objective)
    indicators: tuple[IndicatorScore, ...]
    gate: bool = False
    neutralised: bool = False  # left out by a recorded decision: weight re-normalised over the others

    @property
    def evaluable(self) -> bool:
        return self.achievement is not None

    @property
    def met(self) -> bool | None:
        """For a gate objective: met (achievement 100%, decided on the achievement rounded to 9 decimals),
        not met, or None when it has no scored indicator. None for other objectives."""
        if not self.gate or self.achievement is None:
            return None
        return gate_met(self.achievement)


def gate_met(achievement: float) -> bool:
    """A gate objective is met when fully achieved (as ``ROUND(x,9)>=1`` in the live formula)."""
    return round(achievement, 9) >= 1


def score_objective(obj: Objective, scores: Mapping[str, IndicatorScore], policy: ScoringPolicy) -> ObjectiveScore:
    """Combine indicator scores (keyed by indicator id) into the objective's achievement.

    A gate objective is scored like any other (its achievement says whether it is met) but weighs 0.
    """
    own = tuple(scores[i.id] for i in obj.indicators)
    counted = [(i, scores[i.id]) for i in obj.indicators if scores[i.id].counts]
    weight = 0.0 if obj.gate else obj.weight
    if not counted:
        return ObjectiveScore(obj.id, weight, None, 0.0, own, obj.gate)
    if policy.aggregation == "min":
        ach = min(s.achievement or 0.0 for _, s in counted)
    else:
        total_w = sum(i.weight for i, _ in counted)
        ach = sum(i.weight * (s.achievement or 0.0) for i, s in counted) / total_w
    if policy.below_threshold(ach):  # on the published figure: 0.49999999999999994 is 50,00% and passes 50%
        ach = 0.0
    return ObjectiveScore(obj.id, weight, ach, weight * ach, own, obj.gate)


#: the Italian label of a sector with nothing measurable
NOT_EVALUABLE = "non valutabile"


@dataclass(frozen=True)
class SectorScore:
    sector_code: str
    score: float | None  # 0..100 points, full precision; None for a sector with nothing measurable
    band_code: str  # "" when not evaluable
    band_label: str  # "non valutabile" when not evaluable
    objectives: tuple[ObjectiveScore, ...]
    gates_failed: tuple[str, ...] = ()  # ids of the gate objectives not met (the score is capped)
    uncapped: float | None = None  # the score before a failed gate capped it

    @property
    def evaluable(self) -> bool:
        return self.score is not None


def sector_score_value(objectives: tuple[ObjectiveScore, ...]) -> float:
    """Σ weight × achievement over evaluable objectives, rescaled when some weight is not evaluable
    (gate objectives weigh 0 and do not count here)."""
    ev = [o for o in objectives if o.evaluable and not o.gate]
    w = sum(o.weight for o in ev)
    if w == 0:
        return 0.0
    return sum(o.points for o in ev) * 100.0 / w


def gate_capped(score: float, objectives: tuple[ObjectiveScore, ...],
                policy: ScoringPolicy) -> tuple[float, tuple[str, ...]]:
    """The score after the gates: capped at ``policy.gate_cap`` when a gate objective is not met."""
    failed = tuple(o.objective_id for o in objectives if o.gate and o.met is False)
    if failed:
        return min(score, policy.gate_cap), failed
    return score, ()


def score_sector(sector: Sector, values: Mapping[str, Mapping[str, object]], policy: ScoringPolicy,
                 not_applicable: Collection[str] = (), neutralised: Collection[str] = ()) -> SectorScore:
    """Score a sector from ``values[indicator_id][input_name]`` (validated values).

    A sector with nothing measurable (no objective but gates with a scored indicator) is not evaluable:
    score None, no band. A gate objective not met caps the score at ``policy.gate_cap``.
    ``not_applicable`` (indicator ids) and ``neutralised`` (objective ids) come from recorded decisions
    (:mod:`piao_xls.results.decisions`): such an indicator does not count in its objective, such an
    objective's weight is left out and the others are re-normalised.
    """
    ind_scores = {i.id: IndicatorScore(i.id, NOT_APPLICABLE, None, "non applicabile") if i.id in not_applicable
                  else score_indicator(i, values.get(i.id, {}), policy) for i in sector.indicators}
    objs = tuple(ObjectiveScore(o.id, o.weight, None, 0.0, tuple(ind_scores[i.id] for i in o.indicators),
                                gate=o.gate, neutralised=True)
                 if o.id in neutralised else score_objective(o, ind_scores, policy) for o in sector.objectives)
    if not any(o.evaluable and not o.gate for o in objs):
        return SectorScore(sector.code, None, "", NOT_EVALUABLE, objs)
    raw = sector_score_value(objs)
    total, failed = gate_capped(raw, objs, policy)
    # the band is chosen on the published score (policy.precision decimals): 10 x 0.89 + 20 x 0.94 + 30 x 0.99
    # + 40 x 0.94 is 95 but sums to 94.99999999999999 in binary floating point, published "95,00": band A
    band = policy.band(total)
    return SectorScore(sector.code, total, band.code, band.label, objs, failed, raw if failed else None)
