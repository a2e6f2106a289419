"""The year with a revision, on the bundled plan and real mail servers on 127.0.0.1 (aiosmtpd, Dovecot):

plan v1 adopted -> forms -> sent (SMTP) -> revision v2 by delibera (two targets changed, one objective removed, one
added) -> forms of v2 -> invia sends only the changed sector, in its thread -> returns into Dovecot, SF's still on
v1 -> collect (IMAP) -> SF to correct, the others carried over whole -> reply with SF's form of v2 in the thread ->
SF sends it back -> consolidate on v2 (summary with the Revisioni sheet) -> Relazione with the revisions chapter
and the annex's forms per version -> next year's plan with this year's values as baselines.
(The monitoring round of issue 26 §1 is not part of this test.)
"""

from __future__ import annotations

import io
import json
import zipfile
from email import message_from_bytes, policy
from pathlib import Path

import docx
import openpyxl
import pytest
from click.testing import CliRunner
from mailservers import Dovecot, SmtpServer
from test_revisions import ADOPTION, revised_data, write_plan
from test_year import mail, use_servers

from piao_xls import load_plan
from piao_xls.cli import cli
from piao_xls.forms.layout import sector_workbook
from piao_xls.forms.samples import sample_values
from piao_xls.forms.writer import render
from piao_xls.plan.planbook import check_book

pytestmark = pytest.mark.dovecot
DELIBERA = ("--atto", "Delibera di Giunta comunale n. 45", "--data", "15/07/2025", "--motivo",
            "Rimodulazione dopo il monitoraggio al 30/06")


def filled(plan, code: str, seed: int) -> bytes:
    book = sector_workbook(plan, plan.sector(code))
    sheet = next(s for s in book.sheets if s.kind != "instructions")
    return render(book, prefill=sample_values(sheet, seed=seed))


def test_a_year_with_a_revision_by_delibera(tmp_path, plan):
    runner = CliRunner()
    ws = tmp_path / "PIAO-2025"

    def run(*args, code=None):
        r = runner.invoke(cli, ["-C", str(ws), *args], env=env)
        if code is not None:
            assert r.exit_code == code, (args, r.output, r.exception)
        return r

    with SmtpServer(tmp_path) as smtp, Dovecot() as dovecot:
        env = {"PIAO_XLS_SMTP_PASSWORD": smtp.password, "PIAO_XLS_IMAP_PASSWORD": dovecot.password}
        assert runner.invoke(cli, ["crea", str(ws), "--scadenza", "31/01/2026"], env=env).exit_code == 0
        use_servers(ws / "piao-xls.toml", smtp, dovecot)

        # --- v1: adopted, forms, sent
        run("piano", "adozione", *ADOPTION, code=0)
        run("genera", code=0)
        first = {a["code"]: a for a in json.loads(run("invia", "--json", code=0).output)["actions"]}
        assert {a["outcome"] for a in first.values()} == {"inviato"} and len(smtp.messages) == 6

        # --- v2 by delibera: SF-1.1 and SF-6.1 targets, SF-9 removed, SF-10 added
        v2_file = write_plan(tmp_path / "piano-v2.yaml", revised_data(plan))
        r = run("piano", "revisione", str(v2_file), *DELIBERA, code=0)
        assert "obiettivo SF-9 tolto" in r.output and "obiettivo SF-10 aggiunto" in r.output
        v2 = load_plan(ws / "piano" / "versioni" / "v2-piano-v2.yaml")
        run("genera", code=0)
        again = {a["code"]: a for a in json.loads(run("invia", "--json", code=0).output)["actions"]}
        # the Nucleo measures indicators of SF too: its form goes again; the external source's (SA only) does not
        assert {c for c, a in again.items() if a["outcome"] == "inviato"} == {"SF", "nucleo"}
        assert {again[c]["outcome"] for c in ("SA", "ST", "AV", "esterno")} == {"invariato: non reinviato"}
        assert "non cambia nulla per questa fonte" in again["esterno"]["problems"][0]
        sf_v2 = next(msg for msg in (message_from_bytes(m["data"], policy=policy.default) for m in smtp.messages[6:])
                     if str(msg["X-PIAO-Sector"]) == "SF")
        assert sf_v2["In-Reply-To"] == first["SF"]["message_id"]

        # --- returns: SF still on v1 (it filled in the first form), SA and ST on the v1 form they have
        for code, seed in (("SF", 1), ("SA", 2), ("ST", 3)):
            data = filled(plan, code, seed)
            name = f"PIAO-2025-{code}.xlsx"
            dovecot.deliver(mail(f"{code.lower()}.responsabile@comune.test", f"Re: modulo {code}",
                                 first[code]["message_id"], [(name, data)]).as_bytes())
        r = run("raccogli", "--json", code=None)
        items = {i["sector"]: i for i in json.loads(r.output)["items"]}
        assert items["SF"]["status"] == "rejected"
        assert any(f["code"] == "REV-OLD-VERSION" and "SF-1.1, SF-6.1, SF-10.1" in f["message"]
                   for f in items["SF"]["findings"])
        assert items["SA"]["status"] == items["ST"]["status"] == "accepted_with_warnings"  # carried over whole
        state = {p["code"]: p["status"] for p in json.loads(run("stato", "--json", code=None).output)["parties"]}
        assert state["SF"] == "rejected" and state["SA"] == state["ST"] == "accepted_with_warnings"

        # --- the reply carries SF's form of v2, prefilled with what carries over, in the thread
        before = len(smtp.messages)
        replied = {a["code"]: a for a in json.loads(run("rispondi", "--json", code=0).output)["actions"]}
        assert replied["SF"]["outcome"] == "inviato"
        reply = next(message_from_bytes(m["data"], policy=policy.default) for m in smtp.messages[before:]
                     if "sf.responsabile" in str(message_from_bytes(m["data"], policy=policy.default)["To"]))
        assert reply["Subject"].startswith("Re: ")
        (attached,) = [p for p in reply.iter_attachments() if p.get_filename() == "PIAO-2025-SF-Finanziario.xlsx"]
        with zipfile.ZipFile(io.BytesIO(attached.get_content())) as z:  # the form of v2, saying so
            assert "2 (Delibera di Giunta comunale n. 45 del 15/07/2025)" in z.read("docProps/custom.xml").decode()

        # --- SF sends back the v2 form completed
        dovecot.deliver(mail("sf.responsabile@comune.test", str(reply["Subject"]), str(reply["Message-ID"]),
                             [("PIAO-2025-SF-Finanziario.xlsx", filled(v2, "SF", 4))]).as_bytes())
        items = {i["sector"]: i for i in json.loads(run("raccogli", "--json", code=None).output)["items"]}
        assert items["SF"]["status"] == "accepted"

        # --- consolidate on v2
        out = tmp_path / "risultati.json"
        run("consolida", "--json-file", str(out), code=None)
        data = json.loads(out.read_text(encoding="utf-8"))
        assert data["fingerprint"] == v2.fingerprint
        assert {o["objective"] for o in data["objectives"] if o["sector"] == "SF"} >= {"SF-10"}
        assert "SF-9" not in {o["objective"] for o in data["objectives"]}
        (rev,) = data["revisions"]
        assert rev["act_it"] == "Delibera di Giunta comunale n. 45 del 15/07/2025"
        assert {c["objective"] for c in rev["changes"]} == {"SF-1", "SF-6", "SF-9", "SF-10"}
        versions = {Path(s["path"]).name[:2]: [] for s in data["sources"]}
        for s in data["sources"]:
            versions[Path(s["path"]).name[:2]].append(s["plan_version"])
        assert sorted(versions["SF"]) == [1, 2] and versions["SA"] == [1] and versions["ST"] == [1]
        sf = next(s for s in data["sectors"] if s["code"] == "SF")
        assert sf["score"] is not None  # from the form of v2: the one on v1 no longer counts
        used = {s["plan_version"]: s["used_for"] for s in data["sources"] if Path(s["path"]).name.startswith("SF")}
        assert "SF" in used[2] and "SF" not in used[1]
        wb = openpyxl.load_workbook(ws / "risultati" / "PIAO-2025-Riepilogo.xlsx")
        assert "Revisioni" in wb.sheetnames

        # --- Relazione with the revisions chapter; the annex says which form was on which version
        run("relazione", "--no-pdf", code=0)
        (path,) = list((ws / "risultati").glob("*Relazione-Performance.docx"))
        body = docx.Document(str(path))
        heads = [p.text for p in body.paragraphs if p.style.name == "Heading 1"]
        assert any(h.endswith("Le modifiche intervenute nel corso dell'anno") for h in heads)
        annex = docx.Document(str(path.with_name(f"{path.stem}-Allegato-tecnico.docx")))
        assert any(p.text.endswith("Le versioni del piano e la verifica dei tempi") for p in annex.paragraphs)

    # --- next year's plan from this year's values
    draft = tmp_path / "piano-2026.xlsx"
    r = runner.invoke(cli, ["-C", str(ws), "piano", "anno-successivo", "-o", str(draft)])
    assert r.exit_code == 0, r.output
    new, findings = check_book(draft)
    assert new is not None and new.year == 2026, [str(f) for f in findings]
    assert [o.id for o in new.objectives] == [o.id for o in v2.objectives]  # v2's identifiers, SF-10 included
    with_baseline = {i.id for i in new.indicators if i.previous is not None}
    assert with_baseline and all(i.startswith(("SF-", "SA-", "ST-")) for i in with_baseline)
