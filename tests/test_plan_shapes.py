"""Plans not shaped like Truccazzano's, end to end (issue 12, sections 2 and 3).

A plan typed into the plan workbook with coefficient weights (1,0 / 1,2 / 1,4), a gate objective (printed weight
"X"), a sector with nothing measurable, a qualitative indicator scored by an explicit stated percentage and a
target dated in the next year goes through plan template -> import -> check -> generate -> fill -> consolidate,
through the command line as the finance office runs it. Expected scores are worked out by hand in the comments.
"""

from __future__ import annotations

import json
from datetime import date

import openpyxl
import pytest
from click.testing import CliRunner

from piao_xls.cli import cli
from piao_xls.core import scoring
from piao_xls.forms.layout import sector_workbook
from piao_xls.plan.load import check_plan
from piao_xls.plan.planbook import PUNTEGGIO

ROWS = {  # sheet -> cell -> what the author types
    "Ente": {"B2": "Esempio", "B3": 2025},
    "Settori": {"A2": "SF", "B2": "Finanziario", "D2": "Rossi Maria",
                "A3": "ST", "B3": "Tecnico", "D3": "Bianchi Luca",
                "A4": "PL", "B4": "Polizia Locale", "D4": "Verdi Carlo"},
    "Obiettivi": {"A2": "SF", "B2": 1, "C2": "TRASPARENZA", "D2": 1.0,
                  "A3": "SF", "B3": 2, "C3": "QUALITÀ DEL SERVIZIO", "D3": 1.2,
                  "A4": "SF", "B4": 3, "C4": "NUOVO GESTIONALE", "D4": 1.4,
                  "A5": "SF", "B5": 4, "C5": "ANTICORRUZIONE (obiettivo di accesso)", "D5": "X",
                  "A6": "ST", "B6": 1, "C6": "MANUTENZIONI", "D6": 2,
                  "A7": "PL", "B7": 1, "C7": "PRESIDIO DEL TERRITORIO", "D7": 1},
    "Indicatori": {
        "A2": "SF", "B2": 1, "D2": "% atti pubblicati nei termini", "E2": "100%",
        # qualitative as printed; scored by a stated percentage (rule written explicitly)
        "A3": "SF", "B3": 2, "D3": "Gestione tempestiva delle richieste", "E3": "Rispetto degli adempimenti",
        "F3": "almeno", "G3": "percentuale", "H3": "90%",
        "A4": "SF", "B4": 3, "D4": "Avvio del nuovo gestionale", "E4": "Entro il 30/06/2026",  # next year
        "A5": "SF", "B5": 4, "D5": "Relazione anticorruzione approvata", "E5": "Sì/No", "F5": "sì/no",
        "A6": "ST", "B6": 1, "D6": "% interventi eseguiti", "E6": "100%",
        "A7": "PL", "B7": 1, "D7": "Numero di pattugliamenti serali", "E7": "",  # nothing measurable
    },
}


def _punteggio(key: str) -> str:
    return f"B{2 + [c.key for c in PUNTEGGIO.columns].index(key)}"


def run(*args):
    r = CliRunner().invoke(cli, [str(a) for a in args])
    return r


@pytest.fixture(scope="module")
def flow(tmp_path_factory):
    d = tmp_path_factory.mktemp("shapes")
    book = d / "piano.xlsx"
    r = run("plan", "template", "-o", book)
    assert r.exit_code == 0, r.output
    wb = openpyxl.load_workbook(book)
    rows = {**ROWS, "Punteggio": {_punteggio("weights"): "coefficienti", _punteggio("gate_cap"): 50}}
    for sheet, cells in rows.items():
        for cell, value in cells.items():
            wb[sheet][cell].value = value if value != "" else None
    wb.save(book)
    r = run("plan", "import", book, "-o", d / "piano.yaml")
    return d, book, r


def test_import_reads_every_shape(flow):
    d, book, r = flow
    assert r.exit_code == 0, r.output
    out = r.output
    assert "SF  Finanziario" in out and "pesi come coefficienti (totale 3,6) riportati a 100" in out
    assert "obiettivi di accesso: SF-4" in out
    assert "PL  Polizia Locale" in out and "NON VALUTABILE" in out
    assert "SF-3.1: 'Entro il 30/06/2026' -> entro il 30/06/2026" in out and "[target del 2026]" in out
    assert "Target del 2026 (anno successivo del piano, tenuti come stampati): SF-3.1" in out
    assert "avviso PLAN-NOT-EVALUABLE" in out and "avviso PLAN-NO-TARGET" in out
    plan, findings = check_plan(d / "piano.yaml")
    assert plan is not None, [str(f) for f in findings]
    sf = plan.sector("SF")
    assert [o.coefficient for o in sf.objectives] == [1.0, 1.2, 1.4, None]
    assert [round(o.weight, 6) for o in sf.objectives] == [27.777778, 33.333333, 38.888889, 0]
    assert [o.gate for o in sf.objectives] == [False, False, False, True]
    assert plan.scoring.gate_cap == 50 and plan.scoring.weights == "coefficients"
    assert not plan.sector("PL").evaluable and plan.sector("ST").objectives[0].weight == 100
    assert sf.objectives[2].indicators[0].rule.deadline == date(2026, 6, 30)
    # the workbook imports as the same plan as the YAML written from it
    assert check_plan(book)[0].fingerprint == plan.fingerprint


def test_plan_check_json_names_the_shapes(flow):
    d, _, _ = flow
    r = run("plan", "check", d / "piano.yaml", "--json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    sectors = {s["code"]: s for s in data["sectors"]}
    assert sectors["SF"]["gates"] == ["SF-4"] and sectors["SF"]["coefficients"] == {"SF-1": 1, "SF-2": 1.2,
                                                                                    "SF-3": 1.4}
    assert sectors["PL"]["evaluable"] is False and sectors["SF"]["evaluable"] is True
    assert data["later_years"] == {"2026": ["SF-3.1"]}
    (w,) = [f for f in data["warnings"] if f["code"] == "PLAN-NOT-EVALUABLE"]
    assert "PL" in w["message"] and "non valutabile" in w["message"]


VALUES = {  # what the Responsabili type
    "SF": {"SF-1.1|value": 0.9, "SF-1.1|analisi": "Un atto pubblicato in ritardo.",
           "SF-2.1|value": 0.9,  # the stated 90%: reached
           "SF-3.1|date": date(2026, 5, 31),  # a date of the next year: inside the workbook's window
           "SF-4.1|value": "Sì"},
    "ST": {"ST-1.1|value": 1.0},
    "PL": {"PL-1.1|value": 12},
}
# SF: weights 1,0 / 1,2 / 1,4 of 3,6 -> (1.0 x 0.9 + 1.2 x 1 + 1.4 x 1) / 3.6 x 100 = 97.2222..., band A
SF_SCORE = (1.0 * 0.9 + 1.2 + 1.4) / 3.6 * 100


def _fill(plan, gen, code: str, values: dict):
    book = sector_workbook(plan, plan.sector(code))
    path = gen / book.filename
    wb = openpyxl.load_workbook(path)
    ws = wb[book.sheets[1].name]
    for key, v in values.items():
        ws[book.sheets[1].inputs[key].ref].value = v
    wb.save(path)
    return path


@pytest.fixture(scope="module")
def generated(flow):
    d, _, _ = flow
    r = run("generate", d / "piano.yaml", "-o", d / "out")
    assert r.exit_code == 0, r.output
    plan, _ = check_plan(d / "piano.yaml")
    return plan, d / "out" / "2025"


def test_generate_fill_consolidate(generated, tmp_path):
    plan, gen = generated
    returned = tmp_path / "returned"
    returned.mkdir()
    for code, values in VALUES.items():
        (returned / f"{code}.xlsx").write_bytes(_fill(plan, gen, code, values).read_bytes())
    r = run("consolidate", returned, "--plan", gen.parent.parent / "piano.yaml", "-o", tmp_path / "riepilogo.xlsx",
            "--json-file", tmp_path / "r.json", "--csv", tmp_path / "csv")
    data = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    sectors = {s["code"]: s for s in data["sectors"]}
    assert [f for f in data["findings"] if f["severity"] == "error"] == []
    assert sectors["SF"]["score"] == pytest.approx(SF_SCORE, abs=1e-9) and sectors["SF"]["band"] == "A"
    assert sectors["ST"]["score"] == pytest.approx(100) and sectors["ST"]["status"] == "scored"
    pl = sectors["PL"]
    assert (pl["score"], pl["band"], pl["band_label"], pl["status"]) == (None, "", "non valutabile", "not_evaluable")
    assert "non valutabile" in pl["note"]
    assert r.exit_code == 0, r.output  # every sector scored, or not evaluable by the plan's design
    assert "PL" in r.output and "non valutabile" in r.output
    # the summary workbook: a clear line, never 0.00 and "E"
    ws = openpyxl.load_workbook(tmp_path / "riepilogo.xlsx")["Riepilogo"]
    row = next(r for r in ws.iter_rows(min_row=4, values_only=True) if r[0] == "PL")
    header = [c.value for c in ws[3]]
    got = dict(zip(header, row, strict=True))
    assert got["Punteggio (0-100)"] == "non valutabile" and got["Fascia"] is None
    assert got["Stato"] == "non valutabile"
    assert "non valutabile" in got["Note"]
    years = {i["indicator"]: i["target_year"] for i in data["indicators"]}
    assert years["SF-3.1"] == 2026 and years["SF-1.1"] == 2025  # kept, and reported as belonging to 2026
    gate = next(o for o in data["objectives"] if o["objective"] == "SF-4")
    assert (gate["gate"], gate["weight"], gate["achievement"], gate["points"]) == (True, 0, 1.0, 0.0)
    assert [o["coefficient"] for o in data["objectives"] if o["sector"] == "SF"] == [1.0, 1.2, 1.4, None]


def test_a_gate_not_met_caps_the_sector_at_the_plan_key(generated, tmp_path):
    plan, gen = generated
    returned = tmp_path / "returned"
    returned.mkdir()
    values = {**VALUES["SF"], "SF-4.1|value": "No"}
    (returned / "SF.xlsx").write_bytes(_fill(plan, gen, "SF", values).read_bytes())
    from piao_xls.results.consolidate import consolidate

    c = consolidate([returned], plan)
    sf = next(s for s in c.sectors if s["code"] == "SF")
    assert sf["score"] == 50 and sf["band"] == "E"  # min(97.22, gate_cap 50)
    assert "SF-4 non raggiunto" in sf["note"] and "97,22" in sf["note"]


def test_engine_gate_and_not_evaluable(generated):
    plan, _ = generated
    sf = plan.sector("SF")
    met = scoring.score_sector(sf, {"SF-1.1": {"value": 1.0}, "SF-2.1": {"value": 0.9},
                                    "SF-3.1": {"date": date(2026, 1, 1)}, "SF-4.1": {"value": True}}, plan.scoring)
    assert (met.score, met.band_code, met.gates_failed) == (pytest.approx(100), "A", ())
    missing = scoring.score_sector(sf, {"SF-1.1": {"value": 1.0}}, plan.scoring)  # gate not reported: not met
    assert missing.gates_failed == ("SF-4",) and missing.score == pytest.approx(min(50, 1.0 / 3.6 * 100))
    pl = scoring.score_sector(plan.sector("PL"), {}, plan.scoring)
    assert (pl.score, pl.band_code, pl.band_label, pl.evaluable) == (None, "", "non valutabile", False)


def test_live_formulas_agree_with_the_engine_in_libreoffice(generated, libreoffice, tmp_path):
    plan, gen = generated
    sf = plan.sector("SF")
    book = sector_workbook(plan, sf)
    layout = book.sheets[1]
    total = next(c for c in layout.cells if c.style == "live_total")
    band = next(c for c in layout.cells if c.style == "live_text" and c.row == total.row + 1)
    for gate, expected in (("Sì", SF_SCORE), ("No", 50.0)):
        with libreoffice.open(gen / book.filename) as doc:
            for key, v in {**VALUES["SF"], "SF-4.1|value": gate}.items():
                if key.endswith("|date"):
                    v = v.isoformat()
                elif isinstance(v, float):
                    v = repr(v)
                doc.type_into(layout.name, layout.inputs[key].ref, v)
            doc.recalc()
            # the total as published: the plan's precision, rounded as the engine rounds
            assert doc.get_value(layout.name, total.ref) == pytest.approx(plan.scoring.published(expected), abs=1e-9)
            want = plan.scoring.band(expected)
            assert doc.get_string(layout.name, band.ref) == f"{want.code} - {want.label}"
    pl = sector_workbook(plan, plan.sector("PL")).sheets[1]
    with libreoffice.open(gen / sector_workbook(plan, plan.sector("PL")).filename) as doc:
        texts = [doc.get_string(pl.name, c.ref) for c in pl.cells if c.value == "non valutabile"]
        assert texts == ["non valutabile", "non valutabile"]  # the total and the band: never 0.00 and "E"


def test_import_with_errors_still_prints_every_interpretation(tmp_path):
    book = tmp_path / "piano.xlsx"
    assert run("plan", "template", "-o", book).exit_code == 0
    wb = openpyxl.load_workbook(book)
    rows = {**ROWS, "Indicatori": {**ROWS["Indicatori"], "E6": "circa 30 pratiche"}}
    for sheet, cells in rows.items():  # no «coefficienti» either
        for cell, value in cells.items():
            wb[sheet][cell].value = value if value != "" else None
    wb.save(book)
    r = run("plan", "import", book, "-o", tmp_path / "piano.yaml")
    assert r.exit_code == 1 and not (tmp_path / "piano.yaml").exists()
    out = r.output
    assert "il piano ha errori; ecco come è stato interpretato ogni target letto (5)" in out
    for line in ("'Indicatori'!E2: SF-1.1: '100%' -> almeno 100%", "'Indicatori'!E4: SF-3.1: 'Entro il 30/06/2026' ->",
                 "'Indicatori'!E7: PL-1.1: '' -> indicatore informativo"):
        assert line in out
    target = next(x for x in out.splitlines() if "PLAN-TARGET" in x)
    assert "'Indicatori'!E6" in target and "colonna «Regola (facoltativa)»" in target
    # not declared as coefficients: read as such, since they cannot be percentages, and said so
    weights = next(x for x in out.splitlines() if "PLAN-WEIGHTS" in x and "settore SF" in x)
    assert "avviso PLAN-WEIGHTS" in weights and "sommano 3,6" in weights and "letti come coefficienti" in weights
    assert "SF-3: 1,4 = 38,89%" in weights and "riga «Pesi degli obiettivi» del foglio Punteggio" in weights
    for x in out.splitlines():  # the author of a workbook never reads YAML syntax
        if " errore PLAN-" in x or " avviso PLAN-" in x:
            assert "rule:" not in x and "{kind" not in x and "chiave" not in x, x


def test_a_workbook_of_a_newer_format_is_refused(tmp_path):
    from piao_xls.plan.planbook import FORMAT, FORMAT_MARK, check_book, template_bytes

    p = tmp_path / "piano.xlsx"
    p.write_bytes(template_bytes())
    wb = openpyxl.load_workbook(p)
    ws = wb["Istruzioni"]
    cell = next(c for c in ws["A"] if isinstance(c.value, str) and c.value.startswith(FORMAT_MARK))
    assert cell.value.startswith(f"{FORMAT_MARK} {FORMAT} ")
    cell.value = f"{FORMAT_MARK} {FORMAT + 1}"
    wb.save(p)
    plan, findings = check_book(p)
    assert plan is None
    (f,) = findings
    assert (f.code, f.sheet) == ("PLAN-SCHEMA", "Istruzioni") and "aggiorni piao-xls" in f.message


def test_date_window_follows_a_later_year_target(generated):
    plan, _ = generated
    layout = sector_workbook(plan, plan.sector("SF")).sheets[1]
    v = layout.inputs["SF-3.1|date"].validation
    assert (v.minimum, v.maximum) == (date(2024, 1, 1), date(2027, 12, 31))  # not 2024..2026


def test_unsafe_code_in_a_plan_workbook_names_its_cell(tmp_path):
    from piao_xls.plan.planbook import check_book

    book = tmp_path / "piano.xlsx"
    assert run("plan", "template", "-o", book).exit_code == 0
    wb = openpyxl.load_workbook(book)
    for sheet, cells in ROWS.items():
        for cell, value in cells.items():
            wb[sheet][cell].value = value if value != "" else None
    wb["Settori"]["A3"].value = "../ST"
    wb.save(book)
    _, findings = check_book(book)
    f = next(f for f in findings if f.code == "PLAN-ID")
    assert (f.sheet, f.cell) == ("Settori", "A3") and "colonna «Codice» del foglio Settori" in f.message


def test_generate_never_writes_outside_its_folder(tmp_path):
    from piao_xls.forms.generate import generate
    from piao_xls.plan.planfile import parse_plan

    text = ("comune: ../../Evaso\nyear: 2025\nsectors:\n  - code: SF\n    name: ../x\n    short_name: '..'\n"
            "    responsabile: {name: R}\n    objectives:\n      - {number: 1, title: T, weight: 100, indicators: "
            "[{description: d, target: '100%'}]}\n")
    plan, findings = parse_plan(text)
    assert plan is not None, [str(f) for f in findings]
    out = tmp_path / "a" / "out"
    generate(plan, out)
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert written and all(p.parts[:3] == ("a", "out", "2025") for p in written), written


def test_export_and_reimport_keep_gates_coefficients_and_the_cap(flow, tmp_path):
    d, _, _ = flow
    out = tmp_path / "again.xlsx"
    r = run("plan", "export", d / "piano.yaml", "-o", out)  # the command re-imports it and compares fingerprints
    assert r.exit_code == 0, r.output
    wb = openpyxl.load_workbook(out)
    assert [wb["Obiettivi"][f"D{i}"].value for i in range(2, 6)] == [1, 1.2, 1.4, "X"]
    assert wb["Punteggio"][_punteggio("weights")].value == "coefficienti"
    assert wb["Punteggio"][_punteggio("gate_cap")].value == 50
    assert check_plan(out)[0].fingerprint == check_plan(d / "piano.yaml")[0].fingerprint


def test_sector_total_formula_with_gates():
    from piao_xls.core import formulas

    f = formulas.sector_formula(["G5", "G6"], 90, ["F7"], 50)
    assert f == "=IF(OR(ROUND(F7,9)<1),MIN(50,(G5+G6)*100/90),(G5+G6)*100/90)"
    assert formulas.sector_formula(["G5"], 100) == "=(G5)*100/100"


def test_hostile_plan_workbook_values_are_findings_naming_their_cells(tmp_path):
    import zipfile

    from piao_xls.plan.planbook import check_book

    book = tmp_path / "piano.xlsx"
    assert run("plan", "template", "-o", book).exit_code == 0
    wb = openpyxl.load_workbook(book)
    for sheet, cells in ROWS.items():
        for cell, value in cells.items():
            wb[sheet][cell].value = value if value != "" else None
    wb["Obiettivi"]["D4"].value = 123456.75  # then made "inf" and "NaN" in the XML, as a crafted file would
    wb["Indicatori"]["P2"].value = 654321.25
    wb.save(book)
    crafted = tmp_path / "crafted.xlsx"
    with zipfile.ZipFile(book) as src, zipfile.ZipFile(crafted, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename).replace(b">123456.75<", b">inf<").replace(b">654321.25<", b">NaN<")
            dst.writestr(info, data)
    plan, findings = check_book(crafted)
    assert plan is None
    where = {(f.code, f.sheet, f.cell) for f in findings if f.severity == "error"}
    assert {("PLAN-NUMBER", "Obiettivi", "D4"), ("PLAN-NUMBER", "Indicatori", "P2")} <= where, where


def test_plan_check_verbose_with_errors_prints_what_it_read(tmp_path):
    p = tmp_path / "plan.yaml"
    p.write_text("comune: X\nyear: 2025\nsectors:\n  - code: SF\n    name: F\n    responsabile: {name: R}\n"
                 "    objectives:\n      - number: 1\n        title: T\n        weight: 90\n        indicators:\n"
                 "          - {description: d, target: '100%'}\n          - {description: e, target: boh}\n",
                 encoding="utf-8")
    r = run("plan", "check", p, "--verbose")
    assert r.exit_code == 1
    assert "riga 12: SF-1.1: '100%' -> almeno 100%" in r.output and "PLAN-TARGET" in r.output


def test_a_qualitative_target_is_judged_by_the_nucleo_end_to_end(tmp_path):
    """The same plan with the qualitative target as printed (no rule): a `giudizio` of the Nucleo di Valutazione,
    typed in the Nucleo's workbook with its motivation, counts in SF's score; without a motivation it is refused."""
    from piao_xls.forms.layout import source_workbook

    book = tmp_path / "piano.xlsx"
    assert run("plan", "template", "-o", book).exit_code == 0
    wb = openpyxl.load_workbook(book)
    indicators = {k: v for k, v in ROWS["Indicatori"].items() if k not in ("F3", "G3", "H3")}
    rows = {**ROWS, "Indicatori": indicators,
            "Punteggio": {_punteggio("weights"): "coefficienti", _punteggio("gate_cap"): 50}}
    for sheet, cells in rows.items():
        for cell, value in cells.items():
            wb[sheet][cell].value = value if value != "" else None
    wb.save(book)
    r = run("plan", "import", book, "-o", tmp_path / "piano.yaml")
    assert r.exit_code == 0 and "avviso PLAN-QUALITATIVE" in r.output, r.output
    plan, _ = check_plan(tmp_path / "piano.yaml")
    ind = plan.sector("SF").objectives[1].indicators[0]
    assert (ind.rule.kind, ind.source) == ("giudizio", "nucleo")
    assert run("generate", tmp_path / "piano.yaml", "-o", tmp_path / "out").exit_code == 0
    gen = tmp_path / "out" / "2025"
    returned = tmp_path / "returned"
    returned.mkdir()
    for code, values in VALUES.items():
        values = {k: v for k, v in values.items() if not k.startswith("SF-2.1|")}  # not the Responsabile's to fill
        (returned / f"{code}.xlsx").write_bytes(_fill(plan, gen, code, values).read_bytes())
    nucleo = source_workbook(plan, "nucleo")
    sheet = nucleo.sheets[1]

    def judge(analysis):
        wb = openpyxl.load_workbook(gen / nucleo.filename)
        ws = wb[sheet.name]
        ws[sheet.inputs["SF-2.1|value"].ref].value = 0.6
        if analysis:
            ws[sheet.inputs["SF-2.1|analisi"].ref].value = analysis
        wb.save(returned / nucleo.filename)
        r = run("consolidate", returned, "--plan", tmp_path / "piano.yaml", "-o", tmp_path / "r.xlsx",
                "--json-file", tmp_path / "r.json")
        return r, json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))

    r, data = judge("Adempimenti rispettati in 6 casi su 10, per carenza di personale nel primo semestre.")
    sf = next(s for s in data["sectors"] if s["code"] == "SF")
    # (1.0 x 0.9 + 1.2 x 0.6 + 1.4 x 1) / 3.6 x 100 = 83.888...
    assert sf["score"] == pytest.approx((1.0 * 0.9 + 1.2 * 0.6 + 1.4) / 3.6 * 100, abs=1e-9), r.output
    r, data = judge("")
    refused = [f for f in data["findings"] if f["code"] == "WB-ANALYSIS" and "SF-2.1" in f["message"]]
    assert refused and refused[0]["severity"] == "error"
