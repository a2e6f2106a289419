"""Consolidation: many returned workbooks -> one evaluation, and the rows every output renders.

``consolidate()`` reads the files (:mod:`piao_xls.returns.batch`), turns each sector a file gives into a
:class:`~piao_xls.core.evaluation.Submission` with its provenance, and calls
:func:`~piao_xls.core.evaluation.evaluate` (pure). Everything here after that is rendering: the rows of the
summary workbook, JSON and CSV (English keys and statuses, see docs/summary-data.md) and the Italian wording
of every reason the evaluation gives (findings, decisions' effects, sectors' notes).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path

from ..core import italian
from ..core.decisions import CORRECT, PLAN, Decision
from ..core.errors import WARNING, Finding
from ..core.evaluation import (
    Choice,
    DecisionOutcome,
    Evaluation,
    IndicatorResult,
    IndicatorStatus,
    Note,
    ObjectiveResult,
    Outcome,
    Provenance,
    Reason,
    SectorStatus,
    Submission,
    evaluate,
)
from ..core.gcpause import paused_gc
from ..core.model import Indicator, Objective, Plan, ScoringPolicy
from ..core.revisions import PlanVersion, revision_rows, version_of
from ..core.targets import explain_it
from ..returns.batch import expand_paths, read_all
from ..returns.reader import WorkbookResult, read_properties
from .decisions import KIND_IT, format_value, load_decisions

#: kept for callers of earlier versions: the sector statuses are :class:`SectorStatus` values
SCORED_OK = SectorStatus.SCORED
SCORED_WITH_ISSUES = SectorStatus.SCORED_WITH_ISSUES
NOT_RECEIVED = SectorStatus.NOT_RECEIVED
CONFLICT = SectorStatus.CONFLICT
NOT_EVALUABLE = SectorStatus.NOT_EVALUABLE
NOT_AVAILABLE_STATUS = IndicatorStatus.NOT_AVAILABLE
SKIPPED = "skipped"  # the status of a file that is not a workbook (sources[*].status)


@dataclass
class Consolidation:
    """An evaluation read from files, with the rows every output renders (built once from it)."""

    plan: Plan
    results: list[WorkbookResult]
    skipped: list[Path]
    evaluation: Evaluation | None = None
    sectors: list[dict] = field(default_factory=list)
    objectives: list[dict] = field(default_factory=list)
    indicators: list[dict] = field(default_factory=list)
    found: list[Finding] = field(default_factory=list)  # every finding, as objects (``findings``: as rows)
    sources: list[dict] = field(default_factory=list)
    decisions: list[dict] = field(default_factory=list)  # every decision, of the Nucleo or of the plan, applied or not
    revisions: list[dict] = field(default_factory=list)  # the plan's revisions in the year (docs/revisions.md)
    #: the results of earlier years (documents of ``consolida --json-file``, :func:`piao_xls.results.history.
    #: load_earlier`): the summary and the JSON then show each indicator's values over the years
    earlier: list[dict] = field(default_factory=list)

    @property
    def findings(self) -> list[dict]:
        """The findings as rows of the summary, JSON and CSV (one serialisation: :meth:`Finding.to_dict`)."""
        return [_finding_row(f) for f in self.found]

    @property
    def ok(self) -> bool:
        """Every sector scored from an accepted submission."""
        return self.evaluation.ok if self.evaluation is not None else \
            all(s["status"] in (SCORED_OK, NOT_EVALUABLE) for s in self.sectors)

    def to_dict(self) -> dict:
        return {"plan_id": self.plan.plan_id, "year": self.plan.year, "fingerprint": self.plan.fingerprint,
                "sectors": self.sectors, "objectives": self.objectives, "indicators": self.indicators,
                "findings": self.findings, "sources": self.sources, "decisions": self.decisions,
                **({"revisions": self.revisions} if self.revisions else {})}

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


def submissions_of(results: list[WorkbookResult],
                   provenance: Mapping[str, Provenance] | None = None) -> list[Submission]:
    """One submission per sector of every workbook read (in the order read), with its provenance: when it was
    sent as ``provenance`` (by SHA-256: the workspace's ledger) records it, else when the file was saved."""
    out = []
    for res in results:
        prov = Provenance(res.path, res.sha256, res.saved, res.saved_from, res.saved_doubt, _received(res.path))
        known = (provenance or {}).get(res.sha256)
        if known is not None:
            prov = replace(known, file=res.path, sha256=res.sha256)
        for code, sub in res.sectors.items():
            out.append(Submission(code, res.source, sub.values, sub.texts, prov, sub.has_errors, sub.signature()))
    return out


def consolidate(paths: list[str | Path], plan: Plan, prefer_newest: bool = False, jobs: int = 1, limits=None,
                progress=None, keep_raw: bool = False,
                decisions: str | Path | list[Decision] | None = None,
                as_of: date | datetime | None = None, versions: Sequence[PlanVersion] = (),
                provenance: Mapping[str, Provenance] | None = None, unreadable: Sequence[Submission] = (),
                chosen: Collection[str] = (), cutoff: date | None = None) -> Consolidation:
    """Read every workbook under ``paths`` and evaluate ``plan`` on them (:func:`evaluate`).

    ``decisions`` (a decisions file, see :mod:`piao_xls.results.decisions`, or decisions already loaded) are
    applied and listed in ``Consolidation.decisions``; a refused decision gives a ``DEC-INVALID`` finding.
    ``prefer_newest``: of two different submissions for a sector, the one sent last counts (when that can
    be told), instead of a conflict. ``as_of``: only the files received by then count. ``versions``: the plan's
    recorded versions: a form of a superseded one is read on it and carried over (docs/revisions.md); each file's
    source row then says which version it was made on (``plan_version``), and the revisions carry the timeline
    check's flags for ``cutoff`` (the settings' ``termine_revisioni``).

    In a workspace (``provenance`` given: when each file was sent, by SHA-256, from the ledger) the year's rule
    applies instead (:attr:`Choice.LATEST_SENT`, docs/returns.md): the return sent last counts, whatever the
    order of the files; ``unreadable`` are the returns that could not be read as workbooks (submissions
    without values), ``chosen`` the files the office chose to settle a conflict.

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
        files, skipped = expand_paths(paths)
        if dec_file is not None:  # the decisions file may sit with the returned workbooks: it is not one of them
            files = [f for f in files if not _same_file(f, dec_file)]
            skipped = [f for f in skipped if not _same_file(f, dec_file)]
        results = read_all(files, plan, jobs, limits, progress, keep_raw, versions)
        choice = (Choice.LATEST_SENT if provenance is not None else Choice.NEWEST if prefer_newest
                  else Choice.CONFLICT)
        ev = evaluate(plan, [*submissions_of(results, provenance), *unreadable], list(decisions or ()), as_of,
                      choice, chosen)
        c = render(ev, results, skipped, dec_findings)
        c.revisions = revision_rows(versions, cutoff)
        if versions:
            _mark_versions(c.sources, versions)
        return c


def _mark_versions(sources: list[dict], versions: Sequence[PlanVersion]) -> None:
    """Each workbook of ``sources`` with the number of the plan version it was made on, from the fingerprint in its
    document properties (``plan_version``: 0 for a form of no recorded version; absent for a file not read as one)."""
    for src in sources:
        if src.get("status") == SKIPPED:
            continue
        try:
            props, _ = read_properties(Path(str(src["path"])))  # the file passed the guard when it was read
        except Exception:
            props = {}
        v = version_of(str(props.get("piao_fingerprint", "")), versions)
        src["plan_version"] = v.number if v else 0


def render(ev: Evaluation, results: list[WorkbookResult] | None = None, skipped: list[Path] | None = None,
           dec_findings: list[Finding] | None = None) -> Consolidation:
    """The rows every output shows, from an evaluation (and the files it was read from, when it was)."""
    plan = ev.plan
    results, skipped = list(results or ()), list(skipped or ())
    c = Consolidation(plan, results, skipped, ev)
    c.found.extend(dec_findings or ())
    for path in skipped:
        c.found.append(_at(Finding("WB-SKIPPED", WARNING, "file ignorato: non è una cartella di lavoro "
                                                          "(.xlsx, .ods)", file=str(path))))
    for res in results:
        for f in res.findings:
            c.found.append(_at(f, ",".join(res.sector_codes)))
    names = {s.code: s.name for s in plan.sectors}
    c.found.extend(note_finding(n, names) for n in ev.notes)
    rule_texts = _RuleTexts()
    for sector, sr in zip(plan.sectors, ev.sectors, strict=True):
        for obj, orr in zip(sector.objectives, sr.objectives, strict=True):
            c.objectives.append(_objective_row(obj, orr))
            for ind, ir in zip(obj.indicators, orr.indicators, strict=True):
                c.indicators.append(_indicator_row(ind, ir, rule_texts))
        c.sectors.append({
            "code": sector.code, "name": sector.name, "responsabile": sector.responsabile.display,
            "score": sr.score, "band": sr.band, "band_label": sr.band_label, "status": sr.status.value,
            "note": sector_note_it(sr.note, plan.scoring),
            "objectives_reached": sr.count(Outcome.REACHED), "objectives_partly": sr.count(Outcome.PARTLY),
            "objectives_not_reached": sr.count(Outcome.NOT_REACHED),
            "objectives_not_reported": sr.count(Outcome.NOT_REPORTED),
            "published_score": sr.published,
        })
    c.decisions.extend(_decision_row(o, plan) for o in ev.decisions)
    used = ev.used_for()
    for res in results:
        c.sources.append({"path": res.path, "sha256": res.sha256, "size": res.size, "saved": res.saved,
                          "status": res.status, "kind": res.kind, "sectors": ",".join(res.sector_codes),
                          "used_for": ",".join(used.get(res.path, [])), "received": _received(res.path)})
    for path in skipped:
        c.sources.append({"path": str(path), "sha256": "", "size": path.stat().st_size if path.exists() else 0,
                          "saved": "", "status": SKIPPED, "kind": "", "sectors": "", "used_for": "",
                          "received": _received(path)})
    return c


# --- the Italian wording of the evaluation's reasons ----------------------------------------------------------

def _name(path: object) -> str:
    return Path(str(path)).name


#: where the time that orders two returns comes from, in Italian
SENT_FROM_IT = {"messaggio": "data del messaggio", "pec": "consegna PEC", "ricevuto": "file ricevuto",
                "raccolto": "data di raccolta", "documento": "data di salvataggio nel documento",
                "file": "data di modifica del file"}


def choose_hint(code: str) -> str:
    """The command that settles a conflict between a sector's returns: in a workspace the office's choice;
    outside one, --prefer-newest (when the times can be told) or leaving only the right file in the folder."""
    return f"in un'area di lavoro: piao-xls scegli {code} FILE; altrimenti indicare a consolida solo il file che conta"


def note_message(note: Note, names: dict[str, str] | None = None) -> str:
    """A note of the evaluation in Italian (the message of its finding)."""
    r, p = note.reason, note.reason.params
    code = str(p.get("sector", note.sector))
    name = (names or {}).get(code, "")
    files = ", ".join(_name(f) for f in p.get("files", ()))  # type: ignore[attr-defined]
    if r.code == "conflict_newest_used":
        source = "proprietà del documento" if p["sent_from"] == "documento" else "data di modifica del file"
        return (f"valori diversi per il settore {code} in: {files}; usato il più recente: {_name(p['file'])} "
                f"(salvato il {italian.day(str(p['sent']))}, secondo la {source})")
    if r.code in ("conflict_newest_unknown", "conflict_newest_tied"):
        if r.code == "conflict_newest_unknown":
            why = f"{_name(p['doubtful'])}: {p['doubt'] or 'momento dell’invio sconosciuto'}"
        else:
            saved = str(p.get("sent_from")) in ("documento", "file", "")
            why = (f"stessa data di salvataggio: {italian.day(str(p['sent']))}" if saved else
                   f"stesso momento di invio: {italian.day(str(p['sent']))}, "
                   f"{SENT_FROM_IT.get(str(p['sent_from']), '')}")
        return (f"valori diversi per il settore {code} in: {files}; il più recente non si può stabilire ({why}): "
                f"settore non valutato finché non si sceglie il file che conta ({choose_hint(code)})")
    if r.code == "conflict_chosen":
        return f"valori diversi per il settore {code} in: {files}; conta {_name(p['file'])}, scelto dall'ufficio"
    if r.code == "conflict":
        return (f"valori diversi per il settore {code} in: {files}; settore non valutato (usare --prefer-newest per "
                "scegliere il più recente)")
    if r.code == "sector_not_received":
        return f"nessun file ricevuto per il settore {code} ({name})"
    if r.code == "responsabile_not_received":
        return (f"file del Responsabile del settore {code} ({name}) non pervenuto: i suoi indicatori sono non "
                "rendicontati (0); contano i valori del Nucleo di Valutazione e delle fonti esterne pervenuti")
    if r.code == "source_not_received":
        return f"valori «{p['source']}» del settore {code} non pervenuti: indicatori non rendicontati"
    if r.code == "old_value_differs":
        return effect_it(DecisionOutcome(note.decision or Decision("", code, ""), False, r))
    raise ValueError(f"no wording for the reason {r.code!r}")


def note_finding(note: Note, names: dict[str, str] | None = None) -> Finding:
    """A note of the evaluation as a finding (Italian message, where it is)."""
    d = note.decision
    if d is not None:
        f = Finding(note.code, note.severity, note_message(note, names), file=d.file or None, line=d.line,
                    sheet=d.sheet or None, cell=d.cell or None)
    else:
        f = Finding(note.code, note.severity, note_message(note, names), file=note.file or None)
    return _at(f, note.sector)


def weights_it(r: Reason | None) -> str:
    if r is None:
        return ""
    if r.code == "no_evaluable_objective":
        return "nessun obiettivo valutabile: settore non valutabile (nessun punteggio, nessuna fascia)"
    if r.code != "weights_renormalised":
        raise ValueError(f"no wording for the reason {r.code!r}")
    parts = "; ".join(f"{oid} {format_value(w)} → {format_value(applied)}"
                      for oid, w, applied in r.params["weights"])  # type: ignore[attr-defined]
    return f"pesi rinormalizzati su {format_value(r.params['total'])} (totale 100): {parts}"


def effect_it(o: DecisionOutcome) -> str:
    """What a decision did, in Italian."""
    r, p, d = o.effect, o.effect.params, o.decision
    unit = str(p.get("unit", o.unit))
    if r.code == "sector_not_scored":
        return "settore non valutato" if d.origin == PLAN else "non applicata: settore non valutato"
    if r.code == "old_value_differs":
        return (f"correzione di {p['indicator']} non applicata: il valore precedente indicato "
                f"({format_value(p['old'], unit)}) non è quello rendicontato ({format_value(p['current'], unit)})")
    if r.code == "value_corrected":
        return f"{p['indicator']}: {format_value(p['old'], unit)} → {format_value(p['new'], unit)}"
    if r.code == "objective_left_out":
        return f"obiettivo {p['objective']} escluso dal calcolo; {weights_it(p['weights'])}"  # type: ignore[arg-type]
    if r.code == "indicator_left_out":
        text = f"{p['indicator']} escluso dal raggiungimento dell'obiettivo {p['objective']}"
        if p["objective_left_out"]:
            text += ("; l'obiettivo non ha più indicatori valutati: escluso dal calcolo; "
                     + weights_it(p["weights"]))  # type: ignore[arg-type]
        return text
    raise ValueError(f"no wording for the reason {r.code!r}")


def sector_note_it(r: Reason | None, policy: ScoringPolicy) -> str:
    """Why a sector's score is what it is, in Italian: not evaluable, or capped by a gate objective not met."""
    if r is None:
        return ""
    if r.code == "sector_not_evaluable":
        return "settore non valutabile: nessun obiettivo ha un indicatore misurabile (nessun punteggio, nessuna fascia)"
    if r.code == "gate_failed":
        cap = "0" if policy.gate_cap == 0 else f"al massimo {italian.plain(policy.gate_cap)}"
        gates = ", ".join(str(g) for g in r.params["gates"])  # type: ignore[attr-defined]
        uncapped = italian.number(r.params["uncapped"], 2)  # type: ignore[arg-type]
        return f"obiettivo di accesso {gates} non raggiunto: punteggio {cap} (senza il limite sarebbe {uncapped})"
    raise ValueError(f"no wording for the reason {r.code!r}")


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


def _json_value(v):
    return v.isoformat() if isinstance(v, date) else v


PLAN_REASON = "il piano non assegna alcun target misurabile agli indicatori dell'obiettivo (solo indicatori informativi)"


def _decision_row(o: DecisionOutcome, plan: Plan) -> dict:
    d, unit = o.decision, o.unit
    if d.origin == PLAN:
        d = replace(d, reason=PLAN_REASON, by=f"Piano (PIAO {plan.year})")
    return {"origin": d.origin, "kind": d.kind, "kind_it": KIND_IT[d.kind], "sector": d.sector,
            "objective": d.objective, "indicator": d.indicator, "input": d.input,
            "old": _json_value(d.old), "new": _json_value(d.new),
            "old_text": format_value(d.old, unit) if d.kind == CORRECT else "",
            "new_text": format_value(d.new, unit) if d.kind == CORRECT else "",
            "reason": d.reason, "by": d.by, "date": d.date, "where": d.where, "applied": o.applied,
            "effect": effect_it(o)}


def _objective_row(obj: Objective, r: ObjectiveResult) -> dict:
    # the weight that counts once non-evaluable or neutralised objectives are left out (sums to 100), and the
    # points it gives (they add up to the sector's score); the published figures are the evaluation's
    return {"sector": r.sector, "objective": obj.id, "number": obj.number, "title": obj.title,
            "weight": obj.weight, "weight_applied": r.weight_applied, "achievement": r.achievement,
            "points": r.points, "band": r.band, "gate": obj.gate, "coefficient": obj.coefficient, "dup": obj.dup,
            "neutralised": r.neutralised, "state": r.state.value, "outcome": r.outcome.value,
            "published_achievement": r.published_achievement, "published_points": r.published_points,
            "published_weight_applied": r.published_weight_applied}


class _RuleTexts(dict):
    """explain_it(rule) by the rule's identity, for one consolidation (the plan keeps every rule alive):
    hashing a Rule costs more than describing it."""

    def of(self, rule) -> str:
        text = self.get(id(rule))
        if text is None:
            text = self[id(rule)] = explain_it(rule)
        return text


def _indicator_row(ind: Indicator, r: IndicatorResult, rule_texts: _RuleTexts) -> dict:
    # the year the target belongs to: a triennial PIAO may date a target in a later year (kept as printed)
    corrected = r.corrected
    return {"sector": r.sector, "objective": r.objective_id, "indicator": ind.id, "profilo": ind.profilo,
            "target_year": r.target_year,
            "description": ind.description, "target": ind.target_text, "rule": ind.rule.kind,
            "rule_it": rule_texts.of(ind.rule), "source": ind.source,
            "actual": _fmt_values(r.reported) if r.reported is not None else "",
            "achievement": r.achievement, "status": r.status.value, "analysis": r.analysis,
            "corrected": corrected,
            "validated": _fmt_values(r.scored) if corrected and r.scored is not None else "",
            "published_achievement": r.published}


def _fmt_values(vals) -> str:
    """The actual values as Italian text, e.g. '0,95' or 'numerator=120; denominator=100' (None = missing)."""
    out = []
    for k, v in vals.items():
        if v is None:
            continue
        txt = (v if isinstance(v, str) else v.isoformat() if hasattr(v, "isoformat") else
               italian.yes_no(v) if isinstance(v, bool) else italian.plain(v))  # a str: "non disponibile"
        out.append(txt if k == "value" or k == "date" else f"{k}={txt}")
    return "; ".join(out)


__all__ = [
    "Consolidation",
    "choose_hint",
    "consolidate",
    "effect_it",
    "expand_paths",
    "note_finding",
    "note_message",
    "render",
    "sector_note_it",
    "submissions_of",
    "weights_it",
]
