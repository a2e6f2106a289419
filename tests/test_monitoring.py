"""Monitoring rounds: the core model, the round's forms out and back (openpyxl, LibreOffice), the round's identity,
the commands `monitoraggio apri` and `monitoraggio rapporto`, and the report."""

from __future__ import annotations

import json
import time
import zipfile
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from piao_xls.cli import cli
from piao_xls.core.evaluation import Provenance
from piao_xls.core.rounds import (
    Cause,
    Change,
    ObjectiveReport,
    ProposedRevision,
    RevisionKind,
    Round,
    RoundReturn,
    RoundState,
    evaluate_round,
)
from piao_xls.forms.layout import ROUND_PROPERTY, round_key, round_workbooks, sector_workbook
from piao_xls.forms.writer import render
from piao_xls.returns.monitoring import read_round_workbook, round_returns
from piao_xls.returns.reader import ACCEPTED, REJECTED, read_workbook

JUNE, SEPTEMBER = date(2025, 6, 30), date(2025, 9, 30)


# --- the core ----------------------------------------------------------------------------------------------------

def _sf_return(state6: RoundState, when: str, progress3: float | None = None) -> RoundReturn:
    values = {"SF-3.1": {"value": 0.4}, "SF-1.1": {"value": 0.5}, "SF-1.2": {"date": "non ancora misurabile"}}
    reports = {o: ObjectiveReport(o, RoundState.ON_TRACK) for o in ("SF-1", "SF-3")}
    reports["SF-3"] = ObjectiveReport("SF-3", RoundState.ON_TRACK, progress3)
    reports["SF-6"] = ObjectiveReport("SF-6", state6, None, Cause.EXTERNAL, "Solleciti",
                                      ProposedRevision(RevisionKind.TARGET, "80%", "Banca dati in ritardo"))
    return RoundReturn("SF", values=values, not_yet=frozenset({"SF-1.2"}), reports=reports,
                       provenance=Provenance(file=f"sf-{when}.xlsx", sent=when))


def test_a_round_is_the_evaluation_at_its_date_with_what_was_declared(plan):
    june = evaluate_round(plan, Round(JUNE, plan.plan_id, plan.year),
                          [_sf_return(RoundState.AT_RISK, "2025-07-05T10:00:00+02:00")])
    sf = june.sector("SF")
    by_id = {o.objective_id: o for o in sf.objectives}
    # SF-3.1 is "at least 100%": 40% at the date is an achievement of 0.4, the computed progress
    assert by_id["SF-3"].progress == pytest.approx(0.4) and by_id["SF-3"].progress_computed
    # SF-1.2 is not measurable yet: no computed progress for SF-1, and the reading says so
    assert by_id["SF-1"].progress is None
    reading = {r.indicator_id: r for r in by_id["SF-1"].readings}
    assert reading["SF-1.2"].not_yet and not reading["SF-1.2"].measured and reading["SF-1.1"].measured
    # the sector's light is its worst objective's; a sector without a return is not reported
    assert sf.state == RoundState.AT_RISK and sf.received
    assert june.sector("SA").state == RoundState.NOT_REPORTED and not june.sector("SA").received
    assert [o.objective_id for o in june.at_risk()] == ["SF-6"]
    assert [o.report.revision.kind for o in june.proposals()] == [RevisionKind.TARGET]
    assert all(o.change == Change.FIRST for o in june.objectives)

    sept = evaluate_round(plan, Round(SEPTEMBER, plan.plan_id, plan.year),
                          [_sf_return(RoundState.CRITICAL, "2025-10-02T10:00:00+02:00", progress3=0.7)], june)
    by_id = {o.objective_id: o for o in sept.sector("SF").objectives}
    assert sept.previous == JUNE
    assert by_id["SF-6"].change == Change.WORSE and by_id["SF-6"].previous == RoundState.AT_RISK
    assert by_id["SF-1"].change == Change.SAME
    # a declared progress stands before the computed one
    assert by_id["SF-3"].progress == 0.7 and not by_id["SF-3"].progress_computed
    assert sept.sector("SF").state == RoundState.CRITICAL


def test_the_return_sent_last_counts_in_a_round(plan):
    early = _sf_return(RoundState.AT_RISK, "2025-07-01T09:00:00+02:00")
    late = _sf_return(RoundState.ON_TRACK, "2025-07-03T09:00:00+02:00")
    for order in ([early, late], [late, early]):
        ev = evaluate_round(plan, Round(JUNE), order)
        assert {o.objective_id: o.state for o in ev.sector("SF").objectives}["SF-6"] == RoundState.ON_TRACK


# --- the forms --------------------------------------------------------------------------------------------------

def _sf_book(plan, as_of=JUNE):
    return next(b for b in round_workbooks(plan, as_of) if b.sector_codes == ("SF",))


def _fill(path: Path, book, values: dict) -> None:
    """Fill input cells as a person would, with openpyxl, and save."""
    sheet = book.sheets[1]
    wb = openpyxl.load_workbook(path)
    ws = wb[sheet.name]
    for key, v in values.items():
        c = sheet.inputs[key]
        ws.cell(c.row + 1, c.col + 1).value = v
    wb.save(path)


def _every_indicator(book, value: object = 0.5) -> dict:
    """A value for every indicator input of the sheet: ``value`` for percentages, a plausible value otherwise."""
    out: dict = {}
    for key, c in book.sheets[1].inputs.items():
        if "|mon|" in key or c.unit == "text":
            continue
        out[key] = {"percent": value, "number": 3, "amount": 1000.0, "date": "non ancora misurabile",
                    "yes_no": "Sì"}[c.unit]
    return out


@pytest.fixture
def june_form(plan, tmp_path):
    book = _sf_book(plan)
    path = tmp_path / book.filename
    path.write_bytes(render(book))
    return book, path


def test_a_round_form_names_its_round_and_asks_for_the_round(plan, june_form):
    book, path = june_form
    assert book.filename == "PIAO-2025-Monitoraggio-30-06-2025-SF-Finanziario.xlsx"
    with zipfile.ZipFile(path) as z:
        custom = z.read("docProps/custom.xml").decode()
    assert ROUND_PROPERTY in custom and "2025-06-30" in custom
    wb = openpyxl.load_workbook(path)
    ws = wb[book.sheets[1].name]
    assert ws.protection.sheet and wb.security.lockStructure
    assert "Monitoraggio al 30/06/2025" in ws["A2"].value
    # the state is a list of the three words, the value cells also accept «non ancora misurabile»
    state = book.sheets[1].inputs[round_key("SF-6", "stato")]
    rules = {str(dv.sqref).split(":")[0]: dv for dv in ws.data_validations.dataValidation}
    assert rules[state.ref].type == "list" and rules[state.ref].formula1 == '"in linea,a rischio,critico"'
    value = book.sheets[1].inputs["SF-3.1|value"]
    assert 'non ancora misurabile' in rules[value.ref].formula1
    assert not ws[state.ref].protection.locked and ws["A1"].protection.locked
    # no band at mid-year: the provisional total is no judgement
    band = next(c for c in book.sheets[1].cells if c.value == "Fascia di valutazione")
    assert ws.cell(band.row + 1, 6).value == "non attribuita al monitoraggio"


def test_a_round_form_filled_and_read_back(plan, june_form):
    book, path = june_form
    _fill(path, book, {**_every_indicator(book), **{round_key(o.id, "stato"): "in linea"
                                                     for o in plan.sector("SF").objectives},
                       round_key("SF-6", "stato"): "A rischio ",  # as typed: case and spaces do not matter
                       round_key("SF-6", "causa"): "esterna",
                       round_key("SF-6", "azione"): "Solleciti ai contribuenti",
                       round_key("SF-6", "revisione"): "nuovo target",
                       round_key("SF-6", "nuovo"): "Accertamento dell'80% delle somme stanziate",
                       round_key("SF-6", "motivo"): "Ritardi della banca dati catastale",
                       round_key("SF-6", "evidenze"): "Nota prot. 1234 del 20/06/2025",
                       round_key("SF-3", "avanzamento"): 0.45})
    res = read_round_workbook(path, plan, JUNE)
    assert res.status == ACCEPTED, [str(f) for f in res.findings]
    (ret,) = round_returns(res, plan)
    assert ret.sector == "SF" and ret.values["SF-3.1"] == {"value": 0.5}
    assert "SF-1.2" in ret.not_yet
    six = ret.reports["SF-6"]
    assert (six.state, six.cause, six.action) == (RoundState.AT_RISK, Cause.EXTERNAL, "Solleciti ai contribuenti")
    assert six.revision == ProposedRevision(RevisionKind.TARGET, "Accertamento dell'80% delle somme stanziate",
                                            "Ritardi della banca dati catastale")
    assert six.evidence == "Nota prot. 1234 del 20/06/2025"
    assert ret.reports["SF-3"].progress == pytest.approx(0.45)


def test_what_a_round_requires_is_asked_for_by_cell(plan, june_form):
    book, path = june_form
    fill = _every_indicator(book)
    del fill["SF-3.1|value"]
    _fill(path, book, {**fill, "SF-7.1|value": "non disponibile",
                       round_key("SF-6", "stato"): "critico", round_key("SF-6", "revisione"): "nuovo peso",
                       round_key("SF-1", "causa"): "colpa di qualcuno"})
    res = read_round_workbook(path, plan, JUNE)
    assert res.status == REJECTED
    found = {(f.code, f.cell) for f in res.findings}
    sheet = book.sheets[1]
    ref = {k: sheet.inputs[k].ref for k in sheet.inputs}
    assert ("WB-MISSING", ref["SF-3.1|value"]) in found  # a value or «non ancora misurabile»
    assert ("WB-MISSING", ref[round_key("SF-1", "stato")]) in found  # every objective's state
    assert ("WB-ANALYSIS", ref[round_key("SF-6", "causa")]) in found  # critical: its cause
    assert ("WB-ANALYSIS", ref[round_key("SF-6", "azione")]) in found  # and its corrective action
    assert ("WB-ANALYSIS", ref[round_key("SF-6", "nuovo")]) in found  # a revision: its new value
    assert ("WB-VALUE", ref[round_key("SF-1", "causa")]) in found  # not one of the listed causes
    assert ("WB-ANALYSIS", ref["SF-7.1|analisi"]) in found  # «non disponibile» needs its reason
    messages = " ".join(f.message for f in res.findings)
    assert "indicare lo stato al 30/06/2025" in messages and "descrivere l'azione correttiva" in messages


def test_a_round_form_is_never_taken_for_another_rounds_or_the_year_end(plan, june_form, tmp_path):
    book, path = june_form
    _fill(path, book, _every_indicator(book))
    as_year_end = read_workbook(path, plan)
    assert as_year_end.status == REJECTED and not as_year_end.sectors
    assert [f.code for f in as_year_end.findings] == ["WB-IDENTITY"]
    assert "monitoraggio al 30/06/2025" in as_year_end.findings[0].message
    other = read_round_workbook(path, plan, SEPTEMBER)
    assert other.status == REJECTED and not other.sectors
    assert "non quello al 30/09/2025" in other.findings[0].message
    year_end = sector_workbook(plan, plan.sector("SF"))
    ye = tmp_path / year_end.filename
    ye.write_bytes(render(year_end))
    wrong = read_round_workbook(ye, plan, JUNE)
    assert wrong.status == REJECTED and not wrong.sectors
    assert "rendicontazione di fine anno" in wrong.findings[0].message
    # each refusal names its file (docs/security.md: findings name file, sheet and cell)
    assert [r.findings[0].file for r in (as_year_end, other, wrong)] == [str(path), str(path), str(ye)]


def test_a_round_form_keeps_the_tamper_checks(plan, june_form):
    book, path = june_form
    wb = openpyxl.load_workbook(path)
    ws = wb[book.sheets[1].name]
    label = next(c for c in book.sheets[1].cells if c.kind == "label" and c.value == "Causa dello scostamento")
    ws.cell(label.row + 1, label.col + 1).value = "Causa"
    wb.save(path)
    res = read_round_workbook(path, plan, JUNE)
    assert any(f.code == "WB-TAMPERED" and f.cell == label.ref for f in res.findings)
    assert not res.sectors


# --- the commands --------------------------------------------------------------------------------------------------

def invoke(*args, cwd: Path):
    return CliRunner().invoke(cli, ["-C", str(cwd), *args])


def _return_round(ws: Path, plan, as_of: date, state6: str) -> None:
    """Every sector's form of the round filled as its Responsabile would, saved among the round's returns."""
    folder = ws / "ricevuti" / f"monitoraggio-{as_of.isoformat()}"
    folder.mkdir(parents=True, exist_ok=True)
    for book in round_workbooks(plan, as_of):
        if book.kind != "sector":
            continue
        target = folder / book.filename
        target.write_bytes((ws / "moduli" / "2025" / f"monitoraggio-{as_of.isoformat()}" / book.filename).read_bytes())
        states = {round_key(o.id, "stato"): "in linea" for o in plan.sector(book.sector_codes[0]).objectives}
        extra = {round_key("SF-6", "stato"): state6, round_key("SF-6", "causa"): "interna",
                 round_key("SF-6", "azione"): "Rafforzamento dell'ufficio tributi"} if book.sector_codes == ("SF",) \
            else {}
        _fill(target, book, {**_every_indicator(book), **states, **extra})


def test_two_rounds_in_a_workspace(plan, tmp_path):
    r = CliRunner().invoke(cli, ["crea", str(tmp_path / "ws"), "--scadenza", "31/01/2026"])
    assert r.exit_code == 0, r.output
    ws = tmp_path / "ws"
    r = invoke("monitoraggio", "apri", "31/12/2024", cwd=ws)
    assert r.exit_code == 2 and "non cade nell'anno del piano" in r.output
    t = time.perf_counter()
    r = invoke("monitoraggio", "apri", "30/06/2025", cwd=ws)
    opened = time.perf_counter() - t
    assert r.exit_code == 0, r.output
    june = ws / "moduli" / "2025" / "monitoraggio-2025-06-30"
    assert sorted(p.name for p in june.iterdir()) == sorted(b.filename for b in round_workbooks(plan, JUNE))
    _return_round(ws, plan, JUNE, "a rischio")
    t = time.perf_counter()
    r = invoke("monitoraggio", "rapporto", "30/06/2025", "--no-pdf", cwd=ws)
    reported = time.perf_counter() - t
    assert r.exit_code == 0, r.output
    assert "SF: a rischio" in r.output and "SA: in linea" in r.output
    assert opened + reported < 60
    # the next round's forms carry the June returns
    r = invoke("monitor", "open", "30/09/2025", cwd=ws)  # the English names
    assert r.exit_code == 0 and "precompilati con le risposte del monitoraggio al 30/06/2025" in r.output, r.output
    book = _sf_book(plan, SEPTEMBER)
    prefilled = openpyxl.load_workbook(ws / "moduli" / "2025" / "monitoraggio-2025-09-30" / book.filename)
    state = book.sheets[1].inputs[round_key("SF-6", "stato")]
    assert prefilled[book.sheets[1].name][state.ref].value == "a rischio"
    _return_round(ws, plan, SEPTEMBER, "critico")
    # a June return put among September's is refused, never counted for September
    stray = ws / "ricevuti" / "monitoraggio-2025-09-30" / "giugno.xlsx"
    stray.write_bytes((ws / "ricevuti" / "monitoraggio-2025-06-30" / book.filename.replace("30-09", "30-06"))
                      .read_bytes())
    r = invoke("monitoraggio", "rapporto", "30/09/2025", "--no-pdf", cwd=ws)
    assert r.exit_code == 1 and "giugno.xlsx: da correggere" in r.output and "monitoraggio al 30/06/2025" in r.output
    report = openpyxl.load_workbook(ws / "risultati" / "PIAO-2025-Monitoraggio-30-09-2025.xlsx")
    rows = [row for row in report["Variazioni"].iter_rows(min_row=5, values_only=True)]
    assert [(r[1], r[2], r[3]) for r in rows] == [("a rischio", "critico", "peggiorato")]
    assert rows[0][0].startswith("SF-6 ")
    assert (ws / "risultati" / "PIAO-2025-Monitoraggio-30-09-2025.docx").exists()


@pytest.mark.libreoffice
def test_the_round_report_with_its_pdf_in_under_ten_seconds(plan, tmp_path, libreoffice):
    from piao_xls.results.monitoring import write_round_report

    returns = [_sf_return(RoundState.AT_RISK, "2025-07-05T10:00:00+02:00")]
    rev = evaluate_round(plan, Round(JUNE, plan.plan_id, plan.year), returns)
    t = time.perf_counter()
    written = write_round_report(rev, tmp_path / "rapporto.xlsx")
    assert time.perf_counter() - t < 10
    pdf = written[-1]
    assert pdf.suffix == ".pdf" and pdf.read_bytes()[:5] == b"%PDF-"
    text = zipfile.ZipFile(written[1]).read("word/document.xml").decode()
    assert "Monitoraggio degli obiettivi di performance al 30/06/2025" in text
    assert "Obiettivi a rischio o critici" in text and "nuovo target" in text


@pytest.mark.libreoffice
@pytest.mark.parametrize("fmt", ["xlsx", "ods"])
def test_a_round_form_typed_in_libreoffice_is_read_back(plan, tmp_path, libreoffice, fmt):
    book = _sf_book(plan)
    src = tmp_path / book.filename
    src.write_bytes(render(book))
    sheet = book.sheets[1]
    typed = {k: ("50%" if v == 0.5 else str(v) if not isinstance(v, float) else f"{v:g}")
             for k, v in _every_indicator(book).items()}
    typed.update({round_key(o.id, "stato"): "in linea" for o in plan.sector("SF").objectives})
    typed.update({round_key("SF-6", "stato"): "critico", round_key("SF-6", "causa"): "indicatore da rivedere",
                  round_key("SF-6", "azione"): "Ridefinire l'indicatore con la Giunta",
                  round_key("SF-6", "revisione"): "nuova scadenza", round_key("SF-6", "nuovo"): "31/03/2026",
                  round_key("SF-6", "motivo"): "Il dato si consolida solo a marzo"})
    out = tmp_path / "out" / f"ritorno.{fmt}"
    with libreoffice.open(src) as doc:
        for key, text in typed.items():
            assert doc.type_into(sheet.name, sheet.inputs[key].ref, text, validate=True), key
        doc.save_as(out, fmt)
    res = read_round_workbook(out, plan, JUNE)
    assert res.status == ACCEPTED, [str(f) for f in res.findings]
    (ret,) = round_returns(res, plan)
    assert ret.values["SF-3.1"]["value"] == pytest.approx(0.5)
    assert "SF-1.2" in ret.not_yet
    six = ret.reports["SF-6"]
    assert six.state == RoundState.CRITICAL and six.cause == Cause.INDICATOR
    assert six.revision == ProposedRevision(RevisionKind.DEADLINE, "31/03/2026", "Il dato si consolida solo a marzo")
    # a value outside the list is refused by the cell itself, as in Excel
    with libreoffice.open(src) as doc:
        assert not doc.type_into(sheet.name, sheet.inputs[round_key("SF-6", "stato")].ref, "benino", validate=True)


# --- a round through the year's mail commands -------------------------------------------------------------------

def test_a_round_goes_out_and_comes_back_through_the_years_commands(plan, tmp_path):
    """invia --monitoraggio (drafts), raccogli (replies as .eml, one a year-end form by mistake), stato --monitoraggio,
    rapporto: the round is in every subject, file name and ledger row, and never mixed with the year end."""
    import email
    import email.policy
    import sqlite3

    from test_year import mail
    from workspace_case import new_workspace

    ws = new_workspace(tmp_path, addresses=True, italian=True)
    assert invoke("monitoraggio", "apri", "30/06/2025", cwd=ws).exit_code == 0
    t = time.perf_counter()
    r = invoke("invia", "--monitoraggio", "30/06/2025", "--entro", "15/07/2025", cwd=ws)
    assert r.exit_code == 0, r.output
    drafts = sorted((ws / "bozze").glob("*.eml"))
    assert drafts and all("2025-06-30" in d.name for d in drafts)
    sf = next(email.message_from_bytes(d.read_bytes(), policy=email.policy.default) for d in drafts if "-SF-" in d.name)
    assert "[PIAO-2025 SF]" in sf["Subject"] and "monitoraggio al 30/06/2025" in sf["Subject"]
    assert "(entro il 15/07/2025)" in sf["Subject"]
    (att,) = [p for p in sf.walk() if p.get_filename()]
    assert att.get_filename() == "PIAO-2025-Monitoraggio-30-06-2025-SF-Finanziario.xlsx"
    # the year-end forms are still to send: a round's sending is not the year's
    r = invoke("invia", "--dry-run", "--json", cwd=ws)
    assert {a["outcome"] for a in json.loads(r.output)["actions"]} == {"da inviare"}, r.output

    book = _sf_book(plan)
    form = tmp_path / book.filename
    form.write_bytes(att.get_payload(decode=True))
    _fill(form, book, {**_every_indicator(book), **{round_key(o.id, "stato"): "in linea"
                                                     for o in plan.sector("SF").objectives},
                       round_key("SF-6", "stato"): "a rischio", round_key("SF-6", "causa"): "esterna",
                       round_key("SF-6", "azione"): "Solleciti"})
    inbox = tmp_path / "allegati"
    inbox.mkdir()
    reply = mail("sf.responsabile@comune.test", f"Re: {sf['Subject']}", sf["Message-ID"],
                 [(book.filename, form.read_bytes())])
    (inbox / "risposta-sf.eml").write_bytes(bytes(reply))
    year_end = ws / "moduli" / "2025" / "PIAO-2025-SF-Finanziario.xlsx"  # sent back by mistake
    wrong = mail("sf.responsabile@comune.test", "Re: modulo", attachments=[(year_end.name, year_end.read_bytes())])
    (inbox / "sbaglio.eml").write_bytes(bytes(wrong))
    st_book = next(b for b in round_workbooks(plan, JUNE) if b.sector_codes == ("ST",))
    st_draft = next(email.message_from_bytes(d.read_bytes(), policy=email.policy.default) for d in drafts
                    if "-ST-" in d.name)
    st_form = tmp_path / st_book.filename  # returned without the objectives' states: to correct
    st_form.write_bytes(next(p for p in st_draft.walk() if p.get_filename()).get_payload(decode=True))
    _fill(st_form, st_book, _every_indicator(st_book))
    (inbox / "risposta-st.eml").write_bytes(bytes(mail("st.responsabile@comune.test", f"Re: {st_draft['Subject']}",
                                                       st_draft["Message-ID"], [(st_book.filename,
                                                                                 st_form.read_bytes())])))
    r = invoke("raccogli", str(inbox), cwd=ws)
    assert "[monitoraggio al 30/06/2025]" in r.output, r.output
    r = invoke("rispondi", "--monitoraggio", "30/06/2025", cwd=ws)
    assert r.exit_code == 0 and r.output.startswith("ST "), r.output
    answer = max((ws / "bozze").glob("*risposta-ST-2025-06-30*"))
    answer = email.message_from_bytes(answer.read_bytes(), policy=email.policy.default)
    assert answer["In-Reply-To"] and "monitoraggio al 30/06/2025" in answer["Subject"]
    assert "indicare lo stato al 30/06/2025" in answer.get_body(("plain",)).get_content()
    # the year's replies are about the year-end form sent by mistake only, never about a round's return
    year_replies = json.loads(invoke("rispondi", "--dry-run", "--json", cwd=ws).output)["actions"]
    assert [a["code"] for a in year_replies] == ["SF"]
    assert year_replies[0]["file"] not in {p.name for p in (ws / "ricevuti" / "monitoraggio-2025-06-30").iterdir()}
    r = invoke("sollecita", "--monitoraggio", "30/06/2025", "--oggi", "2025-07-12", cwd=ws)
    reminded = {line.split()[0] for line in r.output.splitlines() if "bozza preparata" in line}
    assert reminded == {"SA", "AV", "ST", "nucleo", "esterno"}, r.output  # SF's return is accepted
    nudge = max((ws / "bozze").glob("*sollecito-SA-2025-06-30*"))
    assert "monitoraggio al 30/06/2025" in email.message_from_bytes(nudge.read_bytes(), policy=email.policy.default)[
        "Subject"]
    r = invoke("sollecita", "--oggi", "2025-07-12", cwd=ws)  # the year's deadline is far: no year-end reminder
    assert "nessun sollecito: mancano" in r.output
    saved = sorted((ws / "ricevuti" / "monitoraggio-2025-06-30").iterdir())
    assert [p.name[:3] for p in saved] == ["SF-", "ST-"]
    r = invoke("stato", "--monitoraggio", cwd=ws)  # the round opened last
    assert "monitoraggio al 30/06/2025" in r.output
    lines = r.output.splitlines()
    sf_line = next(i for i, x in enumerate(lines) if x.startswith("SF "))
    assert "accettato" in lines[sf_line] and "conta: SF-" in "\n".join(lines[sf_line:sf_line + 5])
    assert next(x for x in lines if x.startswith("SA ")).split()[1] == "mancante"
    # the year-end state counts the year-end file only (it is to correct: empty), never the round's return
    r = invoke("stato", "--json", cwd=ws)
    year = {p["code"]: p for p in json.loads(r.output)["parties"]}
    assert "Monitoraggio" not in year["SF"]["file"]
    r = invoke("monitoraggio", "rapporto", "30/06/2025", "--no-pdf", cwd=ws)
    assert r.exit_code == 1 and "SF: a rischio" in r.output, r.output  # ST's return is still to correct
    assert time.perf_counter() - t < 60
    # the year-end consolidation never reads a round's returns (not even to refuse them)
    r = invoke("consolida", "--json", cwd=ws)
    sources = [x["path"] for x in json.loads(r.output)["sources"]]
    assert sources and not any("monitoraggio-" in x for x in sources), sources
    db = sqlite3.connect(ws / "registro.sqlite")
    rounds = {row[0] for row in db.execute("SELECT round FROM messages WHERE kind = 'invio'")}
    assert rounds == {"2025-06-30"}
    generated = {row[0] for row in db.execute("SELECT name FROM files WHERE role = 'generato' AND round = '2025-06-30'")}
    assert generated == {b.filename for b in round_workbooks(plan, JUNE)}
    checks = {(row[0], row[1]) for row in db.execute("SELECT round, status FROM checks")}
    assert ("2025-06-30", "accepted") in checks and ("", "rejected") in checks
    assert db.execute("SELECT COUNT(*) FROM evaluations WHERE round = '2025-06-30'").fetchone()[0] == 1


@pytest.mark.dovecot
def test_a_round_out_and_back_with_the_real_servers_in_under_a_minute(plan, tmp_path):
    """The bundled plan's round at 30/06: forms by SMTP (aiosmtpd, STARTTLS + AUTH), every sector's return into
    Dovecot, collected by IMAP, the round's state and report; the tool's own time under a minute."""
    from email import message_from_bytes, policy

    from mailservers import Dovecot, SmtpServer
    from test_year import mail, use_servers

    ws = tmp_path / "PIAO-2025"
    tool = 0.0

    def run(*args, code=0):
        nonlocal tool
        t = time.perf_counter()
        r = CliRunner().invoke(cli, ["-C", str(ws), *args], env=env)
        tool += time.perf_counter() - t
        assert r.exit_code == code, (args, r.output, r.exception)
        return r

    with SmtpServer(tmp_path) as smtp, Dovecot() as dovecot:
        env = {"PIAO_XLS_SMTP_PASSWORD": smtp.password, "PIAO_XLS_IMAP_PASSWORD": dovecot.password}
        assert CliRunner().invoke(cli, ["crea", str(ws), "--scadenza", "31/01/2026"]).exit_code == 0
        use_servers(ws / "piao-xls.toml", smtp, dovecot)
        run("monitoraggio", "apri", "30/06/2025")
        actions = json.loads(run("invia", "--monitoraggio", "30/06/2025", "--entro", "15/07/2025", "--json")
                             .output)["actions"]
        assert {a["outcome"] for a in actions} == {"inviato"} and len(smtp.messages) == 6
        sent = {}
        for m in smtp.messages:
            msg = message_from_bytes(m["data"], policy=policy.default)
            assert m["tls"] and m["auth"] and msg["X-PIAO-Round"] == "2025-06-30"
            sent[str(msg["X-PIAO-Sector"])] = msg
        for code in ("SA", "SF", "ST", "AV"):
            msg = sent[code]
            (att,) = list(msg.iter_attachments())
            book = next(b for b in round_workbooks(plan, JUNE) if b.sector_codes == (code,))
            form = tmp_path / book.filename
            form.write_bytes(att.get_content())
            states = {round_key(o.id, "stato"): "in linea" for o in plan.sector(code).objectives}
            if code == "SF":
                states |= {round_key("SF-6", "stato"): "a rischio", round_key("SF-6", "causa"): "esterna",
                           round_key("SF-6", "azione"): "Solleciti", round_key("SF-6", "revisione"): "nuovo target",
                           round_key("SF-6", "nuovo"): "80%", round_key("SF-6", "motivo"): "Banca dati in ritardo"}
            _fill(form, book, {**_every_indicator(book), **states})
            dovecot.deliver(mail(f"{code.lower()}.responsabile@comune.test", f"Re: {msg['Subject']}",
                                 msg["Message-ID"], [(book.filename, form.read_bytes())]).as_bytes())
        items = json.loads(run("raccogli", "--json").output)["items"]
        assert sorted(i["sector"] for i in items) == ["AV", "SA", "SF", "ST"]
        assert {(i["round"], i["status"]) for i in items} == {("2025-06-30", "accepted")}
        state = json.loads(run("stato", "--monitoraggio", "30/06/2025", "--json", code=1).output)  # Nucleo: missing
        by = {p["code"]: p["status"] for p in state["parties"]}
        assert [c for c, s in by.items() if s == "accepted"] == ["SA", "SF", "ST", "AV"]
        r = run("monitoraggio", "rapporto", "30/06/2025", "--no-pdf")
        assert "SF: a rischio" in r.output
    assert tool < 60, f"{tool:.1f} s"
    print(f"round out and back, tool time {tool:.1f} s")


# --- a revision started from the round's proposals ----------------------------------------------------------------

def test_proposals_apply_where_they_say_one_thing(plan):
    from piao_xls.core.rounds import apply_proposals

    def proposing(obj: str, kind: RevisionKind, value: str) -> ObjectiveReport:
        return ObjectiveReport(obj, RoundState.AT_RISK, None, Cause.INTERNAL, "Azione",
                               ProposedRevision(kind, value, "Motivo"))

    reports = {"SF-6": proposing("SF-6", RevisionKind.TARGET, "Accertamento del 90% delle somme stanziate nel "
                                                               "Bilancio 2025"),
               "SF-3": proposing("SF-3", RevisionKind.WEIGHT, "15,5%"),
               "SF-1": proposing("SF-1", RevisionKind.TARGET, "95%"),  # two scored indicators: which one?
               "SF-4": proposing("SF-4", RevisionKind.DEADLINE, "entro l'estate")}
    rev = evaluate_round(plan, Round(JUNE), [RoundReturn("SF", reports=reports)])
    draft, done = apply_proposals(plan, rev)
    why = {a.objective_id: a.reason for a in done}
    assert why == {"SF-1": "several_indicators", "SF-3": "", "SF-4": "deadline_not_a_date", "SF-6": ""}
    new = {o.id: o for o in draft.objectives}
    old = {o.id: o for o in plan.objectives}
    assert new["SF-6"].indicators[0].rule.target == pytest.approx(0.9)
    assert new["SF-6"].indicators[0].target_text.startswith("Accertamento del 90%")
    assert new["SF-3"].weight == 15.5
    assert new["SF-1"] == old["SF-1"] and new["SF-4"] == old["SF-4"]
    assert all(new[k] == old[k] for k in old if k not in ("SF-3", "SF-6"))


def test_a_revision_started_from_a_rounds_proposals(plan, tmp_path):
    r = CliRunner().invoke(cli, ["crea", str(tmp_path / "ws"), "--scadenza", "31/01/2026"])
    ws = tmp_path / "ws"
    assert invoke("piano", "adozione", "--atto", "Delibera di Giunta comunale n. 12", "--data", "30/01/2025",
                  cwd=ws).exit_code == 0
    assert invoke("monitoraggio", "apri", "30/06/2025", cwd=ws).exit_code == 0
    folder = ws / "ricevuti" / "monitoraggio-2025-06-30"
    folder.mkdir(parents=True)
    book = _sf_book(plan)
    form = folder / book.filename
    form.write_bytes((ws / "moduli" / "2025" / "monitoraggio-2025-06-30" / book.filename).read_bytes())
    _fill(form, book, {**_every_indicator(book), **{round_key(o.id, "stato"): "in linea"
                                                     for o in plan.sector("SF").objectives},
                       round_key("SF-6", "stato"): "a rischio", round_key("SF-6", "causa"): "esterna",
                       round_key("SF-6", "azione"): "Solleciti", round_key("SF-6", "revisione"): "nuovo target",
                       round_key("SF-6", "nuovo"): "Accertamento del 90% delle somme stanziate nel Bilancio 2025",
                       round_key("SF-6", "motivo"): "Banca dati catastale aggiornata in ritardo"})
    r = invoke("monitor", "proposals", "30/06/2025", cwd=ws)
    assert r.exit_code == 0 and "SF-6: nuovo target «Accertamento del 90%" in r.output and "applicata" in r.output
    draft = ws / "risultati" / "PIAO-2025-piano-proposte-30-06-2025.yaml"
    assert draft.read_text(encoding="utf-8").startswith("# Bozza del piano")
    r = invoke("piano", "revisione", str(draft), "--atto", "Delibera di Giunta comunale n. 45", "--data", "15/07/2025",
               "--motivo", "Monitoraggio al 30/06/2025", cwd=ws)
    assert r.exit_code == 0, r.output
    assert "SF-6.1" in r.output and "90%" in r.output
    r = invoke("monitoraggio", "proposte", "30/06/2025", cwd=ws)  # written once: not overwritten without --force
    assert r.exit_code == 2 and "--force" in r.output
    # the next round is on version 2; June, made on version 1, is still read on it and compared by objective
    assert invoke("monitoraggio", "apri", "30/09/2025", cwd=ws).exit_code == 0
    from piao_xls.plan.load import load_plan

    v2 = load_plan(draft)
    september = next(b for b in round_workbooks(v2, SEPTEMBER) if b.sector_codes == ("SF",))
    assert next(i for i in v2.indicators if i.id == "SF-6.1").target_text.startswith("Accertamento del 90%")
    later = ws / "ricevuti" / "monitoraggio-2025-09-30" / september.filename
    later.parent.mkdir(parents=True)
    later.write_bytes((ws / "moduli" / "2025" / "monitoraggio-2025-09-30" / september.filename).read_bytes())
    _fill(later, september, {**_every_indicator(september), **{round_key(o.id, "stato"): "in linea"
                                                               for o in v2.sector("SF").objectives}})
    r = invoke("monitoraggio", "rapporto", "30/09/2025", "--no-pdf", "--json", cwd=ws)
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["previous"] == "2025-06-30"
    six = next(o for s in out["sectors"] if s["code"] == "SF" for o in s["objectives"] if o["id"] == "SF-6")
    assert (six["state"], six["change"]) == ("on_track", "better")


def test_two_returns_that_cannot_be_ordered_wait_for_the_office_in_a_round(plan, tmp_path):
    """Two different SF returns without a sending time: in conflict in stato --monitoraggio and out of the report,
    until «scegli --monitoraggio»; the year-end state knows nothing of them."""
    from test_year import mail
    from workspace_case import new_workspace

    ws = new_workspace(tmp_path, addresses=True, italian=True)
    assert invoke("monitoraggio", "apri", "30/06/2025", cwd=ws).exit_code == 0
    book = _sf_book(plan)
    inbox = tmp_path / "allegati"
    inbox.mkdir()
    for state in ("in linea", "a rischio"):
        form = tmp_path / f"{state}.xlsx"
        form.write_bytes((ws / "moduli" / "2025" / "monitoraggio-2025-06-30" / book.filename).read_bytes())
        _fill(form, book, {**_every_indicator(book), **{round_key(o.id, "stato"): "in linea"
                                                         for o in plan.sector("SF").objectives},
                           round_key("SF-9", "stato"): state, round_key("SF-9", "causa"): "interna",
                           round_key("SF-9", "azione"): "Formazione"})
        m = mail("sf.responsabile@comune.test", "Re: monitoraggio [PIAO-2025 SF]",
                 attachments=[(book.filename, form.read_bytes())])
        del m["Date"]  # no sending time: the two cannot be ordered
        (inbox / f"{state}.eml").write_bytes(bytes(m))
    assert invoke("raccogli", str(inbox), cwd=ws).exit_code == 0
    r = invoke("stato", "--monitoraggio", "30/06/2025", cwd=ws)
    assert "in conflitto" in r.output and "piao-xls scegli SF FILE --monitoraggio 30/06/2025" in r.output, r.output
    r = invoke("monitoraggio", "rapporto", "30/06/2025", "--no-pdf", "--json", cwd=ws)
    assert {s["code"]: s["received"] for s in json.loads(r.output)["sectors"]}["SF"] is False
    status = json.loads(invoke("stato", "--monitoraggio", "--json", cwd=ws).output)
    sf = next(p for p in status["parties"] if p["code"] == "SF")
    pick_ = sf["conflict"][1]["file"]
    r = invoke("scegli", "SF", pick_, "--monitoraggio", "30/06/2025", cwd=ws)
    assert r.exit_code == 0 and "stato --monitoraggio 30/06/2025" in r.output, r.output
    sf = next(p for p in json.loads(invoke("stato", "--monitoraggio", "--json", cwd=ws).output)["parties"]
              if p["code"] == "SF")
    assert sf["status"] == "accepted" and sf["file"] == pick_
    r = invoke("monitoraggio", "rapporto", "30/06/2025", "--no-pdf", "--json", cwd=ws)
    assert {s["code"]: s["received"] for s in json.loads(r.output)["sectors"]}["SF"] is True
    year = json.loads(invoke("stato", "--json", cwd=ws).output)
    assert next(p for p in year["parties"] if p["code"] == "SF")["status"] == "missing"
    assert invoke("scegli", "SF", pick_, cwd=ws).exit_code == 2  # not a year-end return


@pytest.mark.parametrize(("typed", "not_yet", "value"), [("non ancora misurabile", True, None), ("Sì", False, True),
                                                        ("N.M.", True, None)])
def test_a_yes_no_indicator_at_a_round(tmp_path, typed, not_yet, value):
    """A yes/no value at the date: Sì/No, or «non ancora misurabile» chosen from the list (or typed so)."""
    from scenario import YN_PLAN

    from piao_xls.plan.planfile import parse_plan

    plan, _ = parse_plan(YN_PLAN, "yn.yaml")
    (book,) = [b for b in round_workbooks(plan, JUNE) if b.kind == "sector"]
    key = next(k for k in book.sheets[1].inputs if k.endswith("|value"))
    assert "non ancora misurabile" in book.sheets[1].inputs[key].validation.choices
    path = tmp_path / book.filename
    path.write_bytes(render(book))
    _fill(path, book, {key: typed, round_key("YN-1", "stato"): "in linea"})
    res = read_round_workbook(path, plan, JUNE)
    assert res.status == ACCEPTED, [str(f) for f in res.findings]
    (ret,) = round_returns(res, plan)
    ind = key.split("|")[0]
    assert (ind in ret.not_yet) == not_yet
    if value is not None:
        assert ret.values[ind]["value"] is value
