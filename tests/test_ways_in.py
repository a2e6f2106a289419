"""Every way a return arrives is a way in: a folder of workbooks saved by hand, one workbook, an Outlook
``.msg``, an ``.eml``, an mbox, a Maildir, a PEC envelope (IMAP: tests/test_year.py). Each ends with the right
``stato``; replies and reminders thread when the mail client gave the sent draft a new Message-ID."""

from __future__ import annotations

import json
import mailbox
from email import message_from_bytes, policy
from email.utils import make_msgid
from pathlib import Path

import pytest
from test_year import filled, mail, pec_envelope
from workspace_case import invoke, new_workspace

from piao_xls.forms.layout import sector_workbook
from piao_xls.workspace.ledger import Ledger

SF_ADDR = "sf.responsabile@comune.test"
SF_FILE = "PIAO-2025-SF-Finanziario.xlsx"


@pytest.fixture
def ws(tmp_path):
    return new_workspace(tmp_path, "PIAO-2025", "31/01/2026", addresses=True, italian=True)


@pytest.fixture
def sf_bytes(plan):
    return filled(sector_workbook(plan, plan.sector("SF")), 1)


def write_msg(path: Path, message) -> Path:
    """A real Outlook MSG file (an OLE compound file), written by aspose-email-foss, an MSG writer independent
    of the reader (extract-msg)."""
    from aspose.email_foss import msg

    msg.MapiMessage.from_email_message(message).save(str(path))
    assert path.read_bytes()[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    return path


def _source(kind: str, folder: Path, sf: bytes) -> tuple[Path, str]:
    """(what to give «raccogli», the transport expected in stato)."""
    reply = mail(SF_ADDR, "R: [PIAO-2025 SF] modulo", attachments=[(SF_FILE, sf)])
    folder.mkdir()
    if kind == "cartella":  # a shared folder: the workbook in a sub-folder, a lock file, a PDF, an .xls
        (folder / "Finanziario").mkdir()
        (folder / "Finanziario" / SF_FILE).write_bytes(sf)
        (folder / "~$PIAO-2025-SF-Finanziario.xlsx").write_bytes(b"\x00lock")
        (folder / "verbale.pdf").write_bytes(b"%PDF-1.7\n...")
        (folder / "vecchio.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + "Workbook".encode("utf-16-le"))
        return folder, "cartella"
    if kind == "file":
        (folder / "modulo compilato.xlsx").write_bytes(sf)
        return folder / "modulo compilato.xlsx", "cartella"
    if kind == "msg":
        return write_msg(folder / "risposta.msg", reply), "msg"
    if kind == "msg-inoltro":  # a colleague forwards the Responsabile's message as an attachment
        fwd = mail("collega@comune.test", "I: modulo SF", inner=reply)
        return write_msg(folder / "inoltro.msg", fwd), "msg"
    if kind == "eml":
        (folder / "risposta.eml").write_bytes(reply.as_bytes())
        return folder / "risposta.eml", "eml"
    if kind == "mbox":
        box = mailbox.mbox(folder / "posta.mbox")
        box.add(reply.as_bytes())
        box.close()
        return folder / "posta.mbox", "mbox"
    if kind == "maildir":
        box = mailbox.Maildir(folder / "Maildir", create=True)
        box.add(reply.as_bytes())
        return folder / "Maildir", "maildir"
    if kind == "pec":
        (folder / "pec.eml").write_bytes(pec_envelope(reply).as_bytes())
        return folder / "pec.eml", "pec"
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["cartella", "file", "msg", "msg-inoltro", "eml", "mbox", "maildir", "pec"])
def test_every_way_in_ends_with_the_right_stato(ws, tmp_path, sf_bytes, kind):
    source, how = _source(kind, tmp_path / "in", sf_bytes)
    before = {p: p.read_bytes() for p in (source.rglob("*") if source.is_dir() else [source]) if p.is_file()}
    r = invoke(ws, "raccogli", str(source))
    assert r.exit_code == 0, r.output
    assert "1 file nuovo" in r.output, r.output
    if kind == "cartella":  # what is not a form is named, with what to do; the lock file is not mentioned
        assert "verbale.pdf: il file è un documento PDF" in r.output
        assert "vecchio.xls: il file è una cartella di lavoro Excel 97-2003 (.xls)" in r.output
        assert "salvarlo come «Cartella di lavoro di Excel (.xlsx)»" in r.output and "~$" not in r.output
    assert {p: p.read_bytes() for p in before} == before  # the source is never changed
    state = {p["code"]: p for p in json.loads(invoke(ws, "stato", "--json").output)["parties"]}
    # forwarded by a colleague who is no delegate: accepted, with the MAIL-SENDER warning
    expected = "accepted_with_warnings" if kind == "msg-inoltro" else "accepted"
    assert (state["SF"]["status"], state["SF"]["received_how"]) == (expected, how), state["SF"]
    assert {c: p["status"] for c, p in state.items() if c != "SF"} == dict.fromkeys(
        ["SA", "ST", "AV", "nucleo", "esterno"], "missing")
    text = invoke(ws, "stato").output
    said = {"cartella": "file salvato a mano", "msg": "da un messaggio di Outlook (.msg)", "eml": "da un messaggio .eml",
            "mbox": "da un file mbox", "maildir": "da una cartella Maildir", "pec": "per PEC"}[how]
    assert said in text
    with Ledger(ws / "registro.sqlite") as led:
        (row,) = led.messages("in", with_file=True)
    assert row["transport"] == ("eml" if how == "pec" else how) and row["sector"] == "SF"
    assert (row["sender"] == "") == (how == "cartella")  # a file saved by hand has no sender to check
    # a second time: nothing new, the same file is not stored twice
    again = invoke(ws, "raccogli", str(source))
    assert again.exit_code == 0 and "0 file nuovi" in again.output
    assert len(list((ws / "ricevuti").iterdir())) == 1


def test_a_file_saved_by_hand_is_matched_by_its_identity_not_its_name(ws, tmp_path, plan):
    folder = tmp_path / "condivisa"
    folder.mkdir()
    st = filled(sector_workbook(plan, plan.sector("ST")), 2)
    (folder / "PIAO-2025-SF-Finanziario.xlsx").write_bytes(st)  # saved under the wrong name
    assert invoke(ws, "raccogli", str(folder)).exit_code == 0
    state = {p["code"]: p["status"] for p in json.loads(invoke(ws, "stato", "--json").output)["parties"]}
    assert state["ST"] == "accepted" and state["SF"] == "missing"


def test_an_empty_folder_says_what_raccogli_reads(ws, tmp_path):
    (tmp_path / "vuota").mkdir()
    r = invoke(ws, "raccogli", str(tmp_path / "vuota"))
    assert r.exit_code == 0
    assert "0 messaggi o file letti" in r.output and "nessun messaggio e nessun modulo" in r.output
    assert ".msg" in r.output and "salvati a mano" in r.output


def test_a_damaged_msg_is_an_italian_error_and_nothing_is_written(ws, tmp_path):
    bad = tmp_path / "rotto.msg"
    bad.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    r = invoke(ws, "raccogli", str(bad))
    assert r.exit_code == 2 and "Errore:" in r.output and ".msg" in r.output, r.output
    assert not list((ws / "ricevuti").iterdir()) and not list((ws / "posta").iterdir())


def _draft(ws: Path, code: str):
    (path,) = [p for p in (ws / "bozze").glob(f"*-invio-{code}-*.eml")]
    return message_from_bytes(path.read_bytes(), policy=policy.default)


def test_replies_and_reminders_thread_when_the_client_gave_the_draft_a_new_message_id(ws, tmp_path, sf_bytes):
    assert invoke(ws, "invia", "--settore", "SF").exit_code == 0
    draft = _draft(ws, "SF")
    assert "[PIAO-2025 SF]" in draft["Subject"]
    sent_id = make_msgid(domain="exchange.comune.test")  # what Outlook/Exchange really sent
    assert sent_id != draft["Message-ID"]
    # the Responsabile answers from Outlook, first without the file (saved as .msg), then with a broken file
    words = mail(SF_ADDR, f"R: {draft['Subject']}", sent_id, body="Lo mando la settimana prossima.")
    broken = mail(SF_ADDR, f"R: {draft['Subject']}", sent_id, attachments=[(SF_FILE, b"PK\x03\x04 rotto")])
    box = tmp_path / "outlook"
    box.mkdir()
    write_msg(box / "1.msg", words)
    assert invoke(ws, "raccogli", str(box)).exit_code == 0
    with Ledger(ws / "registro.sqlite") as led:
        (row,) = led.messages("in")
    assert row["sector"] == "SF" and row["in_reply_to"] == sent_id and row["transport"] == "msg"
    write_msg(box / "2.msg", broken)
    assert invoke(ws, "raccogli", str(box)).exit_code == 1  # the new file is rejected
    # the reply with the feedback answers their message and keeps the tag
    assert invoke(ws, "rispondi").exit_code == 0
    (answer,) = [message_from_bytes(p.read_bytes(), policy=policy.default)
                 for p in (ws / "bozze").glob("*-risposta-SF-*.eml")]
    assert answer["In-Reply-To"] == broken["Message-ID"] and "[PIAO-2025 SF]" in answer["Subject"]
    # the reminder refers to the Responsabile's newest message; References carries the id really sent
    assert invoke(ws, "sollecita", "--oggi", "2026-01-29").exit_code == 0
    (reminder,) = [message_from_bytes(p.read_bytes(), policy=policy.default)
                   for p in (ws / "bozze").glob("*-sollecito-SF-*.eml")]
    assert reminder["In-Reply-To"] == broken["Message-ID"]
    refs = str(reminder["References"]).split()
    assert sent_id in refs and draft["Message-ID"] in refs and refs[-1] == broken["Message-ID"]
    assert "[PIAO-2025 SF]" in reminder["Subject"]


OUTLOOK = Path(__file__).parent / "fixtures" / "outlook"


def test_real_outlook_files_are_read_and_recorded(ws, tmp_path):
    from piao_xls.mail.outlook import read_msg

    received = read_msg(OUTLOOK / "example_received_regular.msg")  # with the Internet headers Outlook kept
    assert received["From"] == "Mike Farman <mike.farman@alfresco.com>"
    assert received["Subject"] == "This is a test message please ignore"
    assert received["Message-ID"] == "<27350255.35521263227107828.JavaMail.root@zimbra.alfresco.com>"
    (gif,) = list(received.iter_attachments())
    assert gif.get_filename() == "alfresco.gif" and len(gif.get_payload(decode=True)) == 16174
    master = read_msg(OUTLOOK / "58214_with_attachment.msg")  # a message attached to a message
    (part,) = list(master.iter_attachments())
    assert part.get_content_type() == "message/rfc822"
    assert part.get_payload()[0]["Subject"] == "Test mail attachment"
    folder = tmp_path / "outlook"
    folder.mkdir()
    for f in OUTLOOK.glob("*.msg"):
        (folder / f.name).write_bytes(f.read_bytes())
    r = invoke(ws, "raccogli", str(folder), "--json")
    assert r.exit_code == 0, r.output
    assert [i["outcome"] for i in json.loads(r.output)["items"]] == ["senza allegati", "senza allegati"]
    with Ledger(ws / "registro.sqlite") as led:
        rows = led.messages("in")
    assert {(m["transport"], m["sender"], m["message_id"]) for m in rows} == {
        ("msg", "mike.farman@alfresco.com", "<27350255.35521263227107828.JavaMail.root@zimbra.alfresco.com>"),
        ("msg", "bertrand.beyssac@c6.eu", "<003c01d0cf76$96c2be20$c4483a60$@c6.eu>")}
    assert not list((ws / "ricevuti").iterdir())


def test_a_file_saved_by_hand_to_correct_gets_the_feedback_by_a_new_message(ws, tmp_path, plan):
    assert invoke(ws, "invia", "--settore", "SF").exit_code == 0
    draft = _draft(ws, "SF")
    book = sector_workbook(plan, plan.sector("SF"))
    sheet = next(s for s in book.sheets if s.kind != "instructions")
    key = next(k for k, c in sheet.inputs.items() if c.unit == "percent")
    broken = filled(book, 3, {key: "circa ottanta"})  # words in a percentage: to correct
    (tmp_path / "a-mano").mkdir()
    (tmp_path / "a-mano" / SF_FILE).write_bytes(broken)
    assert invoke(ws, "raccogli", str(tmp_path / "a-mano")).exit_code == 1
    r = invoke(ws, "rispondi")
    assert r.exit_code == 0 and "bozza preparata" in r.output, r.output
    (answer,) = [message_from_bytes(p.read_bytes(), policy=policy.default)
                 for p in (ws / "bozze").glob("*-risposta-SF-*.eml")]
    assert answer["To"] == SF_ADDR and "[PIAO-2025 SF]" in answer["Subject"]
    assert answer["In-Reply-To"] == draft["Message-ID"]
    assert "rispedirlo" in answer.get_body(("plain",)).get_content()
    again = invoke(ws, "rispondi")
    assert "già risposto" in again.output


def test_controlla_only_checks_and_says_how_to_record_the_files(ws, tmp_path, sf_bytes):
    (tmp_path / "a-mano").mkdir()
    (tmp_path / "a-mano" / SF_FILE).write_bytes(sf_bytes)
    r = invoke(ws, "controlla", str(tmp_path / "a-mano"))
    assert r.exit_code == 0 and f"piao-xls raccogli {tmp_path / 'a-mano'}" in r.output, r.output
    state = {p["code"]: p["status"] for p in json.loads(invoke(ws, "stato", "--json").output)["parties"]}
    assert state["SF"] == "missing"
    assert invoke(ws, "raccogli", str(tmp_path / "a-mano")).exit_code == 0
    state = {p["code"]: p["status"] for p in json.loads(invoke(ws, "stato", "--json").output)["parties"]}
    assert state["SF"] == "accepted"
