"""For every registered rule kind: the live Excel formula computes what ``score()`` computes.

The formulas are evaluated in process by the `formulas` package (an Excel formula parser and evaluator), so
this runs everywhere; tests/test_lo_roundtrip.py recalculates the same formulas in real LibreOffice.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

import formulas
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rule_strategies import BY_KIND

from piao_xls.core.model import Rule, ScoringPolicy
from piao_xls.core.rules import KINDS, kind_of
from piao_xls.core.rules.base import INFORMATIVE

CELLS = ("E5", "F5")
EXCEL_EPOCH = date(1899, 12, 30)
_COMPILED: dict[str, object] = {}


def evaluate(formula: str, cells: dict[str, object]) -> float:
    """The value of ``formula`` with the given input cells (A1 ref -> value), computed by `formulas`."""
    fn = _COMPILED.get(formula)
    if fn is None:
        fn = _COMPILED[formula] = formulas.Parser().ast(formula)[1].compile()
    result = fn(*(cells[name.upper()] for name in fn.inputs))
    return float(np.asarray(result).ravel()[0])


def _boundaries(rule: Rule) -> list[float]:
    """Values where a rule changes behaviour: its parameters and the values it derives from them."""
    out = [0.0, 1.0]
    for name in ("target", "worst", "low", "high", "baseline"):
        v = getattr(rule, name)
        if v is not None:
            out += [v, v + 1e-7, v - 1e-7, -v, 2 * v]
    if rule.tolerance is not None and rule.target is not None:
        out += [rule.target + rule.tolerance, rule.target - rule.tolerance]
    if rule.baseline is not None:
        for share, sign in ((rule.increase, 1), (rule.decrease, -1)):
            if share is not None:
                out.append(rule.baseline * (1 + sign * share))
    return out


@st.composite
def _case(draw, kind_name: str):
    """A rule of the kind, a policy, and several sets of input values for it (as the reader validates them)."""
    rule = draw(BY_KIND[kind_name])
    policy = ScoringPolicy(late_penalty_per_month=draw(st.sampled_from([1.0, 0.25, 0.5, 0.1])))
    specs = kind_of(rule.kind).inputs(rule, 2025)
    special = _boundaries(rule)
    # values a person types: no subnormal magnitudes, which spreadsheets flush to zero or overflow on (#NUM!)
    typed = st.floats(-1e7, 1e7, allow_nan=False, allow_subnormal=False).filter(lambda x: x == 0 or abs(x) >= 1e-6)
    numbers = st.one_of(st.sampled_from(special), typed, st.integers(-1000, 1000).map(float))
    values = []
    for _ in range(draw(st.integers(3, 8))):
        one = {}
        for spec in specs:
            if spec.unit == "date":
                due = rule.deadline or date(2025, 6, 30)
                one[spec.name] = due + timedelta(days=draw(st.integers(-400, 400)))
            elif spec.unit == "yes_no":
                one[spec.name] = draw(st.booleans())
            else:
                x = draw(numbers)
                if spec.min is not None:
                    x = max(x, spec.min)
                if spec.max is not None:
                    x = min(x, spec.max)
                one[spec.name] = x
        if rule.kind == "increase" and rule.baseline is None and draw(st.booleans()):
            one["current"] = one["baseline"] * (1 + (rule.increase or 0.0))  # exactly the value to reach
        values.append(one)
    return rule, policy, values


def _cell_value(v):
    if isinstance(v, bool):
        return "Sì" if v else "No"
    if isinstance(v, date):
        return float((v - EXCEL_EPOCH).days)
    return v


def _check(rule: Rule, policy: ScoringPolicy, values: list[dict]) -> None:
    kind = kind_of(rule.kind)
    names = [s.name for s in kind.inputs(rule, 2025)]
    formula = kind.formula(rule, CELLS[:len(names)], policy)
    for one in values:
        status, achievement, _ = kind.score(rule, one, policy)
        if formula is None:
            assert status == INFORMATIVE
            continue
        got = evaluate(formula, {c: _cell_value(one[n]) for c, n in zip(CELLS, names, strict=False)})
        assert math.isclose(got, achievement, rel_tol=1e-9, abs_tol=1e-9), (formula, one, got, achievement)


@pytest.mark.parametrize("kind_name", sorted(KINDS))
def test_live_formula_computes_the_score(kind_name):
    @settings(max_examples=15, deadline=None, derandomize=True)
    @given(_case(kind_name))
    def run(case):
        _check(*case)

    run()


def test_every_registered_kind_is_covered():
    assert set(BY_KIND) == set(KINDS)


@pytest.mark.parametrize("kind_name", sorted(k for k in KINDS if k != "informative"))
def test_an_empty_input_scores_zero_live_and_missing_in_python(kind_name):
    rule = next(iter(_examples(kind_name)))
    kind = kind_of(kind_name)
    names = [s.name for s in kind.inputs(rule, 2025)]
    status, achievement, _ = kind.score(rule, {}, ScoringPolicy())
    assert (status, achievement) == ("missing", 0.0)
    formula = kind.formula(rule, CELLS[:len(names)], ScoringPolicy())
    assert evaluate(formula, {c: formulas.functions.EMPTY if hasattr(formulas.functions, "EMPTY") else None
                              for c in CELLS[:len(names)]}) == 0.0


def _examples(kind_name):
    found = []

    @settings(max_examples=1, deadline=None, derandomize=True)
    @given(BY_KIND[kind_name])
    def grab(rule):
        found.append(rule)

    grab()
    return found
