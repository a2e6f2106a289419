"""The error model: one location value, quoted as Excel quotes it, one serialisation."""

from __future__ import annotations

import json

import pytest

from piao_xls.core.errors import ERROR, WARNING, Finding, Location, quote_sheet


@pytest.mark.parametrize(("sheet", "cell", "ref"), [
    ("SF - Finanziario", "F87", "'SF - Finanziario'!F87"),
    ("Sett. dell'Ufficio", "B2", "'Sett. dell''Ufficio'!B2"),  # Excel doubles an apostrophe
    ("O''Brien", None, "'O''''Brien'"),
])
def test_location_quotes_sheet_names_as_excel_does(sheet, cell, ref):
    assert Location(file="x.xlsx", sheet=sheet, cell=cell).ref == ref
    assert str(Location(file="x.xlsx", sheet=sheet, cell=cell)) == f"x.xlsx: {ref}"
    assert quote_sheet(sheet) == ref.split("!")[0]


def test_location_of_a_plan_line_and_in_words():
    assert str(Location(file="plan.yaml", line=12)) == "plan.yaml:12"
    assert Location(sheet="SA", cell="E5").italian() == "foglio «SA», cella E5"
    assert Location(file="plan.yaml", line=3).italian() == "riga 3"
    assert Location().italian() == "" and str(Location()) == ""


def test_one_serialisation_for_every_finding():
    f = Finding("WB-VALUE", ERROR, "valore non valido", file="a.xlsx", sheet="Nell'area", cell="E9")
    d = f.to_dict(sector="SF")
    assert d["ref"] == "'Nell''area'!E9" and d["where"] == "foglio «Nell'area», cella E9" and d["sector"] == "SF"
    assert json.loads(json.dumps(d)) == d
    assert str(f) == "a.xlsx: 'Nell''area'!E9: errore WB-VALUE: valore non valido"


def test_unknown_codes_and_severities_are_refused():
    with pytest.raises(ValueError, match="unknown finding code"):
        Finding("WB-NOPE", ERROR, "x")
    with pytest.raises(ValueError, match="unknown severity"):
        Finding("WB-VALUE", "fatal", "x")
    assert Finding("WB-VALUE", WARNING, "x").severity == "warning"


def test_a_consolidation_keeps_its_findings_as_objects(bundled_dir, plan):
    from piao_xls.results.consolidate import consolidate

    c = consolidate([bundled_dir], plan)  # the forms as generated: every value missing
    assert c.found and all(isinstance(f, Finding) for f in c.found)
    missing = next(f for f in c.found if f.code == "WB-MISSING")
    assert missing.sector and missing.sheet and missing.cell
    row = c.findings[c.found.index(missing)]  # the rows of summary, JSON and CSV come from the objects
    assert row == {**missing.to_dict(), "sector": missing.sector, "file": missing.file}
    assert "sector" not in Finding("WB-VALUE", ERROR, "x").to_dict()  # outside a consolidation: no sector key
