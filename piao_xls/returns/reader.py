"""The reader adapter: a returned workbook -> validated values and findings.

Nothing a Responsabile returns is trusted. The guard (:mod:`piao_xls.sheetio.safeopen`) checks the
bytes and the package; :func:`piao_xls.sheetio.book.read_book` then parses each needed part once,
and everything below comes from that one parse: the values scored, the formulas, the cell types and
the styles the tamper check compares. The reader identifies the workbook by its custom document
properties, compares every cell of the form with the layout the writer used (values of locked
cells, formulas, styles, cells that must stay empty, the area), locates every input and
re-validates each value against its rule. :meth:`WorkbookResult.release` reduces a result to what
scoring and the summary need, for consolidations of thousands of files.
"""

from __future__ import annotations

import ast
import hashlib
import math
import re
import sys
import weakref
import zipfile
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta
from functools import lru_cache
from operator import attrgetter
from pathlib import Path
from typing import Any, TypeVar, cast

from ..core import italian as it
from ..core.answers import NOT_AVAILABLE, NOT_YET, is_not_available, is_not_yet, parse_yes_no
from ..core.errors import ERROR, WARNING, Finding
from ..core.model import Plan, Sector
from ..core.rules import NO_SPELLINGS, YES_SPELLINGS
from ..core.status import ACCEPTED, ACCEPTED_WITH_WARNINGS, REJECTED
from ..core.status import STATUS_IT as STATUS_IT  # a file's status in Italian: the one map of every output
from ..forms.layout import (
    COLS,
    INSTRUCTIONS_SHEET,
    LAYOUT_VERSION,
    ROUND_PROPERTY,
    SOURCE_SHEETS,
    Cell,
    SheetLayout,
    WorkbookLayout,
    a1,
    instructions_sheet,
    sector_sheet,
    source_sheet,
    text_row_it,
)
from ..forms.layoutcache import cached_sector_view
from ..forms.styles import STYLES, published_format
from ..sheetio.book import BookData, SheetData, read_book
from ..sheetio.safeopen import Limits, Package, UnsafeFile, open_package, parse_xml, read_bounded
from ..sheetio.text import printable

T = TypeVar("T")

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".ods", ".xls", ".xlsb")
EXCEL_ERRORS = ("#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!", "#GETTING_DATA")
YES = frozenset(YES_SPELLINGS)  # shared with the rule registry
NO = frozenset(NO_SPELLINGS)
UNIT_IT = {"percent": "una percentuale", "number": "un numero", "amount": "un importo in euro",
           "date": "una data (gg/mm/aaaa)", "yes_no": "Sì oppure No", "text": "un testo",
           "choice": "una voce dell'elenco"}


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
    saved: str = ""  # ISO time the file was last saved (document property if it parses and is plausible, else file mtime)
    saved_from: str = ""  # "documento" (the file's own property), "file" (modification time on disk)
    saved_doubt: str = ""  # why the file's own property was not used ("" when it was, or is absent)

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


# --- value validation ------------------------------------------------------------------

def _excel_date(serial: float, date1904: bool = False) -> date:
    epoch = datetime(1904, 1, 1) if date1904 else datetime(1899, 12, 30)
    return (epoch + timedelta(days=float(serial))).date()


def validate_value(raw, cell: Cell, year: int, date1904: bool = False) -> tuple[object, str | None, str | None]:
    """(value, error message, warning message) for a raw cell value, per the input's unit.

    The value is None when the cell is empty or invalid. Messages are Italian. ``date1904``: a serial
    number in a date cell counts days from 1904-01-01 (the workbook's date system).
    """
    unit = cell.unit or "text"
    v = cell.validation
    if raw is None:
        return None, None, None
    if raw.__class__ is float and not math.isfinite(raw):
        return None, "valore numerico non valido (non finito)", None
    if isinstance(raw, str):
        if not raw or raw.isspace():
            return None, None, None
        if (raw.lstrip()[:1] == "#" and raw.strip().upper() in EXCEL_ERRORS) or raw.startswith("Err:"):
            return None, f"la cella contiene un errore ({raw.strip()}): inserire {UNIT_IT[unit]}", None
    if unit != "text" and is_not_available(raw):
        return NOT_AVAILABLE, None, None  # needs a note in the analysis: see _check_required_sector
    if v is not None and v.not_yet and is_not_yet(raw):
        return NOT_YET, None, None  # a monitoring form's value not measurable yet at the round's date
    if unit == "choice":
        typed = " ".join(str(raw).split()).lower()
        for choice in v.choices if v is not None else ():
            if choice.lower() == typed:
                return choice, None, None
        listed = ", ".join(v.choices) if v is not None else ""
        return None, f"valore «{str(raw)[:40]}» non ammesso: scegliere una voce dell'elenco ({listed})", None
    if unit == "text":
        text = raw if isinstance(raw, str) else (f"{raw:g}" if isinstance(raw, float) else str(raw))
        limit = int(v.maximum) if v and isinstance(v.maximum, (int, float)) and v.maximum else 2000
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
            try:
                d = _excel_date(raw, date1904)
            except (OverflowError, ValueError):
                return None, f"«{it.plain(raw)}» non è una data: inserire una data nel formato gg/mm/aaaa", None
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
            return None, f"data {it.day(d)} fuori dal periodo ammesso ({it.day(lo)} - {it.day(hi)})", None
        return d, None, warn
    # numeric units
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        return None, (f"«{str(raw)[:40]}» non è {UNIT_IT[unit]}: inserire solo il numero, senza testo"), None
    x = float(raw)
    if not math.isfinite(x):
        return None, "valore numerico non valido", None
    if unit == "percent":
        top = v.maximum if v and isinstance(v.maximum, (int, float)) else 1.0
        if not 0 <= x <= top:
            hint = f" (forse intendeva {it.plain(x)}%?)" if 1 < x <= 100 * top else ""
            return None, (f"percentuale {it.percent_plain(x, 6)} fuori dall'intervallo 0% - "
                          f"{it.percent_plain(top, 6)}{hint}"), None
    elif unit == "amount" and x < 0:
        return None, f"importo negativo ({it.amount(x)}): inserire un importo maggiore o uguale a 0", None
    elif unit == "number" and v and isinstance(v.minimum, (int, float)) and x < v.minimum:
        return None, f"valore {it.plain(x)} inferiore al minimo ammesso ({it.plain(v.minimum)})", None
    if v and isinstance(v.maximum, (int, float)) and unit in ("amount", "number") and x > v.maximum:
        return None, f"valore {it.plain(x)} superiore al massimo ammesso ({it.plain(v.maximum)})", None
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
    def build() -> list[tuple[str, int, int, Cell, str, str, bool]]:
        ids = _cached(plan, ("indicator ids",), lambda: {i.id: i.id for i in plan.indicators})
        out = []
        for key, c in layout.inputs.items():
            target, _, name = key.partition("|")
            out.append((key, c.row, c.col, c, ids.get(target, target), sys.intern(name), c.unit == "text"))
        return out

    return _derived(layout, "input entries", build)


def _input_positions(layout: SheetLayout) -> set[tuple[int, int]]:
    return _derived(layout, "input positions", lambda: {(c.row, c.col) for c in layout.inputs.values()})


#: what the reader derives from a sheet layout, by the layout's identity; an entry goes with its layout
_DERIVED: dict[int, dict[str, Any]] = {}


def _derived(layout: SheetLayout, name: str, build: Callable[[], T]) -> T:
    """``build()`` computed once per layout object and kept while the layout lives (the layouts themselves are
    cached per plan by :func:`_cached`); the layout object is not written to."""
    k = id(layout)
    mine = _DERIVED.get(k)
    if mine is None:
        mine = _DERIVED[k] = {}
        weakref.finalize(layout, _DERIVED.pop, k, None)
    if name not in mine:
        mine[name] = build()
    return mine[name]


@dataclass
class Expected:
    """What the full layout of one sheet puts where, computed once per sheet layout (and kept small: a
    reader keeps the layouts of the last sectors it read, and memory held is time lost).

    ``labels``: (row, col, value) of every label with a value, also as two parallel lists (``label_at``,
    ``label_want``) for the check of a sheet that holds no surprise (:func:`_untouched`); ``formulas``:
    (row, col) -> formula text; ``looked``: (row, col) -> style name of every cell the layout writes but
    the inputs (their look is checked); ``allowed``: every position that may hold a value (labels with a
    text or number, inputs, formulas). Everything else stays empty, the cells a merge covers too (content
    there is hidden by the merge). One tuple per position is shared by all of them.
    """

    labels: list[tuple[int, int, object]]
    label_at: list[tuple[int, int]]
    label_want: list[object]
    label_numbers: list[object]  # ``label_want`` with every float as the check cell by cell compares it (_norm)
    formulas: dict[tuple[int, int], str]  # as xlsxwriter writes it (normalized only to compare another spelling)
    looked: dict[tuple[int, int], str]
    allowed: frozenset[tuple[int, int]]
    last_row: int


def _expected(layout: SheetLayout) -> Expected:
    # one pass over the cells (a sector's sheet has thousands): one position tuple per cell, shared by everything
    inputs = _input_positions(layout)
    looked: dict[tuple[int, int], str] = {}  # the look of every cell but the inputs
    formulas: dict[tuple[int, int], str] = {}
    labels: list[tuple[int, int, object]] = []  # as layout.label_values: the labels with a value, in order
    label_at: list[tuple[int, int]] = []
    allowed: list[tuple[int, int]] = []  # an empty label and the cells a merge covers stay empty
    last_row = 0  # as layout.last_row: the last row a cell or its merge covers
    for c in layout.cells:
        row = c.row
        at = (row, c.col)
        if at not in inputs:
            looked[at] = c.style
        merge = c.merge_to
        bottom = merge[0] if merge else row
        if bottom > last_row:
            last_row = bottom
        kind = c.kind
        if kind == "label":
            value = c.value
            if value is None or value == "":
                continue
            labels.append((row, c.col, value))
            label_at.append(at)
        elif kind == "formula":
            formulas[at] = _formula_text(c.formula)
        allowed.append(at)
    want = [label[2] for label in labels]
    return Expected(labels, label_at, want, _floats_normed(want), formulas, looked, frozenset([*allowed, *inputs]),
                    last_row)


def _reading_view(plan: Plan, sector: Sector) -> SheetLayout:
    """The sheet of a year-end form of ``sector`` as reading needs it, through the layout cache: its input cells
    and its :class:`Expected` (computed from the full layout once, kept with it), never its thousands of cells."""
    layout, found = cached_sector_view(plan, sector, _expected_fields, _expected_fields_ok)
    _derived(layout, "expected", lambda: Expected(*found))
    return layout


#: the type of each field of :class:`Expected`, in order
_EXPECTED_TYPES = (list, list, list, list, dict, dict, frozenset, int)


def _expected_fields(layout: SheetLayout) -> tuple:
    exp = _expected(layout)
    return tuple(getattr(exp, f.name) for f in fields(Expected))


def _expected_fields_ok(found: tuple) -> bool:
    """``found`` has the fields of an :class:`Expected`, each of its type, the four label lists of one length."""
    return (len(found) == len(_EXPECTED_TYPES) and all(type(v) is t for v, t in zip(found, _EXPECTED_TYPES, strict=True))
            and len({len(v) for v in found[:4]}) == 1)


def _floats_normed(values: list) -> list:
    """Every float as :func:`_norm` compares it: a weight of 7.69% the layout holds as 0.0769 is stored by the
    writer as 0.07690000000000001, and the same label cell by cell."""
    return [_norm(v) if v.__class__ is float else v for v in values]


def _formula_text(text: str | None) -> str:
    text = text or ""
    return text[1:] if text.startswith("=") else text


_STYLE_OF = attrgetter("style")


def _untouched(sheet: SheetData, exp: Expected, book: BookData) -> bool:
    """True when :func:`_check_tamper` finds nothing in ``sheet`` (cells outside the area aside), decided
    with a few whole-sheet comparisons instead of one step per cell: every label equal, every formula of
    the layout present and unchanged, no value where the layout has none, and no look that differs (each
    pair of file style and layout style is judged once)."""
    cells = sheet.cells
    get = cells.get
    got = [None if cd is None else cd.value for cd in map(get, exp.label_at)]
    if got != exp.label_want and _floats_normed(got) != exp.label_numbers:
        return False
    for at, want in exp.formulas.items():
        cd = get(at)
        if cd is None or not cd.formula or cd.formula == "=" or (
                cd.formula != want and normalize_formula(cd.formula) != normalize_formula(want)):
            return False
    for at in cells.keys() - exp.allowed:
        cd = cells[at]
        if cd.value is not None or cd.formula:
            return False
    looks, kind = book.looks, book.kind
    for style, layout_style in set(zip(map(_STYLE_OF, cells.values()), map(exp.looked.get, cells), strict=True)):
        if layout_style is not None and style is not None:
            look = looks.get(style)
            if look and _look_problem(look, layout_style, kind):
                return False
    return True


_TOKEN = re.compile(r"\s*(?:([0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?|\.[0-9]+)|(.))")


def evaluate_constant(formula: str) -> float | None:
    """The value of a formula made only of numbers, + - * / ^, % and parentheses ("=150000/2");
    None for anything else (a function, a reference, text) or a non-finite result. The cached value
    a file stores for a formula is never trusted: a spreadsheet would show what the formula computes."""
    text = formula.strip()
    for prefix in ("of:=", "="):
        if text.startswith(prefix):
            text = text[len(prefix):]
            break
    if not text or len(text) > 200:
        return None
    tokens: list[object] = []
    for m in _TOKEN.finditer(text):
        if m.group(1):
            tokens.append(float(m.group(1)))
        elif m.group(2):
            if m.group(2) not in "+-*/^()%":
                return None
            tokens.append(m.group(2))
    pos = 0

    def peek():
        return tokens[pos] if pos < len(tokens) else None

    def take():
        nonlocal pos
        pos += 1
        return tokens[pos - 1]

    def atom(depth: int) -> float:
        if depth > 40:
            raise ValueError
        t = take() if pos < len(tokens) else None
        if t == "(":
            v = expr(depth + 1)
            if take() != ")":
                raise ValueError
        elif t in ("-", "+"):
            v = atom(depth + 1) * (-1 if t == "-" else 1)
        elif isinstance(t, float):
            v = t
        else:
            raise ValueError
        while peek() == "%":
            take()
            v /= 100
        return v

    def power(depth: int) -> float:
        v = atom(depth)
        while peek() == "^":
            take()
            v = v ** atom(depth)
        return v

    def term(depth: int) -> float:
        v = power(depth)
        while peek() in ("*", "/"):
            v = v * power(depth) if take() == "*" else v / power(depth)
        return v

    def expr(depth: int) -> float:
        v = term(depth)
        while peek() in ("+", "-"):
            v = v + term(depth) if take() == "+" else v - term(depth)
        return v

    try:
        value = expr(0)
        if pos != len(tokens):
            return None
        value = float(value)
    except (ValueError, ZeroDivisionError, OverflowError, TypeError, IndexError):
        return None
    return value if math.isfinite(value) else None


def normalize_formula(text: str) -> str:
    """A formula as Excel, LibreOffice (.xlsx or .ods) and xlsxwriter write it, in one spelling."""
    t = text.strip()
    for prefix in ("of:=", "of:", "="):
        if t.startswith(prefix):
            t = t[len(prefix):]
            break
    # ODF names a cell [.E10] and a range [.E10:.E12]
    t = t.replace("_xlfn.", "").replace("[.", "").replace(":.", ":").replace("]", "").replace("$", "").replace(";", ",")
    t = "".join(t.split()).upper()
    return _NUMBER.sub(lambda m: format(float(m.group()), ".12g"), t)  # Gnumeric writes 0.9 as 0.8999...978


_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]*)?(?:E[+-]?[0-9]+)?")  # one pass, no backtracking


def _full_expected(layout: SheetLayout) -> Expected:
    """The :class:`Expected` of a full layout, computed once and kept on it."""
    return _derived(layout, "expected", lambda: _expected(layout))


_GENERAL = {"general", "", "@"}
#: the fixed texts of an .ods data style as the parse summarises it (each as Python writes a string: ' gg')
_ODS_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")


def _unquoted(text: str) -> str:
    """A fixed text of an .ods data style as the parse quoted it; an attribute of a crafted file may hold quotes
    too, and what is not a string literal counts as the text between its quotes."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return text[1:-1]
    return value if isinstance(value, str) else text[1:-1]


def _format_key(code: str) -> str:
    """An Excel number format as it shows: quotes, escapes, padding, locale tags and case left out."""
    out, i, n = [], 0, len(code)
    while i < n:
        ch = code[i]
        if ch in "_*":
            i += 2
            continue
        if ch == "[" and code.startswith("[$", i):
            j = code.find("]", i)
            body = code[i + 2:j if j >= 0 else n]
            out.append(body.split("-", 1)[0])
            i = n if j < 0 else j + 1
            continue
        if ch not in '"\\ \u00a0':
            out.append(ch.lower())
        i += 1
    key = "".join(out)
    return "general" if key in _GENERAL else key


_ODS_LITERALS = {"percent": "%", "amount": "€", "text": "", "plain": ""}


@lru_cache(maxsize=64)
def _published_keys(style: str, want_fmt: str) -> frozenset[str]:
    """The formats of a live figure at every precision a plan may publish (0 to 6 decimals)."""
    return frozenset(_format_key(published_format(style, want_fmt, p)) for p in range(7))


def _look_problem(look, style: str, kind: str) -> str | None:
    """Why a locked cell's look differs from its style in a way that changes what a person sees."""
    want = STYLES.get(style, {})
    font = (look.font_color or "").upper()
    font = "" if font in ("000000", "FF000000") else font
    fill = (look.fill_color or "").upper()
    fill = "" if fill == "FFFFFF" else fill
    want_font = want.get("font_color", "").lstrip("#").upper()
    want_font = "" if want_font == "000000" else want_font
    want_fill = want.get("bg_color", "").lstrip("#").upper()
    if look.hidden:
        return "formato che nasconde il contenuto"
    if (font or "000000") == (fill or "FFFFFF") and (want_font or "000000") != (want_fill or "FFFFFF"):
        return "testo dello stesso colore dello sfondo"
    if font != want_font:
        return f"colore del testo modificato ({font or 'automatico'} invece di {want_font or 'automatico'})"
    if fill != want_fill:
        return f"colore di sfondo modificato ({fill or 'nessuno'} invece di {want_fill or 'nessuno'})"
    if look.font_size is not None and look.font_size < 6 <= want.get("font_size", 11):
        return f"carattere troppo piccolo per essere letto ({it.plain(look.font_size)} punti)"
    want_fmt = want.get("num_format", "General")
    fmt = look.num_format or "General"
    if kind == "xlsx":
        # a live figure shows the plan's published decimals (forms.styles.published_format)
        if _format_key(fmt) != _format_key(want_fmt) and _format_key(fmt) not in _published_keys(style, want_fmt):
            return f"formato numerico modificato («{printable(fmt[:40])}» invece di «{want_fmt}»)"
    else:
        literals = "".join(map(_unquoted, _ODS_QUOTED.findall(fmt)))  # a text may hold spaces
        allowed = "%" if "%" in want_fmt else "€" if "€" in want_fmt else ""
        if any(ch not in allowed and not ch.isspace() for ch in literals):
            return f"formato numerico modificato (testo fisso «{printable(literals.strip()[:40])}»)"
        if ("percentage" in fmt) != ("%" in want_fmt) and fmt != "General":
            return "formato numerico modificato (percentuale)"
    return None


def _check_tamper(sheet: SheetData, layout: SheetLayout, exp: Expected, book: BookData, file: str,
                  severity: str = ERROR) -> list[Finding]:
    found: list[Finding] = []
    name = printable(layout.name)
    if _untouched(sheet, exp, book):  # the usual case: no cell to look at one by one
        return _finish(found, sheet, name, file, severity)
    cells = sheet.cells
    get = cells.get

    def add(message: str, r: int, c: int) -> bool:
        found.append(Finding("WB-TAMPERED", severity, message, file=file, sheet=name, cell=a1(r, c)))
        return len(found) >= 10

    for r, c, want in exp.labels:
        cd = get((r, c))
        got = cd.value if cd is not None else None
        if (got == want and got.__class__ is want.__class__) or (got == want and not isinstance(want, str)):
            continue  # almost always
        if got is None:
            if add(f"cella protetta cancellata: atteso «{printable(str(want)[:60])}»", r, c):
                break
            continue
        if isinstance(want, str) or isinstance(got, str) or _norm(got) != _norm(want):
            if isinstance(got, str) and isinstance(want, str) and _norm(got) == _norm(want):
                what = "spazi modificati"
            elif isinstance(got, str) and isinstance(want, str) and got.casefold() == want.casefold():
                what = "maiuscole/minuscole modificate"
            else:
                what = "valore modificato"
            if add(f"cella protetta modificata ({what}): atteso «{printable(str(want)[:60])}», "
                   f"trovato «{printable(str(got)[:60])}»", r, c):
                break
    if len(found) < 10:
        allowed, formulas, styles, looks = exp.allowed, exp.formulas, exp.looked, book.looks
        inputs = _input_positions(layout)
        seen_looks: dict[tuple, str | None] = {}  # (cell style, layout style) -> problem: a file has a few dozen
        for (r, c), cd in cells.items():
            if len(found) >= 10:
                break
            at = (r, c)
            want_formula = formulas.get(at)
            message = None
            if want_formula is not None:
                if not cd.formula:
                    message = "formula del modulo sostituita da un valore" + (
                        f" («{printable(str(cd.value)[:40])}»)" if cd.value is not None else "")
                elif cd.formula == "=":  # a shared formula: its text lives in another cell
                    message = "formula del modulo modificata (formula condivisa)"
                elif cd.formula != want_formula and normalize_formula(cd.formula) != normalize_formula(want_formula):
                    message = "formula del modulo modificata"
            elif (cd.value is not None or cd.formula) and at not in allowed:
                message = "contenuto in una cella che deve restare vuota" + (
                    f": «{printable(str(cd.value)[:40])}»" if cd.value is not None else " (formula)")
            if message is None and at not in inputs:
                style = styles.get(at)
                if style is not None and cd.style is not None:
                    key = (cd.style, style)
                    problem = seen_looks.get(key, False)
                    if problem is False:
                        look = looks.get(cd.style)
                        problem = seen_looks[key] = _look_problem(look, style, book.kind) if look else None
                    if problem:
                        message = f"aspetto di una cella protetta modificato: {problem}"
            if message:
                add(message, r, c)
        for (r, c) in formulas:
            if (r, c) not in cells and len(found) < 10:
                add("formula del modulo cancellata", r, c)
    return _finish(found, sheet, name, file, severity)


def _finish(found: list[Finding], sheet: SheetData, name: str, file: str, severity: str) -> list[Finding]:
    """The findings of a sheet's tampering check, with content outside the area and the closing error."""
    if sheet.outside is not None and len(found) < 11:
        r, c = sheet.outside
        found.append(Finding("WB-TAMPERED", severity, "contenuto fuori dall'area del modulo: righe o colonne "
                             "inserite o dati aggiunti fuori dalle schede", file=file, sheet=name, cell=a1(r, c)))
    if found and severity == ERROR:
        found.append(Finding("WB-TAMPERED", ERROR, _NOT_READ, file=file, sheet=name))
    return found


_NOT_READ = ("la struttura del foglio non corrisponde al piano: i valori di questo foglio non vengono letti. "
             "Restituire il file originale compilato senza modificare le parti protette.")


def _read_sheet(sheet: SheetData, layout: SheetLayout, code: str, plan: Plan, file: str
                ) -> tuple[SectorSubmission, list[Finding]]:
    sub = SectorSubmission(code, layout.name, _inputs=layout.inputs)
    findings: list[Finding] = []
    raws, texts = sub.raw, sub.texts
    values = cast(dict[str, dict[str, object]], sub.values)  # built here: the dicts are this function's
    invalid = cast(set[str], sub.invalid)
    cells = sheet.cells
    year, filled = plan.year, 0
    for key, r, c, cell, target, name, is_text in _input_entries(layout, plan):
        cd = cells.get((r, c))
        raw = cd.value if cd is not None else None
        raws[key] = raw
        value = None
        if cd is not None and cd.formula and cd.error:  # a formula showing an error: refused below as a value
            findings.append(Finding("WB-FORMULA", WARNING, "nella cella è stata inserita una formula: inserire "
                                    "direttamente il valore", file=file, sheet=layout.name, cell=a1(r, c)))
        elif cd is not None and cd.formula:
            computed = evaluate_constant(cd.formula)
            if computed is None or (isinstance(raw, (int, float)) and not isinstance(raw, bool)
                                    and not math.isclose(raw, computed, rel_tol=1e-12, abs_tol=1e-12)) or (
                    raw is not None and not isinstance(raw, (int, float))):
                findings.append(Finding("WB-FORMULA", ERROR, "nella cella è stata inserita una formula che non è un "
                                        "semplice calcolo tra numeri (o il cui risultato salvato non corrisponde): il "
                                        "valore non viene letto; inserire direttamente il valore", file=file,
                                        sheet=layout.name, cell=a1(r, c)))
                if not is_text:
                    invalid.add(target)
                raws[key] = raw = None
            else:
                findings.append(Finding("WB-FORMULA", WARNING, "nella cella è stata inserita una formula: viene usato "
                                        f"il suo risultato ({it.plain(computed)}); inserire direttamente il valore",
                                        file=file, sheet=layout.name, cell=a1(r, c)))
                raws[key] = raw = computed
        if raw is not None:
            if type(raw) is not str or not raw.isspace():
                filled += 1
            value, err, warn = validate_value(raw, cell, year, sheet.date1904)
            if err:
                findings.append(Finding("WB-VALUE", ERROR, f"{printable(err)}. Atteso: {UNIT_IT[cell.unit or 'text']}.",
                                        file=file, sheet=layout.name, cell=a1(r, c)))
                if not is_text:
                    invalid.add(target)
            if warn:
                findings.append(Finding("WB-VALUE", WARNING, warn, file=file, sheet=layout.name, cell=a1(r, c)))
        if is_text:
            if value is not None:
                texts[key] = cast(str, value)  # a text input's value is its text
        elif target in values:
            values[target][name] = value
        else:
            values[target] = {name: value}
    sub.filled = filled
    return sub, findings


_LAYOUTS: OrderedDict[tuple, tuple[Plan, object]] = OrderedDict()
# Least recently used layouts are dropped: memory stays flat with 2,000 sectors. Files are read in name order,
# so the copies of one sector's form come together; more layouts kept only make the heap (and each file) slower.
LAYOUT_CACHE_SIZE = 16
MAX_VERSION_LABEL = 250  # a custom document property holds at most 255 characters in Excel


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


def _round_of(props: Mapping[str, str]) -> date | None:
    """A monitoring form's round date (None for a year-end form); the property was checked by :func:`_identify`."""
    text = props.get(ROUND_PROPERTY, "")
    return date.fromisoformat(text) if text else None


def expected_layout(plan: Plan, props: dict[str, str]) -> WorkbookLayout:
    """The sheets a workbook with these properties must have, each with what the reader checks on it (its
    :func:`_full_expected`: labels, formulas, styles). A year-end sector form's sheets are their reading views
    (:func:`_reading_view`: the input cells only); any other sheet is its full layout."""
    kind = props.get("piao_kind", "")
    as_of = _round_of(props)
    if kind == "source":
        source = props.get("piao_source", "nucleo")
        return _cached(plan, ("source", source, as_of), lambda: WorkbookLayout(
            "source", "", [source_sheet(plan, source, as_of)], props, source=source))
    if kind == "sector":
        codes = [c for c in props.get("piao_sectors", "").split(",") if c]
        index = _sector_index(plan)
        sheets = [_cached(plan, ("sector", c, as_of), lambda c=c: sector_sheet(plan, index[c], as_of)
                          if as_of is not None else _reading_view(plan, index[c]))
                  for c in codes]
        return WorkbookLayout("sector", "", sheets, props, tuple(codes))
    return _cached(plan, ("all",), lambda: WorkbookLayout(
        "all", "", [sector_sheet(plan, s) for s in plan.sectors], props,
        tuple(s.code for s in plan.sectors)))


def _identify(path: Path, plan: Plan, package: Package | None = None, as_of: date | None = None
              ) -> tuple[dict[str, str], str, list[Finding]]:
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
    checks = [("piao_plan_id", plan.plan_id, "a un altro piano"), ("piao_year", str(plan.year), "a un altro anno"),
              ("piao_layout_version", LAYOUT_VERSION, "a un'altra versione del modulo")]
    for key, want, what in checks:
        if props.get(key) != want:
            raise _Reject(Finding("WB-IDENTITY", ERROR, f"il file appartiene {what} "
                                  f"(«{props.get(key)}», atteso «{want}»): usare il modulo della campagna in corso",
                                  file=file))
    if props.get("piao_fingerprint") != plan.fingerprint:
        theirs = props.get("piao_fingerprint", "")[:12] or "assente"
        raise _Reject(Finding("WB-IDENTITY", ERROR, f"il file appartiene a un'altra versione del piano "
                              f"«{props.get('piao_plan_id', '')[:60]}» (impronta {theirs}, attesa "
                              f"{plan.fingerprint[:12]}): rigenerare i moduli o indicare il piano corretto", file=file))
    _check_round(props, as_of, file)
    kind, source = props.get("piao_kind", ""), props.get("piao_source", "responsabile")
    if kind not in ("all", "sector", "source") or (source in SOURCE_SHEETS) != (kind == "source"):
        raise _Reject(Finding("WB-IDENTITY", ERROR, f"tipo di modulo non riconosciuto nelle proprietà del documento "
                              f"(«{kind[:40]}», «{source[:40]}»): usare il file ricevuto dall'ufficio", file=file))
    codes = [c for c in props.get("piao_sectors", "").split(",") if c and c != "*"]
    known = _sector_index(plan)
    if any(c not in known for c in codes):
        raise _Reject(Finding("WB-IDENTITY", ERROR, f"settori sconosciuti nel file: {', '.join(codes)}", file=file))
    return props, saved, []


def _check_round(props: Mapping[str, str], as_of: date | None, file: str) -> None:
    """A monitoring form is read only as the return of its round, a year-end form only as a year-end return."""
    text = props.get(ROUND_PROPERTY, "")
    theirs = None
    if text:
        try:
            theirs = date.fromisoformat(text) if len(text) == 10 else None
        except ValueError:
            theirs = None
        if theirs is None:
            raise _Reject(Finding("WB-IDENTITY", ERROR, f"data del monitoraggio non valida nelle proprietà del "
                                  f"documento («{printable(text[:40])}»): usare il file ricevuto dall'ufficio",
                                  file=file))
    if theirs == as_of:
        return
    if as_of is None:
        what = "non quello della rendicontazione di fine anno"
    elif theirs is None:
        what = f"non quello del monitoraggio al {it.day(as_of)}"
        raise _Reject(Finding("WB-IDENTITY", ERROR, f"il file è il modulo della rendicontazione di fine anno, {what}: "
                              "usare il modulo del monitoraggio", file=file))
    else:
        what = f"non quello al {it.day(as_of)}"
    raise _Reject(Finding("WB-IDENTITY", ERROR, f"il file è il modulo del monitoraggio al {it.day(theirs)}, {what}: "
                          "va letto con il monitoraggio a cui appartiene", file=file))


def read_workbook(path: str | Path, plan: Plan, limits: Limits | None = None, as_of: date | None = None
                  ) -> WorkbookResult:
    """Read, identify, check and validate one returned workbook. Never raises for a bad file.

    ``as_of``: the date of the monitoring round the file must belong to (None: a year-end form); a form of
    another round, or of the year end, is refused (``WB-IDENTITY``).

    The file is read once (up to ``limits.max_size``), hashed, and checked by
    :mod:`piao_xls.sheetio.safeopen` before any parser sees it; every reader then works on those bytes.
    """
    path = Path(path)
    res = WorkbookResult(str(path))
    try:
        data_stat = path.stat()
        res.size = data_stat.st_size
        res.saved = datetime.fromtimestamp(data_stat.st_mtime).isoformat(timespec="seconds")
        res.saved_from = "file"
        data = read_bounded(path, limits)
        res.sha256 = hashlib.sha256(data).hexdigest()
        _read_into(path, plan, res, data, limits, as_of)
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
    errors = any(f.severity == ERROR for f in res.findings)
    res.status = REJECTED if errors else ACCEPTED_WITH_WARNINGS if res.findings else ACCEPTED
    return res


def _read_into(path: Path, plan: Plan, res: WorkbookResult, data: bytes, limits: Limits | None = None,
               as_of: date | None = None) -> None:
    file = str(path)
    # raises UnsafeFile: size, format, bombs, macros, DTDs, ambiguity; the extent is bounded by read_book
    package = open_package(data, path.name, limits, extent=False)
    props, saved, findings = _identify(path, plan, package, as_of)
    res.findings.extend(findings)
    if saved:
        stamp = saved_time(saved)
        if stamp is None:
            res.saved_doubt = f"data di salvataggio non valida nelle proprietà del documento («{printable(saved[:40])}»)"
        else:
            res.saved, res.saved_from = stamp, "documento"
    res.kind = props.get("piao_kind", "")
    res.source = props.get("piao_source", "responsabile")
    expected = expected_layout(plan, props)
    sheets = [s for s in expected.sheets if s.kind != "instructions"]
    guide = _instructions_view(plan, res.kind, res.source, as_of, plan_version_label(props))
    areas = {s.name: (_full_expected(s).last_row, COLS - 1) for s in sheets}
    areas[INSTRUCTIONS_SHEET] = (_full_expected(guide).last_row, COLS - 1)
    book = read_book(package, areas)  # the one parse of the checked parts: values, formulas, styles
    for message, sheet in book.problems:
        res.findings.append(Finding("WB-TAMPERED", ERROR, message, file=file, sheet=printable(sheet) or None))
    names = [s.name for s in book.sheets]
    want = set(areas)
    extras = [n for n in names if n not in want]
    for extra in extras[:20]:
        shown = printable(extra[:60])
        res.findings.append(Finding("WB-TAMPERED", ERROR, f"foglio aggiunto o rinominato: «{shown}»", file=file,
                                    sheet=shown))
    if len(extras) > 20:
        res.findings.append(Finding("WB-TAMPERED", ERROR, f"altri {len(extras) - 20} fogli aggiunti", file=file))
    present = [s for s in sheets if s.name in names]
    order = [n for n in names if n in want]
    layout_order = [n for n in [INSTRUCTIONS_SHEET, *(s.name for s in sheets)] if n in order]
    if order != layout_order:
        res.findings.append(Finding("WB-TAMPERED", WARNING, "ordine dei fogli modificato: atteso "
                                    + ", ".join(f"«{printable(n[:40])}»" for n in layout_order[:6]), file=file))
    for s in sheets:
        if s.name not in names:
            res.findings.append(Finding("WB-TAMPERED", ERROR, f"foglio mancante o rinominato: «{s.name}» "
                                        "(i suoi valori non vengono letti)", file=file, sheet=s.name))
    guide_data = book.sheet(INSTRUCTIONS_SHEET)
    if guide_data is None or not guide_data.parsed:
        res.findings.append(Finding("WB-TAMPERED", WARNING, f"foglio «{INSTRUCTIONS_SHEET}» eliminato o rinominato",
                                    file=file, sheet=INSTRUCTIONS_SHEET))
    else:
        res.findings.extend(_check_tamper(guide_data, guide, _full_expected(guide), book, file,
                                          WARNING))
    for s in present:
        data_sheet = book.sheet(s.name)
        if data_sheet is None or not data_sheet.parsed:
            continue  # already reported: its relationship is broken (a present sheet is always there)
        tamper = _check_tamper(data_sheet, s, _full_expected(s), book, file)
        res.findings.extend(tamper)
        if tamper:
            continue
        if s.kind == "source":
            _split_source(data_sheet, s, plan, file, res)
            continue
        code = cast(str, s.sector_code)  # a sector's sheet
        sub, found = _read_sheet(data_sheet, s, code, plan, file)
        if res.kind == "all" and sub.filled == 0:
            continue  # an untouched sector of the all-sector workbook is not a submission
        res.findings.extend(found)
        sub.findings.extend(found)
        res.sectors[code] = sub
    if book.problems:
        res.sectors.clear()  # an ambiguous workbook: which sheet is scored is not for us to choose
    if not res.sectors and not any(f.severity == ERROR for f in res.findings):
        res.findings.append(Finding("WB-MISSING", ERROR, "il file non contiene alcun valore compilato", file=file))
    if as_of is None:  # a monitoring round's requirements are its own (returns/monitoring.py)
        _check_required(plan, res, file)
    name_hint = re.search(r"PIAO-\d{4}-([A-Z]{2,})-", path.name)
    if res.kind == "sector" and name_hint and name_hint.group(1) not in res.sectors and res.sectors:
        res.findings.append(Finding("WB-IDENTITY", WARNING, f"il nome del file indica il settore {name_hint.group(1)} "
                                    f"ma il contenuto è del settore {', '.join(res.sectors)}: letto come "
                                    f"{', '.join(res.sectors)}", file=file))


def saved_time(text: str) -> str | None:
    """The ISO time of a document's "modified" property, or None when it does not parse or is implausible
    (before 1990 or more than a day in the future): such a date never orders submissions."""
    t = text.strip()
    if len(t) > 40:
        return None
    try:
        stamp = datetime.fromisoformat(t.replace("Z", "+00:00"))
    except ValueError:
        return None
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone().replace(tzinfo=None)  # local time, as the file's modification time
    if not datetime(1990, 1, 1) <= stamp <= datetime.now() + timedelta(days=1):
        return None
    return stamp.isoformat(timespec="seconds")


def _instructions_view(plan: Plan, kind: str, source: str, as_of: date | None = None,
                       version: str = "") -> SheetLayout:
    return _cached(plan, ("instructions", kind, source, as_of, version),
                   lambda: instructions_sheet(plan, "source" if kind == "source" else kind,
                                              source if kind == "source" else "responsabile", as_of, version))


def plan_version_label(props: Mapping[str, str]) -> str:
    """The plan version a form says it was made on (``piao_plan_version``: «2 (Delibera … del …)»), as written in
    its Istruzioni sheet: informative, the fingerprint identifies the plan."""
    return str(props.get("piao_plan_version", ""))[:MAX_VERSION_LABEL]


def _split_source(sheet: SheetData, layout: SheetLayout, plan: Plan, file: str, res: WorkbookResult) -> None:
    """A source workbook holds indicators of many sectors: one submission per sector."""
    sub, found = _read_sheet(sheet, layout, "", plan, file)
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
    from ..core.answers import NOT_AVAILABLE_REASON
    from ..core.rules import kind_of
    from ..core.rules.base import MISSING
    from ..core.scoring import score_indicator

    sector = _sector_index(plan)[sub.code]
    row, in_row = text_row_it(res.source), text_row_it(res.source, preposition=True)  # as the form labels it
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
                                            f"senza motivazione; spiegare il motivo {in_row}", file=file,
                                            sheet=sub.sheet, cell=_first_ref(sub, ind.id, "analisi")))
        elif sc.status == MISSING and not bad:
            res.findings.append(Finding("WB-MISSING", ERROR, f"indicatore {ind.id} non rendicontato: inserire il "
                                        "valore consuntivo", file=file, sheet=sub.sheet, cell=_first_ref(sub, ind.id)))
        elif sc.status == "invalid" and not bad:
            res.findings.append(Finding("WB-DIV-ZERO", ERROR, f"indicatore {ind.id}: {sc.reason}; verificare il "
                                        "denominatore", file=file, sheet=sub.sheet, cell=_first_ref(sub, ind.id)))
        elif (kind_of(ind.rule.kind).needs_motivation and not bad
              and not sub.texts.get(f"{ind.id}|analisi", "").strip()):
            res.findings.append(Finding(
                "WB-ANALYSIS", ERROR, f"indicatore {ind.id}: il giudizio va motivato {in_row}", file=file, sheet=sub.sheet,
                cell=_first_ref(sub, ind.id, "analisi")))
        elif (sc.achievement is not None and sc.achievement < 1 - 1e-12 and not bad
              and not sub.texts.get(f"{ind.id}|analisi", "").strip()):
            res.findings.append(Finding(
                "WB-ANALYSIS", ERROR, f"indicatore {ind.id} raggiunto al {it.number(sc.achievement * 100, 2)}%: "
                f"compilare {row}", file=file, sheet=sub.sheet,
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
