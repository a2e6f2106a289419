"""Consolidation: many returned workbooks -> one scored result per sector, objective and indicator.

Pure orchestration over :mod:`piao_xls.returns.reader` (I/O) and :mod:`piao_xls.core.scoring` (pure).
Output adapters (summary workbook, JSON, CSV) live in :mod:`piao_xls.results.summary`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path

from ..core.errors import ERROR, WARNING, Finding
from ..core.gcpause import paused_gc
from ..core.model import Plan
from ..core.scoring import MISSING, NOT_AVAILABLE_REASON, score_sector
from ..core.targets import explain_it, inputs_for
from ..plan.planfile import target_year
from ..returns.batch import expand_paths, read_all
from ..returns.reader import SectorSubmission, WorkbookResult
from .decisions import CORRECT, KIND_IT, NEUTRALISE, NOT_APPLICABLE, Decision, format_value, load_decisions, same_value

# sector status (Italian: shown in the summary)
SCORED_OK = "valutato"
SCORED_WITH_ISSUES = "valutato con anomalie"
NOT_RECEIVED = "non pervenuto"
CONFLICT = "conflitto"
NOT_EVALUABLE = "non valutabile"  # nothing measurable in the sector: no score, no band (never 0.00 and "E")
NOT_AVAILABLE_STATUS = "not_available"  # an indicator whose value was declared "non disponibile" (scores 0)


@dataclass
class Consolidation:
    plan: Plan
    results: list[WorkbookResult]
    skipped: list[Path]
    sectors: list[dict] = field(default_factory=list)
    objectives: list[dict] = field(default_factory=list)
    indicators: list[dict] = field(default_factory=list)
    found: list[Finding] = field(default_factory=list)  # every finding, as objects (``findings``: as rows)
    sources: list[dict] = field(default_factory=list)
    decisions: list[dict] = field(default_factory=list)  # every decision, of the Nucleo or of the plan, applied or not

    @property
    def findings(self) -> list[dict]:
        """The findings as rows of the summary, JSON and CSV (one serialisation: :meth:`Finding.to_dict`)."""
        return [_finding_row(f) for f in self.found]

    @property
    def ok(self) -> bool:
        """Every sector scored from an accepted submission."""
        return all(s["status"] in (SCORED_OK, NOT_EVALUABLE) for s in self.sectors)

    def to_dict(self) -> dict:
        return {"plan_id": self.plan.plan_id, "year": self.plan.year, "fingerprint": self.plan.fingerprint,
                "sectors": self.sectors, "objectives": self.objectives, "indicators": self.indicators,
                "findings": self.findings, "sources": self.sources, "decisions": self.decisions}

    def to_frames(self) -> dict:
        import pandas as pd

        return {name: pd.DataFrame(getattr(self, name)) for name in
                ("sectors", "objectives", "indicators", "findings", "sources", "decisions")}


def _at(f: Finding, sector: str = "") -> Finding:
    """``f`` as a finding about ``sector`` (codes joined by commas; "" for none)."""
    return replace(f, sector=sector or None)


def _finding_row(f: Finding) -> dict:
    row = f.to_dict(sector=f.sector or "")
    if f.file and f.line and not f.sheet:  # a decisions file: its line
        row["file"] = f"{f.file}:{f.line}"
    for k in ("file", "sheet", "cell"):
        row[k] = row[k] or ""
    return row


def _pick(plan: Plan, code: str, source: str, cands: list[tuple[WorkbookResult, SectorSubmission]],
          prefer_newest: bool, notes: list[Finding]) -> tuple[tuple[WorkbookResult, SectorSubmission] | None, bool]:
    """One submission out of several for the same sector and source. Returns (choice, conflict)."""
    if len(cands) < 2:
        return (cands[0] if cands else None), False
    distinct = {}
    for res, sub in cands:
        distinct.setdefault(sub.signature(), []).append((res, sub))
    if len(distinct) == 1:
        return cands[-1], False
    newest = max(cands, key=lambda rs: (rs[0].saved, rs[0].path))
    files = ", ".join(Path(r.path).name for r, _ in cands)
    if prefer_newest:
        doubtful = [r for r, _ in cands if r.saved_doubt]
        tied = sum(1 for r, _ in cands if r.saved == newest[0].saved) > 1
        if not doubtful and not tied:
            source = "proprietà del documento" if newest[0].saved_from == "documento" else "data di modifica del file"
            notes.append(_at(Finding(
                "WB-CONFLICT", WARNING, f"valori diversi per il settore {code} in: {files}; usato il più recente: "
                f"{Path(newest[0].path).name} (salvato il {newest[0].saved.replace('T', ' ')}, secondo la {source})",
                file=newest[0].path), code))
            return newest, False
        why = (f"{Path(doubtful[0].path).name}: {doubtful[0].saved_doubt}" if doubtful
               else f"stessa data di salvataggio ({newest[0].saved.replace('T', ' ')})")
        notes.append(_at(Finding("WB-CONFLICT", ERROR, f"valori diversi per il settore {code} in: {files}; "
                                          f"il più recente non si può stabilire ({why}): settore non valutato",
                                          file=newest[0].path), code))
        return None, True
    notes.append(_at(Finding("WB-CONFLICT", ERROR, f"valori diversi per il settore {code} in: {files}; "
                                      "settore non valutato (usare --prefer-newest per scegliere il più recente)",
                                      file=newest[0].path), code))
    return None, True


def consolidate(paths: list[str | Path], plan: Plan, prefer_newest: bool = False, jobs: int = 1, limits=None,
                progress=None, keep_raw: bool = False,
                decisions: str | Path | list[Decision] | None = None) -> Consolidation:
    """Read every workbook under ``paths`` and score each sector of ``plan``.

    ``decisions`` (a decisions file, see :mod:`piao_xls.results.decisions`, or decisions already loaded) are
    applied and listed in ``Consolidation.decisions``; a refused decision gives a ``DEC-INVALID`` finding.

    ``limits`` (a :class:`piao_xls.sheetio.safeopen.Limits`) caps what a file may be; ``progress(done, total)``
    is called after each file is read. ``keep_raw`` keeps each result's raw cell values
    (``SectorSubmission.raw`` and ``.cells``), which are otherwise dropped as soon as a file is read.
    """
    dec_findings: list[Finding] = []
    dec_file = None
    if isinstance(decisions, (str, Path)):
        dec_file = Path(decisions)
        decisions, dec_findings = load_decisions(decisions, plan)
    with paused_gc():
        return _consolidate(paths, plan, prefer_newest, jobs, limits, progress, keep_raw, list(decisions or ()),
                            dec_findings, dec_file)


def _consolidate(paths, plan: Plan, prefer_newest: bool, jobs: int, limits, progress,
                 keep_raw: bool, decisions: list[Decision], dec_findings: list[Finding],
                 dec_file: Path | None = None) -> Consolidation:
    files, skipped = expand_paths(paths)
    if dec_file is not None:  # the decisions file may sit with the returned workbooks: it is not one of them
        files = [f for f in files if not _same_file(f, dec_file)]
        skipped = [f for f in skipped if not _same_file(f, dec_file)]
    results = read_all(files, plan, jobs, limits, progress, keep_raw)
    c = Consolidation(plan, results, skipped)
    for f in dec_findings:
        c.found.append(f)
    by_sector: dict[str, list[Decision]] = {}
    for d in decisions:
        by_sector.setdefault(d.sector, []).append(d)
    for f in skipped:
        c.found.append(_at(Finding("WB-SKIPPED", WARNING, "file ignorato: non è una cartella di lavoro "
                                               "(.xlsx, .ods)", file=str(f))))
    for res in results:
        for f in res.findings:
            c.found.append(_at(f, ",".join(res.sector_codes)))
    groups: dict[tuple[str, str], list] = {}
    for res in results:
        for code, sub in res.sectors.items():
            groups.setdefault((code, res.source), []).append((res, sub))
    used: dict[str, list[str]] = {}
    policy = plan.scoring
    rule_texts = _RuleTexts()
    for sector in plan.sectors:
        notes: list[Finding] = []
        main, conflict = _pick(plan, sector.code, "responsabile", groups.get((sector.code, "responsabile"), []),
                               prefer_newest, notes)
        chosen = {"responsabile": main}
        for source in ("nucleo", "esterno"):
            if any(i.source == source for i in sector.indicators):
                pick, conf = _pick(plan, sector.code, source, groups.get((sector.code, source), []), prefer_newest,
                                   notes)
                chosen[source] = pick
                conflict = conflict or conf
        c.found.extend(notes)
        values: dict[str, dict] = {}
        texts: dict[str, str] = {}
        for source, pick in chosen.items():
            if pick is None:
                continue
            res, sub = pick
            used.setdefault(res.path, []).append(sector.code if source == "responsabile" else f"{sector.code}:{source}")
            for ind in sector.indicators:
                if ind.source == source and ind.id in sub.values:
                    values[ind.id] = sub.values[ind.id]
            texts.update(sub.texts)
        nucleo_counts = main is None and not conflict and _has_values(sector, chosen)
        if main is None and not conflict and not nucleo_counts:
            status = NOT_RECEIVED
            c.found.append(_at(Finding("WB-NOT-RECEIVED", ERROR, f"nessun file ricevuto per il settore "
                                                   f"{sector.code} ({sector.name})"), sector.code))
        elif nucleo_counts:
            # the Responsabile's workbook has not arrived, but the Nucleo's (or a certifier's) values for this
            # sector have: they still count, the Responsabile's indicators are "non rendicontati" (0)
            status = SCORED_WITH_ISSUES
            c.found.append(_at(Finding("WB-NOT-RECEIVED", ERROR, f"file del Responsabile del settore "
                                                   f"{sector.code} ({sector.name}) non pervenuto: i suoi indicatori "
                                                   "sono non rendicontati (0); contano i valori del Nucleo di "
                                                   "Valutazione e delle fonti esterne pervenuti"), sector.code))
        elif conflict:
            status = CONFLICT
        else:
            files_ok = all(not p[1].has_errors for p in chosen.values() if p is not None)
            missing_sources = [s for s, p in chosen.items() if p is None]
            status = SCORED_OK if files_ok and not missing_sources else SCORED_WITH_ISSUES
            for s in missing_sources:
                c.found.append(_at(Finding("WB-NOT-RECEIVED", ERROR, f"valori «{s}» del settore "
                                                       f"{sector.code} non pervenuti: indicatori non rendicontati"),
                                               sector.code))
        scored = status not in (NOT_RECEIVED, CONFLICT)
        own = by_sector.get(sector.code, [])
        if own or any(not o.evaluable for o in sector.objectives):
            values = _apply_corrections(c, sector, own, values, scored)
        na = {d.indicator for d in own if d.kind == NOT_APPLICABLE}
        neutral = {d.objective for d in own if d.kind == NEUTRALISE}
        # an unscored sector (not received, conflict: most of a large plan early in the campaign) is not scored
        sc = score_sector(sector, values, policy, na, neutral) if scored else None
        if sc is not None and not sc.evaluable and status == SCORED_OK:
            status = NOT_EVALUABLE
        if own or any(not o.evaluable for o in sector.objectives):
            _record_structural(c, plan, sector, own, sc)
        ev_weight = sum(o.weight for o in sc.objectives if o.evaluable) if sc else 0.0
        reached = partly = not_reached = not_reported = 0
        for i, obj in enumerate(sector.objectives):
            if sc is None:
                not_reported += 1
                _unscored_rows(c, sector.code, obj, values, texts, status, rule_texts, plan.year)
                continue
            osc = sc.objectives[i]
            missing = all(s.status == MISSING for s in osc.indicators if s.counts) and osc.evaluable
            if missing:
                not_reported += 1
            elif osc.achievement is None:
                pass
            elif policy.published(osc.achievement * 100) >= 100:
                reached += 1
            elif osc.achievement > 0:
                partly += 1
            else:
                not_reached += 1
            band = policy.band(osc.achievement * 100) if osc.achievement is not None else None
            c.objectives.append({
                "sector": sector.code, "objective": obj.id, "number": obj.number, "title": obj.title,
                "weight": obj.weight, "achievement": osc.achievement, "points": osc.points,
                "band": band.code if band else "", "gate": obj.gate, "coefficient": obj.coefficient,
                # the weight that counts once non-evaluable or neutralised objectives are left out (sums to 100)
                "weight_applied": (obj.weight * 100 / ev_weight
                                   if osc.evaluable and ev_weight and not obj.gate else None),
                "neutralised": osc.neutralised,
            })
            for ind, isc in zip(obj.indicators, osc.indicators, strict=False):
                status_i = NOT_AVAILABLE_STATUS if isc.reason == NOT_AVAILABLE_REASON else isc.status
                c.indicators.append(_indicator_row(sector.code, obj, ind, values, texts, isc.achievement, status_i,
                                                   rule_texts, plan.year))
        c.sectors.append({
            "code": sector.code, "name": sector.name, "responsabile": sector.responsabile.display,
            "score": sc.score if sc else None, "band": sc.band_code if sc else "",
            "band_label": sc.band_label if sc else "", "status": status, "note": _sector_note(sector, sc, policy),
            "objectives_reached": reached, "objectives_partly": partly, "objectives_not_reached": not_reached,
            "objectives_not_reported": not_reported,
        })
    for res in results:
        c.sources.append({"path": res.path, "sha256": res.sha256, "size": res.size, "saved": res.saved,
                          "status": res.status, "kind": res.kind, "sectors": ",".join(res.sector_codes),
                          "used_for": ",".join(used.get(res.path, [])), "received": _received(res.path)})
    for f in skipped:
        c.sources.append({"path": str(f), "sha256": "", "size": f.stat().st_size if f.exists() else 0, "saved": "",
                          "status": "ignorato", "kind": "", "sectors": "", "used_for": "", "received": _received(f)})
    return c


def _sector_note(sector, sc, policy) -> str:
    """Why a sector's score is what it is, in Italian: not evaluable, or capped by a gate objective not met."""
    if not sector.evaluable:
        return "settore non valutabile: nessun obiettivo ha un indicatore misurabile (nessun punteggio, nessuna fascia)"
    if sc is not None and sc.gates_failed:
        cap = "0" if policy.gate_cap == 0 else f"al massimo {policy.gate_cap:g}".replace(".", ",")
        return (f"obiettivo di accesso {', '.join(sc.gates_failed)} non raggiunto: punteggio {cap} "
                f"(senza il limite sarebbe {sc.uncapped:.2f})".replace(".", ","))
    return ""
def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def _received(path) -> str:
    """When a file arrived: its modification time in the returned folder (local time, ISO), '' if unknown."""
    try:
        return datetime.fromtimestamp(Path(path).stat().st_mtime).replace(microsecond=0).isoformat()
    except (OSError, ValueError, OverflowError):
        return ""


def _has_values(sector, chosen: dict) -> bool:
    """Whether a source other than the Responsabile gave at least one value for this sector."""
    for source, pick in chosen.items():
        if source == "responsabile" or pick is None:
            continue
        for ind in sector.indicators:
            vals = pick[1].values.get(ind.id) if ind.source == source else None
            if vals and any(v is not None for v in vals.values()):
                return True
    return False


def _json_value(v):
    return v.isoformat() if isinstance(v, date) else v


def _decision_row(d: Decision, applied: bool, effect: str, unit: str = "") -> dict:
    return {"origin": d.origin, "kind": d.kind, "kind_it": KIND_IT[d.kind], "sector": d.sector,
            "objective": d.objective, "indicator": d.indicator, "input": d.input,
            "old": _json_value(d.old), "new": _json_value(d.new),
            "old_text": format_value(d.old, unit) if d.kind == CORRECT else "",
            "new_text": format_value(d.new, unit) if d.kind == CORRECT else "",
            "reason": d.reason, "by": d.by, "date": d.date, "where": d.where, "applied": applied, "effect": effect}


def _apply_corrections(c: Consolidation, sector, own: list[Decision], values: dict, scored: bool) -> dict:
    """The sector's values with the Nucleo's corrections applied (a correction whose ``old`` value is not the
    one reported is refused, with a DEC-INVALID finding)."""
    out = dict(values)
    inds = {i.id: i for i in sector.indicators}
    for d in own:
        if d.kind != CORRECT:
            continue
        unit = next((sp.unit for sp in inputs_for(inds[d.indicator].rule, c.plan.year) if sp.name == d.input), "")
        current = (out.get(d.indicator) or {}).get(d.input)
        if not scored:
            c.decisions.append(_decision_row(d, False, "non applicata: settore non valutato", unit))
            continue
        if not same_value(current, d.old):
            msg = (f"correzione di {d.indicator} non applicata: il valore precedente indicato "
                   f"({format_value(d.old, unit)}) non è quello rendicontato ({format_value(current, unit)})")
            c.found.append(_at(Finding("DEC-INVALID", ERROR, msg, file=d.file or None, line=d.line,
                                                   sheet=d.sheet or None, cell=d.cell or None), sector.code))
            c.decisions.append(_decision_row(d, False, msg, unit))
            continue
        out[d.indicator] = {**(out.get(d.indicator) or {}), d.input: d.new}
        c.decisions.append(_decision_row(d, True, f"{d.indicator}: {format_value(d.old, unit)} → "
                                         f"{format_value(d.new, unit)}", unit))
    return out


def _renormalised(sc, policy) -> str:
    ev = [o for o in sc.objectives if o.evaluable]
    total = sum(o.weight for o in ev)
    if not ev or not total:
        return "nessun obiettivo valutabile: settore non valutabile (nessun punteggio, nessuna fascia)"
    parts = "; ".join(f"{o.objective_id} {format_value(o.weight)} → {format_value(policy.published(o.weight * 100 / total))}"
                      for o in ev)
    return f"pesi rinormalizzati su {format_value(total)} (totale 100): {parts}"


def _record_structural(c: Consolidation, plan: Plan, sector, own: list[Decision], sc) -> None:
    """Record the decisions that change which weights count: the Nucleo's neutralisations and "non applicabile"
    indicators, and the plan's own objectives with no scored indicator (left out, weights re-normalised)."""
    policy = plan.scoring
    scored = sc is not None
    weights = _renormalised(sc, policy) if scored else ""
    by_obj = {o.objective_id: o for o in sc.objectives} if scored else {}
    for d in own:
        if d.kind == NEUTRALISE:
            effect = (f"obiettivo {d.objective} escluso dal calcolo; {weights}" if scored
                      else "non applicata: settore non valutato")
            c.decisions.append(_decision_row(d, scored, effect))
        elif d.kind == NOT_APPLICABLE:
            if not scored:
                c.decisions.append(_decision_row(d, False, "non applicata: settore non valutato"))
                continue
            o = by_obj[d.objective]
            effect = f"{d.indicator} escluso dal raggiungimento dell'obiettivo {d.objective}"
            if not o.evaluable and not o.neutralised:
                effect += f"; l'obiettivo non ha più indicatori valutati: escluso dal calcolo; {weights}"
            c.decisions.append(_decision_row(d, True, effect))
    for obj in sector.objectives:
        if obj.evaluable:
            continue
        d = Decision(NEUTRALISE, sector.code, obj.id, reason="il piano non assegna alcun target misurabile agli "
                     "indicatori dell'obiettivo (solo indicatori informativi)", by=f"Piano (PIAO {plan.year})",
                     date="", where=plan.source or "", origin="piano")
        c.decisions.append(_decision_row(d, scored, f"obiettivo {obj.id} escluso dal calcolo; {weights}" if scored
                                         else "settore non valutato"))


def _unscored_rows(c: Consolidation, code: str, obj, values: dict, texts: dict, status: str,
                   rule_texts: _RuleTexts, year: int) -> None:
    c.objectives.append({"sector": code, "objective": obj.id, "number": obj.number, "title": obj.title,
                         "weight": obj.weight, "achievement": None, "points": None, "band": "", "gate": obj.gate,
                         "coefficient": obj.coefficient})
    for ind in obj.indicators:
        c.indicators.append(_indicator_row(code, obj, ind, values, texts, None, status, rule_texts, year))


class _RuleTexts(dict):
    """explain_it(rule) by the rule's identity, for one consolidation (the plan keeps every rule alive):
    hashing a Rule costs more than describing it."""

    def of(self, rule) -> str:
        text = self.get(id(rule))
        if text is None:
            text = self[id(rule)] = explain_it(rule)
        return text


def _indicator_row(code: str, obj, ind, values: dict, texts: dict, achievement, status: str,
                   rule_texts: _RuleTexts, year: int) -> dict:
    # the year the target belongs to: a triennial PIAO may date a target in a later year (kept as printed)
    return {"sector": code, "objective": obj.id, "indicator": ind.id, "profilo": ind.profilo,
            "target_year": target_year(ind, year),
            "description": ind.description, "target": ind.target_text, "rule": ind.rule.kind,
            "rule_it": rule_texts.of(ind.rule), "source": ind.source,
            "actual": _fmt_values(values[ind.id]) if ind.id in values else "",
            "achievement": achievement, "status": status, "analysis": texts.get(f"{ind.id}|analisi", "")}


def _fmt_values(vals: dict) -> str:
    """The actual values as text, e.g. '0.95' or 'numerator=120; denominator=100' (None = missing)."""
    out = []
    for k, v in vals.items():
        if v is None:
            continue
        txt = (v if isinstance(v, str) else v.isoformat() if hasattr(v, "isoformat") else
               "Sì" if v is True else "No" if v is False else f"{v:g}")  # a str: "non disponibile"
        out.append(txt if k == "value" or k == "date" else f"{k}={txt}")
    return "; ".join(out)


__all__ = ["Consolidation", "consolidate", "expand_paths"]
