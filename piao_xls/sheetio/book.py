"""One reading of a checked workbook package: values, formulas, cell types and styles from one parse.

:func:`read_book` takes a :class:`~piao_xls.sheetio.safeopen.Package` (the bytes the guard checked
and inflated once) and parses each XML part it needs exactly once, with expat (C speed; no DTD,
no entity, no external resource: any document type declaration stops the parse). A worksheet whose
<sheetData> is written the usual way (as Excel, LibreOffice and xlsxwriter write it) is matched whole
against a strict grammar in one C-level step and its cells are taken with one more regular expression,
the rest of the part going through expat (:func:`_xlsx_scan`); any other worksheet is parsed by expat
into ElementTree's C tree (its DTD, entity and encoding refusals are linear byte
scans before the parse, :func:`_tree`) and read row by row (:func:`_xlsx_rows`); a sheet of unusual
structure is read from the same tree walked as expat's event stream (:func:`_emit`); a sheet of more
than :data:`MAX_TREE` tags is streamed through expat's callbacks, keeping only its area. Everything the
reader scores and everything the tamper check compares comes from this one parse: no second
library opens the same bytes.

Bounds, whatever the file declares:
- a cell reference is read character by character (letters, then digits); one beyond Excel's grid
  (column XFD, row 1,048,576) or malformed is refused; a cell without a reference takes the next
  column, a row without one the next row;
- only the cells inside each sheet's *area* (rows and columns the caller asks for) are stored; of
  the cells outside it only the first non-empty one is remembered (for a finding);
- OpenDocument repeat counts (``number-rows-repeated``, ``number-columns-repeated``, in any quoting
  or entity form: expat decodes attributes) only move a counter: a repeated cell is stored for the
  positions inside the area, so the work is bounded by the area, not by the declared count;
- the text materialised per file is capped (:data:`MAX_TEXT`): one long shared string referenced by
  many cells counts once per cell.

Workbook ambiguity is reported, not resolved: two sheets whose names are equal after Unicode
normalisation, trimming and case folding; hidden or very hidden sheets; a sheet whose relationship
is missing, is not a worksheet, or points to a part another sheet uses.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from xml.etree.ElementTree import ParseError, XMLParser
from xml.parsers import expat

from ..core import italian
from ..core.gcpause import paused_gc
from .cells import a1
from .safeopen import Package, UnsafeFile

MAX_TEXT = 8_000_000  # characters of cell text materialised per file (the form needs a few hundred thousand)
MAX_STORED = 1_000_000  # cells stored per file (inside the sheets' areas)
MAX_COL = 16_384  # Excel's grid: XFD
MAX_TREE = 200_000  # tags of a sheet parsed into a tree (a form has ~10,000); larger ones are streamed
MAX_ROW = 1_048_576

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
_TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
_STYLE = "urn:oasis:names:tc:opendocument:xmlns:style:1.0"
_FO = "urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"
_NUMBER = "urn:oasis:names:tc:opendocument:xmlns:datastyle:1.0"
_SEP = "\x01"  # namespace separator handed to expat: "uri\x01local"
_CALCEXT = "urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0" + _SEP


@dataclass(slots=True)
class CellData:
    """One cell as the file holds it."""

    value: object = None  # str, float, bool, datetime/date, or None; an error value is its text ("#DIV/0!")
    formula: str = ""  # the formula's text as written ("" for none; its value is the cached result)
    error: bool = False  # the value is an error value
    style: object = None  # xlsx: index into cellXfs (int); ods: style name (str)


@dataclass(slots=True)
class Look:
    """What a cell style makes a person see: number format, colours, font size, hidden text."""

    num_format: str = "General"
    font_color: str = ""  # "RRGGBB", "" for automatic
    fill_color: str = ""  # "RRGGBB", "" for no fill
    font_size: float | None = None
    hidden: bool = False  # the number format hides the value (";;;")


@dataclass
class SheetData:
    name: str
    visible: bool = True
    cells: dict[tuple[int, int], CellData] = field(default_factory=dict)  # (row, col) 0-based, inside the area
    outside: tuple[int, int] | None = None  # first non-empty cell outside the area
    parsed: bool = False  # False: the sheet was not asked for (only its name and visibility are known)
    date1904: bool = False  # xlsx: the workbook counts dates from 1904-01-01 (<workbookPr date1904="1"/>)


@dataclass
class BookData:
    kind: str
    sheets: list[SheetData] = field(default_factory=list)
    looks: dict[object, Look] = field(default_factory=dict)  # cell style -> look
    problems: list[tuple[str, str]] = field(default_factory=list)  # (Italian message, sheet name or "")
    parsed_parts: list[str] = field(default_factory=list)  # the parts read_book parsed
    date1904: bool = False  # xlsx: serial numbers count days from 1904-01-01, not from 1899-12-30

    def sheet(self, name: str) -> SheetData | None:
        return next((s for s in self.sheets if s.name == name), None)


def _refuse(message: str) -> UnsafeFile:
    return UnsafeFile("WB-UNSAFE", message)


def _parser() -> expat.XMLParserType:
    p = expat.ParserCreate(namespace_separator=_SEP)
    p.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def no_dtd(*_):
        raise _refuse("il file contiene dichiarazioni XML non ammesse (DTD/entità): file costruito ad arte o "
                      "danneggiato; salvarlo di nuovo da Excel o LibreOffice")

    p.StartDoctypeDeclHandler = no_dtd
    p.EntityDeclHandler = no_dtd
    p.ExternalEntityRefHandler = no_dtd
    p.buffer_text = True
    return p


def _parse(data: bytes, part: str, start=None, end=None, text=None) -> None:
    p = _parser()
    if start:
        p.StartElementHandler = start
    if end:
        p.EndElementHandler = end
    if text:
        p.CharacterDataHandler = text
    try:
        p.Parse(data, True)
    except expat.ExpatError as e:
        raise UnsafeFile("WB-OPEN", f"il file è danneggiato: XML non valido nella parte «{part[:80]}» "
                                    f"(riga {e.lineno}): salvarlo di nuovo da Excel o LibreOffice") from e


_ENCODINGS = {"utf-8", "utf8", "us-ascii", "ascii", "iso-8859-1", "latin-1", "latin1", "utf-16", "utf-16le",
              "utf-16be"}  # expat's own: any other would go through a Python codec the guard's DTD scan does not cover
_DTD_MARKERS = tuple(m.encode(enc) for m in ("<!DOCTYPE", "<!ENTITY") for enc in ("ascii", "utf-16-le", "utf-16-be"))


def _tree(data: bytes, part: str, screened: bool = False):
    """The element tree of one part, built in C by expat and ElementTree's TreeBuilder (one parse).

    Refused before parsing, in linear scans (:func:`_screen`, unless the caller ``screened`` the part already):
    a document type declaration or entity declaration (in any encoding expat reads by itself) and any other
    declared encoding."""
    if not screened:
        _screen(data, part)
    p = XMLParser()
    try:
        p.feed(data)
        return p.close()
    except ParseError as e:
        raise UnsafeFile("WB-OPEN", f"il file è danneggiato: XML non valido nella parte «{part[:80]}» "
                                    f"(riga {e.position[0]}): salvarlo di nuovo da Excel o LibreOffice") from e


def _screen(data: bytes, part: str) -> str:
    """Refuse a part that declares a document type or an entity, or an encoding expat does not read by
    itself; return the declared encoding in lower case ("" when none is declared)."""
    name = ""
    head = data[:300].lstrip(b"\xef\xbb\xbf")
    if head[:5] == b"<?xml":
        start = len(data[:300]) - len(head)
        end = data.find(b"?>", start)  # the whole declaration: white space may pad it to any length
        decl = data[start:end] if end >= 0 else head  # no end: not XML, which the parser refuses
        at = decl.find(b"encoding")
        if at >= 0:
            rest = decl[at + 8:].lstrip(b" \t\r\n=").lstrip(b" \t\r\n")
            name = rest[1:].split(rest[:1] or b'"', 1)[0].decode("ascii", "replace").lower()
            if name not in _ENCODINGS:
                raise _refuse(f"codifica del testo non ammessa nella parte «{_shown(part[:80])}»: file costruito ad "
                              "arte; salvarlo di nuovo da Excel o LibreOffice")
    if (b"<!" in data or b"\0" in data[:4]) and any(m in data for m in _DTD_MARKERS):
        raise _refuse("il file contiene dichiarazioni XML non ammesse (DTD/entità): file costruito ad arte o "
                      "danneggiato; salvarlo di nuovo da Excel o LibreOffice")
    return name


def _local(tag: str) -> str:
    return tag.rpartition(_SEP)[2]


def name_key(name: str) -> str:
    """Two sheet names that a person cannot tell apart have the same key."""
    return " ".join(unicodedata.normalize("NFKC", name).split()).casefold()


class _TextBudget:
    __slots__ = ("left",)

    def __init__(self, total: int):
        self.left = total

    def take(self, n: int) -> None:
        self.left -= n
        if self.left < 0:
            raise _refuse(f"il file contiene troppo testo (oltre {italian.plain(MAX_TEXT)} caratteri nelle celle del "
                          "modulo): file costruito ad arte; file rifiutato")


_REFS: dict[str, tuple[int, int]] = {}  # the references every form repeats, resolved once per process


def _ref(ref: str) -> tuple[int, int] | None:
    """'E12' -> (11, 4); None when it is not a cell reference inside Excel's grid. Linear, bounded."""
    n = len(ref)
    if n > 10:
        return None
    i = col = 0
    while i < n and "A" <= ref[i].upper() <= "Z":
        col = col * 26 + ord(ref[i].upper()) - 64
        i += 1
    if i == 0 or i == n or col > MAX_COL or not ref[i:].isdigit() or not ref[i:].isascii():
        return None
    row = int(ref[i:])
    if not 1 <= row <= MAX_ROW:
        return None
    at = (row - 1, col - 1)
    if len(_REFS) < 1 << 16:
        _REFS[ref] = at
    return at


def _row_number(text: str) -> int | None:
    if not text or len(text) > 7 or not text.isascii() or not text.isdigit():
        return None
    row = int(text)
    return row - 1 if 1 <= row <= MAX_ROW else None


_X = "{" + _MAIN + "}"  # ElementTree's spelling of the main namespace
_XC, _XROW, _XV, _XF, _XSD = _X + "c", _X + "row", _X + "v", _X + "f", _X + "sheetData"
_PHONETIC = (_X + "rPh", _X + "phoneticPr")  # phonetic runs: not shown


# --- OOXML -----------------------------------------------------------------------------------------

_BUILTIN_FORMATS = {
    0: "General", 1: "0", 2: "0.00", 3: "#,##0", 4: "#,##0.00", 9: "0%", 10: "0.00%", 11: "0.00E+00",
    12: "# ?/?", 13: "# ??/??", 14: "mm-dd-yy", 15: "d-mmm-yy", 16: "d-mmm", 17: "mmm-yy", 18: "h:mm AM/PM",
    19: "h:mm:ss AM/PM", 20: "h:mm", 21: "h:mm:ss", 22: "m/d/yy h:mm", 37: "#,##0 ;(#,##0)",
    38: "#,##0 ;[Red](#,##0)", 39: "#,##0.00;(#,##0.00)", 40: "#,##0.00;[Red](#,##0.00)", 45: "mm:ss",
    46: "[h]:mm:ss", 47: "mmss.0", 48: "##0.0E+0", 49: "@",
}


def is_date_format(code: str) -> bool:
    """Does an Excel number format show a date or time (outside quoted text, escapes and [colour])?"""
    plain, i, n = [], 0, len(code)
    while i < n:
        ch = code[i]
        if ch == '"':
            j = code.find('"', i + 1)
            i = n if j < 0 else j + 1
        elif ch == "\\" or ch in "_*":
            i += 2
        elif ch == "[":
            j = code.find("]", i + 1)
            inner = code[i + 1:j if j >= 0 else n].lower()
            if inner in ("h", "hh", "m", "mm", "s", "ss"):
                return True
            i = n if j < 0 else j + 1
        else:
            plain.append(ch.lower())
            i += 1
    text = "".join(plain).split(";")[0]
    return text != "general" and any(c in text for c in "dmyhs") and "e+" not in text


def _color(attrs: dict) -> str:
    rgb = attrs.get("rgb", "")
    if len(rgb) == 8:
        return "" if rgb[:2] == "00" and rgb[2:].upper() == "000000" else rgb[2:].upper()
    if len(rgb) == 6:
        return rgb.upper()
    if attrs.get("indexed") in ("8", "64"):  # black, system foreground
        return ""
    if attrs.get("indexed") == "9":
        return "FFFFFF"
    if "theme" in attrs:  # theme 0/1 are the light/dark text colours of the default theme
        return {"0": "FFFFFF", "1": ""}.get(attrs["theme"], f"theme{attrs['theme']}")
    return ""


_LOOKS: dict[bytes, dict[object, Look]] = {}  # the looks of a styles part, by its bytes: returns of one form share it


def _xlsx_looks(data: bytes) -> dict[object, Look]:
    """Cell style index -> :class:`Look`, from the styles part (parsed once per distinct part per process)."""
    looks = _LOOKS.get(data)
    if looks is None:
        looks = _xlsx_looks_of(data)
        if len(_LOOKS) >= 16:
            _LOOKS.clear()
        _LOOKS[data] = looks
    return dict(looks)


def _xlsx_looks_of(data: bytes) -> dict[object, Look]:
    formats: dict[int, str] = dict(_BUILTIN_FORMATS)
    fonts: list[dict] = []
    fills: list[str] = []
    xfs: list[tuple[int, int, int]] = []
    state = {"section": "", "font": None, "fill": None}

    def start(tag, attrs):
        t = _local(tag)
        if t in ("fonts", "fills", "cellXfs", "cellStyleXfs", "dxfs", "numFmts"):
            state["section"] = t
        elif t == "numFmt" and state["section"] == "numFmts":
            if attrs.get("numFmtId", "").isdigit() and len(attrs["numFmtId"]) < 7:
                formats[int(attrs["numFmtId"])] = attrs.get("formatCode", "")[:255]
        elif state["section"] == "fonts":
            if t == "font":
                state["font"] = {}
            elif state["font"] is not None:
                if t == "color":
                    state["font"]["color"] = _color(attrs)
                elif t == "sz":
                    state["font"]["size"] = attrs.get("val", "")
        elif state["section"] == "fills":
            if t == "fill":
                state["fill"] = ""
            elif t == "patternFill":
                state["pattern"] = attrs.get("patternType", "none")
            elif t == "fgColor" and state.get("pattern", "none") not in ("none", ""):
                state["fill"] = _color(attrs) or "000000"
        elif t == "xf" and state["section"] == "cellXfs":
            def num(key):
                v = attrs.get(key, "0")
                return int(v) if v.isdigit() and len(v) < 7 else -1
            xfs.append((num("numFmtId"), num("fontId"), num("fillId")))

    def end(tag):
        t = _local(tag)
        if t == "font" and state["font"] is not None:
            fonts.append(state["font"])
            state["font"] = None
        elif t == "fill" and state["fill"] is not None:
            fills.append(state["fill"])
            state["fill"] = None
            state["pattern"] = "none"
        elif t in ("fonts", "fills", "cellXfs", "cellStyleXfs", "dxfs", "numFmts"):
            state["section"] = ""

    _parse(data, "xl/styles.xml", start, end)
    looks: dict[object, Look] = {}
    for i, (fmt, font, fill) in enumerate(xfs):
        f = fonts[font] if 0 <= font < len(fonts) else {}
        try:
            size = float(f.get("size", "")) if f.get("size") else None
        except ValueError:
            size = None
        code = formats.get(fmt, "General") if fmt >= 0 else "?"
        looks[i] = Look(code, f.get("color", ""), fills[fill] if 0 <= fill < len(fills) else "", size,
                        _hides(code))
    return looks


def _format_sections(code: str) -> list[str]:
    """The sections of an Excel number format, split at the semicolons outside quotes and escapes, each with its
    colour and condition codes (``[Red]``, ``[>=100]``) and its quotes left out: a blank section shows nothing."""
    sections, cur, i, n = [], [], 0, len(code)
    while i < n:
        ch = code[i]
        if ch == '"':
            end = code.find('"', i + 1)
            end = n if end < 0 else end
            cur.append(code[i + 1:end])
            i = end + 1
            continue
        if ch == "\\" and i + 1 < n:
            cur.append(code[i + 1])
            i += 2
            continue
        if ch == "[":
            end = code.find("]", i + 1)
            i = n if end < 0 else end + 1
            continue
        if ch == ";":
            sections.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
        i += 1
    sections.append("".join(cur).strip())
    return sections


def _hides(code: str) -> bool:
    """The format shows nothing for numbers (``;;``, ``;``: positive, negative and zero sections empty) or for text
    (``0;0;0;``: an empty fourth section)."""
    if ";" not in code:
        return False
    sections = _format_sections(code)
    return not any(sections[:3]) or (len(sections) >= 4 and not sections[3])


_DOUBLE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?INF|NaN")  # xsd:double
_XESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def unescape_ooxml(text: str) -> str:
    """OOXML writes characters XML cannot hold as ``_xHHHH_`` (ST_Xstring); ``_x005F_`` escapes the underscore."""
    return _XESCAPE.sub(_unescaped, text) if "_x" in text else text


def _unescaped(m: re.Match) -> str:
    code = int(m.group(1), 16)
    return "\ufffd" if 0xD800 <= code <= 0xDFFF else chr(code)  # a lone surrogate is no character


def _xlsx_shared_strings(data: bytes) -> list[str]:
    """The shared strings: the text of each <si> (its <t>, or the <t> of its rich-text runs), phonetic runs left out."""
    root = _tree(data, "xl/sharedStrings.xml")
    out: list[str] = []
    append = out.append
    SI, T, R = _X + "si", _X + "t", _X + "r"
    for si in root:
        if si.tag != SI:
            return _shared_strings_of_events(lambda *h: _emit(root, *h))  # an unusual structure: the same tree
        if len(si) == 1 and si[0].tag == T and not len(si[0]):
            text = si[0].text or ""
        else:
            parts: list[str] = []
            for ch in si:
                tag = ch.tag
                if tag == T and not len(ch):
                    parts.append(ch.text or "")
                elif tag == R:
                    for g in ch:
                        if g.tag == T and not len(g):
                            parts.append(g.text or "")
                        elif next(g.iter(T), None) is not None:  # unusual nesting: the same tree, as events
                            return _shared_strings_of_events(lambda *h: _emit(root, *h))
                elif tag not in _PHONETIC and next(ch.iter(T), None) is not None:
                    return _shared_strings_of_events(lambda *h: _emit(root, *h))
            text = "".join(parts)
        append(unescape_ooxml(text) if "_x" in text else text)
    return out


def _xlsx_shared_strings_events(data: bytes) -> list[str]:
    """The shared strings read from expat's events (what the tree reading must equal)."""
    return _shared_strings_of_events(lambda *h: _parse(data, "xl/sharedStrings.xml", *h))


def _shared_strings_of_events(feed) -> list[str]:
    """The shared strings from an event stream: ``feed(start, end, text)`` runs it (expat's parse of the bytes,
    or :func:`_emit` of a tree already built). Every <t> counts, outside phonetic runs, wherever it is nested."""
    out: list[str] = []
    buf: list[str] = []
    depth = {"t": False, "skip": 0}

    def start(tag, attrs):
        t = _local(tag)
        if t == "si":
            buf.clear()
        elif t in ("rPh", "phoneticPr"):
            depth["skip"] += 1
        elif t == "t" and not depth["skip"]:
            depth["t"] = True

    def end(tag):
        t = _local(tag)
        if t == "si":
            out.append(unescape_ooxml("".join(buf)))
        elif t in ("rPh", "phoneticPr"):
            depth["skip"] -= 1
        elif t == "t":
            depth["t"] = False

    def text(s):
        if depth["t"]:
            buf.append(s)

    feed(start, end, text)
    return out


def _xlsx(package: Package, areas: dict[str, tuple[int, int]]) -> BookData:
    parts = package.parts
    book = BookData("xlsx")
    sheets: list[tuple[str, str, str]] = []  # (name, state, r:id)

    def wb_start(tag, attrs):
        local = _local(tag)
        if local == "sheet":
            rid = next((v for k, v in attrs.items() if k.endswith(_SEP + "id") and k.startswith(_REL)), "")
            sheets.append((attrs.get("name", ""), attrs.get("state", "visible"), rid))
        elif local == "workbookPr":
            book.date1904 = _boolean(attrs.get("date1904", "0"))

    main = [t for k, t in package.rels.get("_rels/.rels", {}).values() if k.endswith("/officeDocument")]
    if main != ["xl/workbook.xml"]:
        raise _refuse("il pacchetto non indica un'unica cartella di lavoro in «xl/workbook.xml»: programmi diversi "
                      "leggerebbero contenuti diversi; file rifiutato")
    _parse(parts["xl/workbook.xml"], "xl/workbook.xml", wb_start)
    book.parsed_parts.append("xl/workbook.xml")
    rels = package.rels.get("xl/_rels/workbook.xml.rels", {})
    shared: list[str] = []
    styles_part = sst_part = ""
    for kind, target in rels.values():
        if kind.endswith("/sharedStrings"):
            sst_part = target
        elif kind.endswith("/styles"):
            styles_part = target
    if sst_part in parts:
        shared = _xlsx_shared_strings(parts[sst_part])
        book.parsed_parts.append(sst_part)
    if styles_part in parts:
        book.looks = _xlsx_looks(parts[styles_part])
        book.parsed_parts.append(styles_part)
    looks = book.looks
    budget = _TextBudget(MAX_TEXT)
    stored = [0]
    keys: dict[str, str] = {}
    used_parts: dict[str, str] = {}
    for name, state, rid in sheets:
        sheet = _add_sheet(book, keys, name, visible=state in ("visible", ""))
        sheet.date1904 = book.date1904
        kind, part = rels.get(rid, ("", ""))
        if not kind.endswith("/worksheet") or part not in parts:
            book.problems.append((f"il foglio «{_shown(name)}» non rimanda a un foglio di lavoro del file "
                                  "(relazioni del pacchetto incoerenti)", name))
            continue
        if part in used_parts:
            book.problems.append((f"i fogli «{_shown(used_parts[part])}» e «{_shown(name)}» rimandano alla stessa "
                                  "parte del file", name))
            continue
        used_parts[part] = name
        if name in areas:
            _xlsx_sheet(parts[part], part, sheet, areas[name], shared, looks, budget, stored)
            book.parsed_parts.append(part)
    return book


def _shown(text: str) -> str:
    from .text import printable

    return printable(text[:60])


def _xlsx_sheet(data: bytes, part: str, sheet: SheetData, area: tuple[int, int], shared: list[str],
                looks: dict, budget: _TextBudget, stored: list[int]) -> None:
    max_row, max_col = area
    cells = sheet.cells
    M = _MAIN + _SEP
    C, ROW, V, F, T = M + "c", M + "row", M + "v", M + "f", M + "t"
    SKIP = (M + "rPh", M + "phoneticPr")
    dates = {k for k, look in looks.items() if is_date_format(look.num_format)}
    row = col = -1
    at = None
    kind = ""
    style = 0
    formula = False
    cur = None  # the list collecting the text of the <v>, <t> or <f> being read, else None
    vbuf = fbuf = isbuf = None
    skip = 0  # inside <rPh> (phonetic runs: not shown)
    styles_seen: dict[str, int] = {}

    def start(tag, attrs):
        nonlocal row, col, at, kind, style, formula, cur, vbuf, fbuf, isbuf, skip
        if tag == C:
            ref = attrs.get("r")
            if ref is None:
                at = (row if row >= 0 else 0, col + 1)
            else:
                at = _REFS.get(ref) or _ref(ref)
                if at is None:
                    raise _refuse(f"riferimento di cella non valido («{_shown(ref)}») nel foglio «{_shown(sheet.name)}»: "
                                  "file costruito ad arte o danneggiato")
            if at[1] >= MAX_COL:
                raise _refuse(f"cella oltre l'ultima colonna nel foglio «{_shown(sheet.name)}»: file danneggiato")
            row, col = at
            kind = attrs.get("t", "n")
            s = attrs.get("s")
            if s is None:
                style = 0
            else:
                style = styles_seen.get(s)
                if style is None:
                    style = styles_seen[s] = int(s) if s.isdigit() and s.isascii() and len(s) < 7 else -1
            formula = False
            vbuf = fbuf = isbuf = None
        elif tag == V:
            cur = vbuf = []
        elif tag == ROW:
            r = attrs.get("r")
            nr = _row_number(r) if r is not None else row + 1
            if nr is None or nr >= MAX_ROW:
                raise _refuse(f"numero di riga non valido nel foglio «{_shown(sheet.name)}»: file costruito ad arte "
                              "o danneggiato")
            row, col = nr, -1
        elif tag == F:
            formula = True
            cur = fbuf = []
        elif tag == T:
            if at is not None and not skip:
                if isbuf is None:
                    isbuf = []
                cur = isbuf
        elif tag in SKIP:
            skip += 1
            cur = None

    def end(tag):
        nonlocal at, cur, skip
        if tag == C:
            if at is None:
                return
            r, c = at
            at = None
            cur = None
            raw = "".join(vbuf) if vbuf is not None else None
            value, error = _xlsx_value(kind, raw, isbuf, style, dates, shared, r, c, sheet)
            if value == "":
                value = None
            if r > max_row or c > max_col:
                if (value is not None or formula) and sheet.outside is None:
                    sheet.outside = (r, c)
                return
            if value is None and not formula and not style:
                return
            if value.__class__ is str:
                budget.take(len(value))
            text = ("".join(fbuf) if fbuf else "") or "=" if formula else ""
            if text:
                budget.take(len(text))
            stored[0] += 1
            if stored[0] > MAX_STORED:
                raise _refuse("il file contiene troppe celle: file costruito ad arte; file rifiutato")
            cells[(r, c)] = CellData(value, text, error, style)
        elif tag in SKIP:
            skip -= 1
        elif cur is not None:  # </v>, </t>, </f>
            cur = None

    def text(s):
        if cur is not None:
            cur.append(s)

    # a sheet far larger than any form is streamed, keeping only the area (a tag takes 3 bytes or more)
    if len(data) > 3 * MAX_TREE and data.count(b"<") > MAX_TREE:
        _parse(data, part, start, end, text)
        sheet.parsed = True
        return
    if _xlsx_scan(data, sheet, area, shared, dates, budget, stored, _screen(data, part)):
        sheet.parsed = True
        return
    root = _tree(data, part, screened=True)
    left, count = budget.left, stored[0]
    try:
        _xlsx_rows(root, sheet, area, shared, dates, budget, stored)
    except _Odd:  # an unusual structure: the same tree, walked as the event stream expat gives
        cells.clear()
        sheet.outside = None
        budget.left, stored[0] = left, count
        _emit(root, start, end, text)
    sheet.parsed = True


def _xlsx_value(kind: str, raw, isbuf, style: int, dates, shared: list[str], r: int, c: int, sheet: SheetData):
    """The value and error flag of one cell: ``raw`` is the text of its <v> (None without one)."""
    value: object = None
    error = False
    if kind == "n":
        if raw is not None and raw.strip():
            if not _DOUBLE.fullmatch(raw.strip()):  # "12%", "0x10", "1_000": each program reads its own
                raise _refuse(f"la cella {a1(r, c)} del foglio «{_shown(sheet.name)}» contiene un numero "
                              f"scritto in modo non valido («{_shown(raw.strip()[:20])}»): programmi diversi "
                              "lo leggerebbero in modo diverso; file costruito ad arte o danneggiato")
            value = float(raw)
            if style in dates and 0 <= value < 2958466:
                value = _serial_date(value, sheet.date1904)
    elif kind == "s":
        if raw is not None:
            idx = raw.strip()
            if not (idx.isascii() and idx.isdigit() and len(idx) < 10 and int(idx) < len(shared)):
                raise _refuse(f"la cella {a1(r, c)} del foglio «{_shown(sheet.name)}» rimanda a un testo che "
                              "non esiste: file costruito ad arte o danneggiato")
            value = shared[int(idx)]
    elif kind == "inlineStr":
        value = unescape_ooxml("".join(isbuf)) if isbuf is not None else None
    elif kind == "str":
        value = raw
    elif kind == "b":
        value = None if raw is None else _boolean(raw)
    elif kind == "e":
        value, error = (raw or "#ERR").strip()[:40], True
    elif kind == "d":
        value = _iso_date(raw) if raw else None
    else:
        value = raw[:200] if raw else None
    return value, error


class _Odd(Exception):
    """A sheet whose structure the fast walk does not cover (cells outside rows, nested elements in a cell)."""


def _xlsx_rows(root, sheet: SheetData, area: tuple[int, int], shared: list[str], dates,
               budget: _TextBudget, stored: list[int]) -> None:
    """The cells of a sheet whose <c> are all in <row> in <sheetData>, each with only plain <v> and <f>:
    the same result as the event walk, one Python step per row and per cell, none per empty cell's child."""
    value: object  # a cell's: text, number, bool, date, or None
    max_row, max_col = area
    cells = sheet.cells
    C, ROW, V, F = _XC, _XROW, _XV, _XF
    data = root.find(_XSD)
    rows = list(data) if data is not None else []
    row = col = -1
    n_cells = 0
    styles_seen: dict[str | None, int] = {None: 0}
    empty: dict[int, CellData] = {}
    by_index = _shared_index(shared)  # "12" -> the 13th shared string: one lookup per text cell
    refs, rows_seen = _REFS, _ROWS
    left = budget.left
    n_stored = stored[0]
    for el in rows:
        if el.tag != ROW:
            raise _Odd
        r = el.get("r")
        nr = rows_seen.get(r)
        if nr is None:
            nr = _row_number(r) if r is not None else row + 1
            if nr is None or nr >= MAX_ROW:
                raise _refuse(f"numero di riga non valido nel foglio «{_shown(sheet.name)}»: file costruito ad arte "
                              "o danneggiato")
            if r is not None and len(rows_seen) < 1 << 16:
                rows_seen[r] = nr
        row, col = nr, -1
        n_cells += len(el)
        for cel in el:
            if cel.tag != C:
                raise _Odd
            ref = cel.get("r")
            at = refs.get(ref)  # a reference seen before (always inside the grid)
            if at is None:
                if ref is None:
                    at = (row if row >= 0 else 0, col + 1)
                else:
                    at = _ref(ref)
                    if at is None:
                        raise _refuse(f"riferimento di cella non valido («{_shown(ref)}») nel foglio "
                                      f"«{_shown(sheet.name)}»: file costruito ad arte o danneggiato")
                if at[1] >= MAX_COL:
                    raise _refuse(f"cella oltre l'ultima colonna nel foglio «{_shown(sheet.name)}»: file danneggiato")
            row, col = at
            style = styles_seen.get(cel.get("s"))
            if style is None:
                s = cel.get("s")
                style = styles_seen[s] = int(s) if s.isdigit() and s.isascii() and len(s) < 7 else -1
            if not len(cel):  # an empty cell: only its style counts (one shared, never changed CellData per style)
                if style and row <= max_row and col <= max_col:
                    n_stored += 1
                    cd = empty.get(style)
                    if cd is None:
                        cd = empty[style] = CellData(None, "", False, style)
                    cells[at] = cd
                continue
            raw = formula = None
            for ch in cel:
                t = ch.tag
                if t == V:
                    raw = ch.text or ""
                elif t == F:
                    formula = ch.text or "="
                else:
                    raise _Odd
                if len(ch):
                    raise _Odd
            kind = cel.get("t")
            if kind == "s" and raw in by_index:
                value, error = by_index[raw], False  # the usual label (else checked below)
            elif kind == "inlineStr":
                raise _Odd
            else:
                value, error = _xlsx_value("n" if kind is None else kind, raw, None, style, dates, shared, row, col, sheet)
            if value == "":
                value = None
            if row > max_row or col > max_col:
                if (value is not None or formula) and sheet.outside is None:
                    sheet.outside = at
                continue
            if value is None and not formula and not style:
                continue
            if value.__class__ is str:
                left -= len(value)
            if formula:
                left -= len(formula)
            n_stored += 1
            cells[at] = CellData(value, formula or "", error, style)
        if left < 0:  # checked once per row: a row holds at most 16,384 references to texts already in memory
            budget.take(budget.left - left)
        if n_stored > MAX_STORED:
            raise _refuse("il file contiene troppe celle: file costruito ad arte; file rifiutato")
    budget.left = left
    if n_cells != len(list(root.iter(C))) or len(rows) != len(list(root.iter(ROW))):  # counted in C
        raise _Odd  # a cell or row elsewhere than in <sheetData>
    stored[0] = n_stored


# --- the scan: a sheet written the usual way, read with a few regular expressions ---------------------------
#
# Excel, LibreOffice and xlsxwriter write <sheetData> the same way: rows of cells, each cell with its
# reference, style and type in this order, then an optional <f> and an optional <v>, nothing else. Such a
# body is checked whole against this grammar (one C-level match: it is well-formed XML, in the main
# namespace, with no other element), and its cells taken with one more match; the rest of the part is
# parsed by expat as usual. Anything else, and any cell the row walk would refuse, goes to the row walk of
# the tree (:func:`_xlsx_rows`), so a refusal always comes from there, worded and placed as before.

# Every token of the grammar starts with its own literal, so a match never has to give characters back: from
# Python 3.11 the repetitions are possessive (``*+``), and a body that fails fails where it stops matching,
# without the engine trying again each character it took (linear either way; 6 to 8 times faster to fail).
_P = "+" if sys.version_info >= (3, 11) else ""
_TEXT_RE = f'[^<&]*{_P}(?:&(?:amp|lt|gt|quot|apos);[^<&]*{_P})*{_P}'  # character data, the five predefined entities
_ROW_ATTRS = '(?:spans|s|customFormat|ht|hidden|customHeight|outlineLevel|collapsed|thickTop|thickBot|ph|x14ac:dyDescent)'
_F_ATTRS = '(?:t|ref|si|aca|ca|dt2D|dtr|del1|del2|r1|r2|bx)'
_CELL_RE = ('<c r="[A-Z]{1,3}[0-9]{1,7}"(?: s="[0-9]{1,6}")?(?: t="[A-Za-z]{1,9}")?(?:/>|>'
            f'(?:<f(?: {_F_ATTRS}="[^"<&]*{_P}")*{_P}(?:/>|>{_TEXT_RE}</f>))?{_P}'
            f'(?:<v/>|<v>{_TEXT_RE}</v>)?{_P}</c>)')
_SCAN_BODY = re.compile(f'(?:<row r="[0-9]{{1,7}}"(?: {_ROW_ATTRS}="[^"<&]*{_P}")*{_P}(?:/>|>(?:{_CELL_RE})*{_P}'
                        f'</row>))*{_P}')
_SCAN_CELL = re.compile(r'<c r="([A-Z0-9]+)"(?: s="([0-9]+)")?(?: t="([A-Za-z]+)")?(?:/>|>'
                        r'(?:(<f[^>]*/>|<f[^>]*>)([^<]*)(?:</f>)?)?(?:(<v/>|<v>)([^<]*)(?:</v>)?)?</c>)')
_SCAN_ROW_NUMBERS = re.compile(r'<row r="([0-9]+)"')
_SCAN_TAGS = re.compile(r'<(?:row|f) [^>]*>')
_SCAN_NAMES = re.compile(r' ([\w:]+)="')
_SCAN_CHARS = bytes(b for b in range(256) if b >= 0x20 or b in (9, 10))  # \r is normalised by a parser: not here
_SCAN_ELSEWHERE = re.compile(rb'<(?:[A-Za-z_][\w.-]*:)?(?:c|row)[\s/>]')  # a cell or row outside <sheetData>
_SCAN_ENTITIES = {"&lt;": "<", "&gt;": ">", "&quot;": '"', "&apos;": "'"}
_TAGS_OK: dict[str, bool] = {}  # start tags with attributes, each judged once per process: no name twice


def _xml_text(text: str) -> str:
    for entity, char in _SCAN_ENTITIES.items():
        text = text.replace(entity, char)
    return text.replace("&amp;", "&")


def _scan_frame(data: bytes, start: int, end: int) -> set[str] | None:
    """Parse ``data`` without the body of its <sheetData> (``data[start:end]``, the body and its tags) with
    expat: None unless it is well-formed and <sheetData> is the only one, a child of the root in the main
    namespace; else the namespace prefixes bound there."""
    stub = data[:start + 11] + data[end:]
    p = _parser()  # its refusals (a DTD, an entity) are the tree's to make: here they only mean "not scanned"
    depth = 0
    found: list[bool] = []
    bound: dict[str, int] = {}
    seen: set[str] = set()

    def ns_start(prefix, _uri):
        bound[prefix or ""] = bound.get(prefix or "", 0) + 1

    def ns_end(prefix):
        bound[prefix or ""] -= 1

    def el_start(tag, _attrs):
        nonlocal depth
        depth += 1
        if tag == _MAIN + _SEP + "sheetData" and depth == 2:
            found.append(p.CurrentByteIndex == start)
            seen.update(k for k, n in bound.items() if n > 0)

    def el_end(tag):
        nonlocal depth
        depth -= 1
        if found:  # past <sheetData>: the rest is only checked to be well-formed, in C
            p.StartElementHandler = p.EndElementHandler = None
            p.StartNamespaceDeclHandler = p.EndNamespaceDeclHandler = None

    p.StartNamespaceDeclHandler, p.EndNamespaceDeclHandler = ns_start, ns_end
    p.StartElementHandler, p.EndElementHandler = el_start, el_end
    try:
        p.Parse(stub, True)
    except (expat.ExpatError, UnsafeFile):
        return None
    return seen if found == [True] else None


def _xlsx_scan(data: bytes, sheet: SheetData, area: tuple[int, int], shared: list[str], dates,
               budget: _TextBudget, stored: list[int], encoding: str) -> bool:
    """Read the cells of a sheet whose <sheetData> is written the usual way (see above) and return True;
    return False, having changed nothing, for any other sheet or any cell the row walk would refuse."""
    value: object  # a cell's: text, number, bool, date, or None
    if encoding not in ("", "utf-8", "utf8") or sheet.cells:
        return False
    start = data.find(b"<sheetData>")
    end = data.find(b"</sheetData>", start)
    if start < 0 or end < 0 or data.find(b"<sheetData>", start + 1) >= 0 or data.find(b"</sheetData>", end + 1) >= 0:
        return False
    raw_body = data[start + 11:end]
    if (raw_body.translate(None, _SCAN_CHARS) or raw_body.find(b"]]>") >= 0  # not XML characters, or a CDATA end
            or raw_body.find(b"\xef\xbf\xbe") >= 0 or raw_body.find(b"\xef\xbf\xbf") >= 0):  # U+FFFE, U+FFFF
        return False
    try:
        body = raw_body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    if (not _SCAN_BODY.fullmatch(body)
            or _SCAN_ELSEWHERE.search(data, 0, start) or _SCAN_ELSEWHERE.search(data, end)):
        return False
    for tag in set(_SCAN_TAGS.findall(body)):  # an attribute written twice is not XML
        ok = _TAGS_OK.get(tag)
        if ok is None:
            names = _SCAN_NAMES.findall(tag)
            ok = len(names) == len(set(names))
            if len(_TAGS_OK) < 1 << 14:
                _TAGS_OK[tag] = ok
        if not ok:
            return False
    bound = _scan_frame(data, start, end)
    if bound is None or ("x14ac:" in body and "x14ac" not in bound):
        return False
    rows_seen = _ROWS
    for r in _SCAN_ROW_NUMBERS.findall(body):
        if r not in rows_seen:
            nr = _row_number(r)
            if nr is None:
                return False
            if len(rows_seen) < 1 << 16:
                rows_seen[r] = nr
    max_row, max_col = area
    cells: dict[tuple[int, int], CellData] = {}
    styles_seen: dict[str, int] = {"": 0}
    empty: dict[int, CellData] = {}
    by_index = _shared_index(shared)
    refs = _REFS
    left, n_stored = budget.left, stored[0]
    outside = None
    try:
        for ref, s, kind, f_tag, f_text, v_tag, v_text in _SCAN_CELL.findall(body):
            at = refs.get(ref) or _ref(ref)  # inside Excel's grid, or None
            if at is None:
                return False
            row, col = at
            style = styles_seen.get(s)
            if style is None:
                style = styles_seen[s] = int(s)
            if not f_tag and not v_tag:  # an empty cell: only its style counts
                if style and row <= max_row and col <= max_col:
                    n_stored += 1
                    cd = empty.get(style)
                    if cd is None:
                        cd = empty[style] = CellData(None, "", False, style)
                    cells[at] = cd
                continue
            raw = (_xml_text(v_text) if "&" in v_text else v_text) if v_tag else None
            formula = ((_xml_text(f_text) if "&" in f_text else f_text) or "=") if f_tag else None
            if kind == "s" and raw in by_index:
                value, error = by_index[raw], False
            elif kind == "inlineStr":
                return False
            else:
                value, error = _xlsx_value(kind or "n", raw, None, style, dates, shared, row, col, sheet)
            if value == "":
                value = None
            if row > max_row or col > max_col:
                if (value is not None or formula) and outside is None:
                    outside = at
                continue
            if value is None and not formula and not style:
                continue
            if value.__class__ is str:
                left -= len(value)
            if formula:
                left -= len(formula)
            n_stored += 1
            cells[at] = CellData(value, formula or "", error, style)
    except UnsafeFile:
        return False
    if left < 0 or n_stored > MAX_STORED:
        return False
    sheet.cells.update(cells)
    sheet.outside = outside
    budget.left, stored[0] = left, n_stored
    return True


def _shared_index(shared: list[str]) -> dict[str, str]:
    """Shared strings by the text of their index as a <v> holds it ("0", "1", ...)."""
    return dict(zip(map(str, range(len(shared))), shared, strict=True))


_ROWS: dict[str, int] = {}  # row numbers as written ("12" -> 11), resolved once per process


def _et_name(tag: str) -> str:
    return tag[1:].replace("}", _SEP, 1) if tag[:1] == "{" else tag


def _emit(root, start, end, text) -> None:
    """Walk a parsed tree handing ``start``/``end``/``text`` the events expat would give (namespaces as
    "uri\\x01local"), without recursion."""
    def opened(el):
        start(_et_name(el.tag), {_et_name(k): v for k, v in el.attrib.items()})
        if el.text:
            text(el.text)
        return iter(el)

    stack = [(root, opened(root))]
    while stack:
        el, children = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            end(_et_name(el.tag))
            if stack and el.tail:
                text(el.tail)
        else:
            stack.append((child, opened(child)))


def _boolean(raw: str) -> bool:
    """A t="b" value as spreadsheets read it: any number other than 0 is TRUE, so is "true" in any case."""
    t = raw.strip().lower()
    try:
        return float(t) != 0
    except ValueError:
        return t == "true"


EPOCH_1900 = datetime(1899, 12, 30)  # serial 0 as Excel (and LibreOffice) count in the 1900 date system
EPOCH_1904 = datetime(1904, 1, 1)  # serial 0 in the 1904 date system (old Mac workbooks, a per-file setting)


def _serial_date(serial: float, date1904: bool = False):
    d = (EPOCH_1904 if date1904 else EPOCH_1900) + timedelta(days=serial)
    return d.date() if serial == int(serial) else d


def _iso_date(text: str):
    try:
        stamp = datetime.fromisoformat(text.strip()[:32])
    except ValueError:
        return text[:40]
    return stamp.date() if stamp.time() == datetime.min.time() and stamp.tzinfo is None else stamp


# --- OpenDocument ------------------------------------------------------------------------------------

def _count(attrs: dict, key: str) -> int:
    v = attrs.get(key)
    if v is None:
        return 1
    v = v.strip()
    if not v.isascii() or not v.isdigit() or len(v) > 8:
        raise _refuse(f"attributo di ripetizione non valido («{_shown(v)}»): file costruito ad arte o danneggiato")
    return max(1, int(v))


def _ods(package: Package, areas: dict[str, tuple[int, int]]) -> BookData:
    book = BookData("ods")
    looks: dict[object, Look] = {}
    hidden_tables: set[str] = set()
    data_styles: dict[str, str] = {}
    if "styles.xml" in package.parts:
        _ods_styles(package.parts["styles.xml"], "styles.xml", looks, hidden_tables, data_styles)
    data = package.parts["content.xml"]
    budget = _TextBudget(MAX_TEXT)
    stored = [0]
    keys: dict[str, str] = {}
    T, OF, X = _TABLE + _SEP, _OFFICE + _SEP, _TEXT + _SEP
    st: dict[str, Any] = {"sheet": None, "area": None, "row": 0, "col": 0, "rrep": 1, "cell": None, "depth": 0, "paras": [],
          "buf": None, "table_depth": 0, "style_parser": None, "taken": 0}
    style_state = _OdsStyleState(looks, hidden_tables, data_styles)

    def start(tag, attrs):
        if st["cell"] is not None:
            t = tag
            if t == X + "p" or t == X + "h":
                st["buf"] = []
            elif t == X + "s":
                n = _count(attrs, X + "c")
                if st["buf"] is not None:
                    budget.take(n)
                    st["taken"] += n
                    st["buf"].append(" " * n)
            elif t == X + "tab" and st["buf"] is not None:
                st["buf"].append("\t")
            elif t == X + "line-break" and st["buf"] is not None:
                st["buf"].append("\n")
            elif t == OF + "annotation":
                st["depth"] += 1
            return
        if tag == T + "table":
            st["table_depth"] += 1
            if st["table_depth"] > 1:
                raise _refuse("tabella annidata in un foglio: file costruito ad arte o danneggiato")
            name = attrs.get(T + "name", "")
            sheet = _add_sheet(book, keys, name, visible=attrs.get(T + "style-name", "") not in hidden_tables)
            st["sheet"] = sheet if name in areas and not sheet.parsed else None
            st["area"] = areas.get(name)
            st["row"] = 0
        elif st["table_depth"] == 0:
            style_state.start(tag, attrs)
        elif tag == T + "table-row":
            st["rrep"] = _count(attrs, T + "number-rows-repeated")
            st["col"] = 0
        elif tag in (T + "table-cell", T + "covered-table-cell"):
            st["crep"] = _count(attrs, T + "number-columns-repeated")
            st["cell"] = attrs
            st["paras"] = []
            st["buf"] = None
            st["depth"] = 0
            st["taken"] = 0

    def end(tag):
        if st["cell"] is not None:
            if tag in (T + "table-cell", T + "covered-table-cell"):
                _store_ods(st, budget, stored)
                st["cell"] = None
            elif tag == OF + "annotation":
                st["depth"] -= 1
            elif (tag == X + "p" or tag == X + "h") and st["buf"] is not None:
                if st["depth"] == 0:
                    st["paras"].append("".join(st["buf"]))
                st["buf"] = None
            return
        if tag == T + "table":
            if st["sheet"] is not None:
                st["sheet"].parsed = True
            st["table_depth"] -= 1
            st["sheet"] = None
        elif tag == T + "table-row":
            st["row"] += st["rrep"]
        elif st["table_depth"] == 0:
            style_state.end(tag)

    def text(s):
        if st["buf"] is not None and st["depth"] == 0:
            budget.take(len(s))  # a cell's text is bounded while it is read...
            st["taken"] += len(s)
            st["buf"].append(s)
        elif style_state.in_number_text:
            style_state.text(s)

    _parse(data, "content.xml", start, end, text)
    book.looks = looks
    book.parsed_parts += ["content.xml", "styles.xml"]
    return book


def _store_ods(st, budget: _TextBudget, stored: list[int]) -> None:
    attrs, n_cols = st["cell"], st["crep"]
    row, col, n_rows = st["row"], st["col"], st["rrep"]
    budget.left += st["taken"]  # ...and counted once, as the cells that keep it (below)
    st["taken"] = 0
    st["col"] = col + n_cols
    sheet = st["sheet"]
    if sheet is None:
        return
    OF, T = _OFFICE + _SEP, _TABLE + _SEP
    kind = attrs.get(OF + "value-type")
    if attrs.get(_CALCEXT + "value-type") == "error":  # LibreOffice: an error result keeps a float value-type
        kind = "error"
    elif kind is None:
        kind = attrs.get(_CALCEXT + "value-type")
    formula = attrs.get(T + "formula", "")
    error = kind == "error"
    value: object = None
    if kind in ("float", "percentage", "currency"):
        raw = attrs.get(OF + "value", "")
        try:
            value = float(raw)
        except ValueError:
            value = raw[:200] or None
    elif kind == "date":
        value = _ods_date(attrs.get(OF + "date-value", ""))
    elif kind == "time":
        value = attrs.get(OF + "time-value", "")[:40] or None
    elif kind == "boolean":
        value = attrs.get(OF + "boolean-value", "").strip().lower() == "true"
    elif kind == "string" or kind == "error" or (kind is None and st["paras"]):
        text = attrs.get(OF + "string-value")
        if text is None:
            text = "\n".join(st["paras"])
        value = (text.strip()[:40] or "#ERR") if error else text
    if value == "":
        value = None
    style = attrs.get(T + "style-name")
    max_row, max_col = st["area"]
    if value is None and not formula and style is None:
        return
    if row > max_row or col > max_col:
        if (value is not None or formula) and sheet.outside is None:
            sheet.outside = (row, col)
        return
    rows = range(row, min(row + n_rows, max_row + 1))
    cols = range(col, min(col + n_cols, max_col + 1))
    if (value is not None or formula) and sheet.outside is None:  # the first repeat beyond the area
        if col + n_cols - 1 > max_col:
            sheet.outside = (row, max_col + 1)
        elif row + n_rows - 1 > max_row:
            sheet.outside = (max_row + 1, col)
    for r in rows:
        for c in cols:
            if isinstance(value, str):
                budget.take(len(value))
            stored[0] += 1
            if stored[0] > MAX_STORED:
                raise _refuse("il file contiene troppe celle: file costruito ad arte; file rifiutato")
            sheet.cells[(r, c)] = CellData(value, formula, error, style)
    if formula:
        budget.take(len(formula))


def _ods_date(text: str):
    text = text.strip()[:40]
    try:
        if "T" in text:
            return datetime.fromisoformat(text)
        return date.fromisoformat(text)
    except ValueError:
        return text or None


_POINTS = {"pt": 1.0, "pc": 12.0, "in": 72.0, "cm": 72 / 2.54, "mm": 72 / 25.4, "px": 0.75}  # units of length


class _OdsStyleState:
    """Cell styles (automatic or named) of an OpenDocument file: colours, font size, data style."""

    def __init__(self, looks: dict, hidden_tables: set[str], data_styles: dict[str, str] | None = None):
        self.looks, self.hidden_tables = looks, hidden_tables
        self.current: str | None = None
        self.family = ""
        self.data_styles: dict[str, str] = {} if data_styles is None else data_styles
        self.look: Look | None = None
        self.data_style_name: str | None = None
        self.data_text: list[str] = []
        self.in_number_text = False

    def start(self, tag, attrs):
        S, F, N = _STYLE + _SEP, _FO + _SEP, _NUMBER + _SEP
        T = _TABLE + _SEP
        if tag == S + "style":
            self.current = attrs.get(S + "name", "")
            self.family = attrs.get(S + "family", "")
            parent = self.looks.get(attrs.get(S + "parent-style-name", ""))
            self.look = Look(parent.num_format, parent.font_color, parent.fill_color, parent.font_size,
                             parent.hidden) if parent else Look()
            ds = attrs.get(S + "data-style-name")
            if ds is not None:
                self.look.num_format = self.data_styles.get(ds, ds)
        elif self.current is not None and self.look is not None:
            if tag == S + "table-properties" and attrs.get(T + "display", "true") == "false":
                self.hidden_tables.add(self.current)
            elif tag == S + "text-properties":
                if F + "color" in attrs:
                    self.look.font_color = attrs[F + "color"].lstrip("#").upper()
                if F + "font-size" in attrs:
                    size = attrs[F + "font-size"]
                    try:  # any unit of length OpenDocument allows, in points (a percentage: None)
                        self.look.font_size = float(size[:-2]) * _POINTS[size[-2:]] if size[-2:] in _POINTS else None
                    except ValueError:
                        self.look.font_size = None
                if attrs.get(S + "text-display") == "none" or attrs.get("urn:oasis:names:tc:opendocument:xmlns:"
                                                                        "text:1.0" + _SEP + "display") == "none":
                    self.look.hidden = True
            elif tag == S + "table-cell-properties":
                bg = attrs.get(F + "background-color")
                if bg is not None:
                    self.look.fill_color = "" if bg == "transparent" else bg.lstrip("#").upper()
        elif tag.startswith(N) and tag[len(N):].endswith("-style"):
            self.data_style_name = attrs.get(S + "name", "")
            self.data_text = [tag[len(N):]]
        elif self.data_style_name is not None:
            if tag == N + "text":
                self.in_number_text = True
            else:
                self.data_text.append(tag[len(N):] if tag.startswith(N) else "?")
                for k in ("decimal-places", "min-integer-digits", "grouping"):
                    if (N + k) in attrs:
                        self.data_text.append(f"{k}={attrs[N + k]}")

    def text(self, s: str) -> None:
        if self.data_style_name is not None and len(self.data_text) < 50:
            self.data_text.append(repr(s[:40]))

    def end(self, tag):
        S, N = _STYLE + _SEP, _NUMBER + _SEP
        if tag == S + "style":
            if self.current is not None and self.look is not None and self.family in ("table-cell", ""):
                self.looks[self.current] = self.look
            self.current, self.look = None, None
        elif tag == N + "text":
            self.in_number_text = False
        elif tag.startswith(N) and tag[len(N):].endswith("-style") and self.data_style_name is not None:
            self.data_styles[self.data_style_name] = " ".join(self.data_text)
            self.data_style_name = None


def _ods_styles(data: bytes, part: str, looks: dict, hidden_tables: set[str], data_styles: dict) -> None:
    state = _OdsStyleState(looks, hidden_tables, data_styles)
    _parse(data, part, state.start, state.end, lambda s: state.text(s) if state.in_number_text else None)


# --- entry point ---------------------------------------------------------------------------------------


def _add_sheet(book, keys: dict[str, str], name: str, visible: bool) -> SheetData:
    """A sheet of the workbook, in order; a hidden sheet and two names equal once normalised are problems."""
    sheet = SheetData(name, visible=visible)
    book.sheets.append(sheet)
    if not visible:
        book.problems.append((f"foglio nascosto: «{_shown(name)}»", name))
    key = name_key(name)
    if key in keys:
        book.problems.append((f"due fogli con lo stesso nome: «{_shown(keys[key])}» e «{_shown(name)}»", name))
    keys.setdefault(key, name)
    return sheet

def read_book(package: Package, areas: dict[str, tuple[int, int]]) -> BookData:
    """The sheets of ``package`` (checked by the guard), each sheet named in ``areas`` parsed once.

    ``areas`` maps a sheet name to the last (row, col) of its area, 0-based: cells beyond are not
    stored (the first non-empty one is kept in :attr:`SheetData.outside`). Raises
    :class:`~piao_xls.sheetio.safeopen.UnsafeFile` for what cannot be read unambiguously.
    """
    with paused_gc():  # a sheet's tree is thousands of acyclic objects: each collection would walk the caller's too
        book = _ods(package, areas) if package.kind == "ods" else _xlsx(package, areas)
        _check_other_parts(package, book)
    return book


# Parts parsed elsewhere: by the guard (relationships, manifest), by the properties reader (defusedxml).
_PARSED_ELSEWHERE = ("docProps/core.xml", "docProps/custom.xml", "meta.xml", "META-INF/manifest.xml")


def _check_other_parts(package: Package, book: BookData) -> None:
    """Every other XML part must be well-formed: a part a spreadsheet would refuse or repair is a damaged
    file, even if nothing in it is scored. One parse each, in C (no handler but the DTD refusal)."""
    done = set(book.parsed_parts) | set(package.rels) | set(_PARSED_ELSEWHERE)
    for name, body in package.parts.items():
        if name in done or not name.lower().endswith((".xml", ".rels", ".vml")):
            continue
        _parse(body, name)
