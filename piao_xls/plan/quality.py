"""The plan-quality report for the Nucleo di Valutazione (``plan check --qualita``): before the year starts, is
every objective measurable, does every target ask for an improvement, do the weights make sense, is the plan
linked to the budget? docs/plan-quality.md lists the checks with an example each.

Every flag is a :class:`~piao_xls.core.errors.Finding` with a ``QUAL-`` code of the registry, a reason in
Italian and the reference it rests on (:data:`CHECKS`). Severity is a warning, or an error for the codes the
plan's ``quality.errors`` setting lists. :func:`quality_workbook` writes the printable report (Italian).
"""

from __future__ import annotations

import io
import re
from collections import Counter
from dataclasses import dataclass
from datetime import date
from difflib import SequenceMatcher

from ..core.errors import CODES, ERROR, SEVERITY_IT, WARNING, Finding
from ..core.model import Indicator, Objective, Plan, Sector
from ..core.rules import it_number
from ..core.years import target_year
from ..sheetio.text import printable

# The articles of D.Lgs. 150/2009 the checks rest on (art. 5, comma 2: the objectives are ...)
_ART5 = "D.Lgs. 150/2009, art. 5, c. 2"
_CORTE = ("orientamento della Corte dei conti: obiettivi senza target misurabili non possono fondare la "
          "retribuzione di risultato")


@dataclass(frozen=True)
class Check:
    """One check of the report: its code, what it verifies (Italian) and the reference it rests on."""

    code: str
    label: str
    reference: str


#: every check, in the order of the report
CHECKS: dict[str, Check] = {c.code: c for c in (
    Check("QUAL-NO-INDICATOR", "Obiettivo senza indicatori",
          f"{_ART5}, lett. b (obiettivi specifici e misurabili); {_CORTE}"),
    Check("QUAL-QUALITATIVE-ONLY", "Obiettivo con soli indicatori qualitativi",
          f"{_ART5}, lett. b (misurabili in termini concreti e chiari); {_CORTE}"),
    Check("QUAL-NO-TARGET", "Indicatore senza target",
          f"{_ART5}, lett. b; art. 10, c. 1, lett. a (il Piano definisce gli indicatori); {_CORTE}"),
    Check("QUAL-NO-SOURCE", "Indicatore senza fonte del dato",
          f"{_ART5}, lett. b (misurabili in termini concreti e chiari: un dato verificabile)"),
    Check("QUAL-NO-UNIT", "Indicatore senza unità di misura",
          f"{_ART5}, lett. b (misurabili in termini concreti e chiari)"),
    Check("QUAL-NOT-BETTER", "Target non migliore del valore di partenza",
          f"{_ART5}, lett. c (significativo miglioramento) e lett. f (confronto con gli anni precedenti)"),
    Check("QUAL-MAINTENANCE", "Target di mantenimento",
          f"{_ART5}, lett. c (obiettivi tali da determinare un significativo miglioramento)"),
    Check("QUAL-ROUTINE", "Obiettivo che descrive l'attività ordinaria",
          f"{_ART5}, lett. a e c (obiettivi rilevanti, di miglioramento, non l'attività consolidata); {_CORTE}"),
    Check("QUAL-FLAT-WEIGHTS", "Pesi che non distinguono gli obiettivi",
          f"{_ART5}; art. 7 (sistema di misurazione e valutazione della performance dell'ente)"),
    Check("QUAL-OBJECTIVES-COUNT", "Numero di obiettivi del settore",
          "art. 7 D.Lgs. 150/2009 (sistema di misurazione e valutazione dell'ente; soglie nella sezione quality "
          "del piano)"),
    Check("QUAL-DEADLINE-YEAR", "Scadenza fuori dall'anno del piano",
          f"{_ART5}, lett. d (obiettivi riferibili a un arco temporale determinato, di norma un anno)"),
    Check("QUAL-DEADLINE-ADOPTION", "Scadenza precedente l'adozione del piano",
          f"{_ART5}, lett. d; art. 6, c. 1, D.L. 80/2021 (il PIAO si adotta entro il 31 gennaio)"),
    Check("QUAL-NO-DUP", "Nessun collegamento con il bilancio (DUP)",
          f"{_ART5}, lett. g (obiettivi correlati alle risorse disponibili); art. 169, c. 3-bis, D.Lgs. 267/2000 "
          "(piano della performance nel PEG, coerente con il DUP)"),
)}
assert all(c in CODES for c in CHECKS)

#: wording copied from routine duties: an objective that only describes them asks for no improvement
ROUTINE_WORDS = ("attività ordinaria", "attività ordinarie", "ordinaria amministrazione", "gestione ordinaria",
                 "garantire il regolare svolgimento", "garantire il regolare funzionamento",
                 "assicurare il regolare svolgimento", "assicurare il regolare funzionamento", "regolare svolgimento",
                 "regolare funzionamento", "normale funzionamento", "garantire la continuità", "assicurare la continuità",
                 "gestione corrente", "attività istituzionale", "attività istituzionali", "adempimenti ordinari",
                 "compiti d'ufficio", "attività di routine")
#: at least this similar to an item of the sector's attività consolidata, an objective's title repeats it
SIMILAR = 0.8
_NUMERIC = ("at_least", "more_than", "threshold", "at_most", "less_than", "equal", "range", "increase", "decrease",
            "maintain")
_HIGHER = ("at_least", "more_than", "threshold")
_LOWER = ("at_most", "less_than")


def _norm(text: str) -> str:
    return " ".join(re.findall(r"[a-zàèéìòóùí0-9']+", (text or "").lower()))


def _n(x: float) -> str:
    return it_number(round(x, 10))


def _value(ind: Indicator, x: float) -> str:
    return f"{_n(x * 100)}%" if ind.rule.unit == "percent" else f"{_n(x)} €" if ind.rule.unit == "amount" else _n(x)


def check_quality(plan: Plan) -> list[Finding]:
    """Every flag of the quality report for ``plan``, in the plan's order (plan-wide flags first)."""
    out: list[Finding] = []
    errors = set(plan.quality.errors)
    book = plan.source.lower().endswith((".xlsx", ".xlsm", ".ods"))

    def flag(code: str, message: str, line: int = 0, sector: Sector | None = None) -> None:
        out.append(Finding(code, ERROR if code in errors else WARNING, message, file=plan.source or None,
                           line=None if book else (line or None), sector=sector.code if sector else None))

    objectives = [o for o in plan.objectives]
    if objectives and not any(o.dup for o in objectives):
        flag("QUAL-NO-DUP", f"nessuno dei {len(objectives)} obiettivi indica la missione e il programma del DUP a "
             "cui è collegato: il piano non mostra il legame con il bilancio; indicarli nel campo «dup» "
             "(colonna «Missione/programma DUP» del foglio Obiettivi)")
    measured = [i for i in plan.indicators if i.rule.kind not in ("informative", "giudizio")]
    sources = any(i.data_source for i in measured)
    if measured and not sources:
        flag("QUAL-NO-SOURCE", f"nessuno dei {_count(len(measured), 'indicatore misurabile', 'indicatori misurabili')} "
             "indica la fonte del dato (campo «data_source», colonna «Fonte del dato» del foglio Indicatori): chi "
             "rendiconta non ha un riferimento verificabile")
    for s in plan.sectors:
        _sector_checks(plan, s, flag)
        for o in s.objectives:
            _objective_checks(plan, s, o, flag)
            for i in o.indicators:
                _indicator_checks(plan, s, o, i, flag, sources)
    return out


def _sector_checks(plan: Plan, s: Sector, flag) -> None:
    q = plan.quality
    counted = [o for o in s.objectives if not o.gate]
    n = len(counted)
    if n < q.min_objectives:
        flag("QUAL-OBJECTIVES-COUNT", f"settore {s.code}: {n} {'obiettivo' if n == 1 else 'obiettivi'}, meno del "
             f"minimo di {q.min_objectives} indicato nelle soglie del piano", s.line, s)
    elif n > q.max_objectives:
        flag("QUAL-OBJECTIVES-COUNT", f"settore {s.code}: {n} obiettivi, più del massimo di {q.max_objectives} "
             "indicato nelle soglie del piano: pesi troppo frazionati", s.line, s)
    weights = {o.coefficient if o.coefficient is not None else o.weight for o in counted}
    if n >= max(2, q.flat_weights_from) and len(weights) == 1:
        w = weights.pop()
        flag("QUAL-FLAT-WEIGHTS", f"settore {s.code}: tutti i {n} obiettivi hanno lo stesso peso ({_n(w)}): i pesi "
             "non distinguono gli obiettivi più rilevanti", s.line, s)


def _objective_checks(plan: Plan, s: Sector, o: Objective, flag) -> None:
    what = f"obiettivo {o.id} «{_short(o.title)}»"
    if not o.indicators:
        flag("QUAL-NO-INDICATOR", f"{what}: non ha indicatori, quindi non è misurabile", o.line, s)
    elif all(i.rule.kind in ("giudizio", "informative") for i in o.indicators) and any(
            i.rule.kind == "giudizio" for i in o.indicators):
        flag("QUAL-QUALITATIVE-ONLY", f"{what}: ha solo indicatori qualitativi (giudizio motivato), nessun target "
             "misurabile", o.line, s)
    text = _norm(" ".join((o.title, o.risultato, o.obiettivo_operativo)))
    found = next((w for w in ROUTINE_WORDS if w in text), None)
    if found:
        flag("QUAL-ROUTINE", f"{what}: la descrizione contiene «{found}», parole dell'attività ordinaria: un "
             "obiettivo chiede un miglioramento rispetto a essa", o.line, s)
        return
    title = _norm(o.title)
    for act in s.activities:
        a = _norm(act)
        if title and a and (title == a or SequenceMatcher(None, title, a).ratio() >= SIMILAR):
            flag("QUAL-ROUTINE", f"{what}: il titolo ripete una voce dell'attività consolidata del settore "
                 f"(«{_short(act)}»): un obiettivo chiede un miglioramento rispetto a essa", o.line, s)
            return


def _indicator_checks(plan: Plan, s: Sector, o: Objective, i: Indicator, flag, sources: bool) -> None:
    what = f"indicatore {i.id}"
    r = i.rule
    if r.kind == "informative":
        flag("QUAL-NO-TARGET", f"{what} («{_short(i.description)}»): non ha un target; è solo informativo", i.line, s)
        return
    if sources and r.kind != "giudizio" and not i.data_source:  # none has one: flagged once for the plan
        flag("QUAL-NO-SOURCE", f"{what} («{_short(i.description)}»): non indica la fonte del dato (campo "
             "«data_source», colonna «Fonte del dato»)", i.line, s)
    if r.kind in _NUMERIC and r.unit == "number" and not r.measure:
        flag("QUAL-NO-UNIT", f"{what}: il target «{_short(i.target_text)}» è un numero senza unità di misura (giorni, "
             "pratiche, controlli...)", i.line, s)
    if r.kind == "maintain" or re.search(r"\bmanten", _norm(i.target_text)):
        flag("QUAL-MAINTENANCE", f"{what}: il target «{_short(i.target_text)}» chiede di mantenere il livello "
             "raggiunto, non di migliorarlo", i.line, s)
    worse = _not_better(i)
    if worse:
        flag("QUAL-NOT-BETTER", f"{what}: {worse}", i.line, s)
    if r.kind == "deadline" and r.deadline is not None:
        y = target_year(i, plan.year)
        if y != plan.year:
            flag("QUAL-DEADLINE-YEAR", f"{what}: la scadenza {r.deadline:%d/%m/%Y} è fuori dall'anno del piano "
                 f"({plan.year})", i.line, s)
        adopted = plan.quality.adopted
        if adopted is not None and r.deadline < adopted:
            flag("QUAL-DEADLINE-ADOPTION", f"{what}: la scadenza {r.deadline:%d/%m/%Y} precede l'adozione del piano "
                 f"({adopted:%d/%m/%Y}): l'obiettivo era già raggiunto o mancato quando è stato assegnato", i.line, s)


def _not_better(i: Indicator) -> str:
    """Why the target asks for no improvement on the value of the year before, or ""."""
    r, prev = i.rule, i.previous
    if prev is None:
        return ""
    said = f"il valore dell'anno precedente è {_value(i, prev)}"
    if r.kind in _HIGHER and r.target is not None and r.target <= prev:
        return f"il target {_value(i, r.target)} non supera il valore dell'anno precedente ({_value(i, prev)})"
    if r.kind in _LOWER and r.target is not None and r.target >= prev:
        return f"il target {_value(i, r.target)} non è sotto il valore dell'anno precedente ({_value(i, prev)})"
    if r.kind == "equal" and r.target is not None and r.target == prev:
        return f"il target {_value(i, r.target)} è uguale al valore dell'anno precedente"
    if r.kind == "range" and r.low is not None and r.low <= prev <= (r.high if r.high is not None else prev):
        return f"{said}, già dentro l'intervallo del target"
    if r.kind == "increase" and r.target is not None and r.target <= prev:
        return f"il valore da raggiungere {_value(i, r.target)} non supera {said.split(' è ')[0]} ({_value(i, prev)})"
    if r.kind == "decrease" and r.target is not None and r.target >= prev:
        return f"il valore da raggiungere {_value(i, r.target)} non è sotto il valore dell'anno precedente " \
               f"({_value(i, prev)})"
    return ""


def _short(text: str, n: int = 60) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= n else text[:n - 3] + "..."


# --- the report: text and workbook --------------------------------------------------------------------------

def _place(plan: Plan, f: Finding) -> tuple[str, str, str]:
    """(sector, objective, indicator) a flag concerns, from its message."""
    m = re.match(r"(obiettivo|indicatore) ([^ :«]+)", f.message)
    if not m:
        return (f.sector or "", "", "")
    ids = {o.id: o for o in plan.objectives}
    if m.group(1) == "obiettivo":
        return (f.sector or "", m.group(2), "")
    obj = next((o.id for o in plan.objectives for i in o.indicators if i.id == m.group(2)), "")
    return (f.sector or "", obj if obj in ids else "", m.group(2))


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def quality_text(plan: Plan, flags: list[Finding]) -> str:
    """The report as the command line prints it: per sector, objective and indicator, reason and reference."""
    errors = sum(f.severity == ERROR for f in flags)
    out = [f"Qualità del piano: {plan.title} (Comune di {plan.comune}, anno {plan.year})",
           f"{_count(len(plan.objectives), 'obiettivo', 'obiettivi')}, "
           f"{_count(len(plan.indicators), 'indicatore', 'indicatori')}: "
           f"{_count(len(flags), 'segnalazione', 'segnalazioni')} ({_count(errors, 'errore', 'errori')}, "
           f"{_count(len(flags) - errors, 'avviso', 'avvisi')})"]
    by_sector: dict[str, list[Finding]] = {}
    for f in flags:
        by_sector.setdefault(f.sector or "", []).append(f)
    names = {s.code: s.name for s in plan.sectors}
    for code, group in by_sector.items():
        out.append(f"Settore {code} - {names.get(code, '')}" if code else "Intero piano")
        for f in group:
            _, obj, ind = _place(plan, f)
            indent = "      " if ind else "    " if obj else "  "
            where = f" (riga {f.line})" if f.line else ""
            out.append(f"{indent}{SEVERITY_IT[f.severity]} {f.code}{where}: {f.message}")
    if not flags:
        out.append("Nessuna segnalazione: ogni obiettivo è misurabile e ogni target chiede un miglioramento.")
    else:
        out.append("Riferimenti:")
        for code in dict.fromkeys(f.code for f in flags):
            out.append(f"  {code} ({CHECKS[code].label}): {CHECKS[code].reference}")
    return "\n".join(out)


def quality_summary(plan: Plan, flags: list[Finding]) -> dict:
    """The report as JSON data (English keys)."""
    return {
        "plan_id": plan.plan_id, "year": plan.year, "objectives": len(plan.objectives),
        "indicators": len(plan.indicators),
        "flags": [f.to_dict(objective=_place(plan, f)[1], indicator=_place(plan, f)[2],
                            check=CHECKS[f.code].label, reference=CHECKS[f.code].reference) for f in flags],
        "counts": dict(Counter(f.code for f in flags)),
    }


def quality_workbook(plan: Plan, flags: list[Finding], today: date | None = None) -> bytes:
    """The printable report for the Nucleo (Italian workbook): the flags, then a summary per check."""
    import xlsxwriter

    today = today or date.today()
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
                                   "strings_to_urls": False})
    wb.set_properties({"title": f"Qualità del piano - {plan.title}", "author": "piao-xls"})
    title = wb.add_format({"bold": True, "font_size": 14})
    sub = wb.add_format({"italic": True, "font_color": "#444444"})
    head = wb.add_format({"bold": True, "bg_color": "#1F4E78", "font_color": "#FFFFFF", "text_wrap": True,
                          "valign": "top", "border": 1})
    cell = wb.add_format({"text_wrap": True, "valign": "top", "border": 1})
    err = wb.add_format({"text_wrap": True, "valign": "top", "border": 1, "bold": True, "font_color": "#9C0006",
                         "bg_color": "#FFC7CE"})
    warn = wb.add_format({"text_wrap": True, "valign": "top", "border": 1, "font_color": "#7F6000",
                          "bg_color": "#FFF2CC"})
    num = wb.add_format({"valign": "top", "border": 1, "num_format": "0"})

    ws = wb.add_worksheet("Qualità del piano")
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
    ws.set_footer("&LQualità del piano - " + _header_text(f"Comune di {plan.comune} {plan.year}") + "&RPagina &P di &N")
    widths = (9, 10, 11, 9, 22, 24, 60, 48)
    for j, w in enumerate(widths):
        ws.set_column(j, j, w)
    ws.write_string(0, 0, printable(f"Qualità del piano della performance - Comune di {plan.comune}, anno {plan.year}"),
                    title)
    errors = sum(f.severity == ERROR for f in flags)
    ws.write_string(1, 0, printable(f"{plan.title}. Rapporto per il Nucleo di Valutazione del {today:%d/%m/%Y}: "
                                    f"{_count(len(plan.objectives), 'obiettivo', 'obiettivi')}, "
                                    f"{_count(len(plan.indicators), 'indicatore', 'indicatori')}, "
                                    f"{_count(len(flags), 'segnalazione', 'segnalazioni')} "
                                    f"({_count(errors, 'errore', 'errori')}, "
                                    f"{_count(len(flags) - errors, 'avviso', 'avvisi')})."), sub)
    headers = ("Settore", "Obiettivo", "Indicatore", "Gravità", "Codice", "Controllo", "Motivo", "Riferimento")
    for j, h in enumerate(headers):
        ws.write_string(3, j, h, head)
    ws.repeat_rows(3)
    ws.freeze_panes(4, 0)
    for r, f in enumerate(flags, start=4):
        sector, obj, ind = _place(plan, f)
        sev = err if f.severity == ERROR else warn
        values = (sector or "piano", obj, ind, SEVERITY_IT[f.severity], f.code, CHECKS[f.code].label, f.message,
                  CHECKS[f.code].reference)
        for j, v in enumerate(values):
            if v:
                ws.write_string(r, j, printable(v), sev if j == 3 else cell)
            else:
                ws.write_blank(r, j, None, cell)
        ws.set_row(r, _height(values, widths))
    if not flags:
        ws.write_string(4, 0, "Nessuna segnalazione.", cell)
    else:
        ws.autofilter(3, 0, 3 + len(flags), len(headers) - 1)

    ws2 = wb.add_worksheet("Riepilogo")
    ws2.set_landscape()
    ws2.set_paper(9)
    ws2.fit_to_pages(1, 0)
    for j, w in enumerate((24, 42, 12, 12, 70)):
        ws2.set_column(j, j, w)
    ws2.write_string(0, 0, "Riepilogo per controllo", title)
    for j, h in enumerate(("Codice", "Controllo", "Segnalazioni", "Gravità", "Riferimento")):
        ws2.write_string(2, j, h, head)
    counts = Counter(f.code for f in flags)
    severity = {f.code: f.severity for f in flags}
    for r, c in enumerate(CHECKS.values(), start=3):
        ws2.write_string(r, 0, c.code, cell)
        ws2.write_string(r, 1, c.label, cell)
        ws2.write_number(r, 2, counts.get(c.code, 0), num)
        sev = ERROR if c.code in plan.quality.errors else severity.get(c.code, WARNING)
        ws2.write_string(r, 3, SEVERITY_IT[sev], err if sev == ERROR else cell)
        ws2.write_string(r, 4, c.reference, cell)
        ws2.set_row(r, _height((c.code, c.label, "", "", c.reference), (24, 42, 12, 12, 70)))
    q = plan.quality
    r = 4 + len(CHECKS)
    ws2.write_string(r, 0, "Soglie usate", wb.add_format({"bold": True}))
    rows = (("Obiettivi per settore: minimo", str(q.min_objectives)),
            ("Obiettivi per settore: massimo", str(q.max_objectives)),
            ("Pesi tutti uguali segnalati da", _count(q.flat_weights_from, "obiettivo", "obiettivi")),
            ("Data di adozione del piano", f"{q.adopted:%d/%m/%Y}" if q.adopted else "non indicata"))
    for k, (label, value) in enumerate(rows, start=r + 1):
        ws2.write_string(k, 0, label, cell)
        ws2.write_string(k, 1, value, cell)
    wb.close()
    return buf.getvalue()


def _height(values, widths) -> float:
    """A row height that shows every wrapped text whole (spreadsheets do not grow rows written by a program):
    the lines the longest cell needs at about 1.15 characters per unit of column width, 15 points each."""
    lines = 1
    for v, w in zip(values, widths, strict=False):
        per_line = max(1, int(w * 1.15) - 2)
        words, n, used = str(v).split(), 1, 0
        for word in words:
            if used and used + 1 + len(word) > per_line:
                n, used = n + 1, len(word)
            else:
                used += len(word) + (1 if used else 0)
        lines = max(lines, n)
    return 15.0 * lines


def _header_text(text: str) -> str:
    """A text for an Excel header or footer: "&" is a control character there."""
    return printable(text).replace("&", "&&")
