"""Each indicator's values over the years (core/history.py): the results of earlier years, kept in the workspace's
storico/ folder or given with --storico, shown by the summary (sheet Andamento), the JSON (``history``) and the
Relazione (chapter «L'andamento negli anni») with the same words; bad files refused in Italian, nothing written."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import docx
import openpyxl
import pytest
from click.testing import CliRunner

from piao_xls.cli import cli
from piao_xls.core.history import history_rows, value_text
from piao_xls.forms.layout import sector_workbook
from piao_xls.forms.samples import sample_values
from piao_xls.forms.writer import render


def filled_form(plan, code: str, seed: int = 3) -> bytes:
    book = sector_workbook(plan, plan.sector(code))
    sheet = next(s for s in book.sheets if s.kind != "instructions")
    return render(book, prefill=sample_values(sheet, seed=seed))


def run(ws: Path, *args: str, code: int | None = 0):
    r = CliRunner().invoke(cli, ["-C", str(ws), *args])
    if code is not None:
        assert r.exit_code == code, (args, r.output, r.exception)
    return r


@pytest.fixture
def ws(tmp_path, plan):
    ws = tmp_path / "PIAO-2025"
    r = CliRunner().invoke(cli, ["crea", str(ws), "--scadenza", "31/01/2026"])
    assert r.exit_code == 0, r.output
    (tmp_path / "allegati").mkdir()
    (tmp_path / "allegati" / "PIAO-2025-SF-Finanziario.xlsx").write_bytes(filled_form(plan, "SF"))
    run(ws, "raccogli", str(tmp_path / "allegati"), code=None)
    return ws


def earlier_year(doc: dict, year: int, values: dict[str, str], drop: tuple[str, ...] = ()) -> dict:
    """This year's results as if of ``year``: the values of ``values`` (indicator -> published text), ``drop``
    not in that year's plan."""
    d = copy.deepcopy(doc)
    d["year"], d["plan_id"] = year, d["plan_id"].replace("2025", str(year))
    d.pop("history", None)
    d["indicators"] = [r for r in d["indicators"] if r["indicator"] not in drop]
    for r in d["indicators"]:
        if r["indicator"] in values:
            r["actual_it"], r["validated_it"] = values[r["indicator"]], ""
    return d


def test_history_rows_match_by_identifier_and_leave_years_without_the_indicator_empty():
    now = [{"indicator": "SF-1.1", "sector": "SF", "description": "Tempi", "target": "100%", "actual_it": "95%"},
           {"indicator": "SF-2.1", "sector": "SF", "description": "Nuovo", "target": "5", "actual_it": "4"},
           {"indicator": "SF-3.1", "sector": "SF", "description": "Corretto", "actual_it": "10",
            "validated_it": "12"}]
    earlier = [{"year": 2023, "indicators": [{"indicator": "SF-1.1", "actual_it": "80%"}]},
               {"year": 2024, "indicators": [{"indicator": "SF-1.1", "actual_it": "",
                                              "status_it": "non rendicontato"},
                                             {"indicator": "SF-3.1", "actual_it": "9"}]}]
    rows = history_rows(2025, now, earlier)
    assert [r["indicator"] for r in rows] == ["SF-1.1", "SF-3.1"]  # SF-2.1 has no earlier value: not listed
    assert [(v["year"], v["value_it"]) for v in rows[0]["values"]] == [(2023, "80%"), (2024, "non rendicontato"),
                                                                       (2025, "95%")]
    assert [v["value_it"] for v in rows[1]["values"]] == ["", "9", "12"]  # not in 2023's plan; 2025 validated
    assert value_text({"actual_it": " ", "status_it": "non pervenuto"}) == "non pervenuto"
    assert rows[0]["note"] == ""  # described as this year (no description in the earlier rows: nothing to compare)
    renamed = [{"year": 2024, "indicators": [{"indicator": "SF-1.1", "actual_it": "70%", "description": "Tempi medi"}]},
               {"year": 2023, "indicators": [{"indicator": "SF-1.1", "actual_it": "60%", "description": "Altro"}]}]
    (row,) = history_rows(2025, now, renamed)
    assert row["note"] == "descrizione diversa negli anni 2023 e 2024: valori da confrontare con cautela"
    ruled = [{"year": 2024, "indicators": [{"indicator": "SF-1.1", "actual_it": "7", "rule": "increase"}]}]
    (row,) = history_rows(2025, [{**now[0], "rule": "percent"}], ruled)
    assert row["note"] == "regola di calcolo diversa nel 2024: valori da confrontare con cautela"
    only_states = [{"year": 2024, "indicators": [{"indicator": "SF-2.1", "actual_it": "", "status_it": "non pervenuto"}]}]
    assert history_rows(2025, now, only_states) == []  # a state is no value to compare with


def test_summary_json_and_relazione_show_the_values_over_the_years(ws, tmp_path):
    out = tmp_path / "r2025.json"
    run(ws, "consolida", "--json-file", str(out), code=None)
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert "history" not in doc  # no earlier year: nothing over the years
    sf11 = next(r for r in doc["indicators"] if r["indicator"] == "SF-1.1")
    (ws / "storico").mkdir()
    (ws / "storico" / "risultati-2024.json").write_text(json.dumps(earlier_year(doc, 2024, {"SF-1.1": "82%"})),
                                                         encoding="utf-8")
    y2023 = tmp_path / "risultati-2023.json"
    d2023 = earlier_year(doc, 2023, {"SF-1.1": "75%"}, drop=("SF-4.1",))
    next(r for r in d2023["indicators"] if r["indicator"] == "SF-1.2")["description"] = "Tempi del cronoprogramma"
    y2023.write_text(json.dumps(d2023), encoding="utf-8")

    run(ws, "consolida", "--storico", str(y2023), "--json-file", str(out), code=None)
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["history"]["years"] == [2023, 2024, 2025]
    rows = {r["indicator"]: r for r in doc["history"]["indicators"]}
    assert [v["value_it"] for v in rows["SF-1.1"]["values"]] == ["75%", "82%", value_text(sf11)]
    assert rows["SF-4.1"]["values"][0]["value_it"] == ""  # not in 2023's plan

    wb = openpyxl.load_workbook(ws / "risultati" / "PIAO-2025-Riepilogo.xlsx")
    assert wb.sheetnames.index("Andamento") == wb.sheetnames.index("Fonti") - 1
    sheet = wb["Andamento"]
    assert [c.value for c in sheet[3]] == ["Indicatore", "Descrizione", "Target 2025", "Valore 2023",
                                           "Valore 2024", "Valore 2025", "Note"]
    cells = {r[0]: r for r in sheet.iter_rows(min_row=4, values_only=True)}
    assert cells["SF-1.1"][3:6] == ("75%", "82%", value_text(sf11))
    assert cells["SF-1.2"][6] == "descrizione diversa nel 2023: valori da confrontare con cautela"
    assert cells["SF-4.1"][3] is None
    assert len(cells) == len(rows) and sheet.page_setup.orientation == "landscape"
    assert not any(k.startswith("SA-") for k in cells)  # SA sent nothing, in any year: no values to compare

    run(ws, "relazione", "--no-pdf", "--storico", str(y2023), code=None)
    (path,) = list((ws / "risultati").glob("*Relazione-Performance.docx"))
    d = docx.Document(str(path))
    heads = [p.text for p in d.paragraphs if p.style.name == "Heading 1"]
    assert heads[4] == "5. L'andamento negli anni" and heads[-1].endswith("Conclusioni")
    table = next(t for t in d.tables if t.rows[0].cells[-1].text == "2025" and t.rows[0].cells[0].text == "Indicatore")
    got = {r.cells[0].text: [c.text for c in r.cells[2:]] for r in table.rows[1:]}
    assert got["SF-1.1"] == ["75%", "82%", value_text(sf11)] and got["SF-4.1"][0] == "—"
    assert any("SF-1.2: descrizione diversa nel 2023" in p.text for p in d.paragraphs)

    # the same from the results JSON of this year, which holds the years it was consolidated with
    run(ws, "relazione", "--no-pdf", "--results", str(out), "-o", str(tmp_path / "rel.docx"), code=None)
    text = "\n".join(c.text for t in docx.Document(str(tmp_path / "rel.docx")).tables for r in t.rows
                     for c in r.cells)
    assert "82%" in text and "75%" in text


@pytest.mark.parametrize("case", ["other_comune", "same_year", "twice", "not_results", "not_json"])
def test_a_bad_earlier_year_is_left_out_with_a_warning_and_the_others_are_shown(ws, tmp_path, case):
    """One bad file never stops the others: it is left out with a HIST-FILE warning naming it (printed, in the
    summary's Anomalie and the JSON), and the good earlier year is still shown."""
    out = tmp_path / "r2025.json"
    run(ws, "consolida", "--json-file", str(out), code=None)
    doc = json.loads(out.read_text(encoding="utf-8"))
    good = tmp_path / "risultati-2024.json"
    good.write_text(json.dumps(earlier_year(doc, 2024, {"SF-1.1": "82%"})), encoding="utf-8")
    bad = tmp_path / "storico.json"
    args = ["--storico", str(good), "--storico", str(bad)]
    if case == "other_comune":
        d = earlier_year(doc, 2023, {})
        d["comune"] = "Melzo"
        expect = "sono del Comune di Melzo, non del Comune di Truccazzano"
    elif case == "same_year":
        d = doc
        expect = "sono dell'anno 2025, non di un anno precedente al 2025"
    elif case == "twice":
        d = earlier_year(doc, 2024, {"SF-1.1": "10%"})
        expect = f"i risultati del 2024 sono già in {good}"
    else:
        d = {"year": 2024, "indicators": []}
        expect = "non è un file di risultati"
    bad.write_text("{ non è JSON" if case == "not_json" else json.dumps(d), encoding="utf-8")
    if case == "not_json":
        expect = "file illeggibile"
    r = CliRunner().invoke(cli, ["-C", str(ws), "consolida", *args, "--json-file", str(out)])
    assert r.exception is None or isinstance(r.exception, SystemExit), r.output  # no traceback
    assert f"{bad}: risultati di un anno precedente non usati: {expect}" in r.output, r.output
    data = json.loads(out.read_text(encoding="utf-8"))
    (finding,) = [f for f in data["findings"] if f["code"] == "HIST-FILE"]
    assert finding["severity"] == "warning" and finding["file"] == str(bad) and expect in finding["message"]
    assert data["history"]["years"] == [2024, 2025]
    sf11 = next(r for r in data["history"]["indicators"] if r["indicator"] == "SF-1.1")
    assert sf11["values"][0]["value_it"] == "82%"  # the good file counts (the first of its year)
    wb = openpyxl.load_workbook(ws / "risultati" / "PIAO-2025-Riepilogo.xlsx")
    assert any(c.value == "HIST-FILE" for row in wb["Anomalie"].iter_rows() for c in row)
