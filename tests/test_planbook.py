"""The plan workbook (piao_xls.plan.planbook): template, export, import, round trip, findings naming sheet and cell.

Fast tests: workbooks are filled with openpyxl (no LibreOffice; see test_lo_planbook.py for that).
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from planbook_sample import EXPECTED_YAML, SAMPLE

from piao_xls.cli import cli
from piao_xls.core.errors import CODES
from piao_xls.core.model import Rule
from piao_xls.plan.load import check_plan
from piao_xls.plan.planbook import (
    INDICATORI,
    OBIETTIVI,
    PUNTEGGIO,
    SHEETS,
    TABLES,
    check_book,
    export_bytes,
    plan_to_yaml,
    read_book,
    template_bytes,
)
from piao_xls.plan.planfile import parse_plan


def codes(findings, severity="error"):
    return sorted(f.code for f in findings if f.severity == severity)


def only(findings, code):
    found = [f for f in findings if f.code == code]
    assert len(found) == 1, [str(f) for f in findings]
    return found[0]


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    p = tmp_path_factory.mktemp("book") / "piano.xlsx"
    p.write_bytes(template_bytes())
    return p


def fill(template, tmp_path, changes: dict | None = None, name: str = "filled.xlsx"):
    """The template filled with SAMPLE (then ``changes``: sheet -> cell -> value, None clears)."""
    wb = openpyxl.load_workbook(template)
    for sheet, cells in [*SAMPLE.items(), *(changes or {}).items()]:
        for cell, value in cells.items():
            wb[sheet][cell].value = value
    out = tmp_path / name
    wb.save(out)
    return out


def expected_plan():
    plan, findings = parse_plan(EXPECTED_YAML, "expected.yaml")
    assert plan is not None, [str(f) for f in findings]
    return plan


# --- round trip ------------------------------------------------------------------------------------


def test_export_then_import_gives_the_same_plan(plan, tmp_path):
    p = tmp_path / "piano.xlsx"
    p.write_bytes(export_bytes(plan))
    again, findings = check_book(p)
    assert again is not None, [str(f) for f in findings if f.severity == "error"]
    assert again.canonical() == plan.canonical()
    assert again.fingerprint == plan.fingerprint
    # the explicit rule of AV-9.2 (its printed target holds two dates) survives
    av92 = next(i for i in again.indicators if i.id == "AV-9.2")
    assert av92.rule == Rule("deadline", unit="date", deadline=date(2025, 12, 31))
    assert av92.target_text == next(i for i in plan.indicators if i.id == "AV-9.2").target_text
    # the same warnings as the YAML, now naming sheet and cell
    _, yaml_findings = check_plan(plan.source)
    assert codes(findings, "warning") == codes(yaml_findings, "warning")
    assert all(f.sheet and f.cell and f.line is None for f in findings)


def test_scoring_precision_survives_export_and_import(plan, tmp_path):
    from pathlib import Path

    text = Path(plan.source).read_text(encoding="utf-8").replace("scoring: {}", 'scoring: {precision: 3, threshold: "50%"}')
    custom, findings = parse_plan(text, "p.yaml")
    assert custom is not None and custom.scoring.precision == 3, [str(f) for f in findings]
    p = tmp_path / "piano.xlsx"
    p.write_bytes(export_bytes(custom))
    again, findings = check_book(p)
    assert again is not None, [str(f) for f in findings if f.severity == "error"]
    assert again.scoring.precision == 3 and again.fingerprint == custom.fingerprint != plan.fingerprint
    again_yaml, _ = parse_plan(plan_to_yaml(custom, header="# t"), "t.yaml")
    assert again_yaml.fingerprint == custom.fingerprint


def test_export_is_deterministic(plan):
    assert export_bytes(plan) == export_bytes(plan)


def test_yaml_written_by_import_loads_as_the_same_plan(plan):
    text = plan_to_yaml(plan, header="# test")
    assert text.startswith("# test\n")
    again, findings = parse_plan(text)
    assert again is not None, [str(f) for f in findings]
    assert again.fingerprint == plan.fingerprint
    assert "rule:" in text and text.count("rule:") == 1  # only AV-9.2 needs an explicit rule


def test_texts_are_written_as_strings_never_formulas(tmp_path):
    text = EXPECTED_YAML.replace("title: TRASPARENZA", 'title: "=1+1"').replace(
        "stakeholder: Cittadini", 'stakeholder: "@SUM(A1)"')
    plan, _ = parse_plan(text)
    p = tmp_path / "p.xlsx"
    p.write_bytes(export_bytes(plan))
    ws = openpyxl.load_workbook(p)["Obiettivi"]
    assert (ws["C2"].value, ws["C2"].data_type) == ("=1+1", "s")
    assert ws["E2"].data_type == "s"
    assert check_book(p)[0].fingerprint == plan.fingerprint


# --- the template ----------------------------------------------------------------------------------


def test_template_sheets_headers_and_helps(template):
    wb = openpyxl.load_workbook(template)
    assert wb.sheetnames == ["Istruzioni", *SHEETS]
    assert SHEETS == ("Ente", "Settori", "Uffici", "Personale", "Attività", "Obiettivi", "Modalità", "Indicatori",
                      "Punteggio")
    assert "Come compilare" in [c.value for c in wb["Istruzioni"]["A"]]
    for t in TABLES:
        ws = wb[t.sheet]
        for j, c in enumerate(t.columns):
            if t.fields:
                assert ws.cell(j + 2, t.first_col + 1).value == c.header
            else:
                assert ws.cell(1, t.first_col + j + 1).value == c.header
    dv = {str(d.sqref).split(":")[0]: d for d in wb["Indicatori"].data_validations.dataValidation}
    assert dv["A2"].type == "list" and dv["A2"].formula1.startswith("Settori!$A$2")
    assert dv["F2"].type == "list" and "scadenza" in dv["F2"].formula1 and "intervallo" in dv["F2"].formula1
    assert dv["O2"].type == "list" and "nucleo" in dv["O2"].formula1
    assert dv["C2"].type == "list" and dv["C2"].showErrorMessage is False  # profilo: a suggestion, not a rule
    assert "target" in dv["E2"].promptTitle.lower() and dv["E2"].prompt
    obj = wb["Obiettivi"]
    assert obj["L1"].value == "Missione/programma DUP"  # format 3: in the column that was left empty
    assert obj["N1"].value == "Totale pesi %"
    assert obj["N2"].value == '=IF($M2="","",SUMIF($A:$A,$M2,$D:$D))'
    assert obj["M2"].value == '=IF(Settori!$A2="","",Settori!$A2)'
    rules = [r for rng in obj.conditional_formatting for r in rng.rules]
    # red unless 100 (or 1: fractions), never for coefficients
    assert any(r.formula[0] == 'AND($M2<>"",Punteggio!$B$5<>"coefficienti",ABS(N2-100)>0.000001,ABS(N2-1)>0.000001)'
               for r in rules)


def test_template_bounds_are_written_as_the_column_shows_its_numbers(template):
    """The error message of a bounded number column states its bounds in Italian, as the column shows its
    numbers: a year as 2025, a percentage as 0%-100%, a larger number with "." between thousands, never 1e+15."""
    wb = openpyxl.load_workbook(template)
    messages = {dv.error for ws in wb for dv in ws.data_validations.dataValidation
                if dv.type in ("whole", "decimal") and dv.error}
    assert "Scrivere un numero intero tra 2000 e 2100." in messages  # the year of a baseline
    assert "Scrivere un numero tra 0% e 100%." in messages  # a share: the threshold of a gate
    assert "Scrivere un numero tra 0 e 10.000." in messages  # staff units
    assert not [m for m in messages if "e+" in m or re.search(r"\d,\d{3}\b", m)], messages


def test_template_helps_fit_excel_limits():
    for t in TABLES:
        for c in t.columns:
            assert len(c.header) <= 255 and len(c.help) <= 255, c.key


def test_empty_template_names_the_missing_cells(template):
    plan, findings = check_book(template)
    assert plan is None
    where = {(f.sheet, f.cell) for f in findings if f.code == "PLAN-SCHEMA"}
    assert ("Ente", "B2") in where  # comune
    assert ("Ente", "B3") in where  # year
    assert ("Settori", "A2") in where  # no sectors


# --- a filled template -----------------------------------------------------------------------------


def test_filled_template_imports_as_the_expected_plan(template, tmp_path):
    plan, findings = check_book(fill(template, tmp_path))
    assert plan is not None, [str(f) for f in findings]
    assert plan.fingerprint == expected_plan().fingerprint
    rules = {i.id: i.rule for i in plan.indicators}
    assert rules["SF-1.1"] == Rule("at_least", unit="percent", target=1.0)
    assert rules["SF-1.2"] == Rule("deadline", unit="date", deadline=date(2026, 11, 30))
    assert rules["SF-2.1"].kind == "fraction"
    assert rules["ST-1.2"] == Rule("range", unit="percent", low=0.9, high=1.0)
    assert plan.sector("ST").indicators[1].weight == 2


def test_check_plan_and_cli_accept_a_workbook(template, tmp_path):
    book = fill(template, tmp_path)
    plan, _ = check_plan(book)  # dispatch on the suffix
    assert plan is not None and plan.comune == "Esempio"
    r = CliRunner().invoke(cli, ["plan", "check", str(book), "--verbose"])
    assert r.exit_code == 0, r.output
    assert "SF-1.2: 'Novembre' -> entro il 30/11/2026" in r.output


def test_explicit_rule_accepts_english_keys(template, tmp_path):
    book = fill(template, tmp_path, {"Indicatori": {"F6": "range", "G6": "PERCENT"}})
    plan, findings = check_book(book)
    assert plan is not None, [str(f) for f in findings]
    assert plan.fingerprint == expected_plan().fingerprint


def test_blank_row_between_rows_is_ignored(template, tmp_path):
    moved = {"Indicatori": {c: None for c in ("A6", "B6", "C6", "D6", "E6", "F6", "G6", "J6", "K6", "P6")}}
    moved["Indicatori"].update({"A9": "ST", "B9": 1, "C9": "Qualità", "D9": "Sopralluoghi eseguiti",
                                "E9": "dal 90% al 100% dei sopralluoghi", "F9": "intervallo", "G9": "percentuale",
                                "J9": 0.9, "K9": 1, "P9": 2})
    plan, findings = check_book(fill(template, tmp_path, moved))
    assert plan is not None, [str(f) for f in findings]
    assert plan.fingerprint == expected_plan().fingerprint


# --- broken workbooks: findings name sheet and cell ------------------------------------------------


def test_weights_summing_to_90(template, tmp_path):
    plan, findings = check_book(fill(template, tmp_path, {"Obiettivi": {"D2": 50}}))
    assert plan is None
    f = only(findings, "PLAN-WEIGHTS")
    # no cached formula values (openpyxl): reported at the sector's first weight cell
    assert (f.sheet, f.cell) == ("Obiettivi", "D2")
    assert "90" in f.message and "SF" in f.message
    assert str(f).startswith(f"{f.file}: 'Obiettivi'!D2: errore PLAN-WEIGHTS")


def test_objective_pointing_to_a_missing_sector(template, tmp_path):
    plan, findings = check_book(fill(template, tmp_path, {"Obiettivi": {"A3": "ZZ"},
                                                           "Indicatori": {"A4": "ZZ"}}))
    assert plan is None
    f = only(findings, "PLAN-REFERENCE")  # the indicator of the orphan objective is not reported again
    assert (f.sheet, f.cell) == ("Obiettivi", "A3")
    assert "'ZZ'" in f.message and "Settori" in f.message
    assert "PLAN-REFERENCE" in CODES
    # and the SF weights now total 60
    assert "60" in only(findings, "PLAN-WEIGHTS").message


def test_indicator_pointing_to_a_missing_objective(template, tmp_path):
    plan, findings = check_book(fill(template, tmp_path, {"Indicatori": {"B3": 7}}))
    assert plan is None
    f = only(findings, "PLAN-REFERENCE")
    assert (f.sheet, f.cell) == ("Indicatori", "B3")
    assert "numero 7" in f.message and "«N. obiettivo»" in f.message


def test_target_that_cannot_be_interpreted(template, tmp_path):
    text = "entro le tempistiche previste circa 30"
    plan, findings = check_book(fill(template, tmp_path, {"Indicatori": {"E2": text}}))
    assert plan is None
    f = only(findings, "PLAN-TARGET")
    assert (f.sheet, f.cell) == ("Indicatori", "E2")
    assert "colonna «Regola (facoltativa)»" in f.message and "rule" not in f.message  # no YAML syntax


def test_duplicated_indicator_id(template, tmp_path):
    q = INDICATORI.index("id")
    assert q == 16  # column Q
    plan, findings = check_book(fill(template, tmp_path, {"Indicatori": {"Q2": "SF-1.1", "Q3": "SF-1.1"}}))
    assert plan is None
    f = only(findings, "PLAN-DUPLICATE-ID")
    assert (f.sheet, f.cell) == ("Indicatori", "Q3")
    assert "la prima a 'Indicatori'!Q2" in f.message


def test_rule_without_its_values_names_the_missing_cell(template, tmp_path):
    _, findings = check_book(fill(template, tmp_path, {"Indicatori": {"K6": None}}))
    f = only(findings, "PLAN-RULE")
    assert (f.sheet, f.cell) == ("Indicatori", "K6")
    assert "richiede un valore nella colonna «Massimo» del foglio Indicatori" in f.message


def test_unknown_rule_kind_and_wrong_number(template, tmp_path):
    _, findings = check_book(fill(template, tmp_path, {"Indicatori": {"F6": "tra"}, "Obiettivi": {"D3": "quaranta"}}))
    assert (only(findings, "PLAN-RULE").sheet, only(findings, "PLAN-RULE").cell) == ("Indicatori", "F6")
    schema = [f for f in findings if f.code == "PLAN-SCHEMA"]
    assert any(f.cell == "D3" and "quaranta" in f.message for f in schema)


def test_missing_required_cell(template, tmp_path):
    _, findings = check_book(fill(template, tmp_path, {"Obiettivi": {"C4": None}, "Settori": {"D3": None}}))
    where = {(f.sheet, f.cell) for f in findings if f.code == "PLAN-SCHEMA"}
    assert ("Obiettivi", "C4") in where  # title
    assert ("Settori", "D3") in where  # the Responsabile's name


def test_renamed_sheet_and_header(template, tmp_path):
    wb = openpyxl.load_workbook(fill(template, tmp_path))
    wb["Modalità"].title = "Fasi"
    wb["Obiettivi"]["D1"].value = "Peso"
    p = tmp_path / "renamed.xlsx"
    wb.save(p)
    plan, findings = check_book(p)
    assert plan is None
    msgs = {(f.sheet, f.cell): f.message for f in findings if f.code == "PLAN-SCHEMA"}
    assert "non ha il foglio «Modalità»" in msgs[("Modalità", None)]
    assert "«Peso %»" in msgs[("Obiettivi", "A1")]


def test_not_a_workbook(tmp_path):
    p = tmp_path / "piano.xlsx"
    p.write_text("not a zip")
    plan, findings = check_plan(p)
    assert plan is None and codes(findings) == ["PLAN-SCHEMA"]
    assert "impossibile leggere" in findings[0].message


def test_read_book_where_mapping(template, tmp_path):
    data, where, findings = read_book(fill(template, tmp_path))
    assert findings == []
    rule = data["sectors"][1]["objectives"][0]["indicators"][0]["rule"]
    assert rule == {"kind": "deadline", "deadline": "2026-12-31"}  # the Italian label read back as the key
    assert where[("sectors", 0, "objectives", 1, "weight")] == ("Obiettivi", "D3")
    assert where[("sectors", 1, "objectives", 0, "indicators", 1, "rule", "low")] == ("Indicatori", "J6")
    assert OBIETTIVI.index("weight") == 3


# --- command line ----------------------------------------------------------------------------------


def test_cli_template_export_import(tmp_path, plan):
    run = CliRunner().invoke
    book = tmp_path / "piano.xlsx"
    r = run(cli, ["plan", "template", "-o", str(book)])
    assert r.exit_code == 0 and book.exists(), r.output
    r = run(cli, ["plan", "template", "-o", str(book)])
    assert r.exit_code != 0 and "--force" in r.output  # never overwrites silently
    r = run(cli, ["plan", "export", "-o", str(book), "--force"])
    assert r.exit_code == 0, r.output
    assert plan.fingerprint[:16] in r.output
    out = tmp_path / "piano.yaml"
    r = run(cli, ["plan", "import", str(book), "-o", str(out)])
    assert r.exit_code == 0, r.output
    # interpretations shown
    assert "AV-9.2: '31/12/2025 31/12/2023' -> entro il 31/12/2025 [regola esplicita]" in r.output
    assert "SF-6.1: 'Accertamento del 100% delle somme stanziate nel Bilancio 2025' -> rapporto" in r.output
    assert "-> rapporto numeratore/denominatore almeno 100%" in r.output
    again, _ = check_plan(out)
    assert again.fingerprint == plan.fingerprint
    r = run(cli, ["plan", "import", str(book), "-o", str(out)])
    assert r.exit_code == 0, r.output  # a file written by `plan import` may be replaced
    r = run(cli, ["plan", "import", str(book), "-o", str(plan.source)])
    assert r.exit_code != 0 and "--force" in r.output  # a hand-written plan is not


def test_cli_import_with_errors_writes_nothing(template, tmp_path):
    book = fill(template, tmp_path, {"Obiettivi": {"D2": 50}})
    r = CliRunner().invoke(cli, ["plan", "import", str(book)])
    assert r.exit_code == 1
    assert "'Obiettivi'!D2: errore PLAN-WEIGHTS" in r.output
    assert not book.with_suffix(".yaml").exists()


def test_cli_plan_check_json_names_sheet_and_cell(template, tmp_path):
    import json

    book = fill(template, tmp_path, {"Indicatori": {"E2": "boh"}})
    r = CliRunner().invoke(cli, ["plan", "check", str(book), "--json"])
    assert r.exit_code == 1
    f = json.loads(r.output)["errors"][0]
    assert (f["code"], f["sheet"], f["cell"]) == ("PLAN-TARGET", "Indicatori", "E2")


# --- rule kinds of the target grammar in the plan workbook ------------------------------------------------

KINDS_PLAN = """\
plan_id: kinds-2025
comune: Esempio
year: 2025
sectors:
  - code: SA
    name: Amministrazione
    short_name: SA - Amministrazione
    responsabile: {name: Pietro Pastore}
    objectives:
      - number: 1
        title: Servizi
        weight: 100
        indicators:
          - {description: Pratiche, target: "pari a 100", rule: {kind: equal, target: 100, tolerance: 5}}
          - {description: Costo, target: "in calo", rule: {kind: decrease, decrease: "10%", baseline_year: 2024}}
          - {description: Tempi, target: "da 60 a 20 giorni"}
          - {description: Attesa, target: "in calo", rule: {kind: decrease, baseline: 60, target: 20, measure: giorni}}
          - {description: Copertura, target: "95%", rule: {kind: equal, unit: percent, target: "95%", tolerance: "2%"}}
          - {description: Adempimenti, target: "Rispetto degli adempimenti"}
          - {description: Accessi, target: "superiore a 5"}
"""


def test_explicit_rules_of_the_new_kinds_survive_export_and_import(tmp_path):
    plan, findings = parse_plan(KINDS_PLAN, "kinds.yaml")
    assert plan is not None, [str(f) for f in findings]
    p = tmp_path / "piano.xlsx"
    p.write_bytes(export_bytes(plan))
    again, findings = check_book(p)
    assert again is not None, [str(f) for f in findings if f.severity == "error"]
    assert [i.rule for i in again.indicators] == [i.rule for i in plan.indicators]
    assert again.fingerprint == plan.fingerprint
    assert "PLAN-QUALITATIVE" in codes(findings, "warning")


@pytest.mark.parametrize("scoring", ['{reached: "90%", not_reached_below: "40%"}', '{reached: "120%"}',
                                     '{not_reached_below: "0%"}'])
def test_the_thresholds_of_the_counts_survive_export_and_import(plan, tmp_path, scoring):
    """«Obiettivo raggiunto da» / «non raggiunto sotto» (docs/scoring.md): the counts of objectives reached the
    summary publishes are decided by them, so a plan workbook that lost them would publish other counts."""
    text = Path(plan.source).read_text(encoding="utf-8").replace("scoring: {}", f"scoring: {scoring}")
    custom, findings = parse_plan(text, "p.yaml")
    assert custom is not None and custom.fingerprint != plan.fingerprint, [str(f) for f in findings]
    p = tmp_path / "piano.xlsx"
    p.write_bytes(export_bytes(custom))
    again, findings = check_book(p)
    assert again is not None, [str(f) for f in findings if f.severity == "error"]
    assert (again.scoring.reached, again.scoring.not_reached_below) == (custom.scoring.reached,
                                                                        custom.scoring.not_reached_below)
    assert again.fingerprint == custom.fingerprint


def test_a_plan_workbook_of_format_3_without_the_thresholds_still_imports(plan, tmp_path):
    p = tmp_path / "piano.xlsx"
    p.write_bytes(export_bytes(plan))
    wb = openpyxl.load_workbook(p)
    ws = wb[PUNTEGGIO.sheet]
    labels = [r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value in ("Obiettivo raggiunto da",
                                                                                "Obiettivo non raggiunto sotto")]
    assert len(labels) == 2
    for r in reversed(labels):
        ws.cell(r, 1).value = ws.cell(r, 2).value = None
    wb.save(p)
    again, findings = check_book(p)
    assert again is not None, [str(f) for f in findings if f.severity == "error"]
    assert again.fingerprint == plan.fingerprint


def test_a_plan_workbook_without_the_new_rule_columns_still_imports(tmp_path):
    """A plan workbook written before the columns of the new rule kinds existed (they are the last ones)."""
    book = fill(_template(tmp_path), tmp_path)
    wb = openpyxl.load_workbook(book)
    ws = wb[INDICATORI.sheet]
    first_new = next(n for n, c in enumerate(INDICATORI.columns) if c.since > 1)
    assert all(c.since > 1 for c in INDICATORI.columns[first_new:])
    ws.delete_cols(first_new + 1, len(INDICATORI.columns) - first_new)
    wb.save(book)
    again, findings = check_book(book)
    assert again is not None, [str(f) for f in findings if f.severity == "error"]
    assert again.fingerprint == expected_plan().fingerprint


def test_return_deadline_and_contact_survive_export_import_and_yaml(plan, tmp_path):
    text = Path(plan.source).read_text(encoding="utf-8")
    text = text.replace("year: 2025", "year: 2025\nreturn_deadline: 31/01/2026\ncontact: \"Servizio Finanziario, "
                        "ragioneria@comune.example\"", 1)
    dated, findings = parse_plan(text, "dated.yaml")
    assert dated is not None and dated.return_deadline == date(2026, 1, 31), [str(f) for f in findings]
    assert dated.fingerprint == plan.fingerprint  # workbooks already sent stay valid
    p = tmp_path / "piano.xlsx"
    p.write_bytes(export_bytes(dated))
    again, findings = check_book(p)
    assert again is not None, [str(f) for f in findings if f.severity == "error"]
    assert (again.return_deadline, again.contact) == (dated.return_deadline, dated.contact)
    back, _ = parse_plan(plan_to_yaml(again))
    assert (back.return_deadline, back.contact) == (dated.return_deadline, dated.contact)
    bad, findings = parse_plan(text.replace("31/01/2026", "fine gennaio"), "bad.yaml")
    assert bad is None and any(f.code == "PLAN-SCHEMA" and "return_deadline" in f.message for f in findings)


def _template(tmp_path):
    p = tmp_path / "piano.xlsx"
    p.write_bytes(template_bytes())
    return p


def test_calamine_reads_only_the_checked_parts_repacked(plan, tmp_path, monkeypatch):
    """A plan workbook goes through the guard; python-calamine is then given a new zip of exactly the parts the
    guard checked (never the file's own bytes), and the plan read is the same."""
    import io
    import zipfile

    import python_calamine

    from piao_xls.sheetio.safeopen import open_package

    path = tmp_path / "piano.xlsx"
    path.write_bytes(export_bytes(plan))
    original = path.read_bytes()
    given = []
    real = python_calamine.CalamineWorkbook.from_filelike
    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_filelike",
                        lambda f: given.append(f.getvalue()) or real(io.BytesIO(given[-1])))
    again, findings = check_book(path)
    assert again is not None and again.fingerprint == plan.fingerprint, [str(f) for f in findings]
    assert len(given) == 1 and given[0] != original
    with zipfile.ZipFile(io.BytesIO(given[0])) as z:
        repacked = {i.filename: z.read(i) for i in z.infolist()}
        assert all(i.compress_type == zipfile.ZIP_STORED for i in z.infolist())
    assert repacked == open_package(original, path.name).parts


# --- targets typed as formulas (an author types "=90%" or "= 45.000" in the Target column) -------------------

def _with_cached_values(path, cached: dict[str, str]):
    """Give formula cells of the Indicatori sheet a cached value, as Excel saves them (openpyxl saves none)."""
    import re
    import zipfile

    src = zipfile.ZipFile(path)
    names = src.namelist()
    wb_xml = src.read("xl/workbook.xml").decode()
    index = re.findall(r'<sheet [^>]*name="([^"]+)"', wb_xml).index("Indicatori") + 1
    part = f"xl/worksheets/sheet{index}.xml"
    out = path.with_name("cached-" + path.name)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for n in names:
            data = src.read(n)
            if n == part:
                text = data.decode()
                for ref, value in cached.items():
                    text, done = re.subn(rf'(<c r="{ref}"[^>]*>\s*<f>[^<]*</f>)\s*(?:<v>[^<]*</v>|<v */>)?',
                                         rf"\g<1><v>{value}</v>", text)
                    assert done == 1, ref
                data = text.encode()
            dst.writestr(n, data)
    return out


def _target_of(plan, ind_id):
    return next(i for i in plan.indicators if i.id == ind_id)


@pytest.mark.parametrize(("formula", "cached", "target", "rule_target"), [
    ("=90%", None, "90%", 0.9),  # no cached value: what the author typed
    ("=90%", "0.9", "90%", 0.9),  # the cached value agrees with the text
    ("= 45", "45", "45", 45.0),
    ("=1.500", None, "1.500", 1500.0),
])
def test_a_constant_formula_target_is_read_as_typed_and_said(template, tmp_path, formula, cached, target,
                                                             rule_target):
    path = fill(template, tmp_path, {"Indicatori": {"E2": formula}})
    if cached is not None:
        path = _with_cached_values(path, {"E2": cached})
    plan, findings = check_book(path)
    assert plan is not None, [str(f) for f in findings]
    ind = _target_of(plan, "SF-1.1")
    assert (ind.target_text, ind.rule.target) == (target, rule_target)
    warn = only(findings, "PLAN-TARGET-FORMULA")
    assert warn.severity == "warning" and warn.cell == "E2" and "senza «=»" in warn.message
    assert f"«{target}»" in warn.message


def test_a_constant_formula_whose_value_differs_from_its_text_is_refused_saying_both(template, tmp_path):
    path = _with_cached_values(fill(template, tmp_path, {"Indicatori": {"E2": "=45.000"}}), {"E2": "45"})
    plan, findings = check_book(path)
    assert plan is None
    err = only(findings, "PLAN-TARGET")
    assert err.cell == "E2"
    assert "calcola come 45" in err.message and "«45.000»" in err.message and "senza «=»" in err.message


def test_a_computed_formula_target_reads_its_cached_value_or_is_refused(template, tmp_path):
    path = fill(template, tmp_path, {"Indicatori": {"E2": "=SUM(40,5)"}})
    plan, findings = check_book(path)
    assert plan is None
    assert "non ne conserva il valore calcolato" in only(findings, "PLAN-TARGET").message
    plan, findings = check_book(_with_cached_values(path, {"E2": "45"}))
    assert plan is not None, [str(f) for f in findings]
    assert _target_of(plan, "SF-1.1").rule.target == 45.0
    assert "«45»" in only(findings, "PLAN-TARGET-FORMULA").message


def test_explicit_rate_and_maintain_rules_survive_export_and_import(tmp_path):
    text = (Path(__file__).parent / "fixtures" / "quality-good.yaml").read_text()
    text = text.replace('target: "1 sopralluogo ogni 10 pratiche"', 'target: "Sopralluoghi a campione"\n'
                        '            rule: {kind: rate, target: 2, every: 25, measure: sopralluoghi, per: pratiche}')
    text = text.replace('target: "al massimo 25 giorni"', 'target: "come da PEG"\n'
                        '            rule: {kind: maintain, baseline: 30, tolerance: 2, measure: giorni}')
    plan, findings = parse_plan(text, "new-kinds.yaml")
    assert plan is not None, [str(f) for f in findings]
    path = tmp_path / "new-kinds.xlsx"
    path.write_bytes(export_bytes(plan))
    wb = openpyxl.load_workbook(path)
    heads = [c.value for c in wb["Indicatori"][1]]
    assert {"Ogni (quantità di riferimento)", "Ogni: cosa si conta", "Fonte del dato"} <= set(heads)
    again, findings = check_book(path)
    assert again is not None, [str(f) for f in findings]
    assert again.fingerprint == plan.fingerprint
    assert again.indicators[-1].rule == plan.indicators[-1].rule
