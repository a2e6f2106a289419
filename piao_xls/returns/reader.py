"""The reader adapter: a returned workbook -> validated values and findings.

Nothing a Responsabile returns is trusted. The reader identifies the workbook by its custom
document properties, checks every locked cell against the layout (tampering), locates every
input with the same layout the writer used, and re-validates each value against its rule.
It works on the reader view of each sheet (``layout.sector_sheet(..., for_reader=True)``: the
same builder, without formula text). Values are read with python-calamine; the sheet XML
(.xlsx) or content.xml (.ods) is scanned only for formulas and error values in input cells,
which calamine cannot see. :meth:`WorkbookResult.release` reduces a result to what scoring
and the summary need, for consolidations of thousands of files.
"""

from __future__ import annotations

import hashlib
import math
import re
import sys
import zipfile
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from ..core.answers import NOT_AVAILABLE, is_not_available, parse_yes_no
from ..core.errors import ERROR, WARNING, Finding
from ..core.model import Plan
from ..core.rules import NO_SPELLINGS, YES_SPELLINGS
from ..forms.layout import (
    INSTRUCTIONS_SHEET,
    LAYOUT_VERSION,
    SOURCE_SHEETS,
    Cell,
    SheetLayout,
    WorkbookLayout,
    a1,
    sector_sheet,
    source_sheet,
)
from ..sheetio.safeopen import Limits, Package, UnsafeFile, ods_rows, ods_tables, open_package, parse_xml, read_bounded

ACCEPTED = "accepted"
ACCEPTED_WITH_WARNINGS = "accepted_with_warnings"
REJECTED = "rejected"

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".ods", ".xls", ".xlsb")
EXCEL_ERRORS = ("#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!", "#GETTING_DATA")
YES = frozenset(YES_SPELLINGS)  # shared with the rule registry
NO = frozenset(NO_SPELLINGS)
UNIT_IT = {"percent": "una percentuale", "number": "un numero", "amount": "un importo in euro",
           "date": "una data (gg/mm/aaaa)", "yes_no": "Sì oppure No", "text": "un testo"}


_NONE: frozenset = frozenset()
_NAMES: dict[tuple[str, ...], tuple[str, ...]] = {}  # the few distinct input-name tuples, shared


class InputValues(Mapping):
    """The validated values of one indicator's inputs (input name -> value), read-only and compact.

    Released submissions keep these instead of dicts: a consolidation of thousands of files holds
    one per indicator of every file.
    """

    __slots__ = ("_names", "_values")

    def __init__(self, values: Mapping[str, object]):
        names = tuple(values)
        self._names = _NAMES.setdefault(names, names)
        self._values = tuple(values.values())

    def __getitem__(self, name: str) -> object:
        try:
            return self._values[self._names.index(name)]
        except ValueError:
            raise KeyError(name) from None

    def get(self, name: str, default=None):
        return self._values[self._names.index(name)] if name in self._names else default

    def items(self):
        return zip(self._names, self._values, strict=True)

    def __iter__(self):
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __repr__(self) -> str:
        return repr(dict(zip(self._names, self._values, strict=True)))


@dataclass(slots=True)
class SectorSubmission:
    """The values one workbook gives for one sector (or for one external source's indicators)."""

    code: str
    sheet: str
    values: dict[str, Mapping[str, object]] = field(default_factory=dict)  # indicator id -> input name -> value
    texts: dict[str, str] = field(default_factory=dict)  # analisi, tempi, risultato by input key
    raw: dict[str, object] = field(default_factory=dict)  # input key -> raw cell value (emptied by release())
    filled: int = 0  # inputs holding something
    findings: list[Finding] = field(default_factory=list)  # those about this submission's cells
    invalid: set[str] | frozenset = field(default_factory=set)  # indicators with a refused value
    _inputs: dict[str, Cell] | None = field(default=None, repr=False, compare=False)  # the layout's, shared
    _signature: str = field(default="", repr=False, compare=False)

    @property
    def has_errors(self) -> bool:
        return any(f.severity == ERROR for f in self.findings)

    @property
    def cells(self) -> dict[str, str]:
        """Input key -> A1 ref, for every input read (empty after :meth:`release`)."""
        inputs = self._inputs or {}
        return {k: inputs[k].ref for k in self.raw if k in inputs}

    def signature(self) -> str:
        """A digest of every raw value: two submissions with the same signature hold the same values.

        Keys come in layout order, the same for every workbook of a plan: no sorting needed.
        """
        if self._signature:
            return self._signature
        items = [(k, v) for k, v in self.raw.items() if v is not None and v != ""]
        return hashlib.sha256(repr(items).encode("utf-8", "surrogatepass")).hexdigest()

    def release(self) -> None:
        """Keep only what scoring and the summary use: values, analyses («Analisi scostamenti»), findings.

        Drops the raw cell values and the texts of the implementation steps. A consolidation calls this
        as soon as a file is read, so that memory does not grow with the raw content of thousands of files.
        """
        self._signature = self.signature()
        self.raw = {}
        self._inputs = None
        self.texts = {k: v for k, v in self.texts.items() if k.endswith("|analisi")}
        self.values = {k: InputValues(v) for k, v in self.values.items()}
        self.invalid = self.invalid or _NONE


@dataclass(slots=True)
class WorkbookResult:
    path: str
    status: str = REJECTED
    kind: str = ""
    source: str = "responsabile"
    sectors: dict[str, SectorSubmission] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    sha256: str = ""
    size: int = 0
    saved: str = ""  # ISO time the file was last saved (document property, else file mtime)

    @property
    def sector_codes(self) -> list[str]:
        return list(self.sectors)

    def release(self) -> WorkbookResult:
        """See :meth:`SectorSubmission.release`; returns self."""
        for sub in self.sectors.values():
            sub.release()
        return self

    def to_frames(self) -> dict:
        """pandas DataFrames: ``values`` (one row per input) and ``findings``."""
        import pandas as pd

        values = [{"sector": code, "key": key, "cell": sub.cells.get(key, ""), "raw": raw,
                   "value": (sub.texts.get(key) if key in sub.texts else
                             sub.values.get(key.split("|")[0], {}).get(key.split("|")[-1]))}
                  for code, sub in self.sectors.items() for key, raw in sub.raw.items()]
        findings = [f.to_dict() for f in self.findings]
        return {"values": pd.DataFrame(values, columns=["sector", "key", "cell", "raw", "value"]),
                "findings": pd.DataFrame(findings, columns=["code", "severity", "message", "file", "line",
                                                            "sheet", "cell"])}

    def to_dict(self) -> dict:
        return {
            "path": self.path,
            "status": self.status,
            "kind": self.kind,
            "source": self.source,
            "sectors": self.sector_codes,
            "findings": [f.to_dict() for f in self.findings],
        }


class _Reject(Exception):
    pass


# --- low-level package reading ---------------------------------------------------------

def _zip(source):
    """A checked :class:`~piao_xls.sheetio.safeopen.Package` as is; a path or file object opened as a zip."""
    return source if isinstance(source, Package) else zipfile.ZipFile(source)


def read_properties(path) -> tuple[dict[str, str], str]:
    """Custom document properties and the last-saved time, from .xlsx or .ods (path, file or Package)."""
    props: dict[str, str] = {}
    saved = ""
    with _zip(path) as z:
        names = set(z.namelist())
        if "docProps/custom.xml" in names:
            root = parse_xml(z.read("docProps/custom.xml"))
            for p in root:
                name = p.get("name")
                if name and len(p):
                    props[name] = (p[0].text or "").strip()
        if "docProps/core.xml" in names:
            root = parse_xml(z.read("docProps/core.xml"))
            for el in root:
                if el.tag.endswith("}modified") and el.text:
                    saved = el.text.strip()
        if "meta.xml" in names:  # OpenDocument
            root = parse_xml(z.read("meta.xml"))
            for el in root.iter():
                tag = el.tag.rsplit("}", 1)[-1]
                if tag == "user-defined":
                    name = next((v for k, v in el.attrib.items() if k.endswith("}name")), None)
                    if name:
                        props[name] = (el.text or "").strip()
                elif tag == "date" and el.text:
                    saved = el.text.strip()
    return props, saved


# Formula tags and error-typed cells, found from a literal first character (5-10x faster than one regex).
_F_PLAIN = re.compile(rb"<f[\s>/]")
_F_PREFIXED = re.compile(rb":f[\s>/]")
_T_ERROR = re.compile(rb't="e"')
_PREFIX_TAG = re.compile(rb"<\w+")


def _formula_tags(data: bytes):
    """Start of every <f> (or <x:f>) tag."""
    yield from (m.start() for m in _F_PLAIN.finditer(data))
    if b":f" not in data:  # no prefixed formula tag: skip a slower scan (":" is in every row's spans)
        return
    for m in _F_PREFIXED.finditer(data):
        lt = data.rfind(b"<", max(0, m.start() - 256), m.start())
        if lt >= 0 and _PREFIX_TAG.fullmatch(data, lt, m.start()):
            yield lt


def _error_types(data: bytes):
    """(start, end) of every whitespace + t="e" (a cell holding an error value)."""
    for m in _T_ERROR.finditer(data):
        if m.start() > 0 and data[m.start() - 1] in b" \t\r\n\f\v":
            yield m.start() - 1, m.end()


_CELL_OPEN = re.compile(rb"<(?:\w+:)?c\s[^>]*?\br=\"([A-Z]+[0-9]+)\"")
_VALUE = re.compile(rb"<(?:\w+:)?v>([^<]{0,40})</")


@dataclass
class SpecialCells:
    """What calamine cannot see in input cells: formulas typed in, and error values (#DIV/0!)."""

    formulas: set[tuple[int, int]] = field(default_factory=set)  # (row, col), 0-based
    errors: dict[tuple[int, int], str] = field(default_factory=dict)  # (row, col) -> "#DIV/0!"


def _enclosing_cell(data: bytes, pos: int, prefixed: bool = True) -> re.Match | None:
    """The opening tag of the cell around ``pos``; ``prefixed``: the part may hold <x:c> tags."""
    lo = max(0, pos - 512)  # a cell's opening tag is a few bytes before its <f> or t="e"
    start = data.rfind(b"<c ", lo, pos)
    if prefixed:
        start = max(start, data.rfind(b":c ", lo, pos) - 1)
    return _CELL_OPEN.match(data, start) if start >= 0 else None


def _position(ref: bytes) -> tuple[int, int]:
    """b"E12" -> (11, 4)."""
    i = 0
    col = 0
    while i < len(ref) and 65 <= ref[i] <= 90:
        col = col * 26 + ref[i] - 64
        i += 1
    return int(ref[i:]) - 1, col - 1


def _xlsx_special_cells(path: Path | Package, wanted: dict[str, set[tuple[int, int]]]) -> dict[str, SpecialCells]:
    """For each sheet, which of the ``wanted`` cells (row, col) hold a formula or an error value (xlsx only).

    A byte scan, not an XML parse: it expands nothing and is ten times faster than iterparse.
    """
    out: dict[str, SpecialCells] = {}
    try:
        with _zip(path) as z:
            wbx = parse_xml(z.read("xl/workbook.xml"))
            rels = parse_xml(z.read("xl/_rels/workbook.xml.rels"))
            targets = {r.get("Id"): r.get("Target") for r in rels}
            for s in wbx.iter():
                if not s.tag.endswith("}sheet") or s.get("name") not in wanted:
                    continue
                name = s.get("name")
                rid = next((v for k, v in s.attrib.items() if k.endswith("}id")), None)
                target = targets.get(rid, "")
                part = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
                data = z.read(part)
                found = SpecialCells()
                cells = wanted[name]
                prefixed = b":c " in data
                for pos in _formula_tags(data):
                    cm = _enclosing_cell(data, pos, prefixed)
                    if cm and (at := _position(cm.group(1))) in cells:
                        found.formulas.add(at)
                for start, end in _error_types(data):
                    cm = _enclosing_cell(data, start, prefixed)
                    if cm and (at := _position(cm.group(1))) in cells:
                        vm = _VALUE.search(data, end, end + 2000)
                        found.errors[at] = vm.group(1).decode("utf-8", "replace") if vm else "#ERR"
                out[name] = found
    except (KeyError, zipfile.BadZipFile):
        pass
    return out


_ODS_TEXT = re.compile(rb"<(?:\w+:)?p(?:\s[^>]*)?>([^<]{0,40})<")


def _ods_special_cells(package: Package, wanted: dict[str, set[tuple[int, int]]]) -> dict[str, SpecialCells]:
    """As :func:`_xlsx_special_cells`, for OpenDocument: cells with ``table:formula`` or an error value,
    at the positions :func:`piao_xls.sheetio.safeopen.ods_rows` counts (those of calamine)."""
    out: dict[str, SpecialCells] = {}
    body = package.parts.get("content.xml", b"")
    for name, start, end in ods_tables(body):
        cells = wanted.get(name)
        if not cells:
            continue
        found = out.setdefault(name, SpecialCells())
        last_row = max(r for r, _ in cells)
        for row, n_rows, row_cells, inner in ods_rows(body, start, end):
            if row > last_row:
                break
            for col, n_cols, cm in row_cells:
                attrs = cm.group(1)
                formula = b"formula=" in attrs
                error = b'value-type="error"' in attrs
                if not (formula or error):
                    continue
                text = _ODS_TEXT.search(inner, cm.end()) if error else None
                hits = ([(row, col)] if (row, col) in cells else []) if n_rows == n_cols == 1 else [
                    (r, c) for r, c in cells if row <= r < row + n_rows and col <= c < col + n_cols]
                for at in hits:
                    if formula:
                        found.formulas.add(at)
                    if error:
                        found.errors[at] = text.group(1).decode("utf-8", "replace").strip() if text else "#ERR"
    return out


# --- value validation ------------------------------------------------------------------

def _excel_date(serial: float) -> date:
    return (datetime(1899, 12, 30) + timedelta(days=float(serial))).date()


def validate_value(raw, cell: Cell, year: int) -> tuple[object, str | None, str | None]:
    """(value, error message, warning message) for a raw cell value, per the input's unit.

    The value is None when the cell is empty or invalid. Messages are Italian.
    """
    unit = cell.unit or "text"
    v = cell.validation
    if raw is None:
        return None, None, None
    if isinstance(raw, str):
        if not raw or raw.isspace():
            return None, None, None
        if (raw.lstrip()[:1] == "#" and raw.strip().upper() in EXCEL_ERRORS) or raw.startswith("Err:"):
            return None, f"la cella contiene un errore ({raw.strip()}): inserire {UNIT_IT[unit]}", None
    if unit != "text" and is_not_available(raw):
        return NOT_AVAILABLE, None, None  # needs a note in the analysis: see _check_required_sector
    if unit == "text":
        text = raw if isinstance(raw, str) else (f"{raw:g}" if isinstance(raw, float) else str(raw))
        limit = int(v.maximum) if v and v.maximum else 2000
        if len(text) > limit:
            return None, f"testo troppo lungo ({len(text)} caratteri, massimo {limit})", None
        return text, None, None
    if unit == "yes_no":
        answer = parse_yes_no(raw)
        if answer is not None:
            return answer, None, None
        return None, f"valore «{str(raw)[:40]}» non ammesso: scegliere Sì oppure No", None
    if unit == "date":
        warn = None
        if isinstance(raw, datetime):
            d = raw.date()
        elif isinstance(raw, date):
            d = raw
        elif isinstance(raw, (int, float)) and not isinstance(raw, bool):
            d = _excel_date(raw)
        else:
            m = re.fullmatch(r"\s*(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})\s*", str(raw))
            if not m:
                return None, f"«{str(raw)[:40]}» non è una data: inserire una data nel formato gg/mm/aaaa", None
            try:
                d = date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
            except ValueError:
                return None, f"«{str(raw)[:40]}» non è una data valida", None
            warn = "data inserita come testo: interpretata come gg/mm/aaaa"
        lo, hi = date(year - 1, 1, 1), date(year + 1, 12, 31)
        if v is not None and v.kind == "date" and isinstance(v.minimum, date) and isinstance(v.maximum, date):
            lo, hi = v.minimum, v.maximum  # the window the workbook states (it follows the target's year)
        if not lo <= d <= hi:
            return None, f"data {d:%d/%m/%Y} fuori dal periodo ammesso ({lo:%d/%m/%Y} - {hi:%d/%m/%Y})", None
        return d, None, warn
    # numeric units
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        return None, (f"«{str(raw)[:40]}» non è {UNIT_IT[unit]}: inserire solo il numero, senza testo"), None
    x = float(raw)
    if not math.isfinite(x):
        return None, "valore numerico non valido", None
    if unit == "percent":
        hi = v.maximum if v and v.maximum is not None else 1.0
        if not 0 <= x <= hi:
            hint = f" (forse intendeva {x:g}%?)" if 1 < x <= 100 * hi else ""
            return None, f"percentuale {x * 100:g}% fuori dall'intervallo 0% - {hi * 100:g}%{hint}", None
    elif unit == "amount":
        if x < 0:
            return None, f"importo negativo ({x:g} €): inserire un importo maggiore o uguale a 0", None
    elif unit == "number" and v and v.minimum is not None and x < v.minimum:
        return None, f"valore {x:g} inferiore al minimo ammesso ({v.minimum:g})", None
    return x, None, None


# --- reading ---------------------------------------------------------------------------

def _norm(value) -> object:
    if isinstance(value, str):
        return " ".join(value.split())
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return round(float(value), 9)
    return value


def _input_entries(layout: SheetLayout, plan: Plan) -> list[tuple[str, int, int, Cell, str, str, bool]]:
    """(key, row, col, cell, indicator or objective id, input name, is text) of every input, cached on the layout.

    Indicator ids are the plan's own strings: thousands of results then share them.
    """
    cached = layout.__dict__.get("_input_entries")
    if cached is None:
        cached = []
        ids = _cached(plan, ("indicator ids",), lambda: {i.id: i.id for i in plan.indicators})
        for key, c in layout.inputs.items():
            target, _, name = key.partition("|")
            cached.append((key, c.row, c.col, c, ids.get(target, target), sys.intern(name), c.unit == "text"))
        layout.__dict__["_input_entries"] = cached
    return cached


def _input_positions(layout: SheetLayout) -> set[tuple[int, int]]:
    cached = layout.__dict__.get("_input_positions")
    if cached is None:
        cached = layout.__dict__["_input_positions"] = {(c.row, c.col) for c in layout.inputs.values()}
    return cached


def _check_tamper(rows: list[list], layout: SheetLayout, file: str) -> list[Finding]:
    found = []
    n_rows = len(rows)
    for r, c, want in layout.label_values:
        row = rows[r] if r < n_rows else ()
        got = row[c] if c < len(row) else None
        if got == want:
            continue  # almost always: whitespace and number types are normalized only when needed
        if got == "":
            got = None
        if _norm(got) != _norm(want):
            if len(found) < 10:
                found.append(Finding("WB-TAMPERED", ERROR, f"cella protetta modificata: atteso «{str(want)[:60]}», "
                                     f"trovato «{str(got)[:60] if got is not None else ''}»", file=file,
                                     sheet=layout.name, cell=a1(r, c)))
            else:
                break
    expected_rows = layout.last_row + 1
    if len(rows) > expected_rows and any(v not in ("", None) for row in rows[expected_rows:] for v in row):
        found.append(Finding("WB-TAMPERED", ERROR, f"contenuto oltre la riga {expected_rows}: righe inserite o "
                             "dati aggiunti fuori dalle schede", file=file, sheet=layout.name,
                             cell=a1(expected_rows, 0)))
    if found:
        found.append(Finding("WB-TAMPERED", ERROR, "la struttura del foglio non corrisponde al piano: "
                             "i valori di questo foglio non vengono letti. Restituire il file originale compilato "
                             "senza modificare le parti protette.", file=file, sheet=layout.name))
    return found


def _read_sheet(rows: list[list], layout: SheetLayout, code: str, plan: Plan, file: str,
                special: SpecialCells) -> tuple[SectorSubmission, list[Finding]]:
    sub = SectorSubmission(code, layout.name, _inputs=layout.inputs)
    findings: list[Finding] = []
    raws, values, texts = sub.raw, sub.values, sub.texts
    errors, formulas = special.errors, special.formulas
    n_rows, year, filled = len(rows), plan.year, 0
    for key, r, c, cell, target, name, is_text in _input_entries(layout, plan):
        row = rows[r] if r < n_rows else ()
        raw = row[c] if c < len(row) else None
        if raw == "":
            raw = None
        if raw is None and errors:
            raw = errors.get((r, c))  # calamine reads error values as empty
        raws[key] = raw
        value = None
        if formulas and (r, c) in formulas:
            findings.append(Finding("WB-FORMULA", WARNING, "nella cella è stata inserita una formula: viene usato "
                                    "il suo valore; inserire direttamente il valore", file=file, sheet=layout.name,
                                    cell=a1(r, c)))
        if raw is not None:
            if type(raw) is not str or not raw.isspace():
                filled += 1
            value, err, warn = validate_value(raw, cell, year)
            if err:
                findings.append(Finding("WB-VALUE", ERROR, f"{err}. Atteso: {UNIT_IT[cell.unit or 'text']}.",
                                        file=file, sheet=layout.name, cell=a1(r, c)))
                if not is_text:
                    sub.invalid.add(target)
            if warn:
                findings.append(Finding("WB-VALUE", WARNING, warn, file=file, sheet=layout.name, cell=a1(r, c)))
        if is_text:
            if value is not None:
                texts[key] = value
        elif target in values:
            values[target][name] = value
        else:
            values[target] = {name: value}
    sub.filled = filled
    return sub, findings


_LAYOUTS: OrderedDict[tuple, tuple[Plan, object]] = OrderedDict()
LAYOUT_CACHE_SIZE = 64  # least recently used layouts are dropped: memory stays flat with 2,000 sectors


def _cached(plan: Plan, key: tuple, build):
    """Layouts are pure functions of the plan: compute each once per plan object (while it is in the cache)."""
    k = (id(plan), *key)
    hit = _LAYOUTS.get(k)
    if hit is None or hit[0] is not plan:
        hit = (plan, build())
        _LAYOUTS[k] = hit
        while len(_LAYOUTS) > LAYOUT_CACHE_SIZE:
            _LAYOUTS.popitem(last=False)
    else:
        _LAYOUTS.move_to_end(k)
    return hit[1]


def _sector_index(plan: Plan) -> dict:
    """Sector code -> sector, once per plan (plan.sector() is a linear search: slow with 2,000 sectors)."""
    return _cached(plan, ("sector index",), lambda: {s.code: s for s in plan.sectors})


def expected_layout(plan: Plan, props: dict[str, str]) -> WorkbookLayout:
    """The sheets a workbook with these properties must have, as reader views (see layout.sector_sheet)."""
    kind = props.get("piao_kind", "")
    if kind == "source":
        source = props.get("piao_source", "nucleo")
        return _cached(plan, ("source", source), lambda: WorkbookLayout(
            "source", "", [source_sheet(plan, source, for_reader=True)], props, source=source))
    if kind == "sector":
        codes = [c for c in props.get("piao_sectors", "").split(",") if c]
        index = _sector_index(plan)
        sheets = [_cached(plan, ("sector", c), lambda c=c: sector_sheet(plan, index[c], for_reader=True))
                  for c in codes]
        return WorkbookLayout("sector", "", sheets, props, tuple(codes))
    return _cached(plan, ("all",), lambda: WorkbookLayout(
        "all", "", [sector_sheet(plan, s, for_reader=True) for s in plan.sectors], props,
        tuple(s.code for s in plan.sectors)))


def _identify(path: Path, plan: Plan, package: Package | None = None) -> tuple[dict[str, str], str, list[Finding]]:
    from defusedxml import DefusedXmlException

    file = str(path)
    try:
        props, saved = read_properties(package if package is not None else path)
    except DefusedXmlException as e:  # an entity or DTD in the properties: never expanded
        raise _Reject(Finding("WB-UNSAFE", ERROR, "le proprietà del documento contengono dichiarazioni XML non "
                              f"ammesse ({type(e).__name__}): file costruito ad arte o danneggiato", file=file)) from e
    except (zipfile.BadZipFile, OSError, KeyError) as e:
        raise _Reject(Finding("WB-OPEN", ERROR, f"il file non è una cartella di lavoro leggibile ({e})", file=file)) from e
    except Exception as e:  # malformed XML in the package
        raise _Reject(Finding("WB-OPEN", ERROR, f"il file è danneggiato ({type(e).__name__})", file=file)) from e
    if "piao_plan_id" not in props:
        raise _Reject(Finding("WB-IDENTITY", ERROR, "il file non è un modulo generato da piao-xls (mancano le "
                              "proprietà del documento): usare il file ricevuto dall'ufficio", file=file))
    checks = [("piao_plan_id", plan.plan_id, "piano"), ("piao_year", str(plan.year), "anno"),
              ("piao_layout_version", LAYOUT_VERSION, "versione del modulo")]
    for key, want, what in checks:
        if props.get(key) != want:
            raise _Reject(Finding("WB-IDENTITY", ERROR, f"il file appartiene a un altro {what} "
                                  f"(«{props.get(key)}», atteso «{want}»): usare il modulo della campagna in corso",
                                  file=file))
    if props.get("piao_fingerprint") != plan.fingerprint:
        theirs = props.get("piao_fingerprint", "")[:12] or "assente"
        raise _Reject(Finding("WB-IDENTITY", ERROR, f"il file appartiene a un'altra versione del piano "
                              f"«{props.get('piao_plan_id', '')[:60]}» (impronta {theirs}, attesa "
                              f"{plan.fingerprint[:12]}): rigenerare i moduli o indicare il piano corretto", file=file))
    kind, source = props.get("piao_kind", ""), props.get("piao_source", "responsabile")
    if kind not in ("all", "sector", "source") or (source in SOURCE_SHEETS) != (kind == "source"):
        raise _Reject(Finding("WB-IDENTITY", ERROR, f"tipo di modulo non riconosciuto nelle proprietà del documento "
                              f"(«{kind[:40]}», «{source[:40]}»): usare il file ricevuto dall'ufficio", file=file))
    codes = [c for c in props.get("piao_sectors", "").split(",") if c and c != "*"]
    known = _sector_index(plan)
    if any(c not in known for c in codes):
        raise _Reject(Finding("WB-IDENTITY", ERROR, f"settori sconosciuti nel file: {', '.join(codes)}", file=file))
    return props, saved, []


def read_workbook(path: str | Path, plan: Plan, limits: Limits | None = None) -> WorkbookResult:
    """Read, identify, check and validate one returned workbook. Never raises for a bad file.

    The file is read once (up to ``limits.max_size``), hashed, and checked by
    :mod:`piao_xls.sheetio.safeopen` before any parser sees it; every reader then works on those bytes.
    """
    path = Path(path)
    res = WorkbookResult(str(path))
    try:
        data_stat = path.stat()
        res.size = data_stat.st_size
        res.saved = datetime.fromtimestamp(data_stat.st_mtime).isoformat(timespec="seconds")
        data = read_bounded(path, limits)
        res.sha256 = hashlib.sha256(data).hexdigest()
        _read_into(path, plan, res, data, limits)
    except UnsafeFile as u:
        res.findings.append(Finding(u.code, ERROR, u.message, file=str(path)))
    except _Reject as r:
        res.findings.append(r.args[0])
    except OSError as e:
        res.findings.append(Finding("WB-OPEN", ERROR, f"impossibile leggere il file: {e.strerror or e}", file=str(path)))
    except Exception as e:  # a damaged file must never stop a batch
        res.findings.append(Finding("WB-OPEN", ERROR, f"il file è danneggiato o non leggibile ({type(e).__name__})",
                                    file=str(path)))
        res.sectors.clear()
    except BaseException as e:  # a panic in python-calamine (pyo3 PanicException is not an Exception)
        if type(e).__name__ != "PanicException":
            raise
        res.findings.append(Finding("WB-OPEN", ERROR, "il file è danneggiato o non leggibile (errore interno del "
                                    "lettore)", file=str(path)))
        res.sectors.clear()
    errors = any(f.severity == ERROR for f in res.findings)
    res.status = REJECTED if errors else ACCEPTED_WITH_WARNINGS if res.findings else ACCEPTED
    return res


def _read_into(path: Path, plan: Plan, res: WorkbookResult, data: bytes, limits: Limits | None = None) -> None:
    import io

    import python_calamine

    file = str(path)
    package = open_package(data, path.name, limits)  # raises UnsafeFile: size, format, bombs, macros, DTDs
    props, saved, findings = _identify(path, plan, package)
    res.findings.extend(findings)
    if saved:
        res.saved = saved
    res.kind = props.get("piao_kind", "")
    res.source = props.get("piao_source", "responsabile")
    expected = expected_layout(plan, props)
    sheets = [s for s in expected.sheets if s.kind != "instructions"]
    wb = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(package.data))  # the checked bytes
    try:
        names = list(wb.sheet_names)
        want = {s.name for s in sheets} | {INSTRUCTIONS_SHEET}
        extras = [n for n in names if n not in want]
        for extra in extras[:20]:
            shown = "".join(ch for ch in extra[:60] if ch.isprintable())
            res.findings.append(Finding("WB-TAMPERED", ERROR, f"foglio aggiunto o rinominato: «{shown}»", file=file,
                                        sheet=shown))
        if len(extras) > 20:
            res.findings.append(Finding("WB-TAMPERED", ERROR, f"altri {len(extras) - 20} fogli aggiunti", file=file))
        present = [s for s in sheets if s.name in names]
        for s in sheets:
            if s.name not in names:
                res.findings.append(Finding("WB-TAMPERED", ERROR, f"foglio mancante o rinominato: «{s.name}» "
                                            "(i suoi valori non vengono letti)", file=file, sheet=s.name))
        special: dict[str, SpecialCells] = {}
        wanted = {s.name: _input_positions(s) for s in present}
        special = (_xlsx_special_cells if package.kind == "xlsx" else _ods_special_cells)(package, wanted)
        for s in present:
            rows = wb.get_sheet_by_name(s.name).to_python(skip_empty_area=False)
            tamper = _check_tamper(rows, s, file)
            res.findings.extend(tamper)
            if tamper:
                continue
            if s.kind == "source":
                _split_source(rows, s, plan, file, res, special.get(s.name, SpecialCells()))
                continue
            sub, found = _read_sheet(rows, s, s.sector_code, plan, file, special.get(s.name, SpecialCells()))
            if res.kind == "all" and sub.filled == 0:
                continue  # an untouched sector of the all-sector workbook is not a submission
            res.findings.extend(found)
            sub.findings.extend(found)
            res.sectors[s.sector_code] = sub
    finally:
        wb.close()
    if not res.sectors and not any(f.severity == ERROR for f in res.findings):
        res.findings.append(Finding("WB-MISSING", ERROR, "il file non contiene alcun valore compilato", file=file))
    _check_required(plan, res, file)
    name_hint = re.search(r"PIAO-\d{4}-([A-Z]{2,})-", path.name)
    if res.kind == "sector" and name_hint and name_hint.group(1) not in res.sectors and res.sectors:
        res.findings.append(Finding("WB-IDENTITY", WARNING, f"il nome del file indica il settore {name_hint.group(1)} "
                                    f"ma il contenuto è del settore {', '.join(res.sectors)}: letto come "
                                    f"{', '.join(res.sectors)}", file=file))


def _split_source(rows, layout: SheetLayout, plan: Plan, file: str, res: WorkbookResult,
                  special: SpecialCells) -> None:
    """A source workbook holds indicators of many sectors: one submission per sector."""
    sub, found = _read_sheet(rows, layout, "", plan, file, special)
    res.findings.extend(found)
    by_code: dict[str, SectorSubmission] = {}
    for sector in plan.sectors:
        ids = {i.id for i in sector.indicators if i.source == res.source}
        if not ids:
            continue
        part = SectorSubmission(sector.code, layout.name, invalid=sub.invalid & ids, _inputs=sub._inputs)
        for key, raw in sub.raw.items():
            target = key.split("|", 1)[0]
            if target in ids:
                part.raw[key] = raw
                if key in sub.texts:
                    part.texts[key] = sub.texts[key]
                if raw not in (None, ""):
                    part.filled += 1
        for ind_id in ids:
            if ind_id in sub.values:
                part.values[ind_id] = sub.values[ind_id]
        mine = set(part.cells.values())
        part.findings.extend(f for f in found if f.cell in mine)
        by_code[sector.code] = part
    res.sectors.update(by_code)


def _check_required(plan: Plan, res: WorkbookResult, file: str) -> None:
    """Scored indicators need a value; an achievement below 100% needs an analysis."""
    for sub in res.sectors.values():
        before = len(res.findings)
        _check_required_sector(plan, res, sub, file)
        sub.findings.extend(res.findings[before:])


def _check_required_sector(plan: Plan, res: WorkbookResult, sub: SectorSubmission, file: str) -> None:
    from ..core.rules import kind_of
    from ..core.scoring import MISSING, NOT_AVAILABLE_REASON, score_indicator

    sector = _sector_index(plan)[sub.code]
    for ind in sector.indicators:
        if not ind.scored or ind.source != res.source:
            continue
        bad = ind.id in sub.invalid  # already reported where the value is
        sc = score_indicator(ind, sub.values.get(ind.id, {}), plan.scoring)
        if sc.status == MISSING and sc.reason == NOT_AVAILABLE_REASON and not bad:
            note = " ".join(sub.texts.get(f"{ind.id}|analisi", "").split())
            if note:
                res.findings.append(Finding("WB-NOT-AVAILABLE", WARNING, f"indicatore {ind.id}: valore dichiarato "
                                            f"non disponibile («{note[:120]}»); conta 0 nel punteggio",
                                            file=file, sheet=sub.sheet, cell=_first_ref(sub, ind.id)))
            else:
                res.findings.append(Finding("WB-ANALYSIS", ERROR, f"indicatore {ind.id}: valore non disponibile "
                                            "senza motivazione; spiegare il motivo nell'«Analisi scostamenti "
                                            "rispetto al target»", file=file, sheet=sub.sheet,
                                            cell=_first_ref(sub, ind.id, "analisi")))
        elif sc.status == MISSING and not bad:
            res.findings.append(Finding("WB-MISSING", ERROR, f"indicatore {ind.id} non rendicontato: inserire il "
                                        "valore consuntivo", file=file, sheet=sub.sheet, cell=_first_ref(sub, ind.id)))
        elif sc.status == "invalid" and not bad:
            res.findings.append(Finding("WB-DIV-ZERO", ERROR, f"indicatore {ind.id}: {sc.reason}; verificare il "
                                        "denominatore", file=file, sheet=sub.sheet, cell=_first_ref(sub, ind.id)))
        elif (kind_of(ind.rule.kind).needs_motivation and not bad
              and not sub.texts.get(f"{ind.id}|analisi", "").strip()):
            res.findings.append(Finding(
                "WB-ANALYSIS", ERROR, f"indicatore {ind.id}: il giudizio va motivato nella colonna «Analisi "
                "scostamenti rispetto al target»", file=file, sheet=sub.sheet, cell=_first_ref(sub, ind.id, "analisi")))
        elif (sc.achievement is not None and sc.achievement < 1 - 1e-12 and not bad
              and not sub.texts.get(f"{ind.id}|analisi", "").strip()):
            res.findings.append(Finding(
                "WB-ANALYSIS", ERROR, f"indicatore {ind.id} raggiunto al {sc.achievement * 100:.2f}%: "
                "compilare l'«Analisi scostamenti rispetto al target»", file=file, sheet=sub.sheet,
                cell=_first_ref(sub, ind.id, "analisi")))


def _first_ref(sub: SectorSubmission, target: str, name: str = "") -> str | None:
    """The A1 ref of an indicator's first input (or of its input ``name``), None if it has none."""
    inputs = sub._inputs or {}
    if name:
        cell = inputs.get(f"{target}|{name}")
        return cell.ref if cell else None
    prefix = target + "|"
    return next((inputs[k].ref for k in sub.raw if k.startswith(prefix) and k in inputs), None)


def why_keep(path: str | Path, plan: Plan) -> str | None:
    """Why an existing workbook must not be overwritten by ``generate``, or None when it is safe to."""
    res = read_workbook(path, plan)
    filled = sum(s.filled for s in res.sectors.values())
    if filled:
        return f"{path} contiene già {filled} valori compilati"
    if any(f.code in ("WB-IDENTITY", "WB-TAMPERED") and f.severity == "error" for f in res.findings):
        return f"{path} esiste e non si può confrontare con questo piano (potrebbe contenere valori compilati)"
    return None
