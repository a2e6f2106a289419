"""The plan workbook filled in a real LibreOffice, by typing into the template as a person would.

The typed workbook (saved as .xlsx and .ods) must import as the plan of planbook_sample.EXPECTED_YAML;
broken variants (weights summing to 90, an objective pointing to a missing sector, a target that
cannot be interpreted, a duplicated indicator id) give findings naming sheet and cell.
"""

from __future__ import annotations

import pytest
from planbook_sample import EXPECTED_YAML, SAMPLE

from piao_xls.plan.load import check_plan
from piao_xls.plan.planbook import check_book, template_bytes
from piao_xls.plan.planfile import parse_plan

pytestmark = pytest.mark.libreoffice
FORMATS = ("xlsx", "ods")

# variant name -> (sheet, cell, typed text, text that restores the base plan or None when last)
VARIANTS = {
    "weights90": ("Obiettivi", "D2", "50", "60"),
    "missing_sector": ("Obiettivi", "A3", "ZZ", "SF"),
    "bad_target": ("Indicatori", "E2", "entro le tempistiche previste circa 30", "100%"),
}


def typed(value) -> str:
    return f"{value:g}" if isinstance(value, (int, float)) else str(value)


@pytest.fixture(scope="module")
def books(tmp_path_factory, libreoffice):
    """Saved workbooks: {name: {fmt: path}} for "good" and every broken variant; plus live values seen in LO."""
    tmp = tmp_path_factory.mktemp("lo-planbook")
    template = tmp / "piano.xlsx"
    template.write_bytes(template_bytes())
    out: dict = {"live": {}}

    def save(doc, name):
        out[name] = {fmt: doc.save_as(tmp / name / f"piano.{fmt}", fmt) for fmt in FORMATS}

    with libreoffice.open(template) as doc:
        out["validation"] = {"E2": doc.validation("Indicatori", "E2"), "F2": doc.validation("Indicatori", "F2")}
        for sheet, cells in SAMPLE.items():
            for cell, value in cells.items():
                assert doc.type_into(sheet, cell, typed(value)), f"typing into {sheet}!{cell} was refused"
        doc.recalc()
        out["live"]["good"] = {c: doc.get_value("Obiettivi", c) for c in ("M2", "N2", "M3", "N3", "M4")}
        out["live"]["target"] = doc.get_value("Indicatori", "E2")
        save(doc, "good")
        for name, (sheet, cell, text, restore) in VARIANTS.items():
            assert doc.type_into(sheet, cell, text)
            doc.recalc()
            out["live"][name] = doc.get_value("Obiettivi", "N2")
            save(doc, name)
            assert doc.type_into(sheet, cell, restore)
        assert doc.type_into("Indicatori", "Q2", "SF-1.1")
        assert doc.type_into("Indicatori", "Q3", "SF-1.1")
        save(doc, "duplicate_id")
    return out


def _plan_or_fail(path):
    plan, findings = check_book(path)
    assert plan is not None, [str(f) for f in findings]
    return plan, findings


def test_template_shows_input_messages_and_dropdowns(books):
    e2, f2 = books["validation"]["E2"], books["validation"]["F2"]
    assert e2["show_input"] and "target" in e2["input_title"].lower() and "100%" in e2["input_message"]
    assert f2["type"] == "LIST" and "scadenza" in f2["formula1"]


def test_live_weight_totals(books):
    live = books["live"]["good"]
    assert (live["M2"], live["N2"], live["M3"], live["N3"]) == ("SF", 100, "ST", 100)
    assert live["M4"] in ("", None)  # no third sector
    assert books["live"]["weights90"] == 90
    assert books["live"]["target"] == "100%"  # typed into a text column: stays text, not 1 (100%)


@pytest.mark.parametrize("fmt", FORMATS)
def test_typed_workbook_imports_as_the_plan(books, fmt):
    plan, findings = _plan_or_fail(books["good"][fmt])
    expected, _ = parse_plan(EXPECTED_YAML)
    assert plan.canonical() == expected.canonical()
    assert plan.fingerprint == expected.fingerprint
    assert [f.code for f in findings] == []
    assert check_plan(books["good"][fmt])[0].fingerprint == expected.fingerprint  # every command accepts it


def _only(path, code):
    plan, findings = check_book(path)
    assert plan is None
    found = [f for f in findings if f.code == code]
    assert len(found) == 1, [str(f) for f in findings]
    return found[0], findings


@pytest.mark.parametrize("fmt", FORMATS)
def test_weights_summing_to_90(books, fmt):
    f, _ = _only(books["weights90"][fmt], "PLAN-WEIGHTS")
    assert (f.sheet, f.cell) == ("Obiettivi", "N2")  # the live total of SF, red in the workbook
    assert "sommano 90 invece di 100" in f.message and "mancano 10" in f.message


@pytest.mark.parametrize("fmt", FORMATS)
def test_objective_pointing_to_a_missing_sector(books, fmt):
    plan, findings = check_book(books["missing_sector"][fmt])
    assert plan is None
    refs = {(f.sheet, f.cell): f.message for f in findings if f.code == "PLAN-REFERENCE"}
    # the objective's sector, and its indicator, which still points to objective 2 of SF
    assert set(refs) == {("Obiettivi", "A3"), ("Indicatori", "B4")}
    assert "'ZZ'" in refs[("Obiettivi", "A3")] and "Settori" in refs[("Obiettivi", "A3")]
    assert "non ha l'obiettivo numero 2" in refs[("Indicatori", "B4")]
    weights = next(f for f in findings if f.code == "PLAN-WEIGHTS")
    assert (weights.sheet, weights.cell) == ("Obiettivi", "N2") and "sommano 60" in weights.message


@pytest.mark.parametrize("fmt", FORMATS)
def test_target_that_cannot_be_interpreted(books, fmt):
    f, _ = _only(books["bad_target"][fmt], "PLAN-TARGET")
    assert (f.sheet, f.cell) == ("Indicatori", "E2")
    assert "entro le tempistiche" in f.message


@pytest.mark.parametrize("fmt", FORMATS)
def test_duplicated_indicator_id(books, fmt):
    f, _ = _only(books["duplicate_id"][fmt], "PLAN-DUPLICATE-ID")
    assert (f.sheet, f.cell) == ("Indicatori", "Q3")
    assert "la prima a 'Indicatori'!Q2" in f.message


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_target_stored_as_a_formula_is_read_as_its_author_sees_it(libreoffice, tmp_path, fmt):
    """A Target cell that holds a formula (pasted from another workbook: the template formats the column as text,
    so keys typed there give the text "=90%", which the grammar reads as «pari a 90%», as any "= 5"): the import
    reads what was written and says so (PLAN-TARGET-FORMULA)."""
    template = tmp_path / "piano.xlsx"
    template.write_bytes(template_bytes())
    with libreoffice.open(template) as doc:
        for sheet, cells in SAMPLE.items():
            for cell, value in cells.items():
                assert doc.type_into(sheet, cell, typed(value))
        doc.set_value("Indicatori", "E2", "=90%")  # a formula, as a paste brings it
        doc.recalc()
        assert doc.get_value("Indicatori", "E2") == pytest.approx(0.9)
        good = doc.save_as(tmp_path / f"good.{fmt}", fmt)
        doc.set_value("Indicatori", "E2", "=45.000")
        doc.recalc()
        assert doc.get_value("Indicatori", "E2") == pytest.approx(45)
        bad = doc.save_as(tmp_path / f"bad.{fmt}", fmt)
    plan, findings = check_book(good)
    assert plan is not None, [str(f) for f in findings]
    ind = plan.indicators[0]
    assert (ind.target_text, ind.rule.kind, ind.rule.target) == ("90%", "at_least", 0.9)
    (warn,) = [f for f in findings if f.code == "PLAN-TARGET-FORMULA"]
    assert (warn.sheet, warn.cell) == ("Indicatori", "E2")
    # "=45.000" is computed as 45 here (en-US): the file keeps the formula as the spreadsheet rewrote it, and the
    # value it shows; what is read is what the author sees, 45 (a formula whose text and value disagree is
    # refused: tests/test_planbook.py), and the warning quotes the formula
    plan, findings = check_book(bad)
    assert plan is not None, [str(f) for f in findings]
    assert plan.indicators[0].rule.target == 45.0
    (warn,) = [f for f in findings if f.code == "PLAN-TARGET-FORMULA"]
    assert warn.cell == "E2" and "«=45" in warn.message
