"""The summary workbook for the Nucleo di Valutazione (xlsxwriter), print-ready.

Sheets: Riepilogo (with the overview chart when it fits below the table), Obiettivi, Indicatori,
Anomalie, (Decisioni, when the consolidation records decisions), Fonti, Grafici; the figures the
charts plot sit on the Grafici sheet, right of its print area. See docs/summary-data.md.

* Print: A4 landscape, fit to the page width, header rows repeated, comune/year in the page header,
  page numbers in the footer. The charts sit in fixed slots with a manual page break every
  :data:`PAGE_ROWS` rows, so no page break cuts a chart (the Grafici sheet prints at a fixed scale).
* Row heights follow the wrapped text (at most Excel's 409 pt).
* Numbers, percentages, dates and amounts are real numbers with Italian display formats
  (``[$-410]`` makes LibreOffice use Italian separators whatever its own locale); counts are integers.
* Every word is Italian (codes are mapped by :mod:`piao_xls.results.tables`).
* Everything a person typed is written as a string, never as a formula.

JSON and CSV: :mod:`piao_xls.results.export` (re-exported here).
"""

from __future__ import annotations

import functools
import io
import math
import re
from datetime import date, datetime
from pathlib import Path
from types import MethodType
from typing import Any

from ..core import italian
from ..core.gcpause import keep_until_exit, paused_gc
from ..core.history import history_rows, history_years
from ..core.revisions import act_text, change_text
from ..sheetio.atomic import write_bytes_atomic
from .consolidate import NOT_EVALUABLE, Consolidation
from .export import MAX_CELL, clean_text, guard_formula, write_csv, write_csv_excel, write_json
from .tables import MARK_IT, SECTOR_STATUS_IT, decisions, finite, label, tables, thresholds_it

FORMULA_LEAD = ("=", "+", "-", "@", "\t", "\r", "\n")

FONT = 9  # pt, body text
MAX_ROW = 409  # Excel's largest row height, pt
# The Grafici sheet prints at PRINT_SCALE with a manual page break every PAGE_ROWS rows of 15 pt (not
# "fit to width": Excel ignores manual page breaks then). LibreOffice draws columns about 1.3 times wider
# than Excel, so PAGE_WIDTH_PX at 75% fits A4 landscape in both; PAGE_ROWS x 15 pt x 75% = 405 pt fits too.
PRINT_SCALE = 75
PAGE_ROWS = 36
SLOT_ROWS = 18  # a chart slot: half a page
PAGE_WIDTH_PX = 1000
BODY_PT = (440, 784)  # printable height and width of an A4 landscape page with our margins, points
GROUP = 25  # sectors per overview chart
WIDE = 16  # a sector with more objectives gets a full-width chart

F_SCORE = "[$-410]0.00"
F_PCT = "[$-410]0%"
F_PCT_DEC = "[$-410]0.00%"
F_INT = "[$-410]#,##0"
F_DEC = "[$-410]#,##0.00"
F_AMOUNT = '[$-410]#,##0.00 "€"'
F_DATE = "dd/mm/yyyy"
F_DATETIME = "dd/mm/yyyy hh:mm"

BAND_FILL = {0: "#C6EFCE", 1: "#C6EFCE", 2: "#FFEB9C", 3: "#FFEB9C"}  # by rank of the band (A, B, C, D); else red
GREEN, AMBER, RED, GREY = "#C6EFCE", "#FFEB9C", "#FFC7CE", "#EDEDED"

NOT_SCORED = "non valutato"

NOT_REPORTED = "non rendicontato"

# sheet -> (title, [(key, header, width, kind)]); kinds: text, int, score, pct, num, value, ref, date, datetime
SHEETS = {
    "sectors": ("Riepilogo", "Riepilogo per settore", [
        ("code", "Settore", 8, "text"), ("name", "Denominazione", 30, "text"),
        ("responsabile", "Responsabile", 26, "text"), ("score", "Punteggio (0-100)", 11, "score"),
        ("band", "Fascia", 7, "text"), ("band_label", "Giudizio", 13, "text"),
        ("objectives_reached", "Obiettivi raggiunti", 11, "int"),
        ("objectives_partly", "Parzialmente raggiunti", 12, "int"),
        ("objectives_not_reached", "Non raggiunti", 10, "int"),
        ("objectives_not_reported", "Non rendicontati", 12, "int"), ("status_it", "Stato", 20, "text"),
        ("note", "Note", 40, "text")]),
    "objectives": ("Obiettivi", "Obiettivi", [
        ("sector", "Settore", 8, "text"), ("objective", "Obiettivo", 9, "text"), ("number", "N.", 5, "int"),
        ("title", "Titolo", 70, "text"), ("weight", "Peso nel piano %", 9, "num"),
        ("_weight_applied", "Peso applicato %", 9, "fig"), ("_achievement", "Raggiungimento", 13, "fig"),
        ("_points", "Punti", 9, "fig"), ("band", "Fascia", 7, "text"),
        ("state_it", "Stato", 22, "text"), ("gate_it", "Di accesso", 9, "text"),
        ("coefficient", "Coefficiente di peso", 11, "num"), ("dup", "Missione/ programma DUP", 11, "text")]),
    "indicators": ("Indicatori", "Indicatori", [
        ("indicator", "Indicatore", 9, "text"), ("description", "Descrizione", 36, "text"),
        ("target", "Target", 30, "text"), ("source_it", "Fonte", 12, "text"),
        ("_main", "Valore consuntivo", 13, "value"), ("_ref", "Riferimento (stanziato, anno base)", 13, "ref"),
        ("validated_it", "Valore validato dal Nucleo", 13, "text"),
        ("_achievement", "Raggiungimento", 12, "fig"), ("status_it", "Stato", 15, "text"),
        ("analysis", "Analisi scostamenti", 36, "text"), ("target_year", "Anno del target", 9, "year")]),
    "findings": ("Anomalie", "Anomalie", [
        ("severity_it", "Gravità", 8, "text"), ("code", "Codice", 18, "text"), ("sector", "Settore", 8, "text"),
        ("file", "File", 40, "text"), ("sheet", "Foglio", 16, "text"), ("cell", "Cella", 7, "text"),
        ("message", "Descrizione", 95, "text")]),
    # the Nucleo's and the plan's decisions (results/decisions.py): none is applied silently
    "decisions": ("Decisioni", "Decisioni del Nucleo di Valutazione e del piano", [
        ("origin", "Origine", 9, "text"), ("kind_it", "Decisione", 20, "text"), ("sector", "Settore", 8, "text"),
        ("objective", "Obiettivo", 9, "text"), ("indicator", "Indicatore", 10, "text"),
        ("old_text", "Valore precedente", 14, "text"), ("new_text", "Valore nuovo", 14, "text"),
        ("reason", "Motivazione", 40, "text"), ("by", "Chi", 18, "text"), ("date_it", "Quando", 11, "text"),
        ("applied_it", "Applicata", 9, "text"), ("effect", "Effetto", 50, "text")]),
    # the plan's revisions of the year, one row per revision and objective (core.revisions.revision_rows)
    "revisions": ("Revisioni", "Revisioni del piano approvate nel corso dell'anno", [
        ("version", "Versione", 9, "int"), ("act", "Atto", 28, "text"), ("reason", "Motivo", 28, "text"),
        ("objective", "Obiettivo", 9, "text"), ("changes", "Modifiche", 62, "text"),
        ("late", "Segnalazione al Nucleo (verifica dei tempi)", 30, "text")]),
    "sources": ("Fonti", "Fonti: i file letti", [
        ("path", "File", 46, "text"), ("status_it", "Stato", 14, "text"), ("kind_it", "Tipo", 12, "text"),
        ("sectors", "Settori", 10, "text"), ("used_for_it", "Usato per", 18, "text"),
        ("saved", "Salvato il", 14, "datetime"), ("size", "Dimensione (byte)", 11, "int"),
        ("sha256", "SHA-256", 40, "text")]),
}


def safe_text(value) -> str:
    """Text for a CSV cell that no spreadsheet will run as a formula (kept for library users)."""
    return guard_formula(clean_text(value))


def _hf(text: str) -> str:
    """Text for a page header or footer: ``&`` is a control character there."""
    return clean_text(text).replace("&", "&&")[:100]


def _lines(text: str, width: float, per_unit: float = 1.5) -> int:
    """Lines a text takes when wrapped in a column ``width`` characters wide: greedy word wrap, about
    ``per_unit`` characters of 9 pt text per unit of column width (the width of a '0' at 11 pt)."""
    per = max(1, int(width * per_unit) - 1)
    if len(text) <= per and "\n" not in text:  # fits on one line (most cells)
        return 1
    return _wrapped_lines(text, per)


@functools.lru_cache(maxsize=16384)
def _wrapped_lines(text: str, per: int) -> int:
    """:func:`_lines` of a text longer than a line of ``per`` characters (memoised: texts repeat, as the
    descriptions and targets of a plan do)."""
    n = 0
    for par in text.split("\n"):
        count, line = 1, -1
        for word in par.split(" "):
            size = len(word)
            if line >= 0 and line + 1 + size <= per:
                line += 1 + size
                continue
            if line >= 0:
                count += 1
            line = size
            while line > per:  # a word longer than the line breaks anywhere
                count += 1
                line -= per
        n += count
    return n


def _row_height(cells: list[tuple[str, float]], font: float = FONT, per_unit: float = 1.5) -> float:
    """Row height in points for the wrapped texts of a row (at most Excel's 409 pt)."""
    lines = 1
    for t, w in cells:
        if t:
            n = _lines(t, w, per_unit)
            if n > lines:
                lines = n
    return min(MAX_ROW, lines * font * 1.25 + 1.5)


@functools.lru_cache(maxsize=1)
def _table_sheet() -> type:
    """xlsxwriter's Worksheet, with the cell writes and the ``<sheetData>`` writer made faster for the large
    tables of a summary: the same XML, byte for byte (``tests/test_summary.py`` compares the whole workbook
    with the one xlsxwriter's own Worksheet writes).

    * ``write_string``, ``write_number``, ``write_blank``, ``write_datetime`` take row and column numbers only
      (no "A1" notation: skips a decorator per cell);
    * the rows of a table (:meth:`open_row`: every cell of a row written in column order, rows one after the
      other) are kept as their XML from the start, each cell built in one f-string instead of a stored tuple
      read back when the file is written. A cell's format gets its index in the styles when it is written, in
      the order the file lists the cells, which is the order xlsxwriter gives the indices when it writes them
      (``eager_styles``: set on a sheet whose cells are all written in that order);
    * ``<sheetData>`` is written one row per ``write``, for the cells of the kinds a summary writes (text,
      number, date, blank) with a format; any other cell, a sheet with comments and constant-memory mode go
      through xlsxwriter's own code.
    """
    from xlsxwriter.utility import xl_col_to_name
    from xlsxwriter.worksheet import CellBlankTuple, CellDatetimeTuple, CellNumberTuple, CellStringTuple, Worksheet

    string_cell, number_cell, blank_cell = CellStringTuple, CellNumberTuple, CellBlankTuple
    number_cells = (CellNumberTuple, CellDatetimeTuple)
    QUICK_COLS = 64  # the columns whose letters are made at once (a table has a few dozen)
    names: list[str] = [xl_col_to_name(c) for c in range(QUICK_COLS)]  # column letters, as far as asked

    def style_of(styles: dict[int, str], fmt) -> str:
        # ``styles``: the sheet's, id(format) -> its attribute (the workbook keeps every format it made alive)
        s = styles.get(id(fmt))
        if s is None:  # the first use gives the format its index, as in Worksheet._write_cell
            s = styles[id(fmt)] = f'" s="{fmt._get_xf_index()}"'
        return s

    def cell_xml(styles: dict[int, str], col: int, r: str, cell) -> str | None:
        """The XML of a stored cell of the kinds above, as Worksheet._write_cell writes it; else None."""
        fmt = cell.format
        kind = type(cell)
        if fmt is None or (kind is not string_cell and kind not in number_cells and kind is not blank_cell):
            return None
        while len(names) <= col:
            names.append(xl_col_to_name(len(names)))
        if kind is string_cell:
            return f'<c r="{names[col]}{r}{style_of(styles, fmt)} t="s"><v>{cell.string}</v></c>'
        if kind is blank_cell:
            return f'<c r="{names[col]}{r}{style_of(styles, fmt)}/>'
        return f'<c r="{names[col]}{r}{style_of(styles, fmt)}><v>{cell.number:.16G}</v></c>'

    class TableSheet(Worksheet):
        _checked_row = -1  # a row whose dimensions were checked: its cells inside the columns so far skip the check
        eager_styles = False
        _open = -1  # the row open_row opened, else -1
        _first = 0  # the column of its first cell
        _r = ""  # its number as the file writes it
        _last = -1  # the column of its last cell

        def __init__(self) -> None:
            super().__init__()
            self._parts: list[str] = []
            self._xml_rows: dict[int, tuple[int, int, str]] = {}  # row -> (first column, last column, its cells' XML)
            self._styles: dict[int, str] = {}

        def open_row(self, row: int) -> None:
            """Start keeping the cells of ``row`` as XML (the row opened before, if any, is closed)."""
            self.close_row()
            if not self.eager_styles or self.constant_memory or self.comments or row < 0 or row >= self.xls_rowmax:
                return
            self._open, self._r, self._last, self._parts = row, str(row + 1), -1, []
            self._sst = self.str_table._get_shared_string_index
            self._str_half = self.xls_strmax // 2

        def close_row(self) -> None:
            row, parts = self._open, self._parts if self._open >= 0 else None
            self._open = -1
            if parts:
                first, last = self._first, self._last
                self._check_dimensions(row, first)
                self._check_dimensions(row, last)
                self._xml_rows[row] = (first, last, "".join(parts))

        def _kept(self, row: int, col: int, fmt) -> None:
            # a cell of (row, col) with this format goes into the open row's XML: its column, and its column's name
            if fmt is None or col <= self._last or col >= self.xls_colmax:  # the table writer never does that
                raise ValueError(f"cell ({row}, {col}) of a table row: no format, out of order or out of the sheet")
            if self._last < 0:
                self._first = col
            self._last = col
            while len(names) <= col:
                names.append(xl_col_to_name(len(names)))

        def _kept_odd(self, row: int, col: int, stored: int) -> int:
            # a cell of the open row that xlsxwriter's own _write_* stored (a long text, an unusual number): as XML
            cells = self.table.get(row)
            cell = cells.pop(col, None) if cells else None
            if cells is not None and not cells:
                del self.table[row]
            if cell is not None:
                xml = cell_xml(self._styles, col, self._r, cell)
                if xml is None:
                    raise ValueError(f"cell ({row}, {col}) of a table row: a kind of cell tables do not write")
                self._parts.append(xml)
            return stored

        # each write: what xlsxwriter's _write_* stores, without its checks when the cell is inside the dimensions
        # already checked (a text that fits a cell, a finite int or float); else xlsxwriter's own _write_*
        # in the open row, a cell in column order of the first QUICK_COLS columns is taken at once (what _kept
        # checks, inline); any other goes through _kept, which refuses what a table never writes
        def write_string(self, row, col, string, cell_format=None):
            if row == self._open:
                last = self._last
                if cell_format is not None and last < col < QUICK_COLS and len(string) <= self._str_half:
                    if last < 0:
                        self._first = col
                    self._last = col
                    s = self._styles.get(id(cell_format)) or style_of(self._styles, cell_format)
                    self._parts.append(f'<c r="{names[col]}{self._r}{s} t="s"><v>{self._sst(string)}</v></c>')
                    return 0
                self._kept(row, col, cell_format)  # a far column, or a long text: xlsxwriter stores it, then XML
                return self._kept_odd(row, col, self._write_string(row, col, string, cell_format))
            if self.eager_styles and cell_format is not None:
                style_of(self._styles, cell_format)
            if (row == self._checked_row and len(string) <= self.xls_strmax // 2
                    and self.dim_colmin <= col <= self.dim_colmax):
                self.table[row][col] = string_cell(self.str_table._get_shared_string_index(string), cell_format)
                return 0
            return self._checked(row, self._write_string(row, col, string, cell_format))

        def write_number(self, row, col, number, cell_format=None):
            if row == self._open:
                last = self._last
                if (cell_format is not None and last < col < QUICK_COLS
                        and (type(number) is float or type(number) is int) and number - number == 0):
                    if last < 0:
                        self._first = col
                    self._last = col
                    s = self._styles.get(id(cell_format)) or style_of(self._styles, cell_format)
                    self._parts.append(f'<c r="{names[col]}{self._r}{s}><v>{number:.16G}</v></c>')
                    return 0
                self._kept(row, col, cell_format)  # a far column, or an unusual number: xlsxwriter stores it
                return self._kept_odd(row, col, self._write_number(row, col, number, cell_format))
            if self.eager_styles and cell_format is not None:
                style_of(self._styles, cell_format)
            if (row == self._checked_row and (type(number) is float or type(number) is int) and number - number == 0
                    and self.dim_colmin <= col <= self.dim_colmax):
                self.table[row][col] = number_cell(number, cell_format)
                return 0
            return self._checked(row, self._write_number(row, col, number, cell_format))

        def write_blank(self, row, col, blank, cell_format=None):
            if row == self._open:
                self._kept(row, col, cell_format)
                self._parts.append(f'<c r="{names[col]}{self._r}{style_of(self._styles, cell_format)}/>')
                return 0
            if self.eager_styles and cell_format is not None:
                style_of(self._styles, cell_format)
            if row == self._checked_row and cell_format is not None and self.dim_colmin <= col <= self.dim_colmax:
                self.table[row][col] = blank_cell(cell_format)
                return 0
            return self._checked(row, self._write_blank(row, col, blank, cell_format))

        def write_datetime(self, row, col, date, cell_format=None):
            if row == self._open:
                self._kept(row, col, cell_format)
                return self._kept_odd(row, col, self._write_datetime(row, col, date, cell_format))
            if self.eager_styles and cell_format is not None:
                style_of(self._styles, cell_format)
            return self._write_datetime(row, col, date, cell_format)

        def merge_range(self, first_row, first_col, last_row, last_col, data, cell_format=None):
            self.close_row()
            if self.eager_styles and cell_format is not None:
                style_of(self._styles, cell_format)
            return super().merge_range(first_row, first_col, last_row, last_col, data, cell_format)

        def _checked(self, row: int, done: int) -> int:
            if not self.constant_memory and self.dim_rowmin is not None and self.dim_rowmin <= row <= self.dim_rowmax:
                self._checked_row = row
            return done

        def _calculate_spans(self) -> None:
            # as Worksheet._calculate_spans: the columns of each block of 16 rows, "first:last" (1-based)
            if self.comments or self.dim_rowmin is None:
                return super()._calculate_spans()
            lo, hi = self.dim_rowmin, self.dim_rowmax
            spans: dict[int, list[int]] = {}
            for row_num, first, last in [*((r, min(cells), max(cells)) for r, cells in self.table.items() if cells),
                                         *((r, a, b) for r, (a, b, _) in self._xml_rows.items())]:
                if lo <= row_num <= hi:
                    span = spans.get(row_num // 16)
                    if span is None:
                        spans[row_num // 16] = [first, last]
                    else:
                        span[0], span[1] = min(span[0], first), max(span[1], last)
            self.row_spans = {k: f"{a + 1}:{b + 1}" for k, (a, b) in sorted(spans.items())}

        def _row_tag(self, row: int, spans: str | None, info) -> str | None:
            # <row> as Worksheet._write_row writes it for a row with at most a height (no format, not hidden, no
            # outline, not Excel 2010's extension); None for any other
            if (info is None or info.row_format is not None or info.hidden or info.level or info.collapsed
                    or self.excel_version == 2010):
                return None
            height = self.default_row_height if info.height is None else info.height
            tag = f'<row r="{row + 1}" spans="{spans}"' if spans else f'<row r="{row + 1}"'
            if height != self.original_row_height or height != self.default_row_height:
                return f'{tag} ht="{height * 0.75:.16g}" customHeight="1">'
            return tag + ">"

        def _write_rows(self) -> None:
            self.close_row()
            kept = self._xml_rows
            if self.comments or self.constant_memory or self.dim_rowmin is None:
                if kept:
                    raise ValueError("table rows on a sheet with comments")
                return super()._write_rows()
            self._calculate_spans()
            write, table, row_info, spans = self.fh.write, self.table, self.row_info, self.row_spans
            for row_num in range(self.dim_rowmin, self.dim_rowmax + 1):
                xml = kept.get(row_num)
                cells = table.get(row_num)
                info = row_info.get(row_num)
                if xml is not None:
                    if cells:
                        raise ValueError(f"row {row_num + 1} written both as a table row and cell by cell")
                    tag = self._row_tag(row_num, spans.get(row_num // 16), info)
                    if tag is None:
                        self._write_row(row_num, spans.get(row_num // 16), info)
                        tag = ""
                    write(f"{tag}{xml[2]}</row>")
                    continue
                if not cells:
                    if info is not None:
                        self._write_empty_row(row_num, spans.get(row_num // 16), info)
                    continue
                self._write_row(row_num, spans.get(row_num // 16), info)
                r = str(row_num + 1)
                parts: list[str] = []
                for col in sorted(cells):
                    cell = cells[col]
                    xml_cell = cell_xml(self._styles, col, r, cell)
                    if xml_cell is None:
                        if parts:
                            write("".join(parts))
                            parts = []
                        self._write_cell(row_num, col, cell)
                        continue
                    parts.append(xml_cell)
                parts.append("</row>")
                write("".join(parts))

    return TableSheet


def _quick(chart):
    """``chart`` with its cached points written one string per series: the bytes xlsxwriter writes
    (``tests/test_summary.py`` compares the whole workbook with xlsxwriter's own), without its three method
    calls per point (the charts of a large plan hold tens of thousands of points)."""
    chart._write_num_cache = MethodType(_num_cache, chart)
    chart._write_str_cache = MethodType(_str_cache, chart)
    return chart


#: what xlsxwriter's escapes of a point's text change: XML's characters (_escape_data), and Excel's escapes of
#: control characters, of "_xHHHH_" and of the two non-characters (_escape_control_characters)
_ESCAPED = re.compile('["&<>\n]|_x|[\x00-\x08\x0b-\x1f\ufffe\uffff]')


def _point_text(chart, value) -> str:
    # as xlsxwriter's _xml_data_element: XML escapes, then Excel's escapes of control characters (text only)
    if value.__class__ is float or value.__class__ is int:
        return f"{value}"
    if value.__class__ is str and not _ESCAPED.search(value):  # most labels: nothing to escape
        return value
    return f"{chart._escape_control_characters(chart._escape_data(value))}"


def _num_cache(chart, data) -> None:
    # as xlsxwriter's Chart._write_num_cache
    count = len(data) if data else 0
    parts = [f'<c:numCache><c:formatCode>General</c:formatCode><c:ptCount val="{count}"/>']
    for i in range(count):
        token = data[i]
        if token is None:
            continue
        try:
            float(token)
        except ValueError:
            token = 0  # non-numeric data is written as 0
        parts.append(f'<c:pt idx="{i}"><c:v>{_point_text(chart, token)}</c:v></c:pt>')
    parts.append("</c:numCache>")
    chart.fh.write("".join(parts))


def _str_cache(chart, data) -> None:
    # as xlsxwriter's Chart._write_str_cache
    parts = [f'<c:strCache><c:ptCount val="{len(data)}"/>']
    for i, value in enumerate(data):
        if value is not None:
            parts.append(f'<c:pt idx="{i}"><c:v>{_point_text(chart, value)}</c:v></c:pt>')
    parts.append("</c:strCache>")
    chart.fh.write("".join(parts))


class _Formats:
    """The workbook's cell formats, one per distinct set of properties (on top of the body text's)."""

    def __init__(self, wb):
        self.wb = wb
        self.cache: dict = {}  # properties in the caller's order -> format
        self.by_props: dict = {}  # properties sorted -> format

    def __call__(self, **props):
        key = tuple(props.items())  # each call site passes its properties in one order: no sorting per cell
        f = self.cache.get(key)
        if f is None:
            props_key = tuple(sorted(key))
            f = self.by_props.get(props_key)
            if f is None:
                base = {"font_size": FONT, "valign": "top", "border": 1, "border_color": "#A6A6A6"}
                base.update(props)
                f = self.by_props[props_key] = self.wb.add_format(base)
            self.cache[key] = f
        return f


def _setup_print(ws, c: Consolidation, title: str, header_rows: tuple[int, int] | None, fit: bool = True) -> None:
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.set_margins(left=0.4, right=0.4, top=0.55, bottom=0.55)
    ws.set_header(f"&L&\"-,Bold\"Comune di {_hf(c.plan.comune)}&RPIAO {c.plan.year} - {_hf(title)}",
                  {"margin": 0.2})
    ws.set_footer(f"&LRisultati di performance {c.plan.year}&CPagina &P di &N", {"margin": 0.2})
    if header_rows:
        ws.repeat_rows(*header_rows)
    if fit:
        ws.fit_to_pages(1, 0)
    ws.center_horizontally()


def _integral(x: float) -> bool:
    return math.isfinite(x) and abs(x - round(x)) < 1e-9


def _number_format(value: float, unit: str) -> str:
    if unit == "percent":
        return F_PCT if _integral(value * 100) else F_PCT_DEC
    if unit == "amount":
        return F_AMOUNT
    return F_INT if _integral(value) else F_DEC


def _write_value(ws, r: int, col: int, value, unit: str, fmt, extra=None) -> str:
    """A typed value with its Italian format; returns the text it shows (for the row height)."""
    extra = extra or {}
    if value is None or value == "":
        ws.write_blank(r, col, None, fmt(**extra))
        return ""
    if isinstance(value, bool):
        ws.write_string(r, col, "Sì" if value else "No", fmt(**extra))
        return "Sì"
    if isinstance(value, datetime):
        ws.write_datetime(r, col, value.replace(tzinfo=None), fmt(num_format=F_DATETIME, **extra))
        return "00/00/0000 00:00"
    if isinstance(value, date):
        ws.write_datetime(r, col, datetime(value.year, value.month, value.day), fmt(num_format=F_DATE, **extra))
        return "00/00/0000"
    if finite(value):
        f = _number_format(value, unit)
        ws.write_number(r, col, value, fmt(num_format=f, **extra))
        return italian.number(value, 2)  # as wide as the figure shown (for the row's height)
    text = clean_text(value)
    ws.write_string(r, col, text, fmt(text_wrap=True, **extra))
    return text


def _status_of_objectives(t: dict) -> dict[str, str]:
    """Objective id -> a note: «non rendicontato» when every scored indicator of it is missing,
    «non valutato» when its sector was not scored."""
    by_obj: dict[str, list[dict]] = {}
    for r in t["indicators"]:
        by_obj.setdefault(r["objective"], []).append(r)
    notes = {}
    for o in t["objectives"]:
        rows = [r for r in by_obj.get(o["objective"], []) if r.get("status") != "informative"]
        if o.get("achievement") is None:
            notes[o["objective"]] = NOT_SCORED
        elif rows and all(r.get("status") == "missing" for r in rows):
            notes[o["objective"]] = NOT_REPORTED
    return notes


class _Table:
    """A written table sheet: its worksheet, the first free row, and the heights it printed (pt, px)."""

    def __init__(self, ws, next_row: int, height_pt: float, width_px: float):
        self.ws, self.next_row, self.height_pt, self.width_px = ws, next_row, height_pt, width_px


def _fits_below(table: _Table, chart) -> bool:
    """Whether ``chart`` fits on the first printed page below ``table`` (fit to width: scaled)."""
    width_pt = table.width_px * 0.75
    scale = min(1.0, BODY_PT[1] / width_pt)
    chart_pt = (chart.height + 30) * 0.75
    return (table.height_pt + chart_pt) * scale <= BODY_PT[0] and chart.width <= table.width_px


def _no_row(row: int) -> None:
    pass


def _write_table(wb, fmt: _Formats, c: Consolidation, name: str, rows: list[dict], bands: list,
                 spec: tuple | None = None) -> _Table:
    sheet_name, title, cols = spec or SHEETS[name]
    ws = wb.add_worksheet(sheet_name, worksheet_class=_table_sheet())
    ws.eager_styles = True  # every cell below is written in the order the file lists them
    # rows kept as XML (TableSheet); xlsxwriter's own Worksheet (the byte-for-byte test) stores cells
    open_row, close_row = getattr(ws, "open_row", _no_row), getattr(ws, "close_row", lambda: None)
    ws.write_string(0, 0, f"Comune di {clean_text(c.plan.comune)} - PIAO {c.plan.year} - {title}",
                    wb.add_format({"bold": True, "font_size": 12}))
    intro = ""
    if name == "sectors":
        legend = "; ".join(f"{b.code} ({b.label}) da {italian.plain(b.min)}" for b in bands)
        intro = f"Punteggio da 0 a 100. Fasce: {legend}. Obiettivi {thresholds_it(c.plan.scoring)}."
    elif name == "objectives":
        intro = ("Punti = peso applicato × raggiungimento: i punti di un settore sommano al suo punteggio (prima del "
                 "limite di un obiettivo di accesso). Peso applicato: il peso nel piano riportato a 100 sugli obiettivi "
                 "che contano. Senza risultato: " + "; ".join(f"{k} {v}" for k, v in MARK_IT.items()) + ".")
    elif name == "revisions":
        intro = ("Ogni revisione approvata nell'anno, con l'atto, il motivo e le modifiche per obiettivo; i risultati "
                 "sono misurati sul piano in vigore alla fine dell'anno. Segnalazione: obiettivo assegnato o "
                 "modificato dopo il termine fissato nelle impostazioni o dopo la scadenza che misura (anche nel "
                 "foglio Anomalie, codice REV-LATE).")
    elif name == "history":
        intro = ("Il valore di ogni indicatore negli anni, dai risultati degli anni precedenti: il valore validato dal "
                 "Nucleo quando lo ha corretto, altrimenti quello rendicontato, altrimenti lo stato dell'indicatore; "
                 "vuoto se l'indicatore non era nel piano di quell'anno. Gli indicatori sono riconosciuti dal codice, "
                 "che resta lo stesso da un anno all'altro.")
    elif name == "indicators":
        intro = ("Raggiungimento: 100% = target raggiunto. «non rendicontato»: nessun valore inserito (conta 0, "
                 "diverso da un valore 0); «non disponibile»: dichiarato tale dal Responsabile, con il motivo "
                 "nell'analisi (conta 0); «neutralizzato»: obiettivo escluso dal Nucleo, il valore non conta.")
    if intro:  # across the table, wrapped: it prints inside the page
        ws.merge_range(1, 0, 1, len(cols) - 1, intro, wb.add_format({"font_size": FONT, "italic": True,
                                                                     "text_wrap": True, "valign": "top"}))
    intro_height = _row_height([(intro, sum(w for _, _, w, _ in cols))]) if intro else 15.0
    ws.set_row(1, intro_height)
    head = fmt(bold=True, bg_color="#DDEBF7", text_wrap=True)
    for j, (_, header, width, _) in enumerate(cols):
        ws.set_column(j, j, width)
        ws.write_string(2, j, header, head)
    heights = [18.0, intro_height, _row_height([(h, w) for _, h, w, _ in cols], per_unit=1.25)]  # bold
    ws.set_row(2, heights[-1])
    band_rank = {b.code: i for i, b in enumerate(bands)}
    f_score = "[$-410]0" + ("." + "0" * c.plan.scoring.precision if c.plan.scoring.precision else "")
    cleaned: dict[str, str] = {}  # clean_text of each distinct text once: plans repeat targets, descriptions, words
    # the formats of most cells, looked up once (a cell with extra properties, a band's colour, asks fmt)
    plain, wrapped = fmt(), fmt(text_wrap=True)
    greyed = fmt(italic=True, font_color="#7F7F7F", bg_color=GREY, text_wrap=True)
    by_number_format = {f: fmt(num_format=f) for f in (F_INT, F_DEC)}
    # a text of a plain text column that fits on one line (no line break, at most `one_line` characters: see
    # _lines) leaves the row height to the other cells: only the others are measured
    plain_text = [kind == "text" and key != "band" for key, _, _, kind in cols]
    one_line = [max(1, int(width * 1.5) - 1) for _, _, width, _ in cols]
    write_string = ws.write_string
    for i, row in enumerate(rows, start=3):
        open_row(i)
        shown: list[tuple[str, float]] = []
        for j, (key, _, width, kind) in enumerate(cols):
            v = row.get(key)
            if plain_text[j] and type(v) is str and v:  # most cells: a text, no extra format
                text = cleaned.get(v)
                if text is None:
                    text = cleaned[v] = clean_text(v)
                write_string(i, j, text, wrapped)
                if len(text) > one_line[j] or "\n" in text:
                    shown.append((text, width))
                continue
            extra = {}
            if key == "band" and v:
                extra = {"bg_color": BAND_FILL.get(band_rank.get(v, 9), RED), "align": "center"}
            if kind == "score":
                if finite(v):
                    if key == "score":
                        extra = {"bg_color": BAND_FILL.get(band_rank.get(row.get("band"), 9), RED)}
                    ws.write_number(i, j, v, fmt(num_format=f_score, **extra))
                else:  # a sector the plan makes not evaluable says so; any other unscored one is «non valutato»
                    word = SECTOR_STATUS_IT[NOT_EVALUABLE] if row.get("status") == NOT_EVALUABLE else NOT_SCORED
                    ws.write_string(i, j, word, greyed)
                    shown.append((word, width))
                continue
            if kind == "pct":
                if finite(v) and not row.get("_missing"):
                    colour = GREEN if v >= 1 - 1e-9 else AMBER if v > 0 else RED
                    ws.write_number(i, j, v, fmt(num_format=_number_format(v, "percent"), bg_color=colour))
                else:
                    word = NOT_REPORTED if row.get("_missing") else NOT_SCORED if v is None else ""
                    if finite(v):  # a missing value scores 0 but shows as such, not as a real 0
                        ws.write_number(i, j, v, fmt(num_format='[$-410]0%" (n.r.)"', italic=True,
                                                     font_color="#7F7F7F", bg_color=GREY))
                    elif word:
                        ws.write_string(i, j, word, greyed)
                        shown.append((word, width))
                    else:
                        ws.write_blank(i, j, None, plain)
                continue
            if kind in ("value", "ref"):
                view = row.get("_view")
                if view is None:
                    ws.write_blank(i, j, None, plain)
                    continue
                val, unit = (view.main, view.main_unit) if kind == "value" else (view.ref, view.ref_unit)
                if val is None and kind == "value" and row.get("status") == "missing":
                    ws.write_string(i, j, NOT_REPORTED, greyed)
                    shown.append((NOT_REPORTED, width))
                    continue
                shown.append((_write_value(ws, i, j, val, unit, fmt), width))
                continue
            if kind == "fig":  # a published figure (number, format, greyed) or the word of a state that is not one
                if isinstance(v, tuple):
                    number, num_format, grey = v
                    band_fill = row.get("_colour") if key == "_achievement" else None
                    ws.write_number(i, j, number, fmt(num_format=num_format, italic=True, font_color="#7F7F7F",
                                                      bg_color=GREY) if grey else
                                    fmt(num_format=num_format, bg_color=band_fill) if band_fill else
                                    fmt(num_format=num_format))
                elif isinstance(v, str) and v:
                    ws.write_string(i, j, v, greyed)
                    shown.append((v, width))
                else:
                    ws.write_blank(i, j, None, plain)
                continue
            if kind == "year" and finite(v):
                ws.write_number(i, j, v, fmt(num_format="0"))
                continue
            if kind == "int" and finite(v):
                ws.write_number(i, j, v, fmt(num_format=F_INT, **extra) if extra else by_number_format[F_INT])
                continue
            if kind == "num" and finite(v):
                f = _number_format(v, "number")
                ws.write_number(i, j, v, fmt(num_format=f, **extra) if extra else by_number_format[f])
                continue
            if kind == "datetime" and isinstance(v, str) and v:
                try:
                    dt = datetime.fromisoformat(v.replace("Z", "+00:00"))
                except ValueError:
                    dt = None
                if dt is not None:
                    ws.write_datetime(i, j, dt.replace(tzinfo=None), fmt(num_format=F_DATETIME))
                    continue
            if v is None or v == "":
                ws.write_blank(i, j, None, fmt(**extra) if extra else plain)
            elif isinstance(v, bool):
                ws.write_string(i, j, "Sì" if v else "No", fmt(**extra) if extra else plain)
            elif finite(v):
                f = _number_format(v, "number")
                ws.write_number(i, j, v, fmt(num_format=f, **extra) if extra else by_number_format[f])
            else:
                text = clean_text(v)
                ws.write_string(i, j, text, fmt(text_wrap=True, **extra) if extra else wrapped)
                shown.append((text, width))
        heights.append(_row_height(shown))
        ws.set_row(i, heights[-1])
    close_row()
    last = 2 + max(1, len(rows))
    ws.autofilter(2, 0, last, len(cols) - 1)
    ws.freeze_panes(3, 1)
    _setup_print(ws, c, title, (2, 2))
    return _Table(ws, 3 + len(rows), sum(heights), sum(w * 7 + 5 for _, _, w, _ in cols))


# --- charts ---------------------------------------------------------------------------------

class _ChartData:
    """What the charts plot, on the Grafici sheet right of its print area: one block of rows per chart."""

    NAME = "Grafici"
    COL = 18  # column S

    def __init__(self, wb, ws):
        self.ws = ws
        ws.write_string(0, self.COL, "Dati dei grafici", wb.add_format({"bold": True}))
        ws.set_column(self.COL, self.COL + 8, 14)
        self.row = 2

    def block(self, headers: list[str], rows: list[list]) -> tuple[int, int]:
        """Write a block; returns (first data row, last data row)."""
        ws, c0 = self.ws, self.COL
        for j, h in enumerate(headers):
            ws.write_string(self.row, c0 + j, h)
        first = self.row + 1
        for i, r in enumerate(rows, start=first):
            for j, v in enumerate(r):
                if v is None:
                    continue
                if isinstance(v, str):
                    ws.write_string(i, c0 + j, clean_text(v))
                else:
                    ws.write_number(i, c0 + j, v)
        last = first + len(rows) - 1
        self.row = last + 2
        return first, last

    def cell(self, row: int, col: int) -> list:
        return [self.NAME, row, self.COL + col]

    def range(self, first: int, last: int, col: int) -> list:
        return [self.NAME, first, self.COL + col, last, self.COL + col]


class _Slots:
    """Chart positions on the Grafici sheet: two rows of slots per page, each full or half width."""

    def __init__(self):
        self.k = 0  # row slot
        self.half = 0  # next half slot in the current row (0 or 1)

    def _row(self, k: int) -> int:
        return 2 + (k // 2) * PAGE_ROWS + (k % 2) * SLOT_ROWS

    def take(self, full: bool) -> tuple[int, int]:
        """(row, x offset in pixels) for the next chart."""
        if full:
            if self.half:
                self.k += 1
                self.half = 0
            at = (self._row(self.k), 0)
            self.k += 1
            return at
        at = (self._row(self.k), self.half * (PAGE_WIDTH_PX // 2))
        self.half ^= 1
        if not self.half:
            self.k += 1
        return at

    @property
    def pages(self) -> int:
        return self.k // 2 + (1 if self.k % 2 or self.half else 0)


#: the fill of a band's bars, by the band's rank (best first); the worst band is always red
BAND_COLOURS = ["#375623", "#70AD47", "#A9D18E", "#FFC000", "#ED7D31", "#C00000"]
#: the band limits' lines, darkest at the top: readable on white and on the bars they cross
LINE_COLOURS = ["#1F3A10", "#38601C", "#5B5B00", "#8A4A00", "#7A1F1F"]
CHART_FONT = "Carlito"  # one family in every chart (the Relazione's too)
NO_RESULT = {"pattern": {"pattern": "wide_upward_diagonal", "fg_color": "#808080", "bg_color": "#FFFFFF"},
             "border": {"color": "#7F7F7F", "dash_type": "dash"}}


def band_colours(bands: list) -> dict[str, str]:
    """Band code -> bar colour (bands best first); the lowest band is red whatever their number."""
    out = {b.code: BAND_COLOURS[min(k, len(BAND_COLOURS) - 2)] for k, b in enumerate(bands)}
    if bands:
        out[bands[-1].code] = BAND_COLOURS[-1]
    return out


def _font(size: float, **extra) -> dict:
    return {"name": CHART_FONT, "size": size, **extra}


def _series_by(rows: list, keys: list[str]) -> list[str]:
    """The keys (in order) that at least one row uses: the legend lists only what is drawn."""
    used = {r[0] for r in rows}
    return [k for k in keys if k in used]


def _overview_charts(wb, c: Consolidation, t: dict, data: _ChartData) -> list:
    """One chart per group of :data:`GROUP` sectors: the score of each, coloured by its band (one series per
    band drawn: the legend lists only those), the bands' limits as labelled lines; an unscored sector is a
    hatched bar labelled with its state (never a bar at 0). Data labels sit at the base of the bars, the band
    lines above the lowest band's: a line never crosses a label."""
    out = []
    bands = sorted(c.plan.scoring.bands, key=lambda b: -b.min)
    band_lines = [b for b in bands if b.min > 0]
    colours = band_colours(bands)
    f_score = _figure_formats(c.plan.scoring.precision)[1]
    sectors = t["sectors"]
    groups = [sectors[i:i + GROUP] for i in range(0, len(sectors), GROUP)] or [[]]
    for g, group in enumerate(groups):
        many = len(group) > 8  # short labels
        keyed: list[tuple[str, dict, Any]] = []
        for s in group:
            score = s.get("score")
            keyed.append((s.get("band") if finite(score) else "_nv", s, score))
        kinds = [b.code for b in bands] + ["_nv"]
        drawn = _series_by(keyed, kinds)
        names = {b.code: f"Fascia {b.code} ({b.label})" for b in bands}
        names["_nv"] = "Non valutato (n.v.)" if many else "Non valutato"
        rows = [[s["code"]] + [(score if finite(score) else 100) if k == key else None for k in drawn]
                + [b.min for b in band_lines] for key, s, score in keyed]
        headers = (["Settore"] + [names[k] for k in drawn]
                   + [f"Limite fascia {b.code}: {italian.plain(b.min)}" for b in band_lines])
        first, last = data.block(headers, rows or [["-"] + [b.min for b in band_lines]])
        cats = data.range(first, last, 0)
        ch = _quick(wb.add_chart({"type": "column"}))
        for j, k in enumerate(drawn, start=1):
            if k == "_nv":
                marks = [{"value": "n.v." if many else s.get("status_it") or NOT_SCORED} if key == k else
                         {"delete": True} for key, s, _ in keyed]
                ch.add_series({"name": data.cell(first - 1, j), "categories": cats,
                               "values": data.range(first, last, j), **NO_RESULT,
                               "data_labels": {"value": True, "position": "inside_base", "font": _font(8),
                                               "custom": marks}, "gap": 60, "overlap": 100})
                continue
            ch.add_series({"name": data.cell(first - 1, j), "categories": cats,
                           "values": data.range(first, last, j), "fill": {"color": colours[k]},
                           "border": {"color": "#404040", "width": 0.5},
                           "data_labels": {"value": True, "num_format": f_score, "position": "inside_base",
                                           "font": _font(8, bold=True, color="#000000"),
                                           "fill": {"color": "#FFFFFF"}},
                           "gap": 60, "overlap": 100})
        if band_lines:
            line = _quick(wb.add_chart({"type": "line"}))
            for j, b in enumerate(band_lines):
                colour = LINE_COLOURS[min(j, len(LINE_COLOURS) - 1)]
                last_point = [{"value": f"{b.code} da {italian.plain(b.min)}"} if r is rows[-1] else
                              {"delete": True} for r in rows] if rows else None
                line.add_series({"name": data.cell(first - 1, 1 + len(drawn) + j), "categories": cats,
                                 "values": data.range(first, last, 1 + len(drawn) + j),
                                 "line": {"color": colour, "width": 1.25, "dash_type": "dash"},
                                 "marker": {"type": "none"} if len(rows) > 1 else
                                 {"type": "dash", "size": 10, "fill": {"color": colour}, "border": {"color": colour}},
                                 "data_labels": {"value": True, "position": "right", "custom": last_point,
                                                 "font": _font(7, color=colour)}})
            ch.combine(line)
        ch.set_y_axis({"min": 0, "max": 100, "major_unit": 10, "num_format": "0", "num_font": _font(8),
                       "major_gridlines": {"visible": True, "line": {"color": "#E0E0E0"}}})
        ch.set_x_axis({"num_font": _font(8, rotation=-45 if len(rows) > 12 else 0)})
        ch.set_legend({"position": "right", "font": _font(8)})
        of = f" (settori {g * GROUP + 1}-{g * GROUP + len(group)} di {len(sectors)})" if len(groups) > 1 else ""
        ch.set_title({"name": f"Punteggio per settore e fasce di valutazione{of}", "name_font": _font(11)})
        ch.set_chartarea({"border": {"none": True}})
        ch.set_size({"width": PAGE_WIDTH_PX - 10, "height": SLOT_ROWS * 20 - 12})
        out.append(ch)
    return out


def _write_charts(wb, ws, c: Consolidation, t: dict, data: _ChartData, overview: list, notes: dict) -> None:
    """The charts on ``ws`` (the Grafici sheet): the ``overview`` charts, then one per sector: its objectives'
    achievement coloured by band (one series per band drawn), a labelled 100% line, and a hatched bar with the
    mark of its state where an objective has no result (non rendicontato, non disponibile, neutralizzato,
    escluso, non applicabile, non valutato): never a bar at 0."""
    ws.write_string(0, 0, f"Comune di {clean_text(c.plan.comune)} - PIAO {c.plan.year} - Grafici",
                    wb.add_format({"bold": True, "font_size": 12}))
    policy = c.plan.scoring
    bands = sorted(policy.bands, key=lambda b: -b.min)
    colours = band_colours(bands)
    f_pct = _figure_formats(policy.precision)[0]
    slots = _Slots()
    for ch in overview:
        row, x = slots.take(full=True)
        ws.insert_chart(row, 0, ch, {"x_offset": x + 2, "y_offset": 2, "object_position": 3})
    sectors = t["sectors"]
    by_sector: dict[str, list[dict]] = {}
    for o in t["objectives"]:
        by_sector.setdefault(o["sector"], []).append(o)
    marks_order = list(MARK_IT)
    for s in sectors:
        objs = [o for o in by_sector.get(s["code"], []) if not o.get("gate")]
        if not objs:
            continue
        unscored = not finite(s.get("score"))
        keyed: list[tuple[str, dict, Any, str]] = []
        for o in objs:
            pa = o.get("published_achievement")
            mark = "n.v." if unscored else o.get("mark") or ("" if finite(pa) else "n.v.")
            keyed.append((f"mark:{mark}" if mark else o.get("band") or bands[-1].code, o, pa, mark))
        kinds = [b.code for b in bands] + [f"mark:{m}" for m in marks_order]
        drawn = _series_by(keyed, kinds)
        names = {b.code: f"Fascia {b.code} ({b.label})" for b in bands}
        names.update({f"mark:{m}": f"{m} {w}" for m, w in MARK_IT.items()})
        rows: list[list[Any]] = [[f"Ob. {o['number']}"] + [(pa / 100 if not mark else 1.0) if k == key else None
                                                           for k in drawn] + [1.0] for key, o, pa, mark in keyed]
        first, last = data.block(["Obiettivo"] + [names[k] for k in drawn] + ["Target 100%"], rows)
        cats = data.range(first, last, 0)
        ch = _quick(wb.add_chart({"type": "column"}))
        for j, k in enumerate(drawn, start=1):
            if k.startswith("mark:"):
                marks = [{"value": mark} if key == k else {"delete": True} for key, _, _, mark in keyed]
                ch.add_series({"name": data.cell(first - 1, j), "categories": cats,
                               "values": data.range(first, last, j), **NO_RESULT,
                               "data_labels": {"value": True, "custom": marks, "position": "inside_base",
                                               "font": _font(8)}, "gap": 60, "overlap": 100})
                continue
            ch.add_series({"name": data.cell(first - 1, j), "categories": cats,
                           "values": data.range(first, last, j), "fill": {"color": colours[k]},
                           "border": {"color": "#404040", "width": 0.5},
                           "data_labels": {"value": True, "num_format": f_pct, "position": "inside_base",
                                           # many bars: upright labels, so that no two touch
                                           "font": _font(8, bold=True, rotation=-90) if len(rows) > 8 else
                                           _font(8, bold=True), "fill": {"color": "#FFFFFF"}},
                           "gap": 60, "overlap": 100})
        line = _quick(wb.add_chart({"type": "line"}))
        target_label = [{"value": "target 100%"} if i == len(rows) - 1 else {"delete": True} for i in range(len(rows))]
        line.add_series({"name": data.cell(first - 1, 1 + len(drawn)), "categories": cats,
                         "values": data.range(first, last, 1 + len(drawn)),
                         "line": {"color": "#C00000", "width": 1.5, "dash_type": "dash"},
                         "marker": {"type": "none"} if len(rows) > 1 else {"type": "dash", "size": 10},
                         "data_labels": {"value": True, "position": "above", "custom": target_label,
                                         "font": _font(7, color="#C00000")}})
        ch.combine(line)
        top = max([1.0] + [r[j] for r in rows for j in range(1, 1 + len(drawn)) if finite(r[j])])
        ch.set_y_axis({"min": 0, "max": math.ceil(top * 10 + 1) / 10, "major_unit": 0.2, "num_format": "0%",
                       "num_font": _font(8), "major_gridlines": {"visible": True, "line": {"color": "#E0E0E0"}}})
        ch.set_x_axis({"num_font": _font(8, rotation=-45 if len(rows) > 12 else 0)})
        ch.set_legend({"position": "bottom", "font": _font(8)})
        status = f" - {NOT_SCORED} ({s.get('status_it', '')})" if unscored else ""
        name = f"{s['code']} {s['name']}"
        name = name if len(name) <= 60 else name[:59] + "…"
        ch.set_title({"name": clean_text(f"{name}: raggiungimento degli obiettivi{status}"),
                      "name_font": _font(10)})
        ch.set_chartarea({"border": {"none": True}})
        full = len(rows) > WIDE
        row, x = slots.take(full=full)
        width = PAGE_WIDTH_PX - 10 if full else PAGE_WIDTH_PX // 2 - 10
        ch.set_size({"width": width, "height": SLOT_ROWS * 20 - 12})
        ws.insert_chart(row, 0, ch, {"x_offset": x + 2, "y_offset": 2, "object_position": 3})
    pages = max(1, slots.pages)
    ws.set_h_pagebreaks([2 + p * PAGE_ROWS for p in range(1, pages)])
    ws.print_area(0, 0, 1 + pages * PAGE_ROWS, 15)
    _setup_print(ws, c, "Grafici", None, fit=False)
    ws.set_print_scale(PRINT_SCALE)
    ws.set_default_row(15)
    ws.set_column(0, 16, 8.43)


def render_summary(c: Consolidation) -> bytes:
    import xlsxwriter

    from ..sheetio.docprops import document_time

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
                                   "strings_to_urls": False})
    wb.set_properties({"title": clean_text(f"PIAO {c.plan.year} - Comune di {c.plan.comune}: risultati di "
                                           "performance")[:250],
                       "author": "piao-xls", "created": document_time().replace(tzinfo=None)})
    with paused_gc():  # a large consolidation's tables and cells are millions of objects
        t = _render(wb, c)
    keep_until_exit(wb, t)
    return buf.getvalue()


def _figure_formats(precision: int) -> tuple[str, str]:
    """The number formats of a published percentage and of a published figure (``precision`` decimals)."""
    dec = "." + "0" * precision if precision > 0 else ""
    return f"[$-410]0{dec}%", f"[$-410]#,##0{dec}"


#: the word in the achievement's cell of an objective with no result (the «Stato» column says more)
SHORT_STATE_IT = {"neutralised": "neutralizzato", "excluded": "escluso dal piano", "not_applicable": "non applicabile",
                  "not_scored": NOT_SCORED}
#: the states whose figures are not results: shown greyed, with their mark
COUNTED_ZERO = ("not_reported", "not_available")  # counted, scores 0
LEFT_OUT = ("neutralised", "excluded", "not_applicable")  # not counted: weight re-proportioned


def _prepare(c: Consolidation, t: dict) -> None:
    """The figures of the Riepilogo, Obiettivi and Indicatori sheets as the evaluation published them, each with
    the mark of its state: a figure that is not a result (non rendicontato, non disponibile, neutralizzato,
    escluso, non applicabile) never looks like one."""
    policy = c.plan.scoring
    f_pct, f_num = _figure_formats(policy.precision)
    colours = {"reached": GREEN, "partly": AMBER, "not_reached": RED}
    for s in t["sectors"]:
        s["score"] = s.get("published_score")
    for o in t["objectives"]:
        state, mark = o.get("state"), o.get("mark", "")
        pa, pp, pw = o.get("published_achievement"), o.get("published_points"), o.get("published_weight_applied")
        marked = f'{f_pct}" ({mark})"' if mark else f_pct
        if state in COUNTED_ZERO and finite(pa):
            o["_achievement"] = (pa / 100, marked, True)
        elif state in LEFT_OUT or state == "not_scored" or not finite(pa):
            o["_achievement"] = SHORT_STATE_IT.get(str(state), NOT_SCORED) if state != "gate" else ""
        else:
            o["_achievement"] = (pa / 100, f_pct, False)
            o["_colour"] = colours.get(str(o.get("outcome")), "")
        left_out = state in LEFT_OUT
        o["_points"] = "—" if o.get("gate") or left_out else (pp, f_num, state in COUNTED_ZERO) if finite(pp) else ""
        o["_weight_applied"] = (pw, f_num, left_out) if finite(pw) else ("—" if o.get("gate") else "")
    for r in t["indicators"]:
        status, pa = r.get("status"), r.get("published_achievement")
        r["_missing"] = status == "missing"
        mark = {"missing": "n.r.", "not_available": "n.d.", "neutralised": "neutr."}.get(str(status), "")
        if mark and finite(pa):
            r["_achievement"] = (pa / 100, f'{f_pct}" ({mark})"', True)
        elif status in ("not_applicable", "excluded") or (not finite(pa) and status in ("not_received", "conflict")):
            r["_achievement"] = r.get("status_it", "")
        elif finite(pa):
            r["_achievement"] = (pa / 100, f_pct, False)
            r["_colour"] = colours[policy.outcome(pa / 100)] if status == "scored" else RED
        else:
            r["_achievement"] = ""


def _render(wb, c: Consolidation) -> dict:
    fmt = _Formats(wb)
    t = tables(c)
    notes = _status_of_objectives(t)
    _prepare(c, t)
    bands = sorted(c.plan.scoring.bands, key=lambda b: -b.min)
    summary = _write_table(wb, fmt, c, "sectors", t["sectors"], bands)
    for name in ("objectives", "indicators", "findings"):
        _write_table(wb, fmt, c, name, t[name], bands)
    d = decisions(c)
    if d:
        _write_table(wb, fmt, c, "decisions", d, bands)
    if c.revisions:
        _write_table(wb, fmt, c, "revisions", revision_table(c.revisions), bands)
    if c.earlier:
        spec, rows = history_table(c.plan.year, t["indicators"], c.earlier)
        if rows:
            _write_table(wb, fmt, c, "history", rows, bands, spec)
    _write_table(wb, fmt, c, "sources", t["sources"], bands, _sources_spec(t["sources"]))
    charts = wb.add_worksheet("Grafici", worksheet_class=_table_sheet())
    data = _ChartData(wb, charts)
    overview = _overview_charts(wb, c, t, data)
    if len(overview) == 1 and _fits_below(summary, overview[0]):
        summary.ws.insert_chart(summary.next_row + 1, 0, overview[0], {"x_offset": 2, "y_offset": 2,
                                                                      "object_position": 3})
        overview = []
    _write_charts(wb, charts, c, t, data, overview, notes)
    wb.close()
    return t


def _sources_spec(sources: list[dict]) -> tuple | None:
    """The Fonti sheet with, once plan versions are recorded, the version each form was made on (a column after
    «Settori»; «non riconosciuta» for none recorded); None (the sheet as always) without versions."""
    if not any("plan_version" in r for r in sources):
        return None
    name, title, cols = SHEETS["sources"]
    at = next(i for i, col in enumerate(cols) if col[0] == "sectors") + 1
    for r in sources:
        v = r.get("plan_version")
        r["plan_version_it"] = "" if v is None else str(v) if v else "non riconosciuta"
    return name, title, [*cols[:at], ("plan_version_it", "Versione del piano", 11, "text"), *cols[at:]]


def revision_table(revisions: list[dict]) -> list[dict]:
    """The Revisioni sheet's rows: one per revision and objective, with the words the Relazione prints
    (:func:`piao_xls.core.revisions.act_text`, :func:`~piao_xls.core.revisions.change_text`)."""
    rows = []
    for r in revisions:
        for ch in r.get("changes") or ():
            if isinstance(ch, dict):
                rows.append({"version": r.get("version"), "act": act_text(r), "reason": str(r.get("reason") or ""),
                             "objective": str(ch.get("objective", "")), "changes": change_text(ch).replace("; ", ";\n"),
                             "late": str(ch.get("late") or "")})
    return rows


def history_table(year: int, indicators: list[dict], earlier: list[dict]) -> tuple[tuple, list[dict]]:
    """The Andamento sheet: its columns (one per year) and its rows, from :func:`piao_xls.core.history.history_rows`
    (the rows the JSON's ``history`` and the Relazione show)."""
    years = history_years(year, earlier)
    cols = [("indicator", "Indicatore", 9, "text"), ("description", "Descrizione", 40, "text"),
            ("target", f"Target {year}", 24, "text"),
            *((f"y{y}", f"Valore {y}", 18, "text") for y in years), ("note", "Note", 24, "text")]
    rows = [{**{k: r[k] for k in ("indicator", "description", "target", "note")},
             **{f"y{v['year']}": v["value_it"] for v in r["values"]}}  # type: ignore[attr-defined]
            for r in history_rows(year, indicators, earlier)]
    return ("Andamento", "Valori degli indicatori negli anni", cols), rows


def write_summary(c: Consolidation, path: str | Path) -> None:
    write_bytes_atomic(path, render_summary(c))


__all__ = ["FORMULA_LEAD", "MAX_CELL", "SHEETS", "clean_text", "label", "render_summary", "safe_text", "write_csv",
           "write_csv_excel", "write_json", "write_summary"]
