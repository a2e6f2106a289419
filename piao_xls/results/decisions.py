"""The Nucleo di Valutazione's decisions: a small YAML file given to ``consolidate`` and ``relazione``.

Three kinds, each with who (``by``), when (``date``) and why (``reason``), all required:

- ``neutralise`` an objective: its weight is left out and the sector's other weights are re-normalised;
- ``not_applicable`` an indicator (e.g. nothing was budgeted: denominator 0): it no longer counts in its
  objective (an objective left with no counted indicator is neutralised as above);
- ``correct`` a reported value: ``old`` must equal the value read from the returned workbook (``null``: no
  value was reported), ``new`` replaces it.

A decision that names an unknown objective or indicator, lacks a field, or whose ``old`` value differs from
the one reported is not applied and gives a ``DEC-INVALID`` finding naming the file and line; every decision,
applied or not, is listed in the consolidation (``Consolidation.decisions``). See docs/scoring.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import yaml
from xlsxwriter.utility import xl_col_to_name

from ..core import italian
from ..core.decisions import CORRECT, KINDS, NEUTRALISE, NOT_APPLICABLE, Decision, same_value
from ..core.errors import ERROR, Finding
from ..core.model import Plan
from ..core.targets import inputs_for, parse_date
from ..plan.planfile import DuplicateKey, LMap, PlanLoader

KIND_IT = {NEUTRALISE: "obiettivo neutralizzato", NOT_APPLICABLE: "indicatore non applicabile",
           CORRECT: "valore corretto"}
KEYS = {"kind", "objective", "indicator", "input", "old", "new", "reason", "by", "date"}
MAX_DECISIONS = 10000


class _DecisionLoader(PlanLoader):
    """The plan file's safe loader (line numbers, duplicate keys refused), with dates kept as text: parsed
    here, so that an impossible date (2025-13-40) is a finding with its line, not a loader crash."""


_DecisionLoader.add_constructor("tag:yaml.org,2002:timestamp", PlanLoader.construct_yaml_str)
MAX_BYTES = 2_000_000


def load_decisions(path: str | Path, plan: Plan) -> tuple[list[Decision], list[Finding]]:
    """Read and validate a decisions file (YAML, or a workbook with a «Decisioni» sheet). Returns the valid
    decisions and one finding per refused one."""
    path = Path(path)
    name = str(path)
    if path.suffix.lower() in (".xlsx", ".ods"):
        return _load_book(path, plan)
    try:
        if path.stat().st_size > MAX_BYTES:
            return [], [Finding("DEC-INVALID", ERROR, f"file delle decisioni troppo grande (oltre "
                                f"{italian.plain(MAX_BYTES)} byte)", file=name)]
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        return [], [Finding("DEC-INVALID", ERROR, f"file delle decisioni illeggibile: {e}", file=name)]
    return parse_decisions(text, plan, name)


@dataclass
class _Entry:
    """One decision as written, before validation: values by key, and where each key (or the entry) stands."""

    values: dict
    where: str  # "file:line" or "file: 'Decisioni'!A5"
    locs: dict  # key -> Finding location kwargs (line=... or sheet=..., cell=...)
    loc: dict  # the entry's own location


def parse_decisions(text: str, plan: Plan, file: str = "<decisioni>") -> tuple[list[Decision], list[Finding]]:
    """Validate the YAML text of a decisions file against ``plan``."""
    findings: list[Finding] = []

    def bad(msg: str, line: int | None) -> None:
        findings.append(Finding("DEC-INVALID", ERROR, msg + ": decisione non applicata", file=file, line=line))

    try:
        data = yaml.load(text, Loader=_DecisionLoader)
    except DuplicateKey as e:
        bad(f"la chiave '{e.key}' compare due volte", e.line)
        return [], findings
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        bad(f"YAML non valido ({getattr(e, 'problem', None) or e})", mark.line + 1 if mark else None)
        return [], findings
    if data is None:
        return [], []
    items = data.get("decisions") if isinstance(data, dict) else None
    if not isinstance(items, list):
        bad("il file deve contenere una lista 'decisions:'", getattr(data, "line", 1))
        return [], findings
    if len(items) > MAX_DECISIONS:
        bad(f"troppe decisioni ({len(items)}, al massimo {MAX_DECISIONS})", getattr(items, "line", 1))
        return [], findings
    entries: list[_Entry | None] = []
    lines = getattr(items, "item_lines", [None] * len(items))
    for n, item in enumerate(items):
        line = lines[n]
        if not isinstance(item, LMap):
            bad(f"decisione n. {n + 1}: attesa una voce con kind, reason, by, date", line)
            entries.append(None)
            continue
        unknown = sorted(str(k) for k in item if k not in KEYS)
        if unknown:
            bad(f"decisione n. {n + 1}: chiavi sconosciute {', '.join(unknown)} (ammesse: {', '.join(sorted(KEYS))})",
                line)
            entries.append(None)
            continue
        entries.append(_Entry(dict(item), f"{file}:{line}" if line else file,
                              {k: {"line": ln} for k, ln in item.key_lines.items()}, {"line": line}))
    out = _validate(entries, plan, file, findings)
    return out, findings


def _validate(entries: list[_Entry | None], plan: Plan, file: str, findings: list[Finding]) -> list[Decision]:
    objectives = {o.id: (s, o) for s in plan.sectors for o in s.objectives}
    indicators = {i.id: (s, o, i) for s in plan.sectors for o in s.objectives for i in o.indicators}
    sheets: dict[str, dict] = {}  # the input cells of each form, made when a correction needs them
    out: list[Decision] = []
    for n, e in enumerate(entries):
        if e is None:
            continue
        item = e.values

        def bad(msg: str, key: str | None = None, n=n, e=e) -> None:
            loc = e.locs.get(key, e.loc) if key else e.loc
            findings.append(Finding("DEC-INVALID", ERROR, f"decisione n. {n + 1}: {msg}: decisione non applicata",
                                    file=file, **loc))

        nested = sorted(str(k) for k, v in item.items() if isinstance(v, (list, dict)))
        if nested:  # a value must be one text, number or date (and a YAML alias cannot expand into a list)
            bad(f"{', '.join(nested)} deve essere un solo valore, non una lista", nested[0])
            continue
        kind = KINDS.get(str(item.get("kind") or "").strip().lower())
        if kind is None:
            bad("'kind' (tipo) deve essere neutralise, not_applicable o correct (neutralizza, non applicabile, "
                "correzione)", "kind")
            continue
        missing = [k for k in ("reason", "by", "date") if not _text(item.get(k))]
        if missing:
            bad(f"mancano {', '.join(missing)} (motivazione, chi decide, data)", missing[0])
            continue
        when = _date(item.get("date"))
        if when is None:
            bad(f"data non valida {item.get('date')!r} (gg/mm/aaaa)", "date")
            continue
        common = {"reason": _text(item["reason"]), "by": _text(item["by"]), "date": when.isoformat(),
                  "where": e.where, "file": file, "line": e.loc.get("line"), "sheet": e.loc.get("sheet", ""),
                  "cell": e.loc.get("cell", "")}
        if kind == NEUTRALISE:
            oid = _text(item.get("objective"))
            if oid not in objectives:
                bad(f"obiettivo {oid or '(mancante)'!s} non presente nel piano", "objective")
                continue
            s, _ = objectives[oid]
            out.append(Decision(kind, s.code, oid, **common))
            continue
        iid = _text(item.get("indicator"))
        if iid not in indicators:
            bad(f"indicatore {iid or '(mancante)'!s} non presente nel piano", "indicator")
            continue
        s, o, ind = indicators[iid]
        if kind == NOT_APPLICABLE:
            out.append(Decision(kind, s.code, o.id, iid, **common))
            continue
        specs = {sp.name: sp for sp in inputs_for(ind.rule, plan.year)}
        if not ind.rule.scored:
            bad(f"{iid} è informativo, non valutato: nessun valore da correggere", "indicator")
            continue
        given = _text(item.get("input"))
        name = INPUT_IT.get(given.lower(), given) or (next(iter(specs)) if len(specs) == 1 else "")
        if name not in specs:
            bad(f"indicare 'input' (campo) tra {', '.join(specs)} per {iid}", "input")
            continue
        if "old" not in item or "new" not in item:
            bad("una correzione indica il valore precedente ('old', null se non rendicontato) e il nuovo ('new')")
            continue
        unit = specs[name].unit
        old, new = _value(item["old"], unit, plan.year), _value(item["new"], unit, plan.year)
        if old is _BAD or new is _BAD or new is None:
            which = "new" if new is _BAD or new is None else "old"
            bad(f"valore '{which}' {item[which]!r} non valido per {iid} ({_UNIT_IT.get(unit, unit)})", which)
            continue
        problem = _input_problem(plan, s, ind, name, new, sheets)
        if problem:
            bad(f"valore 'new' {item['new']!r} non valido per {iid}: {problem}", "new")
            continue
        out.append(Decision(kind, s.code, o.id, iid, name, old, new, **common))
    return out


def _input_problem(plan: Plan, sector, ind, name: str, value, sheets: dict) -> str | None:
    """The reader's own check of the indicator's input cell (range, sign, date window): the error it would give
    ``value`` typed in the form, or None."""
    from ..forms.layout import sector_sheet, source_sheet
    from ..returns.reader import validate_value

    where = ind.source if ind.source in ("nucleo", "esterno") else sector.code
    if where not in sheets:
        sheets[where] = (source_sheet(plan, where) if where in ("nucleo", "esterno")
                         else sector_sheet(plan, sector)).inputs
    cell = sheets[where].get(f"{ind.id}|{name}")
    if cell is None or cell.unit == "yes_no":
        return None
    _, error, _ = validate_value(value, cell, plan.year)
    return error


# a workbook of decisions: one sheet «Decisioni», a header row, one decision per row
BOOK_SHEET = "decisioni"
BOOK_COLUMNS = {"tipo": "kind", "obiettivo": "objective", "indicatore": "indicator", "campo": "input",
                "valore precedente": "old", "nuovo valore": "new", "motivazione": "reason", "deciso da": "by",
                "chi": "by", "data": "date"}
INPUT_IT = {"valore": "value", "numeratore": "numerator", "denominatore": "denominator",
            "riferimento": "baseline", "valore di riferimento": "baseline", "anno": "current",
            "valore dell'anno": "current", "data": "date"}


def _load_book(path: Path, plan: Plan) -> tuple[list[Decision], list[Finding]]:
    """Decisions from a workbook (.xlsx, .ods) checked by the guard for untrusted files first."""
    import io

    import python_calamine

    from ..sheetio.safeopen import UnsafeFile, open_package, read_bounded

    name = str(path)

    def fail(msg: str, **loc) -> tuple[list[Decision], list[Finding]]:
        return [], [Finding("DEC-INVALID", ERROR, msg, file=name, **loc)]

    try:
        package = open_package(read_bounded(path), path.name)
        wb = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(package.data))
        sheet = next((n for n in wb.sheet_names if n.strip().lower() == BOOK_SHEET), None)
        if sheet is None:
            return fail("il file delle decisioni non ha un foglio «Decisioni»")
        rows = wb.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
    except UnsafeFile as u:
        return fail(f"file delle decisioni rifiutato: {u.message}")
    except OSError as e:
        return fail(f"file delle decisioni illeggibile: {e.strerror or e}")
    except BaseException as e:  # a damaged file (or a panic of the reader) never stops the consolidation
        if not isinstance(e, Exception) and type(e).__name__ != "PanicException":
            raise
        return fail(f"file delle decisioni danneggiato o non leggibile ({type(e).__name__})")
    head = next((i for i, r in enumerate(rows[:20]) if any(_header(v) == "kind" for v in r)), None)
    if head is None:
        return fail("nel foglio «Decisioni» manca la riga di intestazione (Tipo, Obiettivo, Indicatore, Campo, "
                    "Valore precedente, Nuovo valore, Motivazione, Deciso da, Data)", sheet=sheet)
    cols = {j: _header(v) for j, v in enumerate(rows[head]) if _header(v)}
    entries: list[_Entry | None] = []
    for i in range(head + 1, len(rows)):
        r = rows[i]
        values = {key: _cell(r[j]) for j, key in cols.items() if j < len(r)}
        if all(v is None for v in values.values()):
            continue
        if len(entries) >= MAX_DECISIONS:
            return fail(f"troppe decisioni (al massimo {MAX_DECISIONS})", sheet=sheet)
        values = {k: v for k, v in values.items() if v is not None}
        if "old" in cols.values() and KINDS.get(str(values.get("kind", "")).strip().lower()) == CORRECT:
            values.setdefault("old", None)  # an empty «Valore precedente» cell: nothing was reported
        entries.append(_Entry(values, f"{name}: '{sheet}'!A{i + 1}",
                              {key: {"sheet": sheet, "cell": f"{xl_col_to_name(j)}{i + 1}"} for j, key in cols.items()},
                              {"sheet": sheet, "cell": f"A{i + 1}"}))
    findings: list[Finding] = []
    return _validate(entries, plan, name, findings), findings


def _header(v) -> str:
    return BOOK_COLUMNS.get(" ".join(str(v or "").split()).lower().rstrip(":"), "")


def _cell(v):
    return None if v is None or (isinstance(v, str) and not v.strip()) else v


_BAD = object()
_UNIT_IT = {"percent": "una percentuale, ad es. 95%", "number": "un numero", "amount": "un importo",
            "date": "una data gg/mm/aaaa", "yes_no": "Sì oppure No"}


def _text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, (date, datetime)):
        return v.isoformat()
    return " ".join(str(v).split())


def _date(v) -> date | None:
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    return parse_date(str(v), 2000) if v is not None and any(ch.isdigit() for ch in str(v)) else None


def _value(v, unit: str, year: int):
    """A typed value as the scoring engine takes it (None stays None: not reported)."""
    if v is None:
        return None
    if unit == "date":
        d = _date(v)
        return d if d is not None else _BAD
    if unit == "yes_no":
        if isinstance(v, bool):
            return v
        t = str(v).strip().lower()
        return True if t in ("sì", "si", "sí") else False if t == "no" else _BAD
    if isinstance(v, bool):
        return _BAD
    if isinstance(v, (int, float)):
        x = float(v)
    else:
        t = str(v).strip().replace("€", "").replace(" ", "")
        pct = t.endswith("%")
        t = t.rstrip("%")
        if "," in t and "." in t:
            t = t.replace(".", "").replace(",", ".")
        t = t.replace(",", ".")
        try:
            x = float(t)
        except ValueError:
            return _BAD
        if pct:
            if unit != "percent":
                return _BAD
            x /= 100
    return x if math.isfinite(x) else _BAD


def format_value(v, unit: str = "") -> str:
    """A value for people, Italian style: 95%, 1.234,5, 1.234,50 €, 31/12/2025, Sì, '—' for no value."""
    return italian.value(v, unit)


def italian_number(x: float, decimals: int) -> str:
    """1234.5 -> '1.234,50' (decimals digits), rounded as published (94.995 -> '95,00')."""
    return italian.number(x, decimals)


__all__ = ["CORRECT", "KIND_IT", "NEUTRALISE", "NOT_APPLICABLE", "Decision", "format_value", "italian_number",
           "load_decisions", "parse_decisions", "same_value"]
