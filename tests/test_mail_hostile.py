"""Mail that cannot stop the year: one bad message is a finding and the others are read (mbox and IMAP on a real
Dovecot), a message over the size limit is a finding and a ledger row, never a silent drop; replies survive odd
headers and names; what collect and stato print carries no control character from a message."""

from __future__ import annotations

import json
import mailbox
import re
from pathlib import Path

import pytest
from test_year import filled, mail, set_key
from workspace_case import invoke, new_workspace

from piao_xls.forms.layout import sector_workbook
from piao_xls.workspace.ledger import Ledger

SF_ADDR = "sf.responsabile@example.invalid"
SIZE_LIMIT = 40 * 1024 * 1024  # MailLimits.message_bytes, as docs/security.md documents it
XLSX = b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def ws(tmp_path):
    return new_workspace(tmp_path)


@pytest.fixture
def books(plan):
    return {c: filled(sector_workbook(plan, plan.sector(c)), i) for i, c in enumerate(("SF", "SA", "ST"))}


def nested(depth: int, blank_lines: int = 10, sender: bytes = SF_ADDR.encode()) -> bytes:
    out = (b"From: " + sender + b"\r\nSubject: annidato\r\nMessage-ID: <annidato%d@x.invalid>\r\n" % depth
           + b"MIME-Version: 1.0\r\n")
    for i in range(depth):
        out += b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
    out += b"Content-Type: text/plain\r\n\r\n" + b"\r\n" * blank_lines
    for i in reversed(range(depth)):
        out += b"--b%d--\r\n" % i
    return out


MALFORMED = {
    "unbalanced quotes in address headers": b'From: "Resp <sf.responsabile@example.invalid>\r\nTo: "a, "b, <c\r\n'
                                            b'Cc: (((\r\nSubject: x\r\nMessage-ID: <q1@x.invalid>\r\n\r\ncorpo\r\n',
    "a thousand nested multiparts": nested(1000),
    "nested multiparts around many empty lines": nested(35, 400_000),
    "comments nested a thousand deep in Content-Type": b"From: a@b.invalid\r\nMessage-ID: <c1@x.invalid>\r\n"
                                                       b"Content-Type: text/plain" + b"(" * 1000 + b"\r\n\r\nx\r\n",
    "tens of thousands of tiny attachments": b"From: " + SF_ADDR.encode() + b"\r\nMessage-ID: <t1@x.invalid>\r\n"
    b"Content-Type: multipart/mixed; boundary=z\r\n\r\n" + b"".join(
        b"--z\r\nContent-Type: " + XLSX + b"\r\nContent-Disposition: attachment; filename=a%d.xlsx\r\n\r\nPK\r\n" % i
        for i in range(30_000)) + b"--z--\r\n",
    "thirty workbooks in one message": b"From: " + SF_ADDR.encode() + b"\r\nMessage-ID: <t2@x.invalid>\r\n"
    b"Content-Type: multipart/mixed; boundary=z\r\n\r\n" + b"".join(
        b"--z\r\nContent-Type: " + XLSX + b"\r\nContent-Disposition: attachment; filename=a%d.xlsx\r\n\r\nPK\r\n" % i
        for i in range(30)) + b"--z--\r\n",
    "binary junk": b"\x00\xff\xfe garbage \r\n\r\n--\r\n",
}


def _mbox(path: Path, messages: list[bytes]) -> Path:
    box = mailbox.mbox(path, create=True)
    for m in messages:
        box.add(m)
    box.flush()
    box.close()
    return path


def test_one_bad_message_never_stops_collect_and_is_a_finding(ws, tmp_path, books):
    good_first = mail(SF_ADDR, "Re: modulo", attachments=[("PIAO-2025-SF-Finanziario.xlsx", books["SF"])])
    good_last = mail("sa.responsabile@example.invalid", "Re: modulo", attachments=[("SA.xlsx", books["SA"])])
    source = _mbox(tmp_path / "posta.mbox", [good_first.as_bytes(), *MALFORMED.values(), good_last.as_bytes()])
    r = invoke(ws, "collect", str(source), "--json")
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
    out = json.loads(r.output)
    items = out["items"]
    assert out["messages"] == len(MALFORMED) + 2
    assert (items[0]["sector"], items[0]["outcome"]) == ("SF", "nuovo")
    assert (items[-1]["sector"], items[-1]["outcome"]) == ("SA", "nuovo")
    got = {name: (i["outcome"], [f["code"] for f in i["findings"]]) for name, i in zip(MALFORMED, items[1:-1],
                                                                                          strict=True)}
    assert got == {
        "unbalanced quotes in address headers": ("senza allegati", ["MAIL-FROM"]),
        "a thousand nested multiparts": ("non letto", ["MAIL-LIMIT"]),
        "nested multiparts around many empty lines": ("non letto", ["MAIL-LIMIT"]),
        "comments nested a thousand deep in Content-Type": ("senza allegati", []),
        "tens of thousands of tiny attachments": ("non letto", ["MAIL-LIMIT"]),
        "thirty workbooks in one message": ("non letto", ["MAIL-LIMIT"]),
        "binary junk": ("senza allegati", ["MAIL-FROM"]),
    }
    assert r.exit_code == 1
    with Ledger(ws / "registro.sqlite") as led:
        assert len(led.messages("in")) == len(items)  # every message has its row


def test_a_message_over_the_size_limit_is_a_finding_and_a_ledger_row(ws, tmp_path, books):
    from piao_xls.mail.collect import MailLimits

    assert MailLimits().message_bytes == SIZE_LIMIT
    big = mail(SF_ADDR, "Re: modulo con le scansioni", attachments=[("PIAO-2025-SF-Finanziario.xlsx", books["SF"])])
    big.add_attachment(b"%PDF-1.4 " + bytes(range(256)) * (SIZE_LIMIT // 256 // 4 * 3 + 1),
                       maintype="application", subtype="pdf", filename="scansione.pdf")
    (tmp_path / "eml").mkdir()
    (tmp_path / "eml" / "grande.eml").write_bytes(big.as_bytes())
    r = invoke(ws, "collect", str(tmp_path / "eml"), "--json")
    assert r.exit_code == 1, r.output
    (item,) = json.loads(r.output)["items"]
    assert item["outcome"] == "non letto" and item["sector"] == "SF" and item["sender"] == SF_ADDR
    assert item["findings"][0]["code"] == "MAIL-LIMIT" and "dimensione" in item["findings"][0]["message"]
    with Ledger(ws / "registro.sqlite") as led:
        (row,) = led.messages("in")
    assert json.loads(row["meta"])["not_read"] == "MAIL-LIMIT" and row["sector"] == "SF"
    text = invoke(ws, "stato").output
    assert "messaggio non letto" in text and "dimensione massima" in text
    r = invoke(ws, "collect", str(tmp_path / "eml"), "--json")  # read again: recorded once
    assert json.loads(r.output)["items"][0]["outcome"] == "già raccolto"


@pytest.mark.dovecot
def test_imap_a_bad_message_does_not_stop_this_collect_nor_the_next(ws, tmp_path, books):
    from mailservers import Dovecot

    with Dovecot() as dovecot:
        settings = ws / "piao-xls.toml"
        for key, value in [("host", '"127.0.0.1"'), ("porta", str(dovecot.port)), ("sicurezza", '"starttls"'),
                           ("utente", f'"{dovecot.user}"'), ("ca", f'"{dovecot.cert}"')]:
            set_key(settings, "imap", key, value)
        env = {"PIAO_XLS_IMAP_PASSWORD": dovecot.password}
        dovecot.deliver(MALFORMED["a thousand nested multiparts"])
        dovecot.deliver(MALFORMED["unbalanced quotes in address headers"])
        too_big = mail(SF_ADDR, "Re: modulo grande", attachments=[("PIAO-2025-SF-Finanziario.xlsx", books["SF"])])
        too_big.add_attachment(b"\x00" * (SIZE_LIMIT * 3 // 4 + 1024), maintype="application",
                               subtype="pdf", filename="scansione.pdf")
        dovecot.deliver(too_big.as_bytes())
        dovecot.deliver(mail(SF_ADDR, "Re: modulo", attachments=[("PIAO-2025-SF-Finanziario.xlsx", books["SF"])])
                        .as_bytes())
        r = invoke(ws, "collect", "--json", env=env)
        assert r.exit_code == 1, r.output
        items = json.loads(r.output)["items"]
        assert [i["outcome"] for i in items] == ["non letto", "senza allegati", "non letto", "nuovo"]
        assert items[2]["findings"][0]["code"] == "MAIL-LIMIT" and items[2]["sender"] == SF_ADDR
        r = invoke(ws, "collect", "--json", env=env)  # the next collect: nothing new, nothing dies
        assert r.exit_code == 0, r.output
        assert json.loads(r.output)["items"] == []


def test_reply_survives_odd_references_and_hostile_names(ws, tmp_path):
    broken = b"PK\x03\x04 rotto"
    odd_refs = mail(SF_ADDR, "Re: modulo", attachments=[("PIAO-2025-SF-Finanziario.xlsx", broken)])
    raw_odd = odd_refs.as_bytes().replace(b"Subject: ", b"References: =?utf-8?q?=0D=0ABcc:_vittima@example.invalid"
                                          b"=0D=0A?= <a@b.invalid>\nIn-Reply-To: =?utf-8?q?<x@y>=0D=0AX-Evil:_1?=\n"
                                          b"Subject: ", 1)  # encoded CR/LF, as a hostile client writes them
    nul = mail("sa.responsabile@example.invalid", "Re: modulo", attachments=[("nul\x00name.xlsx", broken + b"1")])
    long = mail("st.responsabile@example.invalid", "Re: modulo", attachments=[("L" * 400 + ".xlsx", broken + b"2")])
    (tmp_path / "eml").mkdir()
    for i, m in enumerate((raw_odd, nul.as_bytes(), long.as_bytes())):
        (tmp_path / "eml" / f"{i}.eml").write_bytes(m)
    assert invoke(ws, "collect", str(tmp_path / "eml")).exit_code == 1
    r = invoke(ws, "reply", "--json")
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
    acts = {a["code"]: a["outcome"] for a in json.loads(r.output)["actions"]}
    assert acts == {"SF": "bozza preparata", "SA": "bozza preparata", "ST": "bozza preparata"}
    from email import message_from_bytes, policy

    draft = message_from_bytes(next((ws / "bozze").glob("*risposta-SF*.eml")).read_bytes(), policy=policy.default)
    assert draft["Bcc"] is None and draft["X-Evil"] is None
    assert "\n" not in str(draft["References"]) and "<a@b.invalid>" in str(draft["References"])
    notes = sorted(p.name for p in (ws / "riscontri").iterdir())
    assert len(notes) == 3 and all(len(n) < 120 and "\x00" not in n for n in notes)


def test_console_output_escapes_controls_and_line_breaks(ws, tmp_path, books):
    forged = "x.xlsx\nSF       nuovo — accettato: PIAO.xlsx da sf.responsabile@example.invalid\x1b[2J\u202e"
    m = mail(SF_ADDR, "Re: modulo\x1b]0;titolo\x07", attachments=[(forged, b"PK\x03\x04 rotto")])
    (tmp_path / "a.eml").write_bytes(m.as_bytes())
    r = invoke(ws, "collect", str(tmp_path / "a.eml"))
    for out in (r.output, invoke(ws, "stato").output):
        assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
        assert not any(re.match(r"SF\s+nuovo", line) for line in out.splitlines()), out
    assert "\\x0a" in r.output or "\\n" in r.output
