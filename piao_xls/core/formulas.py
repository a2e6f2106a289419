"""Live Excel formulas that mirror :mod:`piao_xls.core.scoring` exactly (pure: strings out).

A Responsabile sees the degree of achievement as they type. The reader never trusts these
cells: it re-scores with :mod:`piao_xls.core.scoring`. Tests recalculate them in real LibreOffice
and compare with the Python engine to 1e-9.
"""

from __future__ import annotations

from collections.abc import Sequence

from .answers import yes_formula
from .model import Band, Rule, ScoringPolicy


def _n(x: float) -> str:
    return repr(float(x)) if not float(x).is_integer() else str(int(x))


def _at_least(expr: str, target: float) -> str:
    if target == 0:
        return f"IF({expr}>=0,1,0)"
    return f"MIN(1,MAX(0,({expr})/{_n(target)}))"


def indicator_formula(rule: Rule, cells: Sequence[str], policy: ScoringPolicy) -> str | None:
    """The achievement formula for one indicator whose inputs are ``cells`` (A1 refs), or None."""
    k = rule.kind
    if k == "informative":
        return None
    a = cells[0]
    if k == "at_least":
        return f"=IF(ISNUMBER({a}),{_at_least(a, rule.target or 0.0)},0)"
    if k == "at_most":
        t = _n(rule.target or 0.0)
        if rule.worst is not None:
            w = _n(rule.worst)
            inner = f"IF({a}<={t},1,IF({a}<{w},({w}-{a})/({w}-{t}),0))"
        else:
            inner = f"IF({a}<={t},1,0)"
        return f"=IF(ISNUMBER({a}),{inner},0)"
    if k == "range":
        lo, hi = _n(rule.low or 0.0), _n(rule.high or 0.0)
        below = f"MAX(0,{a}/{lo})" if (rule.low or 0) > 0 else "0"
        return (f"=IF(ISNUMBER({a}),IF(AND({a}>={lo},{a}<={hi}),1,"
                f"IF({a}<{lo},{below},IF({a}>0,{hi}/{a},0))),0)")
    if k == "deadline":
        d = rule.deadline
        due = f"DATE({d.year},{d.month},{d.day})"
        p = _n(policy.late_penalty_per_month)
        return (f"=IF(ISNUMBER({a}),IF(INT({a})<={due},1,"
                f"MAX(0,1-{p}*ROUNDUP((INT({a})-{due})/30,0))),0)")
    if k == "yes_no":
        return f"=IF({yes_formula(a)},1,0)"
    b = cells[1]
    if k == "fraction":
        return (f"=IF(AND(ISNUMBER({a}),ISNUMBER({b})),IF({b}=0,0,"
                f"{_at_least(f'{a}/{b}', rule.target or 0.0)}),0)")
    if k == "increase":
        factor = _n(1 + (rule.increase or 0.0))
        return (f"=IF(AND(ISNUMBER({a}),ISNUMBER({b})),IF({a}=0,IF({b}>0,1,0),"
                f"MIN(1,MAX(0,{b}/({a}*{factor})))),0)")
    raise ValueError(f"unknown rule kind {k!r}")


def objective_formula(parts: Sequence[tuple[str, float]], policy: ScoringPolicy) -> str:
    """Achievement of an objective from (achievement cell, indicator weight) pairs."""
    if policy.aggregation == "min":
        expr = f"MIN({','.join(c for c, _ in parts)})"
    else:
        total = sum(w for _, w in parts)
        expr = f"({'+'.join(f'{_n(w)}*{c}' for c, w in parts)})/{_n(total)}"
    if policy.threshold is not None:
        return f"=IF({expr}<{_n(policy.threshold)},0,{expr})"
    return f"={expr}"


def points_formula(weight: float, achievement_cell: str) -> str:
    return f"={_n(weight)}*{achievement_cell}"


def sector_formula(point_cells: Sequence[str], evaluable_weight: float) -> str:
    if not point_cells or evaluable_weight == 0:
        return "=0"
    return f"=({'+'.join(point_cells)})*100/{_n(evaluable_weight)}"


def band_formula(score_cell: str, bands: Sequence[Band]) -> str:
    ordered = sorted(bands, key=lambda b: -b.min)
    score = f"ROUND({score_cell},9)"  # as ScoringPolicy.band
    expr = f'"{_band_text(ordered[-1])}"'
    for b in reversed(ordered[:-1]):
        expr = f'IF({score}>={_n(b.min)},"{_band_text(b)}",{expr})'
    return "=" + expr


def _band_text(b: Band) -> str:
    return f"{b.code} - {b.label}" if b.label else b.code
