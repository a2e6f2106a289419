"""The report of a monitoring round for the Giunta and the Nucleo di Valutazione: a workbook and a .docx/.pdf.

Both render one :class:`~piao_xls.core.rounds.RoundEvaluation` through the same rows (:func:`round_tables`): a traffic
light per sector and objective, what is at risk or critical and why, with the corrective action, the proposed
revisions, and the change since the previous round. Italian words come from the core's maps and figures from
:mod:`piao_xls.core.italian`; nothing is recomputed here.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core import italian
from ..core.model import Objective, Plan
from ..core.rounds import (
    CAUSE_IT,
    CHANGE_IT,
    REVISION_IT,
    STATE_IT,
    Change,
    ObjectiveRound,
    RevisionKind,
    RoundEvaluation,
    RoundState,
)
from ..sheetio.atomic import write_bytes_atomic
from ..sheetio.docprops import document_time
from .docbuild import DocBuilder, clean, short

#: the traffic light's colours (fill) and the word's colour on it
LIGHT = {RoundState.ON_TRACK: ("C6EFCE", "006100"), RoundState.AT_RISK: ("FFEB9C", "9C5700"),
         RoundState.CRITICAL: ("FFC7CE", "9C0006"), RoundState.NOT_REPORTED: ("EDEDED", "595959")}


def _sentence(text: str) -> str:
    """A typed text as one sentence of a paragraph: with its closing stop («…posizioni.»), not run into the next."""
    text = text.strip()
    return text if not text or text[-1] in ".!?;:…" else text + "."


def state_it(state: RoundState) -> str:
    return STATE_IT[state]


def _pct(x: float | None, plan: Plan) -> str:
    return italian.percent(x, plan.scoring.precision) if x is not None else "—"


def _current(obj: Objective, o: ObjectiveRound, plan: Plan) -> str:
    """What a proposed revision would change, as the plan has it now."""
    rev = o.report.revision
    if rev is None:
        return ""
    if rev.kind == RevisionKind.WEIGHT:
        return f"peso {italian.plain(obj.weight)}%"
    if rev.kind == RevisionKind.DEADLINE:
        return "; ".join(s.tempi for s in obj.steps if s.tempi) or obj.tempi or "—"
    return "; ".join(i.target_text for i in obj.indicators if i.target_text) or "—"


@dataclass
class RoundTables:
    """The rows every rendering of a round shows (Italian text and figures, as published)."""

    title: str
    subtitle: str
    sectors: list[list[Any]]  # the counts are numbers
    sector_states: list[RoundState]
    objectives: list[list[str]]
    objective_states: list[RoundState]
    at_risk: list[list[str]]
    at_risk_states: list[RoundState]
    proposals: list[list[str]]
    changes: list[list[str]]
    indicators: list[list[str]]
    files: list[list[str]]


SECTOR_HEAD = ["Settore", "Responsabile", "Stato", "In linea", "A rischio", "Critici", "Non rendicontati", "Modulo"]
OBJECTIVE_HEAD = ["Settore", "Obiettivo", "Peso", "Stato", "Stato precedente", "Variazione", "Avanzamento",
                  "Causa dello scostamento", "Azione correttiva", "Evidenze"]
RISK_HEAD = ["Obiettivo", "Stato", "Causa", "Perché (analisi e azione correttiva)"]
PROPOSAL_HEAD = ["Obiettivo", "Revisione proposta", "Oggi nel piano", "Nuovo valore proposto", "Motivazione"]
CHANGE_HEAD = ["Obiettivo", "Stato precedente", "Stato attuale", "Variazione", "Avanzamento precedente",
               "Avanzamento attuale"]
INDICATOR_HEAD = ["Indicatore", "Descrizione", "Target", "Valore alla data", "Grado alla data"]


def _value_text(values: Any, unit_hint: str = "") -> str:
    if not values:
        return "—"
    parts = []
    for v in values.values():
        if isinstance(v, bool):
            parts.append(italian.yes_no(v))
        elif isinstance(v, float):
            parts.append(italian.plain(v))
        else:
            parts.append(italian.value(v))
    return " / ".join(parts)


def round_tables(rev: RoundEvaluation) -> RoundTables:
    plan = rev.evaluation.plan
    when = italian.day(rev.round.as_of)
    objs = {o.id: o for o in plan.objectives}
    inds = {i.id: i for i in plan.indicators}
    sectors, sector_states = [], []
    for s in rev.sectors:
        sec = plan.sector(s.code)
        sectors.append([f"{sec.code} – {sec.name}", sec.responsabile.display, state_it(s.state) if s.received else
                        "modulo non ricevuto", *(s.count(st) for st in (RoundState.ON_TRACK, RoundState.AT_RISK,
                                                                              RoundState.CRITICAL,
                                                                              RoundState.NOT_REPORTED)),
                        (Path(s.file).name + (" (da correggere)" if s.has_errors else "")) if s.file else "—"])
        sector_states.append(s.state)
    objectives, objective_states = [], []
    for o in rev.objectives:
        obj = objs[o.objective_id]
        progress = _pct(o.progress, plan) + (" (dagli indicatori)" if o.progress_computed else "")
        objectives.append([o.sector, f"{obj.id} {obj.title}", "accesso" if obj.gate else
                           f"{italian.plain(obj.weight)}%", state_it(o.state),
                           state_it(o.previous) if o.previous else "—", CHANGE_IT[o.change], progress,
                           CAUSE_IT[o.report.cause] if o.report.cause else "—", o.report.action or "—",
                           o.report.evidence or "—"])
        objective_states.append(o.state)
    at_risk, at_risk_states = [], []
    for o in rev.at_risk():
        obj = objs[o.objective_id]
        why = [o.report.action and f"Azione correttiva: {o.report.action}"]
        why += [f"{rd.indicator_id}: {rd.result.analysis}" for rd in o.readings if rd.result.analysis]
        at_risk.append([f"{obj.id} {obj.title}", state_it(o.state),
                        CAUSE_IT[o.report.cause] if o.report.cause else "non indicata",
                        " ".join(_sentence(w) for w in why if w) or "—"])
        at_risk_states.append(o.state)
    proposals = []
    for o in rev.proposals():
        obj = objs[o.objective_id]
        rv = o.report.revision
        assert rv is not None
        proposals.append([f"{obj.id} {obj.title}", REVISION_IT[rv.kind], _current(obj, o, plan), rv.value or "—",
                          rv.reason or "—"])
    changes = [[f"{o.objective_id} {objs[o.objective_id].title}", state_it(o.previous) if o.previous else "—",
                state_it(o.state), CHANGE_IT[o.change], _pct(o.previous_progress, plan), _pct(o.progress, plan)]
               for o in rev.objectives if o.change in (Change.BETTER, Change.WORSE)]
    indicators = []
    for o in rev.objectives:
        for rd in o.readings:
            ind = inds[rd.indicator_id]
            value = "non ancora misurabile" if rd.not_yet else _value_text(rd.result.reported)
            indicators.append([ind.id, ind.description, ind.target_text or "—", value,
                               _pct(rd.result.achievement, plan) if rd.measured and ind.scored else "—"])
    files = [[s.code, Path(s.file).name if s.file else "—"] for s in rev.sectors]
    previous = f"; confronto con il monitoraggio al {italian.day(rev.previous)}" if rev.previous else ""
    return RoundTables(f"Monitoraggio degli obiettivi di performance al {when}",
                       f"Comune di {plan.comune} — PIAO {plan.year}{previous}", sectors, sector_states, objectives,
                       objective_states, at_risk, at_risk_states, proposals, changes, indicators, files)


# --- the workbook ---------------------------------------------------------------------------------------------

def render_round_workbook(rev: RoundEvaluation) -> bytes:
    """The round's workbook: Riepilogo (a light per sector), Obiettivi, A rischio, Revisioni proposte, Variazioni,
    Indicatori; A4 landscape, one page wide, headings repeated on every page."""
    import xlsxwriter

    t = round_tables(rev)
    plan = rev.evaluation.plan
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False,
                                   "strings_to_urls": False})
    wb.set_properties({"title": t.title, "subject": "PIAO - monitoraggio degli obiettivi", "author": "piao-xls",
                       "created": document_time().replace(tzinfo=None)})
    base = {"font_name": "Calibri", "font_size": 10, "text_wrap": True, "valign": "top", "border": 1,
            "border_color": "#8EA9DB"}
    head = wb.add_format({**base, "bold": True, "bg_color": "#DDEBF7", "valign": "vcenter"})
    text = wb.add_format(base)
    count = wb.add_format({**base, "align": "center", "num_format": "0"})
    title = wb.add_format({"font_name": "Calibri", "font_size": 14, "bold": True, "font_color": "#1F4E78"})
    sub = wb.add_format({"font_name": "Calibri", "font_size": 11, "italic": True})
    lights = {st: wb.add_format({**base, "bold": True, "align": "center", "bg_color": f"#{fill}",
                                 "font_color": f"#{ink}"}) for st, (fill, ink) in LIGHT.items()}

    def sheet(name: str, headers: list[str], rows: list[list[Any]], widths: list[float],
              states: list[RoundState] | None = None, state_col: int = -1, empty: str = "") -> None:
        ws = wb.add_worksheet(name)
        ws.write_string(0, 0, t.title, title)
        ws.write_string(1, 0, t.subtitle, sub)
        for j, w in enumerate(widths):
            ws.set_column(j, j, w)
        for j, h in enumerate(headers):
            ws.write_string(3, j, h, head)
        for i, row in enumerate(rows):
            for j, v in enumerate(row):
                fmt = lights[states[i]] if states is not None and j == state_col else text
                if isinstance(v, int):
                    ws.write_number(4 + i, j, v, count)
                else:
                    ws.write_string(4 + i, j, clean(v), fmt)
            longest = max(len(str(v)) / max(1.0, widths[j] * 1.1) for j, v in enumerate(row))
            ws.set_row(4 + i, max(15.0, 13.0 * (int(longest) + 1) + 2))
        if not rows:
            ws.write_string(4, 0, empty, text)
        ws.set_landscape()
        ws.set_paper(9)
        ws.set_margins(0.4, 0.4, 0.6, 0.6)
        ws.repeat_rows(3)
        ws.fit_to_pages(1, 0)
        ws.set_header(f"&L&10Comune di {plan.comune} — PIAO {plan.year}&R&10{name}".replace("&&", "&"))
        ws.set_footer("&R&10Pagina &P di &N")
        ws.freeze_panes(4, 0)

    sheet("Riepilogo", SECTOR_HEAD, t.sectors, [26, 28, 16, 9, 9, 9, 12, 44], t.sector_states, 2)
    sheet("Obiettivi", OBJECTIVE_HEAD, t.objectives, [8, 36, 8, 12, 12, 11, 14, 18, 40, 30],
          t.objective_states, 3)
    sheet("A rischio", RISK_HEAD, t.at_risk, [40, 12, 20, 90], t.at_risk_states, 1,
          "Nessun obiettivo a rischio o critico.")
    sheet("Revisioni proposte", PROPOSAL_HEAD, t.proposals, [36, 16, 30, 36, 44], empty="Nessuna revisione proposta.")
    sheet("Variazioni", CHANGE_HEAD, t.changes, [40, 16, 16, 12, 14, 14],
          empty="Nessuna variazione di stato rispetto al monitoraggio precedente." if rev.previous else
          "Primo monitoraggio dell'anno: nessun confronto.")
    sheet("Indicatori", INDICATOR_HEAD, t.indicators, [10, 50, 40, 24, 14])
    wb.close()
    return buf.getvalue()


# --- the document ------------------------------------------------------------------------------------------------

def _shade_column(table: Any, col: int, states: list[RoundState]) -> None:
    """Colour the state column of a table (row 0 is the heading) with the traffic light of each row."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import RGBColor

    for row, st in zip(table.rows[1:], states, strict=False):
        cell = row.cells[col]
        fill, ink = LIGHT[st]
        shd = OxmlElement("w:shd")
        shd.set(qn("w:val"), "clear")
        shd.set(qn("w:fill"), fill)
        cell._tc.get_or_add_tcPr().append(shd)
        for run in cell.paragraphs[0].runs:
            run.bold = True
            run.font.color.rgb = RGBColor.from_string(ink)


def render_round_docx(rev: RoundEvaluation) -> bytes:
    """The round's report as a .docx for the Giunta and the Nucleo (A4 portrait, Italian)."""
    t = round_tables(rev)
    plan = rev.evaluation.plan
    when = italian.day(rev.round.as_of)
    d = DocBuilder(t.title, f"Comune di {plan.comune} — Monitoraggio al {when}", f"Comune di {plan.comune}")
    d.title(f"Comune di {plan.comune}")
    d.para(t.title, bold=True, size=15, keep=True)
    d.para(f"PIAO {plan.year}, sottosezione 2.2 «Performance». Rapporto per la Giunta e per il Nucleo di "
           "Valutazione (art. 6 del d.lgs. 150/2009).", italic=True)
    n = len(rev.objectives)
    counts = {st: rev.count(st) for st in RoundState}
    received = sum(1 for s in rev.sectors if s.received)
    d.heading("1. Quadro d'insieme", 1)
    answered = f"ha risposto {received} settore" if received == 1 else f"hanno risposto {received} settori"
    d.para(f"Al {when} {answered} su {len(rev.sectors)}. Su "
           f"{italian.plural(n, 'obiettivo', 'obiettivi')} del piano, "
           f"{counts[RoundState.ON_TRACK]} {'è' if counts[RoundState.ON_TRACK] == 1 else 'sono'} in linea, "
           f"{counts[RoundState.AT_RISK]} a rischio e "
           f"{counts[RoundState.CRITICAL]} {'critico' if counts[RoundState.CRITICAL] == 1 else 'critici'}"
           + (f"; per {counts[RoundState.NOT_REPORTED]} lo stato non è stato indicato"
              if counts[RoundState.NOT_REPORTED] else "") + ". Lo stato di un settore è quello del suo obiettivo "
           "più critico.", keep=True)
    tab = d.table(["Settore", "Responsabile", "Stato", "In linea", "A rischio", "Critici", "Non rendic."],
                  [r[:7] for r in t.sectors], [3.6, 3.8, 2.6, 1.6, 1.7, 1.5, 1.8], right=(3, 4, 5, 6),
                  keep_together=True)
    _shade_column(tab, 2, t.sector_states)

    d.heading("2. Obiettivi a rischio o critici", 1)
    if t.at_risk:
        d.para("Per ciascun obiettivo a rischio o critico: la causa dello scostamento indicata dal Responsabile "
               "(esterna, interna o indicatore da rivedere) e l'azione correttiva.", keep=True)
        tab = d.table(RISK_HEAD, [[short(c, 600) for c in r] for r in t.at_risk], [4.4, 2, 2.6, 7.6])
        _shade_column(tab, 1, t.at_risk_states)
    else:
        d.para("Nessun obiettivo è a rischio o critico.")

    d.heading("3. Revisioni proposte", 1)
    if t.proposals:
        d.para("Le proposte di rimodulazione da sottoporre alla Giunta; una revisione approvata si registra con "
               "«piano revisione», citando la delibera.", keep=True)
        d.table(PROPOSAL_HEAD, [[short(c, 400) for c in r] for r in t.proposals], [3.6, 2.2, 3.4, 3.6, 3.8])
    else:
        d.para("Nessuna revisione proposta.")

    d.heading("4. Variazioni rispetto al monitoraggio precedente", 1)
    if rev.previous is None:
        d.para("È il primo monitoraggio dell'anno: nessun confronto.")
    elif t.changes:
        d.para(f"Gli obiettivi il cui stato è cambiato dal monitoraggio al {italian.day(rev.previous)}.", keep=True)
        d.table(CHANGE_HEAD, t.changes, [4.6, 2.4, 2.4, 2.2, 2.5, 2.5])
    else:
        d.para(f"Nessun obiettivo ha cambiato stato dal monitoraggio al {italian.day(rev.previous)}.")

    d.heading("5. Gli obiettivi per settore", 1)
    for s in rev.sectors:
        sec = plan.sector(s.code)
        d.heading(f"{sec.code} – {sec.name}", 2)
        if not s.received:
            d.para("Il modulo di monitoraggio non è stato ricevuto.")
            continue
        rows = [[r[1], r[2], r[3], r[6], r[7]] for r in t.objectives if r[0] == s.code]
        states = [st for r, st in zip(t.objectives, t.objective_states, strict=True) if r[0] == s.code]
        tab = d.table(["Obiettivo", "Peso", "Stato", "Avanzamento", "Causa"], rows, [7.4, 1.6, 2.4, 2.8, 2.4],
                      right=(1,))
        _shade_column(tab, 2, states)
    return d.bytes()


def write_round_report(rev: RoundEvaluation, xlsx: str | Path, pdf: bool = True) -> list[Path]:
    """Write the workbook, the .docx next to it and, unless ``pdf`` is False, the .pdf (LibreOffice headless).
    Returns the paths written."""
    from .relazione import docx_to_pdf

    xlsx = Path(xlsx)
    write_bytes_atomic(xlsx, render_round_workbook(rev))
    docx = xlsx.with_suffix(".docx")
    write_bytes_atomic(docx, render_round_docx(rev))
    out = [xlsx, docx]
    if pdf:
        out.append(docx_to_pdf(docx, docx.with_suffix(".pdf")))
    return out


__all__ = ["RoundTables", "render_round_docx", "render_round_workbook", "round_tables", "write_round_report"]
