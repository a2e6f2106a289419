"""The one parse of a returned workbook (`piao_xls/sheetio/book.py`): the limits and refusals docs/security.md
states, each tested at its edge, on small packages built here (no LibreOffice).

Written for the mutation runs of issue 19 (docs/mutation.md): each test holds a documented rule that no other test
held at its edge.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest
from zipmut import rezip

from piao_xls.sheetio import book as bookmod
from piao_xls.sheetio.safeopen import UnsafeFile, open_package

_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_DECL = '<?xml version="1.0" encoding="UTF-8"?>'
ROW = '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1"><v>12.5</v></c></row>'


def sheet_xml(body: str = ROW, decl: str = _DECL, root_attrs: str = "") -> str:
    return f'{decl}<worksheet xmlns="{_MAIN}" xmlns:r="{_REL}"{root_attrs}><sheetData>{body}</sheetData></worksheet>'


def package(sheet: bytes | str, shared: tuple[str, ...] = ("etichetta",), styles: bytes | None = None,
            workbook_pr: str = "", extra: dict[str, bytes] | None = None):
    """A minimal .xlsx of one sheet «Foglio1» (and its shared strings, and styles when given), through the guard."""
    if isinstance(sheet, str):
        sheet = sheet.encode("utf-8")
    ct = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
          'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
          'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/'
          'workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
          '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
          'officedocument.spreadsheetml.worksheet+xml"/></Types>')
    rels = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
            f'2006/relationships"><Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
            '</Relationships>')
    wb = (f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{_MAIN}" xmlns:r="{_REL}">{workbook_pr}<sheets>'
          '<sheet name="Foglio1" sheetId="1" r:id="rId1"/></sheets></workbook>')
    wb_rels = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
               f'package/2006/relationships"><Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/'
               f'sheet1.xml"/><Relationship Id="rId2" Type="{_REL}/sharedStrings" Target="sharedStrings.xml"/>'
               + (f'<Relationship Id="rId3" Type="{_REL}/styles" Target="styles.xml"/>' if styles else "")
               + "</Relationships>")
    sst = (f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{_MAIN}">'
           + "".join(f"<si><t>{s}</t></si>" for s in shared) + "</sst>")
    items = {"[Content_Types].xml": ct.encode(), "_rels/.rels": rels.encode(), "xl/workbook.xml": wb.encode(),
             "xl/_rels/workbook.xml.rels": wb_rels.encode(), "xl/sharedStrings.xml": sst.encode(),
             "xl/worksheets/sheet1.xml": sheet}
    if styles:
        items["xl/styles.xml"] = styles
    items.update(extra or {})
    return open_package(rezip(items), "modulo.xlsx", extent=False)


def cells(sheet: bytes | str, area: tuple[int, int] = (20, 7), **kw) -> dict[tuple[int, int], object]:
    """The values read from the sheet, by (row, column), 0-based."""
    book = bookmod.read_book(package(sheet, **kw), {"Foglio1": area})
    return {k: c.value for k, c in book.sheets[0].cells.items()}


def refused(sheet: bytes | str, **kw) -> UnsafeFile:
    with pytest.raises(UnsafeFile) as e:
        bookmod.read_book(package(sheet, **kw), {"Foglio1": (20, 7)})
    return e.value


READ = {(0, 0): "etichetta", (0, 1): 12.5}


@pytest.fixture(autouse=True)
def _fresh_caches(monkeypatch):
    """Each test reads its package from scratch: the references, row numbers, styles parts and tags the parse keeps
    per process (resolved once for every form) start empty, so what a test checks is computed in it."""
    for name in ("_REFS", "_ROWS", "_LOOKS", "_TAGS_OK"):
        monkeypatch.setattr(bookmod, name, {})


# --- docs/security.md: "a linear byte scan refuses any <!DOCTYPE/<!ENTITY (ASCII, UTF-16LE, UTF-16BE: every
# encoding expat decodes by itself) and any other declared encoding" ----------------------------------------------

@pytest.mark.parametrize("decl", [
    '<?xml version="1.0" encoding="UTF-8"?>', "<?xml version='1.0' encoding='utf-8'?>",
    '<?xml version="1.0" encoding = "UTF-8" standalone="yes"?>', '<?xml version="1.0"?>', "",
    '<?xml version="1.0" encoding="US-ASCII"?>', '<?xml version="1.0" encoding="ISO-8859-1"?>',
    '\ufeff<?xml version="1.0" encoding="utf-8"?>', '<?xml version="1.0"' + " " * 300 + 'encoding="UTF-8"?>',
    '<?xml version="1.0" encoding="UTF-8"?><?piao encoding="windows-1252"?>',  # a processing instruction, no declaration
    '<?xml version="1.0"?><?piao encoding="windows-1252"?>',
])
def test_a_part_in_an_encoding_expat_reads_by_itself_is_read(decl):
    assert cells(sheet_xml(decl=decl)) == READ


@pytest.mark.parametrize("decl", [
    '<?xml version="1.0" encoding="windows-1252"?>', "<?xml version='1.0' encoding='UTF-7'?>",
    '<?xml version="1.0" encoding = "cp1252"?>', '<?xml version="1.0" encoding="utf-8-sig"?>',
    '\ufeff<?xml version="1.0" encoding="windows-1252"?>',
    '<?xml version="1.0"' + " " * 300 + 'encoding="windows-1252"?>',  # white space may pad a declaration (XML 1.0)
    '<?xml version="1.0"' + "\n\t" * 200 + 'encoding="windows-1252"?>',
])
def test_a_part_that_declares_another_encoding_is_refused(decl):
    """However long its declaration: else the scan would read as UTF-8 what expat reads as windows-1252."""
    e = refused(sheet_xml(decl=decl))
    assert e.code == "WB-UNSAFE" and "codifica" in e.message


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be"])
def test_a_sheet_in_utf16_is_read_and_its_dtd_refused(codec):
    """UTF-16 is one of expat's own encodings: such a sheet is read as its UTF-8 twin; a document type declaration
    in it is refused as it is in ASCII."""
    decl = '<?xml version="1.0" encoding="UTF-16"?>'
    assert cells(sheet_xml(decl=decl).encode(codec)) == READ
    laughs = decl + '<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa">]>'
    e = refused(sheet_xml(decl=laughs).encode(codec))
    assert e.code == "WB-UNSAFE" and "DTD" in e.message


def test_a_comment_is_no_declaration():
    """Only a declaration is refused: a comment (``<!--``) in a sheet is read past."""
    assert cells(sheet_xml(body="<!-- nota -->" + ROW)) == READ


# --- docs/security.md (Limits): "a cell reference: 10 characters, within XFD1048576"; book.py: "a cell reference is
# read character by character (letters, then digits); one beyond Excel's grid or malformed is refused" -------------

@pytest.mark.parametrize(("ref", "at"), [
    ("Z1", (0, 25)), ("AZ3", (2, 51)), ("ZZ9", (8, 701)), ("XFD1", (0, 16383)), ("A1048576", (1048575, 0)),
    ("E", None), ("XFD", None), ("", None), ("_1", None), ("A_1", None), ("[1", None), ("E1.5", None),
    ("E-1", None), ("E１２", None), ("12", None), ("E²", None), ("XFD10485760", None), ("AAAA1", None),
])
def test_a_reference_is_letters_then_digits_inside_the_grid(ref, at):
    assert bookmod._ref(ref) == at


@pytest.mark.parametrize("ref", ["E", "E_1", "XFE1", "A1048577", "A0"])
def test_a_sheet_with_a_malformed_reference_is_refused(ref):
    e = refused(sheet_xml(body=f'<row r="1"><c r="{ref}"><v>1</v></c></row>'))
    assert e.code == "WB-UNSAFE" and ref in e.message


@pytest.mark.parametrize(("r", "at"), [("1", 0), ("12", 11), ("1048576", 1048575)])
def test_a_row_number_inside_the_grid_is_read(r, at):
    book = bookmod.read_book(package(sheet_xml(body=f'<row r="{r}"><c><v>7</v></c></row>')), {"Foglio1": (20, 7)})
    sheet = book.sheets[0]
    values = {k: c.value for k, c in sheet.cells.items()}
    assert (values, sheet.outside) == (({(at, 0): 7.0}, None) if at <= 20 else ({}, (at, 0)))


@pytest.mark.parametrize("r", ["0", "1048577", "", "1a", "１", "-1"])
def test_a_row_number_outside_the_grid_or_malformed_is_refused(r):
    e = refused(sheet_xml(body=f'<row r="{r}"><c><v>7</v></c></row>'))
    assert e.code == "WB-UNSAFE" and "riga" in e.message


def test_a_row_without_its_number_after_the_last_row_of_the_grid_is_refused():
    """A row without a number takes the next one: after row 1,048,576 there is none."""
    e = refused(sheet_xml(body='<row r="1048576"><c><v>7</v></c></row><row><c><v>8</v></c></row>'))
    assert e.code == "WB-UNSAFE" and "riga" in e.message


# --- docs/security.md (Limits): "text materialised per file: 8,000,000 characters" ----------------------------------

def test_the_text_budget_refuses_the_first_character_beyond_it_and_says_the_limit_in_italian():
    budget = bookmod._TextBudget(5)
    budget.take(2)
    budget.take(3)  # exactly the budget: still read
    with pytest.raises(UnsafeFile) as e:
        budget.take(1)
    assert e.value.code == "WB-UNSAFE" and "troppo testo" in e.value.message
    assert "8.000.000 caratteri" in e.value.message  # the documented limit, written the Italian way


# --- what each cell type holds (ECMA-376 ST_CellType; docs/inputs.md: serial dates in either date system) ----------

STYLES = (f'<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="{_MAIN}"><fonts count="1"><font><sz val="11"/>'
          '</font></fonts><fills count="1"><fill><patternFill patternType="none"/></fill></fills><cellXfs count="2">'
          '<xf numFmtId="0" fontId="0" fillId="0"/><xf numFmtId="14" fontId="0" fillId="0"/></cellXfs>'
          '</styleSheet>').encode()


def one(cell: str, **kw):
    """The CellData read from a sheet holding one cell A1 (written as given), or None when nothing is stored."""
    book = bookmod.read_book(package(sheet_xml(body=f'<row r="1">{cell}</row>'), styles=STYLES, **kw),
                             {"Foglio1": (20, 7)})
    return book.sheets[0].cells.get((0, 0))


@pytest.mark.parametrize(("v", "read"), [
    ("12", 12.0), ("-0.5", -0.5), (".5", 0.5), ("5.", 5.0), ("1e3", 1000.0), ("1.5E-2", 0.015), (" 7 ", 7.0),
])
def test_a_number_in_xsd_double_form_is_read(v, read):
    assert one(f'<c r="A1"><v>{v}</v></c>').value == read


@pytest.mark.parametrize("v", ["12%", "0x10", "1_000", "1,5", "1e", "e3", "--1", "1.2.3"])
def test_a_number_spreadsheets_read_differently_is_refused(v):
    """docs/security.md: "a number written in a form spreadsheets read differently (`12%`, `0x10`)" is refused."""
    with pytest.raises(UnsafeFile) as e:
        one(f'<c r="A1"><v>{v}</v></c>')
    assert e.value.code == "WB-UNSAFE" and "A1" in e.value.message and "Foglio1" in e.value.message


@pytest.mark.parametrize(("v", "date1904", "read"), [
    ("45658", False, date(2025, 1, 1)), ("45658.5", False, datetime(2025, 1, 1, 12)), ("0", False, date(1899, 12, 30)),
    ("2958465", False, date(9999, 12, 31)), ("2958466", False, 2958466.0), ("-1", False, -1.0),
    ("0", True, date(1904, 1, 1)), ("44196", True, date(2025, 1, 1)),
])
def test_a_serial_number_in_a_date_format_is_the_day_it_counts_to(v, date1904, read):
    """docs/inputs.md: a serial number counts days from 30/12/1899, or from 01/01/1904 in a workbook with that date
    system; in a cell whose format shows a date (format 14, m/d/yy) it is read as that day. Beyond 31/12/9999 there
    is no day: the number stays a number."""
    pr = '<workbookPr date1904="1"/>' if date1904 else ""
    assert one(f'<c r="A1" s="1"><v>{v}</v></c>', workbook_pr=pr).value == read
    assert one(f'<c r="A1"><v>{v}</v></c>', workbook_pr=pr).value == float(v)  # no date format: a number


@pytest.mark.parametrize(("v", "read"), [("0", "uno"), (" 1 ", "due")])
def test_a_shared_string_cell_holds_the_text_its_index_names(v, read):
    assert one(f'<c r="A1" t="s"><v>{v}</v></c>', shared=("uno", "due")).value == read


@pytest.mark.parametrize("v", ["2", "-1", "1.0", "０", "x", "99999999999"])
def test_a_shared_string_index_that_names_no_text_is_refused(v):
    with pytest.raises(UnsafeFile) as e:
        one(f'<c r="A1" t="s"><v>{v}</v></c>', shared=("uno", "due"))
    assert e.value.code == "WB-UNSAFE" and "A1" in e.value.message


def test_the_other_cell_types():
    assert one('<c r="A1" t="inlineStr"><is><t>in linea _x0041_</t></is></c>').value == "in linea A"
    assert one('<c r="A1" t="inlineStr"><is><r><t>in </t></r><r><rPr><b/></rPr><t>linea</t></r></is></c>').value \
        == "in linea"  # rich text: its runs in order
    assert one('<c r="A1" t="str"><f>"a"&amp;"b"</f><v>ab</v></c>').value == "ab"
    assert one(f'<c r="A1" t="str"><f>REPT("a",3000)</f><v>{"a" * 3000}</v></c>').value == "a" * 3000  # whole
    cell = one('<c r="A1" t="e"><v> #DIV/0! </v></c>')
    assert (cell.value, cell.error) == ("#DIV/0!", True)
    cell = one('<c r="A1" t="e"><f>1/0</f></c>')  # an error without its text is still an error
    assert cell.error and cell.value
    assert one('<c r="A1" t="n"><v>3</v></c>').value == 3.0
    assert (one('<c r="A1" t="b"><v>1</v></c>').value, one('<c r="A1" t="b"><v>0</v></c>').value) == (True, False)
    assert one('<c r="A1" t="d"><v>2025-03-01T00:00:00</v></c>').value == date(2025, 3, 1)
    assert one('<c r="A1" t="d"><v>2025-03-01T10:30:00</v></c>').value == datetime(2025, 3, 1, 10, 30)
    for kind in ("str", "n", "d", "inlineStr"):  # no value, no formula: nothing is stored
        assert one(f'<c r="A1" t="{kind}"><v></v></c>') is None
    for kind in ("n", "e", "b"):
        assert one(f'<c r="A1" t="{kind}"/>') is None
    assert not one('<c r="A1" t="e"><v>#N/A</v></c>').formula
    for kind, formula in (("b", "1=1"), ("d", "TODAY()"), ("str", "A2"), ("n", "1+1"), ("x", "1")):  # not computed yet
        cell = one(f'<c r="A1" t="{kind}"><f>{formula}</f></c>')
        assert (cell.value, cell.formula) == (None, formula)
    assert one('<c r="A1"><v>1</v></c>').error is False


# --- docs/security.md: the look of a cell (number format, font colour, fill colour, font size, a format that hides
# the value) as the styles part states it; only the cell formats (cellXfs) are the cells' styles ----------------------

LOOKS = (f'<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="{_MAIN}">'
         '<numFmts count="2"><numFmt numFmtId="164" formatCode="0.00%"/><numFmt numFmtId="165" formatCode=";;;"/>'
         '</numFmts>'
         '<fonts count="3"><font><sz val="11"/><color theme="1"/></font><font><sz val="5"/><color rgb="FFFF0000"/>'
         '</font><font><color indexed="9"/></font></fonts>'
         '<fills count="3"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/>'
         '</fill><fill><patternFill patternType="solid"><fgColor rgb="FFFFFF00"/><bgColor indexed="64"/></patternFill>'
         '</fill></fills>'
         '<cellStyleXfs count="1"><xf numFmtId="49" fontId="1" fillId="2"/></cellStyleXfs>'
         '<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0"/><xf numFmtId="164" fontId="1" fillId="2"/>'
         '<xf numFmtId="14" fontId="2" fillId="1"/><xf numFmtId="165" fontId="7" fillId="9"/></cellXfs>'
         '<dxfs count="1"><dxf><font><sz val="30"/><color rgb="FF00FF00"/></font><fill><patternFill patternType="solid">'
         '<fgColor rgb="FF0000FF"/></patternFill></fill></dxf></dxfs>'
         '</styleSheet>').encode()


def test_the_look_of_each_cell_format():
    Look = bookmod.Look
    assert bookmod._xlsx_looks_of(LOOKS) == {
        0: Look("General", "", "", 11.0, False),  # theme 1: the dark text colour, automatic
        1: Look("0.00%", "FF0000", "FFFF00", 5.0, False),  # a custom format, red text, yellow fill, 5 points
        2: Look("mm-dd-yy", "FFFFFF", "", None, False),  # a built-in format; white; a pattern without colour
        3: Look(";;;", "", "", None, True),  # a format that hides the value; a font and fill the file does not have
    }
    assert bookmod._xlsx_looks(LOOKS) == bookmod._xlsx_looks_of(LOOKS)
    book = bookmod.read_book(package(sheet_xml(body='<row r="1"><c r="A1" s="1"><v>1</v></c></row>'), styles=LOOKS),
                             {"Foglio1": (20, 7)})
    assert book.looks[1].font_color == "FF0000" and book.sheets[0].cells[(0, 0)].style == 1


# --- docs/security.md: "A worksheet whose <sheetData> is written the usual way (rows of cells with r, s, t in this
# order, an optional <f> and <v>, the five predefined entities: as Excel, LibreOffice and xlsxwriter write it) is
# matched whole against a strict grammar"; any other is read through the tree: the same cells either way --------------

def read_both(monkeypatch, sheet: str, area: tuple[int, int] = (20, 7), refusal: bool = False, **kw):
    """(was the sheet scanned, what the scan read, what the tree read): cells as (value, formula, error, style);
    ``refusal``: a refusal stands for what is read (its message), each way on its own."""
    pkg = package(sheet, styles=STYLES, **kw)
    scanned: list[bool] = []

    def read():
        try:
            s = bookmod.read_book(pkg, {"Foglio1": area}).sheets[0]
        except UnsafeFile as e:
            if not refusal:
                raise
            return e.message
        return s.outside, {k: (c.value, c.formula, c.error, c.style) for k, c in s.cells.items()}

    with monkeypatch.context() as m:
        m.setattr(bookmod, "_xlsx_scan", lambda *a, scan=bookmod._xlsx_scan: scanned.append(scan(*a)) or scanned[-1])
        first = read()
    with monkeypatch.context() as m:
        m.setattr(bookmod, "_xlsx_scan", lambda *_: False)
        second = read()
    return scanned == [True], first, second


@pytest.mark.parametrize(("body", "outside", "cells"), [
    (ROW, None, {(0, 0): ("etichetta", "", False, 0), (0, 1): (12.5, "", False, 0)}),
    ('<row r="2" spans="1:3" ht="15"><c r="A2" s="1"/><c r="B2"/><c r="C2" s="1"><v>45658</v></c></row>', None,
     {(1, 0): (None, "", False, 1), (1, 2): (date(2025, 1, 1), "", False, 1)}),
    ('<row r="1"><c r="A1"><f>IF(B1&lt;&gt;"",1,2)</f><v>1</v></c><c r="B1" t="str"><f>"a"&amp;"b"</f>'
     '<v>a&amp;b &quot;c&quot; &apos;d&apos;</v></c><c r="C1"><f>1+1</f></c><c r="D1"><f/><v>2</v></c></row>', None,
     {(0, 0): (1.0, 'IF(B1<>"",1,2)', False, 0), (0, 1): ("a&b \"c\" 'd'", '"a"&"b"', False, 0),
      (0, 2): (None, "1+1", False, 0), (0, 3): (2.0, "=", False, 0)}),
    ('<row r="1"><c r="A1" t="b"><v>1</v></c><c r="B1" t="e"><v>#N/A</v></c><c r="C1" t="str"><v></v></c>'
     '<c r="D1"><v/></c><c r="E1" t="s"><v>0</v></c></row>', None,
     {(0, 0): (True, "", False, 0), (0, 1): ("#N/A", "", True, 0), (0, 4): ("etichetta", "", False, 0)}),
    ('<row r="1"><c r="A1"><v>1</v></c><c r="I1"><v>2</v></c><c r="J1"><v>3</v></c></row>', (0, 8),
     {(0, 0): (1.0, "", False, 0)}),  # beyond column H: the first such cell is remembered
    ('<row r="1"><c r="I1" s="1"/></row><row r="30"><c r="A30"><f>1</f></c></row>', (29, 0), {}),
    ('<row r="1"><c r="A1"><v>1</v></c></row><row r="22"><c r="B22" t="str"><v></v></c></row>', None,
     {(0, 0): (1.0, "", False, 0)}),  # an empty text beyond the area is nothing
    ('<row r="2"><c r="A2"><v>1</v></c><c r="A2"><v>2</v></c></row>', None,
     {(1, 0): (2.0, "", False, 0)}),  # a cell written twice: the last one counts
    ('<row r="1"><c r="A1" t="x"><v>abc</v></c><c r="J1" t="x"><v>def</v></c></row>', (0, 9),
     {(0, 0): ("abc", "", False, 0)}),  # a type no spreadsheet writes: its content is not lost (docs/security.md:
    # content in a cell that must stay empty, or outside the form's area, is a finding)
])
def test_a_usual_sheet_is_scanned_and_read_as_the_tree_reads_it(monkeypatch, body, outside, cells):
    scanned, first, second = read_both(monkeypatch, sheet_xml(body=body))
    assert scanned
    assert first == second == (outside, cells)


@pytest.mark.parametrize("decl", ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>', "",
                                  "<?xml version='1.0' encoding='utf8'?>", '<?xml version="1.0"?>'])
def test_a_usual_sheet_in_utf8_is_scanned_however_its_encoding_is_declared(monkeypatch, decl):
    scanned, first, second = read_both(monkeypatch, sheet_xml(decl=decl))
    assert scanned and first == second == (None, {(0, 0): ("etichetta", "", False, 0), (0, 1): (12.5, "", False, 0)})


def test_a_prefix_declared_on_the_root_is_scanned(monkeypatch):
    xml = sheet_xml(body='<row r="1" x14ac:dyDescent="0.25"><c r="A1"><v>1</v></c></row>',
                    root_attrs=' xmlns:x14ac="http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac"')
    scanned, first, second = read_both(monkeypatch, xml)
    assert scanned and first == second == (None, {(0, 0): (1.0, "", False, 0)})


@pytest.mark.parametrize("body", [
    ROW + '<row r="2"><c r="A2"><v>1</v><v>2</v></c></row>',  # two values
    ROW.replace('<c r="B1">', '<c r="B1" cm="1">'),  # an attribute the grammar does not know
    ROW + '<row r="3"><c r="A3" t="inlineStr"><is><t>x</t></is></c></row>',  # an inline string
    ROW + '<row r="4"><c r="A4" t="s"><v>5</v></c></row>',  # an index that names no text: refused by the tree
    ROW + '<row r="5"><c r="A5"><v>12%</v></c></row>',  # a number spreadsheets read differently: likewise
])
def test_what_the_scan_does_not_take_is_read_by_the_tree(monkeypatch, body):
    scanned, first, second = read_both_or_refusal(monkeypatch, sheet_xml(body=body))
    assert not scanned and first == second


def read_both_or_refusal(monkeypatch, sheet: str):
    """As read_both, a refusal standing for what is read (its message), each way on its own."""
    return read_both(monkeypatch, sheet, refusal=True)


# --- OpenDocument: what a cell holds (OpenDocument 1.2, office:value-type), repeats bounded by the area
# (docs/security.md: "a repeat count (.ods): 8 digits; only the positions inside the area are stored") --------------

_ODS_NS = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
           'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
           'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
           'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
           'xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" '
           'xmlns:number="urn:oasis:names:tc:opendocument:xmlns:datastyle:1.0" '
           'xmlns:calcext="urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0" '
           'xmlns:xlink="http://www.w3.org/1999/xlink"')


def ods(tables: str, automatic: str = "", styles: str | None = None):
    """A minimal .ods: content.xml with the tables given (and automatic styles), styles.xml when given."""
    from piao_xls.sheetio.safeopen import ODS_MIMETYPE

    content = (f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {_ODS_NS}>'
               f"<office:automatic-styles>{automatic}</office:automatic-styles><office:body><office:spreadsheet>"
               f"{tables}</office:spreadsheet></office:body></office:document-content>")
    items = {"mimetype": ODS_MIMETYPE, "content.xml": content.encode()}
    if styles is not None:
        items["styles.xml"] = (f'<?xml version="1.0" encoding="UTF-8"?><office:document-styles {_ODS_NS}>{styles}'
                               "</office:document-styles>").encode()
    return open_package(rezip(items), "modulo.ods", extent=False)


def ods_sheet(rows: str, area: tuple[int, int] = (20, 7), name: str = "S", **kw):
    book = bookmod.read_book(ods(f'<table:table table:name="{name}">{rows}</table:table>', **kw), {name: area})
    return book.sheet(name)


def ods_cell(cell: str, **kw):
    return ods_sheet(f"<table:table-row>{cell}</table:table-row>", **kw).cells.get((0, 0))


def test_what_an_ods_cell_holds():
    def value(cell: str):
        c = ods_cell(cell)
        return None if c is None else c.value

    assert value('<table:table-cell office:value-type="float" office:value="12.5"><text:p>12,5</text:p>'
                 "</table:table-cell>") == 12.5
    assert value('<table:table-cell office:value-type="percentage" office:value="0.95"/>') == 0.95
    assert value('<table:table-cell office:value-type="currency" office:currency="EUR" office:value="1000"/>') == 1000
    assert value('<table:table-cell office:value-type="date" office:date-value="2025-03-01"/>') == date(2025, 3, 1)
    assert (value('<table:table-cell office:value-type="date" office:date-value="2025-03-01T10:30:00"/>')
            == datetime(2025, 3, 1, 10, 30))
    assert value('<table:table-cell office:value-type="time" office:time-value="PT10H30M00S"/>') == "PT10H30M00S"
    assert value('<table:table-cell office:value-type="boolean" office:boolean-value="true"/>') is True
    assert value('<table:table-cell office:value-type="boolean" office:boolean-value="false"/>') is False
    assert value('<table:table-cell office:value-type="string"><text:p>una</text:p><text:p>due</text:p>'
                 "</table:table-cell>") == "una\ndue"
    assert value('<table:table-cell office:value-type="string"><text:p>a<text:s text:c="3"/>b<text:tab/>c'
                 "<text:line-break/>d<text:s/>e</text:p></table:table-cell>") == "a   b\tc\nd e"
    assert value('<table:table-cell office:value-type="string" office:string-value="dato"><text:p>mostrato</text:p>'
                 "</table:table-cell>") == "dato"
    assert value('<table:table-cell office:value-type="string"><office:annotation><text:p>nota</text:p>'
                 "</office:annotation><text:p>testo</text:p></table:table-cell>") == "testo"  # a comment is no value
    assert value("<table:table-cell><text:p>senza tipo</text:p></table:table-cell>") == "senza tipo"
    assert value('<table:table-cell office:value-type="string"><text:h>titolo</text:h><text:p>a<text:span>b</text:span>'
                 '<text:a xlink:href="x">c</text:a></text:p></table:table-cell>') == "titolo\nabc"
    assert value('<table:table-cell calcext:value-type="string"><text:p>solo calcext</text:p></table:table-cell>') \
        == "solo calcext"
    assert value('<table:table-cell office:value-type="float" office:value="x"/>') == "x"  # kept as written
    assert value('<table:table-cell office:value-type="date" office:date-value="1 marzo"/>') == "1 marzo"
    assert value('<table:table-cell office:value-type="string"><text:p></text:p></table:table-cell>') is None
    assert value("<table:table-cell/>") is None
    err = ods_cell('<table:table-cell table:formula="of:=1/0" office:value-type="float" office:value="0" '
                   'calcext:value-type="error"><text:p> #DIV/0! </text:p></table:table-cell>')
    assert (err.value, err.error, err.formula) == ("#DIV/0!", True, "of:=1/0")
    err = ods_cell('<table:table-cell office:value-type="error"/>')  # an error without its text is still an error
    assert err.error and err.value
    f = ods_cell('<table:table-cell table:formula="of:=[.A2]*2" office:value-type="float" office:value="4"/>')
    assert (f.value, f.formula, f.error) == (4.0, "of:=[.A2]*2", False)
    styled = ods_cell('<table:table-cell table:style-name="ce1"/>')
    assert (styled.value, styled.style) == (None, "ce1")


def test_ods_repeats_are_stored_inside_the_area_only():
    sheet = ods_sheet('<table:table-row table:number-rows-repeated="3"><table:table-cell table:number-columns-'
                      'repeated="2" office:value-type="float" office:value="1"/><table:table-cell/></table:table-row>'
                      '<table:table-row><table:table-cell/><table:table-cell office:value-type="float" '
                      'office:value="2"/></table:table-row>', area=(1, 0))
    assert {k: c.value for k, c in sheet.cells.items()} == {(0, 0): 1.0, (1, 0): 1.0}
    assert sheet.outside == (0, 1)  # the first repeat beyond column A
    sheet = ods_sheet('<table:table-row table:number-rows-repeated="5"><table:table-cell office:value-type="float" '
                      'office:value="1"/></table:table-row>', area=(2, 7))
    assert sorted(sheet.cells) == [(0, 0), (1, 0), (2, 0)] and sheet.outside == (3, 0)  # the first row beyond
    sheet = ods_sheet('<table:table-row table:number-rows-repeated="30"><table:table-cell/></table:table-row>'
                      '<table:table-row><table:table-cell table:number-columns-repeated="9"/><table:table-cell '
                      'office:value-type="string"><text:p>lontano</text:p></table:table-cell></table:table-row>')
    assert sheet.cells == {} and sheet.outside == (30, 9)
    sheet = ods_sheet('<table:table-row table:number-rows-repeated="1048576"><table:table-cell '
                      'table:number-columns-repeated="16384"/></table:table-row>')  # LibreOffice's empty tail
    assert sheet.cells == {} and sheet.outside is None and sheet.parsed


@pytest.mark.parametrize("count", ["123456789", "-1", "1.5", "x", "１"])
def test_an_ods_repeat_count_beyond_eight_digits_or_not_a_number_is_refused(count):
    for attr in ("table:number-rows-repeated", "table:number-columns-repeated"):
        row = (f'<table:table-row {attr}="{count}"><table:table-cell/></table:table-row>' if "rows" in attr else
               f'<table:table-row><table:table-cell {attr}="{count}"/></table:table-row>')
        with pytest.raises(UnsafeFile) as e:
            ods_sheet(row)
        assert e.value.code == "WB-UNSAFE" and "ripetizione" in e.value.message


def test_an_ods_repeat_count_of_eight_digits_or_zero_is_read():
    sheet = ods_sheet('<table:table-row table:number-rows-repeated="0"><table:table-cell office:value-type="float" '
                      'office:value="1"/></table:table-row><table:table-row table:number-rows-repeated=" 99999999 ">'
                      '<table:table-cell/></table:table-row><table:table-row><table:table-cell office:value-type='
                      '"float" office:value="2"/></table:table-row>')
    assert {k: c.value for k, c in sheet.cells.items()} == {(0, 0): 1.0}  # 0 repeats count as one row
    assert sheet.outside == (100000000, 0)


def test_ods_sheets_hidden_nested_or_named_alike():
    automatic = ('<style:style style:name="ta1" style:family="table"><style:table-properties table:display="true"/>'
                 '</style:style><style:style style:name="ta2" style:family="table"><style:table-properties '
                 'table:display="false"/></style:style>')
    book = bookmod.read_book(ods('<table:table table:name="S" table:style-name="ta1"/><table:table table:name="N" '
                                 'table:style-name="ta2"/><table:table table:name=" s "/>', automatic=automatic),
                             {"S": (20, 7)})
    assert [(s.name, s.visible, s.parsed) for s in book.sheets] == [("S", True, True), ("N", False, False),
                                                                     (" s ", True, False)]
    assert [sheet for _, sheet in book.problems] == ["N", " s "]
    with pytest.raises(UnsafeFile) as e:
        bookmod.read_book(ods('<table:table table:name="S"><table:table table:name="T"/></table:table>'), {"S": (20, 7)})
    assert e.value.code == "WB-UNSAFE" and "annidata" in e.value.message


def test_the_look_of_an_ods_cell_style():
    automatic = ('<number:percentage-style style:name="N1"><number:number number:decimal-places="2" '
                 'number:min-integer-digits="1"/><number:text>%</number:text></number:percentage-style>'
                 '<style:style style:name="ce1" style:family="table-cell" style:data-style-name="N1">'
                 '<style:text-properties fo:color="#ff0000" fo:font-size="5pt"/><style:table-cell-properties '
                 'fo:background-color="#ffff00"/></style:style>'
                 '<style:style style:name="ce2" style:family="table-cell" style:parent-style-name="Base">'
                 '<style:text-properties style:text-display="none"/><style:table-cell-properties '
                 'fo:background-color="transparent"/></style:style>'
                 '<style:style style:name="co1" style:family="table-column"><style:text-properties fo:color="#00ff00"/>'
                 "</style:style>")
    styles = ('<office:styles><style:style style:name="Base" style:family="table-cell"><style:text-properties '
              'fo:color="#0000ff" fo:font-size="12pt"/></style:style></office:styles>')
    book = bookmod.read_book(ods('<table:table table:name="S"/>', automatic=automatic, styles=styles), {"S": (20, 7)})
    looks = book.looks
    assert (looks["ce1"].font_color, looks["ce1"].fill_color, looks["ce1"].font_size, looks["ce1"].hidden) == \
        ("FF0000", "FFFF00", 5.0, False)
    assert "percentage-style" in looks["ce1"].num_format and "'%'" in looks["ce1"].num_format
    assert "decimal-places=2" in looks["ce1"].num_format
    assert (looks["ce2"].font_color, looks["ce2"].fill_color, looks["ce2"].font_size, looks["ce2"].hidden) == \
        ("0000FF", "", 12.0, True)  # what it does not state, it takes from its parent
    assert looks["Base"].font_color == "0000FF" and "co1" not in looks  # a column style is no cell style
    assert book.kind == "ods"


def test_ods_styles_in_styles_xml_serve_the_cells_and_sheets_of_content_xml():
    """A cell style of content.xml may take its data style from styles.xml; a sheet hidden by a style of styles.xml is
    as hidden as one hidden by a style of content.xml (docs/security.md: a hidden sheet is a finding)."""
    styles = ('<office:styles><number:number-style style:name="N9"><number:number number:decimal-places="3"/>'
              '</number:number-style><style:style style:name="taH" style:family="table"><style:table-properties '
              'table:display="false"/></style:style></office:styles>')
    automatic = '<style:style style:name="ce9" style:family="table-cell" style:data-style-name="N9"/>'
    book = bookmod.read_book(ods('<table:table table:name="S"/><table:table table:name="H" table:style-name="taH"/>',
                                 automatic=automatic, styles=styles), {"S": (20, 7)})
    assert "number-style" in book.looks["ce9"].num_format and "decimal-places=3" in book.looks["ce9"].num_format
    assert [(s.name, s.visible) for s in book.sheets] == [("S", True), ("H", False)]
    broken = '<office:styles><style:style style:name="x"></office:styles>'
    with pytest.raises(UnsafeFile) as e:
        bookmod.read_book(ods('<table:table table:name="S"/>', styles=broken), {"S": (20, 7)})
    assert e.value.code == "WB-OPEN" and "styles.xml" in e.value.message  # the damaged part is named


# --- shared strings (ECMA-376 §18.4): the text of an item is its <t>, or the <t> of its runs in order; phonetic runs
# (<rPh>, <phoneticPr>) are not shown; _xHHHH_ escapes are read as their character ---------------------------------

@pytest.mark.parametrize(("item", "text"), [
    ("<si><t>plain</t></si>", "plain"), ("<si><t/></si>", ""), ("<si/>", ""),
    ('<si><t xml:space="preserve"> spaced </t></si>', " spaced "),
    ('<si><r><rPr><b/></rPr><t>bold</t></r><r><t xml:space="preserve"> and not</t></r></si>', "bold and not"),
    ('<si><t>base</t><rPh sb="0" eb="1"><t>phonetic</t></rPh><phoneticPr fontId="1"/></si>', "base"),
    ('<si><r><t>run</t></r><rPh sb="0" eb="1"><t>phonetic</t></rPh></si>', "run"),
    ("<si><t>a_x000D_b _x005F_x0041_ _xD800_</t></si>", "a\rb _x0041_ \ufffd"),
    ("<si><foo><t>nested</t></foo></si>", "nested"),
    ("<si><r><rPr><t>odd</t></rPr><t>run</t></r></si>", "oddrun"),
    ("<si><t>a</t><t>b</t></si>", "ab"), ("<si><t><b>x</b></t></si>", "x"),
    ("<si><ext/><t>after an unknown element</t></si>", "after an unknown element"),
    ("<si>\n  <r>\n    <t>indented</t>\n  </r>\n</si>", "indented"),  # white space between elements is no text
])
def test_the_text_of_a_shared_string(item, text):
    xml = f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{_MAIN}"><si><t>first</t></si>{item}</sst>'.encode()
    assert bookmod._xlsx_shared_strings(xml) == ["first", text]
    assert bookmod._xlsx_shared_strings_events(xml) == ["first", text]


def test_an_ods_cell_of_a_type_without_its_value_holds_nothing():
    """OpenDocument 1.2 (19.385-19.389): a typed cell holds its value in the attribute of its type; without it the
    cell has no value (and no formula: "" is none)."""
    for kind in ("float", "percentage", "currency", "date", "time"):
        cell = ods_cell(f'<table:table-cell office:value-type="{kind}" table:style-name="ce1"/>')
        assert (cell.value, cell.formula, cell.error) == (None, "", False), kind
    assert ods_cell('<table:table-cell office:value-type="boolean"/>').value is False
    cell = ods_cell('<table:table-cell calcext:value-type="float" office:value="3"/>')  # typed by LibreOffice only
    assert (cell.value, cell.formula) == (3.0, "")


@pytest.mark.parametrize("repeat", ["rows", "columns"])
def test_an_ods_repeat_that_ends_on_the_edge_of_the_area_is_inside_it(repeat):
    """docs/security.md: only the positions inside the area are stored; the first one beyond it, if any, is
    remembered. The area here is rows 1-3 and columns A-C."""
    cell = '<table:table-cell office:value-type="float" office:value="1"{}/>'
    if repeat == "rows":
        rows = ('<table:table-row><table:table-cell/></table:table-row><table:table-row table:number-rows-repeated="2">'
                + cell.format("") + "</table:table-row>")
        inside = [(1, 0), (2, 0)]
    else:
        rows = ('<table:table-row/><table:table-row/><table:table-row><table:table-cell/>'
                + cell.format(' table:number-columns-repeated="2"') + "</table:table-row>")
        inside = [(2, 1), (2, 2)]
    sheet = ods_sheet(rows, area=(2, 2))
    assert sorted(sheet.cells) == inside and sheet.outside is None
    sheet = ods_sheet(rows.replace('repeated="2"', 'repeated="3"'), area=(2, 2))
    assert sorted(sheet.cells) == inside and sheet.outside == ((3, 0) if repeat == "rows" else (2, 3))
    styled = ods_sheet('<table:table-row table:number-rows-repeated="9"><table:table-cell table:style-name="ce1" '
                       'table:number-columns-repeated="9"/></table:table-row>', area=(2, 2))
    assert len(styled.cells) == 9 and styled.outside is None  # an empty styled cell beyond the area is nothing


def test_the_ods_text_and_cell_caps_count_each_cell(monkeypatch):
    """docs/security.md (Limits): the cells stored and the text materialised per file, each cell counted; a text
    repeated over several cells counts once per cell."""
    six = '<table:table-cell office:value-type="string"{}><text:p>sei<text:s text:c="3"/></text:p></table:table-cell>'
    monkeypatch.setattr(bookmod, "MAX_TEXT", 12)
    assert len(ods_sheet(f"<table:table-row>{six.format('')}{six.format('')}</table:table-row>").cells) == 2
    assert ods_sheet(f"<table:table-row>{six.format('')}</table:table-row>").cells[(0, 0)].value == "sei   "
    twice = six.format(' table:number-columns-repeated="2"')
    with pytest.raises(UnsafeFile, match="troppo testo"):
        ods_sheet(f"<table:table-row>{six.format('')}{twice}</table:table-row>")
    monkeypatch.setattr(bookmod, "MAX_TEXT", 10**6)
    rows = ('<table:table-row table:number-rows-repeated="3"><table:table-cell office:value-type="float" '
            'office:value="1" table:number-columns-repeated="2"/></table:table-row>')
    monkeypatch.setattr(bookmod, "MAX_STORED", 6)
    assert len(ods_sheet(rows).cells) == 6
    monkeypatch.setattr(bookmod, "MAX_STORED", 5)
    with pytest.raises(UnsafeFile, match="troppe celle"):
        ods_sheet(rows)


@pytest.mark.parametrize(("size", "points"), [("5pt", 5.0), ("2mm", 2 * 72 / 25.4), ("0.5cm", 0.5 * 72 / 2.54),
                                              ("0.1in", 7.2), ("1pc", 12.0), ("8px", 6.0), ("50%", None)])
def test_an_ods_font_size_in_any_unit_is_read_in_points(size, points):
    """docs/security.md: text smaller than 6 points is found; OpenDocument (fo:font-size) states a size in any unit
    of length (2 mm is 5.7 points), or as a percentage of the parent's."""
    automatic = ('<style:style style:name="ce1" style:family="table-cell"><style:text-properties '
                 f'fo:font-size="{size}"/></style:style>')
    book = bookmod.read_book(ods('<table:table table:name="S"/>', automatic=automatic), {"S": (20, 7)})
    assert book.looks["ce1"].font_size == (None if points is None else pytest.approx(points))


def test_ods_cells_under_a_merge_and_a_second_sheet_are_read():
    """A covered cell (under a merge) holds its own content and takes its column (docs/security.md: content in a
    cell of the form that must stay empty is a finding); each sheet asked for is read; a damaged content.xml is
    named."""
    string = '<table:{0} office:value-type="string"><text:p>{1}</text:p></table:{0}>'
    row = (f'<table:table-row>{string.format("table-cell", "a")}{string.format("covered-table-cell", "nascosto")}'
           f'{string.format("table-cell", "c")}</table:table-row>')
    book = bookmod.read_book(ods(f'<table:table table:name="S">{row}</table:table><table:table table:name="T">{row}'
                                 '</table:table>'), {"S": (20, 7), "T": (20, 7)})
    for name in ("S", "T"):
        assert {k: c.value for k, c in book.sheet(name).cells.items()} == {(0, 0): "a", (0, 1): "nascosto",
                                                                           (0, 2): "c"}, name
    with pytest.raises(UnsafeFile) as e:
        bookmod.read_book(ods('<table:table table:name="S"><table:table-row></table:table>'), {"S": (20, 7)})
    assert e.value.code == "WB-OPEN" and "content.xml" in e.value.message


_X14AC = ' xmlns:x14ac="http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac"'
_X14AC_ROW = '<row r="1" x14ac:dyDescent="0.25"><c r="A1"><v>1</v></c></row>'


def test_a_prefix_is_bound_where_xml_binds_it(monkeypatch):
    """XML Namespaces 1.0: a prefix declared on an element is bound inside it only. Declared on the root (and again on
    a sibling of <sheetData>) it is bound in the rows: scanned; declared only on a sibling that closed before
    <sheetData>, the rows use an unbound prefix: no XML, refused whichever way the sheet is read."""
    again = f"<sheetPr{_X14AC}><tabColor rgb=\"FFFF0000\"/></sheetPr>"
    xml = sheet_xml(body=_X14AC_ROW, root_attrs=_X14AC).replace("<sheetData>", again + "<sheetData>")
    scanned, first, second = read_both(monkeypatch, xml)
    assert scanned and first == second == (None, {(0, 0): (1.0, "", False, 0)})
    xml = sheet_xml(body=_X14AC_ROW).replace("<sheetData>", again + "<sheetData>")
    scanned, first, second = read_both_or_refusal(monkeypatch, xml)
    assert not scanned and first == second and "XML non valido" in first


def test_a_sheet_cut_short_is_refused_whichever_way_it_is_read(monkeypatch):
    xml = sheet_xml().replace("</worksheet>", "")
    scanned, first, second = read_both_or_refusal(monkeypatch, xml)
    assert not scanned and first == second and "XML non valido" in first


def test_shared_strings_with_an_extension_list_or_damaged():
    """ECMA-376: <sst> may end with an <extLst>, which holds no item; a damaged shared strings part is named."""
    xml = (f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{_MAIN}"><si><t>uno</t></si><si><r><t>du</t></r>'
           '<r><t>e</t></r></si><extLst><ext uri="x"><t>no</t></ext></extLst></sst>').encode()
    assert bookmod._xlsx_shared_strings(xml) == ["uno", "due"]
    with pytest.raises(UnsafeFile) as e:
        bookmod._xlsx_shared_strings(xml.replace(b"</sst>", b""))
    assert e.value.code == "WB-OPEN" and "xl/sharedStrings.xml" in e.value.message


@pytest.mark.parametrize("where", ["content", "styles"])
def test_the_fixed_text_of_an_ods_data_style_is_found(where):
    """docs/security.md: the number format of a locked cell is compared, for .ods by the fixed text of its data style
    (a text such as «gg» beside the number changes what a person reads); text-display or text:display none hides it."""
    from piao_xls.returns.reader import _look_problem

    data_style = ('<number:number-style style:name="N7"><number:number number:decimal-places="0"/><number:text> gg'
                  "</number:text></number:number-style>")  # LibreOffice writes the space before a unit's text
    cells = ('<style:style style:name="ce7" style:family="table-cell" style:data-style-name="N7"/>'
             '<style:style style:name="ce8" style:family="table-cell"><style:text-properties text:display="none"/>'
             "</style:style>")
    styles = f"<office:styles>{data_style}</office:styles>" if where == "styles" else None
    automatic = (data_style if styles is None else "") + cells  # as LibreOffice writes them: data styles first
    book = bookmod.read_book(ods('<table:table table:name="S"/>', automatic=automatic, styles=styles), {"S": (20, 7)})
    assert "testo fisso «gg»" in (_look_problem(book.looks["ce7"], "-", "ods") or "")
    assert book.looks["ce8"].hidden and not book.looks["ce7"].hidden


def test_quotes_in_an_ods_data_style_attribute_never_break_the_check():
    """docs/security.md: a crafted file is refused or read, never a traceback; an attribute of a data style may
    hold quotes and backslashes, which the summary of the style then carries."""
    from piao_xls.returns.reader import _look_problem

    data_style = ('<number:number-style style:name="N7"><number:number number:decimal-places="0" '
                  "number:min-integer-digits=\"'\\N{\"/><number:text> gg</number:text></number:number-style>")
    cells = '<style:style style:name="ce7" style:family="table-cell" style:data-style-name="N7"/>'
    book = bookmod.read_book(ods('<table:table table:name="S"/>', automatic=data_style + cells), {"S": (20, 7)})
    assert "testo fisso" in (_look_problem(book.looks["ce7"], "-", "ods") or "")
