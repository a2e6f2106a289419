"""What the summary workbook, the JSON and the CSV show, computed once from a consolidation.

* Italian labels for every code a reader could see (statuses, sources, severities, file kinds);
* the typed values each indicator was scored from (numbers, dates, yes/no), at full precision;
* Italian text for numbers, percentages, amounts and dates (``1.234.567,89 €``, ``97%``, ``05/12/2025``).

The consolidation's rows (see :mod:`piao_xls.results.consolidate`) are never changed: :func:`tables`
returns copies with the added keys, so every key of the consolidation reaches the JSON unchanged.
"""

from __future__ import annotations

import math
from datetime import date, datetime

from ..core import italian
from ..core.errors import SEVERITY_IT
from ..core.targets import inputs_for
from ..returns.reader import STATUS_IT
from .consolidate import Consolidation

# --- Italian labels -------------------------------------------------------------------------

INDICATOR_STATUS_IT = {"scored": "valutato", "missing": "non rendicontato", "invalid": "non valutabile",
                       "informative": "informativo", "not_applicable": "non applicabile",
                       "not_available": "non disponibile", "not_received": "non pervenuto", "conflict": "conflitto",
                       "neutralised": "neutralizzato", "neutralized": "neutralizzato",
                       "excluded": "escluso dal piano"}
#: an objective's state (``objectives[*].state``): each its own word, in every output
OBJECTIVE_STATE_IT = {"scored": "valutato", "not_reported": "non rendicontato", "not_available": "non disponibile",
                      "neutralised": "neutralizzato dal Nucleo", "excluded": "escluso dal piano",
                      "not_applicable": "non applicabile", "gate": "obiettivo di accesso",
                      "not_scored": "non valutato"}
#: the short mark of a state that is not a result, next to a figure or in a chart (legend: MARK_IT)
STATE_MARK = {"not_reported": "n.r.", "not_available": "n.d.", "neutralised": "neutr.", "excluded": "escl.",
              "not_applicable": "n.a.", "not_scored": "n.v."}
MARK_IT = {"n.r.": "non rendicontato (vale 0)", "n.d.": "non disponibile (vale 0)",
           "neutr.": "neutralizzato dal Nucleo (escluso dal calcolo)", "escl.": "escluso dal piano (non misurabile)",
           "n.a.": "non applicabile (escluso dal calcolo)", "n.v.": "non valutato"}
OUTCOME_IT = {"reached": "raggiunto", "partly": "parzialmente raggiunto", "not_reached": "non raggiunto",
              "not_reported": "non rendicontato", "not_counted": "non conteggiato"}
SECTOR_STATUS_IT = {"scored": "valutato", "scored_with_issues": "valutato con anomalie",
                    "not_received": "non pervenuto", "conflict": "conflitto", "not_evaluable": "non valutabile"}
#: a file's status: the reader's, or "skipped" (not a workbook)
FILE_STATUS_IT = {**STATUS_IT, "skipped": "ignorato"}
SOURCE_IT = {"responsabile": "Responsabile", "nucleo": "Nucleo di Valutazione", "esterno": "Certificazione esterna"}
KIND_IT = {"all": "tutti i settori", "sector": "settore", "source": "fonte di verifica"}
UNIT_IT = {"percent": "percentuale", "number": "numero", "amount": "euro", "date": "data", "yes_no": "sì/no"}
# short Italian names of the inputs of multi-value rules, for the value text
INPUT_IT = {"numerator": "accertato", "denominator": "stanziato"}


def label(mapping: dict[str, str], value) -> str:
    """The Italian label of a code (a value already in Italian, or unknown, is returned as is)."""
    if value is None:
        return ""
    return mapping.get(value, value) if isinstance(value, str) else str(value)


def used_for_it(text: str) -> str:
    """``"SF,SA:nucleo"`` -> ``"SF, SA (Nucleo di Valutazione)"``."""
    out = []
    for part in filter(None, (text or "").split(",")):
        code, _, source = part.partition(":")
        out.append(f"{code} ({label(SOURCE_IT, source)})" if source else code)
    return ", ".join(out)


# --- Italian numbers (one module: piao_xls.core.italian) -----------------------------------

finite = italian.finite


def it_number(x: float, decimals: int = 2) -> str:
    """``1234567.891`` -> ``1.234.567,89`` (empty for a value that is not a finite number)."""
    return italian.number(x, decimals)


def it_plain(x: float) -> str:
    """A number with as many decimals as it has (up to 6): ``3`` -> ``3``, ``-2.5`` -> ``-2,5``."""
    return italian.plain(x)


def it_percent(fraction: float) -> str:
    """``0.97`` -> ``97%``; ``0.944444`` -> ``94,44%``."""
    return italian.percent(fraction)


def it_amount(x: float) -> str:
    return italian.amount(x)


def it_date(d) -> str:
    """A date, datetime or ISO string -> ``05/12/2025`` (``05/12/2025 10:30`` with a time)."""
    return italian.day(d)


def it_value(value, unit: str) -> str:
    """One value as a reader sees it, by its unit."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return italian.yes_no(value)
    if isinstance(value, (date, datetime)):
        return it_date(value)
    if not finite(value):
        return ""
    if unit == "percent":
        return it_percent(value)
    if unit == "amount":
        return it_amount(value)
    return it_plain(value)


def published_number(x: float | None, decimals: int) -> str:
    """A figure the evaluation already rounded as published, in Italian with exactly ``decimals`` decimals."""
    return italian.number(x, decimals) if finite(x) else ""


def published_percent(x: float | None, decimals: int) -> str:
    """A published percentage (0..100, already rounded), ``21,16%``: always ``decimals`` decimals."""
    return f"{italian.number(x, decimals)}%" if finite(x) else ""


def thresholds_it(policy) -> str:
    """The thresholds of the counts of objectives, in words."""
    return (f"raggiunto: raggiungimento da {italian.plain(policy.reached * 100, 2)}%; non raggiunto: sotto il "
            f"{italian.plain(policy.not_reached_below * 100, 2)}%; parzialmente raggiunto: in mezzo")


def json_value(value):
    """A value for JSON: numbers as numbers (non-finite -> null), dates as ISO strings."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, (int, float)):
        return value if math.isfinite(value) else None
    return str(value)


# --- the values each indicator was scored from ---------------------------------------------

def indicator_values(c: Consolidation) -> dict[str, dict[str, object]]:
    """Indicator id -> {input name: typed value} for every indicator with a value in the submissions the
    evaluation used (as reported: a correction of the Nucleo is listed among the decisions)."""
    out: dict[str, dict[str, object]] = {}
    if c.evaluation is None:
        return out
    for s in c.evaluation.sectors:
        for o in s.objectives:
            for i in o.indicators:
                if i.reported is not None:
                    out[i.indicator_id] = dict(i.reported.items())
    return out


class ValueView:
    """How one indicator's values are shown: the main value and its reference (fraction: accertato
    and stanziato; increase: this year's and the baseline), with their units, and the Italian text."""

    __slots__ = ("main", "main_unit", "ref", "ref_unit", "text", "units")

    def __init__(self, ind, year: int, vals: dict[str, object] | None):
        specs = inputs_for(ind.rule, year)
        self.units = {s.name: s.unit for s in specs}
        vals = vals or {}
        kind = ind.rule.kind
        if kind == "fraction":
            main, ref = "numerator", "denominator"
        elif kind == "increase":
            main, ref = "current", "baseline"
        else:
            main, ref = (specs[0].name if specs else "value"), None
        self.main = vals.get(main)
        self.main_unit = self.units.get(main, "number")
        self.ref = vals.get(ref) if ref else None
        self.ref_unit = self.units.get(ref, "number") if ref else ""
        if kind == "increase":
            by = ind.rule.baseline_year or year - 1
            names = {"baseline": str(by), "current": str(year)}
        else:
            names = INPUT_IT
        parts = []
        for s in specs:
            v = vals.get(s.name)
            if v is None:
                continue
            txt = it_value(v, s.unit)
            parts.append(txt if len(specs) == 1 else f"{names.get(s.name, s.name)} {txt}")
        self.text = "; ".join(parts)


# --- the tables -----------------------------------------------------------------------------

TABLES = ("sectors", "objectives", "indicators", "findings", "sources")


def tables(c: Consolidation) -> dict[str, list[dict]]:
    """Copies of the consolidation's rows with the added keys (``*_it`` texts, typed values)."""
    values = indicator_values(c)
    inds = {i.id: i for s in c.plan.sectors for i in s.indicators}
    policy = c.plan.scoring  # as published: the band goes with the figure printed next to it
    dec = policy.precision
    sectors = []
    for r in c.sectors:
        score = r.get("score")
        sectors.append({**r, "score_it": it_number(policy.published(score), dec) if finite(score) else "",
                        "status_it": label(SECTOR_STATUS_IT, r.get("status"))})
    neutralised = {(d.get("sector"), d.get("objective")): d for d in getattr(c, "decisions", [])
                   if d.get("kind") == "neutralise" and d.get("applied") and d.get("origin") != "piano"}
    objectives = []
    for r in c.objectives:
        state = str(r.get("state") or "")
        state_it = label(OBJECTIVE_STATE_IT, state)
        d = neutralised.get((r.get("sector"), r.get("objective")))
        if state == "neutralised" and d is not None:  # by whom, when
            who = ", ".join(x for x in (str(d.get("by") or ""), it_date(d.get("date") or None)) if x)
            state_it = f"neutralizzato: {who}" if who else state_it
        objectives.append({**r, "gate_it": "sì" if r.get("gate") else "",
                           "achievement_it": published_percent(r.get("published_achievement"), dec),
                           "points_it": published_number(r.get("published_points"), dec),
                           "weight_it": italian.plain(r["weight"], 2) if finite(r.get("weight")) else "",
                           "weight_applied_it": published_number(r.get("published_weight_applied"), dec),
                           "state_it": state_it, "mark": STATE_MARK.get(state, ""),
                           "outcome_it": label(OUTCOME_IT, r.get("outcome"))})
    indicators = []
    for r in c.indicators:
        ind = inds.get(str(r.get("indicator")))
        vals = values.get(str(r.get("indicator")), {})
        view = ValueView(ind, c.plan.year, vals) if ind is not None else None
        status_it = label(INDICATOR_STATUS_IT, r.get("status"))
        validated = ""
        if r.get("corrected") and ind is not None:
            scored = _scored_values(c, str(r.get("indicator")))
            validated = ValueView(ind, c.plan.year, scored).text if scored is not None else str(r.get("validated", ""))
            status_it += " (valore corretto dal Nucleo)"
        indicators.append({**r, "actual": view.text if view else r.get("actual", ""),
                           "actual_it": view.text if view else r.get("actual", ""),
                           "actual_values": {k: json_value(v) for k, v in vals.items()},
                           "units": dict(view.units) if view else {},
                           "achievement_it": published_percent(r.get("published_achievement"), dec),
                           "status_it": status_it, "validated_it": validated,
                           "source_it": label(SOURCE_IT, r.get("source")),
                           "_view": view})
    findings = [{**r, "severity_it": label(SEVERITY_IT, r.get("severity"))} for r in c.findings]
    sources = [{**r, "status_it": label(FILE_STATUS_IT, r.get("status")), "kind_it": label(KIND_IT, r.get("kind")),
                "used_for_it": used_for_it(r.get("used_for", "")), "saved_it": it_date(r.get("saved") or None)}
               for r in c.sources]
    return {"sectors": sectors, "objectives": objectives, "indicators": indicators, "findings": findings,
            "sources": sources}


def _scored_values(c: Consolidation, indicator: str) -> dict[str, object] | None:
    """The values an indicator was scored from, after the Nucleo's corrections."""
    if c.evaluation is None:
        return None
    for s in c.evaluation.sectors:
        for o in s.objectives:
            for i in o.indicators:
                if i.indicator_id == indicator:
                    return dict(i.scored.items()) if i.scored is not None else None
    return None


def decisions(c: Consolidation) -> list[dict]:
    """Hook for the Nucleo's decisions: the consolidation's ``decisions`` rows when it records any
    (each a dict: sector, objective, indicator, kind, old_value, new_value, motivation, who, when)."""
    rows = getattr(c, "decisions", None)
    return [{**r, "applied_it": "sì" if r.get("applied") else "no", "date_it": it_date(r.get("date") or None)}
            for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []
