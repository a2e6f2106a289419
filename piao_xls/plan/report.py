"""Plain-text and JSON reports of plan checks (pure: data in, strings and dicts out). Text is Italian."""

from __future__ import annotations

from collections import Counter

from ..core import italian
from ..core.errors import ERROR, WARNING, Finding
from ..core.model import Indicator, Plan, Sector
from ..core.targets import TargetError, explain_it, read_target
from ..core.years import target_year
from .planfile import SOURCE_IT


def reading_it(ind: Indicator, year: int | None) -> str:
    """How the indicator's target is read, in plain Italian, with the grammar's notes (an ambiguous number,
    a duration read as a maximum, a qualitative target); an explicit rule says so. Without the plan's year
    (a plan with errors), the rule as read."""
    if year is None:
        return explain_it(ind.rule)
    try:
        reading = read_target(ind.target_text, ind.description, year)
    except TargetError:
        reading = None
    if reading is not None and reading.rule == ind.rule:
        return reading.text_it()
    return f"{explain_it(ind.rule)} [regola esplicita]"


def _n(x: float) -> str:
    return italian.plain(x, 4)


def later_years(plan: Plan) -> dict[int, list[str]]:
    """Indicators whose target belongs to a later year of the plan (PIAO are triennial): year -> ids."""
    out: dict[int, list[str]] = {}
    for i in plan.indicators:
        y = target_year(i, plan.year)
        if y > plan.year:
            out.setdefault(y, []).append(i.id)
    return dict(sorted(out.items()))


def plan_summary(plan: Plan | None, findings: list[Finding], read: list | None = None) -> dict:
    sectors = []
    for s in plan.sectors if plan else ():
        sectors.append({
            "code": s.code,
            "name": s.name,
            "responsabile": s.responsabile.display,
            "objectives": len(s.objectives),
            "weight_total": s.weight_total,
            "indicators": dict(Counter(i.rule.kind for i in s.indicators)),
            "evaluable": s.evaluable,
            "gates": [o.id for o in s.gates],
            "coefficients": {o.id: o.coefficient for o in s.objectives if o.coefficient is not None},
            "dup": {o.id: o.dup for o in s.objectives if o.dup},  # the DUP missione/programma of each objective
        })
    out = {
        "plan_id": plan.plan_id if plan else None,
        "year": plan.year if plan else None,
        "fingerprint": plan.fingerprint if plan else None,
        "errors": [f.to_dict() for f in findings if f.severity == ERROR],
        "warnings": [f.to_dict() for f in findings if f.severity == WARNING],
        "sectors": sectors,
        "later_years": {str(y): ids for y, ids in later_years(plan).items()} if plan else {},
    }
    if plan is None and read:
        out["targets_read"] = [{"indicator": i.id, "where": where, "target": i.target_text, "rule": i.rule.kind,
                                "interpretation": explain_it(i.rule)} for i, where in read]
    return out


def _sector_line(s: Sector) -> str:
    kinds = Counter(i.rule.kind for i in s.indicators)
    kinds_txt = ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())) or "nessuno"
    coeff = [o.coefficient for o in s.objectives if o.coefficient is not None]
    weights = (f"pesi come coefficienti (totale {_n(sum(coeff))}) riportati a 100" if coeff else
               f"pesi {_n(s.weight_total)}%")
    gates = f", obiettivi di accesso: {', '.join(o.id for o in s.gates)}" if s.gates else ""
    line = (f"  {s.code}  {s.name}  ({s.responsabile.display}): {len(s.objectives)} obiettivi, {weights}{gates}, "
            f"indicatori: {kinds_txt}")
    if not s.evaluable:
        line += "\n      NON VALUTABILE: nessun obiettivo ha un indicatore misurabile (nessun punteggio, nessuna fascia)"
    return line


def _interpretation(i: Indicator, plan_year: int | None = None) -> str:
    src = "" if i.source == "responsabile" else f" [fonte: {SOURCE_IT.get(i.source, i.source)}]"
    year = ""
    if plan_year is not None:
        y = target_year(i, plan_year)
        if y > plan_year:
            year = f" [target del {y}]"
    return f"{i.id}: {i.target_text!r} -> {reading_it(i, plan_year)}{src}{year}"


def plan_summary_text(plan: Plan | None, findings: list[Finding], path: str, verbose: bool = False,
                      read: list | None = None) -> str:
    """The report of ``plan check`` and ``plan import``. ``read``: (indicator, place) pairs of every target read,
    printed when the plan has errors so that the author sees every interpretation in one pass."""
    out = []
    errors = [f for f in findings if f.severity == ERROR]
    warnings = [f for f in findings if f.severity == WARNING]
    if plan is not None:
        out.append(f"{path}: {plan.title}")
        out.append(f"Comune di {plan.comune}, anno {plan.year}: {len(plan.sectors)} settori, "
                   f"{len(plan.objectives)} obiettivi, {len(plan.indicators)} indicatori")
        out.append(f"impronta (fingerprint) {plan.fingerprint[:16]}")
        for s in plan.sectors:
            out.append(_sector_line(s))
            if verbose:
                for o in s.objectives:
                    weight = "accesso" if o.gate else f"{_n(o.weight)}%" + (
                        f" = coefficiente {_n(o.coefficient)}" if o.coefficient is not None else "")
                    dup = f" [DUP {o.dup}]" if o.dup else ""
                    out.append(f"      {o.id} ({weight}) {o.title}{dup}")
                    if not o.indicators:
                        out.append("        (nessun indicatore)")
                    for i in o.indicators:
                        out.append(f"        {_interpretation(i, plan.year)}")
        for y, ids in later_years(plan).items():
            out.append(f"Target del {y} (anno successivo del piano, tenuti come stampati): {', '.join(ids)}")
    elif read:
        out.append(f"{path}: il piano ha errori; ecco come è stato interpretato ogni target letto "
                   f"({len(read)}):")
        for i, where in read:
            out.append(f"  {where}: {_interpretation(i)}")
    for f in errors + warnings:
        out.append(str(f))
    out.append(f"{len(errors)} {'errore' if len(errors) == 1 else 'errori'}, "
               f"{len(warnings)} {'avviso' if len(warnings) == 1 else 'avvisi'}")
    return "\n".join(out)
