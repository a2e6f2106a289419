"""The performance cycle as the law runs it, on the bundled plan, with real mail servers on 127.0.0.1
(aiosmtpd for SMTP, Dovecot for IMAP), every step through the command line as the finance office runs it:

plan v1 adopted -> forms out by SMTP -> a monitoring round at 30/06 -> revision v2 by a Giunta resolution
(two targets changed, one objective removed, one added) -> year-end forms -> one return still made on v1,
collected from the mailbox, answered in its thread with the v2 form carrying the unchanged values -> the
Responsabile completes it -> consolidate on v2 -> the Relazione with its chapter on the revisions -> next
year's plan with this year's values as baselines.
"""

from __future__ import annotations

import io
import json
from datetime import date
from email import message_from_bytes, policy

import docx
import openpyxl
import pytest
from test_revisions import ADOPTION, REVISION, revised_data, write_plan
from test_year import ADDRESSES, filled, mail, served_workspace

from piao_xls import load_plan
from piao_xls.forms.layout import round_key, round_workbooks, sector_workbook, source_workbook
from piao_xls.forms.samples import sample_values
from piao_xls.forms.writer import render
from piao_xls.plan.planbook import check_book

pytestmark = pytest.mark.dovecot

SECTORS = ("SA", "SF", "ST", "AV")


def _dated(m, day: str):
    """A message as a mail program sends it: with its Date."""
    m["Date"] = day
    return m


def _message(m: dict):
    return message_from_bytes(m["data"], policy=policy.default)


def _complete(form: bytes, plan, code: str, seed: int) -> bytes:
    """The Responsabile opens the form attached to the reply and fills the yellow cells still empty (as a person
    types into them: openpyxl writes the cells of the protected sheet, nothing else), then saves it."""
    book = sector_workbook(plan, plan.sector(code))
    sheet = next(s for s in book.sheets if s.kind != "instructions")
    values = sample_values(sheet, seed=seed)
    wb = openpyxl.load_workbook(io.BytesIO(form))
    ws = wb[sheet.name]
    typed = 0
    for key, cell in sheet.inputs.items():
        target = ws[cell.ref]
        if target.value in (None, "") and key in values:
            target.value = values[key]
            typed += 1
    assert typed, "nothing was left to fill in"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_the_performance_cycle(tmp_path, plan):
    with served_workspace(tmp_path, "crea", "--scadenza", "31/01/2026", code=0) as served:
        ws, smtp, dovecot, run, addr = served.ws, served.smtp, served.dovecot, served.run, ADDRESSES

        # --- plan v1, adopted by the Giunta; the forms go out
        run("piano", "adozione", *ADOPTION)
        run("genera")
        r = run("invia", "--json")
        assert {a["outcome"] for a in json.loads(r.output)["actions"]} == {"inviato"}
        first = {str(_message(m)["X-PIAO-Sector"]): _message(m) for m in smtp.messages}
        assert len(first) == 6

        # --- the monitoring round at 30/06: its forms out by SMTP, every sector's return by IMAP, SF-6 at risk with
        # a new target proposed; the round's report for the Giunta and the Nucleo
        june = date(2025, 6, 30)
        run("monitoraggio", "apri", "30/06/2025")
        before = len(smtp.messages)
        run("invia", "--monitoraggio", "30/06/2025", "--entro", "15/07/2025")
        round_sent = {str(_message(m)["X-PIAO-Sector"]): _message(m) for m in smtp.messages[before:]}
        assert len(round_sent) == 6 and all("monitoraggio al 30/06/2025" in str(m["Subject"])
                                            for m in round_sent.values())
        for seed, code in enumerate(SECTORS, start=31):
            book = next(b for b in round_workbooks(plan, june) if b.sector_codes == (code,))
            sheet = book.sheets[1]
            states = {round_key(o.id, "stato"): "in linea" for o in plan.sector(code).objectives}
            if code == "SF":
                states |= {round_key("SF-6", "stato"): "a rischio", round_key("SF-6", "causa"): "esterna",
                           round_key("SF-6", "azione"): "Solleciti ai contribuenti",
                           round_key("SF-6", "revisione"): "nuovo target",
                           round_key("SF-6", "nuovo"): "Accertamento del 90% delle somme stanziate nel Bilancio 2025",
                           round_key("SF-6", "motivo"): "Banca dati catastale aggiornata in ritardo"}
            values = {**sample_values(sheet, seed=seed), **states}
            values = {k: v for k, v in values.items()  # no other revision proposed
                      if not (k.endswith("|mon|revisione") and k not in states)}
            form = render(book, prefill=values)
            dovecot.deliver(_dated(mail(addr[code], f"Re: {round_sent[code]['Subject']}",
                                        round_sent[code]["Message-ID"], [(book.filename, form)]),
                                   "Mon, 7 Jul 2025 10:00:00 +0200").as_bytes())
        items = json.loads(run("raccogli", "--json").output)["items"]
        assert sorted(i["sector"] for i in items) == sorted(SECTORS)
        assert {(i["round"], i["status"]) for i in items} == {("2025-06-30", "accepted")}, items
        r = run("monitoraggio", "rapporto", "30/06/2025", "--no-pdf", "--json")
        report = json.loads(r.output)
        sf = next(s for s in report["sectors"] if s["code"] == "SF")
        assert sf["state"] == "at_risk" and {"id": "SF-6", "revision": "target"}.items() <= next(
            o for o in sf["objectives"] if o["id"] == "SF-6").items()
        assert (ws / "risultati" / "PIAO-2025-Monitoraggio-30-06-2025.docx").exists()
        # the year is untouched by the round: nothing received for it yet
        assert all(p["status"] == "missing" for p in json.loads(run("stato", "--json", code=1).output)["parties"])

        # --- revision v2 by Giunta resolution: two targets changed, SF-9 removed, SF-10 added
        v2_file = write_plan(tmp_path / "piano-v2.yaml", revised_data(plan))
        r = run("piano", "revisione", str(v2_file), *REVISION)
        assert "versione 2" in r.output, r.output
        v2 = load_plan(ws / "piano" / "versioni" / "v2-piano-v2.yaml")
        assert v2.fingerprint != plan.fingerprint
        diff = run("piano", "differenze").output
        for words in ("SF-9", "SF-10", "SF-1.1", "SF-6.1"):
            assert words in diff, (words, diff)
        run("genera")  # the blank forms of v1 are replaced by v2's

        # --- year-end: SA, ST, AV, the Nucleo and the external source answer on v2; SF on the v1 form it had
        returns = {code: (f"PIAO-2025-{code}.xlsx", filled(sector_workbook(v2, v2.sector(code)), seed))
                   for seed, code in enumerate(("SA", "ST", "AV"), start=11)}
        returns["nucleo"] = ("PIAO-2025-Nucleo.xlsx", filled(source_workbook(v2, "nucleo"), 21))
        returns["esterno"] = ("PIAO-2025-Fonti-esterne.xlsx", filled(source_workbook(v2, "esterno"), 22))
        returns["SF"] = ("PIAO-2025-SF-Finanziario.xlsx", filled(sector_workbook(plan, plan.sector("SF")), 5))
        for code, attachment in returns.items():
            dovecot.deliver(_dated(mail(addr[code], f"Re: {first[code]['Subject']}", first[code]["Message-ID"],
                                        [attachment]), "Mon, 12 Jan 2026 10:00:00 +0100").as_bytes())
        r = run("raccogli", "--json", code=None)
        items = {i["sector"]: i for i in json.loads(r.output)["items"]}
        assert set(items) == set(returns), r.output
        old = [f for f in items["SF"]["findings"] if f["code"] == "REV-OLD-VERSION"]
        assert len(old) == 1 and "versione 1" in old[0]["message"] and "SF-1.1, SF-6.1, SF-10.1" in old[0]["message"]
        assert not [f for i in items.values() for f in i["findings"] if f["code"] in ("WB-IDENTITY", "WB-TAMPERED")]
        state = {p["code"]: p["status"] for p in json.loads(run("stato", "--json", code=None).output)["parties"]}
        assert state["SF"] == "rejected" and all(state[c].startswith("accepted") for c in returns if c != "SF"), state

        # --- the reply, in SF's thread, carries the v2 form with the unchanged values already in
        before = len(smtp.messages)
        r = run("rispondi", "--json")
        assert [a["code"] for a in json.loads(r.output)["actions"]] == ["SF"]
        (reply,) = [_message(m) for m in smtp.messages[before:]]
        assert first["SF"]["Message-ID"] in str(reply["References"])
        (part,) = [p for p in reply.iter_attachments() if p.get_filename() == "PIAO-2025-SF-Finanziario.xlsx"]
        completed = _complete(part.get_content(), v2, "SF", seed=6)
        dovecot.deliver(_dated(mail(addr["SF"], f"Re: {reply['Subject']}", str(reply["Message-ID"]),
                                    [("PIAO-2025-SF-Finanziario.xlsx", completed)]),
                               "Thu, 15 Jan 2026 09:30:00 +0100").as_bytes())
        r = run("raccogli", "--json", code=None)
        (item,) = json.loads(r.output)["items"]
        assert item["sector"] == "SF" and item["status"].startswith("accepted"), item
        state = {p["code"]: p["status"] for p in json.loads(run("stato", "--json", code=None).output)["parties"]}
        assert all(s.startswith("accepted") for s in state.values()), state

        # --- consolidate on v2: SF-9 gone, SF-10 scored, the revision listed with its act
        results = tmp_path / "risultati.json"
        run("consolida", "--json-file", str(results))
        data = json.loads(results.read_text(encoding="utf-8"))
        inds = {i["indicator"]: i for i in data["indicators"]}
        assert "SF-9.1" not in inds and inds["SF-10.1"]["status"] == "scored"
        assert all(s["status"] in ("scored", "scored_with_issues", "not_evaluable") for s in data["sectors"])
        (rev,) = data["revisions"]
        assert rev["version"] == 2 and rev["date"] == "2025-07-15"
        assert {c["objective"] for c in rev["changes"]} == {"SF-1", "SF-6", "SF-9", "SF-10"}

        # --- the Relazione: its chapter on what changed during the year
        run("relazione", "--no-pdf")
        (path,) = (ws / "risultati").glob("*Relazione-Performance.docx")
        doc = docx.Document(str(path))
        text = "\n".join([p.text for p in doc.paragraphs] + [c.text for t in doc.tables for row in t.rows
                                                               for c in row.cells])
        assert "Delibera di Giunta comunale n. 45 del 15/07/2025" in text
        assert "SF-10 «DIGITALIZZAZIONE DEI PAGAMENTI»" in text

        # --- next year's plan: this year's values as baselines, on v2's objectives
        nxt = tmp_path / "piano-2026.xlsx"
        r = run("piano", "anno-successivo", "-o", str(nxt))
        draft, findings = check_book(nxt)
        assert draft is not None, [str(f) for f in findings]
        assert draft.year == 2026 and [o.id for o in draft.objectives] == [o.id for o in v2.objectives]
        baselines = {i.id: i.previous for i in draft.indicators if i.previous is not None}
        published = {i["indicator"]: i for i in data["indicators"]}
        assert "SF-10.1" in baselines and "SF-9.1" not in baselines
        sf_sheet = next(s for s in sector_workbook(v2, v2.sector("SF")).sheets if s.kind != "instructions")
        typed = openpyxl.load_workbook(io.BytesIO(completed))[sf_sheet.name]
        cell = sf_sheet.inputs["SF-10.1|value"]
        assert baselines["SF-10.1"] == pytest.approx(typed[cell.ref].value)
        assert published["SF-10.1"]["status"] == "scored"
