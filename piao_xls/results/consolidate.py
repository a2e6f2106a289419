"""Consolidation: many returned workbooks -> one scored result per sector, objective and indicator.

Pure orchestration over :mod:`piao_xls.returns.reader` (I/O) and :mod:`piao_xls.core.scoring` (pure).
Output adapters (summary workbook, JSON, CSV) live in :mod:`piao_xls.results.summary`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..core.errors import ERROR, WARNING, Finding
from ..core.gcpause import paused_gc
from ..core.model import Plan
from ..core.scoring import MISSING, score_sector
from ..core.targets import explain_it
from ..returns.batch import expand_paths, read_all
from ..returns.reader import SectorSubmission, WorkbookResult

# sector status (Italian: shown in the summary)
SCORED_OK = "valutato"
SCORED_WITH_ISSUES = "valutato con anomalie"
NOT_RECEIVED = "non pervenuto"
CONFLICT = "conflitto"


@dataclass
class Consolidation:
    plan: Plan
    results: list[WorkbookResult]
    skipped: list[Path]
    sectors: list[dict] = field(default_factory=list)
    objectives: list[dict] = field(default_factory=list)
    indicators: list[dict] = field(default_factory=list)
    findings: list[dict] = field(default_factory=list)
    sources: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Every sector scored from an accepted submission."""
        return all(s["status"] == SCORED_OK for s in self.sectors)

    def to_dict(self) -> dict:
        return {"plan_id": self.plan.plan_id, "year": self.plan.year, "fingerprint": self.plan.fingerprint,
                "sectors": self.sectors, "objectives": self.objectives, "indicators": self.indicators,
                "findings": self.findings, "sources": self.sources}

    def to_frames(self) -> dict:
        import pandas as pd

        return {name: pd.DataFrame(getattr(self, name)) for name in
                ("sectors", "objectives", "indicators", "findings", "sources")}


def _finding_row(f: Finding, sector: str = "") -> dict:
    return {"code": f.code, "severity": f.severity, "file": f.file or "", "sheet": f.sheet or "",
            "cell": f.cell or "", "sector": sector, "message": f.message}


def _pick(plan: Plan, code: str, source: str, cands: list[tuple[WorkbookResult, SectorSubmission]],
          prefer_newest: bool, notes: list[dict]) -> tuple[tuple[WorkbookResult, SectorSubmission] | None, bool]:
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
            notes.append(_finding_row(Finding(
                "WB-CONFLICT", WARNING, f"valori diversi per il settore {code} in: {files}; usato il più recente: "
                f"{Path(newest[0].path).name} (salvato il {newest[0].saved.replace('T', ' ')}, secondo la {source})",
                file=newest[0].path), code))
            return newest, False
        why = (f"{Path(doubtful[0].path).name}: {doubtful[0].saved_doubt}" if doubtful
               else f"stessa data di salvataggio ({newest[0].saved.replace('T', ' ')})")
        notes.append(_finding_row(Finding("WB-CONFLICT", ERROR, f"valori diversi per il settore {code} in: {files}; "
                                          f"il più recente non si può stabilire ({why}): settore non valutato",
                                          file=newest[0].path), code))
        return None, True
    notes.append(_finding_row(Finding("WB-CONFLICT", ERROR, f"valori diversi per il settore {code} in: {files}; "
                                      "settore non valutato (usare --prefer-newest per scegliere il più recente)",
                                      file=newest[0].path), code))
    return None, True


def consolidate(paths: list[str | Path], plan: Plan, prefer_newest: bool = False, jobs: int = 1, limits=None,
                progress=None, keep_raw: bool = False) -> Consolidation:
    """Read every workbook under ``paths`` and score each sector of ``plan``.

    ``limits`` (a :class:`piao_xls.sheetio.safeopen.Limits`) caps what a file may be; ``progress(done, total)``
    is called after each file is read. ``keep_raw`` keeps each result's raw cell values
    (``SectorSubmission.raw`` and ``.cells``), which are otherwise dropped as soon as a file is read.
    """
    with paused_gc():
        return _consolidate(paths, plan, prefer_newest, jobs, limits, progress, keep_raw)


def _consolidate(paths, plan: Plan, prefer_newest: bool, jobs: int, limits, progress,
                 keep_raw: bool) -> Consolidation:
    files, skipped = expand_paths(paths)
    results = read_all(files, plan, jobs, limits, progress, keep_raw)
    c = Consolidation(plan, results, skipped)
    for f in skipped:
        c.findings.append(_finding_row(Finding("WB-SKIPPED", WARNING, "file ignorato: non è una cartella di lavoro "
                                               "(.xlsx, .ods)", file=str(f))))
    for res in results:
        for f in res.findings:
            c.findings.append(_finding_row(f, ",".join(res.sector_codes)))
    groups: dict[tuple[str, str], list] = {}
    for res in results:
        for code, sub in res.sectors.items():
            groups.setdefault((code, res.source), []).append((res, sub))
    used: dict[str, list[str]] = {}
    policy = plan.scoring
    rule_texts = _RuleTexts()
    for sector in plan.sectors:
        notes: list[dict] = []
        main, conflict = _pick(plan, sector.code, "responsabile", groups.get((sector.code, "responsabile"), []),
                               prefer_newest, notes)
        chosen = {"responsabile": main}
        for source in ("nucleo", "esterno"):
            if any(i.source == source for i in sector.indicators):
                pick, conf = _pick(plan, sector.code, source, groups.get((sector.code, source), []), prefer_newest,
                                   notes)
                chosen[source] = pick
                conflict = conflict or conf
        c.findings.extend(notes)
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
        if main is None and not conflict:
            status = NOT_RECEIVED
            c.findings.append(_finding_row(Finding("WB-NOT-RECEIVED", ERROR, f"nessun file ricevuto per il settore "
                                                   f"{sector.code} ({sector.name})"), sector.code))
        elif conflict:
            status = CONFLICT
        else:
            files_ok = all(not p[1].has_errors for p in chosen.values() if p is not None)
            missing_sources = [s for s, p in chosen.items() if p is None]
            status = SCORED_OK if files_ok and not missing_sources else SCORED_WITH_ISSUES
            for s in missing_sources:
                c.findings.append(_finding_row(Finding("WB-NOT-RECEIVED", ERROR, f"valori «{s}» del settore "
                                                       f"{sector.code} non pervenuti: indicatori non rendicontati"),
                                               sector.code))
        scored = status not in (NOT_RECEIVED, CONFLICT)
        # an unscored sector (not received, conflict: most of a large plan early in the campaign) is not scored
        sc = score_sector(sector, values, policy) if scored else None
        reached = partly = not_reached = not_reported = 0
        for i, obj in enumerate(sector.objectives):
            if sc is None:
                not_reported += 1
                _unscored_rows(c, sector.code, obj, values, texts, status, rule_texts)
                continue
            osc = sc.objectives[i]
            missing = all(s.status == MISSING for s in osc.indicators if s.counts) and osc.evaluable
            if missing:
                not_reported += 1
            elif osc.achievement is None:
                pass
            elif osc.achievement >= 1 - 1e-12:
                reached += 1
            elif osc.achievement > 0:
                partly += 1
            else:
                not_reached += 1
            band = policy.band(osc.achievement * 100) if osc.achievement is not None else None
            c.objectives.append({
                "sector": sector.code, "objective": obj.id, "number": obj.number, "title": obj.title,
                "weight": obj.weight, "achievement": osc.achievement, "points": osc.points,
                "band": band.code if band else "",
            })
            for ind, isc in zip(obj.indicators, osc.indicators, strict=False):
                c.indicators.append(_indicator_row(sector.code, obj, ind, values, texts, isc.achievement, isc.status,
                                                   rule_texts))
        c.sectors.append({
            "code": sector.code, "name": sector.name, "responsabile": sector.responsabile.display,
            "score": sc.score if sc else None, "band": sc.band_code if sc else "",
            "band_label": sc.band_label if sc else "", "status": status,
            "objectives_reached": reached, "objectives_partly": partly, "objectives_not_reached": not_reached,
            "objectives_not_reported": not_reported,
        })
    for res in results:
        c.sources.append({"path": res.path, "sha256": res.sha256, "size": res.size, "saved": res.saved,
                          "status": res.status, "kind": res.kind, "sectors": ",".join(res.sector_codes),
                          "used_for": ",".join(used.get(res.path, []))})
    for f in skipped:
        c.sources.append({"path": str(f), "sha256": "", "size": f.stat().st_size if f.exists() else 0, "saved": "",
                          "status": "ignorato", "kind": "", "sectors": "", "used_for": ""})
    return c


def _unscored_rows(c: Consolidation, code: str, obj, values: dict, texts: dict, status: str,
                   rule_texts: _RuleTexts) -> None:
    c.objectives.append({"sector": code, "objective": obj.id, "number": obj.number, "title": obj.title,
                         "weight": obj.weight, "achievement": None, "points": None, "band": ""})
    for ind in obj.indicators:
        c.indicators.append(_indicator_row(code, obj, ind, values, texts, None, status, rule_texts))


class _RuleTexts(dict):
    """explain_it(rule) by the rule's identity, for one consolidation (the plan keeps every rule alive):
    hashing a Rule costs more than describing it."""

    def of(self, rule) -> str:
        text = self.get(id(rule))
        if text is None:
            text = self[id(rule)] = explain_it(rule)
        return text


def _indicator_row(code: str, obj, ind, values: dict, texts: dict, achievement, status: str,
                   rule_texts: _RuleTexts) -> dict:
    return {"sector": code, "objective": obj.id, "indicator": ind.id, "profilo": ind.profilo,
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
        txt = v.isoformat() if hasattr(v, "isoformat") else ("Sì" if v is True else "No" if v is False else f"{v:g}")
        out.append(txt if k == "value" or k == "date" else f"{k}={txt}")
    return "; ".join(out)


__all__ = ["Consolidation", "consolidate", "expand_paths"]
