"""Light structural checks of the live Excel formulas (the LibreOffice equivalence test is elsewhere)."""

from __future__ import annotations

from datetime import date

import pytest

from piao_xls.core import formulas
from piao_xls.core.answers import YES
from piao_xls.core.model import DEFAULT_BANDS, Rule, ScoringPolicy

P = ScoringPolicy()
RULES = [
    Rule("at_least", unit="percent", target=1.0),
    Rule("at_most", unit="number", target=0.0, worst=30.0),
    Rule("range", unit="percent", low=0.9, high=1.0),
    Rule("deadline", unit="date", deadline=date(2025, 11, 30)),
    Rule("yes_no", unit="yes_no"),
    Rule("fraction", unit="percent", target=1.0),
    Rule("increase", increase=0.6, baseline_year=2024),
]


@pytest.mark.parametrize("rule", RULES, ids=[r.kind for r in RULES])
def test_indicator_formula_reads_its_input_cells(rule):
    f = formulas.indicator_formula(rule, ["F10", "F11"], P)
    assert f.startswith("=")
    assert "F10" in f
    two_inputs = rule.kind in ("fraction", "increase")
    assert ("F11" in f) == two_inputs
    assert f.count("(") == f.count(")")


def test_informative_has_no_formula():
    assert formulas.indicator_formula(Rule("informative"), ["F10"], P) is None


def test_rule_parameters_appear_in_the_formulas():
    assert "30" in formulas.indicator_formula(RULES[1], ["F10"], P)  # worst
    rng = formulas.indicator_formula(RULES[2], ["F10"], P)
    assert "0.9" in rng and "F10<=1" in rng
    dl = formulas.indicator_formula(RULES[3], ["F10"], ScoringPolicy(late_penalty_per_month=0.25))
    assert "DATE(2025,11,30)" in dl and "0.25" in dl and "/30" in dl
    yes = formulas.indicator_formula(RULES[4], ["F10"], P)
    assert all(f'LOWER(TRIM(F10))="{s}"' in yes for s in YES)  # the reader's own list of spellings
    assert "F11=0" in formulas.indicator_formula(RULES[5], ["F10", "F11"], P)  # denominator 0 guard
    assert "1.6" in formulas.indicator_formula(RULES[6], ["F10", "F11"], P)  # 1 + 0.6


def test_objective_formula_weighted_mean_min_and_threshold():
    assert formulas.objective_formula([("H10", 3), ("H11", 1)], P) == "=(3*H10+1*H11)/4"
    f = formulas.objective_formula([("H10", 3), ("H11", 1)], ScoringPolicy(aggregation="min", threshold=0.5))
    assert "MIN(H10,H11)" in f and "ROUND((MIN(H10,H11))*100,2)<50," in f  # on the published percentage


def test_points_sector_and_band_formulas():
    assert formulas.points_formula(10, "I5") == "=10*I5"
    assert formulas.sector_formula(["J1", "J2"], 90) == "=(J1+J2)*100/90"
    assert formulas.sector_formula([], 0) == "=0"
    band = formulas.band_formula("K1", DEFAULT_BANDS)
    for b in DEFAULT_BANDS[:-1]:
        assert f"ROUND(K1,2)>={b.min:g}" in band  # on the published score
    assert '"E - Inadeguato"' in band
