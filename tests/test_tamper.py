"""Tampering that must be found (issue 11, section 2): the look of locked cells, formulas, cleared or
retyped locked cells, the Istruzioni sheet, cells outside the form, values beyond validation limits.

Workbooks come from the real writer and are edited with openpyxl, as a person with the protection
removed would edit them; every finding must name the sheet and the cell.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import zipmut
from openpyxl import load_workbook
from openpyxl.styles import Font, PatternFill
from scenario import SF_ANALYSES, SF_VALUES

from piao_xls.forms.layout import Cell, Validation, sector_workbook
from piao_xls.forms.writer import render
from piao_xls.returns.reader import (
    ACCEPTED,
    ACCEPTED_WITH_WARNINGS,
    REJECTED,
    evaluate_constant,
    normalize_formula,
    read_workbook,
    validate_value,
)

SHEET = "SF - Finanziario"


@pytest.fixture(autouse=True)
def _both_paths(tamper_paths_agree):
    """Each test here also checks that the quick and the cell-by-cell tampering checks agree."""
    return tamper_paths_agree


@pytest.fixture(scope="module")
def sf_book(plan):
    return sector_workbook(plan, plan.sector("SF"))


@pytest.fixture
def sf_filled(tmp_path, sf_book):
    path = tmp_path / sf_book.filename
    path.write_bytes(render(sf_book, prefill={**SF_VALUES, **SF_ANALYSES}))
    return path


def _edit(src: Path, dst: Path, fn) -> Path:
    wb = load_workbook(src)
    fn(wb)
    wb.save(dst)
    return dst


def _tampered(res, cell: str | None, words: str = "", sheet: str = SHEET):
    """The finding at ``cell``; like every finding of tampering it names its file, sheet and cell
    (docs/security.md), and the closing error of a sheet whose values are not read names file and sheet."""
    hits = [f for f in res.findings if f.code == "WB-TAMPERED" and f.sheet == sheet and f.cell == cell
            and words in f.message]
    assert hits, [str(f) for f in res.findings]
    assert all(f.file == res.path for f in res.findings), [(f.file, str(f)) for f in res.findings]
    return hits[0]


def _label(sf_book, pred):
    return next(c for c in sf_book.sheets[1].cells if c.kind == "label" and pred(c))


TARGET = "Accertamento del 100% delle somme stanziate nel Bilancio 2025"


def test_untouched_file_is_accepted(plan, sf_filled):
    res = read_workbook(sf_filled, plan)
    assert res.status == ACCEPTED, [str(f) for f in res.findings]


@pytest.mark.parametrize("change, words", [
    (lambda c: setattr(c, "number_format", '"50%"'), "formato numerico"),
    (lambda c: setattr(c, "number_format", ";;;"), "nasconde"),
    (lambda c: setattr(c, "font", Font(color="FFFFFFFF")), "stesso colore dello sfondo"),
    (lambda c: setattr(c, "font", Font(color="FFFF0000")), "colore del testo"),
    (lambda c: setattr(c, "fill", PatternFill("solid", fgColor="FFFFFF00")), "colore di sfondo"),
    (lambda c: setattr(c, "font", Font(size=1)), "troppo piccolo"),
    (lambda c: setattr(c, "font", Font(size=5.5)), "troppo piccolo per essere letto (5,5 punti)"),
])
def test_the_look_of_a_locked_cell_is_checked(plan, tmp_path, sf_filled, sf_book, change, words):
    target = _label(sf_book, lambda c: c.value == TARGET)
    out = _edit(sf_filled, tmp_path / "look.xlsx", lambda wb: change(wb[SHEET][target.ref]))
    res = read_workbook(out, plan)
    assert res.status == REJECTED and "SF" not in res.sectors
    _tampered(res, target.ref, words)


@pytest.mark.parametrize("code", [";;", ";", ";;;", "[Red];[Red];[Red]", '"";"";""', "0%;;"])
def test_a_format_that_hides_a_number_is_found(plan, tmp_path, sf_filled, sf_book, code):
    """Excel shows nothing for a number when the positive, negative and zero sections are empty (two sections
    cover zero with the first), whatever colour or condition they carry; ``0%;;`` hides negatives and zero only
    and is a changed format, not a hidden one."""
    weight = _label(sf_book, lambda c: c.style == "card_pct")
    out = _edit(sf_filled, tmp_path / "hide.xlsx", lambda wb: setattr(wb[SHEET][weight.ref], "number_format", code))
    res = read_workbook(out, plan)
    assert res.status == REJECTED
    _tampered(res, weight.ref, "formato numerico" if code == "0%;;" else "nasconde")


@pytest.mark.parametrize(("code", "hides"), [
    # Excel's number formats: up to four sections (positive; negative; zero; text), split at the semicolons outside
    # quotes and escapes; a section shows nothing when it holds nothing but colour and condition codes
    (";;", True), ('"";"";""', True), ("[Red];[Blue];[>=100]", True), ("0;0;0;", True), ('0;0;0;""', True),
    ('"x"', False), ('"x";"x";"x"', False), ("\\x", False), ("\\x;\\x;\\x", False), ('[Red]"x";[Red];[Red]', False),
    ('"a;b";;', False), ('"abc', False), ("\\;;", False), ("0;0;0;\\-", False), ('0;0;0;"-"', False), ("0%;;", False),
    ("0;0;\\;", False), ("[Red]0;[Red]0;[Red]0", False), ('"abc;;', False),  # an unclosed quote runs to the end
])
def test_which_formats_show_nothing(code, hides):
    """docs/security.md: the look of a locked cell is checked, "a format that hides the value (;;;)"; which formats
    show nothing, section by section, as Excel reads them (the whole-file tests above cover how it is reported)."""
    from piao_xls.sheetio.book import _hides

    assert _hides(code) is hides


@pytest.mark.parametrize("code", ["0;0;0;", "General;General;General;", '@;@;@;""'])
def test_a_format_that_hides_a_text_is_found(plan, tmp_path, sf_filled, sf_book, code):
    target = _label(sf_book, lambda c: c.value == TARGET)
    out = _edit(sf_filled, tmp_path / "hidet.xlsx", lambda wb: setattr(wb[SHEET][target.ref], "number_format", code))
    _tampered(read_workbook(out, plan), target.ref, "nasconde")


def test_a_custom_format_on_a_weight_is_found(plan, tmp_path, sf_filled, sf_book):
    weight = _label(sf_book, lambda c: c.style == "card_pct")
    out = _edit(sf_filled, tmp_path / "pct.xlsx", lambda wb: setattr(wb[SHEET][weight.ref], "number_format", '"50%"'))
    _tampered(read_workbook(out, plan), weight.ref, "formato numerico")


def _formula(sf_book):
    return next(c for c in sf_book.sheets[1].cells if c.kind == "formula")


def test_a_formula_replaced_by_a_constant(plan, tmp_path, sf_filled, sf_book):
    f = _formula(sf_book)
    out = _edit(sf_filled, tmp_path / "f.xlsx", lambda wb: wb[SHEET].__setitem__(f.ref, 1))
    res = read_workbook(out, plan)
    assert res.status == REJECTED
    _tampered(res, f.ref, "sostituita da un valore")


def test_a_formula_replaced_by_another_formula(plan, tmp_path, sf_filled, sf_book):
    f = _formula(sf_book)
    out = _edit(sf_filled, tmp_path / "f2.xlsx", lambda wb: wb[SHEET].__setitem__(f.ref, "=1+0"))
    _tampered(read_workbook(out, plan), f.ref, "formula del modulo modificata")


def test_a_formula_typed_into_an_input_is_a_finding(plan, tmp_path, sf_filled, sf_book):
    ref = sf_book.sheets[1].inputs["SF-3.1|value"].ref
    out = _edit(sf_filled, tmp_path / "fi.xlsx", lambda wb: wb[SHEET].__setitem__(ref, "=0.5+0.5"))
    res = read_workbook(out, plan)
    assert any(f.code == "WB-FORMULA" and f.sheet == SHEET and f.cell == ref for f in res.findings)


def test_a_cleared_locked_cell(plan, tmp_path, sf_filled, sf_book):
    target = _label(sf_book, lambda c: c.value == TARGET)
    out = _edit(sf_filled, tmp_path / "c.xlsx", lambda wb: wb[SHEET].__setitem__(target.ref, None))
    res = read_workbook(out, plan)
    assert res.status == REJECTED and "SF" not in res.sectors
    _tampered(res, target.ref, "cancellata")


@pytest.mark.parametrize("new, words", [(TARGET.upper(), "maiuscole"), (TARGET.lower(), "maiuscole"),
                                        (TARGET.replace(" ", "  "), "spazi"), (TARGET + " ", "spazi"),
                                        ("\u00a0" + TARGET, "spazi")])
def test_case_or_spacing_of_a_locked_text(plan, tmp_path, sf_filled, sf_book, new, words):
    target = _label(sf_book, lambda c: c.value == TARGET)
    out = _edit(sf_filled, tmp_path / "s.xlsx", lambda wb: wb[SHEET].__setitem__(target.ref, new))
    res = read_workbook(out, plan)
    assert res.status == REJECTED
    _tampered(res, target.ref, words)


def test_text_below_the_form(plan, tmp_path, sf_filled, sf_book):
    below = sf_book.sheets[1].last_row + 3
    out = _edit(sf_filled, tmp_path / "b.xlsx", lambda wb: wb[SHEET].cell(below + 1, 2, "nota"))
    res = read_workbook(out, plan)
    assert res.status == REJECTED and "SF" not in res.sectors
    _tampered(res, f"B{below + 1}", "fuori dall'area")


def test_text_right_of_the_form(plan, tmp_path, sf_filled):
    out = _edit(sf_filled, tmp_path / "r.xlsx", lambda wb: wb[SHEET].__setitem__("K12", 5))
    _tampered(read_workbook(out, plan), "K12", "fuori dall'area")


def test_text_in_an_empty_locked_cell_inside_the_form(plan, tmp_path, sf_filled, sf_book):
    layout = sf_book.sheets[1]
    used = {(c.row, c.col) for c in layout.cells}
    for c in layout.cells:
        if c.merge_to:
            used.update((r, k) for r in range(c.row, c.merge_to[0] + 1) for k in range(c.col, c.merge_to[1] + 1))
    row = next(r for r in range(layout.last_row) if all((r, k) not in used for k in range(8)))
    out = _edit(sf_filled, tmp_path / "e.xlsx", lambda wb: wb[SHEET].cell(row + 1, 3, 123))
    _tampered(read_workbook(out, plan), f"C{row + 1}", "deve restare vuota")


def test_istruzioni_changed_or_deleted(plan, tmp_path, sf_filled):
    out = _edit(sf_filled, tmp_path / "i.xlsx", lambda wb: wb["Istruzioni"].__setitem__("A5", "Compilare come si vuole."))
    res = read_workbook(out, plan)
    assert res.status == ACCEPTED_WITH_WARNINGS
    _tampered(res, "A5", "", sheet="Istruzioni")

    def drop(wb):
        del wb["Istruzioni"]
    res = read_workbook(_edit(sf_filled, tmp_path / "d.xlsx", drop), plan)
    assert any(f.code == "WB-TAMPERED" and f.sheet == "Istruzioni" for f in res.findings)


def test_genera_keeps_a_form_it_cannot_compare_and_replaces_a_blank_one(plan, tmp_path, sf_book):
    """README: `genera` never overwrites a file that already holds filled-in values. A blank form changed where no
    one types (docs/security.md: an error) cannot be compared with the plan, so it might hold values: kept; a blank
    form whose Istruzioni were edited (a warning) holds none: replaced."""
    from piao_xls.returns.reader import why_keep

    blank = tmp_path / "vuoto.xlsx"
    blank.write_bytes(render(sf_book))
    assert why_keep(blank, plan) is None
    notes = _edit(blank, tmp_path / "istruzioni.xlsx",
                  lambda wb: wb["Istruzioni"].__setitem__("A5", "Compilare come si vuole."))
    assert why_keep(notes, plan) is None
    target = _label(sf_book, lambda c: c.value == TARGET)
    changed = _edit(blank, tmp_path / "cambiato.xlsx", lambda wb: wb[SHEET].__setitem__(target.ref, "altro"))
    reason = why_keep(changed, plan)
    assert reason is not None and str(changed) in reason


def test_hidden_and_duplicate_sheets(plan, tmp_path, sf_filled):
    def hide(wb):
        wb.create_sheet("Appunti").sheet_state = "hidden"
    res = read_workbook(_edit(sf_filled, tmp_path / "h.xlsx", hide), plan)
    assert res.status == REJECTED
    assert any("nascosto" in f.message for f in res.findings)

    p = zipmut.parts(sf_filled.read_bytes())
    p["xl/workbook.xml"] = p["xl/workbook.xml"].replace(b'name="Istruzioni"', f'name="{SHEET.upper()} "'.encode())
    dup = tmp_path / "dup.xlsx"
    dup.write_bytes(zipmut.rezip(p))
    res = read_workbook(dup, plan)
    assert res.status == REJECTED and not res.sectors
    assert any("stesso nome" in f.message for f in res.findings), [str(f) for f in res.findings]


def _cell(unit, validation=None):
    return Cell(0, 4, kind="input", key="X|value", unit=unit, validation=validation)


@pytest.mark.parametrize("raw", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize("unit", ["percent", "number", "amount", "date", "text"])
def test_non_finite_numbers_are_refused(raw, unit):
    value, err, _ = validate_value(raw, _cell(unit, Validation("decimal", 0.0, 1e12)), 2025)
    assert value is None and err


def test_values_beyond_validation_limits(plan):
    amount = _cell("amount", Validation("decimal", 0.0, 1e12))
    assert validate_value(1e12, amount, 2025)[1] is None
    assert validate_value(1e13, amount, 2025)[1]
    number = _cell("number", Validation("decimal", 0.0, 1e12))
    assert validate_value(-0.5, number, 2025)[1]  # the minimum of an increase input
    assert validate_value(0.0, number, 2025)[1] is None
    assert validate_value(2e12, number, 2025)[1]
    date_cell = _cell("date", Validation("date"))
    assert validate_value(45292.0, date_cell, 2025)[1] is None  # 01/01/2024: first day of the window
    assert validate_value(45291.0, date_cell, 2025)[1]  # 31/12/2023
    assert validate_value(46387.0, date_cell, 2025)[1] is None  # 31/12/2026: last day
    assert validate_value(46388.0, date_cell, 2025)[1]  # 01/01/2027


def test_nan_written_in_a_returned_file_is_refused(plan, tmp_path, sf_filled, sf_book):
    ref = sf_book.sheets[1].inputs["SF-3.1|value"].ref
    p = zipmut.parts(sf_filled.read_bytes())
    sheet = "xl/worksheets/sheet2.xml"
    body = p[sheet].decode()
    start = body.index(f'<c r="{ref}"')
    end = body.index("</c>", start) + 4
    p[sheet] = (body[:start] + f'<c r="{ref}" s="20"><v>NaN</v></c>' + body[end:]).encode()
    out = tmp_path / "nan.xlsx"
    out.write_bytes(zipmut.rezip(p))
    res = read_workbook(out, plan)
    assert res.status == REJECTED
    assert any(f.code == "WB-VALUE" and f.cell == ref for f in res.findings), [str(f) for f in res.findings]
    assert res.sectors["SF"].values["SF-3.1"]["value"] is None


@pytest.mark.parametrize("formula, cached, ok", [
    ("0.5+0.5", "1", True),            # plain arithmetic, saved result matches: used, with a warning
    ("150000/2", None, True),          # no saved result: what it computes
    ("0.5+0.5", "0.2", False),         # the saved result lies
    ("HYPERLINK(\"http://x\",1)", "1", False),  # a function: never evaluated, never trusted
    ("E47", "1", False),               # a reference
    ("1/0", "1", False),
])
def test_a_formula_in_an_input_is_never_trusted(plan, tmp_path, sf_filled, sf_book, formula, cached, ok):
    ref = sf_book.sheets[1].inputs["SF-3.1|value"].ref
    p = zipmut.parts(sf_filled.read_bytes())
    sheet = "xl/worksheets/sheet2.xml"
    v = f"<v>{cached}</v>" if cached is not None else ""
    xml = formula.replace("&", "&amp;").replace('"', "&quot;")
    p[sheet] = zipmut.set_cell(p[sheet], ref, f'<c r="{ref}" s="20"><f>{xml}</f>{v}</c>'.encode())
    out = tmp_path / "fx.xlsx"
    out.write_bytes(zipmut.rezip(p))
    res = read_workbook(out, plan)
    hits = [f for f in res.findings if f.code == "WB-FORMULA" and f.cell == ref]
    assert hits
    if ok:
        assert hits[0].severity == "warning"
        assert res.sectors["SF"].values["SF-3.1"]["value"] == 1.0 or formula == "150000/2"
    else:
        assert hits[0].severity == "error" and res.status == REJECTED
        assert res.sectors["SF"].values["SF-3.1"]["value"] is None


@pytest.mark.parametrize("formula, value", [
    # docs/security.md: a formula typed into an input is used when it is plain arithmetic on numbers (=150000/2),
    # as a spreadsheet computes it: * and / before + and -, ^ before both, left to right, % a hundredth
    ("=150000/2", 75000.0), ("of:=150000/2", 75000.0), ("150000/2", 75000.0), (" =1+2*3 ", 7.0),
    ("=(1+2)*3", 9.0), ("=10-4-3", 3.0), ("=100/10/2", 5.0), ("=2^3^2", 64.0), ("=-2^2", 4.0), ("=2*-3", -6.0),
    ("=+5", 5.0), ("=50%", 0.5), ("=20%*300", 60.0), ("=1.5e3", 1500.0), ("=((7))", 7.0),
    # anything else is not used: a reference, a function, text, an incomplete or a non-finite result
    ("=A1*2", None), ("=SUM(1;2)", None), ('="12"', None), ("=1/0", None), ("=10^400", None), ("=1E308*10", None),
    ("=", None), ("", None), ("=(1+2", None), ("=1+", None), ("=1 2", None), ("=1)", None), ("=*2", None),
])
def test_plain_arithmetic_is_computed_as_a_spreadsheet_does(formula, value):
    assert evaluate_constant(formula) == value


@pytest.mark.parametrize("a, b", [
    # docs/security.md: a formula of the layout is compared as written, then in one spelling: `$`, spaces,
    # `_xlfn.`, `.ods` syntax and number spellings normalised
    ("=SUM(E10:E12)", "SUM(E10:E12)"),                 # as xlsxwriter writes it, as Excel stores it
    ("=SUM($E$10:E12)", "=SUM(E10:E12)"),
    ("= SUM( E10 : E12 )", "=SUM(E10:E12)"),
    ("=_xlfn.IFS(E10>0,1,TRUE,0)", "=IFS(E10>0,1,TRUE,0)"),
    ("of:=ROUND([.E10]*2;2)", "=ROUND(E10*2,2)"),
    ("of:=IF([.E10]>0;1;0)", "=IF(E10>0,1,0)"),
    ("of:=SUM([.E10:.E12])", "=SUM(E10:E12)"),          # an ODF range names both ends with a dot
    ("of:=SUM([.$E$10:.$E$12])", "=SUM(E10:E12)"),
    ("=E10*0.8999999999999999", "=E10*0.9"),           # Gnumeric's spelling of 0.9
    ("=E10*1.0", "=E10*1"), ("=E10*1E2", "=E10*100"),
])
def test_spellings_of_one_formula_are_one_formula(a, b):
    assert normalize_formula(a) == normalize_formula(b)


@pytest.mark.parametrize("a, b", [
    ("=SUM(E10:E12)", "=SUM(E10:E13)"), ("=E10+1", "=E10+2"), ("=E10*2", "=E10+2"), ("=E10*0.9", "=E10*0.95"),
])
def test_different_formulas_stay_different(a, b):
    assert normalize_formula(a) != normalize_formula(b)


def test_sheet_order_changed_is_a_finding(plan, tmp_path, sf_filled):
    def move(wb):
        wb.move_sheet("Istruzioni", offset=1)
    res = read_workbook(_edit(sf_filled, tmp_path / "o.xlsx", move), plan)
    assert any(f.code == "WB-TAMPERED" and "ordine dei fogli" in f.message for f in res.findings)


def test_a_broken_part_nothing_scores_is_still_a_finding(plan, tmp_path, sf_filled):
    p = zipmut.parts(sf_filled.read_bytes())
    p["docProps/app.xml"] = p["docProps/app.xml"][:-20]
    out = tmp_path / "broken.xlsx"
    out.write_bytes(zipmut.rezip(p))
    res = read_workbook(out, plan)
    assert res.status == REJECTED and any("docProps/app.xml" in f.message for f in res.findings)


def test_text_in_a_styled_empty_locked_cell_or_under_a_merge(plan, tmp_path, sf_filled, sf_book):
    """An empty locked cell of the form and a cell a merge covers show nothing: text typed there is hidden."""
    layout = sf_book.sheets[1]
    grey = next(c for c in layout.cells if c.kind == "label" and c.value is None and not c.merge_to)
    merged = next(c for c in layout.cells if c.kind == "input" and c.merge_to)
    covered = f"{chr(65 + merged.merge_to[1])}{merged.row + 1}"

    def write(wb):
        ws = wb[SHEET]
        ws.unmerge_cells(f"{merged.ref}:{covered}")
        ws[grey.ref] = "testo nascosto"
        ws[covered] = "sotto l'unione"
    res = read_workbook(_edit(sf_filled, tmp_path / "hidden.xlsx", write), plan)
    assert res.status == REJECTED
    _tampered(res, grey.ref, "deve restare vuota")
    _tampered(res, covered, "deve restare vuota")


@pytest.mark.parametrize("cell_xml", [b"<f>1+1</f>", b"<f>1+1</f><v></v>", b"<f>A1</f><v>0</v>", b't="str"><f>""</f>'])
def test_a_formula_in_a_cell_that_must_stay_empty(plan, tmp_path, sf_filled, sf_book, cell_xml):
    """A formula typed where the form has nothing is found, whether or not the file keeps a value for it, and
    however little else changed in the file (the cell is put in the sheet's XML, nothing else is rewritten)."""
    import re

    layout = sf_book.sheets[1]
    used = {(c.row, c.col) for c in layout.cells}
    members = zipmut.parts(sf_filled.read_bytes())
    name = max((n for n in members if n.startswith("xl/worksheets/")), key=lambda n: len(members[n]))
    body = members[name]
    for m in re.finditer(rb'<row r="([0-9]+)"[^>]*>(.*?)</row>', body, re.S):
        r = int(m.group(1)) - 1
        if (r, 7) not in used and b'r="H%d"' % (r + 1) not in m.group(2) and r < layout.last_row:
            break
    head = b'<c r="H%d"' % (r + 1)
    cell = head + (b" " + cell_xml + b"</c>" if cell_xml.startswith(b"t=") else b">" + cell_xml + b"</c>")
    body = body[:m.end(2)] + cell + body[m.end(2):]
    out = tmp_path / "empty-formula.xlsx"
    out.write_bytes(zipmut.edit(sf_filled.read_bytes(), {name: body}))
    res = read_workbook(out, plan)
    assert res.status == REJECTED
    _tampered(res, f"H{r + 1}", "deve restare vuota")


def test_a_formula_deleted_and_a_locked_text_retyped(plan, tmp_path, sf_filled, sf_book):
    """A formula of the form deleted (its cell gone from the sheet), one replaced by a formula whose text is in
    another cell (a shared formula), a locked text replaced by another and one replaced by a number are each
    found at their cell (docs/security.md), and the sheet's values are not read (an error without a cell says
    so). A formula only spelled another way (`$`) is no change, even when the sheet is checked cell by cell."""
    import re

    f = _formula(sf_book)
    shared, spelled = [c for c in sf_book.sheets[1].cells if c.kind == "formula"][1:3]
    target = _label(sf_book, lambda c: c.value == TARGET)
    other = _label(sf_book, lambda c: isinstance(c.value, str) and c.value and c.row > target.row + 2)
    members = zipmut.parts(sf_filled.read_bytes())
    name = max((n for n in members if n.startswith("xl/worksheets/")), key=lambda n: len(members[n]))
    body = zipmut.set_cell(members[name], f.ref, b"")
    body = zipmut.set_cell(body, target.ref, zipmut.inline_string(target.ref, "Accertamento di quanto si riesce",
                                                                  zipmut.cell_style(body, target.ref)))
    body = zipmut.set_cell(body, other.ref, zipmut.number_cell(other.ref, "100", zipmut.cell_style(body, other.ref)))
    body = zipmut.set_cell(body, shared.ref, b'<c r="%s" s="%s"><f t="shared" si="0"/><v>1</v></c>'
                           % (shared.ref.encode(), zipmut.cell_style(body, shared.ref)))
    cell = re.search(rb'<c r="' + spelled.ref.encode() + rb'"[^>]*?>.*?</c>', body, re.S).group(0)
    input_ref = b"E" + spelled.ref[1:].encode()
    assert input_ref in cell
    body = zipmut.set_cell(body, spelled.ref, cell.replace(input_ref, b"$E$" + spelled.ref[1:].encode()))
    out = tmp_path / "deleted.xlsx"
    out.write_bytes(zipmut.edit(sf_filled.read_bytes(), {name: body}))
    res = read_workbook(out, plan)
    assert res.status == REJECTED and "SF" not in res.sectors
    _tampered(res, f.ref, "formula del modulo cancellata")
    _tampered(res, target.ref, "valore modificato")
    _tampered(res, other.ref, "valore modificato")
    _tampered(res, shared.ref, "formula del modulo modificata")
    assert not [x for x in res.findings if x.cell == spelled.ref]
    assert {x.code for x in res.findings} == {"WB-TAMPERED"}, [str(x) for x in res.findings]
    closing = [x for x in res.findings if x.code == "WB-TAMPERED" and x.sheet == SHEET and x.cell is None]
    assert len(closing) == 1 and closing[0].severity == "error" and "non vengono letti" in closing[0].message


def test_many_locked_cells_cleared_are_each_a_finding(plan, tmp_path, sf_filled, sf_book):
    """Twelve locked texts cleared: the sheet is tampered, its cells are found one by one (the first ones at
    least: docs/security.md), and the file is reported as tampered, never as unreadable."""
    labels = [c for c in sf_book.sheets[1].cells if c.kind == "label" and isinstance(c.value, str) and c.value][:12]

    def clear(wb):
        for c in labels:
            wb[SHEET][c.ref] = None
    res = read_workbook(_edit(sf_filled, tmp_path / "many.xlsx", clear), plan)
    assert res.status == REJECTED and "SF" not in res.sectors
    assert {f.code for f in res.findings} == {"WB-TAMPERED"}, [str(f) for f in res.findings]
    for c in labels[:2]:
        _tampered(res, c.ref, "cancellata")


def test_text_typed_in_many_cells_that_must_stay_empty(plan, tmp_path, sf_filled, sf_book):
    """Text typed into twelve cells of the form that must stay empty: the file is reported as tampered, cell by
    cell (the first ones at least), never as unreadable (docs/security.md)."""
    layout = sf_book.sheets[1]
    used = {(c.row, c.col) for c in layout.cells}
    for c in layout.cells:
        if c.merge_to:
            used.update((r, k) for r in range(c.row, c.merge_to[0] + 1) for k in range(c.col, c.merge_to[1] + 1))
    free = [(r, k) for r in range(layout.last_row) for k in range(8) if (r, k) not in used][:12]
    assert len(free) == 12

    def write(wb):
        for r, k in free:
            wb[SHEET].cell(r + 1, k + 1, "nota")
    res = read_workbook(_edit(sf_filled, tmp_path / "notes.xlsx", write), plan)
    assert res.status == REJECTED and "SF" not in res.sectors
    assert {f.code for f in res.findings} == {"WB-TAMPERED"}, [str(f) for f in res.findings]
    _tampered(res, f"{chr(65 + free[0][1])}{free[0][0] + 1}", "deve restare vuota")


def test_a_formula_deleted_alone(plan, tmp_path, sf_filled, sf_book):
    """A formula of the form deleted and nothing else changed: found at its cell (docs/security.md), by the
    whole-sheet comparisons as by the check cell by cell."""
    f = _formula(sf_book)
    members = zipmut.parts(sf_filled.read_bytes())
    name = max((n for n in members if n.startswith("xl/worksheets/")), key=lambda n: len(members[n]))
    out = tmp_path / "deleted-alone.xlsx"
    out.write_bytes(zipmut.edit(sf_filled.read_bytes(), {name: zipmut.set_cell(members[name], f.ref, b"")}))
    res = read_workbook(out, plan)
    assert res.status == REJECTED and "SF" not in res.sectors
    assert {x.code for x in res.findings} == {"WB-TAMPERED"}, [str(x) for x in res.findings]
    _tampered(res, f.ref, "formula del modulo cancellata")
