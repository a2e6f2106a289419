"""Round trip through real LibreOffice: generate, fill as a user, save (.xlsx and .ods), check, consolidate.

Scores are compared with the hand-computed expectations in scenario.py.
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import date

import pytest
from libreoffice import require_program
from scenario import (
    NUCLEO_VALUES,
    SF_ANALYSES,
    SF_EXPECTED_BAND,
    SF_EXPECTED_POINTS,
    SF_EXPECTED_SCORE,
    SF_EXPECTED_SCORE_WITHOUT_NUCLEO,
    SF_VALUES,
)

from piao_xls.forms.layout import sector_workbook, source_workbook
from piao_xls.results.consolidate import consolidate
from piao_xls.returns.reader import ACCEPTED, REJECTED, read_workbook

pytestmark = pytest.mark.libreoffice
SHEET = "SF - Finanziario"


def typed(value) -> str:
    """What a person types for a value (the test profile is en-US)."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and abs(value) <= 1 and value not in (0.0,) and value != -3.0:
        return f"{value * 100:g}%"
    return f"{value:g}" if isinstance(value, float) else str(value)


def fill_by_typing(doc, sheet: str, layout, values: dict) -> None:
    for key, value in values.items():
        cell = layout.inputs[key].ref
        assert doc.type_into(sheet, cell, typed(value)), f"typing into {sheet}!{cell} was refused"


@pytest.fixture(scope="module")
def returned(tmp_path_factory, bundled_dir, libreoffice, plan):
    """The SF and Nucleo workbooks filled by typing in LibreOffice, saved as .xlsx and .ods."""
    out = tmp_path_factory.mktemp("returned")
    sf_layout = sector_workbook(plan, plan.sector("SF")).sheets[1]
    nucleo_layout = source_workbook(plan, "nucleo").sheets[1]
    with libreoffice.open(bundled_dir / "PIAO-2025-SF-Finanziario.xlsx") as doc:
        fill_by_typing(doc, SHEET, sf_layout, {**SF_VALUES, **SF_ANALYSES})
        doc.save_as(out / "xlsx" / "PIAO-2025-SF-Finanziario.xlsx", "xlsx")
        doc.save_as(out / "ods" / "PIAO-2025-SF-Finanziario.ods", "ods")
    with libreoffice.open(bundled_dir / "PIAO-2025-Nucleo.xlsx") as doc:
        fill_by_typing(doc, nucleo_layout.name, nucleo_layout, NUCLEO_VALUES)
        doc.save_as(out / "xlsx" / "PIAO-2025-Nucleo.xlsx", "xlsx")
        doc.save_as(out / "ods" / "PIAO-2025-Nucleo.ods", "ods")
    return out


@pytest.mark.parametrize("fmt", ["xlsx", "ods"])
def test_typed_workbook_is_accepted_and_read_exactly(returned, plan, fmt):
    res = read_workbook(returned / fmt / f"PIAO-2025-SF-Finanziario.{fmt}", plan)
    assert res.status == ACCEPTED, [str(f) for f in res.findings]
    vals = res.sectors["SF"].values
    assert vals["SF-1.1"]["value"] == pytest.approx(0.90, abs=1e-12)
    assert vals["SF-1.2"]["date"] == date(2025, 11, 15)
    assert vals["SF-4.1"]["value"] == -3.0
    assert vals["SF-6.1"] == {"numerator": 150000.0, "denominator": 200000.0}
    assert res.sectors["SF"].texts["SF-6.1|analisi"] == SF_ANALYSES["SF-6.1|analisi"]


def test_a_workbook_saved_by_libreoffice_is_scanned_and_read_as_the_tree_reads_it(returned, monkeypatch):
    """LibreOffice writes <sheetData> the usual way: the one parse takes every sheet of its .xlsx with the scan
    (no tree), and the cells are the ones the row walk of the tree reads."""
    from piao_xls.sheetio import book as bookmod
    from piao_xls.sheetio.safeopen import open_package

    path = returned / "xlsx" / "PIAO-2025-SF-Finanziario.xlsx"
    package = open_package(path.read_bytes(), path.name, extent=False)
    areas = {s.name: (600, 10) for s in bookmod.read_book(package, {}).sheets}
    scanned: list[bool] = []
    with monkeypatch.context() as m:
        m.setattr(bookmod, "_xlsx_scan", lambda *a, scan=bookmod._xlsx_scan: scanned.append(scan(*a)) or scanned[-1])
        m.setattr(bookmod, "_xlsx_rows", lambda *_: pytest.fail("a sheet was read through the tree"))
        book = bookmod.read_book(package, areas)
    assert scanned == [True] * len(areas)

    def cells(b):
        return [(s.name, s.outside, {k: (c.value, c.formula, c.error, c.style) for k, c in s.cells.items()})
                for s in b.sheets]

    with monkeypatch.context() as m:
        m.setattr(bookmod, "_xlsx_scan", lambda *_: False)
        assert cells(bookmod.read_book(package, areas)) == cells(book)
    assert any(c.formula for s in book.sheets for c in s.cells.values())  # LibreOffice's <f aca="false">


@pytest.mark.parametrize("fmt", ["xlsx", "ods"])
def test_consolidated_scores_equal_hand_computation(returned, plan, fmt):
    c = consolidate([returned / fmt], plan)
    sf = next(s for s in c.sectors if s["code"] == "SF")
    assert sf["status"] == "scored", [f for f in c.findings if f["sector"] in ("SF", "")]
    assert sf["score"] == pytest.approx(SF_EXPECTED_SCORE, abs=1e-9)
    assert sf["band"] == SF_EXPECTED_BAND
    pts = {o["objective"]: o["points"] for o in c.objectives if o["sector"] == "SF"}
    assert pts == pytest.approx(SF_EXPECTED_POINTS, abs=1e-9)
    missing = {s["code"] for s in c.sectors if s["status"] == "not_received"}
    assert missing == {"SA", "ST", "AV"}


def test_without_the_nucleo_workbook_its_indicator_is_not_reported(returned, plan, tmp_path):
    shutil.copy(returned / "xlsx" / "PIAO-2025-SF-Finanziario.xlsx", tmp_path)
    c = consolidate([tmp_path], plan)
    sf = next(s for s in c.sectors if s["code"] == "SF")
    assert sf["score"] == pytest.approx(SF_EXPECTED_SCORE_WITHOUT_NUCLEO, abs=1e-9)
    assert sf["status"] == "scored_with_issues"
    assert any(f["code"] == "WB-NOT-RECEIVED" and f["sector"] == "SF" for f in c.findings)


@pytest.mark.parametrize("fmt", ["xlsx", "ods"])
def test_values_pasted_past_validation_are_all_found(bundled_dir, libreoffice, plan, tmp_path, fmt):
    """The cell API bypasses validation, as pasting does: every bad value must be caught on return,
    and the formula typed into an input is flagged in both formats."""
    layout = sector_workbook(plan, plan.sector("SF")).sheets[1]
    bad = {
        "SF-1.1|value": "circa 80",          # text in a percent cell
        "SF-4.2|value": 1.5,                # 150% of a share (at most 100%)
        "SF-1.2|date": date(2031, 1, 1),    # outside the plan year +- 1
        "SF-6.1|numerator": -10.0,          # negative amount
        "SF-7.1|value": "=1/0",             # a formula giving #DIV/0!
    }
    with libreoffice.open(bundled_dir / "PIAO-2025-SF-Finanziario.xlsx") as doc:
        plain = {**SF_ANALYSES, "SF-6.1|analisi": "accertamenti in corso"}  # the cell API would make "=..." a formula
        for key, value in {**SF_VALUES, **plain, **bad}.items():
            doc.set_value(SHEET, layout.inputs[key].ref, value)
        doc.recalc()
        path = doc.save_as(tmp_path / f"pasted.{fmt}", fmt)
    res = read_workbook(path, plan)
    assert res.status == REJECTED
    flagged = {f.cell for f in res.findings if f.code == "WB-VALUE" and f.severity == "error"}
    assert flagged == {layout.inputs[k].ref for k in bad}
    assert any(f.code == "WB-FORMULA" and f.cell == layout.inputs["SF-7.1|value"].ref for f in res.findings)
    for key in bad:
        ind, name = key.split("|")
        assert res.sectors["SF"].values[ind][name] is None


def test_tampering_in_libreoffice(bundled_dir, libreoffice, plan, tmp_path):
    layout = sector_workbook(plan, plan.sector("SF")).sheets[1]
    target = next(c for c in layout.labels if c.value == "90% ≤ x ≤ 100%")
    with libreoffice.open(bundled_dir / "PIAO-2025-SF-Finanziario.xlsx") as doc:
        assert not doc.type_into(SHEET, target.ref, "50%")  # protected: refused
        doc.unprotect(SHEET)
        assert doc.type_into(SHEET, target.ref, "50%")
        edited = doc.save_as(tmp_path / "edited.xlsx", "xlsx")
        doc.insert_rows(SHEET, 20, 1)
        inserted = doc.save_as(tmp_path / "inserted.xlsx", "xlsx")
    res = read_workbook(edited, plan)
    assert res.status == REJECTED and any(f.code == "WB-TAMPERED" and f.cell == target.ref for f in res.findings)
    res2 = read_workbook(inserted, plan)
    assert res2.status == REJECTED and "SF" not in res2.sectors
    with libreoffice.open(bundled_dir / "PIAO-2025-Truccazzano.xlsx") as doc:
        doc.rename_sheet("ST - Tecnico", "Tecnico")
        doc.remove_sheet("AV - Polizia Locale")
        renamed = doc.save_as(tmp_path / "renamed.xlsx", "xlsx")
    res3 = read_workbook(renamed, plan)
    sheets = {f.sheet for f in res3.findings if f.code == "WB-TAMPERED"}
    assert {"Tecnico", "ST - Tecnico", "AV - Polizia Locale"} <= sheets


def test_file_resaved_by_gnumeric_reads_correctly(returned, plan, tmp_path):
    require_program("ssconvert", "gnumeric")
    src = returned / "xlsx" / "PIAO-2025-SF-Finanziario.xlsx"
    dst = tmp_path / "PIAO-2025-SF-Finanziario.xlsx"
    subprocess.run(["ssconvert", str(src), str(dst)], check=True, capture_output=True, timeout=120)
    res = read_workbook(dst, plan)
    assert "SF" in res.sectors, [str(f) for f in res.findings]
    assert res.sectors["SF"].values["SF-6.1"] == {"numerator": 150000.0, "denominator": 200000.0}
    assert not [f for f in res.findings if f.severity == "error"], [str(f) for f in res.findings]


@pytest.mark.parametrize("null_date", [date(1899, 12, 30), date(1904, 1, 1)], ids=["1900", "1904"])
def test_both_date_systems_are_read_as_libreoffice_shows_them(bundled_dir, libreoffice, plan, tmp_path, null_date):
    """A workbook set to the 1904 date system (saved by LibreOffice with <workbookPr date1904="true"/>): a date
    typed as 15/11/2025 is read as 15/11/2025, not four years earlier; the score is the 1900 file's."""
    import zipfile

    sf_layout = sector_workbook(plan, plan.sector("SF")).sheets[1]
    with libreoffice.open(bundled_dir / "PIAO-2025-SF-Finanziario.xlsx") as doc:
        doc.set_null_date(null_date)
        fill_by_typing(doc, SHEET, sf_layout, {**SF_VALUES, **SF_ANALYSES})
        assert doc.get_string(SHEET, sf_layout.inputs["SF-1.2|date"].ref) == "15/11/2025"  # what the user sees
        path = doc.save_as(tmp_path / "PIAO-2025-SF-Finanziario.xlsx", "xlsx")
    with zipfile.ZipFile(path) as z:
        workbook = z.read("xl/workbook.xml").decode()
    assert ('date1904="true"' in workbook or 'date1904="1"' in workbook) == (null_date.year == 1904), workbook
    res = read_workbook(path, plan)
    assert res.status == ACCEPTED, [str(f) for f in res.findings]
    assert res.sectors["SF"].values["SF-1.2"]["date"] == date(2025, 11, 15)
    c = consolidate([path], plan)
    sf = next(s for s in c.sectors if s["code"] == "SF")
    assert sf["score"] is not None
