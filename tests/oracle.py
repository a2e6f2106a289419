"""An independent statement of the scoring rules, written from docs/scoring.md (not from piao_xls.core): the
expected results of the mutation suite. It knows the rule kinds the bundled plan uses (at_least, at_most,
range, deadline, yes_no, fraction, increase, informative) and the default policy's options (weighted mean,
threshold, bands on the published figure, gates); anything else raises, so that a plan it does not cover is
never checked against a guess.

Each formula quotes the page. Decimal arithmetic keeps the rounding of the published figure exact:
"half away from zero" on the figure read at 15 significant digits.
"""

from __future__ import annotations

import math
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

NOT_AVAILABLE = "non disponibile"


def clamp(x: float) -> float:
    return max(0.0, min(1.0, x))


def at_least(a: float, t: float) -> float:
    # "achievement = A / T, clamped to the range 0 to 1; if T = 0: achievement = 1 when A >= 0, otherwise 0"
    if t == 0:
        return 1.0 if a >= 0 else 0.0
    return clamp(a / t)


def at_most(a: float, t: float, w: float | None) -> float:
    # "1 if A <= T; (W − A) / (W − T) if T < A < W (only when a worst value W is set); 0 otherwise"
    if a <= t:
        return 1.0
    if w is not None and t < a < w:
        return (w - a) / (w - t)
    return 0.0


def in_range(a: float, low: float, high: float) -> float:
    # "1 if L <= A <= U; A / L if A < L (never below 0; 0 when L = 0); U / A if A > U"
    if low <= a <= high:
        return 1.0
    if a < low:
        return 0.0 if low == 0 else max(0.0, a / low)
    return high / a


def deadline(done: date, due: date, p: float) -> float:
    # "1 if done on or before D; max(0, 1 − p × ceil(days_late / 30)) if late"
    late = (done - due).days
    if late <= 0:
        return 1.0
    return max(0.0, 1 - p * math.ceil(late / 30))


def indicator(ind, values: dict, policy) -> tuple[str, float | None]:
    """(status, achievement) of one indicator: "Missing values" — no value, or either of two values missing,
    is "missing" and scores 0; "non disponibile" likewise."""
    rule = ind.rule
    kind = rule.kind
    if kind == "informative":
        return "informative", None
    names = {"at_least": ("value",), "at_most": ("value",), "range": ("value",), "yes_no": ("value",),
             "deadline": ("date",), "fraction": ("numerator", "denominator")}.get(kind)
    if kind == "increase":
        names = ("current",) if rule.baseline is not None or rule.target is not None else ("baseline", "current")
    if names is None:
        raise NotImplementedError(f"the oracle does not know the rule kind {kind!r}")
    got = [values.get(n) for n in names]
    if any(v is None or v == NOT_AVAILABLE for v in got):
        return "missing", 0.0
    if kind == "at_least":
        return "scored", at_least(got[0], rule.target)
    if kind == "at_most":
        return "scored", at_most(got[0], rule.target, rule.worst)
    if kind == "range":
        return "scored", in_range(got[0], rule.low, rule.high)
    if kind == "yes_no":
        return "scored", 1.0 if got[0] is True else 0.0  # "1 for Sì, 0 for No"
    if kind == "deadline":
        return "scored", deadline(got[0], rule.deadline, policy.late_penalty_per_month)
    if kind == "fraction":
        n, m = got
        if m == 0:
            return "invalid", 0.0  # "if M = 0: status invalid, achievement 0"
        return "scored", at_least(n / m, rule.target)  # "at_least(N / M, T)"
    # increase: "at_least(current, baseline × (1 + p)); if baseline = 0: 1 when current > 0, otherwise 0"
    current = got[-1]
    if rule.target is not None and rule.baseline is None:
        return "scored", at_least(current, rule.target)  # "with a stated value to reach V: at_least(current, V)"
    baseline = rule.baseline if rule.baseline is not None else got[0]
    if baseline == 0:
        return "scored", 1.0 if current > 0 else 0.0
    return "scored", at_least(current, baseline * (1 + rule.increase))


def published(x: float, decimals: int) -> Decimal:
    """"Publish precision": the figure at 15 significant digits, rounded half away from zero."""
    return Decimal(f"{x:.15g}").quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def objective(obj, values: dict, policy) -> float | None:
    """"Objective achievement": the weighted mean (or the minimum) of the indicators that count; below the
    threshold, compared on the published percentage, it counts 0. None when no indicator counts."""
    counted = []
    for ind in obj.indicators:
        status, ach = indicator(ind, values.get(ind.id, {}), policy)
        if status != "informative":
            counted.append((ind.weight, ach))
    if not counted:
        return None
    if policy.aggregation == "min":
        a = min(x for _, x in counted)
    else:
        a = sum(w * x for w, x in counted) / sum(w for w, _ in counted)
    if policy.threshold is not None and published(a * 100, policy.precision) < published(policy.threshold * 100, 9):
        a = 0.0
    return a


def sector_score(sector, values: dict, policy) -> float | None:
    """"Sector score": Σ (weight × achievement) × 100 / Σ weight over evaluable objectives (gates weigh 0 and
    do not enter the sum); None when no objective but gates is evaluable; a gate not met (achievement, rounded
    to nine decimals, below 1; unreported: not met) caps the score at gate_cap."""
    pts = wsum = 0.0
    failed = False
    evaluable = False
    for obj in sector.objectives:
        a = objective(obj, values, policy)
        if obj.gate:
            failed = failed or a is None or round(a, 9) < 1
            continue
        if a is None:
            continue
        evaluable = True
        pts += obj.weight * a
        wsum += obj.weight
    if not evaluable:
        return None
    score = pts * 100 / wsum if wsum else 0.0
    return min(score, policy.gate_cap) if failed else score


def band(score: float, policy) -> str:
    """"Bands": chosen on the published score."""
    p = published(score, policy.precision)
    for b in sorted(policy.bands, key=lambda b: -b.min):
        if p >= Decimal(str(b.min)):
            return b.code
    return ""
