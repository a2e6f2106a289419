"""Live Excel formulas that mirror :mod:`piao_xls.core.scoring` exactly (pure: strings out).

A Responsabile sees the degree of achievement as they type. The reader never trusts these
cells: it re-scores with :mod:`piao_xls.core.scoring`. Tests recalculate them in real LibreOffice
and compare with the Python engine to 1e-9.
"""

from __future__ import annotations

from collections.abc import Sequence

from .model import Band, Rule, ScoringPolicy
from .rules import kind_of


def _n(x: float) -> str:
    return repr(float(x)) if not float(x).is_integer() else str(int(x))


def indicator_formula(rule: Rule, cells: Sequence[str], policy: ScoringPolicy) -> str | None:
    """The achievement formula for one indicator whose inputs are ``cells`` (A1 refs), or None."""
    try:
        kind = kind_of(rule.kind)
    except KeyError:
        raise ValueError(f"unknown rule kind {rule.kind!r}") from None
    return kind.formula(rule, cells, policy)


def objective_formula(parts: Sequence[tuple[str, float]], policy: ScoringPolicy) -> str:
    """Achievement of an objective from (achievement cell, indicator weight) pairs."""
    if policy.aggregation == "min":
        expr = f"MIN({','.join(c for c, _ in parts)})"
    else:
        total = sum(w for _, w in parts)
        expr = f"({'+'.join(f'{_n(w)}*{c}' for c, w in parts)})/{_n(total)}"
    if policy.threshold is not None:  # compared on the published percentage, as ScoringPolicy.below_threshold
        thr = _n(round(policy.threshold * 100, 9))
        return f"=IF(ROUND(({expr})*100,{policy.precision})<{thr},0,{expr})"
    return f"={expr}"


def points_formula(weight: float, achievement_cell: str) -> str:
    return f"={_n(weight)}*{achievement_cell}"


def sector_formula(point_cells: Sequence[str], evaluable_weight: float, gate_cells: Sequence[str] = (),
                   gate_cap: float = 0.0) -> str:
    """The sector score: Σ points × 100 / evaluable weight, capped at ``gate_cap`` when the achievement of a
    gate objective (``gate_cells``) is below 100% (as :func:`piao_xls.core.scoring.gate_capped`)."""
    if not point_cells or evaluable_weight == 0:
        base = "0"
    else:
        base = f"({'+'.join(point_cells)})*100/{_n(evaluable_weight)}"
    if not gate_cells:
        return f"={base}"
    failed = ",".join(f"ROUND({c},9)<1" for c in gate_cells)
    return f"=IF(OR({failed}),MIN({_n(gate_cap)},{base}),{base})"


def band_formula(score_cell: str, bands: Sequence[Band], precision: int = 2) -> str:
    """The band of the score in ``score_cell``, decided on the published score (``precision`` decimals)."""
    ordered = sorted(bands, key=lambda b: -b.min)
    score = f"ROUND({score_cell},{precision})"  # as ScoringPolicy.band
    expr = f'"{_band_text(ordered[-1])}"'
    for b in reversed(ordered[:-1]):
        expr = f'IF({score}>={_n(b.min)},"{_band_text(b)}",{expr})'
    return "=" + expr


def _band_text(b: Band) -> str:
    return f"{b.code} - {b.label}" if b.label else b.code
