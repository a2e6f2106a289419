"""A monitoring round's returned form: read with the year's reader, checked for what a round asks, and turned into
the core's :class:`~piao_xls.core.rounds.RoundReturn`.

The reader identifies the file as the form of this round (its ``piao_round`` document property: a year-end form,
or another round's, is refused), checks every protected cell and re-validates every value exactly as for a
year-end return. On top of that, a round asks: a value (or «non ancora misurabile») for every indicator, the state
of every objective, the cause and the corrective action of an objective at risk or critical, and the new value and
the reason of a proposed revision.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from ..core import italian as it
from ..core.answers import NOT_AVAILABLE, NOT_YET
from ..core.errors import ERROR, Finding
from ..core.evaluation import Provenance
from ..core.model import Plan
from ..core.rounds import (
    NO_REVISION,
    STATE_IT,
    ObjectiveReport,
    ProposedRevision,
    RoundReturn,
    RoundState,
    cause_of,
    revision_of,
    state_of,
)
from ..core.status import ACCEPTED, ACCEPTED_WITH_WARNINGS, REJECTED
from ..forms.layout import ROUND_LABELS, round_key, text_row_it
from ..sheetio.safeopen import Limits
from .reader import SectorSubmission, WorkbookResult, read_workbook


def read_round_workbook(path: str | Path, plan: Plan, as_of: date, limits: Limits | None = None) -> WorkbookResult:
    """Read one returned form of the round at ``as_of``: the reader's checks and the round's requirements."""
    res = read_workbook(path, plan, limits, as_of=as_of)
    if res.sectors and not any(f.code == "WB-IDENTITY" and f.severity == ERROR for f in res.findings):
        for sub in res.sectors.values():
            found = _required(plan, sub, res.source, as_of, str(path))
            sub.findings.extend(found)
            res.findings.extend(found)
    errors = any(f.severity == ERROR for f in res.findings)
    res.status = REJECTED if errors else ACCEPTED_WITH_WARNINGS if res.findings else ACCEPTED
    return res


def _ref(sub: SectorSubmission, key: str) -> str | None:
    cell = (sub._inputs or {}).get(key)
    return cell.ref if cell else None


def _required(plan: Plan, sub: SectorSubmission, source: str, as_of: date, file: str) -> list[Finding]:
    found: list[Finding] = []
    sector = plan.sector(sub.code)
    when = it.day(as_of)

    def add(code: str, message: str, key: str) -> None:
        found.append(Finding(code, ERROR, message, file=file, sheet=sub.sheet, cell=_ref(sub, key)))

    for ind in sector.indicators:
        if not ind.scored or ind.source != source or ind.id in sub.invalid:
            continue
        values = sub.values.get(ind.id, {})
        if not values or any(v is None for v in values.values()):
            first = next((k for k in (sub._inputs or {}) if k.startswith(f"{ind.id}|")), "")
            add("WB-MISSING", f"indicatore {ind.id}: inserire il valore al {when} oppure «{NOT_YET}»", first)
        elif any(v == NOT_AVAILABLE for v in values.values()) and not sub.texts.get(f"{ind.id}|analisi", "").strip():
            add("WB-ANALYSIS", f"indicatore {ind.id}: valore non disponibile senza motivazione; spiegare il motivo "
                f"{text_row_it(source, preposition=True)}", f"{ind.id}|analisi")
    if source != "responsabile":
        return found
    for obj in sector.objectives:
        if not obj.indicators:
            continue
        got = sub.values.get(obj.id, {})
        state = state_of(str(got.get("mon|stato") or ""))
        if state is None:
            add("WB-MISSING", f"obiettivo {obj.id}: indicare lo stato al {when} (in linea, a rischio o critico)",
                round_key(obj.id, "stato"))
        elif state in (RoundState.AT_RISK, RoundState.CRITICAL):
            if not got.get("mon|causa"):
                add("WB-ANALYSIS", f"obiettivo {obj.id} {it_state(state)}: indicare la causa dello scostamento",
                    round_key(obj.id, "causa"))
            if not sub.texts.get(round_key(obj.id, "azione"), "").strip():
                add("WB-ANALYSIS", f"obiettivo {obj.id} {it_state(state)}: descrivere l'azione correttiva",
                    round_key(obj.id, "azione"))
        kind = revision_of(str(got.get("mon|revisione") or ""))
        if kind is not None:
            for name in ("nuovo", "motivo"):
                if not sub.texts.get(round_key(obj.id, name), "").strip():
                    add("WB-ANALYSIS", f"obiettivo {obj.id}: revisione proposta senza "
                        f"«{ROUND_LABELS[name]}»", round_key(obj.id, name))
    return found


def it_state(state: RoundState) -> str:
    """The state in a sentence: "a rischio", "critico"."""
    return STATE_IT[state]


def round_returns(res: WorkbookResult, plan: Plan, provenance: Provenance | None = None) -> list[RoundReturn]:
    """The round's returns one read form gives (one per sector), for :func:`piao_xls.core.rounds.evaluate_round`."""
    out = []
    prov = provenance or Provenance(res.path, res.sha256, res.saved, res.saved_from, res.saved_doubt)
    errors = res.status == REJECTED
    for code, sub in res.sectors.items():
        sector = plan.sector(code)
        ind_ids = {i.id for i in sector.indicators}
        values = {k: dict(v) for k, v in sub.values.items() if k in ind_ids}
        not_yet = frozenset(k for k, v in values.items() if any(x == NOT_YET for x in v.values()))
        reports = {}
        if res.source == "responsabile":
            for obj in sector.objectives:
                got = sub.values.get(obj.id, {})
                text = {name: sub.texts.get(round_key(obj.id, name), "").strip()
                        for name in ("azione", "nuovo", "motivo", "evidenze")}
                progress = got.get("mon|avanzamento")
                kind_text = str(got.get("mon|revisione") or "")
                kind = revision_of(kind_text) if kind_text != NO_REVISION else None
                reports[obj.id] = ObjectiveReport(
                    obj.id, state_of(str(got.get("mon|stato") or "")) or RoundState.NOT_REPORTED,
                    float(progress) if isinstance(progress, (int, float)) else None,
                    cause_of(str(got.get("mon|causa") or "")), text["azione"],
                    ProposedRevision(kind, text["nuovo"], text["motivo"]) if kind is not None else None,
                    text["evidenze"])
        texts = {k: v for k, v in sub.texts.items() if k.endswith("|analisi")}
        out.append(RoundReturn(code, res.source, values, not_yet, reports, texts, prov, errors))
    return out
