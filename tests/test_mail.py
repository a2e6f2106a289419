"""Mail without servers: .eml drafts, collecting from a Maildir, an mbox, a folder of .eml files; the sender
check, delegates, hostile attachment names and messages. (The servers are in tests/test_year.py.)"""

from __future__ import annotations

import json
import mailbox
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_year import filled, mail, pec_envelope, set_key
from workspace_case import invoke, new_workspace

from piao_xls.cli import cli
from piao_xls.forms.layout import sector_workbook
from piao_xls.workspace.ledger import Ledger

SF_ADDR = "sf.responsabile@comune.test"


@pytest.fixture
def ws(tmp_path):
    return new_workspace(tmp_path, addresses=True)


@pytest.fixture
def sf_bytes(plan):
    return filled(sector_workbook(plan, plan.sector("SF")), 1)


def test_send_writes_unsent_drafts_once_unless_resend(ws):
    r = invoke(ws, "send", "--settore", "SF", "--settore", "nucleo")
    assert r.exit_code == 0, r.output
    drafts = sorted((ws / "bozze").glob("*.eml"))
    assert len(drafts) == 2
    msg = message_from_bytes(next(d for d in drafts if "-invio-SF-" in d.name).read_bytes(), policy=policy.default)
    assert msg["X-Unsent"] == "1" and msg["To"] == SF_ADDR and msg["Message-ID"]
    (att,) = list(msg.iter_attachments())
    assert att.get_filename() == "PIAO-2025-SF-Finanziario.xlsx"
    assert att.get_content() == (ws / "moduli" / "2025" / "PIAO-2025-SF-Finanziario.xlsx").read_bytes()
    assert "31/01/2026" in msg.get_body(("plain",)).get_content()
    assert "già inviato" in invoke(ws, "send", "--settore", "SF").output
    assert len(list((ws / "bozze").glob("*.eml"))) == 2
    assert "bozza preparata" in invoke(ws, "send", "--settore", "SF", "--resend").output
    assert len(list((ws / "bozze").glob("*.eml"))) == 3
    with Ledger(ws / "registro.sqlite") as led:
        ids = [m["message_id"] for m in led.messages(kind="invio")]
    assert len(ids) == 3 and len(set(ids)) == 3


def test_send_without_address_is_a_finding(ws):
    set_key(ws / "piao-xls.toml", "indirizzi", "AV", '""')
    set_key(ws / "piao-xls.toml", "indirizzi", "SA", '"dott. pastore"')
    r = invoke(ws, "send", "--dry-run")
    assert r.exit_code == 1 and "indirizzo mancante" in r.output and "indirizzo non valido" in r.output
    with Ledger(ws / "registro.sqlite") as led:
        assert [e["command"] for e in led.events()] == ["init", "generate"]  # a dry run writes nothing
        assert led.messages() == []
    assert not list((ws / "bozze").iterdir())


def _messages(sf_bytes):
    return [mail(SF_ADDR, "Re: modulo", attachments=[("PIAO-2025-SF-Finanziario.xlsx", sf_bytes)]),
            mail("estraneo@example.invalid", "modulo", attachments=[("../../../etc/evil.xlsx", sf_bytes + b"")])]


def _make_source(kind: str, folder: Path, msgs) -> Path:
    if kind == "maildir":
        box = mailbox.Maildir(folder / "Maildir", create=True)
        for m in msgs:
            box.add(m.as_bytes())
        return folder / "Maildir"
    if kind == "mbox":
        box = mailbox.mbox(folder / "posta.mbox", create=True)
        for m in msgs:
            box.add(m.as_bytes())
        box.flush()
        box.close()
        return folder / "posta.mbox"
    (folder / "eml").mkdir()
    for i, m in enumerate(msgs):
        (folder / "eml" / f"{i}.eml").write_bytes(m.as_bytes())
    return folder / "eml"


def _tree(path: Path) -> dict[str, bytes]:
    if path.is_file():
        return {path.name: path.read_bytes()}
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("kind", ["maildir", "mbox", "eml"])
def test_collect_from_local_mailboxes_leaves_them_unchanged(ws, tmp_path, sf_bytes, kind):
    source = _make_source(kind, tmp_path, _messages(sf_bytes))
    before = _tree(source)
    r = invoke(ws, "collect", str(source), "--json")
    assert r.exit_code == 0, r.output
    assert _tree(source) == before
    items = json.loads(r.output)["items"]
    # the stranger's copy of the same file is judged again for its sender (a warning without --strict-sender)
    assert [(i["sector"], i["outcome"]) for i in items] == [("SF", "nuovo"), ("SF", "nuovo")]
    assert [f["code"] for f in items[1]["findings"]] == ["MAIL-SENDER"]
    saved = list((ws / "ricevuti").iterdir())
    assert len(saved) == 1 and saved[0].name.startswith("SF-") and ".." not in saved[0].name
    assert not (tmp_path / "etc").exists()
    assert items[0]["status"] == "accepted"
    assert len(list((ws / "posta").iterdir())) == 2  # every message kept as it arrived


def test_wrong_sender_warns_or_is_rejected_with_strict_sender(ws, tmp_path, sf_bytes):
    msg = mail("estraneo@example.invalid", "modulo", attachments=[("x.xlsx", sf_bytes)])
    (tmp_path / "a.eml").write_bytes(msg.as_bytes())
    r = invoke(ws, "collect", str(tmp_path / "a.eml"), "--strict-sender", "--json")
    assert r.exit_code == 1
    (item,) = json.loads(r.output)["items"]
    f = next(f for f in item["findings"] if f["code"] == "MAIL-SENDER")
    assert item["status"] == "rejected" and f["severity"] == "error"
    assert "estraneo@example.invalid" in f["message"] and SF_ADDR in f["message"]


def test_the_text_report_of_collect_names_each_finding_s_place(ws, tmp_path, sf_bytes):
    """What the clerk reads: a finding of the message has no place, and no space before its colon."""
    msg = mail("estraneo@example.invalid", "modulo", attachments=[("x.xlsx", sf_bytes)])
    (tmp_path / "a.eml").write_bytes(msg.as_bytes())
    out = invoke(ws, "collect", str(tmp_path / "a.eml")).output
    assert "  avviso MAIL-SENDER: " in out and " :" not in out, out


def test_a_delegate_may_return_the_workbook(ws, tmp_path, sf_bytes):
    path = ws / "piao-xls.toml"
    path.write_text(path.read_text().replace("[delegati]\n", '[delegati]\nSF = ["vice.sf@example.invalid"]\n'))
    (tmp_path / "a.eml").write_bytes(mail("Vice <VICE.SF@example.invalid>", "modulo",
                                          attachments=[("x.xlsx", sf_bytes)]).as_bytes())
    r = invoke(ws, "collect", str(tmp_path / "a.eml"), "--strict-sender", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["items"][0]["status"] == "accepted"


def test_pec_and_forward_are_opened_to_the_original_attachment(ws, tmp_path, sf_bytes):
    original = mail(SF_ADDR, "Re: modulo", attachments=[("PIAO-2025-SF-Finanziario.xlsx", sf_bytes)])
    forward = mail(SF_ADDR, "I: modulo", inner=pec_envelope(original))  # a PEC forwarded: still the original
    (tmp_path / "eml").mkdir()
    (tmp_path / "eml" / "pec.eml").write_bytes(pec_envelope(original).as_bytes())
    (tmp_path / "eml" / "fwd.eml").write_bytes(forward.as_bytes())
    r = invoke(ws, "collect", str(tmp_path / "eml"), "--json")
    assert r.exit_code == 0, r.output
    items = json.loads(r.output)["items"]
    assert [(i["via"], i["outcome"]) for i in items] == [("inoltro", "nuovo"), ("pec", "duplicato")]
    with Ledger(ws / "registro.sqlite") as led:
        metas = [json.loads(m["meta"]) for m in led.messages("in")]
    assert metas[1]["pec"]["mittente"] == SF_ADDR and metas[1]["pec"]["tipo"] == "posta-certificata"


def test_hostile_messages_never_stop_collect(ws, tmp_path, sf_bytes):
    deep = mail(SF_ADDR, "x", attachments=[("a.xlsx", sf_bytes)])
    for _ in range(12):
        deep = mail(SF_ADDR, "I: x", inner=deep)
    (tmp_path / "eml").mkdir()
    (tmp_path / "eml" / "1-deep.eml").write_bytes(deep.as_bytes())
    (tmp_path / "eml" / "2-junk.eml").write_bytes(b"\x00\xff garbage \r\n\r\n--\r\n")
    (tmp_path / "eml" / "3-bomb.eml").write_bytes(
        mail(SF_ADDR, "x", attachments=[("b.xlsx", b"PK\x03\x04" + b"\x00" * 200)]).as_bytes())
    r = invoke(ws, "collect", str(tmp_path / "eml"), "--json")
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
    items = json.loads(r.output)["items"]
    assert [i["outcome"] for i in items] == ["non letto", "senza allegati", "rifiutato"]
    assert items[0]["findings"][0]["code"] == "MAIL-LIMIT"  # 12 forwards deep: over the limit, said, not dropped
    assert not list((ws / "ricevuti").iterdir())


def test_a_file_that_is_not_a_message_is_named_in_italian(ws, tmp_path):
    (tmp_path / "a.msg").write_bytes(b"\xd0\xcf\x11\xe0")  # four bytes: not even an OLE file
    r = invoke(ws, "collect", str(tmp_path / "a.msg"))
    assert r.exit_code == 2 and "non è un modulo (.xlsx, .ods), né un messaggio (.eml, .msg)" in r.output, r.output


def test_reply_and_remind_as_drafts(ws, tmp_path, plan):
    broken = mail(SF_ADDR, "Re: modulo", attachments=[("PIAO-2025-SF-Finanziario.xlsx", b"PK\x03\x04 rotto")])
    (tmp_path / "a.eml").write_bytes(broken.as_bytes())
    assert invoke(ws, "collect", str(tmp_path / "a.eml")).exit_code == 1
    r = invoke(ws, "reply", "--json")
    (act,) = json.loads(r.output)["actions"]
    assert act["code"] == "SF" and act["outcome"] == "bozza preparata"
    draft = message_from_bytes(next((ws / "bozze").glob("*risposta-SF*.eml")).read_bytes(), policy=policy.default)
    assert draft["In-Reply-To"] == broken["Message-ID"] and draft["X-Unsent"] == "1"
    assert list((ws / "riscontri").glob("*-riscontro.txt"))
    r = invoke(ws, "remind", "--oggi", "2026-02-03", "--json")
    outcomes = {a["code"]: a["outcome"] for a in json.loads(r.output)["actions"]}
    assert outcomes == dict.fromkeys(("SA", "SF", "ST", "AV", "nucleo", "esterno"), "bozza preparata")
    text = next((ws / "bozze").glob("*sollecito-SA*.eml")).read_bytes()
    assert "passata da 3 giorni" in message_from_bytes(text, policy=policy.default).get_body(("plain",)).get_content()
    r = invoke(ws, "remind", "--oggi", "2026-02-03")
    assert r.output.count("già sollecitato oggi") == 6


def _use_smtp(ws: Path, smtp, security: str) -> None:
    settings = ws / "piao-xls.toml"
    set_key(settings, "posta", "invio", '"smtp"')
    for key, value in [("host", '"127.0.0.1"'), ("porta", str(smtp.port)), ("sicurezza", f'"{security}"'),
                       ("utente", f'"{smtp.user}"'), ("ca", f'"{smtp.cert}"')]:
        set_key(settings, "smtp", key, value)


def test_smtp_with_implicit_tls_and_a_wrong_password(ws, tmp_path):
    from mailservers import SmtpServer

    with SmtpServer(tmp_path, implicit_tls=True) as smtp:
        _use_smtp(ws, smtp, "tls")
        r = CliRunner().invoke(cli, ["-C", str(ws), "send", "--settore", "SF"],
                               env={"PIAO_XLS_SMTP_PASSWORD": "sbagliata"})
        assert r.exit_code == 3 and "rifiutato utente o password" in r.output, r.output
        assert smtp.messages == []
        with Ledger(ws / "registro.sqlite") as led:
            assert led.messages() == []  # nothing recorded as sent
        r = CliRunner().invoke(cli, ["-C", str(ws), "send", "--settore", "SF"],
                               env={"PIAO_XLS_SMTP_PASSWORD": smtp.password})
        assert r.exit_code == 0 and "inviato" in r.output, r.output
        (m,) = smtp.messages
        assert m["tls"] and m["auth"] and m["to"] == [SF_ADDR]
        assert message_from_bytes(m["data"], policy=policy.default)["X-Unsent"] is None


def test_a_mail_server_that_does_not_answer_is_exit_3(ws):
    from mailservers import free_port

    settings = ws / "piao-xls.toml"
    set_key(settings, "posta", "invio", '"smtp"')
    set_key(settings, "smtp", "host", '"127.0.0.1"')
    set_key(settings, "smtp", "porta", str(free_port()))
    set_key(settings, "imap", "host", '"127.0.0.1"')
    set_key(settings, "imap", "porta", str(free_port()))
    for cmd in ("send", "collect"):
        r = invoke(ws, cmd)
        assert r.exit_code == 3 and "impossibile collegarsi" in r.output, (cmd, r.output)


def test_receipts_bounces_and_the_office_s_own_messages_are_not_returns(ws, tmp_path):
    """A PEC delivery receipt, a bounce and a copy of the office's message all carry the blank form sent:
    none of them is a return (the sector would otherwise turn «da correggere»)."""
    from email.message import EmailMessage

    assert invoke(ws, "send", "--settore", "SF").exit_code == 0
    sent_path = next((ws / "bozze").glob("*invio-SF*.eml"))
    sent = message_from_bytes(sent_path.read_bytes(), policy=policy.default)
    receipt = pec_envelope(sent, tipo="avvenuta-consegna")  # the provider's receipt around the office's message
    bounce = EmailMessage()
    bounce["From"], bounce["To"], bounce["Subject"] = "MAILER-DAEMON@example.invalid", "x@example.invalid", "Undelivered"
    bounce.set_content("Delivery failed")
    bounce.add_attachment(sent)
    bounce.replace_header("Content-Type", bounce["Content-Type"].replace("multipart/mixed", "multipart/report"))
    (tmp_path / "eml").mkdir()
    for name, m in (("1-receipt", receipt), ("2-bounce", bounce), ("3-own", sent)):
        (tmp_path / "eml" / f"{name}.eml").write_bytes(m.as_bytes())
    r = invoke(ws, "collect", str(tmp_path / "eml"), "--json")
    assert r.exit_code == 0, r.output
    assert [i["outcome"] for i in json.loads(r.output)["items"]] == [
        "ricevuta PEC", "notifica di mancato recapito", "messaggio dell'ufficio"]
    assert not list((ws / "ricevuti").iterdir())
    state = {p["code"]: p["status"] for p in json.loads(invoke(ws, "stato", "--json").output)["parties"]}
    assert state["SF"] == "missing"


def test_a_reply_to_a_pec_refers_to_the_original_message(ws, tmp_path):
    original = mail(SF_ADDR, "Re: modulo SF", attachments=[("PIAO-2025-SF-Finanziario.xlsx", b"PK\x03\x04 rotto")])
    (tmp_path / "pec.eml").write_bytes(pec_envelope(original).as_bytes())
    assert invoke(ws, "collect", str(tmp_path / "pec.eml")).exit_code == 1
    r = invoke(ws, "reply", "--json")
    (act,) = json.loads(r.output)["actions"]
    assert (act["code"], act["to"]) == ("SF", SF_ADDR)
    draft = message_from_bytes(next((ws / "bozze").glob("*risposta-SF*.eml")).read_bytes(), policy=policy.default)
    assert draft["In-Reply-To"] == original["Message-ID"] and draft["Subject"] == "Re: modulo SF [PIAO-2025 SF]"
    assert "già risposto" in invoke(ws, "reply").output


def test_pec_from_the_responsabile_s_certified_address(ws, tmp_path, sf_bytes):
    original = mail(SF_ADDR, "Re: modulo", attachments=[("PIAO-2025-SF-Finanziario.xlsx", sf_bytes)])
    (tmp_path / "a.eml").write_bytes(pec_envelope(original, certified="cerea.viviana@pec.example.invalid").as_bytes())
    r = invoke(ws, "collect", str(tmp_path / "a.eml"), "--strict-sender", "--json")
    assert r.exit_code == 0, r.output
    (item,) = json.loads(r.output)["items"]
    assert item["sender"] == "cerea.viviana@pec.example.invalid" and item["status"] == "accepted"
    stranger = mail("estraneo@example.invalid", "modulo", attachments=[("PIAO-2025-SF-Finanziario.xlsx", sf_bytes)])
    envelope = pec_envelope(stranger, certified="estraneo@pec.example.invalid")
    envelope.replace_header("Message-ID", "<opec21.altro@pec.example.invalid>")
    (tmp_path / "b.eml").write_bytes(envelope.as_bytes())
    r = invoke(ws, "collect", str(tmp_path / "b.eml"), "--json")
    (item,) = json.loads(r.output)["items"]  # the same file from another certified sender: judged again for them
    assert item["outcome"] == "nuovo" and [f["code"] for f in item["findings"]] == ["MAIL-SENDER"]
    assert len(list((ws / "ricevuti").iterdir())) == 1  # stored once


@pytest.mark.parametrize("written", ['Cerea, Viviana <sf.responsabile@comune.test>',
                                     '"Cerea, Viviana" <sf.responsabile@comune.test>; Ufficio, Ragioneria '
                                     '<ragioneria@comune.test>'])
def test_a_display_name_with_a_comma_stays_one_address(ws, written):
    """«Cognome, Nome <indirizzo>» is how Outlook copies an address: it is one recipient, quoted in the To: header
    (no client reads two addresses), and returns from that address count."""
    path = ws / "piao-xls.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('SF = "sf.responsabile@comune.test"', f"SF = '{written}'"), encoding="utf-8")
    r = invoke(ws, "invia", "--settore", "SF")
    assert r.exit_code == 0, r.output
    (draft,) = (ws / "bozze").glob("*-invio-SF-*.eml")
    msg = message_from_bytes(draft.read_bytes(), policy=policy.default)
    got = [(a.display_name, a.addr_spec) for a in msg["To"].addresses]
    assert got[0] == ("Cerea, Viviana", "sf.responsabile@comune.test")
    assert len(got) == written.count("@")
    from piao_xls.workspace.settings import load_settings

    assert "sf.responsabile@comune.test" in load_settings(ws).authorized("SF")
