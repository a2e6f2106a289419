"""The finance office's whole year on the bundled plan, with real mail servers on 127.0.0.1:

init -> generate -> send (SMTP into aiosmtpd, STARTTLS + AUTH) -> the Responsabili's replies delivered
into Dovecot (one by PEC envelope, one forwarded, one from a wrong sender, one duplicate, one broken)
-> collect (IMAP, read-only) -> stato -> reply and remind (SMTP) -> consolidate. The ledger holds every
step and the mailbox is unchanged by collect.
"""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from mailservers import Dovecot, SmtpServer
from pec import DATICERT, signed_pec  # noqa: F401 (DATICERT: for the other mail tests)

from piao_xls.cli import cli
from piao_xls.forms.layout import sector_workbook, source_workbook
from piao_xls.forms.samples import sample_values
from piao_xls.forms.writer import render

pytestmark = pytest.mark.dovecot
OFFICE = "ragioneria@example.invalid"
XLSX = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def set_key(settings: Path, section: str, key: str, value: str) -> None:
    """Set ``key = value`` (value as TOML) in ``[section]`` of the settings file, as a clerk would edit it."""
    text = settings.read_text(encoding="utf-8")
    head = text.index(f"[{section}]\n")
    end = text.find("\n[", head + 1)
    end = len(text) if end < 0 else end
    body, n = re.subn(rf"(?m)^{key} = .*$", f"{key} = {value}", text[head:end])
    assert n == 1, (section, key)
    settings.write_text(text[:head] + body + text[end:], encoding="utf-8")


def real_addresses(settings: Path, domain: str = "comune.test") -> None:
    """Replace the placeholder addresses written by init (which send refuses) with addresses of ``domain``."""
    text = settings.read_text(encoding="utf-8")
    for who in ("sa.responsabile", "sf.responsabile", "st.responsabile", "av.responsabile", "nucleo", "esterno"):
        text = text.replace(f'"{who}@example.invalid"', f'"{who}@{domain}"')
    settings.write_text(text, encoding="utf-8")


def use_servers(settings: Path, smtp, dovecot) -> None:
    """The clerk's mail settings for the test servers: real addresses, sending by SMTP, both servers on
    127.0.0.1 with STARTTLS, their user and the certificate to trust."""
    real_addresses(settings)
    set_key(settings, "posta", "invio", '"smtp"')
    for section, server in (("smtp", smtp), ("imap", dovecot)):
        for key, value in [("host", '"127.0.0.1"'), ("porta", str(server.port)), ("sicurezza", '"starttls"'),
                           ("utente", f'"{server.user}"'), ("ca", f'"{server.cert}"')]:
            set_key(settings, section, key, value)


#: the parties' addresses once the clerk has filled in the settings (``real_addresses``)
ADDRESSES = {**{code: f"{code.lower()}.responsabile@comune.test" for code in ("SA", "SF", "ST", "AV")},
             "nucleo": "nucleo@comune.test", "esterno": "esterno@comune.test"}


@dataclass
class Served:
    """A year's workspace with its mail settings pointing to running test servers; ``run(*args)`` is the
    command line inside it (``code``: the exit code to expect, ``None`` for any)."""

    ws: Path
    smtp: SmtpServer
    dovecot: Dovecot
    run: Callable[..., Any]


@contextlib.contextmanager
def served_workspace(tmp_path: Path, *init: str, code: int | None = None) -> Iterator[Served]:
    """``init`` (e.g. ``"crea", "--scadenza", "31/01/2026"``) makes ``tmp_path/PIAO-2025``; SMTP and IMAP
    servers run on 127.0.0.1 for as long as the block lasts. ``code``: the exit code ``run`` expects by default."""
    ws = tmp_path / "PIAO-2025"
    runner = CliRunner()
    with SmtpServer(tmp_path) as smtp, Dovecot() as dovecot:
        env = {"PIAO_XLS_SMTP_PASSWORD": smtp.password, "PIAO_XLS_IMAP_PASSWORD": dovecot.password}

        def run(*args: str, code: int | None = code):
            r = runner.invoke(cli, ["-C", str(ws), *args], env=env)
            if code is not None:
                assert r.exit_code == code, (args, r.output, r.exception)
            return r

        r = runner.invoke(cli, [init[0], str(ws), *init[1:]], env=env)
        assert r.exit_code == 0, r.output
        use_servers(ws / "piao-xls.toml", smtp, dovecot)
        yield Served(ws, smtp, dovecot, run)


def filled(book, seed: int, overrides: dict | None = None) -> bytes:
    sheet = next(s for s in book.sheets if s.kind != "instructions")
    return render(book, prefill={**sample_values(sheet, seed=seed), **(overrides or {})})


def mail(frm: str, subject: str, in_reply_to: str = "", attachments=(), inner: EmailMessage | None = None,
         body: str = "In allegato il modulo compilato.") -> EmailMessage:
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = frm, OFFICE, subject
    m["Message-ID"] = make_msgid(domain="comune.example.invalid")
    if in_reply_to:
        m["In-Reply-To"] = m["References"] = in_reply_to
    m.set_content(body)
    for name, data in attachments:
        m.add_attachment(data, maintype=XLSX[0], subtype=XLSX[1], filename=name)
    if inner is not None:
        m.add_attachment(inner)  # message/rfc822
    return m


def pec_envelope(original: EmailMessage, certified: str = "", tipo: str = "posta-certificata"):
    """A certified-mail (PEC) envelope signed by a test provider (tests/pec.py): daticert.xml and the original as
    postacert.eml. ``certified``: the sender's PEC address (default: the original's From)."""
    return signed_pec(original, certified, tipo)


def ledger(ws: Path) -> dict[str, list[dict]]:
    db = sqlite3.connect(ws / "registro.sqlite")
    db.row_factory = sqlite3.Row
    out = {t: [dict(r) for r in db.execute(f"SELECT * FROM {t} ORDER BY id")] for t in
           ("events", "files", "messages", "checks")}
    db.close()
    return out


def test_the_whole_year(tmp_path, plan):
    # --- init: a workspace with the bundled plan; the clerk fills in the mail settings
    with served_workspace(tmp_path, "init", "--scadenza", "2026-01-31") as served:
        ws, smtp, dovecot, run, addr = served.ws, served.smtp, served.dovecot, served.run, ADDRESSES

        # --- generate into the workspace's forms folder (run from a sub-folder: the workspace is found)
        r = run("generate", code=0)
        forms = ws / "moduli" / "2025"
        assert r.output.count("scritto ") == 7 and len(list(forms.glob("*.xlsx"))) == 7

        # --- send by SMTP: one message per Responsabile, Nucleo and external source, the right workbook attached
        assert run("send", "--dry-run", code=0).output.count("da inviare") == 6
        assert smtp.messages == []
        r = run("send", "--json", code=0)
        actions = {a["code"]: a for a in json.loads(r.output)["actions"]}
        assert {a["outcome"] for a in actions.values()} == {"inviato"}
        assert len(smtp.messages) == 6 and all(m["tls"] and m["auth"] for m in smtp.messages)
        sent = {}
        for m in smtp.messages:
            msg = message_from_bytes(m["data"], policy=policy.default)
            code = str(msg["X-PIAO-Sector"])
            assert m["to"] == [addr[code]] and msg["X-Unsent"] is None
            (att,) = list(msg.iter_attachments())
            assert att.get_content() == (forms / Path(actions[code]["file"]).name).read_bytes()
            body = msg.get_body(("plain",)).get_content()
            assert "31/01/2026" in body and "celle gialle" in body and OFFICE in body
            assert "31/01/2026" in msg.get_body(("html",)).get_content()
            sent[code] = msg
        assert run("send", code=0).output.count("già inviato") == 6 and len(smtp.messages) == 6  # idempotent

        # --- the Responsabili answer; everything lands in Dovecot
        sf = filled(sector_workbook(plan, plan.sector("SF")), 1)
        sa = filled(sector_workbook(plan, plan.sector("SA")), 2)
        st = filled(sector_workbook(plan, plan.sector("ST")), 3)
        av_book = sector_workbook(plan, plan.sector("AV"))
        av_sheet = av_book.sheets[1]
        bad_key = next(k for k, c in av_sheet.inputs.items() if c.unit == "percent")
        av = filled(av_book, 4, {bad_key: "circa ottanta"})
        nucleo_book = source_workbook(plan, "nucleo")
        broken = filled(nucleo_book, 5)[:3000]

        def re_(code):
            return f"Re: {sent[code]['Subject']}"

        sf_mail = mail(addr["SF"], re_("SF"), sent["SF"]["Message-ID"], [("PIAO-2025-SF-Finanziario.xlsx", sf)])
        sf_again = mail(addr["SF"], re_("SF"), sent["SF"]["Message-ID"], [("PIAO-2025-SF-Finanziario.xlsx", sf)],
                        body="Scusate, lo rimando.")
        sa_original = mail(addr["SA"], re_("SA"), sent["SA"]["Message-ID"], [("PIAO-2025-SA-Amministrazione.xlsx", sa)])
        colleague = mail("vigile.capo@example.invalid", "modulo AV compilato", "",
                         [("PIAO-2025-AV-Polizia-Locale.xlsx", av)])
        av_forward = mail(addr["AV"], f"I: {sent['AV']['Subject']}", sent["AV"]["Message-ID"], inner=colleague,
                          body="Inoltro il modulo compilato dal collega.")
        st_wrong = mail("mario.rossi@example.invalid", re_("ST"), sent["ST"]["Message-ID"],
                        [("PIAO-2025-ST-Tecnico.xlsx", st)])
        nucleo_mail = mail(addr["nucleo"], re_("nucleo"), sent["nucleo"]["Message-ID"], [("PIAO-2025-Nucleo.xlsx", broken)])
        for m in (sf_mail, pec_envelope(sa_original), av_forward, st_wrong, sf_again, nucleo_mail):
            dovecot.deliver(m.as_bytes())
        before = dovecot.snapshot()
        assert len(before["imap"]) == 6

        # --- collect from IMAP, read-only
        r = run("collect", "--json", code=1)  # the broken and the invalid file are rejected
        items = json.loads(r.output)["items"]
        assert dovecot.snapshot() == before  # nothing marked as read, moved or deleted
        outcome = {(i["sector"], i["outcome"]) for i in items}
        assert outcome == {("SF", "nuovo"), ("SA", "nuovo"), ("AV", "nuovo"), ("ST", "nuovo"), ("SF", "duplicato"),
                           ("nucleo", "rifiutato")}
        by = {(i["sector"], i["outcome"]): i for i in items}
        assert by["SA", "nuovo"]["via"] == "pec" and by["SA", "nuovo"]["sender"] == addr["SA"]
        assert by["AV", "nuovo"]["via"] == "inoltro" and by["AV", "nuovo"]["status"] == "rejected"
        assert any(f["code"] == "WB-VALUE" and f["cell"] == av_sheet.inputs[bad_key].ref
                   for f in by["AV", "nuovo"]["findings"])
        st_item = by["ST", "nuovo"]
        assert st_item["status"] == "accepted_with_warnings"
        assert [f["code"] for f in st_item["findings"] if f["severity"] == "warning"] == ["MAIL-SENDER"]
        assert by["nucleo", "rifiutato"]["findings"][0]["code"] in ("WB-OPEN", "WB-UNSAFE")
        saved = sorted(p.name for p in (ws / "ricevuti").iterdir())
        assert len(saved) == 4  # SF once (duplicate), SA, AV, ST; the broken file is not saved
        assert all(re.fullmatch(r"(SF|SA|AV|ST)-\d{8}-[0-9a-f]{12}\.xlsx", n) for n in saved)
        assert (ws / "ricevuti" / next(n for n in saved if n.startswith("SF"))).read_bytes() == sf
        # collecting again downloads nothing already collected and changes nothing
        rows = len(ledger(ws)["messages"])
        again = json.loads(run("collect", "--json", code=0).output)
        assert again == {"messages": 0, "items": [], "skipped": []} and len(ledger(ws)["messages"]) == rows
        assert dovecot.snapshot() == before

        # --- stato
        r = run("stato", "--json", code=1)
        state = {p["code"]: p for p in json.loads(r.output)["parties"]}
        assert {c: p["status"] for c, p in state.items()} == {
            "SA": "accepted", "SF": "accepted", "ST": "accepted_with_warnings", "AV": "rejected",
            "nucleo": "rejected", "esterno": "missing"}
        assert state["SF"]["sent_to"] == addr["SF"] and state["SF"]["received_from"] == addr["SF"]
        text = run("status").output
        assert "da correggere" in text and "mancante" in text and "accettato con avvisi" in text

        # --- reply: the files to correct get a reply with the feedback note, threaded to their message
        r = run("reply", "--json", code=0)
        replied = {a["code"]: a for a in json.loads(r.output)["actions"]}
        assert set(replied) == {"AV", "nucleo"} and {a["outcome"] for a in replied.values()} == {"inviato"}
        replies = {str(message_from_bytes(m["data"], policy=policy.default)["To"]): m for m in smtp.messages[6:]}
        assert set(replies) == {addr["AV"], addr["nucleo"]}
        av_reply = message_from_bytes(replies[addr["AV"]]["data"], policy=policy.default)
        assert av_reply["In-Reply-To"] == av_forward["Message-ID"]
        assert av_forward["Message-ID"] in av_reply["References"]
        assert av_reply["Subject"].startswith("Re: ")
        assert f"cella {av_sheet.inputs[bad_key].ref}" in av_reply.get_body(("plain",)).get_content()
        assert "DA CORREGGERE" in av_reply.get_body(("plain",)).get_content()
        assert run("reply", code=0).output.count("già risposto") == 2 and len(smtp.messages) == 8

        # --- remind: three days before the deadline, those missing or to correct; never twice the same day
        plan_deadline = date(2026, 1, 31)
        far = plan_deadline - timedelta(days=30)
        assert "nessun sollecito" in run("remind", "--oggi", far.isoformat(), code=0).output
        day = (plan_deadline - timedelta(days=3)).isoformat()
        r = run("remind", "--oggi", day, "--json", code=0)
        reminded = {a["code"]: a["outcome"] for a in json.loads(r.output)["actions"]}
        assert reminded == {"AV": "inviato", "nucleo": "inviato", "esterno": "inviato"}
        assert len(smtp.messages) == 11
        reminder = message_from_bytes(smtp.messages[-1]["data"], policy=policy.default)
        assert "Mancano 3 giorni" in reminder.get_body(("plain",)).get_content()
        r = run("remind", "--oggi", day, "--json", code=0)
        assert {a["outcome"] for a in json.loads(r.output)["actions"]} == {"già sollecitato oggi"}
        assert len(smtp.messages) == 11

        # --- consolidate: the workspace's plan and received files by default; the summary goes to risultati/
        r = run("consolidate", code=1)  # AV and the Nucleo's values are missing: not every sector is fully scored
        summary = ws / "risultati" / "PIAO-2025-Riepilogo.xlsx"
        assert summary.is_file() and str(summary) in r.output

    # --- the ledger holds every step; nothing in it can be deleted
    led = ledger(ws)
    commands = [e["command"] for e in led["events"]]
    for step in ("init", "generate", "send", "collect", "stato", "reply", "remind", "consolidate"):
        assert step in commands
    kinds = [(m["direction"], m["kind"]) for m in led["messages"]]
    assert kinds.count(("out", "invio")) == 6 and kinds.count(("in", "ricevuto")) == 6
    assert kinds.count(("out", "risposta")) == 2 and kinds.count(("out", "sollecito")) == 3
    assert all(m["message_id"] for m in led["messages"])
    sent_ids = {str(m["Message-ID"]) for m in sent.values()}
    assert {m["message_id"] for m in led["messages"] if m["kind"] == "invio"} == sent_ids
    pec = next(json.loads(m["meta"])["pec"] for m in led["messages"] if m["sector"] == "SA" and m["direction"] == "in")
    assert pec["mittente"] == addr["SA"] and pec["data"].startswith("20/01/2026 10:15:02")
    assert pec["identificativo"].startswith("opec21.")
    roles = [f["role"] for f in led["files"]]
    assert roles.count("generato") == 7 and roles.count("ricevuto") == 4 and roles.count("rifiutato") == 1
    assert "riepilogo" in roles and roles.count("riscontro") == 2
    assert all(re.fullmatch(r"[0-9a-f]{64}", f["sha256"]) for f in led["files"])
    assert len(led["checks"]) == 5
    db = sqlite3.connect(ws / "registro.sqlite")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("DELETE FROM messages")
    db.close()


def test_imap_with_implicit_tls_a_named_folder_and_a_wrong_password(tmp_path, plan):
    ws = tmp_path / "ws"
    runner = CliRunner()
    with Dovecot() as dovecot:
        assert runner.invoke(cli, ["init", str(ws)]).exit_code == 0
        settings = ws / "piao-xls.toml"
        for key, value in [("host", '"127.0.0.1"'), ("porta", str(dovecot.tls_port)), ("sicurezza", '"tls"'),
                           ("utente", f'"{dovecot.user}"'), ("ca", f'"{dovecot.cert}"'),
                           ("cartella", '"Moduli PIAO"')]:
            set_key(settings, "imap", key, value)
        sf = filled(sector_workbook(plan, plan.sector("SF")), 1)
        dovecot.deliver(mail("sf.responsabile@example.invalid", "Re: modulo",
                             attachments=[("PIAO-2025-SF-Finanziario.xlsx", sf)]).as_bytes(), folder="Moduli PIAO")
        r = runner.invoke(cli, ["-C", str(ws), "collect"], env={"PIAO_XLS_IMAP_PASSWORD": "sbagliata"})
        assert r.exit_code == 3 and "rifiutato utente o password" in r.output, r.output
        before = dovecot.snapshot("Moduli PIAO")
        r = runner.invoke(cli, ["-C", str(ws), "collect", "--json"], env={"PIAO_XLS_IMAP_PASSWORD": dovecot.password})
        assert r.exit_code == 0, r.output
        (item,) = json.loads(r.output)["items"]
        assert (item["sector"], item["outcome"], item["status"]) == ("SF", "nuovo", "accepted")
        assert dovecot.snapshot("Moduli PIAO") == before
        state = {p["code"]: p for p in json.loads(runner.invoke(cli, ["-C", str(ws), "stato", "--json"]).output)["parties"]}
        assert (state["SF"]["status"], state["SF"]["received_how"]) == ("accepted", "imap")
        assert state["SA"]["status"] == "missing"
