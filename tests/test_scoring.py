"""The scoring engine (piao_xls.core.scoring): each rule at its edges, aggregation, sector score, bands.

Expected values are worked out by hand in each test (see docs/scoring.md for the policy).
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from piao_xls.core import scoring
from piao_xls.core.model import DEFAULT_BANDS, Band, Rule, ScoringPolicy
from piao_xls.plan.planfile import parse_plan

DEFAULT = ScoringPolicy()


def plan_from(text: str):
    plan, findings = parse_plan(text, "plan.yaml")
    errors = [str(f) for f in findings if f.severity == "error"]
    assert plan is not None, errors
    return plan


# --- at_least: A/T clamped to [0, 1] --------------------------------------------------------------


@pytest.mark.parametrize(
    ("actual", "target", "expected"),
    [
        (1.0, 1.0, 1.0),  # on target
        (1.2, 1.0, 1.0),  # 1.2/1.0 = 1.2, clamped to 1
        (0.9, 1.0, 0.9),  # 0.9/1.0
        (45, 60, 0.75),  # 45/60 = 3/4
        (0.0, 1.0, 0.0),
        (-5, 10, 0.0),  # -0.5 clamped to 0
        (0.0, 0.0, 1.0),  # T = 0: 1 when A >= 0
        (3.0, 0.0, 1.0),
        (-0.01, 0.0, 0.0),  # T = 0 and A < 0
    ],
)
def test_at_least(actual, target, expected):
    assert scoring.at_least(actual, target) == pytest.approx(expected)


# --- at_most: 1 if A <= T; linear to 0 at W; else 0 -----------------------------------------------


@pytest.mark.parametrize(
    ("actual", "target", "worst", "expected"),
    [
        (0, 0, None, 1.0),
        (-12, 0, None, 1.0),  # invoices paid 12 days early on average
        (0.5, 0, None, 0.0),  # without worst: any excess scores 0
        (0, 0, 30, 1.0),
        (10, 0, 30, (30 - 10) / (30 - 0)),  # 2/3
        (15, 10, 30, (30 - 15) / (30 - 10)),  # 0.75
        (29.999, 0, 30, (30 - 29.999) / 30),
        (30, 0, 30, 0.0),  # at worst
        (45, 0, 30, 0.0),  # beyond worst
    ],
)
def test_at_most(actual, target, worst, expected):
    assert scoring.at_most(actual, target, worst) == pytest.approx(expected)


# --- range: 1 inside; A/L below (floor 0); U/A above ----------------------------------------------


@pytest.mark.parametrize(
    ("actual", "low", "high", "expected"),
    [
        (0.9, 0.9, 1.0, 1.0),  # lower edge included
        (1.0, 0.9, 1.0, 1.0),  # upper edge included
        (0.95, 0.9, 1.0, 1.0),
        (0.72, 0.9, 1.0, 0.72 / 0.9),  # 0.8
        (0.0, 0.9, 1.0, 0.0),
        (-1.0, 0.9, 1.0, 0.0),  # floor 0
        (1.25, 0.9, 1.0, 1.0 / 1.25),  # 0.8
        (40, 10, 20, 20 / 40),  # 0.5
        (-1, 0, 5, 0.0),  # L = 0: below scores 0
    ],
)
def test_range(actual, low, high, expected):
    assert scoring.in_range(actual, low, high) == pytest.approx(expected)


# --- deadline: 1 by D; late: max(0, 1 - p * ceil(days_late / 30)) ---------------------------------

DUE = date(2025, 12, 31)


@pytest.mark.parametrize(
    ("days", "p", "expected"),
    [
        (-10, 1.0, 1.0),  # early
        (0, 1.0, 1.0),  # on the day
        (1, 1.0, 0.0),  # default p = 1: any delay scores 0
        (1, 0.25, 1 - 0.25 * 1),  # ceil(1/30) = 1 -> 0.75
        (30, 0.25, 1 - 0.25 * 1),  # ceil(30/30) = 1 -> 0.75
        (31, 0.25, 1 - 0.25 * 2),  # ceil(31/30) = 2 -> 0.5
        (60, 0.25, 1 - 0.25 * 2),  # 0.5
        (61, 0.25, 1 - 0.25 * 3),  # 0.25
        (120, 0.25, 0.0),  # ceil(120/30) = 4 -> 1 - 1 = 0
        (121, 0.25, 0.0),  # 1 - 1.25 floored at 0
        (400, 0.0, 1.0),  # p = 0: lateness is not penalised
    ],
)
def test_deadline(days, p, expected):
    assert scoring.deadline(DUE + timedelta(days=days), DUE, p) == pytest.approx(expected)


def test_deadline_default_penalty_is_one():
    assert DEFAULT.late_penalty_per_month == 1.0
    assert scoring.deadline(DUE + timedelta(days=1), DUE) == 0.0


# --- increase: at_least against baseline x (1 + p) ------------------------------------------------


@pytest.mark.parametrize(
    ("baseline", "current", "p", "expected"),
    [
        (100, 160, 0.6, 1.0),  # 100 x 1.6 = 160 reached
        (100, 200, 0.6, 1.0),  # clamped
        (100, 120, 0.6, 120 / 160),  # 0.75
        (100, 100, 0.6, 100 / 160),  # no growth still earns 0.625
        (50, 0, 0.6, 0.0),
        (0, 0, 0.6, 0.0),  # baseline 0: 1 only when current > 0
        (0, 1, 0.6, 1.0),
    ],
)
def test_increase(baseline, current, p, expected):
    assert scoring.increase(baseline, current, p) == pytest.approx(expected)


# --- score_rule: statuses --------------------------------------------------------------------------


def test_yes_no():
    r = Rule("yes_no", unit="yes_no")
    assert scoring.score_rule(r, {"value": True}, DEFAULT) == ("scored", 1.0, "")
    assert scoring.score_rule(r, {"value": False}, DEFAULT) == ("scored", 0.0, "")


def test_fraction_is_ratio_then_at_least():
    r = Rule("fraction", unit="percent", target=1.0)
    status, ach, _ = scoring.score_rule(r, {"numerator": 45_000.0, "denominator": 60_000.0}, DEFAULT)
    assert status == "scored"
    assert ach == pytest.approx(45_000 / 60_000)  # 0.75 / 1.0
    _, ach, _ = scoring.score_rule(r, {"numerator": 70_000.0, "denominator": 60_000.0}, DEFAULT)
    assert ach == 1.0  # over-collection is clamped


def test_fraction_with_lower_target():
    r = Rule("fraction", unit="percent", target=0.8)
    _, ach, _ = scoring.score_rule(r, {"numerator": 30.0, "denominator": 50.0}, DEFAULT)
    assert ach == pytest.approx((30 / 50) / 0.8)  # 0.6 / 0.8 = 0.75


def test_fraction_denominator_zero_is_invalid():
    r = Rule("fraction", unit="percent", target=1.0)
    status, ach, reason = scoring.score_rule(r, {"numerator": 10.0, "denominator": 0.0}, DEFAULT)
    assert (status, ach) == ("invalid", 0.0)
    assert "zero" in reason


@pytest.mark.parametrize(
    ("rule", "values"),
    [
        (Rule("at_least", unit="percent", target=1.0), {}),
        (Rule("at_least", unit="percent", target=1.0), {"value": None}),
        (Rule("deadline", unit="date", deadline=DUE), {"date": None}),
        (Rule("yes_no", unit="yes_no"), {}),
        (Rule("fraction", unit="percent", target=1.0), {"numerator": 5.0}),  # denominator missing
        (Rule("increase", increase=0.6, baseline_year=2024), {"current": 10.0}),  # baseline missing
    ],
)
def test_missing_value_is_missing_with_zero(rule, values):
    status, ach, reason = scoring.score_rule(rule, values, DEFAULT)
    assert (status, ach) == ("missing", 0.0)
    assert reason == "non rendicontato"


def test_real_zero_is_scored_not_missing():
    rule = Rule("at_least", unit="percent", target=1.0)
    missing = scoring.score_rule(rule, {}, DEFAULT)
    zero = scoring.score_rule(rule, {"value": 0.0}, DEFAULT)
    assert missing[1] == zero[1] == 0.0  # same achievement...
    assert (missing[0], zero[0]) == ("missing", "scored")  # ...but distinguishable


def test_informative_is_not_scored():
    assert scoring.score_rule(Rule("informative"), {"value": 12.0}, DEFAULT) == ("informative", None, "")
    s = scoring.score_indicator(plan_from(ONE_OBJ % "target: ''").indicators[0], {}, DEFAULT)
    assert s.status == "informative" and not s.counts and s.achievement is None


def test_deadline_rule_uses_policy_penalty():
    rule = Rule("deadline", unit="date", deadline=DUE)
    late = {"date": DUE + timedelta(days=31)}
    assert scoring.score_rule(rule, late, ScoringPolicy())[1] == 0.0
    assert scoring.score_rule(rule, late, ScoringPolicy(late_penalty_per_month=0.25))[1] == pytest.approx(0.5)


def test_unknown_kind_raises():
    with pytest.raises(ValueError):
        scoring.score_rule(Rule("bogus"), {"value": 1.0}, DEFAULT)


# --- objectives --------------------------------------------------------------------------------------

ONE_OBJ = """
comune: Test
year: 2025
sectors:
  - code: SA
    name: Amministrazione
    responsabile: {name: Mario Rossi}
    objectives:
      - number: 1
        title: Only
        weight: 100
        indicators:
          - description: d
            %s
"""

THREE_INDICATORS = """
comune: Test
year: 2025
sectors:
  - code: SA
    name: Amministrazione
    responsabile: {name: Mario Rossi}
    objectives:
      - number: 1
        title: Mixed
        weight: 100
        indicators:
          - {description: a, target: "100%", weight: 3}
          - {description: b, target: "100%", weight: 1}
          - {description: c, target: ""}
"""


def _obj_scores(values, policy=DEFAULT):
    plan = plan_from(THREE_INDICATORS)
    sector = plan.sectors[0]
    inds = {i.id: scoring.score_indicator(i, values.get(i.id, {}), policy) for i in sector.indicators}
    return scoring.score_objective(sector.objectives[0], inds, policy)


def test_weighted_mean_uses_indicator_weights_and_skips_informative():
    o = _obj_scores({"SA-1.1": {"value": 0.8}, "SA-1.2": {"value": 0.4}, "SA-1.3": {"value": 99.0}})
    # (3 x 0.8 + 1 x 0.4) / (3 + 1) = 2.8 / 4 = 0.7; the informative SA-1.3 is not counted
    assert o.achievement == pytest.approx(0.7)
    assert o.points == pytest.approx(100 * 0.7)
    assert [s.status for s in o.indicators] == ["scored", "scored", "informative"]


def test_missing_indicator_counts_as_zero_in_the_mean():
    o = _obj_scores({"SA-1.2": {"value": 1.0}})
    # SA-1.1 missing: (3 x 0 + 1 x 1) / 4 = 0.25
    assert o.achievement == pytest.approx(0.25)
    assert o.indicators[0].status == "missing"


def test_min_aggregation():
    o = _obj_scores({"SA-1.1": {"value": 0.8}, "SA-1.2": {"value": 0.4}}, ScoringPolicy(aggregation="min"))
    assert o.achievement == pytest.approx(min(0.8, 0.4))


def test_threshold_zeroes_an_objective_below_it():
    # binary-exact values: (3 x 0.75 + 1 x 0.25) / 4 = 2.5 / 4 = 0.625
    values = {"SA-1.1": {"value": 0.75}, "SA-1.2": {"value": 0.25}}
    assert _obj_scores(values).achievement == 0.625
    assert _obj_scores(values, ScoringPolicy(threshold=0.75)).achievement == 0.0  # 0.625 < 0.75
    assert _obj_scores(values, ScoringPolicy(threshold=0.625)).achievement == 0.625  # equal is not below
    assert _obj_scores(values, ScoringPolicy(threshold=0.5)).achievement == 0.625


def test_threshold_is_compared_on_the_published_achievement():
    # weights 3 and 1 at 60% and 20%: (3 x 0.6 + 1 x 0.2) / 4 = 2 / 4 = 0.5 on paper,
    # 0.49999999999999994 in binary floating point; published "50,00%", so it is not below a 50% threshold
    values = {"SA-1.1": {"value": 0.6}, "SA-1.2": {"value": 0.2}}
    raw = _obj_scores(values).achievement
    assert raw < 0.5  # the float noise the rule must absorb
    o = _obj_scores(values, ScoringPolicy(threshold=0.5))
    assert o.achievement == pytest.approx(0.5) and o.points == pytest.approx(50)
    # 49.994% publishes as "49,99%": below 50%, counts 0; 49.995% publishes as "50,00%": kept
    assert _obj_scores({"SA-1.1": {"value": 0.66658666}, "SA-1.2": {"value": 0.0}},  # 3 x 0.66658666 / 4
                       ScoringPolicy(threshold=0.5)).achievement == 0.0
    assert _obj_scores({"SA-1.1": {"value": 0.6666}, "SA-1.2": {"value": 0.0}},  # 0.49995 -> "50,00%"
                       ScoringPolicy(threshold=0.5)).achievement == pytest.approx(0.49995)
    # with 0 decimals published, 49.5% is "50%" and passes; 49.4% is "49%" and does not
    assert _obj_scores({"SA-1.1": {"value": 0.66}, "SA-1.2": {"value": 0.0}},  # 0.495
                       ScoringPolicy(threshold=0.5, precision=0)).achievement == pytest.approx(0.495)
    assert _obj_scores({"SA-1.1": {"value": 0.6586}, "SA-1.2": {"value": 0.0}},  # 0.49395
                       ScoringPolicy(threshold=0.5, precision=0)).achievement == 0.0


def test_exact_increase_is_fully_achieved_under_an_all_or_nothing_threshold():
    # +60% over a baseline of 3 is 4.8; 3 x 1.6 is 4.800000000000001 in floating point, so 4.8 / 4.8000...01
    # is 0.9999999999999998: published "100,00%", it meets a threshold of 100%
    plan = plan_from(ONE_OBJ % 'target: "il 60% in più rispetto al 2024"' + "scoring: {threshold: 100%}\n")
    sector = plan.sectors[0]
    s = scoring.score_sector(sector, {"SA-1.1": {"baseline": 3.0, "current": 4.8}}, plan.scoring)
    assert s.objectives[0].achievement == pytest.approx(1.0)
    assert s.score == pytest.approx(100) and s.band_code == "A"
    s = scoring.score_sector(sector, {"SA-1.1": {"baseline": 3.0, "current": 4.79}}, plan.scoring)
    assert s.objectives[0].achievement == 0.0  # 4.79 / 4.8 = 99.79%: below 100%


def test_precision_is_read_from_the_plan_and_checked():
    plan = plan_from(ONE_OBJ % 'target: "100%"' + "scoring: {precision: 1}\n")
    assert plan.scoring.precision == 1
    assert plan.scoring.band(94.95).code == "A"  # "95,0"
    assert plan.scoring.band(94.94).code == "B"  # "94,9"
    assert plan_from(ONE_OBJ % 'target: "100%"').scoring.precision == 2
    for bad in ("1.5", "-1", "7", "due"):
        p, findings = parse_plan(ONE_OBJ % 'target: "100%"' + f"scoring: {{precision: {bad}}}\n", "plan.yaml")
        assert p is None and any(f.code in ("PLAN-SCORING", "PLAN-SCHEMA") and f.line for f in findings), bad


def test_default_precision_keeps_the_fingerprint():
    a = plan_from(ONE_OBJ % 'target: "100%"')
    b = plan_from(ONE_OBJ % 'target: "100%"' + "scoring: {precision: 2}\n")
    c = plan_from(ONE_OBJ % 'target: "100%"' + "scoring: {precision: 3}\n")
    assert a.fingerprint == b.fingerprint != c.fingerprint
    assert "precision" not in a.canonical()["scoring"] and c.canonical()["scoring"]["precision"] == 3


def test_objective_with_only_informative_indicators_is_not_evaluable():
    plan = plan_from(ONE_OBJ % "target: ''")
    sector = plan.sectors[0]
    inds = {i.id: scoring.score_indicator(i, {"value": 5.0}, DEFAULT) for i in sector.indicators}
    o = scoring.score_objective(sector.objectives[0], inds, DEFAULT)
    assert not o.evaluable
    assert (o.achievement, o.points) == (None, 0.0)


# --- sectors -------------------------------------------------------------------------------------------

SECTOR = """
comune: Test
year: 2025
scoring:
  late_penalty_per_month: 0.25
sectors:
  - code: SF
    name: Finanziario
    responsabile: {name: Anna Bianchi}
    objectives:
      - number: 1
        title: Percentuale
        weight: 40
        indicators:
          - {description: "% pratiche", target: "100%"}
      - number: 2
        title: Scadenza
        weight: 30
        indicators:
          - {description: "Rispetto dei tempi", target: "entro il 31/12/2025"}
      - number: 3
        title: Recupero evasione
        weight: 20
        indicators:
          - description: "Importo somme accertate/ importo somme stanziate"
            target: "Accertamento del 100% delle somme stanziate nel Bilancio 2025"
      - number: 4
        title: Solo informativo
        weight: 10
        indicators:
          - {description: "Somme impegnate", target: ""}
"""


def test_sector_score_is_weighted_sum_rescaled_over_evaluable_objectives():
    plan = plan_from(SECTOR)
    values = {
        "SF-1.1": {"value": 0.9},  # 0.9
        "SF-2.1": {"date": date(2026, 1, 31)},  # 31 days late: 1 - 0.25 x 2 = 0.5
        "SF-3.1": {"numerator": 80.0, "denominator": 100.0},  # 0.8
    }
    s = scoring.score_sector(plan.sectors[0], values, plan.scoring)
    points = 40 * 0.9 + 30 * 0.5 + 20 * 0.8  # 36 + 15 + 16 = 67
    evaluable_weight = 40 + 30 + 20  # SF-4 (10) has no scored indicator
    assert s.score == pytest.approx(points * 100 / evaluable_weight)  # 74.44...
    assert [o.evaluable for o in s.objectives] == [True, True, True, False]
    assert (s.band_code, s.band_label) == ("D", "Migliorabile")  # 70 <= 74.4 < 80


def test_sector_all_reached_scores_100():
    plan = plan_from(SECTOR)
    values = {"SF-1.1": {"value": 1.0}, "SF-2.1": {"date": date(2025, 12, 31)},
              "SF-3.1": {"numerator": 1.0, "denominator": 1.0}}
    s = scoring.score_sector(plan.sectors[0], values, plan.scoring)
    assert s.score == pytest.approx(100.0)  # (40 + 30 + 20) x 100 / 90
    assert s.band_code == "A"


def test_sector_nothing_reported_scores_zero_with_missing_statuses():
    plan = plan_from(SECTOR)
    s = scoring.score_sector(plan.sectors[0], {}, plan.scoring)
    assert s.score == 0.0
    assert s.band_code == "E"
    statuses = [i.status for o in s.objectives for i in o.indicators]
    assert statuses == ["missing", "missing", "missing", "informative"]


def test_sector_score_without_rescaling_when_every_objective_is_evaluable():
    objs = (
        scoring.ObjectiveScore("X-1", 60, 0.5, 60 * 0.5, ()),
        scoring.ObjectiveScore("X-2", 40, 1.0, 40 * 1.0, ()),
    )
    assert scoring.sector_score_value(objs) == pytest.approx(30 + 40)  # weights total 100


def test_sector_score_value_no_evaluable_weight_is_zero():
    objs = (scoring.ObjectiveScore("X-1", 100, None, 0.0, ()),)
    assert scoring.sector_score_value(objs) == 0.0
    assert scoring.sector_score_value(()) == 0.0


# --- bands -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "code"),
    [
        (100, "A"), (95, "A"), (94.99, "B"), (90, "B"), (89.99, "C"), (80, "C"),
        (79.99, "D"), (70, "D"), (69.99, "E"), (0, "E"),
        # decided on the published score (2 decimals): 94.995 and 94.999 print as "95,00", so band A;
        # 94.994 prints as "94,99", band B
        (94.995, "A"), (94.999, "A"), (94.994, "B"), (89.995, "B"), (69.9949, "E"),
    ],
)
def test_default_bands(score, code):
    assert DEFAULT.band(score).code == code


def test_band_is_not_lost_to_floating_point_noise():
    plan = plan_from("""
comune: Test
year: 2025
sectors:
  - code: SA
    name: A
    responsabile: {name: R}
    objectives:
      - {number: 1, title: T1, weight: 10, indicators: [{description: d, target: "100%"}]}
      - {number: 2, title: T2, weight: 20, indicators: [{description: d, target: "100%"}]}
      - {number: 3, title: T3, weight: 30, indicators: [{description: d, target: "100%"}]}
      - {number: 4, title: T4, weight: 40, indicators: [{description: d, target: "100%"}]}
""")
    values = {"SA-1.1": {"value": 0.89}, "SA-2.1": {"value": 0.94}, "SA-3.1": {"value": 0.99}, "SA-4.1": {"value": 0.94}}
    s = scoring.score_sector(plan.sectors[0], values, plan.scoring)
    # 10 x 0.89 + 20 x 0.94 + 30 x 0.99 + 40 x 0.94 = 8.9 + 18.8 + 29.7 + 37.6 = 95 exactly on paper,
    # 94.99999999999999 in binary floating point: still band A
    assert s.score == pytest.approx(95)
    assert s.band_code == "A"


def test_default_band_labels():
    assert [(b.min, b.code, b.label) for b in DEFAULT_BANDS] == [
        (95, "A", "Eccellente"), (90, "B", "Buono"), (80, "C", "Adeguato"),
        (70, "D", "Migliorabile"), (0, "E", "Inadeguato"),
    ]


def test_custom_bands_from_the_plan_file():
    plan = plan_from("""
comune: Test
year: 2025
scoring:
  bands:
    - {min: 0, code: KO, label: Non raggiunto}
    - {min: 60, code: OK, label: Raggiunto}
sectors:
  - code: SA
    name: A
    responsabile: {name: R}
    objectives:
      - {number: 1, title: T, weight: 100, indicators: [{description: d, target: "100%"}]}
""")
    assert [b.code for b in plan.scoring.bands] == ["OK", "KO"]  # sorted highest first
    assert plan.scoring.band(60).code == "OK"
    assert plan.scoring.band(59.99).code == "KO"
    s = scoring.score_sector(plan.sectors[0], {"SA-1.1": {"value": 0.6}}, plan.scoring)
    assert s.score == pytest.approx(100 * 0.6)
    assert (s.band_code, s.band_label) == ("OK", "Raggiunto")


def test_custom_bands_in_any_order():
    policy = ScoringPolicy(bands=(Band(0, "low", ""), Band(50, "high", "")))
    assert policy.band(50).code == "high"
    assert policy.band(49.9).code == "low"


@pytest.mark.parametrize(("rule", "description", "value", "status"), [
    # a share cannot exceed 100%: whatever kind compares it, a value beyond is not scored
    (Rule("at_least", unit="percent", target=0.9), "% pratiche concluse", 1.5, scoring.INVALID),
    (Rule("at_most", unit="percent", target=0.05), "% errori sul totale", 1.5, scoring.INVALID),
    (Rule("range", unit="percent", low=0.9, high=1.0), "% atti pubblicati", 1.01, scoring.INVALID),
    (Rule("range", unit="percent", low=0.9, high=1.0), "% atti pubblicati", 1.0, scoring.SCORED),
    # any other percentage may pass 100% up to a generous limit; numbers and amounts have no such limit
    (Rule("at_least", unit="percent", target=1.0), "Copertura rispetto al previsto", 1.05, scoring.SCORED),
    (Rule("at_least", unit="number", target=10.0), "% pratiche concluse", 1500.0, scoring.SCORED),
    (Rule("at_most", unit="amount", target=100.0), "Spesa / previsto", 5.0, scoring.SCORED),
])
def test_percent_inputs_beyond_their_limit_are_not_scored(rule, description, value, status):
    from piao_xls.core.model import Indicator

    ind = Indicator("X-1.1", "Quantità", description, "", rule)
    got = scoring.score_indicator(ind, {"value": value}, ScoringPolicy())
    assert got.status == status, got
    if status == scoring.INVALID:
        assert got.achievement == 0.0 and "oltre il limite" in got.reason
        assert re.search(r"\(\d+(,\d+)?%\)$", got.reason), got.reason  # the limit as Italians write it
