"""Plan files: YAML text -> validated :class:`~piao_xls.core.model.Plan`, with findings that name the line.

``parse_plan`` is pure (text in, plan and findings out); ``load_plan`` and ``check_plan`` read the
file. Every problem is collected (not only the first) as a :class:`~piao_xls.core.errors.Finding`.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import yaml

from ..core.errors import ERROR, WARNING, Finding
from ..core.gcpause import paused_gc
from ..core.model import (
    RULE_KINDS,
    SOURCES,
    UNITS,
    Band,
    Indicator,
    Objective,
    Plan,
    Responsabile,
    Rule,
    ScoringPolicy,
    Sector,
    StaffRow,
    Step,
)
from ..core.targets import TargetError, interpret, parse_date

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


class _DuplicateKey(Exception):
    def __init__(self, key: str, line: int):
        self.key, self.line = key, line


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml when available: ~10x faster
    pass


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> LMap:
    loader.flatten_mapping(node)
    m = LMap()
    m.line = node.start_mark.line + 1
    m.key_lines = {}
    for k_node, v_node in node.value:
        k = loader.construct_object(k_node, deep=True)
        if k in m:
            raise _DuplicateKey(str(k), k_node.start_mark.line + 1)
        m[k] = loader.construct_object(v_node, deep=True)
        m.key_lines[k] = k_node.start_mark.line + 1
    return m


def _construct_seq(loader: _Loader, node: yaml.SequenceNode) -> LList:
    lst = LList(loader.construct_object(n, deep=True) for n in node.value)
    lst.line = node.start_mark.line + 1
    lst.item_lines = [n.start_mark.line + 1 for n in node.value]
    return lst


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_map)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_seq)


# --- building the model ----------------------------------------------------------------

KEYS = {
    "plan": {"plan_id", "comune", "ente_sovraordinato", "year", "title", "scoring", "sectors", "return_deadline",
             "contact"},
    "scoring": {"late_penalty_per_month", "aggregation", "threshold", "bands"},
    "band": {"min", "code", "label"},
    "sector": {"code", "name", "short_name", "responsabile", "offices", "staff", "staff_total",
               "activities", "objectives"},
    "responsabile": {"name", "title", "email"},
    "staff": {"qualifica", "categoria", "unita"},
    "objective": {"number", "id", "title", "weight", "stakeholder", "impatto", "risultato", "steps",
                  "tempi", "programma", "obiettivo_operativo", "indicators"},
    "step": {"text", "tempi"},
    "indicator": {"id", "profilo", "description", "target", "rule", "source", "weight"},
    "rule": {"kind", "unit", "target", "worst", "low", "high", "deadline", "increase", "baseline_year"},
}


@dataclass
class _Ctx:
    file: str
    findings: list[Finding] = field(default_factory=list)
    #: for data that did not come from YAML (a plan workbook): "line" token -> (sheet, cell)
    where: dict[int, tuple[str, str]] | None = None
    #: equal rules share one object: plans repeat a few targets ("100%") thousands of times
    rules: dict[Rule, Rule] = field(default_factory=dict)

    def add(self, code: str, message: str, line: int | None, severity: str = ERROR) -> None:
        if self.where is not None:
            sheet, cell = self.where.get(line or 0, (None, None))
            self.findings.append(Finding(code, severity, message, file=self.file, sheet=sheet, cell=cell))
            return
        self.findings.append(Finding(code, severity, message, file=self.file, line=line or None))

    def place(self, line: int) -> str:
        """'line 12', or "'Obiettivi'!B5" for a plan workbook."""
        if self.where is not None and line in self.where:
            return "'{}'!{}".format(*self.where[line])
        return f"line {line}"

    # typed getters ---------------------------------------------------------------
    def line_of(self, m: LMap, key: str) -> int:
        return getattr(m, "key_lines", {}).get(key, getattr(m, "line", 0))

    def mapping(self, value, what: str, line: int) -> LMap | None:
        if isinstance(value, dict):
            return value
        self.add("PLAN-SCHEMA", f"{what} must be a mapping (key: value lines), not {_kind(value)}", line)
        return None

    def check_keys(self, m: LMap, kind: str, what: str) -> None:
        for k in m:
            if k not in KEYS[kind]:
                close = difflib.get_close_matches(str(k), sorted(KEYS[kind]), n=1)
                hint = f"; did you mean '{close[0]}'?" if close else f"; allowed: {', '.join(sorted(KEYS[kind]))}"
                self.add("PLAN-UNKNOWN-KEY", f"unknown key '{k}' in {what}{hint}", self.line_of(m, k))

    def text(self, m: LMap, key: str, what: str, required: bool = False) -> str:
        v = m.get(key)
        if v is None or v == "":
            if required:
                self.add("PLAN-SCHEMA", f"{what}: '{key}' is required", self.line_of(m, key))
            return ""
        if isinstance(v, (dict, list)):
            self.add("PLAN-SCHEMA", f"{what}: '{key}' must be text, not {_kind(v)}", self.line_of(m, key))
            return ""
        if isinstance(v, date):
            return f"{v:%d/%m/%Y}"
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        return " ".join(str(v).split())

    def number(self, m: LMap, key: str, what: str, required: bool = False, percent: bool = False) -> float | None:
        v = m.get(key)
        if v is None or v == "":
            if required:
                self.add("PLAN-SCHEMA", f"{what}: '{key}' is required (a number)", self.line_of(m, key))
            return None
        if isinstance(v, bool):
            v = None
        elif isinstance(v, str):
            s = v.strip().replace(",", ".")
            try:
                v = float(s[:-1]) / 100 if percent and s.endswith("%") else float(s.rstrip("%"))
            except ValueError:
                v = None
        if not isinstance(v, (int, float)):
            self.add("PLAN-SCHEMA", f"{what}: '{key}' must be a number, got {m.get(key)!r}", self.line_of(m, key))
            return None
        return float(v)

    def seq(self, m: LMap, key: str, what: str) -> LList:
        v = m.get(key)
        if v is None:
            empty = LList()
            empty.line, empty.item_lines = m.line, []
            return empty
        if not isinstance(v, list):
            self.add("PLAN-SCHEMA", f"{what}: '{key}' must be a list (lines starting with '- ')",
                     self.line_of(m, key))
            empty = LList()
            empty.line, empty.item_lines = m.line, []
            return empty
        return v


def _kind(v) -> str:
    return {dict: "a mapping", LMap: "a mapping", list: "a list", LList: "a list"}.get(type(v), repr(v))


def _item_line(lst, i: int) -> int:
    lines = getattr(lst, "item_lines", None)
    return lines[i] if lines and i < len(lines) else getattr(lst, "line", 0)


def _rule(ctx: _Ctx, m, what: str, year: int, line: int) -> Rule | None:
    m = ctx.mapping(m, f"{what} rule", line)
    if m is None:
        return None
    ctx.check_keys(m, "rule", f"{what} rule")
    kind = ctx.text(m, "kind", f"{what} rule", required=True)
    if kind and kind not in RULE_KINDS:
        ctx.add("PLAN-RULE", f"{what}: rule kind '{kind}' is not one of {', '.join(RULE_KINDS)}",
                ctx.line_of(m, "kind"))
        return None
    default_unit = {"deadline": "date", "yes_no": "yes_no", "fraction": "percent", "increase": "number"}
    unit = ctx.text(m, "unit", what) or default_unit.get(kind, "number")
    if unit not in UNITS:
        ctx.add("PLAN-RULE", f"{what}: unit '{unit}' is not one of {', '.join(UNITS)}", ctx.line_of(m, "unit"))
        return None
    pct = unit == "percent"
    g = lambda k: ctx.number(m, k, f"{what} rule", percent=pct)  # noqa: E731
    dl = None
    if kind == "deadline":
        raw = m.get("deadline")
        dl = raw if isinstance(raw, date) else parse_date(str(raw or ""), year)
        if dl is None:
            ctx.add("PLAN-RULE", f"{what}: a deadline rule needs 'deadline' (e.g. 2025-12-31)",
                    ctx.line_of(m, "deadline"))
            return None
    inc = ctx.number(m, "increase", f"{what} rule", percent=True)
    by = ctx.number(m, "baseline_year", f"{what} rule")
    rule = Rule(kind, unit=unit, target=g("target"), worst=g("worst"), low=g("low"), high=g("high"),
                deadline=dl, increase=inc, baseline_year=int(by) if by else None)
    need = {"at_least": ("target",), "at_most": ("target",), "fraction": ("target",),
            "range": ("low", "high"), "increase": ("increase",)}.get(kind, ())
    missing = [n for n in need if getattr(rule, n) is None]
    if missing:
        ctx.add("PLAN-RULE", f"{what}: a {kind} rule needs {' and '.join(missing)}",
                ctx.line_of(m, missing[0]))
        return None
    if kind == "range" and rule.low > rule.high:
        ctx.add("PLAN-RULE", f"{what}: range low {rule.low:g} is above high {rule.high:g}", ctx.line_of(m, "low"))
        return None
    if kind == "at_most" and rule.worst is not None and rule.worst <= rule.target:
        ctx.add("PLAN-RULE", f"{what}: 'worst' must be above 'target' for an at_most rule",
                ctx.line_of(m, "worst"))
        return None
    return rule


def _source_for(description: str) -> str:
    d = description.lower()
    if "asseverazione" in d or "certificazion" in d:
        return "nucleo" if "nucleo di valutazione" in d else "esterno"
    return "responsabile"


_YEAR_RE = re.compile(r"\b(20\d\d)\b|\b[a-z]{3}-(\d\d)\b|\b\d{1,2}[./-]\d{1,2}[./-](\d\d)\b", re.I)


def _years_in(text: str) -> list[int]:
    out = []
    for m in _YEAR_RE.finditer(text):
        y = m.group(1) or m.group(2) or m.group(3)
        out.append(int(y) if len(y) == 4 else 2000 + int(y))
    return out


def _indicator(ctx: _Ctx, m, obj_id: str, n: int, year: int, line: int) -> Indicator | None:
    what = f"indicator {n} of objective {obj_id}"
    m = ctx.mapping(m, what, line)
    if m is None:
        return None
    ctx.check_keys(m, "indicator", what)
    ind_id = ctx.text(m, "id", what) or f"{obj_id}.{n}"
    what = f"indicator {ind_id}"
    description = ctx.text(m, "description", what, required=True)
    target = ctx.text(m, "target", what)
    if "rule" in m:
        rule = _rule(ctx, m["rule"], what, year, ctx.line_of(m, "rule"))
    else:
        try:
            rule = interpret(target, description, year)
        except TargetError as e:
            ctx.add("PLAN-TARGET", f"{what}: {e}", ctx.line_of(m, "target"))
            rule = None
    if rule is None:
        return None
    rule = ctx.rules.setdefault(rule, rule)
    if rule.kind == "informative" and not target and "rule" not in m:
        ctx.add("PLAN-NO-TARGET", f"{what} has no target: it is informative and not scored; "
                "add a target or an explicit rule if it should be scored", m.line, WARNING)
    if rule.kind == "deadline" and rule.deadline and abs(rule.deadline.year - year) > 1:
        ctx.add("PLAN-YEAR", f"{what}: deadline {rule.deadline:%d/%m/%Y} is far from plan year {year}",
                ctx.line_of(m, "target"), WARNING)
    source = ctx.text(m, "source", what) or _source_for(description)
    if source not in SOURCES:
        ctx.add("PLAN-SCHEMA", f"{what}: source '{source}' is not one of {', '.join(SOURCES)}",
                ctx.line_of(m, "source"))
    weight = ctx.number(m, "weight", what)
    if weight is not None and weight <= 0:
        ctx.add("PLAN-SCHEMA", f"{what}: weight must be positive", ctx.line_of(m, "weight"))
        weight = None
    return Indicator(ind_id, ctx.text(m, "profilo", what), description, target, rule, source,
                     weight if weight is not None else 1.0, line=m.line)


def _objective(ctx: _Ctx, m, code: str, pos: int, year: int, line: int) -> Objective | None:
    what = f"objective {pos} of sector {code}"
    m = ctx.mapping(m, what, line)
    if m is None:
        return None
    ctx.check_keys(m, "objective", what)
    number = ctx.number(m, "number", what)
    number = int(number) if number is not None else pos
    obj_id = ctx.text(m, "id", what) or f"{code}-{number}"
    what = f"objective {obj_id}"
    weight = ctx.number(m, "weight", what, required=True)
    if weight is not None and weight < 0:
        ctx.add("PLAN-SCHEMA", f"{what}: weight must not be negative", ctx.line_of(m, "weight"))
    steps = []
    raw_steps = ctx.seq(m, "steps", what)
    for i, s in enumerate(raw_steps):
        if isinstance(s, str):
            steps.append(Step(" ".join(s.split())))
            continue
        s = ctx.mapping(s, f"{what} step {i + 1}", _item_line(raw_steps, i))
        if s is not None:
            ctx.check_keys(s, "step", f"{what} step {i + 1}")
            steps.append(Step(ctx.text(s, "text", f"{what} step {i + 1}", required=True),
                              ctx.text(s, "tempi", f"{what} step {i + 1}")))
            tempi = steps[-1].tempi
            for y in _years_in(tempi):
                if y < year:
                    ctx.add("PLAN-YEAR", f"{what}: step tempi '{tempi}' refers to {y}, before plan year "
                            f"{year} (kept as printed)", ctx.line_of(s, "tempi"), WARNING)
                    break
    tempi = ctx.text(m, "tempi", what)
    raw_inds = ctx.seq(m, "indicators", what)
    if not raw_inds:
        ctx.add("PLAN-SCHEMA", f"{what} has no indicators", m.line)
    inds = [_indicator(ctx, x, obj_id, i + 1, year, _item_line(raw_inds, i)) for i, x in enumerate(raw_inds)]
    inds = [i for i in inds if i is not None]
    obj = Objective(obj_id, number, ctx.text(m, "title", what, required=True), weight or 0.0,
                    ctx.text(m, "stakeholder", what), ctx.text(m, "impatto", what),
                    ctx.text(m, "risultato", what), tuple(steps), tempi, ctx.text(m, "programma", what),
                    ctx.text(m, "obiettivo_operativo", what), tuple(inds), line=m.line)
    if inds and not obj.evaluable:
        ctx.add("PLAN-UNSCORED-OBJECTIVE", f"{what} has no scored indicator: its weight ({obj.weight:g}%) is "
                "left out and the sector score is rescaled over the other objectives", m.line, WARNING)
    return obj


def _sector(ctx: _Ctx, m, pos: int, year: int, line: int) -> Sector | None:
    what = f"sector {pos}"
    m = ctx.mapping(m, what, line)
    if m is None:
        return None
    ctx.check_keys(m, "sector", what)
    code = ctx.text(m, "code", what, required=True)
    what = f"sector {code or pos}"
    short = ctx.text(m, "short_name", what) or code
    bad = sorted(SHEET_NAME_FORBIDDEN & set(short))
    if len(short) > 31 or bad or short.startswith("'") or short.endswith("'") or short.lower() == "istruzioni":
        why = f"has forbidden characters {' '.join(bad)}" if bad else (
            f"is {len(short)} characters long (31 at most)" if len(short) > 31 else "is not allowed")
        ctx.add("PLAN-SHEET-NAME", f"{what}: short_name '{short}' {why}; it names the Excel sheet",
                ctx.line_of(m, "short_name"))
    resp_m = ctx.mapping(m.get("responsabile") or LMap(), f"{what} responsabile", ctx.line_of(m, "responsabile"))
    if resp_m is not None:
        ctx.check_keys(resp_m, "responsabile", f"{what} responsabile")
        if not resp_m:
            ctx.add("PLAN-SCHEMA", f"{what}: 'responsabile' with a 'name' is required", m.line)
        resp = Responsabile(ctx.text(resp_m, "name", f"{what} responsabile", required=bool(resp_m)),
                            ctx.text(resp_m, "title", what), ctx.text(resp_m, "email", what))
    else:
        resp = Responsabile("")
    staff = []
    raw_staff = ctx.seq(m, "staff", what)
    for i, r in enumerate(raw_staff):
        r = ctx.mapping(r, f"{what} staff row {i + 1}", _item_line(raw_staff, i))
        if r is not None:
            ctx.check_keys(r, "staff", f"{what} staff row {i + 1}")
            staff.append(StaffRow(ctx.text(r, "qualifica", what, required=True), ctx.text(r, "categoria", what),
                                  ctx.number(r, "unita", what) or 0.0))
    staff_total = ctx.number(m, "staff_total", what)
    raw_objs = ctx.seq(m, "objectives", what)
    objs = [_objective(ctx, o, code, i + 1, year, _item_line(raw_objs, i)) for i, o in enumerate(raw_objs)]
    objs = [o for o in objs if o is not None]
    sector = Sector(code, ctx.text(m, "name", what, required=True), short, resp,
                    tuple(ctx.text(LMap(x=o), "x", what) for o in ctx.seq(m, "offices", what)),
                    tuple(staff), staff_total,
                    tuple(ctx.text(LMap(x=a), "x", what) for a in ctx.seq(m, "activities", what)),
                    tuple(objs), line=m.line)
    if staff_total is not None and abs(staff_total - sector.computed_staff_total) > 1e-9:
        ctx.add("PLAN-STAFF-TOTAL", f"{what}: staff_total {staff_total:g} differs from the sum of the rows "
                f"({sector.computed_staff_total:g})", ctx.line_of(m, "staff_total"), WARNING)
    if not objs:
        ctx.add("PLAN-SCHEMA", f"{what} has no objectives", m.line)
    elif abs(sector.weight_total - 100) > 1e-6:
        ctx.add("PLAN-WEIGHTS", f"{what}: objective weights sum to {sector.weight_total:g}, not 100; "
                "fix the weights so that they total 100%", ctx.line_of(m, "objectives"))
    return sector


def _scoring(ctx: _Ctx, m, line: int) -> ScoringPolicy:
    if m is None:
        return ScoringPolicy()
    m = ctx.mapping(m, "scoring", line)
    if m is None:
        return ScoringPolicy()
    ctx.check_keys(m, "scoring", "scoring")
    p = ScoringPolicy()
    late = ctx.number(m, "late_penalty_per_month", "scoring")
    if late is not None and not 0 <= late <= 1:
        ctx.add("PLAN-SCORING", "late_penalty_per_month must be between 0 and 1", ctx.line_of(m, "late_penalty_per_month"))
    agg = ctx.text(m, "aggregation", "scoring") or p.aggregation
    if agg not in ("weighted_mean", "min"):
        ctx.add("PLAN-SCORING", f"aggregation '{agg}' is not 'weighted_mean' or 'min'", ctx.line_of(m, "aggregation"))
        agg = p.aggregation
    thr = ctx.number(m, "threshold", "scoring", percent=True)
    if thr is not None and not 0 <= thr <= 1:
        ctx.add("PLAN-SCORING", "threshold must be between 0 and 1 (or 0% and 100%)", ctx.line_of(m, "threshold"))
    bands = p.bands
    if "bands" in m:
        raw = ctx.seq(m, "bands", "scoring")
        out = []
        for i, b in enumerate(raw):
            b = ctx.mapping(b, f"band {i + 1}", _item_line(raw, i))
            if b is not None:
                ctx.check_keys(b, "band", f"band {i + 1}")
                out.append(Band(ctx.number(b, "min", f"band {i + 1}", required=True) or 0.0,
                                ctx.text(b, "code", f"band {i + 1}", required=True),
                                ctx.text(b, "label", f"band {i + 1}")))
        if not any(b.min <= 0 for b in out):
            ctx.add("PLAN-SCORING", "bands must include one with min 0, so that every score has a band",
                    ctx.line_of(m, "bands"))
        bands = tuple(sorted(out, key=lambda b: -b.min))
    return ScoringPolicy(late if late is not None else p.late_penalty_per_month, agg, thr, bands)


def parse_plan(text: str, file: str = "<plan>") -> tuple[Plan | None, list[Finding]]:
    """Parse and validate plan text. Returns the plan (None on errors) and every finding."""
    with paused_gc():  # a large plan is millions of objects: see piao_xls.core.gcpause
        return _parse_plan(text, file)


def _parse_plan(text: str, file: str) -> tuple[Plan | None, list[Finding]]:
    ctx = _Ctx(file)
    try:
        data = yaml.load(text, Loader=_Loader)
    except _DuplicateKey as e:
        ctx.add("PLAN-YAML", f"key '{e.key}' appears twice in the same mapping", e.line)
        return None, ctx.findings
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        msg = f"{e.problem or 'syntax error'}" + (f" ({e.context})" if e.context else "")
        ctx.add("PLAN-YAML", f"YAML syntax error: {msg}; check indentation and quoting on this line",
                mark.line + 1 if mark else None)
        return None, ctx.findings
    except yaml.YAMLError as e:
        ctx.add("PLAN-YAML", f"YAML error: {e}", None)
        return None, ctx.findings
    return _build(ctx, data)


def validate_data(data, file: str, where: dict[tuple, tuple[str, str]]) -> tuple[Plan | None, list[Finding]]:
    """Validate plan data that did not come from YAML (e.g. a plan workbook) with the same checks.

    ``data`` is the nested dict the YAML loader would produce; ``where`` maps a path such as
    ``("sectors", 0, "objectives", 2, "weight")`` to the ``(sheet, cell)`` it came from. Paths may
    name keys absent from ``data`` (an empty cell): a missing required value is reported there.
    A path without an entry is reported at its closest ancestor's place.
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
    return _build(_Ctx(file, where=table), converted)


def _build(ctx: _Ctx, data) -> tuple[Plan | None, list[Finding]]:
    file = ctx.file
    m = ctx.mapping(data, "the plan file", 1)
    if m is None:
        return None, ctx.findings
    ctx.check_keys(m, "plan", "the plan")
    year_f = ctx.number(m, "year", "the plan", required=True)
    year = int(year_f) if year_f else date.today().year
    if year_f is not None and not (2000 <= year_f <= 2100 and year_f == year):
        ctx.add("PLAN-SCHEMA", f"year {year_f:g} is not a plausible year", ctx.line_of(m, "year"))
        year = date.today().year  # keep checking the rest of the plan
    comune = ctx.text(m, "comune", "the plan", required=True)
    scoring = _scoring(ctx, m.get("scoring"), ctx.line_of(m, "scoring"))
    raw_sectors = ctx.seq(m, "sectors", "the plan")
    if not raw_sectors:
        ctx.add("PLAN-SCHEMA", "the plan has no sectors", ctx.line_of(m, "sectors"))
    sectors = [_sector(ctx, s, i + 1, year, _item_line(raw_sectors, i)) for i, s in enumerate(raw_sectors)]
    sectors = [s for s in sectors if s is not None]
    _check_duplicates(ctx, sectors)
    plan = Plan(ctx.text(m, "plan_id", "the plan") or _slug(f"{comune}-{year}"), comune, year,
                ctx.text(m, "title", "the plan") or f"PIAO {year} - Performance",
                ctx.text(m, "ente_sovraordinato", "the plan"), scoring, tuple(sectors), source=file,
                return_deadline=_return_deadline(ctx, m), contact=ctx.text(m, "contact", "the plan"))
    ok = not any(f.severity == ERROR for f in ctx.findings)
    return (plan if ok else None), ctx.findings


def _return_deadline(ctx, m: LMap) -> date | None:
    """The optional ``return_deadline``: a date (2026-01-31 or 31/01/2026)."""
    raw = m.get("return_deadline")
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
    ctx.add("PLAN-SCHEMA", f"the plan: 'return_deadline' {text[:40]!r} is not a date (e.g. 2026-01-31)",
            ctx.line_of(m, "return_deadline"))
    return None


def _slug(s: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", s.lower()).strip("-")


def _check_duplicates(ctx: _Ctx, sectors: list[Sector]) -> None:
    seen: dict[str, int] = {}

    def see(kind: str, key: str, line: int) -> None:
        k = f"{kind}:{key.lower()}"
        if k in seen:
            ctx.add("PLAN-DUPLICATE-ID", f"{kind} '{key}' is defined twice (first at {ctx.place(seen[k])}); "
                    "give each a unique id", line)
        else:
            seen[k] = line

    for s in sectors:
        see("sector code", s.code, s.line)
        see("sheet name", s.short_name, s.line)
        for o in s.objectives:
            see("objective", o.id, o.line)
            for i in o.indicators:
                see("indicator", i.id, i.line)
