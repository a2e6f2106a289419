"""Self-test of the real-LibreOffice harness (tests/libreoffice.py)."""

from __future__ import annotations

import datetime as dt
import hashlib
import zipfile

import pytest

try:
    import libreoffice as lo_mod
except ImportError:  # pragma: no cover - when tests/ is not on sys.path
    from tests import libreoffice as lo_mod

LibreOffice = lo_mod.LibreOffice
LibreOfficeError = lo_mod.LibreOfficeError
require_libreoffice = lo_mod.require_libreoffice

SHEET = "SA - Amministrazione"


# --------------------------------------------------------------------------------------
# fixtures
# --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def office():
    require_libreoffice()
    with LibreOffice() as lo:
        yield lo


@pytest.fixture
def book(tmp_path):
    import xlsxwriter

    path = tmp_path / "book.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet(SHEET)
    unlocked = wb.add_format({"locked": False})
    ws.write("A1", "Titolo")  # locked (default) with text
    ws.write_blank("B2", None, unlocked)
    ws.write_blank("C3", None, unlocked)
    ws.data_validation("B2", {
        "validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 1,
        "error_type": "stop", "input_title": "Quota", "input_message": "Valore tra 0 e 1",
        "error_title": "Valore non valido", "error_message": "Inserire un numero tra 0 e 1",
    })
    ws.data_validation("C3", {
        "validate": "date", "criteria": "between",
        "minimum": dt.date(2024, 1, 1), "maximum": dt.date(2026, 12, 31),
        "error_type": "stop",
    })
    ws.write_formula("D4", "=B2*2")
    ws.protect()
    wb.add_worksheet("Altro")
    wb.close()
    return path


@pytest.fixture
def doc(office, book):
    with office.open(book) as d:
        yield d


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --------------------------------------------------------------------------------------
# require_libreoffice: skip locally, fail under CI
# --------------------------------------------------------------------------------------

def test_require_libreoffice_skips_locally_and_fails_under_ci(monkeypatch):
    monkeypatch.setattr(lo_mod, "lo_available", lambda: (False, "no soffice here"))
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no soffice here"):
        lo_mod.require_libreoffice()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="no soffice here"):
        lo_mod.require_libreoffice()
    monkeypatch.setattr(lo_mod, "lo_available", lambda: (True, ""))
    lo_mod.require_libreoffice()  # available -> no-op even under CI


# --------------------------------------------------------------------------------------
# real LibreOffice
# --------------------------------------------------------------------------------------

@pytest.mark.libreoffice
def test_sheets_protection_and_locking(doc):
    assert doc.sheet_names() == [SHEET, "Altro"]
    assert doc.is_protected(SHEET) is True
    assert doc.is_protected("Altro") is False
    assert doc.cell_locked(SHEET, "A1") is True
    assert doc.cell_locked(SHEET, "B2") is False
    assert doc.cell_locked(SHEET, "C3") is False
    assert doc.used_range(SHEET) == (3, 3)  # D4


@pytest.mark.libreoffice
def test_validation_fields(doc):
    v = doc.validation(SHEET, "B2")
    assert v["type"] == "DECIMAL"
    assert v["operator"] == "BETWEEN"
    assert float(v["formula1"]) == 0 and float(v["formula2"]) == 1
    assert v["show_input"] is True
    assert v["input_title"] == "Quota"
    assert v["input_message"] == "Valore tra 0 e 1"
    assert v["show_error"] is True
    assert v["error_style"] == "STOP"
    assert v["error_title"] == "Valore non valido"
    assert v["error_message"] == "Inserire un numero tra 0 e 1"

    d = doc.validation(SHEET, "C3")
    assert d["type"] == "DATE"
    assert d["operator"] == "BETWEEN"
    assert float(d["formula1"]) == (dt.date(2024, 1, 1) - dt.date(1899, 12, 30)).days

    assert doc.validation(SHEET, "A1")["type"] == "ANY"


@pytest.mark.libreoffice
def test_type_into_honours_protection(doc):
    assert doc.type_into(SHEET, "A1", "hacked") is False
    assert doc.get_value(SHEET, "A1") == "Titolo"

    assert doc.type_into(SHEET, "B2", "0.5") is True  # en-US profile: "." is the decimal separator
    assert doc.get_value(SHEET, "B2") == 0.5
    assert doc.type_into(SHEET, "B2", "0,5") is True  # ... and "0,5" is just text
    assert doc.get_value(SHEET, "B2") == "0,5"

    assert doc.type_into(SHEET, "C3", "2025-03-15") is True  # ISO dates are recognised
    assert doc.get_value(SHEET, "C3") == float((dt.date(2025, 3, 15) - dt.date(1899, 12, 30)).days)

    doc.unprotect(SHEET)
    assert doc.is_protected(SHEET) is False
    assert doc.type_into(SHEET, "A1", "ora si") is True
    assert doc.get_value(SHEET, "A1") == "ora si"


@pytest.mark.libreoffice
def test_typing_an_invalid_value_does_not_hang(doc):
    # EnterString bypasses data validation: the invalid value is accepted (no dialog, no hang) ...
    assert doc.type_into(SHEET, "B2", "5") is True
    assert doc.get_value(SHEET, "B2") == 5.0
    assert doc.is_invalid(SHEET, "B2") is True
    # ... unless the Stop alert is emulated
    assert doc.type_into(SHEET, "B2", "0.25", validate=True) is True
    assert doc.type_into(SHEET, "B2", "7", validate=True) is False
    assert doc.get_value(SHEET, "B2") == 0.25
    assert doc.type_into(SHEET, "C3", "2030-01-01", validate=True) is False
    assert doc.get_value(SHEET, "C3") is None


@pytest.mark.libreoffice
def test_mark_invalid_data(doc):
    assert doc.invalid_cells(SHEET) == 0
    doc.set_value(SHEET, "B2", 1.5)
    assert doc.invalid_cells(SHEET) == 1
    doc.set_value(SHEET, "B2", 0.5)
    assert doc.invalid_cells(SHEET) == 0
    doc.set_value(SHEET, "C3", dt.date(2023, 12, 31))
    assert doc.invalid_cells(SHEET) == 1
    doc.set_value(SHEET, "C3", dt.date(2024, 1, 1))
    assert doc.invalid_cells(SHEET) == 0


@pytest.mark.libreoffice
def test_formulas_and_values(doc):
    assert doc.get_formula(SHEET, "D4") == "=B2*2"
    doc.set_value(SHEET, "B2", 0.25)
    doc.recalc()
    assert doc.get_value(SHEET, "D4") == 0.5
    doc.set_value(SHEET, "E5", "=1/0")
    doc.set_value(SHEET, "E6", "=SQRT(-1)")
    doc.set_value(SHEET, "E7", '=B2&"x"')
    doc.set_value(SHEET, "E8", "testo")
    doc.recalc()
    assert doc.get_value(SHEET, "E5") == "#DIV/0!"
    assert doc.get_value(SHEET, "E6") == "Err:502"
    assert doc.is_error(SHEET, "E6") is True
    assert doc.get_value(SHEET, "E7") == "0.25x"
    assert doc.get_value(SHEET, "E8") == "testo"
    assert doc.get_value(SHEET, "Z99") is None


@pytest.mark.libreoffice
def test_structure_operations(doc):
    with pytest.raises(LibreOfficeError, match="protected"):
        doc.insert_rows(SHEET, 0, 2)
    doc.unprotect(SHEET)
    doc.insert_rows(SHEET, 0, 2)
    assert doc.get_formula(SHEET, "D6") == "=B4*2"
    assert doc.used_range(SHEET) == (5, 3)
    doc.rename_sheet(SHEET, "SA - Nuovo")
    assert doc.sheet_names() == ["SA - Nuovo", "Altro"]
    doc.remove_sheet("Altro")
    assert doc.sheet_names() == ["SA - Nuovo"]
    with pytest.raises(LibreOfficeError, match="no sheet named"):
        doc.get_value("Altro", "A1")


@pytest.mark.libreoffice
def test_save_as_and_input_untouched(office, book, tmp_path):
    before = _sha(book)
    out = tmp_path / "out"
    with office.open(book) as d:
        assert d.type_into(SHEET, "B2", "0.75") is True
        xlsx = d.save_as(out / "copy.xlsx", "xlsx")
        ods = d.save_as(out / "copy.ods", "ods")
        with pytest.raises(LibreOfficeError):
            d.save_as(book, "xlsx")
    assert _sha(book) == before
    assert sorted(p.name for p in book.parent.iterdir() if p.is_file()) == ["book.xlsx"]  # no lock files
    assert zipfile.is_zipfile(xlsx) and "xl/workbook.xml" in zipfile.ZipFile(xlsx).namelist()
    assert zipfile.is_zipfile(ods) and "content.xml" in zipfile.ZipFile(ods).namelist()
    for saved in (xlsx, ods):
        with office.open(saved) as d:
            assert d.get_value(SHEET, "B2") == 0.75
            assert d.is_protected(SHEET) is True
            assert d.cell_locked(SHEET, "B2") is False
            assert d.validation(SHEET, "B2")["type"] == "DECIMAL"
