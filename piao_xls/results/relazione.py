"""The performance chapter of the Relazione sulla Performance, drafted from a consolidation: .docx and .pdf.

The chapter is written as a comune publishes it (art. 10, comma 1, lettera b, d.lgs. 150/2009): presentation
and context, the method in plain Italian, the results of the whole ente and of each sector, for each objective
its indicators (target, value, achievement) with the Responsabile's explanation of every deviation, the Nucleo
di Valutazione's decisions with their reasons, what changed during the year (once the plan has revisions:
``data["revisions"]``), conclusions. Every figure is the one the consolidation publishes (the ``*_it`` texts of
:func:`piao_xls.results.tables.tables`, or the figure formatted by :mod:`piao_xls.core.italian` at the plan's
precision): nothing is recomputed here. The body names no software, fingerprint, hash, error code or cell:
the audit material (how values were checked, anomalies, sources and their hashes) is the technical annex
(:mod:`piao_xls.results.annex`), a separate document for the Nucleo.

The index lists every heading with its page, stored in the .docx: :func:`write_relazione` lets LibreOffice lay
the document out once, reads the pages back and writes them into the index (no field to update on opening).
The PDF is the same .docx converted by LibreOffice headless, in a throw-away profile: the same pages.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..core import italian
from ..core.decisions import PLAN
from ..core.model import Plan
from ..core.revisions import act_text, change_text
from ..sheetio.atomic import write_bytes_atomic
from . import annex
from . import relazione_charts as charts
from .docbuild import ConversionError, DocBuilder, convert, find_soffice, page_numbers, short
from .export import ResultsError, from_json, to_json_dict
from .tables import INDICATOR_STATUS_IT, SECTOR_STATUS_IT, SOURCE_IT, label

PDF_TIMEOUT = 300
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


# --- formatting: the figures as the consolidation publishes them -------------------------------------------

def _num(x: Any, decimals: int) -> str:
    return "—" if x is None else italian.number(float(x), decimals)


def _status(sector: dict) -> str:
    """A sector's status in Italian (a results file of an earlier version holds the Italian word already)."""
    return sector.get("status_it") or label(SECTOR_STATUS_IT, sector.get("status", ""))


def _score(s: dict, dec: int) -> str:
    """A sector's score as published (``score_it``)."""
    return s.get("score_it") or _num(s.get("score"), dec)


def _achievement(row: dict, dec: int) -> str:
    a = row.get("achievement")
    return row.get("achievement_it") or ("—" if a is None else italian.percent(float(a), dec))


def _points(row: dict, dec: int) -> str:
    p = row.get("points")
    return row.get("points_it") or _num(p, dec)


def _applied(row: dict, dec: int) -> str:
    w = row.get("weight_applied")
    return row.get("weight_applied_it") or _num(w, dec)


def _reached(row: dict, policy: Any) -> bool:
    a = row.get("achievement")
    return a is not None and policy.published(float(a) * 100) >= 100


def _one_line(text: Any) -> str:
    return " ".join(str(text or "").split())


# --- the method, from the plan's scoring policy -------------------------------------------------------------------

def method_text(plan: Plan) -> list[str]:
    """The scoring policy in plain Italian, one paragraph per rule (only the rule kinds the plan uses)."""
    p = plan.scoring
    dec = p.precision
    decimals = italian.plural(dec, "decimale", "decimali")
    out = ["Ogni Responsabile ha rendicontato nella propria scheda i valori consuntivi degli indicatori del suo "
           "settore, con l'analisi di ogni scostamento dal target; il Nucleo di Valutazione ha rendicontato gli "
           "indicatori che certifica. Ogni valore è stato verificato (le verifiche sono descritte nell'allegato "
           "tecnico) e il grado di raggiungimento di ogni indicatore, obiettivo e settore è stato calcolato con "
           "le regole che seguono, le stesse per tutti i settori."]
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
        out.append(f"Soglia minima: un obiettivo il cui raggiungimento, pubblicato con {decimals}, è inferiore "
                   f"al {italian.plain(p.threshold * 100, 2)}% vale 0.")
    else:
        out.append("Il piano non prevede una soglia minima: ogni obiettivo conta per il raggiungimento ottenuto.")
    out.append("Un indicatore senza valore è «non rendicontato» e vale 0. Se la scheda di un Responsabile non è "
               "pervenuta, contano comunque i valori certificati per quel settore dal Nucleo di Valutazione o da "
               "fonti esterne.")
    out.append("Un obiettivo senza indicatori misurabili, o neutralizzato dal Nucleo di Valutazione, è escluso dal "
               "calcolo e i pesi degli altri obiettivi del settore sono riproporzionati a 100 («peso applicato»); "
               "ogni esclusione, indicatore non applicabile o valore corretto è elencato, con la motivazione, tra "
               "le decisioni del Nucleo di Valutazione.")
    out.append("I punti di un obiettivo sono il peso applicato per il grado di raggiungimento; il punteggio del "
               f"settore, da 0 a 100, è la somma dei punti. Punteggi, punti e percentuali sono pubblicati con "
               f"{decimals} (arrotondamento per eccesso dal 5) e la fascia si attribuisce al punteggio pubblicato: "
               f"un punteggio pubblicato come «{_num(p.bands[0].min if p.bands else 0, dec)}» ha sempre la fascia "
               "che gli corrisponde.")
    out.append(f"Nel conteggio degli obiettivi, uno si considera «raggiunto» quando il suo raggiungimento pubblicato è "
               f"almeno del {italian.plain(p.reached * 100, 2)}%, «non raggiunto» quando è inferiore al "
               f"{italian.plain(p.not_reached_below * 100, 2)}%, «parzialmente raggiunto» negli altri casi.")
    return out


# --- the document ------------------------------------------------------------------------------------------------

#: the chapters of the Relazione, in order («Le modifiche…» only once the plan has revisions)
CHAPTERS = ("Presentazione", "Il metodo di misurazione e valutazione", "I risultati dell'ente",
            "I risultati per settore", "Le decisioni del Nucleo di Valutazione",
            "Le modifiche intervenute nel corso dell'anno", "Conclusioni",
            "L'andamento negli anni")  # the last, after «I risultati per settore», only with earlier years' results
DEVIATION_NONE = "Il Responsabile non ha indicato le cause dello scostamento."


def _numbered(n: int, text: str) -> str:
    return f"{n}. {text}"


class _Ctx:
    """What every part of the chapter reads: the results, the plan, the decisions by indicator."""

    def __init__(self, data: dict, plan: Plan):
        self.data, self.plan, self.policy = data, plan, plan.scoring
        self.dec = self.policy.precision
        self.sectors: list[dict] = data["sectors"]
        self.by_sector: dict[str, list[dict]] = {}
        for o in data["objectives"]:
            self.by_sector.setdefault(str(o.get("sector")), []).append(o)
        self.indicators: dict[str, list[dict]] = {}
        for i in data["indicators"]:
            self.indicators.setdefault(str(i.get("objective")), []).append(i)
        self.decisions: list[dict] = list(data.get("decisions") or [])
        self.corrections = {str(x.get("indicator")): x for x in self.decisions
                            if x.get("kind") == "correct" and x.get("applied")}
        self.revisions: list[dict] = [r for r in data.get("revisions") or [] if isinstance(r, dict)]


def render_docx(data: dict, plan: Plan, pages: Mapping[str, int] | None = None) -> bytes:
    """The Relazione as .docx bytes, from consolidation results (``Consolidation`` rows as JSON values:
    :func:`results_of` or the JSON of ``consolida --json-file``). ``pages``: the page of each heading (by
    bookmark), as :func:`write_relazione` computes them; without it the index has no page numbers yet."""
    d = _build(data, plan, pages)
    if pages is None and find_soffice() is None:
        d.update_fields_on_open()  # no way to compute the pages here: Word computes them when opened
    return d.bytes()


def _build(data: dict, plan: Plan, pages: Mapping[str, int] | None = None) -> DocBuilder:
    x = _Ctx(data, plan)
    year, comune = plan.year, plan.comune
    d = DocBuilder(f"Relazione sulla Performance {year} — Comune di {comune}",
                   f"Comune di {comune} — Relazione sulla Performance {year}", f"Comune di {comune}")
    d.title(f"Comune di {comune}", "")
    d.para(f"Relazione sulla Performance {year}", bold=True, size=15, keep=True)
    d.para(f"I risultati della performance organizzativa (PIAO {year}, sottosezione 2.2 «Performance»)",
           italic=True)
    d.para("Indice", bold=True, size=12, keep=True)
    anchor = d.para("")
    n = 0
    for part in (_presentation, _method, _overview, _per_sector, _history, _decisions, _revisions, _conclusions):
        n = part(d, x, n)
    d.index(anchor, pages)
    return d


def _presentation(d: DocBuilder, x: _Ctx, n: int) -> int:
    plan, data = x.plan, x.data
    n += 1
    d.heading(_numbered(n, CHAPTERS[0]), 1)
    objectives = len(data["objectives"])
    indicators = len(data["indicators"])
    d.para(f"La Relazione sulla Performance rende conto ai cittadini, alla Giunta e al Nucleo di Valutazione dei "
           f"risultati raggiunti nel {plan.year} rispetto agli obiettivi programmati, con gli eventuali "
           "scostamenti e le loro cause (art. 10, comma 1, lettera b, del d.lgs. 150/2009). È approvata dalla "
           "Giunta e validata dal Nucleo di Valutazione.")
    d.para(f"Questo capitolo riguarda la performance organizzativa dei settori del Comune di {plan.comune}: gli "
           f"obiettivi della sottosezione 2.2 «Performance» del PIAO {plan.year} "
           f"({italian.plural(len(x.sectors), 'settore', 'settori')}, "
           f"{italian.plural(objectives, 'obiettivo', 'obiettivi')}, "
           f"{italian.plural(indicators, 'indicatore', 'indicatori')}), i valori rendicontati dai Responsabili e "
           "certificati dal Nucleo di Valutazione, e le decisioni del Nucleo.")
    return n


def _method(d: DocBuilder, x: _Ctx, n: int) -> int:
    n += 1
    d.heading(_numbered(n, CHAPTERS[1]), 1)
    for text in method_text(x.plan):
        if text.startswith("• "):
            d.bullet(text[2:])
        else:
            d.para(text)
    d.caption("Tabella", "Le fasce di valutazione")
    d.table(["Fascia", "Punteggio da", "Giudizio"],
            [[b.code, _num(b.min, x.dec), b.label] for b in sorted(x.policy.bands, key=lambda b: -b.min)],
            [2.5, 3.5, 8], right={1}, keep_together=True)
    return n


def _overview(d: DocBuilder, x: _Ctx, n: int) -> int:
    n += 1
    d.heading(_numbered(n, CHAPTERS[2]), 1)
    sectors, dec = x.sectors, x.dec
    scored = [s for s in sectors if s.get("score") is not None]
    reached = sum(int(s.get("objectives_reached") or 0) for s in sectors)
    partly = sum(int(s.get("objectives_partly") or 0) for s in sectors)
    missed = sum(int(s.get("objectives_not_reached") or 0) for s in sectors)
    unreported = sum(int(s.get("objectives_not_reported") or 0) for s in sectors)
    done = (f"È stato valutato 1 settore su {len(sectors)}" if len(scored) == 1 else
            f"Sono stati valutati {len(scored)} settori su {len(sectors)}")
    text = (f"{done}. Degli obiettivi, {reached} "
            f"{'è stato raggiunto' if reached == 1 else 'sono stati raggiunti'}, {partly} parzialmente, "
            f"{missed} non {'è stato raggiunto' if missed == 1 else 'sono stati raggiunti'}"
            + ("; " + italian.plural(unreported, "obiettivo non è stato rendicontato",
                                     "obiettivi non sono stati rendicontati") if unreported else "")
            + ".")
    d.para(text)
    d.para("Il grafico e la tabella riportano il punteggio di ogni settore (da 0 a 100) e la sua fascia.",
           keep=True)
    top = max(x.policy.bands, key=lambda b: b.min)
    bottom = min(x.policy.bands, key=lambda b: b.min)
    bars = [{"label": f"{s['code']} – {s.get('name', '')}", "score": s.get("score"), "band": s.get("band", ""),
             "note": f"non valutato ({_status(s)})",
             "top": s.get("band") == top.code, "bottom": s.get("band") == bottom.code} for s in sectors]
    groups = charts.chunks(bars)
    for k, group in enumerate(groups):  # the chart, then its table: kept on one page (keep with next)
        part = f" ({k + 1} di {len(groups)})" if len(groups) > 1 else ""
        d.figure(charts.overview_chart(group, [(b.min, b.code) for b in x.policy.bands], dec,
                                       f"Punteggio dei settori{part}", {b.code: b.label for b in x.policy.bands}),
                 f"Punteggio per settore e limiti delle fasce{part}", keep=k == len(groups) - 1)
    rows = []
    for s in sectors:
        band = f"{s.get('band', '')} – {s.get('band_label', '')}" if s.get("band") else "—"
        rows.append([f"{s['code']} – {s.get('name', '')}", s.get("responsabile", "") or "—", _score(s, dec), band,
                     _status(s)])
    d.caption("Tabella", "Il punteggio dei settori")
    d.table(["Settore", "Responsabile", "Punteggio", "Fascia", "Stato"], rows, [5.4, 3.8, 2.1, 2.7, 2.6],
            right={2}, keep_together=True)
    return n


def _objective_cells(o: dict, s: dict, x: _Ctx) -> tuple[str, str, str]:
    """(applied weight, achievement, points) of an objective row, as published, or the word for its
    state: not scored, excluded by the plan, neutralised, not reported, gate."""
    dec = x.dec
    if s.get("score") is None:
        return "—", "—", "—"
    if o.get("achievement") is None:
        word = "neutralizzato" if o.get("neutralised") else "escluso"
        return "—", word, "—"
    counted = [i for i in x.indicators.get(str(o.get("objective")), [])
               if i.get("status") not in ("informative", "not_applicable", "neutralised")]
    reported = not counted or any(i.get("status") != "missing" for i in counted)
    applied = "accesso" if o.get("gate") else _applied(o, dec)
    return applied, _achievement(o, dec) if reported else "non rendicontato", _points(o, dec)


def _indicator_row(i: dict, x: _Ctx) -> tuple[list[str], str]:
    """The cells of an indicator (code, description, target, value, achievement) and the explanation of its
    deviation ("" when it reached its target or is not counted)."""
    status = str(i.get("status", ""))
    value = i.get("actual_it") or i.get("actual") or ""
    fix = x.corrections.get(str(i.get("indicator")))
    if fix is not None:
        value = f"{fix.get('new_text', '')} (dichiarato {fix.get('old_text', '')}, corretto dal Nucleo)"
    if status == "scored":
        ach = _achievement(i, x.dec)
    else:
        ach = label(INDICATOR_STATUS_IT, status)
    if status == "not_available":
        value = "non disponibile"
    deviation = status in ("missing", "invalid", "not_available") or (
        status == "scored" and not _reached(i, x.policy))
    note = ""
    if deviation:
        who = label(SOURCE_IT, i.get("source", "responsabile")) or "Responsabile"
        analysis = _one_line(i.get("analysis"))
        if analysis:
            note = f"Analisi dello scostamento ({who}): {analysis}"
        elif status != "missing":
            note = DEVIATION_NONE if who == "Responsabile" else f"{who}: nessuna analisi dello scostamento."
    target = i.get("target") or "—"
    if status == "informative":
        target = "— (informativo)"
    return [str(i.get("indicator", "")), short(i.get("description", ""), 160), target, value or "—", ach], note


def _per_sector(d: DocBuilder, x: _Ctx, n: int) -> int:
    n += 1
    d.heading(_numbered(n, CHAPTERS[3]), 1)
    d.para("Per ogni settore: il punteggio, gli obiettivi con il peso previsto dal piano, il peso applicato, il "
           "grado di raggiungimento e i punti; poi gli indicatori con target, valore consuntivo e grado di "
           "raggiungimento, e sotto ogni scostamento la spiegazione data nella scheda.")
    for k, s in enumerate(x.sectors, start=1):
        _sector(d, x, s, f"{n}.{k}")
    return n


def _sector(d: DocBuilder, x: _Ctx, s: dict, number: str) -> None:
    code, dec = s["code"], x.dec
    d.heading(f"{number} {code} – {s.get('name', '')}", 2)
    parts: list[tuple[str, str]] = [("Responsabile: ", ""), (s.get("responsabile", "") or "—", ""), (". ", "")]
    if s.get("score") is None:
        parts.append((f"Settore non valutato ({_status(s)}): gli obiettivi sono elencati senza punteggio"
                      + (" e senza indicatori, di cui non è pervenuto alcun valore."
                         if s.get("status") in ("not_received", "conflict") else "."), "i"))
    else:
        parts += [("Punteggio ", ""), (f"{_score(s, dec)} su 100", "b"), (", fascia ", ""),
                  (f"{s.get('band', '')} ({s.get('band_label', '')})", "b"), (". ", "")]
        counts = [italian.plural(int(s.get("objectives_reached") or 0), "obiettivo raggiunto", "obiettivi raggiunti"),
                  italian.plural(int(s.get("objectives_partly") or 0), "parzialmente raggiunto",
                                 "parzialmente raggiunti"),
                  italian.plural(int(s.get("objectives_not_reached") or 0), "non raggiunto", "non raggiunti")]
        if s.get("objectives_not_reported"):
            counts.append(italian.plural(int(s["objectives_not_reported"]), "non rendicontato", "non rendicontati"))
        parts.append(("; ".join(counts) + ".", ""))
    if s.get("note"):
        parts.append((f" {str(s['note'])[0].upper()}{str(s['note'])[1:]}.", "i"))
    if s.get("status") == "scored_with_issues":
        parts.append((" Alcuni valori del settore presentano anomalie, esaminate nell'allegato tecnico.", "i"))
    d.rich(parts, keep=True)
    objectives = x.by_sector.get(code, [])
    rows, total_w = [], 0.0
    for o in objectives:
        applied, ach, pts = _objective_cells(o, s, x)
        total_w += float(o.get("weight") or 0)
        rows.append([str(o.get("objective", "")), short(o.get("title", ""), 110), italian.plain(float(o.get("weight")
                     or 0), 2), applied, ach, pts])
    bold = set()
    if s.get("score") is not None:
        rows.append(["", "Totale", italian.plain(total_w, 2), "100", "", _score(s, dec)])
        bold.add(len(rows) - 1)
    d.caption("Tabella", f"{code} – obiettivi, pesi e punti")
    d.table(["Obiettivo", "Descrizione", "Peso", "Peso applicato", "Raggiun\u00adgimento", "Punti"], rows,
            [1.8, 7.6, 1.3, 1.8, 2.3, 1.8], right={2, 3, 4, 5}, bold_rows=bold, keep_together=len(rows) <= 20)
    if s.get("status") in ("not_received", "conflict"):
        return  # nothing was reported: the indicators would only repeat «non pervenuto» row after row
    rows, notes = [], {}
    for o in objectives:
        for i in x.indicators.get(str(o.get("objective")), []):
            cells, note = _indicator_row(i, x)
            rows.append(cells)
            if note:
                notes[len(rows) - 1] = note
    if rows:
        d.caption("Tabella", f"{code} – indicatori: target, valore consuntivo e scostamenti")
        d.table(["Indicatore", "Descrizione", "Target", "Valore", "Raggiun\u00adgimento"], rows,
                [1.9, 7.2, 2.6, 2.6, 2.3], right={4}, notes=notes, note_from=1)


def _decisions(d: DocBuilder, x: _Ctx, n: int) -> int:
    n += 1
    d.heading(_numbered(n, CHAPTERS[4]), 1)
    if not x.decisions:
        d.para("Il Nucleo di Valutazione non ha preso decisioni che modificano il calcolo: il punteggio di ogni "
               "settore deriva dai soli valori rendicontati.")
        return n
    nucleo = [r for r in x.decisions if r.get("origin") != PLAN]
    own = len(x.decisions) - len(nucleo)
    d.para("Ogni decisione che modifica il calcolo, presa dal Nucleo di Valutazione o prevista dal piano stesso, "
           "con la sua motivazione. Nessuna decisione è applicata senza comparire qui "
           f"({italian.plural(len(nucleo), 'decisione', 'decisioni')} del Nucleo di Valutazione"
           + (f", {italian.plural(own, 'esclusione prevista', 'esclusioni previste')} dal piano" if own else "")
           + ").", keep=True)
    rows = []
    for r in x.decisions:
        what = str(r.get("indicator") or r.get("objective") or r.get("sector", ""))
        if r.get("kind") == "correct":
            what += f" ({r.get('old_text', '')} → {r.get('new_text', '')})"
        who = f"{r.get('by', '')}, {italian.day(r.get('date'))}" if r.get("date") else str(r.get("by", ""))
        effect = str(r.get("effect", ""))
        if not r.get("applied"):
            effect = "non applicata: " + effect if not effect.startswith("non applicata") else effect
        kind = "obiettivo escluso dal piano" if r.get("origin") == PLAN else r.get("kind_it", r.get("kind", ""))
        rows.append([kind, what, r.get("reason", ""), who, effect])
    d.caption("Tabella", "Le decisioni e la loro motivazione")
    d.table(["Decisione", "Oggetto", "Motivazione", "Chi e quando", "Effetto"], rows, [2.6, 2.5, 4.3, 2.9, 4.3])
    return n


def _history(d: DocBuilder, x: _Ctx, n: int) -> int:
    """Each indicator's values over the years (``data["history"]``, see :func:`piao_xls.core.history.history_rows`),
    once the results of earlier years are given. Nothing when they are not."""
    history = x.data.get("history")
    if not isinstance(history, dict) or not history.get("indicators"):
        return n
    years = [int(y) for y in history.get("years") or ()]
    rows_in = [r for r in history["indicators"] if isinstance(r, dict)]
    n += 1
    d.heading(_numbered(n, CHAPTERS[7]), 1)
    first = years[0] if years else x.plan.year
    shown = italian.plural(len(rows_in), "indicatore già misurato", "indicatori già misurati")
    d.para(f"Il confronto con gli anni precedenti, dal {first} al {x.plan.year}, per {shown} in "
           "almeno uno di quegli anni (gli indicatori sono riconosciuti dal codice, che resta lo stesso da un anno "
           "all'altro). Per ogni anno il valore pubblicato: quello validato dal Nucleo di Valutazione quando lo ha "
           "corretto, altrimenti quello rendicontato; «—» se l'indicatore non era nel piano di quell'anno.",
           keep=True)
    rows = []
    for r in rows_in:
        by_year = {int(v.get("year", 0)): str(v.get("value_it") or "") for v in r.get("values") or ()
                   if isinstance(v, dict)}
        rows.append([str(r.get("indicator", "")), short(str(r.get("description", "")), 120),
                     *(short(by_year.get(y, ""), 80) or "—" for y in years)])
    width = max(1.8, min(2.6, 10.0 / max(1, len(years))))
    d.caption("Tabella", "I valori degli indicatori negli anni")
    d.table(["Indicatore", "Descrizione", *map(str, years)], rows, [1.8, 15.2 - width * len(years),
                                                                     *([width] * len(years))])
    notes = [f"{r.get('indicator', '')}: {r.get('note')}" for r in rows_in if r.get("note")]
    if notes:
        d.para("Indicatori descritti diversamente in anni precedenti: " + "; ".join(notes) + ".", italic=True)
    return n


def _revisions(d: DocBuilder, x: _Ctx, n: int) -> int:
    """What changed during the year: the plan's revisions (``data["revisions"]``, see
    :func:`piao_xls.core.revisions.revision_rows`: the act, its date and reason, the changes per objective), once
    the plan has been revised. Nothing when it has not."""
    if not x.revisions:
        return n
    n += 1
    d.heading(_numbered(n, CHAPTERS[5]), 1)
    acts = len(x.revisions)
    d.para(("La Giunta ha modificato il piano una volta" if acts == 1 else f"La Giunta ha modificato il piano "
            f"{acts} volte") + " nel corso dell'anno; i risultati sono misurati sul piano in vigore alla fine "
           "dell'anno. Per ogni modifica: l'atto che l'ha approvata, la motivazione e i cambiamenti per obiettivo.",
           keep=True)
    rows = []
    for r in x.revisions:
        changes = "\n".join(change_text(c) for c in r.get("changes") or () if isinstance(c, dict))
        rows.append([act_text(r), changes or str(r.get("what", "")), str(r.get("reason", ""))])
    late = [f"{c.get('objective', '')} ({c.get('late')})" for r in x.revisions for c in r.get("changes") or ()
            if isinstance(c, dict) and c.get("late")]
    d.caption("Tabella", "Le modifiche al piano approvate nel corso dell'anno")
    d.table(["Atto", "Modifiche", "Motivazione"], rows, [4.2, 8.6, 4.2])
    if late:  # the timeline check (docs/revisions.md): told as the Nucleo reads it in the annex
        d.para(("Un obiettivo è stato assegnato o modificato in ritardo" if len(late) == 1 else
                f"{len(late)} obiettivi sono stati assegnati o modificati in ritardo")
               + " rispetto ai tempi del ciclo della performance: " + "; ".join(late) + ".")
    return n


def _conclusions(d: DocBuilder, x: _Ctx, n: int) -> int:
    n += 1
    d.heading(_numbered(n, CHAPTERS[6]), 1)
    scored = [s for s in x.sectors if s.get("score") is not None]
    bands = sorted(x.policy.bands, key=lambda b: -b.min)
    by_band = [(b, [s for s in scored if s.get("band") == b.code]) for b in bands]
    if scored:
        parts = [f"{len(ss)} in fascia {b.code} ({b.label}): " + ", ".join(s["code"] for s in ss)
                 for b, ss in by_band if ss]
        done = (f"è stato valutato 1 settore su {len(x.sectors)}" if len(scored) == 1 else
                f"sono stati valutati {len(scored)} settori su {len(x.sectors)}")
        d.para(f"Nel {x.plan.year} {done}: " + "; ".join(parts) + ".")
    unscored = [s for s in x.sectors if s.get("score") is None]
    if unscored:
        d.para("Non valutati: " + "; ".join(f"{s['code']} – {s.get('name', '')} ({_status(s)})" for s in unscored)
               + ".")
    deviations = sum(1 for i in x.data["indicators"] if _indicator_row(i, x)[1])
    if deviations:
        lead = (f"Gli indicatori che si discostano dal target sono {deviations}" if deviations > 1 else
                "Un indicatore si discosta dal target")
        d.para(lead).add_run(": la spiegazione dello scostamento data nella scheda è riportata sotto "
                                     "ciascuno, nelle tabelle degli indicatori di ogni settore.")
    else:
        d.para("Tutti gli indicatori valutati hanno raggiunto il target.")
    d.para("La Relazione è trasmessa al Nucleo di Valutazione per la validazione, con l'allegato tecnico che "
           "descrive le verifiche svolte sui valori rendicontati, e alla Giunta per l'approvazione; è pubblicata "
           "nella sezione «Amministrazione trasparente» del sito istituzionale.")
    return n


# --- writing: the index's pages, the PDF, the annex ----------------------------------------------------------

PDF_TIMEOUT = 300


def docx_to_pdf(docx: str | Path, pdf: str | Path, timeout: float = PDF_TIMEOUT) -> Path:
    """Convert with LibreOffice headless, in a throw-away profile (no clash with a running LibreOffice);
    the PDF is moved into place only when complete."""
    return _to_pdf([(Path(docx), Path(pdf))], timeout)[0]


def _to_pdf(pairs: list[tuple[Path, Path]], timeout: float = PDF_TIMEOUT) -> list[Path]:
    """(docx, pdf) pairs converted in one LibreOffice run (one start-up for the Relazione and its annex)."""
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory(prefix="piao-relazione-") as tmp:
        sources = []
        for k, (docx, _) in enumerate(pairs):
            src = Path(tmp) / "in" / f"documento{k}.docx"
            src.parent.mkdir(exist_ok=True)
            shutil.copyfile(docx, src)
            sources.append(src)
        try:
            made = convert(sources, "pdf:writer_pdf_Export", Path(tmp) / "out", timeout)
        except ConversionError as e:
            names = ", ".join(docx.name for docx, _ in pairs)
            raise RelazioneError(f"{names}: il PDF non è stato scritto: {e}") from e
        for m, (_, pdf) in zip(made, pairs, strict=True):
            write_bytes_atomic(pdf, m.read_bytes())
    return [pdf for _, pdf in pairs]


def annex_path(docx_path: str | Path) -> Path:
    """Where the technical annex goes: next to the Relazione, «…-Allegato-tecnico.docx»."""
    p = Path(docx_path)
    return p.with_name(f"{p.stem}-Allegato-tecnico{p.suffix or '.docx'}")


def write_relazione(data: dict, plan: Plan, docx_path: str | Path, pdf: bool = True) -> tuple[Path, Path | None]:
    """Write the Relazione .docx (atomically, the index's pages computed by LibreOffice when it is there) and,
    unless ``pdf`` is False, its .pdf; the technical annex (:func:`annex_path`, .docx and .pdf) goes next to
    them. Returns the Relazione's paths."""
    docx_path = Path(docx_path)
    d = _build(data, plan)
    if find_soffice() is not None:
        try:
            d.set_pages(page_numbers(d.bytes()))  # laid out once by LibreOffice; the same document, with its pages
        except ConversionError as e:
            if pdf:
                raise RelazioneError(f"indice della Relazione: {e}") from e
            d.update_fields_on_open()  # only the .docx was asked for: Word computes the pages on opening
    else:
        d.update_fields_on_open()
    write_bytes_atomic(docx_path, d.bytes())
    extra = annex_path(docx_path)
    write_bytes_atomic(extra, annex.render_annex(data, plan))
    if not pdf:
        return docx_path, None
    out = _to_pdf([(docx_path, docx_path.with_suffix(".pdf")), (extra, extra.with_suffix(".pdf"))])
    return docx_path, out[0]


def results_of(consolidation: Any) -> dict:
    """A consolidation as the Relazione reads it: the document its JSON holds (:func:`to_json_dict`)."""
    return to_json_dict(consolidation)


__all__ = ["CHAPTERS", "RelazioneError", "annex_path", "docx_to_pdf", "load_results", "method_text", "render_docx",
           "results_of", "write_relazione"]
