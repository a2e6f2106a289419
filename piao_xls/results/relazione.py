"""The performance chapter of the Relazione sulla Performance, drafted from a consolidation: .docx and .pdf.

The finance office would otherwise type it by hand. The document (python-docx) holds: the method (the plan's
scoring policy in plain Italian), the overview (table and chart), per sector a table and a chart of its
objectives, the decisions (the Nucleo's and the plan's), the anomalies and the sources (file, SHA-256, date
received). The index lists every heading with its page (PAGEREF fields: LibreOffice computes them when it
lays the document out; Word updates them on opening). The PDF is the same document converted by LibreOffice
headless (``soffice --convert-to pdf``), in a throw-away profile.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tempfile
from datetime import datetime
from pathlib import Path

from ..core import italian
from ..core.errors import SEVERITY_IT
from ..core.model import Plan
from ..sheetio.atomic import write_bytes_atomic
from ..sheetio.docprops import document_time
from ..sheetio.text import shown_controls
from . import relazione_charts as charts
from .export import ResultsError, from_json, to_json_dict
from .tables import FILE_STATUS_IT, SECTOR_STATUS_IT, label

FONT = "Arial"  # LibreOffice substitutes the metric-compatible Liberation Sans
MAX_FINDINGS = 300  # rows of the anomalies table; the summary workbook lists them all
PDF_TIMEOUT = 300
ERRORS = ("error", "errore")
MISSING = {"missing", "non rendicontato"}
NOT_COUNTED = {"informative", "informativo", "not_applicable", "non applicabile"}
RULE_IT = {
    "at_least": "«almeno» un valore (ad es. 100%): raggiungimento = valore consuntivo / target, tra 0 e 100%; "
                "un risultato oltre il target non compensa un altro indicatore sotto il target.",
    "at_most": "«al massimo» un valore (ad es. ≤ 0 giorni): 100% se il valore non supera il target; se il piano "
               "indica un valore peggiore accettabile, il raggiungimento scende in proporzione fino a 0, "
               "altrimenti ogni valore oltre il target vale 0.",
    "range": "«tra» due valori: 100% dentro l'intervallo; sotto, valore / limite inferiore; sopra, "
             "limite superiore / valore.",
    "deadline": "scadenza: 100% se l'attività è completata entro la data del piano; {late}",
    "yes_no": "Sì/No: 100% se realizzato, 0 altrimenti.",
    "fraction": "rapporto tra due importi (ad es. somme accertate / somme stanziate) confrontato con il target; "
                "un denominatore pari a zero non consente il calcolo: l'indicatore vale 0 ed è segnalato al "
                "Nucleo di Valutazione, che può dichiararlo non applicabile.",
    "increase": "aumento rispetto a un anno di riferimento: raggiungimento = valore dell'anno / (valore di "
                "riferimento × (1 + aumento richiesto)), tra 0 e 100%.",
    "informative": "indicatori senza target: informativi, riportati ma non valutati.",
}


class RelazioneError(Exception):
    """The Relazione cannot be written (bad results file, LibreOffice missing or failing): message in Italian."""


# --- input -----------------------------------------------------------------------------------------------------

def load_results(path: str | Path, plan: Plan) -> dict:
    """The JSON written by ``consolidate --json``, read back by :func:`piao_xls.results.export.from_json` (schema
    version, JSON Schema, same plan id and fingerprint)."""
    path = Path(path)
    try:
        return from_json(path.read_text(encoding="utf-8"), plan)
    except (OSError, UnicodeDecodeError) as e:
        raise RelazioneError(f"{path}: file dei risultati illeggibile ({e})") from e
    except ResultsError as e:
        raise RelazioneError(f"{path}: {e}") from e


# --- formatting ------------------------------------------------------------------------------------------------

def _num(x, decimals: int) -> str:
    return "—" if x is None else italian.number(float(x), decimals)


def _pct(x, decimals: int) -> str:
    return "—" if x is None else italian.number(float(x) * 100, decimals) + "%"


def _weight(x) -> str:
    return "—" if x is None else italian.plain(float(x), 2)


def _when(text) -> str:
    """An ISO date or date-time as 10/03/2026 (12:30)."""
    if not text:
        return "—"
    try:
        d = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return str(text)
    if len(str(text)) <= 10:
        return italian.day(d.date())
    return f"{italian.day(d.date())} {d:%H:%M}"


def _status(sector: dict) -> str:
    """A sector's status in Italian (a results file of an earlier version holds the Italian word already)."""
    return label(SECTOR_STATUS_IT, sector.get("status", ""))


def _short(text: str, n: int) -> str:
    text = " ".join(str(text or "").split())
    return text if len(text) <= n else text[:n - 1] + "…"


def _clean(text) -> str:
    """Text python-docx accepts: no control characters (XML 1.0), no lone surrogates; C1 controls and the
    characters that reorder text shown as escapes (as in every other output)."""
    s = "" if text is None else str(text)
    s = "".join(ch if ch in "\t\n" or (ord(ch) >= 32 and ch != "\x7f") else " " for ch in s)
    s = s.replace("\ufffe", "\ufffd").replace("\uffff", "\ufffd")  # noncharacters XML 1.0 does not allow
    return shown_controls(s).encode("utf-8", "replace").decode("utf-8") if not s.isascii() else s


# --- the method, from the plan's scoring policy -------------------------------------------------------------------

def method_text(plan: Plan) -> list[str]:
    """The scoring policy in plain Italian, one paragraph per rule (only the rule kinds the plan uses)."""
    p = plan.scoring
    dec = p.precision
    out = ["Ogni Responsabile ha compilato la propria scheda (cartella di lavoro) con i valori consuntivi; il "
           "Nucleo di Valutazione ha compilato quella degli indicatori che certifica. piao-xls ha controllato "
           "ogni valore e calcolato il grado di raggiungimento di ogni indicatore, obiettivo e settore con le "
           "regole che seguono, le stesse per tutti i settori."]
    kinds = []
    for ind in plan.indicators:
        if ind.rule.kind not in kinds:
            kinds.append(ind.rule.kind)
    if p.late_penalty_per_month >= 1:
        late = "qualsiasi ritardo vale 0."
    elif p.late_penalty_per_month <= 0:
        late = "il ritardo non è penalizzato."
    else:
        late = (f"ogni periodo di 30 giorni di ritardo, anche iniziato, toglie "
                f"{_num(p.late_penalty_per_month * 100, 0)} punti percentuali (fino a 0).")
    for k in [k for k in RULE_IT if k in kinds]:
        out.append("• " + RULE_IT[k].format(late=late))
    if p.aggregation == "min":
        out.append("Il raggiungimento di un obiettivo è quello del suo indicatore più basso: l'obiettivo vale "
                   "quanto il suo indicatore più debole.")
    else:
        out.append("Il raggiungimento di un obiettivo è la media dei suoi indicatori valutati, ponderata con il "
                   "peso di ciascun indicatore (1 se il piano non lo indica).")
    if p.threshold is not None:
        out.append(f"Soglia minima: un obiettivo il cui raggiungimento, pubblicato con {dec} decimali, è inferiore "
                   f"al {italian.plain(p.threshold * 100, 2)}% vale 0.")
    else:
        out.append("Il piano non prevede una soglia minima: ogni obiettivo conta per il raggiungimento ottenuto.")
    out.append("Un indicatore senza valore è «non rendicontato» e vale 0. Se la scheda di un Responsabile non è "
               "pervenuta, i valori certificati dal Nucleo di Valutazione (o da fonti esterne) per quel settore "
               "contano comunque; gli altri indicatori sono non rendicontati.")
    out.append("Un obiettivo senza indicatori valutabili (il piano non fissa alcun target misurabile), o "
               "neutralizzato dal Nucleo di Valutazione, è escluso dal calcolo: i pesi degli altri obiettivi del "
               "settore sono rinormalizzati in modo da sommare 100 («peso applicato»). Ogni esclusione, "
               "indicatore non applicabile o valore corretto è elencato con motivazione, autore e data nel "
               "capitolo «Decisioni».")
    out.append("I punti di un obiettivo sono il peso applicato per il grado di raggiungimento; il punteggio del "
               "settore (da 0 a 100) è la somma dei punti, calcolata sui valori non arrotondati: la somma dei "
               "punti pubblicati può differire di qualche centesimo dal totale.")
    out.append(f"Punteggi, punti e percentuali sono pubblicati con {dec} decimali (arrotondamento per eccesso "
               "dal 5). La fascia di valutazione e la soglia si decidono sulla cifra pubblicata: un punteggio "
               f"pubblicato come «{_num(p.bands[0].min if p.bands else 0, dec)}» ha sempre la fascia che "
               "gli corrisponde.")
    return out


# --- the document ------------------------------------------------------------------------------------------------

class _Doc:
    """python-docx with what this report needs: headings with bookmarks for the index, tables, figures."""

    def __init__(self, title: str, footer: str):
        from docx import Document
        from docx.enum.section import WD_ORIENT
        from docx.shared import Cm, Pt

        self.Cm, self.Pt = Cm, Pt
        self.doc = Document()
        sec = self.doc.sections[0]
        sec.orientation = WD_ORIENT.PORTRAIT
        sec.page_width, sec.page_height = Cm(21), Cm(29.7)
        sec.left_margin = sec.right_margin = Cm(2)
        sec.top_margin, sec.bottom_margin = Cm(2), Cm(2)
        styles = self.doc.styles
        normal = styles["Normal"]
        normal.font.name, normal.font.size = FONT, Pt(10)
        self._lang(normal.element)
        for name in ("Title", "Heading 1", "Heading 2", "Caption"):
            styles[name].font.name = FONT
        self.headings: list[tuple[int, str, str]] = []  # level, text, bookmark
        self.figures = 0
        self.title = title
        self._footer(footer)
        props = self.doc.core_properties
        props.title, props.author, props.language = _clean(title), "piao-xls", "it-IT"
        props.created = props.modified = document_time().replace(tzinfo=None)
        props.last_modified_by, props.revision = "piao-xls", 1

    @staticmethod
    def _lang(style_el) -> None:
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn

        rpr = style_el.get_or_add_rPr()
        for old in rpr.findall(qn("w:lang")):
            rpr.remove(old)
        lang = OxmlElement("w:lang")
        lang.set(qn("w:val"), "it-IT")
        rpr.append(lang)

    @staticmethod
    def field(paragraph, instr: str, cached: str) -> None:
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn

        def char(kind):
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
            paragraph.add_run()._r.append(el)

        char("begin")
        instr_el = OxmlElement("w:instrText")
        instr_el.set(qn("xml:space"), "preserve")
        instr_el.text = f" {instr} "
        paragraph.add_run()._r.append(instr_el)
        char("separate")
        paragraph.add_run(cached)
        char("end")

    def _footer(self, text: str) -> None:
        from docx.enum.text import WD_ALIGN_PARAGRAPH

        p = self.doc.sections[0].footer.paragraphs[0]
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        p.add_run(f"{text} — pagina ")
        self.field(p, "PAGE", "1")
        p.add_run(" di ")
        self.field(p, "NUMPAGES", "1")
        for r in p.runs:
            r.font.size = self.Pt(8)

    def heading(self, text: str, level: int) -> None:
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn

        h = self.doc.add_heading(_clean(text), level)
        if level == 1 and self.headings:
            h.paragraph_format.page_break_before = True
        mark = f"_Toc{len(self.headings) + 1:05d}"
        start = OxmlElement("w:bookmarkStart")
        start.set(qn("w:id"), str(len(self.headings) + 1))
        start.set(qn("w:name"), mark)
        end = OxmlElement("w:bookmarkEnd")
        end.set(qn("w:id"), str(len(self.headings) + 1))
        h._p.insert(1 if h._p.pPr is not None else 0, start)
        h._p.append(end)
        self.headings.append((level, text, mark))

    def para(self, text: str, bold: bool = False, italic: bool = False, size: float | None = None):
        p = self.doc.add_paragraph()
        run = p.add_run(_clean(text))
        run.bold, run.italic = bold, italic
        if size:
            run.font.size = self.Pt(size)
        return p

    def bullet(self, text: str) -> None:
        self.doc.add_paragraph(_clean(text), style="List Bullet")

    def table(self, headers: list[str], rows: list[list[str]], widths_cm: list[float],
              right: set[int] | frozenset[int] = frozenset(), size: float = 8.5, bold_last: bool = False) -> None:
        from docx.enum.table import WD_TABLE_ALIGNMENT
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn

        t = self.doc.add_table(rows=1, cols=len(headers))
        t.style = "Table Grid"
        t.alignment = WD_TABLE_ALIGNMENT.CENTER
        t.autofit = False

        def fill(cells, values, bold=False, shade=False):
            for j, (cell, v) in enumerate(zip(cells, values, strict=True)):
                cell.width = self.Cm(widths_cm[j])
                p = cell.paragraphs[0]
                run = p.add_run(_clean(v))
                run.font.size = self.Pt(size)
                run.bold = bold
                if j in right:
                    p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
                if shade:
                    shd = OxmlElement("w:shd")
                    shd.set(qn("w:val"), "clear")
                    shd.set(qn("w:fill"), "DDEBF7")
                    cell._tc.get_or_add_tcPr().append(shd)

        for j, w in enumerate(widths_cm):  # the grid: LibreOffice lays the columns out from it
            t.columns[j].width = self.Cm(w)
        fill(t.rows[0].cells, headers, bold=True, shade=True)
        trpr = t.rows[0]._tr.get_or_add_trPr()
        head = OxmlElement("w:tblHeader")  # repeated on every page the table spans
        trpr.append(head)
        for i, r in enumerate(rows):
            row = t.add_row()
            no_split = OxmlElement("w:cantSplit")
            row._tr.get_or_add_trPr().append(no_split)
            fill(row.cells, r, bold=bold_last and i == len(rows) - 1)
        self.doc.add_paragraph()

    def figure(self, png: bytes, caption: str) -> None:
        from docx.enum.text import WD_ALIGN_PARAGRAPH

        pic = self.doc.add_paragraph()  # not doc.paragraphs[-1]: that lists every paragraph each time
        pic.add_run().add_picture(io.BytesIO(png), width=self.Cm(16))
        pic.alignment = WD_ALIGN_PARAGRAPH.CENTER
        pic.paragraph_format.keep_with_next = True
        self.figures += 1
        cap = self.doc.add_paragraph(_clean(f"Figura {self.figures} – {caption}"), style="Caption")
        cap.alignment = WD_ALIGN_PARAGRAPH.CENTER

    def index(self, anchor) -> None:
        """The index, before ``anchor`` (a paragraph): each heading with its page (PAGEREF field)."""
        from docx.enum.text import WD_TAB_ALIGNMENT, WD_TAB_LEADER

        for level, text, mark in self.headings:
            p = anchor.insert_paragraph_before()
            p.paragraph_format.tab_stops.add_tab_stop(self.Cm(17), WD_TAB_ALIGNMENT.RIGHT, WD_TAB_LEADER.DOTS)
            p.paragraph_format.left_indent = self.Cm(0.6 * (level - 1))
            p.paragraph_format.space_after = self.Pt(1)
            run = p.add_run(_clean(_short(text, 90)) + "\t")
            run.bold = level == 1
            self.field(p, f"PAGEREF {mark} \\h", "")

    def update_fields_on_open(self) -> None:
        """Word asks to update the fields (index pages) when the document is opened."""
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn

        el = OxmlElement("w:updateFields")
        el.set(qn("w:val"), "true")
        settings = self.doc.settings.element
        # the schema's order: updateFields comes before these (Word refuses a settings part out of order)
        after = {qn(f"w:{n}") for n in ("hdrShapeDefaults", "footnotePr", "endnotePr", "compat", "docVars", "rsids",
                                        "attachedSchema", "themeFontLang", "clrSchemeMapping",
                                        "doNotIncludeSubdocsInStats", "doNotAutoCompressPictures", "forceUpgrade",
                                        "captions", "readModeInkLockDown", "smartTagType", "shapeDefaults",
                                        "doNotEmbedSmartTags", "decimalSymbol", "listSeparator")}
        after.add(qn("m:mathPr"))
        nxt = next((c for c in settings if c.tag in after), None)
        if nxt is not None:
            nxt.addprevious(el)
        else:
            settings.append(el)

    def bytes(self) -> bytes:
        buf = io.BytesIO()
        self.doc.save(buf)
        return buf.getvalue()


def render_docx(data: dict, plan: Plan) -> bytes:
    """The Relazione as .docx bytes, from consolidation results (``Consolidation.to_dict()`` or its JSON)."""
    policy = plan.scoring
    dec = policy.precision
    year, comune = plan.year, plan.comune
    title = f"Comune di {comune} — Relazione sulla Performance {year}"
    d = _Doc(title, f"Comune di {comune} — Relazione sulla Performance {year}")
    d.doc.add_heading(_clean(title), 0)
    d.para("Capitolo: i risultati della performance organizzativa dei settori (PIAO "
           f"{year}, sottosezione 2.2 «Performance»)", italic=True)
    d.para(f"Bozza predisposta con piao-xls dai risultati consolidati del piano {plan.plan_id} "
           f"(impronta {str(data.get('fingerprint', plan.fingerprint))[:16]}). I dati sono quelli delle schede "
           "pervenute e delle decisioni del Nucleo di Valutazione elencate nel capitolo «Decisioni».", size=9)
    d.para("Indice", bold=True, size=12)
    anchor = d.para("")

    sectors = data["sectors"]
    objectives = data["objectives"]
    indicators = data["indicators"]
    by_sector: dict[str, list[dict]] = {}
    for o in objectives:
        by_sector.setdefault(o.get("sector"), []).append(o)
    ind_status: dict[str, list[str]] = {}
    for i in indicators:
        ind_status.setdefault(i.get("objective"), []).append(str(i.get("status", "")))

    # 1. method
    d.heading("Metodo di valutazione", 1)
    for text in method_text(plan):
        if text.startswith("• "):
            d.bullet(text[2:])
        else:
            d.para(text)
    d.para("Fasce di valutazione", bold=True)
    d.table(["Fascia", "Punteggio da", "Giudizio"],
            [[b.code, _num(b.min, dec), b.label] for b in sorted(policy.bands, key=lambda b: -b.min)],
            [2.5, 3.5, 8], right={1})

    # 2. overview
    d.heading("Quadro d'insieme", 1)
    scored = [s for s in sectors if s.get("score") is not None]
    d.para(f"Settori del piano: {len(sectors)}; valutati: {len(scored)}; non valutati: "
           f"{len(sectors) - len(scored)}.")
    d.table(["Settore", "Responsabile", "Punteggio", "Fascia", "Stato"],
            [[f"{s['code']} – {s.get('name', '')}", s.get("responsabile", ""), _num(s.get("score"), dec),
              f"{s.get('band', '')} – {s.get('band_label', '')}" if s.get("band") else "—", _status(s)]
             for s in sectors], [5, 4.2, 2, 2.8, 3], right={2})
    top = max(policy.bands, key=lambda b: b.min)
    bottom = min(policy.bands, key=lambda b: b.min)
    bars = [{"label": f"{s['code']} – {s.get('name', '')}", "score": s.get("score"), "band": s.get("band", ""),
             "note": f"non valutato ({_status(s)})",
             "top": s.get("band") == top.code, "bottom": s.get("band") == bottom.code} for s in sectors]
    groups = charts.chunks(bars)
    for k, group in enumerate(groups):
        part = f" ({k + 1} di {len(groups)})" if len(groups) > 1 else ""
        d.figure(charts.overview_chart(group, [(b.min, b.code) for b in policy.bands], dec,
                                       f"Punteggio dei settori{part}"),
                 f"Punteggio per settore e limiti delle fasce{part}")

    # 3. per sector
    d.heading("Risultati per settore", 1)
    for s in sectors:
        code = s["code"]
        d.heading(f"{code} – {s.get('name', '')}", 2)
        d.para(f"Responsabile: {s.get('responsabile', '') or '—'}.")
        if s.get("score") is None:
            d.para(f"Settore non valutato: {_status(s)}. Gli obiettivi sono elencati senza punteggio.",
                   italic=True)
        else:
            d.para(f"Punteggio: {_num(s['score'], dec)} su 100 — fascia {s.get('band', '')} "
                   f"({s.get('band_label', '')}). Stato: {_status(s)}.", bold=True)
        rows, bars = [], []
        total_w = 0.0
        for o in by_sector.get(code, []):
            ach, wa = o.get("achievement"), o.get("weight_applied")
            statuses = [st for st in ind_status.get(str(o.get("objective")), []) if st not in NOT_COUNTED]
            missing = s.get("score") is not None and ach is not None and statuses and all(
                st in MISSING for st in statuses)
            total_w += float(o.get("weight") or 0)
            if s.get("score") is None:
                state_txt, pts, wa_txt = "—", "—", "—"
            elif ach is None:
                state_txt, pts, wa_txt = "escluso", "—", "escluso"
            else:
                state_txt = "non rendicontato" if missing else _pct(ach, dec)
                pts = _num(wa * ach, dec) if wa is not None else _num(o.get("points"), dec)
                wa_txt = _num(wa, dec) if wa is not None else "—"  # at the published precision
            rows.append([str(o.get("number", "")), _short(o.get("title", ""), 120), _weight(o.get("weight")),
                         wa_txt, state_txt, pts, o.get("band") or "—"])
            bars.append({"label": f"{o.get('objective', '')} {o.get('title', '')}", "achievement": ach,
                         "state": "excluded" if ach is None else "missing" if missing else "scored",
                         "reached": ach is not None and policy.published(ach * 100) >= 100})
        if s.get("score") is not None:
            rows.append(["", "Totale", _weight(total_w), "100", "", _num(s["score"], dec), s.get("band", "")])
        d.table(["N.", "Obiettivo", "Peso", "Peso applicato", "Raggiungimento", "Punti", "Fascia"], rows,
                [0.8, 6.5, 1.2, 1.7, 2.8, 1.6, 1.4], right={2, 3, 4, 5}, bold_last=s.get("score") is not None)
        if s.get("score") is None:  # shown as such: no bar, the reason on every objective
            bars = [{**b, "state": "unscored", "note": f"settore non valutato ({_status(s)})"}
                    for b in bars]
        if bars:
            groups = charts.chunks(bars)
            for k, group in enumerate(groups):
                part = f" ({k + 1} di {len(groups)})" if len(groups) > 1 else ""
                d.figure(charts.objectives_chart(group, dec, f"{code} – {_short(s.get('name', ''), 50)}{part}"),
                         f"Grado di raggiungimento degli obiettivi del settore {code}{part}")

    # 4. decisions
    d.heading("Decisioni", 1)
    decisions = data.get("decisions") or []
    if not decisions:
        d.para("Nessuna decisione: il punteggio di ogni settore deriva dai soli valori pervenuti.")
    else:
        d.para("Ogni decisione che modifica il calcolo, del Nucleo di Valutazione o del piano stesso, con "
               "motivazione, autore e data. Nessuna decisione è applicata senza comparire qui.")
        rows = []
        for x in decisions:
            what = x.get("indicator") or x.get("objective") or x.get("sector", "")
            if x.get("kind") == "correct":
                what += f" ({x.get('old_text', '')} → {x.get('new_text', '')})"
            who = f"{x.get('by', '')}, {_when(x.get('date'))}" if x.get("date") else x.get("by", "")
            rows.append([x.get("kind_it", x.get("kind", "")), what, x.get("reason", ""), who,
                         ("applicata: " if x.get("applied") else "") + str(x.get("effect", ""))])
        d.table(["Decisione", "Oggetto", "Motivazione", "Chi e quando", "Esito"], rows, [2.6, 2.6, 4.2, 3, 4.6],
                size=8)

    # 5. anomalies
    d.heading("Anomalie", 1)
    findings = sorted(data["findings"], key=lambda f: (f.get("severity") not in ERRORS, str(f.get("sector", ""))))
    if not findings:
        d.para("Nessuna anomalia.")
    else:
        errors = sum(1 for f in findings if f.get("severity") in ERRORS)
        d.para(f"Anomalie rilevate: {len(findings)} ({errors} errori, {len(findings) - errors} avvisi)."
               + (f" Sono elencate le prime {MAX_FINDINGS}; il riepilogo le riporta tutte."
                  if len(findings) > MAX_FINDINGS else ""))
        rows = []
        for f in findings[:MAX_FINDINGS]:
            where = Path(str(f.get("file", ""))).name if f.get("file") else ""
            if f.get("sheet"):
                where += f" «{f['sheet']}»" + (f"!{f['cell']}" if f.get("cell") else "")
            rows.append([SEVERITY_IT.get(f.get("severity"), f.get("severity", "")), f.get("code", ""),
                         str(f.get("sector", "")).replace(",", ", "), _short(where, 80) or "—",
                         _short(f.get("message", ""), 400)])
        d.table(["Gravità", "Codice", "Settore", "Dove", "Descrizione"], rows, [1.4, 2.8, 1.6, 3.8, 7.4], size=7.5)

    # 6. sources
    d.heading("Fonti", 1)
    d.para("Le schede lette, con l'impronta SHA-256 che le identifica e la data di ricezione (data del file "
           "nella cartella delle schede ricevute).")
    rows = [[_short(Path(str(x.get("path", ""))).name, 60), _when(x.get("received") or x.get("saved")),
             FILE_STATUS_IT.get(x.get("status"), str(x.get("status", ""))),
             str(x.get("used_for", "") or "—").replace(",", ", "),
             x.get("sha256", "") or "—"] for x in data["sources"]]
    if rows:
        d.table(["File", "Ricevuto il", "Stato", "Usato per", "SHA-256"], rows, [4.4, 2.4, 2.2, 1.8, 6.2], size=7)
    else:
        d.para("Nessun file letto.")

    d.index(anchor)
    d.update_fields_on_open()
    return d.bytes()


# --- PDF --------------------------------------------------------------------------------------------------------

def find_soffice() -> str | None:
    env = os.environ.get("PIAO_SOFFICE")
    if env:
        return env
    return shutil.which("soffice") or shutil.which("libreoffice")


def docx_to_pdf(docx: str | Path, pdf: str | Path, timeout: float = PDF_TIMEOUT) -> Path:
    """Convert with LibreOffice headless, in a throw-away profile (no clash with a running LibreOffice);
    the PDF is moved into place only when complete."""
    soffice = find_soffice()
    if not soffice:
        raise RelazioneError("LibreOffice (soffice) non trovato: il PDF non è stato scritto; installare "
                             "libreoffice-writer-nogui o indicare il programma con PIAO_SOFFICE")
    docx, pdf = Path(docx), Path(pdf)
    with tempfile.TemporaryDirectory(prefix="piao-relazione-") as tmp:
        profile = Path(tmp) / "profile"
        out = Path(tmp) / "out"
        src = Path(tmp) / "relazione.docx"
        shutil.copyfile(docx, src)
        cmd = [soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
               "--convert-to", "pdf:writer_pdf_Export", "--outdir", str(out), str(src)]
        try:
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                    start_new_session=True)  # its own process group: stopped whole on timeout
        except OSError as e:
            raise RelazioneError(f"LibreOffice ({soffice}) non avviabile: {e}") from e
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired as e:
            _kill_group(proc)
            raise RelazioneError(f"LibreOffice non ha convertito {docx.name} in PDF entro {timeout:.0f} s") from e
        except BaseException:
            _kill_group(proc)
            raise
        made = out / "relazione.pdf"
        if proc.returncode != 0 or not made.exists() or made.stat().st_size == 0:
            tail = (stderr or stdout or "").strip()[-300:]
            raise RelazioneError(f"LibreOffice non ha convertito {docx.name} in PDF (codice {proc.returncode}): "
                                 f"{tail}")
        write_bytes_atomic(pdf, made.read_bytes())
    return pdf


def _kill_group(proc: subprocess.Popen) -> None:
    """Stop soffice and whatever it started (its process group, created for it), then reap it."""
    import contextlib
    import signal

    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()


def write_relazione(data: dict, plan: Plan, docx_path: str | Path, pdf: bool = True) -> tuple[Path, Path | None]:
    """Write the .docx (atomically) and, unless ``pdf`` is False, the .pdf next to it."""
    docx_path = Path(docx_path)
    write_bytes_atomic(docx_path, render_docx(data, plan))
    if not pdf:
        return docx_path, None
    return docx_path, docx_to_pdf(docx_path, docx_path.with_suffix(".pdf"))


def results_of(consolidation) -> dict:
    """A consolidation as the Relazione reads it: the document its JSON holds (:func:`to_json_dict`)."""
    return to_json_dict(consolidation)


__all__ = ["RelazioneError", "docx_to_pdf", "load_results", "method_text", "render_docx", "results_of",
           "write_relazione"]
