"""Formulas are saved with the values they have when the form is generated: any viewer (a mail preview, a phone,
openpyxl with data_only=True) shows what LibreOffice shows after recalculating, and opening an untouched form
does not mark it changed. A returned file's cached values are never trusted (tests/test_tamper.py)."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from openpyxl import load_workbook

from piao_xls.forms.layout import plan_workbooks, sector_workbook
from piao_xls.forms.samples import synthetic_plan_yaml
from piao_xls.forms.writer import render
from piao_xls.plan.planfile import parse_plan

pytestmark = pytest.mark.libreoffice


def _books(plan):
    synthetic, _ = parse_plan(synthetic_plan_yaml(2, 5, 3), "synthetic.yaml")
    return [*plan_workbooks(plan), *plan_workbooks(synthetic)[1:2]]


def _cached(data: bytes) -> dict[tuple[str, str], object]:
    wb = load_workbook(io.BytesIO(data), data_only=True)
    return {(ws.title, c.coordinate): c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row}


def test_every_formula_is_saved_with_the_value_libreoffice_computes(libreoffice, plan, tmp_path):
    checked, problems = 0, []
    for book in _books(plan):
        data = render(book)
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            calc = re.search(r"<calcPr[^>]*>", z.read("xl/workbook.xml").decode()).group()
        assert "fullCalcOnLoad" not in calc and 'calcId="191029"' in calc, calc
        cached = _cached(data)
        path = tmp_path / book.filename
        path.write_bytes(data)
        with libreoffice.open(path) as doc:
            assert not doc.is_modified(), f"{book.filename}: opening it marks it changed"
            cells = [(s.name, c.ref) for s in book.sheets for c in s.formulas]
            assert cells or book.kind == "source"
            opened = {at: doc.get_value(*at) for at in cells}  # before any recalculation: the saved values
            doc.recalc()
            for at in cells:
                want = doc.get_value(*at)
                saved = cached.get(at)
                saved = "" if saved is None else saved
                checked += 1
                if saved != want or opened[at] != want:
                    problems.append(f"{book.filename} {at}: saved {saved!r}, shown on opening {opened[at]!r}, "
                                    f"after recalculation {want!r}")
    assert checked > 100
    assert not problems, "\n".join(problems[:20])


def test_the_total_waits_with_its_words_in_every_viewer(plan):
    book = sector_workbook(plan, plan.sector("SF"))
    sheet = book.sheets[1]
    cached = _cached(render(book))
    shown = {cached[(sheet.name, c.ref)] for c in sheet.formulas}
    assert shown == {None, "da compilare (peso rendicontato: 0%)"}


def test_a_prefilled_workbook_is_recalculated_on_opening(libreoffice, plan, tmp_path):
    """Prefilled inputs (tests, benchmarks) are not reflected in the saved values: such a file asks for
    recalculation on load, and LibreOffice shows the computed achievement at once."""
    book = sector_workbook(plan, plan.sector("SF"))
    sheet = book.sheets[1]
    path = tmp_path / book.filename
    path.write_bytes(render(book, prefill={"SF-6.1|numerator": 1.0, "SF-6.1|denominator": 2.0}))
    with zipfile.ZipFile(path) as z:
        assert "fullCalcOnLoad" in z.read("xl/workbook.xml").decode()
    live = next(c for c in sheet.formulas if "numerator" not in c.formula and
                sheet.inputs["SF-6.1|numerator"].ref in c.formula)
    with libreoffice.open(path) as doc:
        assert doc.get_value(sheet.name, live.ref) not in ("", None)
