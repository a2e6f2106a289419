"""The plan workbook: author a plan in Excel or LibreOffice instead of YAML.

One description, :data:`TABLES`, says which sheet holds which table and, for every column, its
Italian header, the key it maps to, its type, its dropdown and its input message. It drives both
directions:

- writing (``plan template`` / ``plan export``): plan -> YAML-shaped data -> rows -> xlsxwriter;
- reading (``plan import`` and every command given a ``.xlsx``/``.ods`` plan): the guard, then
  python-calamine on a new zip of the checked parts -> rows -> the same nested dict the YAML loader
  produces -> :func:`planfile.validate_data`, so the same checks and messages apply, with findings
  naming sheet and cell instead of line.

Rows reference each other by sector code and objective number (``N.``): the importer reports a
row that points to a missing sector or objective as ``PLAN-REFERENCE``.
"""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import yaml

from ..core import italian
from ..core.errors import ERROR, WARNING, Finding
from ..core.model import DEFAULT_BANDS, SOURCES, UNITS, Plan, Rule, ScoringPolicy
from ..core.rules import KINDS, RULE_KINDS
from ..core.targets import TargetError, interpret
from ..sheetio.book import read_book as read_sheets
from ..sheetio.cells import a1, col_name
from ..sheetio.safeopen import UnsafeFile, open_package, parse_xml, read_bounded
from .planfile import _source_for, validate_data

INSTRUCTIONS = "Istruzioni"
#: the plan workbook format. 1: the first (no mark); 2: adds «Pesi degli obiettivi» and «Punteggio massimo se un
#: obiettivo di accesso non è raggiunto» (Punteggio), weights as X (gate), fractions or coefficients. A workbook
#: of an earlier format still imports: columns and rows added since are optional when absent. 3: adds
#: «Missione/programma DUP» (Obiettivi), «Fonte del dato» and the columns of the rule «ogni» (Indicatori). 4: adds
#: «Obiettivo raggiunto da» and «Obiettivo non raggiunto sotto» (Punteggio: the counts of objectives reached).
FORMAT = 4
FORMAT_MARK = "Formato della cartella:"
IMPORT_HEADER = "# Written by piao-xls plan import from"
TEXT, NUMBER, INTEGER, DATE, ENUM, SECTOR, FORMULA = "text", "number", "integer", "date", "enum", "sector", "formula"

KIND_LABELS = {k.name: k.label_it for k in KINDS.values()}
UNIT_LABELS = {"percent": "percentuale", "number": "numero", "amount": "importo (€)", "date": "data",
               "yes_no": "sì/no"}
SOURCE_LABELS = {s: s for s in SOURCES}
AGGREGATION_LABELS = {"weighted_mean": "media ponderata", "min": "minimo"}
WEIGHTS_LABELS = {"percent": "percentuali", "coefficients": "coefficienti"}
PROFILI = ("Qualità", "Qualità (Qualità tecnica)", "Qualità (Tempestività)", "Quantità", "Tempestività",
           "Temporale/qualità", "Efficacia", "Efficienza")
assert set(KIND_LABELS) == set(RULE_KINDS) and set(UNIT_LABELS) == set(UNITS)


@dataclass(frozen=True)
class Column:
    """One column of a table (or one row of a key/value table)."""

    key: str  # key in the row record; dotted for nested mappings ("responsabile.name", "rule.kind")
    header: str  # Italian header (label of the row in a key/value table)
    type: str = TEXT  # text | number | integer | date | enum | sector | formula
    help: str = ""  # Italian input message
    width: float = 18
    labels: dict | None = None  # enum: key -> Italian label shown in the dropdown
    strict: bool = True  # enum: refuse values not in the dropdown
    minimum: float | None = None  # number / integer validation
    maximum: float | None = None
    num_format: str = ""  # number format of the column
    formula: str = ""  # formula: template with {row} (1-based row) -- for live totals, never read back
    since: int = 1  # the workbook format that added it: absent from an older workbook, it is simply empty


@dataclass(frozen=True)
class Table:
    name: str
    sheet: str
    columns: tuple[Column, ...]
    first_col: int = 0
    rows: int = 100  # rows prepared with validation in an empty template
    fields: bool = False  # key/value table: one row per column (label, value, note)

    def col(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)

    def index(self, key: str) -> int:
        return self.first_col + [c.key for c in self.columns].index(key)


_SECTOR_HELP = "Codice del settore, scelto dall'elenco (foglio Settori)."
_OBJ_HELP = "Numero dell'obiettivo (colonna N. del foglio Obiettivi) di questo settore."


def _sector(help: str = _SECTOR_HELP) -> Column:
    return Column("sector", "Settore", SECTOR, help, width=10)


def _obj() -> Column:
    return Column("objective", "N. obiettivo", INTEGER, _OBJ_HELP, width=10, minimum=1, maximum=9999)


_PCT = "Le percentuali si scrivono con il simbolo %: 90%, non 90."

ENTE = Table("ente", "Ente", (
    Column("comune", "Comune", help="Nome del Comune, ad es. Truccazzano (obbligatorio)."),
    Column("year", "Anno", INTEGER, "Anno del piano, ad es. 2025 (obbligatorio). I mesi senza anno nei target "
           "si riferiscono a questo anno.", minimum=2000, maximum=2100, num_format="0"),
    Column("title", "Titolo", help="Titolo mostrato nelle cartelle. Vuoto: «PIAO <anno> - Performance»."),
    Column("ente_sovraordinato", "Ente sovraordinato", help="Facoltativo, ad es. Città Metropolitana di Milano."),
    Column("plan_id", "Identificativo del piano", help="Facoltativo. Vuoto: comune-anno, ad es. truccazzano-2025. "
           "Non cambiarlo dopo aver inviato le cartelle."),
    Column("return_deadline", "Termine di restituzione", DATE, "Facoltativo: data entro cui i Responsabili "
           "restituiscono le cartelle compilate, ad es. 31/01/2026.", num_format="dd/mm/yyyy", since=2),
    Column("contact", "Referente", help="Facoltativo: a chi rivolgersi e a chi restituire le cartelle, ad es. "
           "Servizio Finanziario, ragioneria@comune.it, tel. 02 1234567.", since=2),
), fields=True)

SETTORI = Table("sectors", "Settori", (
    Column("code", "Codice", help="Codice breve e univoco del settore, ad es. SF (obbligatorio). Si usa negli "
           "altri fogli e negli identificativi degli obiettivi (SF-1).", width=10),
    Column("name", "Nome del settore", help="Ad es. Finanziario (obbligatorio).", width=34),
    Column("short_name", "Nome breve (nome del foglio)", help="Nome del foglio Excel del settore: al massimo 31 "
           "caratteri, senza [ ] : * ? / \\. Vuoto: il codice.", width=26),
    Column("responsabile.name", "Responsabile", help="Cognome e nome del Responsabile (obbligatorio).", width=28),
    Column("responsabile.title", "Titolo", help="Ad es. Dott., Rag., Arch. (facoltativo).", width=10),
    Column("responsabile.email", "Email", help="Indirizzo email del Responsabile (facoltativo).", width=28),
), rows=30)

UFFICI = Table("offices", "Uffici", (
    _sector(), Column("office", "Ufficio", help="Nome dell'ufficio del settore.", width=60),
))

PERSONALE = Table("staff", "Personale", (
    _sector(),
    Column("qualifica", "Qualifica", help="Ad es. Istruttore Amministrativo (obbligatoria).", width=40),
    Column("categoria", "Categoria", help="Ad es. C, D (facoltativa).", width=11),
    Column("unita", "Unità", NUMBER, "Numero di persone (anche 0,5 per un part-time).", width=8, minimum=0,
           maximum=10000, num_format="0.##"),
), rows=200)

PERSONALE_TOTALI = Table("staff_totals", "Personale", (
    _sector("Settore di cui si riporta il totale della dotazione organica."),
    Column("staff_total", "Totale stampato", NUMBER, "Facoltativo: il totale come stampato nel PIAO; viene "
           "confrontato con la somma delle unità.", width=12, minimum=0, maximum=10000, num_format="0.##"),
    Column("", "Somma delle unità", FORMULA, width=12, num_format="0.##",
           formula='=IF($F{row}="","",SUMIF($A:$A,$F{row},$D:$D))'),
), first_col=5, rows=30)

ATTIVITA = Table("activities", "Attività", (
    _sector(), Column("text", "Attività", help="Una voce dell'attività consolidata del settore.", width=100),
), rows=300)

OBIETTIVI = Table("objectives", "Obiettivi", (
    _sector(),
    Column("number", "N.", INTEGER, "Numero dell'obiettivo come stampato nella scheda (Obiettivo 6/SF): "
           "univoco nel settore.", width=6, minimum=1, maximum=9999, num_format="0"),
    Column("title", "Titolo", help="Titolo dell'obiettivo (obbligatorio).", width=36),
    Column("weight", "Peso %", NUMBER, "Peso in % nel settore, ad es. 20 (anche 20% o 0,2). I pesi di ogni "
           "settore devono sommare 100: vedere la tabella Totale pesi a destra. Coefficienti (1,0 / 1,2): "
           "indicarlo nel foglio Punteggio. Obiettivo di accesso: X.", width=8, num_format="0.##"),
    Column("stakeholder", "Stakeholder finale", width=22),
    Column("impatto", "Impatto atteso", width=40),
    Column("risultato", "Risultato atteso", width=40),
    Column("tempi", "Tempi di realizzazione", help="Tempi dell'intero obiettivo (facoltativo).", width=20),
    Column("programma", "Programma di bilancio", width=24),
    Column("obiettivo_operativo", "Obiettivo operativo", width=30),
    Column("id", "Id (facoltativo)", help="Vuoto: <codice settore>-<N.>, ad es. SF-6.", width=12),
    Column("dup", "Missione/programma DUP", help="Facoltativo: il codice della missione e del programma del DUP "
           "a cui l'obiettivo è collegato, ad es. 01.03 (il collegamento con il bilancio).", width=14, since=3),
), rows=200)

PESI = Table("weights", "Obiettivi", (
    Column("", "Settore", FORMULA, width=10, formula='=IF(Settori!$A{row}="","",Settori!$A{row})'),
    Column("", "Totale pesi %", FORMULA, width=12, num_format="0.##",
           formula='=IF($M{row}="","",SUMIF($A:$A,$M{row},$D:$D))'),
), first_col=12, rows=30)

MODALITA = Table("steps", "Modalità", (
    _sector(), _obj(),
    Column("text", "Modalità di attuazione", help="Una fase della modalità di attuazione (obbligatoria).",
           width=70),
    Column("tempi", "Tempi", help="Tempi della fase, ad es. Novembre, Entro il 31/12/2025.", width=24),
), rows=300)

INDICATORI = Table("indicators", "Indicatori", (
    _sector(), _obj(),
    Column("profilo", "Profilo", ENUM, "Profilo di performance: scegliere dall'elenco o scrivere.", width=20,
           labels={p: p for p in PROFILI}, strict=False),
    Column("description", "Indicatore di risultato", help="Descrizione dell'indicatore (obbligatoria).", width=44),
    Column("target", "Target (come stampato)", help="Il target come stampato, ad es. 100%, <=0, Novembre, "
           "Entro il 31/12/2025, 90% ≤ x ≤ 100%, +60% rispetto al 2024. Vuoto: informativo.", width=28),
    Column("rule.kind", "Regola (facoltativa)", ENUM, "Solo se il target non si interpreta o va valutato "
           "diversamente. Poi compilare i valori della regola a destra.", width=14, labels=KIND_LABELS),
    Column("rule.unit", "Unità di misura", ENUM, "Unità della regola. Vuoto: data per scadenza, percentuale "
           "per rapporto, altrimenti numero.", width=13, labels=UNIT_LABELS),
    Column("rule.target", "Valore obiettivo", NUMBER, "Per almeno, al massimo, rapporto. " + _PCT, width=11),
    Column("rule.worst", "Valore peggiore accettabile", NUMBER, "Solo al massimo: il punteggio scende a 0 "
           "a questo valore. " + _PCT, width=13),
    Column("rule.low", "Minimo", NUMBER, "Per intervallo: limite inferiore. " + _PCT, width=10),
    Column("rule.high", "Massimo", NUMBER, "Per intervallo: limite superiore. " + _PCT, width=10),
    Column("rule.deadline", "Scadenza", DATE, "Per scadenza: la data, ad es. 31/12/2025.", width=12,
           num_format="dd/mm/yyyy"),
    Column("rule.increase", "Incremento richiesto", NUMBER, "Per incremento: ad es. 60% per +60%.", width=12,
           num_format="0.##%"),
    Column("rule.baseline_year", "Anno di riferimento", INTEGER, "Per incremento: l'anno del valore di "
           "riferimento. Vuoto: l'anno precedente.", width=11, minimum=2000, maximum=2100, num_format="0"),
    Column("source", "Fonte", ENUM, "Chi fornisce il valore. Vuoto: ricavata dalla descrizione (nucleo se "
           "cita l'asseverazione del Nucleo di Valutazione).", width=13, labels=SOURCE_LABELS),
    Column("weight", "Peso nell'obiettivo", NUMBER, "Peso dell'indicatore nel suo obiettivo. Vuoto: 1.",
           width=10, minimum=0, maximum=1000000, num_format="0.##"),
    Column("id", "Id (facoltativo)", help="Vuoto: <id obiettivo>.<posizione>, ad es. SF-6.1.", width=12),
    # parameters of the rule kinds added with the target grammar (core/rules/): optional columns, at the end
    Column("rule.decrease", "Riduzione richiesta", NUMBER, "Per riduzione: ad es. 10% per -10%.", width=12,
           num_format="0.##%", since=2),
    Column("rule.baseline", "Valore di riferimento", NUMBER, "Per incremento e riduzione, quando il piano indica "
           "il valore di partenza: chi rendiconta inserisce solo il valore attuale. " + _PCT, width=12,
           since=2),
    Column("rule.tolerance", "Tolleranza", NUMBER, "Per pari a: lo scarto ammesso dal valore obiettivo. " + _PCT,
           width=10, since=2),
    Column("rule.measure", "Cosa si conta", help="Facoltativo: ad es. giorni, controlli; compare nelle etichette.",
           width=14, since=2),
    Column("data_source", "Fonte del dato", help="Facoltativo: da dove si ricava il valore, ad es. protocollo "
           "informatico, contabilità, gestionale dei tributi.", width=20, since=3),
    Column("previous", "Valore dell'anno precedente", NUMBER, "Facoltativo: il valore dell'anno precedente, se "
           "il piano lo riporta; il rapporto sulla qualità del piano lo confronta con il target. " + _PCT, width=12,
           since=3),
    Column("rule.every", "Ogni (quantità di riferimento)", NUMBER, "Per ogni: la quantità di riferimento, ad es. "
           "50 in «1 sopralluogo ogni 50 pratiche».", width=12, since=3),
    Column("rule.per", "Ogni: cosa si conta", help="Per ogni: cosa conta la quantità di riferimento, ad es. "
           "pratiche.", width=14, since=3),
), rows=400)

PUNTEGGIO = Table("scoring", "Punteggio", (
    Column("late_penalty_per_month", "Penalità per mese di ritardo", NUMBER, "Da 0 a 1: quanto si perde per "
           "ogni 30 giorni (iniziati) di ritardo su una scadenza. Predefinito: 1.", minimum=0, maximum=1),
    Column("aggregation", "Aggregazione degli indicatori", ENUM, "Come si combinano gli indicatori di un "
           "obiettivo: media ponderata (predefinita) o minimo.", labels=AGGREGATION_LABELS),
    Column("threshold", "Soglia dell'obiettivo", NUMBER, "Facoltativa: un obiettivo raggiunto sotto questa "
           "percentuale vale 0, ad es. 50%.", minimum=0, maximum=1, num_format="0.##%"),
    Column("weights", "Pesi degli obiettivi", ENUM, "percentuali (predefinito: i pesi di ogni settore sommano "
           "100) o coefficienti (ad es. 1,0 / 1,2 / 1,4, riportati a 100 in ogni settore).",
           labels=WEIGHTS_LABELS, since=2),
    Column("gate_cap", "Punteggio massimo se un obiettivo di accesso non è raggiunto", NUMBER, "Da 0 a 100. "
           "Predefinito 0: il settore ottiene 0. Gli obiettivi di accesso hanno X come peso.", minimum=0,
           maximum=100, num_format="0.##", since=2),
    Column("precision", "Decimali pubblicati", NUMBER, "Da 0 a 6: decimali di punteggi e percentuali pubblicati; "
           "fascia e soglia si decidono sulla cifra pubblicata. Predefinito: 2.", minimum=0, maximum=6,
           num_format="0", since=2),
    Column("reached", "Obiettivo raggiunto da", NUMBER, "Da 0% a 100%: un obiettivo con questo grado di "
           "raggiungimento (o più) si conta fra i raggiunti. Predefinito: 100%.", minimum=0, maximum=10,
           num_format="0.##%", since=4),
    Column("not_reached_below", "Obiettivo non raggiunto sotto", NUMBER, "Da 0% a 100%: sotto questo grado di "
           "raggiungimento un obiettivo si conta fra i non raggiunti; fra le due soglie, fra i parzialmente "
           "raggiunti. Predefinito: 50%.", minimum=0, maximum=1, num_format="0.##%", since=4),
), fields=True)

FASCE = Table("bands", "Punteggio", (
    Column("min", "Punteggio minimo", NUMBER, "Punteggio minimo (0-100) della fascia; una fascia deve avere 0.",
           width=11, minimum=0, maximum=100, num_format="0.##"),
    Column("code", "Fascia", help="Codice della fascia, ad es. A.", width=8),
    Column("label", "Descrizione", help="Ad es. Eccellente.", width=20),
), first_col=4, rows=12)

TABLES: tuple[Table, ...] = (ENTE, SETTORI, UFFICI, PERSONALE, PERSONALE_TOTALI, ATTIVITA, OBIETTIVI, PESI,
                             MODALITA, INDICATORI, PUNTEGGIO, FASCE)
SHEETS: tuple[str, ...] = tuple(dict.fromkeys(t.sheet for t in TABLES))
#: where each value of the plan is written in the workbook, for findings (filled in below, once TABLES exist)
LABELS: dict[tuple[str, str], str] = {}


def _fields_cell(t: Table, key: str) -> str:
    """The absolute reference of a key/value table's value cell, e.g. "Punteggio!$B$5"."""
    r = 1 + [c.key for c in t.columns].index(key)
    return f"{t.sheet}!${col_name(t.first_col + 1)}${r + 1}"


def _labels() -> dict[tuple[str, str], str]:
    """(plan kind, key) -> where the author writes it in the workbook, for messages (see planfile._Ctx.col)."""
    kinds = {"ente": "plan", "scoring": "scoring", "bands": "band", "sectors": "sector", "staff": "staff",
             "staff_totals": "sector", "objectives": "objective", "steps": "step", "indicators": "indicator"}
    out: dict[tuple[str, str], str] = {}
    for t in TABLES:
        kind = kinds.get(t.name)
        if kind is None:
            continue
        for c in t.columns:
            if not c.key:
                continue
            what = (f"la riga «{c.header}» del foglio {t.sheet}" if t.fields else
                    f"la colonna «{c.header}» del foglio {t.sheet}")
            if "." in c.key:
                sub, key = c.key.split(".", 1)
                out[(sub, key)] = what
            else:
                out[(kind, c.key)] = what
    out[("sector", "objectives")] = "la colonna «Peso %» del foglio Obiettivi"
    out[("objective", "indicators")] = "il foglio Indicatori"
    out[("objective", "steps")] = "il foglio Modalità"
    out.update({("rule-kind", k): v for k, v in KIND_LABELS.items()})
    return out


# --- plan -> data (the YAML shape, only what differs from the defaults) --------------------------

LABELS.update(_labels())


def _n(x: float | int | None):
    return int(x) if isinstance(x, float) and x.is_integer() else x


def _pct(x: float):
    """0.6 -> '60%' when that reads back exactly, else the number."""
    s = f"{x * 100:.10g}%"
    return s if float(s[:-1]) / 100 == x else x


def rule_needed(plan: Plan, ind) -> bool:
    """True when the indicator's rule is not what its target text interprets to (so it must be explicit)."""
    try:
        return interpret(ind.target_text, ind.description, plan.year) != ind.rule
    except TargetError:
        return True


def _rule_data(r: Rule) -> dict:
    d: dict = {"kind": r.kind, "unit": r.unit}
    for k in ("target", "worst", "low", "high"):
        v = getattr(r, k)
        if v is not None:
            d[k] = _pct(v) if r.unit == "percent" else _n(v)
    if r.deadline is not None:
        d["deadline"] = r.deadline
    for k in ("increase", "decrease"):
        if getattr(r, k) is not None:
            d[k] = _pct(getattr(r, k))
    for k in ("baseline", "tolerance"):
        v = getattr(r, k)
        if v is not None:
            d[k] = _pct(v) if r.unit == "percent" and k in KINDS[r.kind].percent_params else _n(v)
    if r.measure is not None:
        d["measure"] = r.measure
    if r.every is not None:
        d["every"] = _n(r.every)
    if r.per is not None:
        d["per"] = r.per
    if r.baseline_year is not None:
        d["baseline_year"] = r.baseline_year
    return d


def plan_to_data(plan: Plan) -> dict:
    """A validated plan as the YAML data it can be written as: defaults left out, rules explicit only
    where the target text does not interpret to them. Loading the data gives the same plan (fingerprint)."""
    d: dict = {"plan_id": plan.plan_id, "comune": plan.comune}
    if plan.ente_sovraordinato:
        d["ente_sovraordinato"] = plan.ente_sovraordinato
    d["year"] = plan.year
    d["title"] = plan.title
    if plan.return_deadline:
        d["return_deadline"] = plan.return_deadline
    if plan.contact:
        d["contact"] = plan.contact
    sc, default = plan.scoring, ScoringPolicy()
    scoring: dict = {}
    if sc.late_penalty_per_month != default.late_penalty_per_month:
        scoring["late_penalty_per_month"] = _n(sc.late_penalty_per_month)
    if sc.aggregation != default.aggregation:
        scoring["aggregation"] = sc.aggregation
    if sc.threshold is not None:
        scoring["threshold"] = _pct(sc.threshold)
    if sc.weights != default.weights:
        scoring["weights"] = sc.weights
    if sc.gate_cap != default.gate_cap:
        scoring["gate_cap"] = _n(sc.gate_cap)
    if sc.precision != default.precision:
        scoring["precision"] = sc.precision
    if sc.reached != default.reached:
        scoring["reached"] = _pct(sc.reached)
    if sc.not_reached_below != default.not_reached_below:
        scoring["not_reached_below"] = _pct(sc.not_reached_below)
    if sc.bands != default.bands:
        scoring["bands"] = [{"min": _n(b.min), "code": b.code, **({"label": b.label} if b.label else {})}
                            for b in sc.bands]
    d["scoring"] = scoring
    sectors = []
    for s in plan.sectors:
        sd: dict = {"code": s.code, "name": s.name}
        if s.short_name != s.code:
            sd["short_name"] = s.short_name
        r = s.responsabile
        sd["responsabile"] = {"name": r.name, **({"title": r.title} if r.title else {}),
                              **({"email": r.email} if r.email else {})}
        if s.offices:
            sd["offices"] = list(s.offices)
        if s.staff:
            sd["staff"] = [{"qualifica": x.qualifica, **({"categoria": x.categoria} if x.categoria else {}),
                            "unita": _n(x.unita)} for x in s.staff]
        if s.staff_total is not None:
            sd["staff_total"] = _n(s.staff_total)
        if s.activities:
            sd["activities"] = list(s.activities)
        objs = []
        for o in s.objectives:
            od: dict = {"number": o.number}
            if o.id != f"{s.code}-{o.number}":
                od["id"] = o.id
            od["title"] = o.title
            od["weight"] = "X" if o.gate else _n(o.coefficient if o.coefficient is not None else o.weight)
            for k in ("stakeholder", "impatto", "risultato"):
                if getattr(o, k):
                    od[k] = getattr(o, k)
            if o.steps:
                od["steps"] = [{"text": st.text, **({"tempi": st.tempi} if st.tempi else {})} for st in o.steps]
            for k in ("tempi", "programma", "obiettivo_operativo", "dup"):
                if getattr(o, k):
                    od[k] = getattr(o, k)
            inds = []
            for pos, i in enumerate(o.indicators, start=1):
                idd: dict = {}
                if i.id != f"{o.id}.{pos}":
                    idd["id"] = i.id
                if i.profilo:
                    idd["profilo"] = i.profilo
                idd["description"] = i.description
                if i.target_text:
                    idd["target"] = i.target_text
                if rule_needed(plan, i):
                    idd["rule"] = _rule_data(i.rule)
                if i.source != _source_for(i.description, i.rule):
                    idd["source"] = i.source
                if i.weight != 1:
                    idd["weight"] = _n(i.weight)
                if i.data_source:
                    idd["data_source"] = i.data_source
                if i.previous is not None:
                    idd["previous"] = _pct(i.previous) if i.rule.unit == "percent" else _n(i.previous)
                inds.append(idd)
            od["indicators"] = inds
            objs.append(od)
        sd["objectives"] = objs
        sectors.append(sd)
    d["sectors"] = sectors
    return d


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False):
        return super().increase_indent(flow, False)  # indent list items under their key


def _str_presenter(dumper: yaml.SafeDumper, s: str):
    return dumper.represent_scalar("tag:yaml.org,2002:str", s)


_Dumper.add_representer(str, _str_presenter)


def plan_to_yaml(plan: Plan, header: str = "") -> str:
    """The plan as YAML text (the format of templates/*.yaml)."""
    text = yaml.dump(plan_to_data(plan), Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=110,
                     default_flow_style=False)
    head = "".join(line if line.startswith("#") else f"# {line}" for line in header.splitlines(keepends=True))
    head += "\n" if head and not head.endswith("\n") else ""
    return head + text


# --- data -> rows (what the workbook shows) ------------------------------------------------------

def data_to_rows(data: dict | None) -> dict[str, list[dict]]:
    """Rows per table (table name -> list of {column key: value}); None gives an empty plan."""
    rows: dict[str, list[dict]] = {t.name: [] for t in TABLES}
    data = data or {}
    rows["ente"] = [{k: data.get(k) for k in ("comune", "year", "title", "ente_sovraordinato", "plan_id",
                                              "return_deadline", "contact")}]
    sc = data.get("scoring") or {}
    default = ScoringPolicy()
    rows["scoring"] = [{
        "late_penalty_per_month": sc.get("late_penalty_per_month", default.late_penalty_per_month),
        "aggregation": sc.get("aggregation", default.aggregation),
        "threshold": sc.get("threshold"),
        "weights": sc.get("weights", default.weights),
        "gate_cap": sc.get("gate_cap", default.gate_cap),
        "precision": sc.get("precision", default.precision),
        "reached": sc.get("reached", default.reached),
        "not_reached_below": sc.get("not_reached_below", default.not_reached_below),
    }]
    bands = sc.get("bands") or [{"min": b.min, "code": b.code, "label": b.label} for b in DEFAULT_BANDS]
    rows["bands"] = [dict(b) for b in bands]
    for s in data.get("sectors") or []:
        code = s.get("code")
        r = s.get("responsabile") or {}
        rows["sectors"].append({"code": code, "name": s.get("name"), "short_name": s.get("short_name"),
                                "responsabile.name": r.get("name"), "responsabile.title": r.get("title"),
                                "responsabile.email": r.get("email")})
        rows["offices"] += [{"sector": code, "office": o} for o in s.get("offices") or []]
        rows["staff"] += [{"sector": code, **x} for x in s.get("staff") or []]
        if s.get("staff_total") is not None:
            rows["staff_totals"].append({"sector": code, "staff_total": s["staff_total"]})
        rows["activities"] += [{"sector": code, "text": a} for a in s.get("activities") or []]
        for o in s.get("objectives") or []:
            n = o.get("number")
            rows["objectives"].append({"sector": code, **{k: v for k, v in o.items()
                                                          if k not in ("steps", "indicators")}})
            for st in o.get("steps") or []:
                st = st if isinstance(st, dict) else {"text": st}
                rows["steps"].append({"sector": code, "objective": n, **st})
            for i in o.get("indicators") or []:
                row = {"sector": code, "objective": n, **{k: v for k, v in i.items() if k != "rule"}}
                row.update({f"rule.{k}": v for k, v in (i.get("rule") or {}).items()})
                rows["indicators"].append(row)
    return rows


# --- rows -> workbook (xlsxwriter) ---------------------------------------------------------------

_FILL = "#FFF2CC"
_HEADER = {"bold": True, "bg_color": "#DDEBF7", "border": 1, "border_color": "#8EA9DB", "text_wrap": True,
           "valign": "vcenter", "font_name": "Calibri", "font_size": 10}
_CELL = {"font_name": "Calibri", "font_size": 10, "valign": "top", "text_wrap": True}


def _bounds_it(c: Column) -> str:
    """«tra 0 e 100», «maggiore o uguale a 0», «minore o uguale a 100»: the bounds of a column in Italian, as the
    column shows its numbers (a percentage as 0%-100%, a year as 2025)."""
    def shown(x: float) -> str:
        if "%" in c.num_format:
            return italian.percent_plain(x)
        if c.num_format == "0" and float(x).is_integer():
            return str(int(x))
        return italian.plain(x)

    lo, hi = c.minimum, c.maximum
    if lo is not None and hi is not None:
        return f"tra {shown(lo)} e {shown(hi)}"
    if lo is not None:
        return f"maggiore o uguale a {shown(lo)}"
    return f"minore o uguale a {shown(hi)}" if hi is not None else ""


def _validation(c: Column, sector_rows: int) -> dict:
    opts: dict = {"input_title": c.header[:32], "input_message": c.help[:255], "ignore_blank": True,
                  "error_type": "stop"}
    if c.type == SECTOR:
        opts.update(validate="list", source=f"=Settori!$A$2:$A${sector_rows + 1}",
                    error_title="Settore non valido", error_message="Scegliere un codice del foglio Settori.")
    elif c.type == ENUM:
        opts.update(validate="list", source=list((c.labels or {}).values()), error_title="Valore non valido",
                    error_message="Scegliere un valore dall'elenco.")
        if not c.strict:
            opts["show_error"] = False
    elif c.type in (NUMBER, INTEGER) and (c.minimum is not None or c.maximum is not None):
        lo = c.minimum if c.minimum is not None else -1e15
        hi = c.maximum if c.maximum is not None else 1e15
        opts.update(validate="integer" if c.type == INTEGER else "decimal", criteria="between",
                    minimum=lo, maximum=hi, error_title="Numero non valido",
                    error_message=f"Scrivere un numero {'intero ' if c.type == INTEGER else ''}{_bounds_it(c)}.")
    elif c.type == DATE:
        opts.update(validate="date", criteria="between", minimum=datetime(2000, 1, 1),
                    maximum=datetime(2100, 12, 31), error_type="warning", error_title="Data",
                    error_message="Scrivere una data, ad es. 31/12/2025.")
    elif c.key == "short_name":
        opts.update(validate="length", criteria="<=", value=31, error_title="Nome troppo lungo",
                    error_message="Il nome del foglio ha al massimo 31 caratteri.")
    else:
        opts["validate"] = "any"
    if not c.help:
        opts.pop("input_title")
        opts.pop("input_message")
    return opts


def _instructions(ws, fmt) -> None:
    kinds = ", ".join(KIND_LABELS.values())
    lines = [
        ("title", "Piano della performance (PIAO, sottosezione 2.2) - cartella per la compilazione"),
        ("plain", "Questa cartella descrive il piano della performance del Comune: settori, Responsabili, "
                  "personale, attività, obiettivi con i loro pesi, indicatori con i target. Si compila in Excel o "
                  "LibreOffice; l'ufficio finanziario la importa con «piao-xls piano importa», che controlla ogni "
                  "valore e segnala gli errori indicando foglio e cella."),
        ("subtitle", "Come compilare"),
        ("plain", "1. Ente: nome del Comune e anno del piano (obbligatori), titolo ed ente sovraordinato."),
        ("plain", "2. Settori: una riga per settore. Il codice (ad es. SF) identifica il settore negli altri fogli; "
                  "il nome breve diventa il nome del foglio Excel del settore (al massimo 31 caratteri)."),
        ("plain", "3. Uffici, Personale, Attività: una riga per voce, scegliendo il settore dall'elenco. In "
                  "Personale, a destra, si può riportare il totale della dotazione organica come stampato."),
        ("plain", "4. Obiettivi: una riga per obiettivo, con il numero (N.) come stampato nella scheda e il peso in % "
                  "nel settore. I pesi di ogni settore devono sommare 100: la tabella «Totale pesi %» a destra li "
                  "somma e diventa rossa quando il totale non è 100. Si accettano anche frazioni (0,2 = 20%) e, "
                  "indicandolo nel foglio Punteggio, coefficienti (1,0 / 1,2 / 1,4), riportati a 100 in ogni "
                  "settore. Un obiettivo di accesso (stampato con peso «X») ha X come peso: non pesa, ma se non è "
                  "raggiunto il settore ottiene 0 (o il massimo indicato nel foglio Punteggio)."),
        ("plain", "   Un settore senza alcun indicatore valutabile è «non valutabile»: nessun punteggio, nessuna "
                  "fascia. Un obiettivo senza indicatori viene segnalato. I target di un anno successivo (il PIAO è "
                  "triennale) restano come stampati e sono indicati come obiettivi di quell'anno."),
        ("plain", "5. Modalità: le fasi di attuazione di ogni obiettivo (settore, N. dell'obiettivo, testo, tempi)."),
        ("plain", "6. Indicatori: una riga per indicatore (settore, N. dell'obiettivo, profilo, descrizione, target "
                  "come stampato). Il target viene interpretato automaticamente: «100%» (almeno), «<=0» (al "
                  "massimo), «90% ≤ x ≤ 100%» (intervallo), «Novembre» o «Entro il 31/12/2025» (scadenza), "
                  "«+60% rispetto al 2024» (incremento), «Sì» (sì/no); vuoto: informativo, non valutato."),
        ("plain", f"   Se il target non si può interpretare, o va valutato diversamente, scegliere una Regola ({kinds}) "
                  "e compilarne i valori: almeno, al massimo, rapporto: Valore obiettivo (al massimo anche il "
                  "Valore peggiore accettabile); intervallo: Minimo e Massimo; scadenza: Scadenza; incremento: "
                  "Incremento richiesto e Anno di riferimento. Il target stampato resta come scritto."),
        ("plain", "   Le percentuali si scrivono con il simbolo %: 90%, non 90. La Fonte si lascia vuota per "
                  "ricavarla dalla descrizione; il Peso nell'obiettivo vuoto vale 1; gli Id vuoti si ricavano "
                  "da settore, N. e posizione (SF-6, SF-6.1)."),
        ("plain", "7. Punteggio: regole di calcolo, pesi (percentuali o coefficienti), punteggio massimo se un "
                  "obiettivo di accesso non è raggiunto, fasce di valutazione; i valori presenti sono quelli "
                  "predefiniti."),
        ("subtitle", "Attenzione"),
        ("plain", "Non rinominare i fogli né le intestazioni delle colonne: servono per leggere la cartella. Le "
                  "righe vuote vengono ignorate. Selezionando una cella compare un messaggio con le indicazioni."),
        ("subtitle", "Dopo la compilazione"),
        ("plain", "piao-xls piano importa piano.xlsx -o piano.yaml   (controlla e mostra come verrà valutato ogni target)"),
        ("plain", "piao-xls piano verifica piano.yaml --verbose   poi   piao-xls genera piano.yaml -o output/"),
        ("note", f"{FORMAT_MARK} {FORMAT} (non modificare questa riga)"),
    ]
    ws.set_column(0, 0, INSTRUCTIONS_WIDTH)
    for r, (style, text) in enumerate(lines):
        if text.startswith("   "):  # a paragraph that continues the numbered item above: indented by its style
            style, text = "indent", text.strip()
        ws.write_string(r, 0, text, fmt[style])
        if style in ("plain", "note", "indent"):  # wrapped text: rows are not auto-fitted on open
            ws.set_row(r, min(409.0, 13.0 * -(-len(text) // int(INSTRUCTIONS_WIDTH * 1.15)) + 3))
    ws.set_portrait()
    ws.set_print_scale(100)


def render_book(data: dict | None) -> bytes:
    """The plan workbook for YAML-shaped plan data (None: an empty template), as .xlsx bytes."""
    import xlsxwriter

    from ..sheetio.docprops import document_time

    rows = data_to_rows(data)
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False,
                                   "strings_to_urls": False})
    wb.set_properties({"title": "Piano della performance", "subject": "PIAO - piano della performance",
                       "author": "piao-xls", "created": document_time().replace(tzinfo=None)})
    fmt = {
        "title": wb.add_format({"font_name": "Calibri", "font_size": 14, "bold": True, "font_color": "#1F4E78"}),
        "subtitle": wb.add_format({"font_name": "Calibri", "font_size": 11, "bold": True}),
        "plain": wb.add_format({**_CELL}),
        "indent": wb.add_format({**_CELL, "align": "left", "indent": 2}),
        "header": wb.add_format(_HEADER),
        "label": wb.add_format({**_CELL, "bold": True}),
        "note": wb.add_format({**_CELL, "italic": True, "font_color": "#595959"}),
        "red": wb.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006", "bold": True}),
        "formula": wb.add_format({**_CELL, "bg_color": "#E2EFDA"}),
    }
    col_fmt: dict[tuple[str, str], object] = {}

    def cfmt(c: Column, num_format: str = ""):
        nf = num_format or c.num_format or ("@" if c.type in (TEXT, SECTOR, ENUM) else "")
        k = (c.type, nf)
        if k not in col_fmt:
            col_fmt[k] = wb.add_format({**_CELL, "bg_color": "#E2EFDA"} if c.type == FORMULA else
                                       {**_CELL, "bg_color": _FILL, **({"num_format": nf} if nf else {})})
        return col_fmt[k]

    n_rows = {t.name: max(t.rows, len(rows[t.name]) + 50) for t in TABLES if not t.fields}
    n_rows["weights"] = n_rows["staff_totals"] = n_rows["sectors"]
    sheets = {INSTRUCTIONS: wb.add_worksheet(INSTRUCTIONS)}
    sheets.update({name: wb.add_worksheet(name) for name in SHEETS})
    _instructions(sheets[INSTRUCTIONS], fmt)
    for name, ws in sheets.items():
        if name != INSTRUCTIONS:  # the Istruzioni: portrait (see _instructions)
            ws.set_landscape()
        ws.set_paper(9)  # A4
        ws.set_margins(**_MARGINS)
        ws.set_header(f"&L&10Piano della performance&R&10{name}")
        ws.set_footer("&R&10Pagina &P di &N")
    weight_totals = _weight_totals(rows)
    lines: dict[tuple[str, int], int] = {}
    for t in TABLES:
        ws = sheets[t.sheet]
        if t.fields:
            _write_fields(ws, t, rows[t.name][0], fmt, cfmt, n_rows["sectors"])
            continue
        last = n_rows[t.name]
        for j, c in enumerate(t.columns):
            col = t.first_col + j
            ws.set_column(col, col, c.width, cfmt(c))
            ws.write_string(0, col, c.header, fmt["header"])
            if c.type == FORMULA:
                for r in range(1, last + 1):
                    value = weight_totals.get((t.name, j, r), "")
                    ws.write_formula(r, col, c.formula.format(row=r + 1), cfmt(c), value)
            else:
                ws.data_validation(1, col, last, col, _validation(c, n_rows["sectors"]))
        for r, row in enumerate(rows[t.name], start=1):
            for j, c in enumerate(t.columns):
                v = row.get(c.key)
                _write_value(ws, r, t.first_col + j, c, v, row, cfmt)
                if isinstance(v, str):  # wrapped text: rows are not auto-fitted on open
                    lines[(t.sheet, r)] = max(lines.get((t.sheet, r), 1), 1 + int(len(v) / (c.width * 1.1)))
        if t.name == "weights":
            tc = a1(1, t.first_col + 1)
            sc = a1(1, t.first_col).replace(col_name(t.first_col), "$" + col_name(t.first_col))
            mode = _fields_cell(PUNTEGGIO, "weights")  # coefficients never total 100; fractions total 1
            ws.conditional_format(1, t.first_col + 1, last, t.first_col + 1, {
                "type": "formula", "criteria": f'=AND({sc}<>"",{mode}<>"{WEIGHTS_LABELS["coefficients"]}",'
                f'ABS({tc}-100)>0.000001,ABS({tc}-1)>0.000001)', "format": fmt["red"]})
        if not t.first_col:
            ws.freeze_panes(1, 2 if t.name in ("objectives", "steps", "indicators") else 1)
        ws.set_row(0, 30)
    for (sheet, r), n in lines.items():
        if n > 1:
            sheets[sheet].set_row(r, min(409.0, 13.0 * n))  # Excel's tallest row
    for name in SHEETS:
        _print_setup(sheets[name], name, {t.name: len(rows[t.name]) for t in TABLES if not t.fields},
                     blank=data is None)
    wb.close()
    return buf.getvalue()


_MARGINS = {"left": 0.3, "right": 0.3, "top": 0.6, "bottom": 0.6}
INSTRUCTIONS_WIDTH = 95  # characters: the Istruzioni print in portrait at 100%
PRINT_SCALE_MIN = 82  # %: 10-point text prints at 8.2 points or more
_PRINTABLE = (841.89 - (_MARGINS["left"] + _MARGINS["right"]) * 72) * 0.98  # points across a landscape A4 page
_DEFAULT_WIDTH = 8.43


def _column_points(width: float) -> float:
    """Printed width of a column at 100%: the larger of Excel's and LibreOffice's (as the forms measure it)."""
    return max((int(width * 7 + 0.5) + 5) * 0.75, width * 5.551 + 3.88)


def sheet_columns(sheet: str) -> tuple[list[float], list[int], int]:
    """(width of each column, the first column of each table, the key columns to repeat) of a plan sheet."""
    widths: dict[int, float] = {}
    starts, keys = [], 0
    for t in TABLES:
        if t.sheet != sheet:
            continue
        starts.append(t.first_col)
        if t.fields:
            widths.update({t.first_col: 30.0, t.first_col + 1: 40.0, t.first_col + 2: 60.0})
            continue
        widths.update({t.first_col + j: c.width for j, c in enumerate(t.columns)})
        if t.first_col == 0 and len(t.columns) > 2 and t.columns[0].type == SECTOR:
            keys = 2 if t.columns[1].key == "objective" or t.columns[1].key == "number" else 1
    return [widths.get(i, _DEFAULT_WIDTH) for i in range(max(widths) + 1)], starts, keys


def print_strips(sheet: str) -> tuple[list[tuple[int, int]], int]:
    """The column ranges printed one page width each, and the print scale (%): a table narrower than a page at
    PRINT_SCALE_MIN prints whole on its own page width; a wider one in strips, its key columns (settore, N.)
    repeated on each."""
    widths, starts, keys = sheet_columns(sheet)
    room = _PRINTABLE * 100 / PRINT_SCALE_MIN
    key_pts = sum(_column_points(w) for w in widths[:keys])
    strips: list[tuple[int, int]] = []
    first, used = 0, 0.0
    for i, w in enumerate(widths):
        pts = _column_points(w)
        if i > first and (used + pts > room or (i in starts and used + sum(
                _column_points(x) for x in widths[i:]) > room)):
            strips.append((first, i - 1))
            first, used = i, key_pts if keys and i > keys else 0.0
        used += pts
    strips.append((first, len(widths) - 1))
    widest = max(sum(_column_points(w) for w in widths[a:b + 1]) + (key_pts if keys and a >= keys else 0)
                 for a, b in strips)
    return strips, max(10, min(100, int(_PRINTABLE * 100 / widest)))


def _print_setup(ws, sheet: str, counts: dict[str, int], blank: bool) -> None:
    """Print each table at a readable size: fixed scale, one table (or strip of a wide one) per page width, the
    header row and the key columns on every page, only the rows in use (no page of empty coloured cells)."""
    strips, scale = print_strips(sheet)
    _, _, keys = sheet_columns(sheet)
    ws.set_print_scale(scale)
    ws.repeat_rows(0)
    if keys and len(strips) > 1:
        ws.repeat_columns(0, keys - 1)
    if len(strips) > 1:
        ws.set_v_pagebreaks([a for a, _ in strips[1:]])
    used = max((counts.get(t.name, 0) for t in TABLES if t.sheet == sheet and not t.fields), default=0)
    fields = max((len(t.columns) for t in TABLES if t.sheet == sheet and t.fields), default=0)
    last_row = max(used + (5 if blank else 0), fields, 1)
    ws.print_area(0, 0, last_row, strips[-1][1])


def _weight_totals(rows: dict) -> dict:
    """Cached values of the live totals in an exported workbook (so readers without recalculation see them)."""
    out = {}
    sums: dict = {}
    for o in rows["objectives"]:
        w = o.get("weight")
        if isinstance(w, (int, float)) and not isinstance(w, bool):  # "X": a gate objective, not summed
            sums[o.get("sector")] = sums.get(o.get("sector"), 0) + float(w)
    staff: dict = {}
    for x in rows["staff"]:
        staff[x.get("sector")] = staff.get(x.get("sector"), 0) + float(x.get("unita") or 0)
    for r, s in enumerate(rows["sectors"], start=1):
        code = s.get("code") or ""
        out[("weights", 0, r)] = code
        out[("weights", 1, r)] = _n(sums.get(code, 0)) if code else ""
    for r, t in enumerate(rows["staff_totals"], start=1):
        out[("staff_totals", 2, r)] = _n(staff.get(t.get("sector"), 0))
    return out


def _write_fields(ws, t: Table, values: dict, fmt, cfmt, sector_rows: int) -> None:
    c0 = t.first_col
    ws.set_column(c0, c0, 30)
    ws.set_column(c0 + 1, c0 + 1, 40)
    ws.set_column(c0 + 2, c0 + 2, 60)
    for j, h in enumerate(("Voce", "Valore", "Note")):
        ws.write_string(0, c0 + j, h, fmt["header"])
    for r, c in enumerate(t.columns, start=1):
        ws.write_string(r, c0, c.header, fmt["label"])
        ws.write_string(r, c0 + 2, c.help, fmt["note"])
        ws.write_blank(r, c0 + 1, None, cfmt(c))
        _write_value(ws, r, c0 + 1, c, values.get(c.key), values, cfmt)
        ws.data_validation(r, c0 + 1, r, c0 + 1, _validation(c, sector_rows))
    ws.freeze_panes(1, 0)


def _write_value(ws, r: int, col: int, c: Column, v, row: dict, cfmt) -> None:
    if v is None or v == "" or c.type == FORMULA:
        return
    if c.type == ENUM and c.labels:
        v = c.labels.get(v, v)
    if isinstance(v, bool):
        v = "Sì" if v else "No"
    if isinstance(v, str):
        if c.type in (NUMBER, INTEGER) and v.strip().endswith("%"):
            try:
                ws.write_number(r, col, float(v.strip()[:-1].replace(",", ".")) / 100, cfmt(c, "0.##%"))
                return
            except ValueError:
                pass
        ws.write_string(r, col, v, cfmt(c))
    elif isinstance(v, (int, float)):
        pct = (c.key in ("rule.target", "rule.worst", "rule.low", "rule.high", "rule.tolerance")
               and row.get("rule.unit") == "percent")
        ws.write_number(r, col, v, cfmt(c, "0.##%" if pct else ""))
    elif isinstance(v, date):
        ws.write_datetime(r, col, datetime.combine(v, datetime.min.time()), cfmt(c, "dd/mm/yyyy"))
    else:
        ws.write_string(r, col, str(v), cfmt(c))


def template_bytes() -> bytes:
    """An empty plan workbook."""
    return render_book(None)


def export_bytes(plan: Plan) -> bytes:
    """The plan workbook filled in with ``plan``."""
    return render_book(plan_to_data(plan))


# --- workbook -> rows -> data --------------------------------------------------------------------

def _norm(s) -> str:
    return " ".join(unicodedata.normalize("NFC", str(s)).split()).casefold()


def _cell_value(v, c: Column):
    """A calamine value as the YAML loader would give it (None for an empty cell)."""
    if isinstance(v, str):
        v = v.strip()
        if not v:
            return None
        if c.type == ENUM and c.labels and c.strict:
            for k, label in c.labels.items():
                if _norm(v) in (_norm(k), _norm(label)):
                    return k
        return v
    if isinstance(v, datetime):
        v = v.date() if v.time() == datetime.min.time() or c.type == DATE else v
    if isinstance(v, timedelta):
        return str(v)
    if c.type == DATE and isinstance(v, (int, float)) and not isinstance(v, bool) and 20000 < v < 80000:
        return date(1899, 12, 30) + timedelta(days=int(v))
    if isinstance(v, float) and v.is_integer() and c.type in (INTEGER, SECTOR, TEXT, ENUM):
        return int(v)
    return v


@dataclass
class _Row:
    index: int  # 0-based row in the sheet
    values: dict  # key -> value (only non-empty)
    cells: dict  # key -> 'B5'


class _Book:
    def __init__(self, path: Path):
        import python_calamine

        self.path = path
        self.file = str(path)
        self.findings: list[Finding] = []
        # the guard first, as for a returned workbook; calamine reads only the checked parts, re-packed
        package = open_package(read_bounded(path), path.name)
        self.package = package
        self.wb = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(package.repacked()))
        self.names = list(self.wb.sheet_names)
        self._cache: dict[str, list[list] | None] = {}

    def err(self, code: str, message: str, sheet: str | None, cell: str | None = None) -> None:
        self.findings.append(Finding(code, ERROR, message, file=self.file, sheet=sheet, cell=cell))

    def sheet(self, name: str) -> list[list] | None:
        if name not in self._cache:
            found = next((n for n in self.names if _norm(n) == _norm(name)), None)
            if found is None:
                self._cache[name] = None
                self.err("PLAN-SCHEMA", f"la cartella non ha il foglio «{name}»: parta da una cartella scritta da "
                         "«piao-xls piano modello» e non rinomini i fogli", name)
            else:
                self._cache[name] = self.wb.get_sheet_by_name(found).to_python(skip_empty_area=False)
        return self._cache[name]

    def fields(self, t: Table) -> tuple[dict, dict]:
        """Key/value table: {key: value}, {key: cell of the value}."""
        data = self.sheet(t.sheet)
        values: dict = {}
        cells: dict = {}
        if data is None:
            return values, cells
        labels = {_norm(r[t.first_col]): i for i, r in enumerate(data) if len(r) > t.first_col and r[t.first_col]}
        for c in t.columns:
            i = labels.get(_norm(c.header))
            if i is None:
                if c.since > 1:  # added by a later format: a workbook of an earlier one leaves it at its default
                    continue
                self.err("PLAN-SCHEMA", f"la riga «{c.header}» non è nella colonna {col_name(t.first_col)}: la "
                         "ripristini copiandola da una cartella nuova («piao-xls piano modello»)", t.sheet,
                         a1(0, t.first_col))
                continue
            cells[c.key] = a1(i, t.first_col + 1)
            row = data[i]
            v = _cell_value(row[t.first_col + 1] if len(row) > t.first_col + 1 else None, c)
            if v is not None:
                values[c.key] = v
        return values, cells

    def table(self, t: Table) -> list[_Row]:
        data = self.sheet(t.sheet)
        if not data:
            return []
        header = [_norm(h) if isinstance(h, str) else "" for h in data[0]]
        cols: dict[str, int] = {}
        for c in t.columns:
            if c.type == FORMULA:
                continue
            try:
                cols[c.key] = header.index(_norm(c.header), t.first_col)
            except ValueError:
                if c.since > 1:  # added by a later format: absent from a workbook of an earlier one
                    continue
                self.err("PLAN-SCHEMA", f"la colonna «{c.header}» non è nella riga delle intestazioni (riga 1): la "
                         "ripristini copiandola da una cartella nuova («piao-xls piano modello»)", t.sheet,
                         a1(0, t.first_col))
        out = []
        for i, raw in enumerate(data[1:], start=1):
            values, cells = {}, {}
            for c in t.columns:
                if c.key not in cols:
                    continue
                j = cols[c.key]
                cells[c.key] = a1(i, j)
                v = _cell_value(raw[j] if j < len(raw) else None, c)
                if v is not None:
                    values[c.key] = v
            if values:
                out.append(_Row(i, values, cells))
        return out

    def formulas(self, name: str, rows: int, col: int) -> dict[int, tuple[str, object]]:
        """Row (0-based) -> (formula text, cached value) of the formula cells of column ``col`` of a sheet:
        calamine gives only a formula's cached value, or nothing when the file holds none."""
        found = next((n for n in self.names if _norm(n) == _norm(name)), None)
        if found is None or rows <= 0 or not _may_hold_formulas(self.package, found):
            return {}
        try:
            sheet = read_sheets(self.package, {found: (rows, col)}).sheet(found)
        except UnsafeFile:
            return {}
        if sheet is None:
            return {}
        return {r: (cell.formula, cell.value) for (r, c), cell in sheet.cells.items() if c == col and cell.formula}

    def close(self) -> None:
        self.wb.close()


def _num_key(v) -> str:
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return _norm(v)


def read_book(path: str | Path) -> tuple[dict | None, dict, list[Finding]]:
    """Read a plan workbook into (YAML-shaped data, where: path -> (sheet, cell), findings).

    The findings are about the workbook's structure and references (PLAN-SCHEMA, PLAN-REFERENCE);
    the plan itself is validated by :func:`check_book`.
    """
    path = Path(path)
    try:
        book = _Book(path)
    except UnsafeFile as e:
        return None, {}, [Finding("PLAN-SCHEMA", ERROR, f"impossibile leggere la cartella del piano: {e.message}",
                                  file=str(path))]
    except Exception as e:  # calamine raises several types for unreadable or foreign files
        return None, {}, [Finding("PLAN-SCHEMA", ERROR, f"impossibile leggere la cartella del piano: {e}",
                                  file=str(path))]
    try:
        return _read(book)
    finally:
        book.close()


def _format_of(book: _Book) -> int:
    """The format a plan workbook states in its Istruzioni sheet (1 when it states none: the first format)."""
    if not any(_norm(n) == _norm(INSTRUCTIONS) for n in book.names):
        return 1
    rows = book.wb.get_sheet_by_name(next(n for n in book.names if _norm(n) == _norm(INSTRUCTIONS))).to_python()
    for r in rows[:200]:
        for v in r[:3]:
            if isinstance(v, str) and v.startswith(FORMAT_MARK):
                digits = v[len(FORMAT_MARK):].split()
                if digits and digits[0].isdigit():
                    return int(digits[0])
    return 1


def _read(book: _Book) -> tuple[dict | None, dict, list[Finding]]:
    fmt = _format_of(book)
    if fmt > FORMAT:
        book.err("PLAN-SCHEMA", f"la cartella è nel formato {fmt}, scritto da una versione di piao-xls più recente di "
                 f"questa (che legge fino al formato {FORMAT}): aggiorni piao-xls", INSTRUCTIONS)
        return None, {}, book.findings
    data: dict = {}
    where: dict = {(): ("Ente", "A1")}
    values, cells = book.fields(ENTE)
    data.update(values)
    where.update({(k,): (ENTE.sheet, c) for k, c in cells.items()})

    # scoring
    values, cells = book.fields(PUNTEGGIO)
    scoring: dict = dict(values)
    where[("scoring",)] = (PUNTEGGIO.sheet, a1(0, 0))
    where.update({("scoring", k): (PUNTEGGIO.sheet, c) for k, c in cells.items()})
    bands = book.table(FASCE)
    if bands:
        scoring["bands"] = [b.values for b in bands]
        where[("scoring", "bands")] = (FASCE.sheet, bands[0].cells.get("min", a1(0, FASCE.first_col)))
        for nb, b in enumerate(bands):
            where[("scoring", "bands", nb)] = (FASCE.sheet, b.cells.get("min", a1(b.index, FASCE.first_col)))
            where.update({("scoring", "bands", nb, k): (FASCE.sheet, c) for k, c in b.cells.items()})
    if scoring:
        data["scoring"] = scoring

    # sectors
    sectors: list[dict] = []
    by_code: dict[str, int] = {}
    where[("sectors",)] = (SETTORI.sheet, "A2")
    i: int | None
    for row in book.table(SETTORI):
        i = len(sectors)
        s: dict = {k: v for k, v in row.values.items() if not k.startswith("responsabile.")}
        resp = {k.split(".", 1)[1]: v for k, v in row.values.items() if k.startswith("responsabile.")}
        if resp:
            s["responsabile"] = resp
        p = ("sectors", i)
        where[p] = (SETTORI.sheet, row.cells.get("code", a1(row.index, 0)))
        for k, c in row.cells.items():
            if k.startswith("responsabile."):
                where[(*p, "responsabile", k.split(".", 1)[1])] = (SETTORI.sheet, c)
            else:
                where[(*p, k)] = (SETTORI.sheet, c)
        where[(*p, "responsabile")] = (SETTORI.sheet, row.cells.get("responsabile.name", where[p][1]))
        if "code" in s:
            by_code.setdefault(_num_key(s["code"]), i)
        sectors.append(s)
    data["sectors"] = sectors

    def sector_of(t: Table, row: _Row) -> int | None:
        code = row.values.get("sector")
        cell = row.cells.get("sector")
        if code is None:
            book.err("PLAN-REFERENCE", f"la riga {row.index + 1} non ha il settore: scelga il codice del settore "
                     "dall'elenco della colonna «Settore» (i codici del foglio Settori)", t.sheet, cell)
            return None
        i = by_code.get(_num_key(code))
        if i is None:
            book.err("PLAN-REFERENCE", f"il settore '{code}' non è nel foglio Settori: lo aggiunga lì o scelga un "
                     "codice esistente nella colonna «Settore»", t.sheet, cell)
        return i

    def put_list(i: int, key: str, t: Table, row: _Row, item, anchor: str) -> int:
        lst = sectors[i].setdefault(key, [])
        j = len(lst)
        lst.append(item)
        p = ("sectors", i, key)
        where.setdefault(p, (t.sheet, row.cells.get(anchor)))
        where[(*p, j)] = (t.sheet, row.cells.get(anchor))
        if isinstance(item, dict):
            where.update({(*p, j, k): (t.sheet, c) for k, c in row.cells.items() if k != "sector"})
        return j

    for row in book.table(UFFICI):
        i = sector_of(UFFICI, row)
        if i is not None and "office" in row.values:
            put_list(i, "offices", UFFICI, row, row.values["office"], "office")
    for row in book.table(PERSONALE):
        i = sector_of(PERSONALE, row)
        if i is not None:
            put_list(i, "staff", PERSONALE, row, {k: v for k, v in row.values.items() if k != "sector"}, "qualifica")
    for row in book.table(PERSONALE_TOTALI):
        i = sector_of(PERSONALE_TOTALI, row)
        if i is not None and "staff_total" in row.values:
            sectors[i]["staff_total"] = row.values["staff_total"]
            where[("sectors", i, "staff_total")] = (PERSONALE_TOTALI.sheet, row.cells["staff_total"])
    for row in book.table(ATTIVITA):
        i = sector_of(ATTIVITA, row)
        if i is not None and "text" in row.values:
            put_list(i, "activities", ATTIVITA, row, row.values["text"], "text")

    # objectives, keyed by (sector index, N.)
    objectives: dict[tuple[int, str], tuple[int, int]] = {}
    orphans: set[tuple[str, str]] = set()  # (sector, N.) of objectives whose sector is missing
    for row in book.table(OBIETTIVI):
        i = sector_of(OBIETTIVI, row)
        if i is None:
            orphans.add((_num_key(row.values.get("sector", "")), _num_key(row.values.get("number", ""))))
            continue
        o = {k: v for k, v in row.values.items() if k != "sector"}
        where.setdefault(("sectors", i, "objectives"), (OBIETTIVI.sheet, row.cells.get("weight")))
        j = put_list(i, "objectives", OBIETTIVI, row, o, "number")
        n = _num_key(o.get("number", j + 1))
        objectives.setdefault((i, n), (i, j))
    totals = _weight_total_cells(book)
    for i, s in enumerate(sectors):
        code = s.get("code")
        if code is not None and _num_key(code) in totals:
            where[("sectors", i, "objectives")] = (PESI.sheet, totals[_num_key(code)])

    def objective_of(t: Table, row: _Row) -> tuple[int, int] | None:
        n = row.values.get("objective")
        if (_num_key(row.values.get("sector", "")), _num_key(n if n is not None else "")) in orphans:
            return None  # its objective's missing sector is reported already
        i = sector_of(t, row)
        if i is None:
            return None
        if n is None:
            book.err("PLAN-REFERENCE", f"la riga {row.index + 1} non ha il numero dell'obiettivo: scriva nella "
                     "colonna «N. obiettivo» il N. dell'obiettivo (foglio Obiettivi)", t.sheet,
                     row.cells.get("objective"))
            return None
        found = objectives.get((i, _num_key(n)))
        if found is None:
            book.err("PLAN-REFERENCE", f"il settore {row.values['sector']} non ha l'obiettivo numero {_num_key(n)} "
                     "nel foglio Obiettivi: corregga la colonna «N. obiettivo» o aggiunga l'obiettivo", t.sheet,
                     row.cells.get("objective"))
        return found

    def attach(t: Table, row: _Row, field: str, item: dict, anchor: str | None) -> tuple | None:
        """Append ``item`` to its objective's ``field`` list; returns its path, None if it has no objective."""
        found = objective_of(t, row)
        if found is None:
            return None
        i, j = found
        items = sectors[i]["objectives"][j].setdefault(field, [])
        items.append(item)
        p = ("sectors", i, "objectives", j, field)
        where.setdefault(p, (t.sheet, anchor))
        where[(*p, len(items) - 1)] = (t.sheet, anchor)
        return (*p, len(items) - 1)

    for row in book.table(MODALITA):
        step = {key: v for key, v in row.values.items() if key in ("text", "tempi")}
        at = attach(MODALITA, row, "steps", step, row.cells.get("text"))
        if at is not None:
            where.update({(*at, key): (MODALITA.sheet, c) for key, c in row.cells.items() if key in ("text", "tempi")})

    rows = book.table(INDICATORI)
    target_col = _column_of(book, INDICATORI, "target")
    formulas = book.formulas(INDICATORI.sheet, max((r.index for r in rows), default=0), target_col) \
        if target_col is not None else {}
    for row in rows:
        ind = {key: v for key, v in row.values.items()
               if key not in ("sector", "objective") and not key.startswith("rule.")}
        if row.index in formulas:
            text = _formula_target(book, row.index, *formulas[row.index], row.cells.get("target"))
            if text is None:
                ind.pop("target", None)
                ind["rule"] = {"kind": "informative"}  # refused (an error is recorded): nothing is read from it
            else:
                ind["target"] = text
        rule = {key[5:]: v for key, v in row.values.items() if key.startswith("rule.")}
        if rule:
            ind["rule"] = rule
        at = attach(INDICATORI, row, "indicators", ind,
                    row.cells.get("id") if "id" in row.values else row.cells.get("target"))
        if at is None:
            continue
        for key, c in row.cells.items():
            if key.startswith("rule."):
                where[(*at, "rule", key[5:])] = (INDICATORI.sheet, c)
            elif key not in ("sector", "objective"):
                where[(*at, key)] = (INDICATORI.sheet, c)
        where[(*at, "rule")] = (INDICATORI.sheet, row.cells.get("rule.kind"))
    where = {k: v for k, v in where.items() if v[1] is not None}
    return data, where, book.findings


_CELL_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")


def _may_hold_formulas(package, sheet: str) -> bool:
    """False when the sheet's part of an .xlsx holds no cell formula (a tag <f>, not <formula1> of a
    validation): the cells are then read once, by calamine. An .ods is always read again (one content part)."""
    if package.kind != "xlsx":
        return True
    try:
        root = parse_xml(package.parts["xl/workbook.xml"])
    except Exception:  # read_book refuses the file with its own message
        return True
    rels = package.rels.get("xl/_rels/workbook.xml.rels", {})
    for el in root.iter():
        if el.tag.rsplit("}", 1)[-1] == "sheet" and el.get("name") == sheet:
            rid = next((v for k, v in el.attrib.items() if k.endswith("}id")), "")
            part = rels.get(rid, ("", ""))[1]
            return part not in package.parts or _CELL_FORMULA.search(package.parts[part]) is not None
    return True


def _column_of(book: _Book, t: Table, key: str) -> int | None:
    """The 0-based column of ``key`` in the header row of a table's sheet."""
    data = book.sheet(t.sheet)
    if not data:
        return None
    header = [_norm(h) if isinstance(h, str) else "" for h in data[0]]
    want = _norm(t.col(key).header)
    return header.index(want) if want in header else None


_CONSTANT = re.compile(r"[-+]?\s*(?:\d[\d.,\s]*)?\d\s*%?")


def _formula_target(book: _Book, r: int, formula: str, cached, cell: str | None) -> str | None:
    """The target text of a target cell that holds a formula (an author typed "= 45.000" or "=90%"): what the
    author sees, said in a warning; None when it cannot be known (an error says exactly why)."""
    text = formula[3:] if formula.lower().startswith("of:") else formula
    text = text.lstrip("=").strip()
    shown = f"={text}"
    if isinstance(cached, float) and cached.is_integer():
        cached = int(cached)
    seen = None if cached is None or cached == "" else (
        cached if isinstance(cached, str) else _it_plain(cached))
    if _CONSTANT.fullmatch(text):
        as_typed = text.replace(" ", "")
        try:
            typed = interpret(as_typed)
        except TargetError:
            typed = None
        value = None if typed is None else typed.target
        if isinstance(cached, (int, float)) and not isinstance(cached, bool) and value is not None and \
                abs(float(cached) - value) > 1e-9 * max(1.0, abs(value)):
            book.err("PLAN-TARGET", f"il target è la formula «{shown}», che il foglio di calcolo calcola come "
                     f"{seen} ma che come testo si legge «{as_typed}»: non si può sapere quale dei due valori "
                     "intendesse l'autore; scriva il target come testo, senza «=»", INDICATORI.sheet, cell)
            return None
        book.findings.append(Finding(
            "PLAN-TARGET-FORMULA", WARNING, f"il target è scritto come formula («{shown}»): letto come il testo "
            f"«{as_typed}», ciò che l'autore ha scritto; lo scriva senza «=»", file=book.file,
            sheet=INDICATORI.sheet, cell=cell))
        return as_typed
    if seen is None:
        book.err("PLAN-TARGET", f"il target è la formula «{shown}» e il file non ne conserva il valore calcolato: "
                 "scriva il target come testo, come stampato nel PIAO", INDICATORI.sheet, cell)
        return None
    book.findings.append(Finding(
        "PLAN-TARGET-FORMULA", WARNING, f"il target è la formula «{shown}»: letto il valore che mostra, «{seen}»; "
        "scriva il target come testo, come stampato nel PIAO", file=book.file, sheet=INDICATORI.sheet, cell=cell))
    return seen


def _it_plain(x) -> str:
    """A cached number as a person sees it in a cell with the General format: 0.9 -> "0,9" (never an exponent)."""
    from ..core.rules import it_number

    return it_number(float(x)).replace(".", "")


def _weight_total_cells(book: _Book) -> dict[str, str]:
    """Sector code -> the cell of its live weight total in the Obiettivi sheet (from cached formula values)."""
    data = book.sheet(PESI.sheet) or []
    out: dict[str, str] = {}
    c = PESI.first_col
    for i, r in enumerate(data[1:], start=1):
        if len(r) > c + 1 and isinstance(r[c], str) and r[c].strip():
            out.setdefault(_num_key(r[c].strip()), a1(i, c + 1))
    return out


def check_book(path: str | Path, read: list | None = None) -> tuple[Plan | None, list[Finding]]:
    """Read and validate a plan workbook: the checks of ``plan check``, findings naming sheet and cell.
    ``read`` receives (indicator, cell) for every target read, as for :func:`planfile.parse_plan`."""
    data, where, findings = read_book(path)
    if data is None:
        return None, findings
    plan, more = validate_data(data, str(path), where, labels=LABELS, read=read)
    findings = findings + more
    if any(f.severity == ERROR for f in findings):
        return None, findings
    return plan, findings

