"""The xlsxwriter adapter: renders a :class:`~piao_xls.forms.layout.WorkbookLayout` to .xlsx bytes.

It only renders: every coordinate, text, formula and validation comes from the layout.
Protection prevents accidents; the reader's checks, not the password, catch tampering.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import replace
from datetime import date, datetime

import xlsxwriter
import xlsxwriter.worksheet

from ..core.answers import NOT_AVAILABLE, NOT_YET
from ..core.rules.base import xl_number
from ..sheetio.docprops import document_time
from .layout import MARGINS, Cell, SheetLayout, Validation, WorkbookLayout, fit_heights
from .styles import STYLES, published_format


def legacy_password_hash(password: str) -> str:
    """The 16-bit password verifier of ECMA-376 (sheetProtection / workbookProtection)."""
    h = 0
    for i, ch in enumerate(password, start=1):
        c = ord(ch) << i
        h ^= (c & 0x7FFF) | ((c >> 15) & 0x7FFF)
    h ^= len(password)
    h ^= 0xCE4B
    return f"{h:X}"


def _validation_options(v: Validation, ref: str = "") -> dict:
    """xlsxwriter options for a validation; ``ref`` (the cell's A1 ref) is needed by the custom rule of an input
    that also accepts "non disponibile"."""
    opts: dict = {
        "input_title": v.input_title,
        "input_message": v.input_message,
        "error_title": v.error_title[:32],
        "error_message": v.error_message[:255],
        "error_type": "stop",
        "ignore_blank": True,
    }
    if v.not_available and v.kind in ("decimal", "date") and ref:
        if v.kind == "date":
            lo, hi = (f"DATE({d.year},{d.month},{d.day})" for d in (v.minimum, v.maximum)  # type: ignore[union-attr]
                      )
        else:
            lo, hi = xl_number(v.minimum), xl_number(v.maximum)  # type: ignore[arg-type]
        also = f'LOWER(TRIM({ref}))="{NOT_YET}",' if v.not_yet else ""  # a monitoring form's value
        opts.update(validate="custom", value=f'=OR(LOWER(TRIM({ref}))="{NOT_AVAILABLE}",{also}'
                                              f"AND(ISNUMBER({ref}),{ref}>={lo},{ref}<={hi}))")
    elif v.kind == "list":
        opts.update(validate="list", source=list(v.choices))
    elif v.kind == "length":
        opts.update(validate="length", criteria="<=", value=int(v.maximum or 255))  # type: ignore[arg-type]
    elif v.kind == "date":
        opts.update(validate="date", criteria="between",
                    minimum=datetime.combine(v.minimum, datetime.min.time()),  # type: ignore[arg-type]
                    maximum=datetime.combine(v.maximum, datetime.min.time()))  # type: ignore[arg-type]
    else:
        opts.update(validate="decimal", criteria="between", minimum=v.minimum, maximum=v.maximum)
    return opts


# Every function the layout's formulas and validations use: none needs Excel's "_xlfn." prefix, so their text is
# written as is. xlsxwriter otherwise runs about a hundred regular expressions on each formula (most of the
# render time of a large plan, whose every number and date input has a custom validation).
_PLAIN_FUNCTIONS = frozenset({"IF", "OR", "AND", "NOT", "LOWER", "TRIM", "ISNUMBER", "ISBLANK", "MIN", "MAX", "INT",
                              "DATE", "ROUND", "ROUNDUP", "COUNT", "N", "SUM", "ABS"})
_FUNCTION = re.compile(r"([A-Za-z_][A-Za-z0-9._]*)\(")


class _Worksheet(xlsxwriter.worksheet.Worksheet):
    def _xml_formula_element(self, formula, result, attributes=()):
        # A blank result is cached as an empty text, as Excel saves it (xlsxwriter writes an empty number, which
        # viewers show as 0 or take as "recalculate me").
        if result == "" and not any(k == "t" for k, _ in attributes):
            attributes = [*attributes, ("t", "str")]
        super()._xml_formula_element(formula, result, attributes)

    def _prepare_formula(self, formula, expand_future_functions=False):
        if all(name.upper() in _PLAIN_FUNCTIONS for name in _FUNCTION.findall(formula)):
            formula = formula[1:] if formula.startswith("{") else formula
            formula = formula[1:] if formula.startswith("=") else formula
            return formula[:-1] if formula.endswith("}") else formula
        return super()._prepare_formula(formula, expand_future_functions)


class _Renderer:
    precision = 2  # the plan's published decimals (a renderer made without __init__ keeps the styles' 2)

    def __init__(self, wb: xlsxwriter.Workbook, precision: int = 2):
        self.wb = wb
        self.formats: dict[str, object] = {}
        self.precision = precision

    def fmt(self, style: str):
        if style not in self.formats:
            base, _, unit = style.partition("|")  # "input_number|giorni": the unit shown beside the number
            props = dict(STYLES[base])
            if "num_format" in props:
                props["num_format"] = published_format(base, str(props["num_format"]), self.precision)
            if unit:
                clean = "".join(ch for ch in unit if ch.isprintable() and ch not in '"\\')[:40]
                props["num_format"] = f'{props["num_format"]} "{clean}"'
            self.formats[style] = self.wb.add_format(props)
        return self.formats[style]

    def cell(self, ws, c: Cell, prefill: dict | None = None) -> None:
        f = self.fmt(c.style)
        if prefill and c.kind == "input" and c.key in prefill:
            c = replace(c, value=prefill[c.key])
        if c.merge_to:
            ws.merge_range(c.row, c.col, c.merge_to[0], c.merge_to[1], "", f)
        if c.kind == "formula":
            ws.write_formula(c.row, c.col, c.formula, f, "" if c.value is None else c.value)
        elif isinstance(c.value, str):
            ws.write_string(c.row, c.col, c.value, f)  # text from the plan is never a formula
        elif isinstance(c.value, (int, float)):
            ws.write_number(c.row, c.col, c.value, f)
        elif isinstance(c.value, date):
            ws.write_datetime(c.row, c.col, datetime.combine(c.value, datetime.min.time()), f)
        else:
            ws.write_blank(c.row, c.col, None, f)
        if c.validation is not None:
            r2, c2 = c.merge_to or (c.row, c.col)
            ws.data_validation(c.row, c.col, r2, c2, _validation_options(c.validation, c.ref))

    def sheet(self, s: SheetLayout, password: str, prefill: dict | None = None) -> None:
        ws = self.wb.add_worksheet(s.name, worksheet_class=_Worksheet)
        for i, w in enumerate(s.col_widths):
            ws.set_column(i, i, w)
        heights = s.row_heights
        if prefill:  # rows tall enough for the prefilled texts
            typed = {(c.row, c.col): str(prefill[k]) for k, c in s.inputs.items()
                     if k in prefill and isinstance(prefill[k], str)}
            if typed:
                heights = fit_heights(s, typed)
        for r, h in heights.items():
            ws.set_row(r, h)
        for c in s.cells:
            self.cell(ws, c, prefill)
        if s.landscape:
            ws.set_landscape()
        else:
            ws.set_portrait()
        ws.set_paper(9)  # A4
        # A fixed scale, not "fit to width": Excel ignores manual page breaks when fitting to pages.
        ws.set_print_scale(s.print_scale)
        breaks = s.page_breaks(heights)
        if breaks:
            ws.set_h_pagebreaks(breaks[:1023])  # Excel's limit of manual breaks
        ws.set_margins(**MARGINS)
        ws.center_horizontally()
        if s.repeat_rows:
            ws.repeat_rows(*s.repeat_rows)
        if s.header:
            ws.set_header(s.header)
        if s.footer:
            ws.set_footer(s.footer)
        if s.freeze:
            ws.freeze_panes(*s.freeze)
        ws.hide_gridlines(2)
        # rows may be enlarged (a long analysis); nothing else about the structure may change
        ws.protect(password, {"select_locked_cells": True, "select_unlocked_cells": True, "format_rows": True})


def _lock_structure(data: bytes, password: str) -> bytes:
    """Add <workbookProtection lockStructure="1"/> (xlsxwriter has no API for it)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "xl/workbook.xml":
                attrs = 'lockStructure="1"'
                if password:
                    attrs = f'workbookPassword="{legacy_password_hash(password)}" {attrs}'
                text = content.decode("utf-8")
                text, n = re.subn(r"<bookViews>", f"<workbookProtection {attrs}/><bookViews>", text, count=1)
                if n != 1:
                    raise RuntimeError("unexpected workbook.xml from xlsxwriter: no <bookViews>")
                content = text.encode("utf-8")
            zi = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = info.external_attr
            dst.writestr(zi, content)
    return out.getvalue()


class _ProtectedWorkbook(xlsxwriter.Workbook):
    """Adds <workbookProtection lockStructure="1"/> before <bookViews>, where the schema wants it."""

    structure_password = ""

    def _write_book_views(self) -> None:
        attrs = []
        if self.structure_password:
            attrs.append(("workbookPassword", legacy_password_hash(self.structure_password)))
        attrs.append(("lockStructure", "1"))
        self._xml_empty_tag("workbookProtection", attrs)
        super()._write_book_views()


_HOOKED = hasattr(xlsxwriter.Workbook, "_write_book_views") and hasattr(xlsxwriter.Workbook, "_xml_empty_tag")


def render(book: WorkbookLayout, password: str = "", prefill: dict[str, object] | None = None) -> bytes:
    """Render a workbook layout to .xlsx bytes (deterministic for the same layout and password).

    ``prefill`` (input key -> value) writes values into input cells: for tests and benchmarks
    that need a filled workbook without a person or LibreOffice.
    """
    buf = io.BytesIO()
    wb = (_ProtectedWorkbook if _HOOKED else xlsxwriter.Workbook)(buf, {
        "in_memory": True,
        "strings_to_numbers": False,
        "strings_to_formulas": False,
        "strings_to_urls": False,
    })
    wb.structure_password = password
    # Every formula carries the value it has in the file as written (see Cell.value): nothing asks Excel or
    # LibreOffice to recalculate on opening, so opening and closing an untouched form leaves it unchanged.
    # calcId is that of current Excel (an older one makes Excel recalculate and ask to save). A prefilled
    # workbook (tests, benchmarks) holds values the cached results do not reflect: it is recalculated on load.
    wb.calc_id = 191029
    wb.calc_on_load = bool(prefill)
    created = document_time().replace(tzinfo=None)
    wb.set_properties({
        "title": book.properties.get("piao_plan_id", ""),
        "subject": "PIAO - monitoraggio obiettivi di performance" if book.properties.get("piao_round")
        else "PIAO - rendicontazione obiettivi di performance",
        "author": "piao-xls",
        "company": "",
        "created": created,
        "comments": "Generato da piao-xls: compilare solo le celle gialle.",
    })
    for k, v in book.properties.items():
        wb.set_custom_property(k, v)
    r = _Renderer(wb, book.precision)
    for s in book.sheets:
        r.sheet(s, password, prefill)
    wb.close()
    return buf.getvalue() if _HOOKED else _lock_structure(buf.getvalue(), password)
