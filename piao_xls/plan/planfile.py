"""Plan files: YAML text -> validated :class:`~piao_xls.core.model.Plan`, with findings that name the line.

``parse_plan`` is pure (text in, plan and findings out); ``load_plan`` and ``check_plan`` read the
file. Every problem is collected (not only the first) as a :class:`~piao_xls.core.errors.Finding`.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path

import yaml

from ..core import italian
from ..core.errors import CODES, ERROR, WARNING, Finding
from ..core.gcpause import paused_gc
from ..core.model import (
    SOURCES,
    UNITS,
    Band,
    Indicator,
    Objective,
    Plan,
    QualitySettings,
    Responsabile,
    Rule,
    ScoringPolicy,
    Sector,
    StaffRow,
    Step,
)
from ..core.rules import KINDS, RULE_KINDS, RuleProblem
from ..core.targets import TargetError, interpret, is_deliverable, parse_date
from ..core.years import years_in

BUNDLED_PLAN_NAME = "truccazzano-2025.yaml"
SHEET_NAME_FORBIDDEN = set("[]:*?/\\")


def bundled_plan_path() -> Path:
    """The default plan: ``templates/truccazzano-2025.yaml`` of the checkout; for an installed
    package, ``<prefix>/share/piao-xls/templates/``; else ``templates/`` of the current folder."""
    import sys

    for candidate in (Path(__file__).resolve().parents[2] / "templates" / BUNDLED_PLAN_NAME,
                      Path(sys.prefix) / "share" / "piao-xls" / "templates" / BUNDLED_PLAN_NAME):
        if candidate.exists():
            return candidate
    return Path("templates") / BUNDLED_PLAN_NAME


# --- YAML with line numbers -------------------------------------------------------------

class LMap(dict):
    """A mapping that remembers the line of itself and of each key."""

    line: int = 0
    key_lines: dict


class LList(list):
    line: int = 0
    item_lines: list


class DuplicateKey(Exception):
    def __init__(self, key: str, line: int):
        self.key, self.line = key, line


class _BadYaml(Exception):
    """A YAML document that is valid but refused: an unhashable key, aliases that expand too much, a cycle."""

    def __init__(self, code: str, message: str, line: int):
        self.code, self.message, self.line = code, message, line


class PlanLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]  # libyaml when available: ~10x faster
    def __init__(self, stream):
        super().__init__(stream)
        self._tags: dict = {}

    def resolve(self, kind, value, implicit):
        """The tag of a node, memoised: a plan repeats the same keys and texts thousands of times. (The tag
        depends only on these arguments: this loader has no path resolvers.)"""
        key = (kind, value, implicit)
        tag = self._tags.get(key)
        if tag is None:
            tag = self._tags[key] = super().resolve(kind, value, implicit)
        return tag


_STR_TAG = "tag:yaml.org,2002:str"
_ScalarNode = yaml.ScalarNode


def _construct_map(loader: PlanLoader, node: yaml.MappingNode) -> LMap:
    loader.flatten_mapping(node)
    m = LMap()
    m.line = node.start_mark.line + 1
    m.key_lines = key_lines = {}
    construct = loader.construct_object
    for k_node, v_node in node.value:
        if not isinstance(k_node, _ScalarNode):
            raise _BadYaml("PLAN-YAML", "una chiave deve essere un testo semplice, non un elenco o una tabella",
                           k_node.start_mark.line + 1)
        # a text is its node's value (what construct_object would return, without its bookkeeping); most of
        # a plan's scalars are texts
        k = k_node.value if k_node.tag == _STR_TAG else construct(k_node, deep=True)
        line = k_node.start_mark.line + 1
        if k in m:
            raise DuplicateKey(str(k), line)
        m[k] = v_node.value if v_node.tag == _STR_TAG and type(v_node) is _ScalarNode else construct(v_node, deep=True)
        key_lines[k] = line
    return m


def _construct_seq(loader: PlanLoader, node: yaml.SequenceNode) -> LList:
    construct = loader.construct_object
    lst = LList(n.value if n.tag == _STR_TAG and type(n) is _ScalarNode else construct(n, deep=True)
                for n in node.value)
    lst.line = node.start_mark.line + 1
    lst.item_lines = [n.start_mark.line + 1 for n in node.value]
    return lst


def _construct_timestamp(loader: PlanLoader, node: yaml.ScalarNode):
    """A YAML date or time; one that does not exist (30 February, month 13, hour 25) is a finding on its line."""
    try:
        return yaml.constructor.SafeConstructor.construct_yaml_timestamp(loader, node)
    except (ValueError, OverflowError):
        raise _BadYaml("PLAN-YAML", f"data o ora inesistente «{str(node.value)[:40]}»: controlli giorno, mese e anno "
                       "(il formato è AAAA-MM-GG, ad esempio 2025-12-31)", node.start_mark.line + 1) from None


PlanLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)
PlanLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_map)
PlanLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_seq)

#: how many nodes YAML aliases (``*name``) may add to a plan once expanded: a few repeated rules are fine,
#: a "billion laughs" document (aliases of aliases) is refused before anything is built
ALIAS_EXPANSION_LIMIT = 100_000


def _check_expansion(root: yaml.Node, text_length: int) -> None:
    """Refuse alias cycles and aliases expanding to more than the text itself plus
    :data:`ALIAS_EXPANSION_LIMIT` nodes. Linear in the number of distinct nodes (memoised)."""
    limit = text_length + ALIAS_EXPANSION_LIMIT
    sizes: dict[int, int] = {}
    stack: list[tuple[yaml.Node, int]] = [(root, 0)]
    open_: set[int] = set()
    while stack:  # iterative post-order walk: no recursion limit on deep documents
        node, state = stack.pop()
        key = id(node)
        if isinstance(node, yaml.ScalarNode):
            sizes[key] = 1
            continue
        if key in sizes:
            continue
        children = [x for pair in node.value for x in pair] if isinstance(node, yaml.MappingNode) else node.value
        if state == 0:
            if key in open_:
                raise _BadYaml("PLAN-YAML", "un alias YAML (*nome) rimanda a sé stesso: il piano non avrebbe fine",
                               node.start_mark.line + 1)
            open_.add(key)
            stack.append((node, 1))
            for c in children:
                if id(c) in open_ and not isinstance(c, yaml.ScalarNode):
                    raise _BadYaml("PLAN-YAML", "un alias YAML (*nome) rimanda a sé stesso: il piano non avrebbe "
                                   "fine", c.start_mark.line + 1)
                if id(c) not in sizes:
                    stack.append((c, 0))
            continue
        open_.discard(key)
        total = 1 + sum(sizes[id(c)] for c in children)
        if total > limit:
            raise _BadYaml("PLAN-LIMIT", "gli alias YAML (*nome) di questo punto si espandono in più di "
                           f"{italian.plain(limit)} elementi (\"billion laughs\"): scriva il piano senza alias ripetuti",
                           node.start_mark.line + 1)
        sizes[key] = total


def _load_yaml(text: str):
    loader = PlanLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if "*" in text:  # no alias without a '*': a plain plan skips the walk
            _check_expansion(node, len(text))
        return loader.construct_document(node)
    finally:
        loader.dispose()


# --- building the model ----------------------------------------------------------------

KEYS = {
    "plan": {"plan_id", "comune", "ente_sovraordinato", "year", "title", "scoring", "sectors", "return_deadline",
             "contact", "quality"},
    "quality": {"min_objectives", "max_objectives", "flat_weights_from", "adopted", "errors"},
    "scoring": {"late_penalty_per_month", "aggregation", "threshold", "bands", "weights", "gate_cap", "precision",
                "reached", "not_reached_below"},
    "band": {"min", "code", "label"},
    "sector": {"code", "name", "short_name", "responsabile", "offices", "staff", "staff_total",
               "activities", "objectives"},
    "responsabile": {"name", "title", "email"},
    "staff": {"qualifica", "categoria", "unita"},
    "objective": {"number", "id", "title", "weight", "gate", "stakeholder", "impatto", "risultato", "steps",
                  "tempi", "programma", "obiettivo_operativo", "indicators", "dup"},
    "step": {"text", "tempi"},
    "indicator": {"id", "profilo", "description", "target", "rule", "source", "weight", "data_source", "previous"},
    "rule": {"kind", "unit", "target", "worst", "low", "high", "deadline", "increase", "baseline_year",
             "decrease", "baseline", "tolerance", "measure", "every", "per"},
}

#: Excel's limit for the text of one cell (UTF-16 code units): a longer text could not be written to a workbook
EXCEL_TEXT_LIMIT = 32_767
#: codes and ids end up in file names, cell keys ("SF-6.1|value") and comma-separated lists: letters, digits
#: and single separators (space, dot, dash, underscore) between them; no path separators, "..", commas or pipes
SAFE_ID = re.compile(r"\w+(?:[ .\-]\w+)*")
SAFE_ID_LENGTH = 64
WEIGHT_MODES = {"percent": "percent", "percentuale": "percent", "percentuali": "percent",
                "coefficients": "coefficients", "coefficienti": "coefficients", "coefficiente": "coefficients"}
GATE_WORDS = ("x", "accesso", "obiettivo di accesso", "di accesso")
YES = {"true", "sì", "si", "si'", "yes", "x", "1"}
NO = {"false", "no", "0", ""}


@dataclass
class _Ctx:
    file: str
    findings: list[Finding] = field(default_factory=list)
    #: for data that did not come from YAML (a plan workbook): "line" token -> (sheet, cell)
    where: dict[int, tuple[str, str]] | None = None
    #: for a plan workbook: (kind, key) -> how the author finds it ("colonna «Peso %»"); kind labels
    labels: dict[tuple[str, str], str] | None = None
    #: equal rules share one object: plans repeat a few targets ("100%") thousands of times
    rules: dict[Rule, Rule] = field(default_factory=dict)
    #: when a list: every indicator read, with its place, even if the plan has errors (see ``parse_plan``)
    read: list | None = None

    @property
    def book(self) -> bool:
        return self.where is not None

    def add(self, code: str, message: str, line: int | None, severity: str = ERROR) -> None:
        if self.where is not None:
            sheet, cell = self.where.get(line or 0, (None, None))
            self.findings.append(Finding(code, severity, message, file=self.file, sheet=sheet, cell=cell))
            return
        self.findings.append(Finding(code, severity, message, file=self.file, line=line or None))

    def place(self, line: int) -> str:
        """'riga 12', or "'Obiettivi'!B5" for a plan workbook."""
        if self.where is not None and line in self.where:
            return "'{}'!{}".format(*self.where[line])
        return f"riga {line}"

    def col(self, kind: str, key: str) -> str:
        """Where the author writes ``key``: "la colonna «Peso %»" in a workbook, "la chiave 'weight'" in YAML."""
        if self.labels is not None and (kind, key) in self.labels:
            return self.labels[(kind, key)]
        return f"la chiave '{key}'"

    def kind_label(self, kind: str) -> str:
        if self.labels is not None:
            return self.labels.get(("rule-kind", kind), kind)
        return kind

    # typed getters ---------------------------------------------------------------
    def line_of(self, m: LMap, key: str) -> int:
        return getattr(m, "key_lines", {}).get(key, getattr(m, "line", 0))

    def mapping(self, value, what: str, line: int) -> LMap | None:
        if isinstance(value, dict):
            return value  # type: ignore[return-value]  # the loader builds every mapping as an LMap
        self.add("PLAN-SCHEMA", f"{what} deve essere una tabella di voci (chiave: valore), non {_kind(value)}", line)
        return None

    def check_keys(self, m: LMap, kind: str, what: str) -> None:
        for k in m:
            if k not in KEYS[kind]:
                close = difflib.get_close_matches(str(k), sorted(KEYS[kind]), n=1)
                hint = (f"; forse intendeva '{close[0]}'?" if close else
                        f"; chiavi ammesse: {', '.join(sorted(KEYS[kind]))}")
                self.add("PLAN-UNKNOWN-KEY", f"chiave '{k}' sconosciuta in {what}{hint}", self.line_of(m, k))

    def text(self, m: LMap, key: str, what: str, kind: str, required: bool = False) -> str:
        v = m.get(key)
        if type(v) is str and 0 < len(v) <= EXCEL_TEXT_LIMIT // 2:  # the usual case: a text that fits a cell
            return " ".join(v.split())
        if v is None or v == "":
            if required:
                self.add("PLAN-SCHEMA", f"{what}: manca il valore obbligatorio nel{_art(self.col(kind, key))}",
                         self.line_of(m, key))
            return ""
        if isinstance(v, (dict, list)):
            self.add("PLAN-SCHEMA", f"{what}: nel{_art(self.col(kind, key))} va un testo, non {_kind(v)}",
                     self.line_of(m, key))
            return ""
        if isinstance(v, date):
            return f"{v:%d/%m/%Y}"
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        text = " ".join(str(v).split())
        units = len(text)
        if units > EXCEL_TEXT_LIMIT // 2 and not text.isascii():  # UTF-16 units: up to 2 per character
            units = len(text.encode("utf-16-le", "surrogatepass")) // 2
        if units > EXCEL_TEXT_LIMIT:
            self.add("PLAN-LIMIT", f"{what}: il testo nel{_art(self.col(kind, key))} è lungo {italian.plain(units)} "
                     f"caratteri; una cella di Excel ne contiene al massimo {italian.plain(EXCEL_TEXT_LIMIT)}: lo accorci",
                     self.line_of(m, key))
            return text[:EXCEL_TEXT_LIMIT // 2]
        return text

    def number(self, m: LMap, key: str, what: str, kind: str, required: bool = False,
               percent: bool = False) -> float | None:
        v = m.get(key)
        if v is None or v == "":
            if required:
                self.add("PLAN-SCHEMA", f"{what}: manca il numero obbligatorio nel{_art(self.col(kind, key))}",
                         self.line_of(m, key))
            return None
        raw = v
        if isinstance(v, bool):
            v = None
        elif isinstance(v, str):
            s = v.strip().replace(",", ".")
            try:
                v = float(s[:-1]) / 100 if percent and s.endswith("%") else float(s.rstrip("%"))
            except ValueError:
                v = None
        if not isinstance(v, (int, float)):
            self.add("PLAN-SCHEMA", f"{what}: nel{_art(self.col(kind, key))} va un numero, non «{_short(raw)}»",
                     self.line_of(m, key))
            return None
        try:
            v = float(v)
        except OverflowError:
            v = math.inf
        if not math.isfinite(v):
            self.add("PLAN-NUMBER", f"{what}: «{_short(raw)}» nel{_art(self.col(kind, key))} non è un numero finito "
                     "(NaN o infinito): scriva un numero", self.line_of(m, key))
            return None
        return v

    def seq(self, m: LMap, key: str, what: str, kind: str) -> LList:
        v = m.get(key)
        if v is None:
            empty = LList()
            empty.line, empty.item_lines = m.line, []
            return empty
        if not isinstance(v, list):
            self.add("PLAN-SCHEMA", f"{what}: nel{_art(self.col(kind, key))} va un elenco (righe che iniziano "
                     "con '- ')", self.line_of(m, key))
            empty = LList()
            empty.line, empty.item_lines = m.line, []
            return empty
        return v  # type: ignore[return-value]  # the loader builds every list as an LList

    def identifier(self, value: str, what: str, line: int, kind: str, key: str) -> bool:
        """A code or id must be a safe identifier (it names files, cells and list entries)."""
        if not value:
            return True
        if len(value) <= SAFE_ID_LENGTH and SAFE_ID.fullmatch(value):
            return True
        why = (f"è lungo {len(value)} caratteri (al massimo {SAFE_ID_LENGTH})" if len(value) > SAFE_ID_LENGTH
               else "contiene caratteri non ammessi")
        self.add("PLAN-ID", f"{what}: «{_short(value)}» nel{_art(self.col(kind, key))} {why}; usi solo lettere, "
                 "cifre e, tra queste, un singolo spazio, punto, trattino o trattino basso (niente / \\ .. , | :)",
                 line)
        return False


def _art(col: str) -> str:
    """What follows 'nel' to name a place: "nel" + _art("la colonna «X»") is "nella colonna «X»",
    "nel" + _art("il foglio X") is "nel foglio X"."""
    if col.startswith("la "):
        return col
    if col.startswith("il "):
        return " " + col[3:]
    return " " + col


def _short(v) -> str:
    s = str(v)
    return s if len(s) <= 60 else s[:57] + "..."


def _kind(v) -> str:
    kinds: dict[type, str] = {dict: "una tabella", LMap: "una tabella", list: "un elenco", LList: "un elenco"}
    return kinds.get(
        type(v), f"«{_short(v)}»")


def _item_line(lst, i: int) -> int:
    lines = getattr(lst, "item_lines", None)
    return lines[i] if lines and i < len(lines) else getattr(lst, "line", 0)


def _norm(v) -> str:
    return " ".join(str(v).split()).casefold()


def _rule(ctx: _Ctx, m, what: str, year: int, line: int) -> Rule | None:
    m = ctx.mapping(m, f"la regola dell'{what}", line)
    if m is None:
        return None
    ctx.check_keys(m, "rule", f"la regola dell'{what}")
    kind = ctx.text(m, "kind", what, "rule", required=True)
    if kind and kind not in RULE_KINDS:
        allowed = ", ".join(ctx.kind_label(k) for k in RULE_KINDS)
        ctx.add("PLAN-RULE", f"{what}: la regola '{kind}' non esiste; scelga una di queste: {allowed}",
                ctx.line_of(m, "kind"))
        return None
    k = KINDS[kind]
    unit = ctx.text(m, "unit", what, "rule") or k.default_unit
    if unit not in UNITS:
        ctx.add("PLAN-RULE", f"{what}: l'unità di misura '{unit}' non esiste; scelga una di queste: "
                f"{', '.join(UNITS)}", ctx.line_of(m, "unit"))
        return None
    pct = unit == "percent"
    g = lambda n: ctx.number(m, n, what, "rule", percent=pct and n in k.percent_params)  # noqa: E731
    label = ctx.kind_label(kind)
    dl = None
    if kind == "deadline":
        raw = m.get("deadline")
        dl = raw if isinstance(raw, date) else parse_date(str(raw or ""), year)
        if dl is None:
            ctx.add("PLAN-RULE", f"{what}: la regola «{label}» richiede una data valida nel"
                    f"{_art(ctx.col('rule', 'deadline'))} (ad es. 31/12/{year})", ctx.line_of(m, "deadline"))
            return None
    inc = ctx.number(m, "increase", what, "rule", percent=True)
    dec = ctx.number(m, "decrease", what, "rule", percent=True)
    by = ctx.number(m, "baseline_year", what, "rule")
    measure = ctx.text(m, "measure", what, "rule") or None
    rule = Rule(kind, unit=unit, target=g("target"), worst=g("worst"), low=g("low"), high=g("high"),
                deadline=dl, increase=inc, baseline_year=int(by) if by else None, decrease=dec,
                baseline=g("baseline"), tolerance=g("tolerance"), measure=measure, every=g("every"),
                per=ctx.text(m, "per", what, "rule") or None)
    missing = [n for n in k.required if getattr(rule, n) is None]
    if missing:
        where = " e nel".join(_art(ctx.col("rule", n)) for n in missing)
        ctx.add("PLAN-RULE", f"{what}: la regola «{label}» richiede un valore nel{where}",
                ctx.line_of(m, missing[0]))
        return None
    if kind == "range" and rule.low is not None and rule.high is not None and rule.low > rule.high:
        ctx.add("PLAN-RULE", f"{what}: il minimo {_num_it(rule.low, pct)} dell'intervallo è sopra il massimo "
                f"{_num_it(rule.high, pct)}", ctx.line_of(m, "low"))
        return None
    if kind == "at_most" and rule.worst is not None and rule.target is not None and rule.worst <= rule.target:
        ctx.add("PLAN-RULE", f"{what}: il valore nel{_art(ctx.col('rule', 'worst'))} deve essere sopra il valore nel"
                f"{_art(ctx.col('rule', 'target'))}", ctx.line_of(m, "worst"))
        return None
    try:
        k.check(rule)
    except RuleProblem as e:
        ctx.add("PLAN-RULE", f"{what}: {e}", ctx.line_of(m, e.param or "kind"))
        return None
    return rule


def _num_it(x: float | None, percent: bool = False) -> str:
    if x is None:
        return "—"
    return italian.percent_plain(x, 6) if percent else italian.plain(x)


def _source_for(description: str, rule: Rule | None = None) -> str:
    """Who provides an indicator's value when the plan does not say: the rule's kind may name a default
    (a qualitative judgement: the Nucleo di Valutazione), else the description decides."""
    default = KINDS[rule.kind].default_source if rule is not None else None
    if default:
        return default
    d = description.lower()
    if "asseverazione" in d or "certificazion" in d:
        return "nucleo" if "nucleo di valutazione" in d else "esterno"
    return "responsabile"


#: who provides a value, as the author reads it
SOURCE_IT = {"responsabile": "il Responsabile", "nucleo": "il Nucleo di Valutazione", "esterno": "una fonte esterna"}


def _indicator(ctx: _Ctx, m, obj_id: str, n: int, year: int, line: int) -> Indicator | None:
    what = f"indicatore {n} dell'obiettivo {obj_id}"
    m = ctx.mapping(m, f"l'{what}", line)
    if m is None:
        return None
    ctx.check_keys(m, "indicator", f"l'{what}")
    ind_id = ctx.text(m, "id", what, "indicator")
    ctx.identifier(ind_id, what, ctx.line_of(m, "id"), "indicator", "id")  # a derived id is as safe as its parts
    ind_id = ind_id or f"{obj_id}.{n}"
    what = f"indicatore {ind_id}"
    description = ctx.text(m, "description", what, "indicator", required=True)
    target = ctx.text(m, "target", what, "indicator")
    if "rule" in m:
        rule = _rule(ctx, m["rule"], what, year, ctx.line_of(m, "rule"))
    else:
        try:
            rule = interpret(target, description, year)
        except TargetError as e:
            if ctx.book:
                hint = (f"se il target è scritto come stampato, scelga la regola nel{_art(ctx.col('rule', 'kind'))} "
                        "e ne compili i valori nelle colonne a destra")
            else:
                hint = ("se il target è scritto come stampato, aggiunga una regola esplicita, ad es. "
                        "rule: {kind: at_least, unit: percent, target: 90%}")
            why = str(e).rstrip(".")  # the grammar says what it did not understand; the hint says where to go
            ctx.add("PLAN-TARGET", f"{what}: {why}; {hint}", ctx.line_of(m, "target"))
            rule = None
    if rule is None:
        return None
    rule = ctx.rules.setdefault(rule, rule)
    if rule.kind == "informative" and not target and "rule" not in m:
        ctx.add("PLAN-NO-TARGET", f"l'{what} non ha un target: è informativo e non concorre al punteggio; "
                f"se va valutato, scriva il target nel{_art(ctx.col('indicator', 'target'))}", m.line, WARNING)
    if rule.kind == "deadline" and rule.deadline and (rule.deadline.year < year - 1 or rule.deadline.year > year + 2):
        rel = "precede" if rule.deadline.year < year else "è oltre il triennio del"
        ctx.add("PLAN-YEAR", f"{what}: la scadenza {rule.deadline:%d/%m/%Y} {rel} piano {year}; la controlli",
                ctx.line_of(m, "target"), WARNING)
    source = ctx.text(m, "source", what, "indicator") or _source_for(description, rule)
    if rule.kind == "giudizio" and "rule" not in m:
        ctx.add("PLAN-QUALITATIVE", f"{what}: il target «{_short(target)}» è qualitativo: sarà valutato come giudizio "
                "motivato (una percentuale con la sua motivazione) da chi ne è la fonte, "
                f"{SOURCE_IT.get(source, source)}; se esiste, indichi un target o una regola misurabile",
                ctx.line_of(m, "target"), WARNING)
    if rule.kind == "yes_no" and "rule" not in m and is_deliverable(target):
        ctx.add("PLAN-DELIVERABLE", f"{what}: il target «{_short(target)}» è una sola parola: letto come un prodotto "
                "da realizzare, valutato Sì/No; se è così lo confermi, altrimenti indichi una scadenza (ad es. "
                f"«entro il 30/06/{year}») o un valore", ctx.line_of(m, "target"), WARNING)
    if source not in SOURCES:
        ctx.add("PLAN-SCHEMA", f"{what}: la fonte '{source}' non esiste; scelga una di queste: {', '.join(SOURCES)}",
                ctx.line_of(m, "source"))
    weight = ctx.number(m, "weight", what, "indicator")
    if weight is not None and weight <= 0:
        ctx.add("PLAN-SCHEMA", f"{what}: il peso nel{_art(ctx.col('indicator', 'weight'))} deve essere maggiore "
                "di 0", ctx.line_of(m, "weight"))
        weight = None
    previous = ctx.number(m, "previous", what, "indicator", percent=rule.unit == "percent") if "previous" in m else None
    ind = Indicator(ind_id, ctx.text(m, "profilo", what, "indicator"), description, target, rule, source,
                    weight if weight is not None else 1.0, line=m.line,
                    data_source=ctx.text(m, "data_source", what, "indicator") if "data_source" in m else "",
                    previous=previous)
    if ctx.read is not None:
        ctx.read.append((ind, ctx.place(ctx.line_of(m, "target") if "target" in m or ctx.book else m.line)))
    return ind


def _is_gate_word(v) -> bool:
    return isinstance(v, str) and (_norm(v) in GATE_WORDS or "accesso" in _norm(v))


def _objective(ctx: _Ctx, m, code: str, pos: int, year: int, line: int) -> Objective | None:
    what = f"obiettivo {pos} del settore {code}"
    m = ctx.mapping(m, f"l'{what}", line)
    if m is None:
        return None
    ctx.check_keys(m, "objective", f"l'{what}")
    number = ctx.number(m, "number", what, "objective")
    if number is not None and not (number.is_integer() and 1 <= number <= 9999):
        ctx.add("PLAN-SCHEMA", f"{what}: il numero {_num_it(number)} nel{_art(ctx.col('objective', 'number'))} "
                "deve essere un intero da 1 a 9999, come stampato nella scheda", ctx.line_of(m, "number"))
        number = None
    number = int(number) if number is not None else pos
    obj_id = ctx.text(m, "id", what, "objective")
    ctx.identifier(obj_id, what, ctx.line_of(m, "id"), "objective", "id")  # a derived id is as safe as its parts
    obj_id = obj_id or f"{code}-{number}"
    what = f"obiettivo {obj_id}"
    gate_flag = m.get("gate")
    if gate_flag is not None and not isinstance(gate_flag, bool) and not (
            isinstance(gate_flag, str) and _norm(gate_flag) in YES | NO):
        ctx.add("PLAN-SCHEMA", f"{what}: nel{_art(ctx.col('objective', 'gate'))} va true (obiettivo di accesso) o "
                f"false, non {_kind(gate_flag)}", ctx.line_of(m, "gate"))
    title_says = m.get("weight") in (None, "") and isinstance(m.get("title"), str) and (
        "obiettivo di accesso" in _norm(m["title"]) or "obiettivi di accesso" in _norm(m["title"]))
    gate = _is_gate_word(m.get("weight")) or gate_flag is True or title_says or (
        isinstance(gate_flag, str) and _norm(gate_flag) in YES)
    weight: float | None
    if gate:
        weight = 0.0
        if not _is_gate_word(m.get("weight")) and m.get("weight") not in (None, "", 0):
            w = ctx.number(m, "weight", what, "objective")
            if w:
                ctx.add("PLAN-WEIGHTS", f"l'{what} è un obiettivo di accesso: non ha peso (scriva X nel"
                        f"{_art(ctx.col('objective', 'weight'))}, non {_num_it(w)})", ctx.line_of(m, "weight"))
    else:
        weight = ctx.number(m, "weight", what, "objective", required=True)
        if weight is not None and weight < 0:
            ctx.add("PLAN-SCHEMA", f"{what}: il peso non può essere negativo", ctx.line_of(m, "weight"))
    steps = []
    raw_steps = ctx.seq(m, "steps", what, "objective")
    for i, s in enumerate(raw_steps):
        step_what = f"fase {i + 1} dell'obiettivo {obj_id}"
        if isinstance(s, str):
            steps.append(Step(" ".join(s.split())))
            continue
        s = ctx.mapping(s, f"la {step_what}", _item_line(raw_steps, i))
        if s is not None:
            ctx.check_keys(s, "step", f"la {step_what}")
            steps.append(Step(ctx.text(s, "text", step_what, "step", required=True),
                              ctx.text(s, "tempi", step_what, "step")))
            tempi = steps[-1].tempi
            for y in years_in(tempi):
                if y < year:
                    ctx.add("PLAN-YEAR", f"{step_what}: i tempi «{tempi}» si riferiscono al {y}, prima dell'anno del "
                            f"piano {year} (tenuti come stampati)", ctx.line_of(s, "tempi"), WARNING)
                    break
    tempi = ctx.text(m, "tempi", what, "objective")
    raw_inds = ctx.seq(m, "indicators", what, "objective")
    read = [_indicator(ctx, x, obj_id, i + 1, year, _item_line(raw_inds, i)) for i, x in enumerate(raw_inds)]
    inds = [i for i in read if i is not None]
    title = ctx.text(m, "title", what, "objective", required=True)
    obj = Objective(obj_id, number, title, weight or 0.0,
                    ctx.text(m, "stakeholder", what, "objective"), ctx.text(m, "impatto", what, "objective"),
                    ctx.text(m, "risultato", what, "objective"), tuple(steps), tempi,
                    ctx.text(m, "programma", what, "objective"),
                    ctx.text(m, "obiettivo_operativo", what, "objective"), tuple(inds), line=m.line, gate=gate,
                    dup=ctx.text(m, "dup", what, "objective") if "dup" in m else "")
    if not raw_inds:
        where = ("aggiunga nel foglio Indicatori una riga con il settore " + code + f" e il N. {number}"
                 if ctx.book else "aggiunga almeno un indicatore sotto 'indicators:'")
        ctx.add("PLAN-NO-INDICATOR", f"l'{what} «{_short(title)}» non ha indicatori: non è misurabile e "
                f"{'non può dire se è raggiunto' if gate else 'il suo peso non conta nel punteggio del settore'}; "
                f"{where}", m.line, WARNING)
    elif inds and not obj.evaluable:
        ctx.add("PLAN-UNSCORED-OBJECTIVE", f"l'{what} non ha indicatori valutati (solo informativi): "
                + ("non può dire se è raggiunto" if gate else
                   f"il suo peso ({_num_it(obj.weight)}%) è escluso e il punteggio del settore è riproporzionato "
                   "sugli altri obiettivi"), m.line, WARNING)
    return obj


def _sector(ctx: _Ctx, m, pos: int, year: int, line: int, policy: ScoringPolicy) -> Sector | None:
    what = f"settore {pos}"
    errors_before = sum(f.severity == ERROR for f in ctx.findings)
    m = ctx.mapping(m, f"il {what}", line)
    if m is None:
        return None
    ctx.check_keys(m, "sector", f"il {what}")
    code = ctx.text(m, "code", what, "sector", required=True)
    ctx.identifier(code, what, ctx.line_of(m, "code"), "sector", "code")
    what = f"settore {code or pos}"
    short = ctx.text(m, "short_name", what, "sector") or code
    bad = sorted(SHEET_NAME_FORBIDDEN & set(short))
    if len(short) > 31 or bad or short.startswith("'") or short.endswith("'") or short.lower() == "istruzioni":
        why = f"contiene i caratteri non ammessi {' '.join(bad)}" if bad else (
            f"è lungo {len(short)} caratteri (al massimo 31)" if len(short) > 31 else "non è ammesso")
        ctx.add("PLAN-SHEET-NAME", f"{what}: il nome breve «{short}» {why}; è il nome del foglio Excel del settore",
                ctx.line_of(m, "short_name"))
    resp_m = ctx.mapping(m.get("responsabile") or LMap(), f"il responsabile del {what}",
                         ctx.line_of(m, "responsabile"))
    if resp_m is not None:
        ctx.check_keys(resp_m, "responsabile", f"il responsabile del {what}")
        if not resp_m:
            ctx.add("PLAN-SCHEMA", f"{what}: manca il Responsabile (il nome è obbligatorio, "
                    f"nel{_art(ctx.col('responsabile', 'name'))})", m.line)
        resp = Responsabile(ctx.text(resp_m, "name", what, "responsabile", required=bool(resp_m)),
                            ctx.text(resp_m, "title", what, "responsabile"),
                            ctx.text(resp_m, "email", what, "responsabile"))
    else:
        resp = Responsabile("")
    staff = []
    raw_staff = ctx.seq(m, "staff", what, "sector")
    for i, r in enumerate(raw_staff):
        row_what = f"riga {i + 1} del personale del {what}"
        r = ctx.mapping(r, f"la {row_what}", _item_line(raw_staff, i))
        if r is not None:
            ctx.check_keys(r, "staff", f"la {row_what}")
            staff.append(StaffRow(ctx.text(r, "qualifica", row_what, "staff", required=True),
                                  ctx.text(r, "categoria", row_what, "staff"),
                                  ctx.number(r, "unita", row_what, "staff") or 0.0))
    staff_total = ctx.number(m, "staff_total", what, "sector")
    raw_objs = ctx.seq(m, "objectives", what, "sector")
    read = [_objective(ctx, o, code, i + 1, year, _item_line(raw_objs, i)) for i, o in enumerate(raw_objs)]
    objs = _weights(ctx, [o for o in read if o is not None], what, policy, ctx.line_of(m, "objectives"))
    sector = Sector(code, ctx.text(m, "name", what, "sector", required=True), short, resp,
                    tuple(ctx.text(LMap(x=o), "x", what, "sector") for o in ctx.seq(m, "offices", what, "sector")),
                    tuple(staff), staff_total,
                    tuple(ctx.text(LMap(x=a), "x", what, "sector") for a in ctx.seq(m, "activities", what, "sector")),
                    tuple(objs), line=m.line)
    if staff_total is not None and abs(staff_total - sector.computed_staff_total) > 1e-9:
        ctx.add("PLAN-STAFF-TOTAL", f"{what}: il totale del personale stampato ({_num_it(staff_total)}) è diverso "
                f"dalla somma delle righe ({_num_it(sector.computed_staff_total)})", ctx.line_of(m, "staff_total"),
                WARNING)
    if objs:
        _check_weight_total(ctx, sector, what, policy, ctx.line_of(m, "objectives"))
    if not sector.evaluable and sum(f.severity == ERROR for f in ctx.findings) == errors_before:
        why = ("non ha obiettivi" + (f" (nel foglio Obiettivi non c'è alcuna riga del settore {code})"
                                     if ctx.book else "") if not objs else
               "non ha nulla di misurabile (nessun obiettivo ha un indicatore valutato)")
        ctx.add("PLAN-NOT-EVALUABLE", f"il {what} {why}: sarà «non valutabile», senza punteggio né fascia; se va "
                "valutato, gli dia un obiettivo con un indicatore e un target", m.line, WARNING)
    return sector


#: weights that can only be coefficients: every one at most this, and their total at most COEFFICIENT_TOTAL
#: (a sector of percentages never totals 10; fractions, all at most 1, are left to their own check)
COEFFICIENT_MAX, COEFFICIENT_TOTAL = 5.0, 10.0


def _weights(ctx: _Ctx, objs: list[Objective], what: str, policy: ScoringPolicy, line: int) -> list[Objective]:
    """Objective weights as percentages of the sector: coefficients (1,0 / 1,2 / 1,4) normalised to 100 when the
    plan says so, or when they cannot be anything else (then with a warning that shows the reading);
    fractions (0,2 for 20%, as a percentage cell of a workbook reads) when they add up to 1."""
    raw = [o.weight for o in objs if not o.gate]
    if not raw:
        return objs
    total = sum(raw)

    def scaled(factor: float, coefficients: bool) -> list[Objective]:
        return [o if o.gate else replace(o, weight=round(o.weight * factor, 9) if not coefficients else
                                         o.weight * factor, coefficient=o.weight if coefficients else None)
                for o in objs]

    if policy.weights == "coefficients":
        if total <= 0:
            ctx.add("PLAN-WEIGHTS", f"{what}: i coefficienti di peso degli obiettivi sommano 0: almeno un obiettivo "
                    "deve avere un coefficiente maggiore di 0", line)
            return objs
        return scaled(100 / total, True)
    if all(0 <= w <= 1 for w in raw):
        return scaled(100, False) if abs(total - 1) < 1e-6 else objs  # fractions; else reported as not 100
    if total <= COEFFICIENT_TOTAL and all(0 <= w <= COEFFICIENT_MAX for w in raw):
        out = scaled(100 / total, True)
        shown = ", ".join(f"{o.id}: {_num_it(o.coefficient)} = {_num_it(round(o.weight, 2))}%"
                          for o in out if not o.gate)
        where = (f"nel{_art(ctx.col('scoring', 'weights'))}" if ctx.book else
                 "con 'weights: coefficients' nella sezione 'scoring'")
        ctx.add("PLAN-WEIGHTS", f"i pesi degli obiettivi del {what} sommano {_num_it(total)}: non possono essere "
                f"percentuali e sono letti come coefficienti, riportati a 100 ({shown}); se è così, indichi "
                f"«coefficienti» {where} e questo avviso sparisce, altrimenti corregga i pesi", line, WARNING)
        return out
    return objs


def _check_weight_total(ctx: _Ctx, sector: Sector, what: str, policy: ScoringPolicy, line: int) -> None:
    """Weights must total 100; say plainly why they do not."""
    total = sector.weight_total
    if abs(total - 100) <= 1e-6 or policy.weights == "coefficients" or not any(not o.gate for o in sector.objectives):
        return
    weighted = [o for o in sector.objectives if not o.gate]
    parts = ", ".join(f"{o.id}: {_num_it(o.weight)}" for o in weighted[:12]) + (", ..." if len(weighted) > 12 else "")
    diff = 100 - total
    gap = f"mancano {_num_it(diff)}" if diff > 0 else f"ci sono {_num_it(-diff)} in più"
    msg = f"i pesi degli obiettivi del {what} sommano {_num_it(total)} invece di 100 ({parts}): {gap}"
    if sector.gates:
        msg += "; gli obiettivi di accesso (peso X) non contano nel totale"
    weights = [o.weight for o in weighted]
    where_mode = (f"nel{_art(ctx.col('scoring', 'weights'))}" if ctx.book else "con 'weights: coefficients' "
                  "nella sezione 'scoring'")
    if all(0 <= w <= 1 for w in weights) and abs(total - 1) > 1e-6:
        msg += (f". Sembrano frazioni (0,2 = 20%), ma sommano {_num_it(total)} e non 1: corregga i pesi nel"
                f"{_art(ctx.col('objective', 'weight'))}")
    elif all(0 < w <= 10 for w in weights):
        msg += (". Se il piano stampa coefficienti (ad es. 1,0 / 1,2 / 1,4) e non percentuali, indichi «coefficienti» "
                f"{where_mode}: verranno riportati a 100; altrimenti corregga i pesi")
    else:
        msg += f". Corregga i pesi nel{_art(ctx.col('objective', 'weight'))} perché sommino 100"
    ctx.add("PLAN-WEIGHTS", msg, line)


def _scoring(ctx: _Ctx, m, line: int) -> ScoringPolicy:
    if m is None:
        return ScoringPolicy()
    m = ctx.mapping(m, "la sezione scoring", line)
    if m is None:
        return ScoringPolicy()
    what = "punteggio"
    ctx.check_keys(m, "scoring", "la sezione scoring")
    p = ScoringPolicy()
    late = ctx.number(m, "late_penalty_per_month", what, "scoring")
    if late is not None and not 0 <= late <= 1:
        ctx.add("PLAN-SCORING", f"la penalità per mese di ritardo (late_penalty_per_month, nel"
                f"{_art(ctx.col('scoring', 'late_penalty_per_month'))}) va da 0 a 1",
                ctx.line_of(m, "late_penalty_per_month"))
    agg = ctx.text(m, "aggregation", what, "scoring") or p.aggregation
    if agg not in ("weighted_mean", "min"):
        ctx.add("PLAN-SCORING", f"l'aggregazione (aggregation) '{agg}' non esiste: scelga media ponderata "
                "(weighted_mean) o minimo (min)", ctx.line_of(m, "aggregation"))
        agg = p.aggregation
    thr = ctx.number(m, "threshold", what, "scoring", percent=True)
    if thr is not None and not 0 <= thr <= 1:
        ctx.add("PLAN-SCORING", "la soglia dell'obiettivo (threshold) va da 0 a 1 (o da 0% a 100%)",
                ctx.line_of(m, "threshold"))
    weights = p.weights
    raw_weights = ctx.text(m, "weights", what, "scoring")
    if raw_weights:
        weights = WEIGHT_MODES.get(_norm(raw_weights), "")
        if not weights:
            ctx.add("PLAN-SCORING", f"i pesi degli obiettivi (weights) «{raw_weights}» non sono un modo ammesso: "
                    "scelga percentuali (percent) o coefficienti (coefficients)", ctx.line_of(m, "weights"))
            weights = p.weights
    cap = ctx.number(m, "gate_cap", what, "scoring")
    if cap is not None and not 0 <= cap <= 100:
        ctx.add("PLAN-SCORING", "il punteggio massimo con un obiettivo di accesso non raggiunto (gate_cap) va da 0 "
                "a 100", ctx.line_of(m, "gate_cap"))
        cap = None
    precision = ctx.number(m, "precision", what, "scoring")
    if precision is not None and (not float(precision).is_integer() or not 0 <= precision <= 6):
        ctx.add("PLAN-SCORING", "i decimali pubblicati (precision) vanno da 0 a 6, senza decimali",
                ctx.line_of(m, "precision"))
        precision = None
    reached = ctx.number(m, "reached", what, "scoring", percent=True)
    below = ctx.number(m, "not_reached_below", what, "scoring", percent=True)
    if reached is not None and not 0 < reached <= 10:
        ctx.add("PLAN-SCORING", "la soglia di obiettivo raggiunto (reached) va da 0% (escluso) in su, ad esempio "
                "«100%»", ctx.line_of(m, "reached"))
        reached = None
    if below is not None and not 0 <= below <= (reached if reached is not None else p.reached):
        ctx.add("PLAN-SCORING", "la soglia di obiettivo non raggiunto (not_reached_below) va da 0% alla soglia di "
                "obiettivo raggiunto (reached)", ctx.line_of(m, "not_reached_below"))
        below = None
    bands = p.bands
    if "bands" in m:
        raw = ctx.seq(m, "bands", what, "scoring")
        out = []
        for i, b in enumerate(raw):
            b = ctx.mapping(b, f"la fascia {i + 1}", _item_line(raw, i))
            if b is not None:
                bw = f"fascia {i + 1}"
                ctx.check_keys(b, "band", f"la {bw}")
                out.append(Band(ctx.number(b, "min", bw, "band", required=True) or 0.0,
                                ctx.text(b, "code", bw, "band", required=True),
                                ctx.text(b, "label", bw, "band")))
        if not any(b.min <= 0 for b in out):
            ctx.add("PLAN-SCORING", "le fasce (bands) devono comprenderne una con punteggio minimo 0, così che ogni "
                    "punteggio abbia una fascia", ctx.line_of(m, "bands"))
        bands = tuple(sorted(out, key=lambda b: -b.min))
    return ScoringPolicy(late if late is not None else p.late_penalty_per_month, agg, thr, bands, weights=weights,
                         gate_cap=cap if cap is not None else p.gate_cap,
                         precision=int(precision) if precision is not None else p.precision,
                         reached=reached if reached is not None else p.reached,
                         not_reached_below=below if below is not None else p.not_reached_below)


def parse_plan(text: str, file: str = "<plan>", read: list | None = None) -> tuple[Plan | None, list[Finding]]:
    """Parse and validate plan text. Returns the plan (None on errors) and every finding.

    ``read``: a list that receives ``(indicator, place)`` for every indicator whose target was read, also when
    the plan has errors (so that ``plan import`` can show every interpretation in one pass).
    """
    with paused_gc():  # a large plan is millions of objects: see piao_xls.core.gcpause
        return _parse_plan(text, file, read)


def _parse_plan(text: str, file: str, read: list | None = None) -> tuple[Plan | None, list[Finding]]:
    ctx = _Ctx(file, read=read)
    try:
        data = _load_yaml(text)
    except DuplicateKey as e:
        ctx.add("PLAN-YAML", f"la chiave '{e.key}' compare due volte nella stessa tabella", e.line)
        return None, ctx.findings
    except _BadYaml as e:
        ctx.add(e.code, e.message, e.line)
        return None, ctx.findings
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        msg = f"{e.problem or 'syntax error'}" + (f" ({e.context})" if e.context else "")
        ctx.add("PLAN-YAML", f"errore di sintassi YAML (syntax error): {msg}; controlli il rientro e le virgolette "
                "di questa riga", mark.line + 1 if mark else None)
        return None, ctx.findings
    except yaml.YAMLError as e:
        ctx.add("PLAN-YAML", f"errore YAML: {e}", None)
        return None, ctx.findings
    except RecursionError:
        ctx.add("PLAN-YAML", "il piano è annidato troppo in profondità per essere letto", None)
        return None, ctx.findings
    except (TypeError, ValueError):  # e.g. an unhashable or out-of-range value met while constructing
        ctx.add("PLAN-YAML", "il file non si può leggere come piano: contiene un valore non valido", None)
        return None, ctx.findings
    return _build(ctx, data)


def validate_data(data, file: str, where: dict[tuple, tuple[str, str]],
                  labels: dict[tuple[str, str], str] | None = None,
                  read: list | None = None) -> tuple[Plan | None, list[Finding]]:
    """Validate plan data that did not come from YAML (e.g. a plan workbook) with the same checks.

    ``data`` is the nested dict the YAML loader would produce; ``where`` maps a path such as
    ``("sectors", 0, "objectives", 2, "weight")`` to the ``(sheet, cell)`` it came from. Paths may
    name keys absent from ``data`` (an empty cell): a missing required value is reported there.
    A path without an entry is reported at its closest ancestor's place. ``labels`` maps
    ``(kind, key)`` to how the author finds that value ("la colonna «Peso %»"), so that messages
    point to the column to use, never to a YAML key.
    """
    table: dict[int, tuple[str, str]] = {}
    tokens: dict[tuple[str, str], int] = {}

    def token(path: tuple) -> int:
        while path not in where and path:
            path = path[:-1]
        if path not in where:
            return 0
        return tokens.setdefault(where[path], len(tokens) + 1)

    children: dict[tuple, set] = {}
    for p in where:
        if p:
            children.setdefault(p[:-1], set()).add(p[-1])

    def convert(v, path: tuple):
        if isinstance(v, dict):
            m = LMap((k, convert(x, (*path, k))) for k, x in v.items())
            m.line = token(path)
            m.key_lines = {k: token((*path, k)) for k in children.get(path, set()) | set(v)}
            return m
        if isinstance(v, list):
            lst = LList(convert(x, (*path, i)) for i, x in enumerate(v))
            lst.line = token(path)
            lst.item_lines = [token((*path, i)) for i in range(len(v))]
            return lst
        return v

    converted = convert(data, ())
    table.update({t: place for place, t in tokens.items()})
    return _build(_Ctx(file, where=table, labels=labels if labels is not None else {}, read=read), converted)


def _build(ctx: _Ctx, data) -> tuple[Plan | None, list[Finding]]:
    file = ctx.file
    m = ctx.mapping(data, "il piano", 1)
    if m is None:
        return None, ctx.findings
    ctx.check_keys(m, "plan", "il piano")
    what = "il piano"
    year_f = ctx.number(m, "year", what, "plan", required=True)
    year = int(year_f) if year_f else date.today().year
    if year_f is not None and not (2000 <= year_f <= 2100 and year_f == year):
        ctx.add("PLAN-SCHEMA", f"l'anno {_num_it(year_f)} nel{_art(ctx.col('plan', 'year'))} non è un anno "
                "plausibile (ad es. 2025)", ctx.line_of(m, "year"))
        year = date.today().year  # keep checking the rest of the plan
    comune = ctx.text(m, "comune", what, "plan", required=True)
    scoring = _scoring(ctx, m.get("scoring"), ctx.line_of(m, "scoring"))
    raw_sectors = ctx.seq(m, "sectors", what, "plan")
    if not raw_sectors:
        ctx.add("PLAN-SCHEMA", "il piano non ha settori" + (": li scriva nel foglio Settori" if ctx.book else ""),
                ctx.line_of(m, "sectors"))
    read = [_sector(ctx, s, i + 1, year, _item_line(raw_sectors, i), scoring) for i, s in enumerate(raw_sectors)]
    sectors = [s for s in read if s is not None]
    _check_duplicates(ctx, sectors)
    plan_id = ctx.text(m, "plan_id", what, "plan") or _slug(f"{comune}-{year}")
    ctx.identifier(plan_id, what, ctx.line_of(m, "plan_id"), "plan", "plan_id")
    plan = Plan(plan_id, comune, year, ctx.text(m, "title", what, "plan") or f"PIAO {year} - Performance",
                ctx.text(m, "ente_sovraordinato", what, "plan"), scoring, tuple(sectors), source=file,
                return_deadline=_return_deadline(ctx, m), contact=ctx.text(m, "contact", what, "plan"),
                quality=_quality(ctx, m.get("quality"), ctx.line_of(m, "quality")))
    ok = not any(f.severity == ERROR for f in ctx.findings)
    return (plan if ok else None), ctx.findings


def _quality(ctx: _Ctx, m, line: int) -> QualitySettings:
    """The optional ``quality`` section: thresholds of the quality report (docs/plan-quality.md)."""
    q = QualitySettings()
    if m is None:
        return q
    what = "la sezione quality"
    m = ctx.mapping(m, what, line)
    if m is None:
        return q
    ctx.check_keys(m, "quality", what)
    counts = {}
    for key in ("min_objectives", "max_objectives", "flat_weights_from"):
        v = ctx.number(m, key, what, "quality")
        if v is not None and not (v.is_integer() and 0 <= v <= 1000):
            ctx.add("PLAN-SCHEMA", f"{what}: «{key}» deve essere un numero intero da 0 a 1000", ctx.line_of(m, key))
            v = None
        if v is not None:
            counts[key] = int(v)
    adopted = _return_deadline(ctx, m, "adopted")
    codes = ctx.seq(m, "errors", what, "quality")
    errors = []
    for i, c in enumerate(codes):
        code = str(c).strip().upper()
        if not code.startswith("QUAL-") or code not in CODES:
            ctx.add("PLAN-SCHEMA", f"{what}: «{_short(c)}» in «errors» non è un controllo della qualità del piano "
                    "(codici QUAL-..., elencati in docs/plan-quality.md)", _item_line(codes, i))
            continue
        errors.append(code)
    q = QualitySettings(**counts, adopted=adopted, errors=tuple(errors))
    if q.min_objectives > q.max_objectives:
        ctx.add("PLAN-SCHEMA", f"{what}: min_objectives ({q.min_objectives}) supera max_objectives "
                f"({q.max_objectives})", ctx.line_of(m, "min_objectives"))
    return q


def _return_deadline(ctx, m: LMap, key: str = "return_deadline") -> date | None:
    """The optional ``return_deadline`` (or another date ``key``): a date (2026-01-31 or 31/01/2026)."""
    raw = m.get(key)
    if raw is None or raw == "":
        return None
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    text = str(raw).strip()
    found = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text) or re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text)
    if found:
        a, b, c = (int(x) for x in found.groups())
        try:
            return date(a, b, c) if a > 31 else date(c, b, a)
        except ValueError:
            pass
    what = "la scadenza di restituzione (return_deadline)" if key == "return_deadline" else f"la data «{key}»"
    ctx.add("PLAN-SCHEMA", f"il piano: {what} «{text[:40]}» non è una data (ad es. 31/01/2026)", ctx.line_of(m, key))
    return None


def _slug(s: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", s.lower()).strip("-")


def _check_duplicates(ctx: _Ctx, sectors: list[Sector]) -> None:
    seen: dict[str, int] = {}

    def see(kind: str, key: str, line: int) -> None:
        k = f"{kind}:{key.lower()}"
        if k in seen:
            ctx.add("PLAN-DUPLICATE-ID", f"{kind} '{key}' compare due volte (la prima a {ctx.place(seen[k])}); "
                    "dia a ciascuno un identificativo diverso", line)
        else:
            seen[k] = line

    for s in sectors:
        see("il codice di settore", s.code, s.line)
        see("il nome del foglio", s.short_name, s.line)
        for o in s.objectives:
            see("l'obiettivo", o.id, o.line)
            for i in o.indicators:
                see("l'indicatore", i.id, i.line)
