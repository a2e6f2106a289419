"""The workbook layout: every cell of every sheet, computed from the plan (pure, no I/O).

One description drives both adapters: :mod:`piao_xls.forms.writer` renders it with xlsxwriter, and
:mod:`piao_xls.returns.reader` finds the inputs and checks the locked cells with it. No cell
coordinate is written anywhere else.

Sheet kinds:
- a sector sheet: heading, objectives summary with live totals, staff, activities, then one
  card per objective laid out as in the PIAO;
- a source sheet (Nucleo di Valutazione, external certifications): the indicators of that source,
  grouped by sector;
- the "Istruzioni" sheet.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cached_property, lru_cache
from typing import cast

from ..core import __version__, formulas, italian, rounds
from ..core.answers import NOT_AVAILABLE, NOT_YET, not_available_formula, not_yet_formula
from ..core.limits import indicator_percent_limit
from ..core.model import Indicator, Objective, Plan, Sector, publish_round
from ..core.rules import InputSpec, kind_of
from ..core.rules.base import it_number
from ..core.scoring import NOT_EVALUABLE
from ..core.targets import explain_it, inputs_for
from ..sheetio.cells import a1

# 3: card heights fitted to A4 pages, cards continued under «(segue)»; 2: analysis rows, inputs spanning E:F, texts
# split over rows. A workbook of another version is refused (its cells are elsewhere).
LAYOUT_VERSION = "3"
INSTRUCTIONS_SHEET = "Istruzioni"
SOURCE_SHEETS = {"nucleo": "Nucleo di Valutazione", "esterno": "Certificazioni esterne"}
SOURCE_LABELS = {"nucleo": "a cura del Nucleo di Valutazione", "esterno": "da certificazione esterna"}
SOURCE_FILE_TAGS = {"nucleo": "Nucleo", "esterno": "Esterno"}
# Who fills an indicator in -> (header of its value column, label of the text row below it)
VALUE_LABELS = {"responsabile": ("Valore consuntivo", "Analisi scostamenti rispetto al target"),
                "nucleo": ("Giudizio del Nucleo", "Motivazione"),
                "esterno": ("Valore certificato", "Fonte del dato")}
# The text row as a sentence names it: (article, "in" + article), e.g. "compilare l'«Analisi …»", "nella «Motivazione»"
TEXT_ROW_ARTICLES = {"responsabile": ("l'", "nell'"), "nucleo": ("la ", "nella "), "esterno": ("la ", "nella ")}


def text_row_it(source: str, preposition: bool = False) -> str:
    """The text row under an indicator, named in a sentence as the form labels it: "l'«Analisi scostamenti rispetto
    al target»", "la «Motivazione»"; ``preposition``: "nell'«…»", "nella «Fonte del dato»"."""
    source = source if source in VALUE_LABELS else "responsabile"
    return f"{TEXT_ROW_ARTICLES[source][preposition]}«{VALUE_LABELS[source][1]}»"


SOURCE_TEXT_LINES = 4  # the text row of a source sheet: a few lines (the Nucleo's sheet lists many indicators)

# Columns A..H
COLS = 8
# 146 characters: a card prints at 93% (10-point text at 9.3 points on A4 landscape, LibreOffice measured) and is
# 1,062 px wide at 100% zoom in Excel, within a 1,366 px laptop screen with its row headers and scroll bar.
COL_WIDTHS = (14.0, 26.0, 20.0, 26.0, 12.0, 12.0, 11.0, 25.0)
A, B, C, D, E, F, G, H = range(8)

TEXT_LIMITS = {"analisi": 2000, "tempi": 255, "risultato": 2000}


HEADER_FOOTER_MAX = 255  # Excel drops a longer header or footer (counted in UTF-16 units)


def utf16_len(text: str) -> int:
    """Length of ``text`` as Excel counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def _hf_escape(text: str) -> str:
    """Plan text for a header/footer section: ``&`` doubled; a leading digit kept apart from the code before it
    (``&9`` followed by "3° Settore" would read as font size 93). Control characters become spaces."""
    text = "".join(ch if ch.isprintable() else " " for ch in text).replace("&", "&&")
    return " " + text if text[:1].isdigit() else text


def header_footer(left: str = "", right: str = "", *, size: int = 10, page_number: bool = False) -> str:
    """A header or footer (10-point text left and right, scaled with the sheet; ``page_number``: "Pagina N di M"
    on the right), escaped and shortened with "…" so that it stays within Excel's 255 characters."""
    tail = "Pagina &P di &N" if page_number else ""
    texts = [left, right]

    def build(parts: list[str]) -> str:
        out = ""
        if parts[0]:
            out += f"&L&{size}{_hf_escape(parts[0])}"
        right_text = (f"&{size}{_hf_escape(parts[1])}" if parts[1] else "") + (
            ("  " if parts[1] else "") + tail if tail else "")
        if right_text:
            out += f"&R{right_text}"
        return out

    text = build(texts)
    while utf16_len(text) > HEADER_FOOTER_MAX:
        i = 0 if len(texts[0]) >= len(texts[1]) else 1
        over = utf16_len(text) - HEADER_FOOTER_MAX
        cut = len(texts[i]) - 1 - max(1, min(over, len(texts[i]) // 2))
        texts[i] = texts[i][:cut].rstrip() + "…" if cut > 0 else ""
        text = build(texts)
    return text


@dataclass(frozen=True)
class Validation:
    """Data validation of an input cell (messages in Italian)."""

    kind: str  # decimal | date | list | length
    minimum: float | date | None = None
    maximum: float | date | None = None
    choices: tuple[str, ...] = ()
    input_title: str = ""
    input_message: str = ""
    error_title: str = ""
    error_message: str = ""
    not_available: bool = False  # "non disponibile" is accepted too (the writer builds a custom rule)
    not_yet: bool = False  # a monitoring form's value: «non ancora misurabile» is accepted too


@dataclass(slots=True)
class Cell:  # not frozen: frozen __init__ costs ~2x, and a layout builds tens of thousands of cells
    row: int
    col: int
    value: object = None  # label text/number, or None; for formulas the value shown before recalculation
    style: str = "text"
    kind: str = "label"  # label | input | formula
    formula: str | None = None
    merge_to: tuple[int, int] | None = None  # (last_row, last_col), inclusive
    key: str | None = None  # inputs: "<indicator id>|<input name>", "<indicator id>|analisi", "<objective id>|step<n>|tempi"
    unit: str | None = None  # inputs: percent | number | amount | date | yes_no | text
    validation: Validation | None = None

    @property
    def ref(self) -> str:
        return a1(self.row, self.col)

    def __reduce__(self):  # pickled as one constructor call: a cached layout loads twice as fast as by setattr
        return Cell, (self.row, self.col, self.value, self.style, self.kind, self.formula, self.merge_to, self.key,
                      self.unit, self.validation)


@dataclass
class SheetLayout:
    name: str
    kind: str  # sector | source | instructions
    sector_code: str | None = None
    source: str | None = None
    cells: list[Cell] = field(default_factory=list)
    col_widths: tuple[float, ...] = COL_WIDTHS
    repeat_rows: tuple[int, int] | None = None
    freeze: tuple[int, int] | None = None
    header: str = ""
    footer: str = ""
    landscape: bool = True  # A4 landscape (the sheets of cards); the Istruzioni read best in portrait
    # Rows that print together: each group (an objective card) is a list of units (first row, last row); a
    # group that does not fit on a page breaks between its units, never inside one.
    groups: list[list[tuple[int, int]]] = field(default_factory=list, repr=False, compare=False)
    # first rows of the groups that start a new page when they are taller than one (the objective cards)
    fresh: set[int] = field(default_factory=set, repr=False, compare=False)
    # rows of «Analisi scostamenti» inputs that reserve fewer lines than the longest accepted text (a tall card)
    reserve: dict[int, int] = field(default_factory=dict, repr=False, compare=False)
    # heights of the rows of the cards, computed while placing them (fit_heights takes them as they are)
    known: dict[int, float] = field(default_factory=dict, repr=False, compare=False)
    _heights: dict[int, float] | None = field(default=None, repr=False, compare=False)
    # a monitoring round's date: the sheet asks for the values at that date and, per objective, the round's report
    round: date | None = None

    @property
    def row_heights(self) -> dict[int, float]:
        """Row heights that show all wrapped text (computed on first use: the reader never needs them)."""
        if self._heights is None:
            self._heights = fit_heights(self)
        return self._heights

    @property
    def page_size(self) -> tuple[float, float]:
        """(width, height) of the sheet's A4 page in points, as oriented."""
        return (PAGE_WIDTH, PAGE_HEIGHT) if self.landscape else (PAGE_HEIGHT, PAGE_WIDTH)

    @property
    def print_scale(self) -> int:
        """The print scale (%) that fits the columns on the width of the page (never above 100%: the columns are
        chosen so that 10-point text prints at 9 points or more)."""
        return print_scale(self.col_widths, self.page_size[0])

    @property
    def cards(self) -> list[list[tuple[int, int]]]:
        """The print groups of the objective cards, in order."""
        return [g for g in self.groups if g[0][0] in self.fresh]

    def page_breaks(self, heights: dict[int, float] | None = None) -> list[int]:
        """Rows before which a page starts (see :func:`page_breaks`), for these row heights (default: the layout's)."""
        return page_breaks(self, self.row_heights if heights is None else heights)

    # The views below are cached on first use, once the builder has finished the sheet.
    @cached_property
    def inputs(self) -> dict[str, Cell]:
        return {cast(str, c.key): c for c in self.cells if c.kind == "input"}  # an input always has its key

    @cached_property
    def labels(self) -> list[Cell]:
        return [c for c in self.cells if c.kind == "label" and c.value not in (None, "")]

    @cached_property
    def label_values(self) -> list[tuple[int, int, object]]:
        """(row, col, value) of every label: what a returned sheet must still show."""
        return [(c.row, c.col, c.value) for c in self.labels]

    @property
    def formulas(self) -> list[Cell]:
        return [c for c in self.cells if c.kind == "formula"]

    @property
    def last_row(self) -> int:
        return max((c.merge_to[0] if c.merge_to else c.row) for c in self.cells) if self.cells else 0


@dataclass
class WorkbookLayout:
    kind: str  # all | sector | source
    filename: str
    sheets: list[SheetLayout]
    properties: dict[str, str]
    sector_codes: tuple[str, ...] = ()
    source: str = "responsabile"
    precision: int = 2  # decimals of the published figures: the live figures show as many

    def sheet(self, name: str) -> SheetLayout:
        for s in self.sheets:
            if s.name == name:
                return s
        raise KeyError(name)


# --- the sheet builder ------------------------------------------------------------------

class _Sheet:
    """Builds a complete sheet: every cell, with its style, merge, validation and live formula."""

    def __init__(self, layout: SheetLayout):
        self.s = layout
        self.row = 0

    def put(self, row: int, col: int, value=None, style: str = "text", last_col: int | None = None,
            last_row: int | None = None, **kw) -> Cell:
        merge = None
        if (last_col is not None and last_col != col) or (last_row is not None and last_row != row):
            merge = (last_row if last_row is not None else row, last_col if last_col is not None else col)
        cell = Cell(row, col, value, style, merge_to=merge, **kw)
        self.s.cells.append(cell)
        return cell

    def formula(self, row: int, col: int, style: str, make, value=0.0, last_col: int | None = None,
                last_row: int | None = None) -> Cell:
        """A live formula cell; ``make()`` returns the formula text (called only when it is rendered)."""
        return self.put(row, col, value, style, last_col=last_col, last_row=last_row, kind="formula", formula=make())

    def split_labels(self, row: int, items, min_rows: int = 1) -> int:
        """Label cells of one logical row whose texts may need more than Excel's tallest row: each text is cut into
        pieces over consecutive rows (the same style below, so that borders continue). Returns the rows used."""
        pieces = [(item, _pieces(item[1], _width(self.s.col_widths, item[0], item[3] if len(item) > 3 else None),
                                 item[2])) for item in items]
        n = max([min_rows, *(len(p) for _, p in pieces)])
        if n == 1:  # the usual case: every text fits in one row
            self.labels(row, [(item[0], texts[0], item[2], item[3] if len(item) > 3 else None)
                              for item, texts in pieces])
            return 1
        for item, texts in pieces:
            last_col = item[3] if len(item) > 3 else None
            for i in range(n):
                self.put(row + i, item[0], texts[i] if i < len(texts) else None, item[2], last_col=last_col)
        return n

    def labels(self, row: int, items) -> None:
        """Label cells of one row, left to right: ``(col, value, style)`` or ``(col, value, style, last_col)``
        (the cells :meth:`put` would make, without its keyword handling: most cells of a sheet are labels)."""
        append = self.s.cells.append
        for item in items:
            if len(item) == 3:
                append(Cell(row, item[0], item[1], item[2]))
            else:
                col, value, style, last_col = item
                append(Cell(row, col, value, style, "label", None,
                            None if last_col is None or last_col == col else (row, last_col)))


def _lines(text: str, width: float) -> int:
    """Rough number of wrapped lines of ``text`` in a cell ``width`` characters wide."""
    if not text:
        return 1
    per_line = max(1, int(width * 1.15))
    return sum(max(1, math.ceil(len(part) / per_line)) for part in str(text).split("\n"))


LINE_HEIGHT = 13.0
MAX_ROW_HEIGHT = 409.0  # Excel's tallest row (points): a taller row is clamped and hides the end of its text
ROW_HEIGHT = 15.0
BIG_STYLES = ("title", "card", "card_pct", "section")  # 12-14 pt fonts: lines 1.25 times taller and wider


def _width(col_widths: tuple[float, ...], col: int, last_col: int | None) -> float:
    return sum(col_widths[col:(last_col if last_col is not None else col) + 1])


@lru_cache(maxsize=16384)  # a sheet measures the same headers and labels in every card
def _text_height(text: object, width: float, style: str = "text") -> float:
    size = 1.25 if style in BIG_STYLES else 1.0
    return _lines(str(text), width / size) * LINE_HEIGHT * size + 4


_TOKEN = re.compile(r"\n|[^\S\n]+|\S+")


def _pieces(text: object, width: float, style: str = "text") -> list:
    """``text`` cut into pieces that each fit in one row of at most MAX_ROW_HEIGHT points (a non-text value, or a
    text that fits, is one piece). Nothing is lost or added: ``"".join(pieces) == text``. A piece ends after the
    spaces (or the line break) before the word that starts the next one; a word longer than a line is cut where
    a line ends."""
    if not isinstance(text, str):
        return [text]
    size = 1.25 if style in BIG_STYLES else 1.0
    per_line = max(1, int(width / size * 1.15))
    if len(text) // per_line + text.count("\n") + 1 <= (MAX_ROW_HEIGHT - 4) // (LINE_HEIGHT * size):
        return [text]  # certainly fits (an upper bound of its lines): the usual case, no measuring
    if _text_height(text, width, style) <= MAX_ROW_HEIGHT:
        return [text]
    max_lines = int((MAX_ROW_HEIGHT - 4) // (LINE_HEIGHT * size)) - 1
    while True:  # the wrap simulated here and the height measured by _text_height differ at the edges
        pieces = _cut(text, per_line, max_lines)
        if max_lines <= 1 or all(_text_height(p, width, style) <= MAX_ROW_HEIGHT for p in pieces):
            return pieces
        max_lines -= 1


def _cut(text: str, per_line: int, max_lines: int) -> list[str]:
    """``text`` cut where a simulated word wrap at ``per_line`` characters reaches ``max_lines`` lines."""
    out: list[str] = []
    start, lines, col, pending = 0, 1, 0, 0

    def new_line(at: int) -> None:  # a wrapped line starts at text[at]
        nonlocal start, lines, col
        lines, col = lines + 1, 0
        if lines > max_lines:
            if at > start:
                out.append(text[start:at])
                start = at
            lines = 1

    for m in _TOKEN.finditer(text):
        token = m.group()
        if token == "\n":
            new_line(m.end())
            pending = 0
        elif token[0].isspace():
            pending = len(token)
        else:
            for k in range(0, len(token), per_line):
                chunk = min(per_line, len(token) - k)
                if col and col + pending + chunk > per_line:
                    new_line(m.start() + k)
                    pending = 0
                col += pending + chunk
                pending = 0
    if start < len(text):
        out.append(text[start:])
    return out or [text]


# Rows of free-text inputs: the «Analisi scostamenti» has a full-width row sized for its longest accepted text;
# the texts of the steps get a few lines (sized for their whole length, a card would not fit on a page). People
# may enlarge any row (row formatting is allowed by the sheet protection).
INPUT_TEXT_LINES = {"risultato": 4, "tempi": 2,  # other text inputs: their whole accepted length
                    "azione": 3, "nuovo": 1, "motivo": 2, "evidenze": 2}  # a monitoring round's (see _round_rows)


def fit_heights(sheet: SheetLayout, extra: dict[tuple[int, int], str] | None = None) -> dict[int, float]:
    """Row heights so that wrapped and merged text is fully visible (Excel does not auto-fit them), each at most
    MAX_ROW_HEIGHT. ``extra``: texts of input cells ((row, col) -> text), e.g. of a prefilled workbook."""
    need: dict[int, float] = {}
    tall: list[tuple[Cell, float, int]] = []  # (cell, height it needs, the last row of its merge)
    widths = sheet.col_widths
    known = sheet.known if not extra else {}
    reserve = sheet.reserve
    spans: dict[tuple[int, int], float] = {}  # (first col, last col) -> width: a sheet has a few dozen
    text_height, big, get = _text_height, BIG_STYLES, need.get
    for c in sheet.cells:  # one step per cell of every card: the checks cheapest first
        kind = c.kind
        if kind == "formula":
            continue
        row = c.row
        if row in known:
            continue
        value = c.value
        merge = c.merge_to
        if kind == "input":
            typed = extra.get((row, c.col)) if extra else None
            unit = c.unit
            if typed is None and unit != "text":
                continue
            last_row, last_col = merge or (row, c.col)
            width = spans.get((c.col, last_col))
            if width is None:
                width = spans[(c.col, last_col)] = _width(widths, c.col, last_col)
            if unit != "text":
                lines = 1
            elif row in reserve:
                lines = reserve[row]
            else:
                name = (c.key or "").rsplit("|", 1)[-1]
                if name in INPUT_TEXT_LINES:
                    lines = INPUT_TEXT_LINES[name]
                elif sheet.kind == "source":
                    lines = SOURCE_TEXT_LINES
                else:
                    most = c.validation.maximum if c.validation else None
                    longest = int(most) if isinstance(most, (int, float)) and most else 255
                    lines = _lines("x" * longest, width)
            h = max(lines * LINE_HEIGHT + 4, _text_height(typed, width) if typed else 0.0)
        elif value is None or (value.__class__ is not str and not isinstance(value, str) and c.style not in big):
            continue  # a number is shown in its short format on one line (a card's weight: in its tall title row)
        else:
            if merge is None:
                last_row, last_col = row, c.col
            else:
                last_row, last_col = merge
            width = spans.get((c.col, last_col))
            if width is None:
                width = spans[(c.col, last_col)] = _width(widths, c.col, last_col)
            h = text_height(value, width, c.style)
        if last_row == row:
            have = get(row, ROW_HEIGHT)
            need[row] = min(MAX_ROW_HEIGHT, have if have >= h else h)
        else:
            tall.append((c, h, last_row))
    for c, h, bottom in tall:
        rows = range(c.row, bottom + 1)
        have = sum(need.get(r, ROW_HEIGHT) for r in rows)
        while have < h - 0.05:
            room = [r for r in rows if need.get(r, ROW_HEIGHT) < MAX_ROW_HEIGHT]
            if not room:
                break
            add = (h - have) / len(room)
            for r in room:
                need[r] = min(MAX_ROW_HEIGHT, need.get(r, ROW_HEIGHT) + add)
            have = sum(need.get(r, ROW_HEIGHT) for r in rows)
    need.update(known)
    return {r: round(h, 1) for r, h in sorted(need.items())}


# --- print layout ----------------------------------------------------------------------------
# A4 landscape, margins in inches as the writer sets them.
PAGE_WIDTH, PAGE_HEIGHT = 841.89, 595.28  # points
MARGINS = {"left": 0.3, "right": 0.3, "top": 0.6, "bottom": 0.6}
PAGE_SAFETY = 0.95  # room for rendering differences between Excel and LibreOffice


def column_pixels(width: float) -> int:
    """Width on screen (pixels at 100% zoom) of a column ``width`` characters wide, as Excel draws it (Calibri 11:
    7 px a character and 5 px of padding)."""
    return int(width * 7 + 0.5) + 5


def column_points(width: float) -> float:
    """Printed width (points) of a column ``width`` characters wide, the larger of Excel's (its pixels at 0.75 point)
    and LibreOffice's (5.551 points a character and 3.88 of padding, measured on its PDF)."""
    return max(column_pixels(width) * 0.75, width * 5.551 + 3.88)


def print_scale(col_widths: tuple[float, ...], page_width: float = PAGE_WIDTH) -> int:
    printable = page_width - (MARGINS["left"] + MARGINS["right"]) * 72
    sheet = sum(column_points(w) for w in col_widths)
    return max(10, min(100, int(100 * printable * 0.98 / sheet)))


def page_capacity(layout: SheetLayout, heights: dict[int, float]) -> float:
    """Points of rows that fit on one printed page, below the rows repeated on every page."""
    printable = layout.page_size[1] - (MARGINS["top"] + MARGINS["bottom"]) * 72
    repeated = sum(heights.get(r, ROW_HEIGHT) for r in range(layout.repeat_rows[0], layout.repeat_rows[1] + 1)
                   ) if layout.repeat_rows else 0.0
    return printable * 100 / layout.print_scale * PAGE_SAFETY - repeated


def page_breaks(layout: SheetLayout, heights: dict[int, float]) -> list[int]:
    """Manual page breaks: a card that would cross a page starts on a new one; a card taller than a page starts on
    a new page and breaks between its units (heading, indicator header with its first indicator, ...), never inside one."""
    capacity = page_capacity(layout, heights)
    first = layout.repeat_rows[1] + 1 if layout.repeat_rows else 0

    def height(a: int, b: int) -> float:
        return sum(heights.get(r, ROW_HEIGHT) for r in range(a, b + 1))

    in_group = {}
    for i, group in enumerate(layout.groups):
        in_group[group[0][0]] = i
    breaks: list[int] = []
    used, r, last = 0.0, first, layout.last_row
    while r <= last:
        gi = in_group.get(r)
        units = layout.groups[gi] if gi is not None else [(r, r)]
        total = height(units[0][0], units[-1][1])
        if total <= capacity:
            if used and used + total > capacity:
                breaks.append(units[0][0])
                used = 0.0
            used += total
        else:  # taller than a page: it starts on a new one, so that it takes as few pages as it can
            if used and len(units) > 1 and units[0][0] in layout.fresh:
                breaks.append(units[0][0])
                used = 0.0
            for a, b in units:
                h = height(a, b)
                if used and used + h > capacity:
                    breaks.append(a)
                    used = 0.0
                if h <= capacity:
                    used += h
                    continue
                for row in range(a, b + 1):  # a unit taller than a page: breaks between its rows, placed here
                    h = heights.get(row, ROW_HEIGHT)
                    if used and used + h > capacity:
                        breaks.append(row)
                        used = 0.0
                    used += h
        r = units[-1][1] + 1
    return breaks


def clip16(text: str, limit: int) -> str:
    """``text`` shortened (with "…") to at most ``limit`` UTF-16 units, as Excel counts them."""
    if utf16_len(text) <= limit:
        return text
    while utf16_len(text) > limit - 1:
        text = text[:-1]
    return text.rstrip() + "…"


def _message(main: str, target: str = "", hint: str = "") -> str:
    """An input message within Excel's 255 characters: the target text is shortened first."""
    text = " ".join(p for p in (main, hint) if p)
    room = INPUT_MESSAGE_MAX - utf16_len(text) - 1
    if target and room > 12:
        text = f"{main} {clip16(target, room)}" + (f" {hint}" if hint else "")
    return clip16(text, INPUT_MESSAGE_MAX)


INPUT_MESSAGE_MAX = 255
INPUT_TITLE_MAX = 32
NOT_AVAILABLE_HINT = f"Se il dato manca: «{NOT_AVAILABLE}» e il motivo nell'Analisi."
# where the reason of a value not available is written, as the text row below the value is called in each sheet
EXPLAIN_IN = {"responsabile": "nell'Analisi", "nucleo": "nella Motivazione", "esterno": "nella riga Fonte del dato"}


@lru_cache(maxsize=4096)
def _validation(spec_unit: str, label: str, target_txt: str, year: int, spec: InputSpec | None = None,
                limit: int = 255, span: tuple[int, int] | None = None, source: str = "responsabile",
                requirement: str = "", measure: str | None = None, not_yet: bool = False) -> Validation:
    what = f"Regola del target: {requirement}." if requirement else f"Target: {target_txt}." if target_txt else ""
    title = clip16(label, INPUT_TITLE_MAX)
    explain_in = EXPLAIN_IN.get(source, EXPLAIN_IN["responsabile"])
    hint = NOT_AVAILABLE_HINT.replace("nell'Analisi", explain_in)
    if not_yet:  # a monitoring form's value: the two words, before the target (which is shortened first)
        hint = f"Se manca: «{NOT_AVAILABLE}» e il motivo {explain_in}; se non ancora misurabile: «{NOT_YET}»."
    if spec_unit == "percent":
        hi = spec.max if spec and spec.max is not None else 1.0
        return Validation("decimal", 0.0, hi, input_title=title, not_available=True,
                          input_message=_message(f"Inserire una percentuale tra 0% e {italian.percent_plain(hi)} (es. 95%).",
                                                 what, hint),
                          error_title="Valore non valido",
                          error_message=f"Inserire una percentuale tra 0% e {italian.percent_plain(hi)}, ad esempio 95%, "
                                        f"oppure «{NOT_AVAILABLE}».")
    if spec_unit == "amount":
        return Validation("decimal", 0.0, 1e12, input_title=title, not_available=True,
                          input_message=_message("Inserire un importo in euro.", what, hint),
                          error_title="Importo non valido",
                          error_message="Inserire un importo in euro (numero maggiore o uguale a 0), senza testo, "
                                        f"oppure «{NOT_AVAILABLE}».")
    if spec_unit == "number":
        lo = spec.min if spec and spec.min is not None else -1e12
        return Validation("decimal", lo, 1e12, input_title=title, not_available=True,
                          input_message=_message(f"Inserire un numero{f' ({measure})' if measure else ''}"
                                                 f"{' maggiore o uguale a 0' if lo == 0 else ''}.", what, hint),
                          error_title="Numero non valido",
                          error_message=f"Inserire solo un numero (senza testo né unità di misura) oppure "
                                        f"«{NOT_AVAILABLE}».")
    if spec_unit == "date":
        since, until = span or (year, year)
        earliest, latest = date(since - 1, 1, 1), date(until + 1, 12, 31)
        return Validation("date", earliest, latest, input_title=title, not_available=True,
                          input_message=_message(f"Inserire una data (gg/mm/aaaa) tra il {earliest:%d/%m/%Y} e il "
                                                 f"{latest:%d/%m/%Y}.", what, hint),
                          error_title="Data non valida",
                          error_message=f"Inserire una data valida (gg/mm/aaaa) tra il {earliest:%d/%m/%Y} e il "
                                        f"{latest:%d/%m/%Y} oppure «{NOT_AVAILABLE}».")
    if spec_unit == "yes_no":
        return Validation("list", choices=("Sì", "No", NOT_AVAILABLE), input_title=title, not_available=True,
                          input_message=_message("Scegliere Sì o No dall'elenco.", what,
                                                 f"Se il dato non è disponibile scegliere «{NOT_AVAILABLE}» e "
                                                 f"spiegarne il motivo {explain_in}."),
                          error_title="Valore non valido",
                          error_message=f"Scegliere Sì, No oppure «{NOT_AVAILABLE}» dall'elenco.")
    return Validation("length", 0, limit, input_title=title,
                      input_message=_message(f"Testo libero, al massimo {limit} caratteri."),
                      error_title="Testo troppo lungo",
                      error_message=f"Il testo può contenere al massimo {limit} caratteri.")


# --- previews that wait for data: blank until their inputs are filled --------------------------

def _blank(ref: str) -> str:
    return f'TRIM({ref}&"")=""'


def _any(conditions: list[str]) -> str:
    return conditions[0] if len(conditions) == 1 else f"OR({','.join(conditions)})"


def _waiting_indicator(rule, refs: list[str], policy, not_yet: bool = False) -> str:
    """The indicator's live achievement: blank while an input is empty, "n.d." for a value declared not
    available (scored 0, as :func:`piao_xls.core.scoring.score_rule`), else the rule's formula."""
    template, slots = _indicator_template(rule, len(refs), policy, not_yet)
    for slot, ref in zip(slots, refs, strict=True):
        template = template.replace(slot, ref)
    return template


@lru_cache(maxsize=4096)
def _indicator_template(rule, n: int, policy, not_yet: bool = False) -> tuple[str, tuple[str, ...]]:
    """:func:`_waiting_indicator` with a placeholder for each input cell (refs only ever enter the
    formula as text): a plan repeats a handful of rules, a layout builds thousands of these."""
    slots = tuple(f"\x00{i}\x00" for i in range(n))
    formula = formulas.indicator_formula(rule, slots, policy)
    if formula is None:  # the callers ask only for rules that have one
        raise ValueError(f"no formula for an indicator of kind {rule.kind}")
    body = formula[1:]
    if not_yet:  # a monitoring form: a value not measurable yet shows "n.m."
        body = f'IF({_any([not_yet_formula(r) for r in slots])},"n.m.",{body})'
    return (f'=IF({_any([_blank(r) for r in slots])},"",'
            f'IF({_any([not_available_formula(r) for r in slots])},"n.d.",{body}))'), slots


def _waiting_objective(parts: list[tuple[str, float]], policy, published: int | None = None) -> str:
    """An objective's live achievement: blank until every counted indicator shows a result; rounded as published
    (``published`` decimals of the percentage) when given."""
    body = formulas.objective_formula([(f"N({c})", w) for c, w in parts], policy)[1:]
    if published is not None:
        body = f"ROUND({body},{published + 2})"
    waiting = _any([c + '=""' for c, _ in parts])
    return f'=IF({waiting},"",{body})'


def _count(refs: list[str]) -> str:
    """COUNT over any number of cells (Excel takes at most 255 arguments per call)."""
    return "+".join(f"COUNT({','.join(refs[i:i + 200])})" for i in range(0, len(refs), 200))


WAITING_TOTAL = "da compilare (peso rendicontato: 0%)"  # what the sector total shows in a fresh form


def _waiting_total(points: list[tuple[str, float, str]], evaluable_weight: float, gates: Sequence[str] = (),
                   gate_cap: float = 0.0, precision: int | None = None) -> str:
    """The sector total: "da compilare" with the share of the weight already reported, until every counted
    objective has its points (and every gate objective its achievement); then the rescaled total of
    :func:`piao_xls.core.formulas.sector_formula`, capped when a gate objective is not met."""
    # the points carry the applied weights (weight x 100 / evaluable weight): the total is their sum, of the raw
    # points (each shown rounded), rounded as published
    body = formulas.sector_formula([f"({raw})" for _, _, raw in points] if precision is not None
                                   else [c for c, _, _ in points], 100.0 if evaluable_weight > 0 else 0.0,
                                   list(gates), gate_cap)[1:]
    if precision is not None:
        body = f"ROUND({body},{precision})"
    if evaluable_weight > 0:
        share = f"({'+'.join(f'IF(ISNUMBER({c}),{formulas._n(w)},0)' for c, w, _ in points)})*100/" \
                f"{formulas._n(evaluable_weight)}"
    else:  # objectives of weight 0: the share of objectives reported
        share = f"({_count([c for c, _, _ in points])})*100/{len(points)}"
    waited = [c for c, _, _ in points] + list(gates)
    return (f'=IF({_count(waited)}<{len(waited)},"da compilare (peso rendicontato: "&'
            f'ROUND({share},0)&"%)",{body})')


def _indicator_rows(sh: _Sheet, plan: Plan, ind: Indicator, editable: bool, first_col_text: str | None = None
                    ) -> str | None:
    """One indicator: its row (two when its texts need them) and, when the value is typed here, a full-width row
    for the «Analisi scostamenti». Returns the A1 ref of its live achievement cell (None when informative)."""
    r = sh.row
    first = first_col_text if first_col_text is not None else ind.profilo
    texts = [(A, first, "text"), (B, ind.description, "text"), (C, ind.target_text or "—", "text_center")]
    if not editable:
        source = SOURCE_LABELS.get(ind.source, ind.source)
        n = sh.split_labels(r, (*texts, (D, "Valore fornito da altra fonte", "text")))
        sh.put(r, E, source, "external", last_col=F, last_row=r + n - 1)
        sh.put(r, G, "—", "external", last_col=H, last_row=r + n - 1)
        sh.row += n
        return None
    asked, fields = _indicator_inputs(ind.rule, plan.year, indicator_percent_limit(ind), ind.source,
                                      sh.s.round is not None)
    n = sh.split_labels(r, (*texts, (D, asked, "text")))
    end = r + n - 1
    single = len(fields) == 1  # one value: its cell spans E:F
    cells = [sh.put(r, col, None, style, kind="input", key=f"{ind.id}|{name}", unit=unit, validation=validation,
                    last_col=F if single else None, last_row=end)
             for col, (name, unit, style, validation) in zip((E, F), fields, strict=False)]
    if ind.rule.kind == "informative":  # formulas.indicator_formula has none
        sh.put(r, G, "informativo", "external", last_col=H, last_row=end)
        ach = None
    else:
        ach = sh.formula(r, G, "live_pct", lambda: _waiting_indicator(ind.rule, [c.ref for c in cells], plan.scoring,
                                                                       sh.s.round is not None),
                         value="", last_col=H, last_row=end).ref
    label = VALUE_LABELS.get(ind.source, VALUE_LABELS["responsabile"])[1]
    sh.put(end + 1, A, label, "header_left")
    sh.put(end + 1, B, None, "input_text", kind="input", key=f"{ind.id}|analisi", unit="text", last_col=H,
           validation=_validation("text", label.removesuffix(" rispetto al target"), "", plan.year, None,
                                  TEXT_LIMITS["analisi"]))
    sh.row = end + 2
    return ach


@lru_cache(maxsize=4096)
def _indicator_inputs(rule, year: int, limit: float | None = None, source: str = "responsabile", not_yet: bool = False
                      ) -> tuple[str, tuple[tuple[str, str, str, Validation], ...]]:
    """What an indicator row asks for (column D) and its input cells: (name, unit, style, validation).
    ``limit``: the upper limit of a percent input (:func:`piao_xls.core.limits.percent_limit`).

    Memoized per rule: a plan repeats a handful of targets ("100%", "Entro il 31/12") many times.
    """
    specs = inputs_for(rule, year)
    if limit is not None:
        specs = tuple(replace(s, max=limit) if s.unit == "percent" else s for s in specs)
    target_txt = explain_it(rule)
    kind = kind_of(rule.kind)
    requirement = kind.requirement_it(rule) if kind.scored else ""
    asked = kind.asked_it(rule, specs[0]) if len(specs) == 1 else "\n".join(
        f"{c}: {kind.asked_it(rule, s)}" for c, s in zip("EF", specs, strict=False))
    # the date window follows the target: a deadline in a later year of a triennial plan is accepted
    span = (min(year, rule.deadline.year), max(year, rule.deadline.year)) if rule.deadline else None
    return asked, tuple((s.name, s.unit, _input_style(s.unit, rule.measure),
                         (_with_not_yet if not_yet else _same)(
                             _validation(s.unit, s.label, target_txt, year, s, span=span, source=source,
                                         requirement=requirement, measure=rule.measure if s.unit == "number" else None,
                                         not_yet=not_yet)))
                        for s in specs)


def _same(v: Validation) -> Validation:
    return v


def _with_not_yet(v: Validation) -> Validation:
    """A value cell of a monitoring form: «non ancora misurabile» is accepted too (typed, or chosen from the list)."""
    if not v.not_available:
        return v
    also = f"«{NOT_AVAILABLE}» o «{NOT_YET}»"
    message = v.input_message if v.kind != "list" else clip16(
        f"{v.input_message} Se non è ancora misurabile alla data: «{NOT_YET}».", INPUT_MESSAGE_MAX)
    return replace(v, not_yet=True, choices=(*v.choices, NOT_YET) if v.kind == "list" else v.choices,
                   input_message=message, error_message=clip16(v.error_message.replace(f"«{NOT_AVAILABLE}»", also), 255))


def _input_style(unit: str, measure: str | None) -> str:
    """The style of a value cell: a count shows its unit beside the number ("12 giorni"), see writer."""
    if unit == "number" and measure:
        return f"input_number|{measure}"
    return f"input_{unit}"


INDICATOR_HEADER = ("Profilo di performance", "Indicatore di risultato", "Target", "Dato richiesto",
                    "Valore consuntivo", None, "Grado di raggiungimento", None)


_INDICATOR_HEADER_ITEMS = tuple((col, text, "header", col + 1) if col in (E, G) else (col, text, "header")
                                 for col, text in enumerate(INDICATOR_HEADER) if col not in (A, F, H))
CARD_HEADER = ("Stakeholder finale", "Impatto atteso", "Risultato atteso", "Modalità di attuazione", "Tempi",
               "Tempi di realizzazione", "Risultato conseguito")
_CARD_HEADER_ITEMS = tuple((col, text, "header", H) if col == G else (col, text, "header")
                           for col, text in enumerate(CARD_HEADER))


def _weights_explained(sector: Sector, excluded: list[Objective], evaluable_weight: float, scored: bool) -> str:
    """In words, how the applied weights of the summary come from the plan's ("" when they are the same)."""
    if not scored:
        return ""
    parts = []
    if any(o.coefficient is not None for o in sector.objectives):
        total = sum(o.coefficient or 0 for o in sector.objectives if not o.gate)
        parts.append(f"Il piano esprime i pesi come coefficienti (totale {it_number(total)}), riportati a 100.")
    if excluded:
        names = [f"{o.number} (peso {it_number(round(o.weight, 2))}%)" for o in excluded]
        listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " e " + names[-1]
        one = len(excluded) == 1
        who = "l'obiettivo" if one else "gli obiettivi"
        reasons = {"a cura del Nucleo di Valutazione o di una fonte esterna" if o.indicators and any(
            i.scored for i in o.indicators) else "senza indicatori misurabili" for o in excluded}
        parts.append(
            f"Pesi riproporzionati: {who} {listed} "
            f"{'è escluso' if one else 'sono esclusi'} da questo calcolo provvisorio ({' o '.join(sorted(reasons))}); "
            f"i pesi degli altri obiettivi, {it_number(round(evaluable_weight, 2))}% in totale, sono riportati a 100 "
            f"(peso applicato = peso nel piano × 100 / {it_number(round(evaluable_weight, 2))}). "
            "Il punteggio definitivo, calcolato dall'ufficio, comprende anche gli obiettivi esclusi.")
    elif abs(evaluable_weight - 100) > 1e-9 and not parts:
        parts.append(f"I pesi degli obiettivi valutati sommano a {it_number(round(evaluable_weight, 2))}%: sono "
                     "riportati a 100 (peso applicato = peso nel piano × 100 / "
                     f"{it_number(round(evaluable_weight, 2))}).")
    return " ".join(parts)


def _coefficient_note(sector: Sector, obj: Objective) -> str:
    """'Peso: coefficiente 1,2 su 3,6' for a plan that gives weights as coefficients."""
    if obj.coefficient is None:
        return ""
    scale = sum(o.coefficient or 0 for o in sector.objectives if not o.gate)
    return f"Peso: coefficiente {it_number(obj.coefficient)} su {it_number(scale)}"


def _indicator_header(sh: _Sheet, first: str = "Profilo di performance", source: str = "responsabile") -> None:
    items = _INDICATOR_HEADER_ITEMS if source == "responsabile" else tuple(
        (E, VALUE_LABELS[source][0], "header", F) if item[0] == E else item for item in _INDICATOR_HEADER_ITEMS)
    if sh.s.round is not None:  # a monitoring form: the value reached at the round's date
        items = tuple((E, f"Valore al {sh.s.round:%d/%m/%Y}", "header", F) if item[0] == E else item
                      for item in items)
    sh.labels(sh.row, ((A, first, "header"), *items))
    sh.row += 1


MIN_ANALYSIS_LINES = 4  # the shortest «Analisi scostamenti» row of a card that would not fit a page with longer ones


def _card(sh: _Sheet, plan: Plan, sector: Sector, obj: Objective, n_code: str, head: int | None = None
          ) -> list[tuple[str, float]]:
    """An objective card that prints on one page when it can. Returns (live achievement cell, weight) for each counted
    indicator (``head``: the first row of a heading above the card that prints with it).

    Each «Analisi scostamenti» row is sized for the longest accepted text (2,000 characters); when that makes the
    card taller than a page, the card's analysis rows get fewer lines (at least MIN_ANALYSIS_LINES; a row can be
    enlarged, as the Istruzioni say). A card taller than a page even with the shortest rows keeps its full analysis
    rows and continues on the next page at an indicator, under its heading repeated with «(segue)» and the indicator
    header."""
    own, top = len(sh.s.cells), sh.row
    mark = own  # the cells measured: the card's and its heading's
    while head is not None and mark and sh.s.cells[mark - 1].row >= head:
        mark -= 1
    parts, units, n_steps = _card_rows(sh, plan, obj, n_code, head=head)
    capacity = page_capacity(sh.s, {})
    heights = _local_heights(sh.s, mark)

    def height(a: int, b: int) -> float:
        return sum(heights.get(r, ROW_HEIGHT) for r in range(a, b + 1))

    total = height(units[0][0], units[-1][1])
    if total <= capacity:
        sh.s.groups.append(units)
        sh.s.fresh.add(units[0][0])
        sh.s.known.update(heights)
        return parts
    analyses = [c.row for c in sh.s.cells[mark:] if c.kind == "input" and (c.key or "").endswith("|analisi")]
    if analyses:
        room = (capacity - total + sum(heights[r] for r in analyses)) / len(analyses)
        full = _lines("x" * TEXT_LIMITS["analisi"], _width(sh.s.col_widths, B, H))
        fit = min(full, int((room - 4) // LINE_HEIGHT))
        if fit >= MIN_ANALYSIS_LINES:  # it fits with shorter analysis rows: as long as they can be
            sh.s.reserve.update(dict.fromkeys(analyses, fit))
            for r in analyses:  # the row's height: its label's or the lines reserved, as fit_heights sizes it
                heights[r] = round(max([ROW_HEIGHT, fit * LINE_HEIGHT + 4, *(
                    _text_height(c.value, _width(sh.s.col_widths, c.col, (c.merge_to or (r, c.col))[1]), c.style)
                    for c in sh.s.cells[mark:] if c.row == r and c.kind == "label" and isinstance(c.value, str))]), 1)
            total = height(units[0][0], units[-1][1])
    continued = _continuations(units, n_steps, heights, capacity, obj, n_code, sh.s.col_widths) \
        if total > capacity else frozenset()
    if continued:  # the same card again, with its heading repeated where it continues
        for r in analyses:
            sh.s.reserve.pop(r, None)
        del sh.s.cells[own:]
        sh.row = top
        parts, units, n_steps = _card_rows(sh, plan, obj, n_code, continued, head)
        heights = _local_heights(sh.s, mark)
    cuts = [0, *sorted(n_steps + j for j in continued), len(units)]
    for a, b in itertools.pairwise(cuts):
        sh.s.groups.append(units[a:b])
    sh.s.fresh.add(units[0][0])
    sh.s.known.update(heights)
    return parts


def _local_heights(layout: SheetLayout, mark: int) -> dict[int, float]:
    """Row heights of the cells added to ``layout`` since cells[mark] (a card), as :func:`fit_heights` sizes them."""
    part = SheetLayout(layout.name, layout.kind, cells=layout.cells[mark:], col_widths=layout.col_widths,
                       landscape=layout.landscape)
    part.reserve = layout.reserve
    return fit_heights(part)


def _continuations(units: list[tuple[int, int]], n_steps: int, heights: dict[int, float], capacity: float,
                   obj: Objective, n_code: str, widths: tuple[float, ...]) -> frozenset[int]:
    """The indicators before which a card taller than a page continues on a new page (page by page, as
    :func:`page_breaks` fills them, from the top of a page), each under the repeated heading and indicator header."""
    heading = max(_text_height(f"Obiettivo {obj.number}/{n_code}", widths[A], "card"),
                  _text_height(f"{obj.title} {CONTINUED}", _width(widths, B, F), "card"))
    header = heights.get(units[n_steps][0], ROW_HEIGHT) if n_steps < len(units) else ROW_HEIGHT
    out: set[int] = set()
    used = 0.0
    for k, (a, b) in enumerate(units):
        h = sum(heights.get(r, ROW_HEIGHT) for r in range(a, b + 1))
        if k >= n_steps and used and used + h > capacity:  # an indicator: on a new page, under the heading
            out.add(k - n_steps)
            used = heading + h + (header if k > n_steps else 0.0)
            continue
        if used and used + h > capacity:
            used = 0.0
        if h <= capacity:
            used += h
            continue
        for r in range(a, b + 1):  # a unit taller than a page breaks between its rows (see page_breaks)
            hr = heights.get(r, ROW_HEIGHT)
            if used and used + hr > capacity:
                used = 0.0
            used += hr
    return frozenset(out)


CONTINUED = "(segue)"


def _card_title(sh: _Sheet, obj: Objective, n_code: str, continued: bool = False) -> None:
    title = f"{obj.title} {CONTINUED}" if continued else obj.title
    sh.labels(sh.row, ((A, f"Obiettivo {obj.number}/{n_code}", "card"), (B, title, "card", F),
                       (G, "Peso", "card"), (H, "accesso", "card") if obj.gate else (H, obj.weight / 100, "card_pct")))


def _card_rows(sh: _Sheet, plan: Plan, obj: Objective, n_code: str, continued: frozenset[int] = frozenset(),
               head: int | None = None) -> tuple[list[tuple[str, float]], list[tuple[int, int]], int]:
    """The rows of an objective card: (live achievement cell, weight) of each counted indicator, the card's print
    units (heading with the column headers and the first step, each further step, the indicator header with the
    first indicator, each further indicator; the footer goes with the last) and the number of step units.
    ``continued``: the indicators that start a new page under the heading repeated with «(segue)»."""
    top = sh.row
    _card_title(sh, obj, n_code)
    sh.labels(sh.row + 1, _CARD_HEADER_ITEMS)
    sh.row += 2
    steps = obj.steps or ()
    n = max(1, len(steps))
    first = sh.row
    units: list[tuple[int, int]] = []
    widths = sh.s.col_widths
    merged = [(col, text, _text_height(text, widths[col])) for col, text in
              ((A, obj.stakeholder), (B, obj.impatto), (C, obj.risultato))]
    r = first
    for i in range(n):
        step = steps[i] if i < len(steps) else None
        tempi = step.tempi if step else ""
        if i == 0 and obj.tempi:
            tempi = f"{tempi}\n{obj.tempi}".strip()
        rows = 1
        if i == n - 1:  # the texts in A:C span every step: the last step gets the rows they still need
            rows = max(1, max(math.ceil(h / MAX_ROW_HEIGHT) for _, _, h in merged) - (r - first))
        k = sh.split_labels(r, ((D, step.text if step else "", "text"), (E, tempi, "text_center")), min_rows=rows)
        end = r + k - 1
        sh.put(r, F, None, "input_text", kind="input", key=f"{obj.id}|step{i + 1}|tempi", unit="text", last_row=end,
               validation=_validation("text", "Tempi di realizzazione", "", plan.year, None, TEXT_LIMITS["tempi"]))
        sh.put(r, G, None, "input_text", kind="input", key=f"{obj.id}|step{i + 1}|risultato", unit="text",
               last_col=H, last_row=end, validation=_validation("text", "Risultato conseguito", "", plan.year, None,
                                                                TEXT_LIMITS["risultato"]))
        units.append(((top if head is None else head) if i == 0 else r, end))
        r = end + 1
    last = r - 1
    for col, text, _ in merged:
        sh.put(first, col, text, "text", last_row=last)
    sh.row = last + 1
    parts = []
    for j, ind in enumerate(obj.indicators):
        start = sh.row
        if j in continued:
            _card_title(sh, obj, n_code, continued=True)
            sh.row += 1
        if j == 0 or j in continued:
            _indicator_header(sh)
        ach = _indicator_rows(sh, plan, ind, ind.source == "responsabile")
        units.append((start, sh.row - 1))
        if ach is not None:
            parts.append((ach, ind.weight))
    if not obj.indicators:
        _indicator_header(sh)
        units.append((sh.row - 1, sh.row - 1))
    if sh.s.round is not None:
        _round_rows(sh, obj, sh.s.round)
    r = sh.row
    sh.labels(r, _CARD_FOOTER_ITEMS)
    k = sh.split_labels(r + 1, ((A, obj.programma, "text", C), (D, obj.obiettivo_operativo, "text", H)))
    units[-1] = (units[-1][0], r + k)  # the footer goes with the last indicator: never alone on a page
    sh.row = r + k + 2
    return parts, units, n


_CARD_FOOTER_ITEMS = ((A, "Programma di bilancio", "header", C), (D, "Obiettivo operativo", "header", H))

# --- a monitoring round's report on an objective ----------------------------------------------------------------
# The choices as the form lists them: the core's words (core/rounds.py), so that the reader maps them back.
ROUND_STATES = tuple(rounds.STATE_IT[s] for s in (rounds.RoundState.ON_TRACK, rounds.RoundState.AT_RISK,
                                                   rounds.RoundState.CRITICAL))
ROUND_CAUSES = tuple(rounds.CAUSE_IT.values())
ROUND_REVISIONS = (rounds.NO_REVISION, *rounds.REVISION_IT.values())
ROUND_TEXT_LIMITS = {"azione": 2000, "nuovo": 255, "motivo": 1000, "evidenze": 1000}
#: input name (after "<objective id>|mon|") -> its label on the form
ROUND_LABELS = {"stato": "Stato", "avanzamento": "Avanzamento", "causa": "Causa dello scostamento",
                "azione": "Azione correttiva", "revisione": "Revisione proposta", "nuovo": "Nuovo valore proposto",
                "motivo": "Motivazione della revisione", "evidenze": "Evidenze"}


def _choice(label: str, choices: tuple[str, ...], message: str) -> Validation:
    listed = ", ".join(choices)
    return Validation("list", choices=choices, input_title=clip16(label, INPUT_TITLE_MAX),
                      input_message=clip16(message, INPUT_MESSAGE_MAX), error_title="Valore non valido",
                      error_message=clip16(f"Scegliere una voce dell'elenco: {listed}.", 255))


_ROUND_VALIDATIONS = {
    "stato": _choice("Stato", ROUND_STATES, "Lo stato dell'obiettivo alla data: in linea, a rischio o critico."),
    "avanzamento": Validation("decimal", 0.0, 1.0, input_title="Avanzamento",
                              input_message="Percentuale di avanzamento dell'obiettivo alla data, tra 0% e 100% "
                                            "(es. 40%). Facoltativa: se manca, vale il calcolo dagli indicatori.",
                              error_title="Valore non valido",
                              error_message="Inserire una percentuale tra 0% e 100%, ad esempio 40%."),
    "causa": _choice("Causa dello scostamento", ROUND_CAUSES,
                     "Per un obiettivo a rischio o critico: causa esterna, interna oppure indicatore da rivedere."),
    "revisione": _choice("Revisione proposta", ROUND_REVISIONS,
                         "Se l'obiettivo va rimodulato: nuovo target, nuovo peso o nuova scadenza; altrimenti "
                         "«nessuna»."),
    **{name: Validation("length", 0, limit, input_title=clip16(ROUND_LABELS[name], INPUT_TITLE_MAX),
                        input_message=f"Testo libero, al massimo {limit} caratteri.",
                        error_title="Testo troppo lungo",
                        error_message=f"Il testo può contenere al massimo {limit} caratteri.")
       for name, limit in ROUND_TEXT_LIMITS.items()},
}
_ROUND_UNITS = {"stato": "choice", "avanzamento": "percent", "causa": "choice", "revisione": "choice"}


def round_key(objective_id: str, name: str) -> str:
    """The input key of a monitoring round's field of an objective: ``SF-6|mon|stato``."""
    return f"{objective_id}|mon|{name}"


def _round_rows(sh: _Sheet, obj: Objective, as_of: date) -> None:
    """The round's report on an objective, under its indicators: state, progress, cause of the deviation,
    corrective action, proposed revision with its new value and reason, evidence."""
    r = sh.row

    def field_(row: int, col: int, name: str, last_col: int | None = None) -> None:
        unit = _ROUND_UNITS.get(name, "text")
        style = "input_percent" if unit == "percent" else "input_text"
        sh.put(row, col, None, style, kind="input", key=round_key(obj.id, name), unit=unit,
               validation=_ROUND_VALIDATIONS[name], last_col=last_col)

    sh.put(r, A, f"Monitoraggio al {as_of:%d/%m/%Y}: stato dell'obiettivo, scostamenti e azioni", "header_left",
           last_col=H)
    sh.labels(r + 1, ((A, ROUND_LABELS["stato"], "header_left"), (C, ROUND_LABELS["avanzamento"], "header_left"),
                      (E, ROUND_LABELS["causa"], "header_left", F)))
    field_(r + 1, B, "stato")
    field_(r + 1, D, "avanzamento")
    field_(r + 1, G, "causa", H)
    sh.put(r + 2, A, ROUND_LABELS["azione"], "header_left")
    field_(r + 2, B, "azione", H)
    sh.labels(r + 3, ((A, ROUND_LABELS["revisione"], "header_left"), (C, ROUND_LABELS["nuovo"], "header_left")))
    field_(r + 3, B, "revisione")
    field_(r + 3, D, "nuovo", H)
    sh.put(r + 4, A, ROUND_LABELS["motivo"], "header_left")
    field_(r + 4, B, "motivo", H)
    sh.put(r + 5, A, ROUND_LABELS["evidenze"], "header_left")
    field_(r + 5, B, "evidenze", H)
    sh.row = r + 6


def _heading(sh: _Sheet, plan: Plan, line2: str, line3: str) -> None:
    ente = f" ({plan.ente_sovraordinato})" if plan.ente_sovraordinato else ""
    sh.put(0, A, f"Comune di {plan.comune}{ente} — PIAO {plan.year}", "title", last_col=H)
    sh.put(1, A, line2, "subtitle", last_col=H)
    sh.put(2, A, line3, "subtitle", last_col=H)
    sh.row = 4


def _keep_list(sh: _Sheet, head: int, items: list[tuple[int, int]]) -> None:
    """Print a list (a section heading, its rows) together when it fits on a page; else break between its rows,
    never right after the heading (it goes with the first row) nor before the last row (it goes with the one
    before), so that no row is stranded at the top or foot of a page."""
    if not items:
        return
    units = [(head, items[0][1]), *items[1:]]
    if len(units) > 2:
        units[-2:] = [(units[-2][0], units[-1][1])]
    sh.s.groups.append(units)


def sector_sheet(plan: Plan, sector: Sector, as_of: date | None = None) -> SheetLayout:
    """A sector's sheet: every cell, with its style, merge, validation and live formula (the writer renders it,
    the reader checks a returned sheet against it). ``as_of``: the sheet of a monitoring round at that date."""
    layout = SheetLayout(sector.short_name, "sector", sector_code=sector.code, round=as_of)
    sh = _Sheet(layout)
    _heading(sh, plan, (f"Monitoraggio al {as_of:%d/%m/%Y} — " if as_of else "")
             + f"Settore {sector.name} ({sector.code})", f"Responsabile: {sector.responsabile.display}")

    # objectives summary: rows reserved now, live formulas filled once the cards are placed
    sh.put(sh.row, A, "Riepilogo obiettivi e grado di raggiungimento (calcolo provvisorio)", "section", last_col=H)
    sh.row += 1
    hr = sh.row
    for col, text, last in ((A, "N.", None), (B, "Obiettivo", C), (D, "Peso nel piano", None),
                            (E, "Peso applicato", None), (F, "Grado di raggiungimento", None), (G, "Punti", None),
                            (H, "Note", None)):
        sh.put(hr, col, text, "header", last_col=last)
    summary_first = hr + 1
    sh.row = summary_first + len(sector.objectives)
    total_row = sh.row
    sh.row += 1
    band_row = sh.row
    sh.row += 1
    explain_row = sh.row  # in words: how the applied weights come from the plan's
    sh.row += 2

    # dotazione organica
    sh.put(sh.row, A, "Dotazione organica", "section", last_col=H)
    sh.row += 1
    sh.put(sh.row, A, "Qualifica", "header", last_col=C)
    sh.put(sh.row, D, "Cat.", "header")
    sh.put(sh.row, E, "Unità", "header")
    head, items = sh.row - 1, []
    sh.row += 1
    for s in sector.staff:
        start = sh.row
        sh.row += sh.split_labels(sh.row, ((A, s.qualifica, "text", C), (D, s.categoria, "text_center"),
                                           (E, s.unita, "count")))
        items.append((start, sh.row - 1))
    sh.put(sh.row, A, "Totale", "total_label", last_col=D)
    sh.put(sh.row, E, sector.staff_total if sector.staff_total is not None else sector.computed_staff_total, "count")
    items.append((sh.row, sh.row))
    _keep_list(sh, head, items)
    sh.row += 2
    if sector.offices:
        head, items = sh.row, []
        sh.put(sh.row, A, "Uffici", "section", last_col=H)
        sh.row += 1
        for office in sector.offices:
            start = sh.row
            sh.row += sh.split_labels(sh.row, ((A, office, "text", H),))
            items.append((start, sh.row - 1))
        _keep_list(sh, head, items)
        sh.row += 1
    head, items = sh.row, []
    sh.put(sh.row, A, "Attività consolidata", "section", last_col=H)
    sh.row += 1
    for i, act in enumerate(sector.activities, 1):
        start = sh.row
        sh.row += sh.split_labels(sh.row, ((A, i, "count"), (B, act, "text", H)))
        items.append((start, sh.row - 1))
    _keep_list(sh, head, items)
    sh.row += 1
    cards_head = sh.row
    sh.put(sh.row, A, "Obiettivi gestionali di settore — schede obiettivo", "section", last_col=H)
    sh.row += 2

    # the heading of the cards prints with the first one
    cards = [(obj, _card(sh, plan, sector, obj, sector.code, cards_head if i == 0 else None))
             for i, obj in enumerate(sector.objectives)]
    counted = [obj for obj, parts in cards if parts and not obj.gate]
    evaluable_weight = sum(obj.weight for obj in counted)
    point_cells: list[tuple[str, float, str]] = []
    prec = plan.scoring.precision
    gate_cells: list[str] = []
    cap = it_number(plan.scoring.gate_cap)
    for i, (obj, parts) in enumerate(cards):
        r = summary_first + i
        sh.labels(r, ((A, obj.number, "count"), (B, obj.title, "text", C),
                      (D, "accesso", "text_center") if obj.gate else (D, obj.weight / 100, "weight")))
        if parts and obj.gate:
            ach = sh.formula(r, F, "live_pct", lambda parts=parts: _waiting_objective(parts, plan.scoring), value="")
            gate_cells.append(ach.ref)
            sh.put(r, E, "—", "external")
            sh.put(r, G, "—", "external")
            sh.put(r, H, "Obiettivo di accesso: se non è raggiunto al 100%, il punteggio del settore è "
                   + ("0" if plan.scoring.gate_cap == 0 else f"al massimo {cap}"), "text")
        elif parts:
            applied = obj.weight * 100 / evaluable_weight if evaluable_weight else 0.0  # points out of 100
            # every figure shown as published (ROUND, as the engine's publish rounding: LibreOffice's display
            # would show 21,15% for 0.21155); the points and the total are computed from the raw achievement
            sh.put(r, E, publish_round(applied, prec) / 100, "weight")
            raw = formulas.objective_formula([(f"N({c})", w) for c, w in parts], plan.scoring)[1:]
            ach = sh.formula(r, F, "live_pct", lambda parts=parts: _waiting_objective(parts, plan.scoring, prec),
                             value="")
            pts = sh.formula(r, G, "live_points", lambda applied=applied, ach=ach, raw=raw: (
                f'=IF({ach.ref}="","",ROUND({formulas.points_formula(applied, f"({raw})")[1:]},{prec}))'), value="")
            point_cells.append((pts.ref, obj.weight, f"{formulas.points_formula(applied, f'({raw})')[1:]}"))
            sh.put(r, H, _coefficient_note(sector, obj) or None, "text")
        else:
            reason = ("a cura del Nucleo di Valutazione / fonte esterna" if obj.indicators and any(
                i.scored for i in obj.indicators) else "nessun indicatore misurabile")
            sh.put(r, E, "—", "external")
            sh.put(r, F, "—", "external")
            sh.put(r, G, "—", "external")
            sh.put(r, H, f"Escluso dal calcolo provvisorio: {reason}", "text")
    sh.put(total_row, A, "Totale (punti su 100)", "total_label", last_col=C)
    sh.put(total_row, D, sector.weight_total / 100, "total_weight")
    sh.put(band_row, A, "Fascia di valutazione", "total_label", last_col=E)
    if not sector.evaluable:  # nothing measurable: no score, no band (never 0.00 and "E")
        sh.put(total_row, E, "—", "external")
        sh.put(total_row, F, NOT_EVALUABLE, "external", last_col=G)
        sh.put(total_row, H, "Settore non valutabile: nessun obiettivo ha un indicatore misurabile", "text")
        sh.put(band_row, F, NOT_EVALUABLE, "external", last_col=G)
    elif point_cells:
        sh.put(total_row, E, 1.0, "total_weight")
        # the points already carry the applied weights: the total is their sum (capped when a gate is not met)
        total = sh.formula(total_row, F, "live_total", lambda: _waiting_total(
            point_cells, evaluable_weight, gate_cells, plan.scoring.gate_cap, prec), value=WAITING_TOTAL, last_col=G)
        sh.put(total_row, H, "Punteggio provvisorio: somma dei punti", "text")
        if as_of is not None:  # a band on the values at mid-year would read as a judgement: none in a round
            sh.put(band_row, F, "non attribuita al monitoraggio", "external", last_col=G)
        else:
            sh.formula(band_row, F, "live_text", lambda: (
                f'=IF(ISNUMBER({total.ref}),'
                f'{formulas.band_formula(total.ref, plan.scoring.bands, plan.scoring.precision)[1:]},"")'),
                value="", last_col=G)
    else:
        sh.put(total_row, E, "—", "external")
        sh.put(total_row, F, "—", "external", last_col=G)
        sh.put(total_row, H, "Nessun obiettivo valutabile in questo file", "text")
        sh.put(band_row, F, "—", "external", last_col=G)
    sh.put(band_row, H, None, "text")
    explanation = _weights_explained(sector, [obj for obj, parts in cards if not parts and not obj.gate],
                                     evaluable_weight, bool(point_cells))
    if explanation:
        sh.split_labels(explain_row, ((A, explanation, "plain", H),))

    # no print titles: the page header and footer already name the comune, the sector and its Responsabile
    layout.freeze = (3, 0)
    layout.header = header_footer(f"Comune di {plan.comune} — PIAO {plan.year}", sector.name + (
        f" — monitoraggio al {as_of:%d/%m/%Y}" if as_of else ""))
    layout.footer = header_footer(f"{sector.code} — {sector.responsabile.display}", page_number=True)
    return layout


def source_sheet(plan: Plan, source: str, as_of: date | None = None) -> SheetLayout:
    name = SOURCE_SHEETS[source]
    layout = SheetLayout(name, "source", source=source, round=as_of)
    sh = _Sheet(layout)
    _heading(sh, plan, f"Indicatori {SOURCE_LABELS[source]}", f"Valori al {as_of:%d/%m/%Y} per ciascun settore"
             if as_of else "Valori da inserire per ciascun settore")
    for sector in plan.sectors:
        inds = [(o, i) for o in sector.objectives for i in o.indicators if i.source == source]
        if not inds:
            continue
        head = sh.row
        sh.put(sh.row, A, f"Settore {sector.name} ({sector.code}) — Responsabile: {sector.responsabile.display}",
               "section", last_col=H)
        sh.row += 1
        _indicator_header(sh, first="Obiettivo", source=source)
        units = []
        for j, (obj, ind) in enumerate(inds):
            start = sh.row
            _indicator_rows(sh, plan, ind, True, first_col_text=f"{obj.id} — {obj.title}")
            units.append((head if j == 0 else start, sh.row - 1))
        sh.s.groups.append(units)
        sh.row += 1
    # no print titles: the page header and footer already name the comune, the sector and its Responsabile
    layout.freeze = (3, 0)
    layout.header = header_footer(f"Comune di {plan.comune} — PIAO {plan.year}", name + (
        f" — monitoraggio al {as_of:%d/%m/%Y}" if as_of else ""))
    layout.footer = header_footer(page_number=True)
    return layout


def _giving_back(plan: Plan, as_of: date | None = None) -> list[tuple[str, str]]:
    """The «Restituzione» paragraph: the return deadline and the contact when the plan has them (a monitoring
    round's deadline is the one its message gives)."""
    when = ("entro il termine indicato nel messaggio che accompagna il modulo" if as_of else
            f"entro il {plan.return_deadline:%d/%m/%Y}" if plan.return_deadline else
            f"entro il termine comunicato per la rendicontazione del PIAO {plan.year}")
    to = "" if plan.contact else "per posta elettronica al Servizio Finanziario "
    lines = [("plain", f"Salvare il file (formato .xlsx o .ods) e restituirlo {to}{when}.")]
    if plan.contact:
        lines.append(("plain", f"Referente per la restituzione e per chiarimenti: {plan.contact}."))
    return lines


def instructions_sheet(plan: Plan, kind: str, source: str = "responsabile", as_of: date | None = None,
                       version: str = "") -> SheetLayout:
    """The «Istruzioni» sheet: for the Responsabili, or for a source (the Nucleo, an external source), each naming
    only the fields of its own sheet; ``as_of``: of a monitoring round at that date; ``version``: the plan version
    the form is made on, with its act («2 (Delibera di Giunta comunale n. 45 del 15/07/2025)», in a workspace with
    recorded versions; docs/revisions.md)."""
    layout = SheetLayout(INSTRUCTIONS_SHEET, "instructions", col_widths=(95.0,), landscape=False, round=as_of)
    sh = _Sheet(layout)
    what = (f"monitoraggio degli obiettivi al {as_of:%d/%m/%Y}" if as_of else
            "rendicontazione degli obiettivi di performance")
    lines = [("title", f"Comune di {plan.comune} — PIAO {plan.year}: {what}"),
             *([("plain", f"Versione del piano: {version}.")] if version else []),
             ("subtitle", "Istruzioni per la compilazione"),
             *(_round_instructions(as_of, kind == "source") if as_of else ()),
             *(_round_source(_source_instructions(source), as_of) if kind == "source" else
               _sector_round_instructions(kind) if as_of else _sector_instructions(kind)),
             ("subtitle", "Restituzione"),
             *_giving_back(plan, as_of)]
    for style, text in lines:
        sh.row += sh.split_labels(sh.row, ((A, text, style),))
    layout.header = header_footer(f"Comune di {plan.comune} — PIAO {plan.year}", INSTRUCTIONS_SHEET)
    layout.footer = header_footer(page_number=True)
    return layout


_LIMIT_IT = italian.plain(TEXT_LIMITS["analisi"])  # 2.000 caratteri


def _round_instructions(as_of: date, source: bool) -> list[tuple[str, str]]:
    """What a monitoring round's form is, before the instructions of its sheets."""
    return [
        ("plain", f"Questo modulo serve al monitoraggio intermedio degli obiettivi alla data del {as_of:%d/%m/%Y} "
                  "(art. 6 del d.lgs. 150/2009): non sostituisce la rendicontazione di fine anno. Per ciascun "
                  "indicatore si inserisce il valore raggiunto alla data; se il valore non è ancora misurabile, si "
                  f"scrive «{NOT_YET}» (o lo si sceglie dall'elenco)."),
        *(() if source else (
            ("plain", "Il grado di raggiungimento mostrato nel file confronta il valore alla data con il target "
                      "dell'anno: serve a orientarsi, non è un giudizio; per questo al monitoraggio non è attribuita "
                      "la fascia di valutazione."),)),
    ]


_REQUIRED_BELOW = "; obbligatoria quando il grado di raggiungimento è inferiore al 100% e quando il valore non è disponibile"


def _round_source(lines: list[tuple[str, str]], as_of: date | None) -> list[tuple[str, str]]:
    """A source's instructions for a monitoring round: the text row is required only for a value not available."""
    if as_of is None:
        return lines
    return [(style, text.replace(_REQUIRED_BELOW, "; al monitoraggio è obbligatoria solo quando il valore non è "
                                                  "disponibile")) for style, text in lines]


def _sector_round_instructions(kind: str) -> list[tuple[str, str]]:
    who = "dai Responsabili dei settori" if kind == "all" else "dal Responsabile del settore"
    return [
        ("plain", f"Questo file è compilato {who}. Ogni foglio di settore riporta le schede obiettivo come nel PIAO; "
                  "sotto gli indicatori di ciascun obiettivo c'è il riquadro del monitoraggio."),
        ("subtitle", "Cosa compilare"),
        ("plain", "Si possono modificare solo le celle gialle; tutte le altre celle sono protette."),
        ("plain", "• Valore alla data: il valore raggiunto per ciascun indicatore. Selezionando la cella compare un "
                  "messaggio che indica cosa inserire, con l'unità di misura e la regola del target."),
        ("plain", "• Stato dell'obiettivo (obbligatorio): in linea, a rischio oppure critico."),
        ("plain", "• Avanzamento: la percentuale di avanzamento dell'obiettivo alla data (facoltativa: se manca e tutti "
                  "gli indicatori sono misurabili, vale quella calcolata dagli indicatori)."),
        ("plain", "• Per un obiettivo a rischio o critico: la causa dello scostamento (esterna, interna oppure "
                  "indicatore da rivedere) e l'azione correttiva che si intende adottare."),
        ("plain", "• Revisione proposta: se l'obiettivo va rimodulato, scegliere nuovo target, nuovo peso o nuova "
                  "scadenza e indicare il nuovo valore e la motivazione; la proposta sarà sottoposta alla Giunta. "
                  "Altrimenti lasciare vuoto o scegliere «nessuna»."),
        ("plain", "• Evidenze: gli atti, i documenti o i dati che documentano l'avanzamento."),
        ("plain", "• L'«Analisi scostamenti» sotto ciascun indicatore e le colonne delle fasi sono facoltative."),
        ("subtitle", "Se un valore non è disponibile"),
        ("plain", f"Scrivere «{NOT_AVAILABLE}» nella cella del valore e spiegarne il motivo nell'Analisi scostamenti; "
                  f"un valore che alla data non si può ancora misurare è invece «{NOT_YET}»."),
        ("subtitle", "Legenda dei colori"),
        ("plain", "Giallo: cella da compilare. Verde: calcolo automatico e provvisorio. Grigio: nessun dato da "
                  "inserire in questo foglio. Azzurro: intestazioni. Blu: titolo della scheda obiettivo."),
        *_checks(),
    ]


def _sector_instructions(kind: str) -> list[tuple[str, str]]:
    who = "dai Responsabili dei settori" if kind == "all" else "dal Responsabile del settore"
    return [
        ("plain", f"Questo file è compilato {who}. Ogni foglio di settore riporta le schede obiettivo come nel PIAO: "
                  "stakeholder, impatto e risultato attesi, modalità di attuazione, tempi, indicatori e target."),
        ("subtitle", "Cosa compilare"),
        ("plain", "Si possono modificare solo le celle gialle; tutte le altre celle sono protette."),
        ("plain", "• Valore consuntivo: il valore raggiunto per ciascun indicatore. Selezionando la cella compare un "
                  "messaggio che indica cosa inserire, con l'unità di misura e la regola del target: una percentuale, "
                  "un numero, un importo in euro, una data (gg/mm/aaaa) oppure Sì/No."),
        ("plain", "• Le percentuali si scrivono con il simbolo %, ad esempio 95%. Una quota (ad esempio la "
                  "percentuale di procedimenti conclusi nei termini) non supera il 100%; le altre percentuali "
                  "possono superarlo, ad esempio 105%."),
        ("plain", "• Analisi scostamenti rispetto al target (la riga sotto ciascun indicatore): obbligatoria quando "
                  "il grado di raggiungimento è inferiore al 100% e quando il valore non è disponibile. Accetta fino "
                  f"a {_LIMIT_IT} caratteri; se serve, la riga si può allargare."),
        ("plain", "• Tempi di realizzazione e Risultato conseguito: per ciascuna fase della modalità di attuazione."),
        ("subtitle", "Se un valore non è disponibile"),
        ("plain", f"Non lasciare la cella vuota: una cella vuota fa respingere il file. Scrivere «{NOT_AVAILABLE}» "
                  "nella cella del valore (per Sì/No sceglierlo dall'elenco) e spiegarne il motivo nell'Analisi "
                  "scostamenti. L'indicatore viene segnalato come non disponibile e nel punteggio conta zero."),
        ("subtitle", "Legenda dei colori"),
        ("plain", "Giallo: cella da compilare."),
        ("plain", "Verde: calcolo automatico e provvisorio del grado di raggiungimento, dei punti e della fascia. "
                  "Resta vuoto, o indica «da compilare» con la quota del peso già rendicontata, finché non sono "
                  "inseriti i valori da cui dipende."),
        ("plain", "Grigio: nessun dato da inserire in questo foglio (valore fornito da altra fonte, indicatore "
                  "informativo oppure obiettivo escluso dal calcolo provvisorio)."),
        ("plain", "Azzurro: intestazioni. Blu: titolo della scheda obiettivo, con il suo peso."),
        ("subtitle", "Pesi e punteggio"),
        ("plain", "Il riepilogo in testa al foglio riporta per ogni obiettivo il peso nel piano e il peso applicato "
                  "nel calcolo provvisorio. Gli obiettivi misurati dal Nucleo di Valutazione o da una fonte esterna "
                  "non sono calcolati in questo file: i pesi degli altri sono riproporzionati a 100, come spiegato "
                  "sotto il riepilogo, e i punti di ogni obiettivo sommano al totale."),
        *_checks(),
    ]


def _source_instructions(source: str) -> list[tuple[str, str]]:
    value, text = VALUE_LABELS[source]
    if source == "nucleo":
        intro = ("Questo file è compilato dal Nucleo di Valutazione. Il foglio «Nucleo di Valutazione» elenca, per "
                 "ciascun settore, gli indicatori che il piano affida al Nucleo, con il relativo target.")
        value_line = (f"• {value}: il valore accertato dal Nucleo per ciascun indicatore. Selezionando la cella "
                      "compare un messaggio che indica cosa inserire, con l'unità di misura e la regola del target.")
        text_line = (f"• {text} (la riga sotto ciascun indicatore): le ragioni del giudizio; obbligatoria quando il "
                     "grado di raggiungimento è inferiore al 100% e quando il valore non è disponibile. Accetta fino "
                     f"a {_LIMIT_IT} caratteri; se serve, la riga si può allargare.")
    else:
        intro = ("Questo file è compilato dall'ufficio che detiene la certificazione. Il foglio «Certificazioni "
                 "esterne» elenca, per ciascun settore, gli indicatori il cui valore proviene da una fonte esterna, "
                 "con il relativo target.")
        value_line = (f"• {value}: il valore risultante dalla certificazione per ciascun indicatore. Selezionando "
                      "la cella compare un messaggio che indica cosa inserire, con l'unità di misura e la regola del "
                      "target.")
        text_line = (f"• {text} (la riga sotto ciascun indicatore): l'atto o la certificazione da cui proviene il "
                     "valore (ente, numero e data); obbligatoria quando il grado di raggiungimento è inferiore al "
                     f"100% e quando il valore non è disponibile. Accetta fino a {_LIMIT_IT} caratteri.")
    return [
        ("plain", intro),
        ("subtitle", "Cosa compilare"),
        ("plain", "Si possono modificare solo le celle gialle; tutte le altre celle sono protette."),
        ("plain", value_line),
        ("plain", "• Le percentuali si scrivono con il simbolo %, ad esempio 95%."),
        ("plain", text_line),
        ("subtitle", "Se un valore non è disponibile"),
        ("plain", f"Non lasciare la cella vuota: una cella vuota fa respingere il file. Scrivere «{NOT_AVAILABLE}» "
                  f"nella cella del valore (per Sì/No sceglierlo dall'elenco) e spiegarne il motivo {EXPLAIN_IN[source]}. "
                  "L'indicatore viene segnalato come non disponibile e nel punteggio conta zero."),
        ("subtitle", "Legenda dei colori"),
        ("plain", "Giallo: cella da compilare."),
        ("plain", "Verde: calcolo automatico e provvisorio del grado di raggiungimento dell'indicatore. Resta vuoto "
                  "finché non è inserito il valore."),
        ("plain", "Azzurro: intestazioni."),
        *_checks(),
    ]


def _checks() -> list[tuple[str, str]]:
    return [
        ("subtitle", "Come vengono controllati i valori"),
        ("plain", "Ogni cella gialla accetta solo valori del tipo previsto. Al rientro il file viene verificato "
                  "di nuovo: valori non validi (anche se incollati), celle vuote, formule o modifiche alle parti "
                  "protette vengono segnalati e il file può essere respinto. Il grado di raggiungimento mostrato nel "
                  "file è indicativo: fa fede il calcolo dell'ufficio."),
        ("plain", "Non rinominare, spostare né eliminare i fogli; non inserire né eliminare righe o colonne."),
    ]


def _properties(plan: Plan, kind: str, codes: tuple[str, ...], source: str, version: str = "") -> dict[str, str]:
    return {
        **({"piao_plan_version": version} if version else {}),
        "piao_plan_id": plan.plan_id,
        "piao_year": str(plan.year),
        "piao_fingerprint": plan.fingerprint,
        "piao_kind": kind,
        # Excel caps a custom property at 255 characters; a many-sector workbook lists "*" (all of its kind).
        "piao_sectors": ",".join(codes) if len(",".join(codes)) <= 255 or kind == "sector" else "*",
        "piao_source": source,
        "piao_layout_version": LAYOUT_VERSION,
        "piao_generator": f"piao-xls {__version__}",
    }


def _file_part(text: str) -> str:
    keep = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in text.replace(" - ", "-"))
    while "--" in keep:
        keep = keep.replace("--", "-")
    return keep.strip("-")


def all_sectors_workbook(plan: Plan, version: str = "") -> WorkbookLayout:
    codes = tuple(s.code for s in plan.sectors)
    sheets = [instructions_sheet(plan, "all", version=version)] + [sector_sheet(plan, s) for s in plan.sectors]
    return WorkbookLayout("all", f"PIAO-{plan.year}-{_file_part(plan.comune)}.xlsx", sheets,
                          _properties(plan, "all", codes, "responsabile", version), codes,
                          precision=plan.scoring.precision)


def sector_workbook(plan: Plan, sector: Sector, version: str = "") -> WorkbookLayout:
    short = sector.short_name
    if short.startswith(f"{sector.code} - "):
        short = short[len(sector.code) + 3:]
    name = f"PIAO-{plan.year}-{sector.code}-{_file_part(short)}.xlsx"
    return WorkbookLayout("sector", name, [instructions_sheet(plan, "sector", version=version),
                                           sector_sheet(plan, sector)],
                          _properties(plan, "sector", (sector.code,), "responsabile", version), (sector.code,),
                          precision=plan.scoring.precision)


def source_workbook(plan: Plan, source: str, version: str = "") -> WorkbookLayout:
    codes = tuple(s.code for s in plan.sectors if any(i.source == source for i in s.indicators))
    name = f"PIAO-{plan.year}-{SOURCE_FILE_TAGS[source]}.xlsx"
    return WorkbookLayout("source", name, [instructions_sheet(plan, "source", source, version=version),
                                           source_sheet(plan, source)],
                          _properties(plan, "source", codes, source, version), codes, source, plan.scoring.precision)


ROUND_PROPERTY = "piao_round"  # a monitoring form's round (its date, 2025-06-30); absent from a year-end form


def round_file_part(as_of: date) -> str:
    """The round in a file name: ``Monitoraggio-30-06-2025``."""
    return f"Monitoraggio-{as_of:%d-%m-%Y}"


def round_workbooks(plan: Plan, as_of: date) -> list[WorkbookLayout]:
    """The forms of a monitoring round at ``as_of``: one per sector, one per external source holding indicators;
    the round's date is in their document properties (``piao_round``) and file names."""
    part = round_file_part(as_of)
    books = []
    for sector in plan.sectors:
        short = sector.short_name
        if short.startswith(f"{sector.code} - "):
            short = short[len(sector.code) + 3:]
        books.append(WorkbookLayout(
            "sector", f"PIAO-{plan.year}-{part}-{sector.code}-{_file_part(short)}.xlsx",
            [instructions_sheet(plan, "sector", as_of=as_of), sector_sheet(plan, sector, as_of)],
            {**_properties(plan, "sector", (sector.code,), "responsabile"), ROUND_PROPERTY: as_of.isoformat()},
            (sector.code,), precision=plan.scoring.precision))
    for source in ("nucleo", "esterno"):
        codes = tuple(s.code for s in plan.sectors if any(i.source == source for i in s.indicators))
        if codes:
            books.append(WorkbookLayout(
                "source", f"PIAO-{plan.year}-{part}-{SOURCE_FILE_TAGS[source]}.xlsx",
                [instructions_sheet(plan, "source", source, as_of), source_sheet(plan, source, as_of)],
                {**_properties(plan, "source", codes, source), ROUND_PROPERTY: as_of.isoformat()}, codes, source,
                plan.scoring.precision))
    return books


def plan_workbooks(plan: Plan, version: str = "") -> list[WorkbookLayout]:
    """Every workbook `generate` writes: all sectors, one per sector, one per external source (``version``: see
    :func:`instructions_sheet`)."""
    books = [all_sectors_workbook(plan, version)] + [sector_workbook(plan, s, version) for s in plan.sectors]
    for source in ("nucleo", "esterno"):
        if any(i.source == source for i in plan.indicators):
            books.append(source_workbook(plan, source, version))
    return books
