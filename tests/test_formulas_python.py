"""The live objective, sector and band formulas compute what the scoring engine computes.

Evaluated in process by the `formulas` package (as tests/test_rule_formulas.py does for each rule kind);
tests/test_lo_roundtrip.py recalculates the same formulas in real LibreOffice.
"""

from __future__ import annotations

from types import SimpleNamespace

import formulas as xl
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from piao_xls.core import formulas
from piao_xls.core.model import DEFAULT_BANDS, Rule, ScoringPolicy
from piao_xls.core.scoring import SCORED, IndicatorScore, ObjectiveScore, gate_capped, score_objective, sector_score_value

_COMPILED: dict[str, object] = {}


def evaluate(formula: str, cells: dict[str, object]):
    fn = _COMPILED.get(formula)
    if fn is None:
        fn = _COMPILED[formula] = xl.Parser().ast(formula)[1].compile()
    out = np.asarray(fn(*(cells[name.upper()] for name in fn.inputs))).ravel()[0]
    return out if isinstance(out, str) else float(out)


achievements = st.floats(0, 1, allow_nan=False).map(lambda x: round(x, 6))
policies = st.builds(ScoringPolicy, aggregation=st.sampled_from(["weighted_mean", "min"]),
                     threshold=st.sampled_from([None, 0.5, 0.6, 0.8, 0.333]), precision=st.integers(0, 4))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(achievements, st.sampled_from([1, 2, 3, 0.5])), min_size=1, max_size=4), policies)
def test_objective_formula_is_the_engine(parts, policy):
    cells = {f"H{10 + n}": a for n, (a, _) in enumerate(parts)}
    inds = [SimpleNamespace(id=f"X-1.{n}", weight=w, rule=Rule("at_least", target=1.0)) for n, (_, w) in enumerate(parts)]
    obj = SimpleNamespace(id="X-1", weight=10.0, gate=False, indicators=inds)
    scores = {i.id: IndicatorScore(i.id, SCORED, a, "") for i, (a, _) in zip(inds, parts, strict=True)}
    expected = score_objective(obj, scores, policy).achievement
    formula = formulas.objective_formula([(ref, w) for ref, (_, w) in zip(cells, parts, strict=True)], policy)
    assert abs(evaluate(formula, cells) - expected) < 1e-12


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(achievements, st.sampled_from([10, 20, 15, 30])), min_size=1, max_size=5),
       st.lists(achievements | st.just(1.0), max_size=2), st.sampled_from([0.0, 50.0, 60.0]))
def test_sector_formula_with_gates_is_the_engine(objs, gates, cap):
    policy = ScoringPolicy(gate_cap=cap)
    scored = tuple(ObjectiveScore(f"S-{n}", w, a, w * a, ()) for n, (a, w) in enumerate(objs))
    gate_scores = tuple(ObjectiveScore(f"G-{n}", 0.0, a, 0.0, (), gate=True) for n, a in enumerate(gates))
    expected, _ = gate_capped(sector_score_value(scored + gate_scores), scored + gate_scores, policy)
    points = {f"G{10 + n}": o.points for n, o in enumerate(scored)}
    gate_cells = {f"F{30 + n}": a for n, a in enumerate(gates)}
    formula = formulas.sector_formula(list(points), sum(w for _, w in objs), list(gate_cells), cap)
    assert abs(evaluate(formula, {**points, **gate_cells}) - expected) < 1e-9


@settings(max_examples=300, deadline=None)
@given(st.floats(0, 100, allow_nan=False) | st.sampled_from([94.995, 94.994, 89.9999999, 95.0, 0.0, 100.0]),
       st.integers(0, 4))
def test_band_formula_is_the_engine(score, precision):
    policy = ScoringPolicy(precision=precision)
    band = policy.band(score)
    expected = f"{band.code} - {band.label}"
    assert evaluate(formulas.band_formula("K1", DEFAULT_BANDS, precision), {"K1": score}) == expected


def test_points_are_weight_times_achievement():
    assert evaluate(formulas.points_formula(12.5, "I5"), {"I5": 0.8}) == 10.0
