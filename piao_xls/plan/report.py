"""Plain-text and JSON reports of plan checks (pure: data in, strings and dicts out)."""

from __future__ import annotations

from collections import Counter

from ..core.errors import ERROR, WARNING, Finding
from ..core.model import Indicator, Plan
from ..core.rules import kind_of
from ..core.targets import TargetError, explain_it, read_target


def reading_it(ind: Indicator, year: int) -> str:
    """How the indicator's target is read, in plain Italian, with the grammar's notes (an ambiguous number,
    a duration read as a maximum, a qualitative target); an explicit rule says so."""
    try:
        reading = read_target(ind.target_text, ind.description, year)
    except TargetError:
        reading = None
    if reading is not None and reading.rule == ind.rule:
        return reading.text_it()
    return f"{explain_it(ind.rule)} [regola esplicita]"


def _finding(f: Finding) -> dict:
    d = {"code": f.code, "severity": f.severity, "file": f.file, "line": f.line, "message": f.message}
    if f.sheet is not None:  # a plan workbook: sheet and cell instead of line
        d.update(sheet=f.sheet, cell=f.cell)
    return d


def plan_summary(plan: Plan | None, findings: list[Finding]) -> dict:
    sectors = []
    for s in plan.sectors if plan else ():
        sectors.append({
            "code": s.code,
            "name": s.name,
            "responsabile": s.responsabile.display,
            "objectives": len(s.objectives),
            "weight_total": s.weight_total,
            "indicators": dict(Counter(i.rule.kind for i in s.indicators)),
        })
    return {
        "plan_id": plan.plan_id if plan else None,
        "year": plan.year if plan else None,
        "fingerprint": plan.fingerprint if plan else None,
        "errors": [_finding(f) for f in findings if f.severity == ERROR],
        "warnings": [_finding(f) for f in findings if f.severity == WARNING],
        "sectors": sectors,
    }


def plan_summary_text(plan: Plan | None, findings: list[Finding], path: str, verbose: bool = False) -> str:
    out = []
    errors = [f for f in findings if f.severity == ERROR]
    warnings = [f for f in findings if f.severity == WARNING]
    if plan is not None:
        out.append(f"{path}: {plan.title}")
        out.append(f"Comune di {plan.comune}, year {plan.year}, {len(plan.sectors)} sectors, "
                   f"{len(plan.objectives)} objectives, {len(plan.indicators)} indicators")
        out.append(f"fingerprint {plan.fingerprint[:16]}")
        for s in plan.sectors:
            kinds = Counter(i.rule.kind for i in s.indicators)
            kinds_txt = ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
            out.append(f"  {s.code}  {s.name}  ({s.responsabile.display}): {len(s.objectives)} objectives, "
                       f"weights {s.weight_total:g}%, indicators: {kinds_txt}")
            if verbose:
                for o in s.objectives:
                    out.append(f"      {o.id} ({o.weight:g}%) {o.title}")
                    for i in o.indicators:
                        src = "" if i.source == "responsabile" else f" [source: {i.source}]"
                        out.append(f"        {i.id}: {i.target_text!r} -> {kind_of(i.rule.kind).describe(i.rule)}{src}")
                        out.append(f"            = {reading_it(i, plan.year)}")
    for f in errors + warnings:
        out.append(str(f))
    out.append(f"{len(errors)} error(s), {len(warnings)} warning(s)")
    return "\n".join(out)
