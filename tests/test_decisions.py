"""The Nucleo's decisions (neutralise, non applicabile, correct) and the missing-workbook rule, on real
returned workbooks of the bundled plan. Expected scores are worked out by hand from tests/scenario.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from scenario import NUCLEO_VALUES, SF_ANALYSES, SF_EXPECTED_SCORE, SF_VALUES

from piao_xls.cli import cli
from piao_xls.forms.layout import sector_workbook, source_workbook
from piao_xls.forms.writer import render
from piao_xls.results.consolidate import consolidate
from piao_xls.results.decisions import parse_decisions

DECISIONS = """\
# Decisioni del Nucleo di Valutazione, seduta del 10/03/2026
decisions:
  - kind: not_applicable
    indicator: SF-6.1
    reason: Nessuna somma stanziata nel bilancio 2025 (denominatore 0)
    by: Nucleo di Valutazione (dott.ssa Bianchi)
    date: 2026-03-10
  - kind: correct
    indicator: SF-1.1
    old: 90%
    new: "95%"
    reason: Errore di trascrizione segnalato dal Responsabile
    by: Nucleo di Valutazione
    date: 10/03/2026
  - kind: neutralise
    objective: SF-3
    reason: Obiettivo superato da una norma sopravvenuta
    by: Nucleo di Valutazione
    date: 2026-03-10
"""


@pytest.fixture
def returned(tmp_path, plan) -> Path:
    folder = tmp_path / "returned"
    folder.mkdir()
    (folder / "sf.xlsx").write_bytes(render(sector_workbook(plan, plan.sector("SF")),
                                            prefill={**SF_VALUES, **SF_ANALYSES}))
    (folder / "nucleo.xlsx").write_bytes(render(source_workbook(plan, "nucleo"), prefill=NUCLEO_VALUES))
    return folder


def _sector(c, code):
    return next(s for s in c.sectors if s["code"] == code)


def test_decisions_are_applied_and_recorded(plan, tmp_path, returned):
    dec = tmp_path / "decisioni.yaml"
    dec.write_text(DECISIONS, encoding="utf-8")
    before = dec.read_bytes()
    c = consolidate([returned], plan, decisions=dec)
    assert dec.read_bytes() == before
    # by hand: SF-1 (0.95 + 1) / 2 x 10 = 9.75; SF-2 8; SF-3 neutralised; SF-4 9.75; SF-5 85/90 x 10;
    # SF-6 (only indicator non applicabile) left out; SF-7..9 30. Evaluable weight 70.
    expected = (9.75 + 8 + 9.75 + 85 / 90 * 10 + 30) * 100 / 70
    sf = _sector(c, "SF")
    assert sf["score"] == pytest.approx(expected, abs=1e-9) and sf["band"] == "A"  # 95.63
    objs = {o["objective"]: o for o in c.objectives if o["sector"] == "SF"}
    assert objs["SF-3"]["achievement"] is None and objs["SF-3"]["neutralised"] is True
    assert objs["SF-6"]["achievement"] is None and objs["SF-6"]["neutralised"] is False
    assert objs["SF-1"]["weight_applied"] == pytest.approx(100 / 7)
    assert sum(o["weight_applied"] or 0 for o in objs.values()) == pytest.approx(100)
    ind = next(i for i in c.indicators if i["indicator"] == "SF-6.1")
    assert ind["status"] == "not_applicable" and ind["achievement"] is None
    rows = {(d["kind"], d["indicator"] or d["objective"]): d for d in c.decisions if d["sector"] == "SF"}
    assert set(rows) == {("not_applicable", "SF-6.1"), ("correct", "SF-1.1"), ("neutralise", "SF-3")}
    assert all(d["applied"] and d["by"] and d["date"] == "2026-03-10" and d["reason"] for d in rows.values())
    corr = rows[("correct", "SF-1.1")]
    assert (corr["old"], corr["new"], corr["old_text"], corr["new_text"]) == (0.9, 0.95, "90%", "95%")
    assert corr["where"].endswith("decisioni.yaml:8")  # the line of its "- kind:"
    assert "SF-1 10 → 14,29" in rows[("neutralise", "SF-3")]["effect"]
    assert "non ha più indicatori valutati" in rows[("not_applicable", "SF-6.1")]["effect"]
    json.dumps(c.to_dict(), default=str)  # the decisions travel in the JSON


def test_the_json_says_which_value_the_nucleo_corrected_and_the_value_scored(plan, tmp_path, returned):
    """docs/summary-data.md, ``indicators``: ``corrected`` (the Nucleo corrected a value), ``validated`` and
    ``validated_it`` (the value scored), ``published_achievement`` (the achievement as a percentage, at the plan's
    precision); docs/summary.schema.json: every row has the schema's keys."""
    from piao_xls.results.export import from_json, to_json_dict

    dec = tmp_path / "decisioni.yaml"
    dec.write_text(DECISIONS, encoding="utf-8")
    doc = to_json_dict(consolidate([returned], plan, decisions=dec))
    assert from_json(json.dumps(doc), plan) == json.loads(json.dumps(doc))
    rows = {i["indicator"]: i for i in doc["indicators"]}
    # the decision of DECISIONS: SF-1.1 corrected from 90% to 95%, and 95% is the value scored
    sf11 = rows.pop("SF-1.1")
    assert sf11["corrected"] is True and "0.95" in sf11["validated"].replace(",", ".") and "95" in sf11["validated_it"]
    # no other value was corrected: nothing validated to show next to the value declared
    assert [(k, i["corrected"], i["validated"], i["validated_it"]) for k, i in rows.items()
            if i["corrected"] is not False or i["validated"] or i["validated_it"]] == []
    half_unit = 0.5 * 10 ** -doc["scoring"]["precision"] + 1e-9
    measured = [i for i in doc["indicators"] if i["achievement"] is not None]
    assert measured and all(i["published_achievement"] == pytest.approx(100 * i["achievement"], abs=half_unit)
                            for i in measured)


def test_a_decisions_file_among_the_returned_workbooks_is_not_read_as_one(plan, returned):
    for name in ("decisioni.yaml", "decisioni.xlsx"):
        dec = returned / name
        if name.endswith(".yaml"):
            dec.write_text(DECISIONS, encoding="utf-8")
        else:
            from openpyxl import Workbook

            wb = Workbook()
            wb.active.title = "Decisioni"
            wb.active.append(["Tipo", "Obiettivo", "Motivazione", "Deciso da", "Data"])
            wb.active.append(["neutralizza", "SF-3", "Norma sopravvenuta", "Nucleo", "10/03/2026"])
            wb.save(dec)
        c = consolidate([returned], plan, decisions=dec)
        assert not [f for f in c.findings if name in f["file"]], [f for f in c.findings if name in f["file"]]
        assert all(name not in s["path"] for s in c.sources)
        assert any(d["applied"] and d["origin"] == "nucleo" for d in c.decisions)
        dec.unlink()


def test_without_decisions_nothing_changes(plan, returned):
    c = consolidate([returned], plan)
    assert _sector(c, "SF")["score"] == pytest.approx(SF_EXPECTED_SCORE, abs=1e-9)
    assert [d for d in c.decisions if d["sector"] == "SF"] == []


def test_plan_objective_without_target_is_a_recorded_decision_of_the_plan(plan, tmp_path):
    """AV-5 prints no target: its weight is left out, and that is listed as a decision of the plan."""
    folder = tmp_path / "av"
    folder.mkdir()
    book = sector_workbook(plan, plan.sector("AV"))
    values = {k: 1.0 for k, cell in book.sheets[1].inputs.items() if cell.unit == "percent"}
    (folder / "av.xlsx").write_bytes(render(book, prefill=values))
    c = consolidate([folder], plan)
    rec = [d for d in c.decisions if d["objective"] == "AV-5"]
    assert len(rec) == 1 and rec[0]["origin"] == "piano" and rec[0]["kind"] == "neutralise" and rec[0]["applied"]
    assert "AV-6 15 → 16,67" in rec[0]["effect"] and rec[0]["reason"]
    av5 = next(o for o in c.objectives if o["objective"] == "AV-5")
    assert av5["weight_applied"] == 0 and av5["state"] == "excluded"  # left out: applied weight 0
    assert sum(o["weight_applied"] or 0 for o in c.objectives if o["sector"] == "AV") == pytest.approx(100)


@pytest.mark.parametrize(("text", "words"), [
    ("decisions:\n  - {kind: neutralise, objective: ZZ-9, reason: r, by: b, date: 2026-01-01}\n", "ZZ-9"),
    ("decisions:\n  - {kind: neutralise, objective: SF-3, by: b, date: 2026-01-01}\n", "reason"),
    ("decisions:\n  - {kind: neutralise, objective: SF-3, reason: r, date: 2026-01-01}\n", "by"),
    ("decisions:\n  - {kind: neutralise, objective: SF-3, reason: r, by: b}\n", "date"),
    ("decisions:\n  - {kind: neutralise, objective: SF-3, reason: r, by: b, date: domani}\n", "data non valida"),
    ("decisions:\n  - {kind: cancel, objective: SF-3, reason: r, by: b, date: 2026-01-01}\n", "kind"),
    ("decisions:\n  - {kind: correct, indicator: SF-6.1, old: 1, new: 2, reason: r, by: b, date: 2026-01-01}\n",
     "input"),
    ("decisions:\n  - {kind: correct, indicator: SF-1.1, new: 90%, reason: r, by: b, date: 2026-01-01}\n", "old"),
    ("decisions:\n  - {kind: correct, indicator: SF-1.1, old: 9, new: tanto, reason: r, by: b, date: 2026-01-01}\n",
     "tanto"),
    ("decisions:\n  - {kind: correct, indicator: SF-1.2, old: null, new: 2025-13-40, reason: r, by: b, "
     "date: 2026-01-01}\n", "new"),
    ("decisions:\n  - {kind: neutralise, objective: SF-3, reason: r, by: b, date: 2026-01-01, why: x}\n", "why"),
    ("decisions: [\n", "YAML"),
    ("x: &a [1, 2]\ndecisions:\n  - {kind: neutralise, objective: SF-3, reason: *a, by: b, date: 2026-01-01}\n",
     "reason"),
    ("- just a list\n", "decisions"),
])
def test_bad_decisions_are_refused_with_file_and_line(plan, text, words):
    decisions, findings = parse_decisions("# header\n" + text, plan, "decisioni.yaml")
    assert decisions == []
    assert len(findings) == 1 and findings[0].code == "DEC-INVALID", findings
    f = findings[0]
    assert f.file == "decisioni.yaml" and f.line and f.line >= 2, f
    assert words in f.message and "non applicata" in f.message


def test_a_correction_of_a_value_not_reported_is_refused(plan, tmp_path, returned):
    dec = tmp_path / "d.yaml"
    dec.write_text("decisions:\n  - kind: correct\n    indicator: SF-4.2\n    old: 50%\n    new: 100%\n"
                   "    reason: r\n    by: Nucleo\n    date: 2026-03-10\n", encoding="utf-8")
    c = consolidate([returned], plan, decisions=dec)
    assert _sector(c, "SF")["score"] == pytest.approx(SF_EXPECTED_SCORE, abs=1e-9)  # unchanged
    (row,) = [d for d in c.decisions if d["indicator"] == "SF-4.2"]
    assert row["applied"] is False and "95%" in row["effect"] and "50%" in row["effect"]
    (f,) = [f for f in c.findings if f["code"] == "DEC-INVALID"]
    assert f["file"].endswith("d.yaml:2") and f["severity"] == "error"


def test_a_missing_value_can_be_supplied_by_a_correction(plan, tmp_path, returned):
    (returned / "nucleo.xlsx").unlink()  # SF-2.1 (Nucleo) not reported: scores 0
    dec = tmp_path / "d.yaml"
    dec.write_text("decisions:\n  - {kind: correct, indicator: SF-2.1, old: null, new: 80%, reason: verbale 3/2026,"
                   " by: Nucleo, date: 2026-03-10}\n", encoding="utf-8")
    c = consolidate([returned], plan, decisions=dec)
    assert _sector(c, "SF")["score"] == pytest.approx(SF_EXPECTED_SCORE, abs=1e-9)


def test_nucleo_values_count_when_the_responsabile_workbook_has_not_arrived(plan, tmp_path, returned):
    (returned / "sf.xlsx").unlink()
    c = consolidate([returned], plan)
    sf = _sector(c, "SF")
    # only SF-2 (Nucleo, 0.80 x 10 = 8 points) counts; every Responsabile indicator is non rendicontato (0)
    assert sf["score"] == pytest.approx(8.0) and sf["status"] == "scored_with_issues"
    assert any(f["code"] == "WB-NOT-RECEIVED" and f["sector"] == "SF" and "Nucleo" in f["message"]
               for f in c.findings)
    statuses = {i["indicator"]: i["status"] for i in c.indicators if i["sector"] == "SF"}
    assert statuses["SF-2.1"] == "scored" and statuses["SF-1.1"] == "missing"
    # a sector for which the Nucleo's workbook holds no value stays "non pervenuto", unscored
    st = _sector(c, "ST")
    assert st["status"] == "not_received" and st["score"] is None
    assert not c.ok


def test_cli_consolidate_with_decisions(plan, tmp_path, returned):
    dec = tmp_path / "decisioni.yaml"
    dec.write_text(DECISIONS, encoding="utf-8")
    out = tmp_path / "out"
    r = CliRunner().invoke(cli, ["consolidate", str(returned), "-o", str(out / "r.xlsx"), "--json-file",
                                 str(out / "r.json"), "--decisions", str(dec)])
    assert r.exit_code == 1, r.output
    data = json.loads((out / "r.json").read_text(encoding="utf-8"))
    assert {d["kind"] for d in data["decisions"] if d["sector"] == "SF"} == {"neutralise", "not_applicable",
                                                                              "correct"}
    assert "3 decisioni del Nucleo applicate" in r.output


@pytest.mark.parametrize(("decision", "published"), [
    # the worked examples of docs/scoring.md, one decision at a time on the scenario of tests/scenario.py
    ("{kind: neutralise, objective: SF-3", "90,77"),        # (91.694 - 10) x 100 / 90
    ("{kind: not_applicable, indicator: SF-6.1", "95,87"),  # (91.694 - 15) x 100 / 80
    ("{kind: correct, indicator: SF-1.1, old: 90%, new: 95%", "91,94"),  # 91.694 + 0.25
])
def test_worked_examples_of_the_docs(plan, tmp_path, returned, decision, published):
    dec = tmp_path / "d.yaml"
    dec.write_text(f"decisions:\n  - {decision}, reason: r, by: Nucleo, date: 2026-03-10}}\n", encoding="utf-8")
    c = consolidate([returned], plan, decisions=dec)
    score = _sector(c, "SF")["score"]
    assert f"{plan.scoring.published(score):.2f}".replace(".", ",") == published
    assert published in (Path(__file__).parents[1] / "docs" / "scoring.md").read_text(encoding="utf-8")


def test_decisions_from_a_workbook(plan, tmp_path, returned):
    """The Nucleo can keep its decisions in a workbook: a «Decisioni» sheet, one decision per row."""
    from datetime import datetime

    from openpyxl import Workbook

    wb = Workbook()
    wb.active.title = "Note"
    ws = wb.create_sheet("Decisioni")
    ws.append(["Decisioni del Nucleo di Valutazione 2025"])
    ws.append([])
    ws.append(["Tipo", "Obiettivo", "Indicatore", "Campo", "Valore precedente", "Nuovo valore", "Motivazione",
               "Deciso da", "Data"])
    ws.append(["neutralizza", "SF-3", None, None, None, None, "Obiettivo superato da una norma sopravvenuta",
               "Nucleo di Valutazione", datetime(2026, 3, 10)])
    ws.append(["correzione", None, "SF-1.1", "valore", 0.9, 0.95, "Errore di trascrizione", "Nucleo di Valutazione",
               "10/03/2026"])
    ws.append([])
    ws.append(["non applicabile", None, "SF-6.1", None, None, None, "Nessuna somma stanziata", "Nucleo", "2026-03-10"])
    ws.append(["correzione", None, "SF-99.1", None, 1, 2, "indicatore inesistente", "Nucleo", "2026-03-10"])
    ws.append(["correzione", None, "SF-4.2", None, 0.95, "molto", "valore non valido", "Nucleo", "2026-03-10"])
    path = tmp_path / "decisioni.xlsx"
    wb.save(path)
    before = path.read_bytes()
    c = consolidate([returned], plan, decisions=path)
    assert path.read_bytes() == before
    # the same three decisions as DECISIONS (YAML): the same score
    expected = (9.75 + 8 + 9.75 + 85 / 90 * 10 + 30) * 100 / 70
    assert _sector(c, "SF")["score"] == pytest.approx(expected, abs=1e-9)
    applied = [d for d in c.decisions if d["origin"] == "nucleo"]
    assert {(d["kind"], d["applied"]) for d in applied} == {("neutralise", True), ("correct", True),
                                                            ("not_applicable", True)}
    corr = next(d for d in applied if d["kind"] == "correct")
    assert corr["where"].endswith("decisioni.xlsx: 'Decisioni'!A5") and corr["date"] == "2026-03-10"
    bad = sorted((f["sheet"], f["cell"], f["message"]) for f in c.findings if f["code"] == "DEC-INVALID")
    assert [(s, cell) for s, cell, _ in bad] == [("Decisioni", "C8"), ("Decisioni", "F9")]
    assert "SF-99.1" in bad[0][2] and "molto" in bad[1][2]


@pytest.mark.parametrize(("name", "data", "words"), [
    ("decisioni.xlsx", b"not a zip at all", "rifiutato"),
    ("decisioni.ods", b"PK\x03\x04broken", "rifiutato"),
])
def test_unreadable_decision_workbooks_are_a_finding(plan, tmp_path, returned, name, data, words):
    path = tmp_path / name
    path.write_bytes(data)
    c = consolidate([returned], plan, decisions=path)
    (f,) = [f for f in c.findings if f["code"] == "DEC-INVALID"]
    assert words in f["message"] and f["file"].endswith(name)
    assert _sector(c, "SF")["score"] == pytest.approx(SF_EXPECTED_SCORE, abs=1e-9)


def test_a_workbook_without_a_decisioni_sheet(plan, tmp_path, returned):
    from openpyxl import Workbook

    path = tmp_path / "d.xlsx"
    Workbook().save(path)
    c = consolidate([returned], plan, decisions=path)
    assert any(f["code"] == "DEC-INVALID" and "Decisioni" in f["message"] for f in c.findings)


OUT_OF_RANGE = {  # the new value, and what the form itself would say about it typed in the input cell
    "a percentage as a plain 95": ("SF-1.1", "", "95", "forse intendeva 95%"),
    "a percentage over 100%": ("SF-1.1", "", "150%", "fuori dall'intervallo"),
    "a negative percentage": ("SF-1.1", "", "-5%", "fuori dall'intervallo"),
    "a negative amount": ("SF-6.1", "numeratore", "-1000", "importo negativo"),
    "a date decades away": ("SF-1.2", "", "15/11/1990", "fuori dal periodo ammesso"),
    "a date far in the future": ("AV-7.1", "", "2099-01-01", "fuori dal periodo ammesso"),
    "a Nucleo percentage over 100%": ("SF-2.1", "", "101%", "fuori dall'intervallo"),
}


@pytest.mark.parametrize(("indicator", "field", "new", "words"), OUT_OF_RANGE.values(), ids=OUT_OF_RANGE.keys())
def test_a_correction_goes_through_the_input_s_own_validation(plan, indicator, field, new, words):
    text = ("# decisioni del Nucleo\ndecisions:\n  - kind: correct\n    indicator: " + indicator + "\n" +
            (f"    input: {field}\n" if field else "") +
            f"    old: null\n    new: '{new}'\n    reason: r\n    by: Nucleo\n    date: 2026-03-10\n")
    decisions, findings = parse_decisions(text, plan, "decisioni.yaml")
    assert decisions == []
    (f,) = findings
    assert f.code == "DEC-INVALID" and f.file == "decisioni.yaml" and f.line == 6 + bool(field), f  # the line of new:
    assert words in f.message and "non applicata" in f.message, f.message


def test_a_correction_inside_the_range_is_still_applied(plan):
    text = ("decisions:\n  - {kind: correct, indicator: SF-1.1, old: null, new: 95%, reason: r, by: b, "
            "date: 2026-01-01}\n  - {kind: correct, indicator: SF-6.1, input: numeratore, old: null, new: 1000, "
            "reason: r, by: b, date: 2026-01-01}\n")
    decisions, findings = parse_decisions(text, plan, "decisioni.yaml")
    assert findings == [] and [d.new for d in decisions] == [pytest.approx(0.95), 1000.0]
