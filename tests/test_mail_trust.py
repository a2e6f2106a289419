"""Who sent it, and what the ledger says: the sender is the From: address as mail clients show it, a PEC is
certified only when its signature verifies, a refused file never reaches the files that count, and stato,
remind, reply and send follow the plan in force and the workspace's own ledger."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from pec import signed_pec, tampered_pec, unsigned_pec
from test_year import filled, mail, real_addresses
from workspace_case import invoke, new_workspace

from piao_xls.cli import cli
from piao_xls.forms.layout import all_sectors_workbook, sector_workbook
from piao_xls.forms.samples import sample_values
from piao_xls.forms.writer import render
from piao_xls.workspace.ledger import Ledger

SF_ADDR = "sf.responsabile@example.invalid"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def ws(tmp_path):
    return new_workspace(tmp_path)


@pytest.fixture
def sf_bytes(plan):
    return filled(sector_workbook(plan, plan.sector("SF")), 1)


def collect(ws: Path, tmp_path: Path, *messages, strict: bool = True) -> tuple[int, list[dict]]:
    """Write ``messages`` (EmailMessage or raw bytes) as .eml files and collect them; (exit code, items)."""
    folder = tmp_path / f"eml{len(list(tmp_path.glob('eml*')))}"
    folder.mkdir()
    for i, m in enumerate(messages):
        (folder / f"{i:03d}.eml").write_bytes(m if isinstance(m, bytes) else m.as_bytes())
    r = invoke(ws, "collect", str(folder), "--json", *(["--strict-sender"] if strict else []))
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
    return r.exit_code, json.loads(r.output)["items"]


def state(ws: Path) -> dict[str, dict]:
    return {p["code"]: p for p in json.loads(invoke(ws, "stato", "--json").output)["parties"]}


def raw_mail(from_lines: list[bytes], attachment: bytes, name: str = "PIAO-2025-SF-Finanziario.xlsx",
             extra: bytes = b"") -> bytes:
    """A message as a hostile client writes it: the From: lines given byte for byte."""
    import base64

    body = base64.encodebytes(attachment)
    return (b"".join(b"From: " + f + b"\r\n" for f in from_lines) + extra +
            b"To: ragioneria@example.invalid\r\nSubject: modulo\r\nMessage-ID: <" + str(hash(tuple(from_lines))).encode()
            + b"@comune.example.invalid>\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nIn allegato.\r\n"
            b"--b1\r\nContent-Type: " + XLSX.encode() + b"\r\nContent-Transfer-Encoding: base64\r\n"
            b"Content-Disposition: attachment; filename=\"" + name.encode() + b"\"\r\n\r\n" + body + b"--b1--\r\n")


# --- who sent it ---------------------------------------------------------------------------------

def test_a_refused_sender_s_file_is_set_aside_and_never_counts(ws, tmp_path, plan, sf_bytes):
    stranger = filled(sector_workbook(plan, plan.sector("SF")), 7)  # another filling of the same form
    code, items = collect(ws, tmp_path, mail(SF_ADDR, "Re: modulo", attachments=[("a.xlsx", sf_bytes)]),
                          mail("estraneo@example.invalid", "modulo", attachments=[("b.xlsx", stranger)]))
    assert [(i["sector"], i["outcome"]) for i in items] == [("SF", "nuovo"), ("SF", "messo da parte")]
    assert code == 1
    assert [p.read_bytes() for p in (ws / "ricevuti").iterdir()] == [sf_bytes]
    assert [p.read_bytes() for p in (ws / "rifiutati").iterdir()] == [stranger]
    sf = state(ws)["SF"]
    assert sf["status"] == "accepted" and sf["received_from"] == SF_ADDR
    assert [a["sender"] for a in sf["set_aside"]] == ["estraneo@example.invalid"]
    assert "messo da parte" in invoke(ws, "stato").output
    r = invoke(ws, "consolidate", "--json")
    sectors = {s["code"]: s for s in json.loads(r.output)["sectors"]}
    assert sectors["SF"]["score"] is not None  # scored from the Responsabile's file, no conflict with the stranger's
    assert not any(f["code"] == "WB-CONFLICT" for f in json.loads(r.output)["findings"])


def test_an_all_sector_workbook_needs_a_sender_authorised_for_every_sector(ws, tmp_path, plan):
    book = all_sectors_workbook(plan)
    prefill = {}
    for i, sheet in enumerate(s for s in book.sheets if s.kind != "instructions"):
        prefill |= sample_values(sheet, seed=i)
    data = render(book, prefill=prefill)
    _, items = collect(ws, tmp_path, mail(SF_ADDR, "tutti", attachments=[(book.filename, data)]), strict=False)
    (item,) = items
    (f,) = [f for f in item["findings"] if f["code"] == "MAIL-SENDER"]
    others = [s.code for s in plan.sectors if s.code != "SF"]
    assert f["severity"] == "warning" and all(c in f["message"].split("(")[0] for c in others)
    assert "SF" not in f["message"].split("(")[0]  # authorised for SF: only the others are named
    second = mail("sa.responsabile@example.invalid", "tutti", attachments=[(book.filename, data)])
    code, items = collect(ws, tmp_path, second)  # --strict-sender: the whole file is set aside
    assert code == 1 and items[0]["outcome"] == "messo da parte"
    assert list((ws / "rifiutati").iterdir())
    path = ws / "piao-xls.toml"  # the SF Responsabile made a delegate of every other sector: now it counts
    path.write_text(path.read_text().replace(
        "[delegati]\n", "[delegati]\n" + "".join(f'{c} = ["{SF_ADDR}"]\n' for c in others)))
    third = mail(SF_ADDR, "tutti di nuovo", attachments=[(book.filename, data)])
    code, items = collect(ws, tmp_path, third)
    assert items[0]["outcome"] == "duplicato"  # same file, same sender: already judged for them


BAD_FROM = {
    "display name is an authorised address": [b'"sf.responsabile@example.invalid" <other@elsewhere.invalid>'],
    "display name with the address and angle text": [b'sf.responsabile@example.invalid <other@elsewhere.invalid>'],
    "only an encoded word (q)": [b"=?utf-8?q?sf.responsabile@example.invalid?="],
    "only an encoded word (b)": [b"=?utf-8?b?c2YucmVzcG9uc2FiaWxlQGV4YW1wbGUuaW52YWxpZA==?="],
    "encoded address in angle brackets": [b"Resp <=?utf-8?q?sf.responsabile@example.invalid?=>"],
    "unbalanced quotes": [b'"sf.responsabile@example.invalid <sf.responsabile@example.invalid>'],
    "unclosed angle bracket": [b"Resp <sf.responsabile@example.invalid"],
    "two From headers": [b"sf.responsabile@example.invalid", b"other@elsewhere.invalid"],
    "two addresses": [b"sf.responsabile@example.invalid, other@elsewhere.invalid"],
    "group syntax": [b"undisclosed: sf.responsabile@example.invalid;"],
    "no From at all": [],
    "comment carrying the address": [b"other@elsewhere.invalid (sf.responsabile@example.invalid)"],
}


@pytest.mark.parametrize("lines", BAD_FROM.values(), ids=BAD_FROM.keys())
def test_a_defective_or_ambiguous_from_is_a_finding_never_an_authorisation(ws, tmp_path, sf_bytes, lines):
    _, items = collect(ws, tmp_path, raw_mail(lines, sf_bytes), strict=False)
    (item,) = items
    codes = {f["code"]: f["severity"] for f in item["findings"]}
    assert item["sender"] != SF_ADDR and "MAIL-SENDER" in codes, item
    if lines == BAD_FROM["comment carrying the address"]:  # clients show other@elsewhere: a stranger, not ambiguous
        assert item["sender"] == "other@elsewhere.invalid" and "MAIL-FROM" not in codes
        return
    assert codes["MAIL-FROM"] == "error", item  # no sender at all: set aside even without --strict-sender
    assert item["outcome"] == "messo da parte" and not list((ws / "ricevuti").iterdir())
    assert state(ws)["SF"]["status"] != "accepted"


def test_a_plain_from_with_a_name_is_the_sender(ws, tmp_path, sf_bytes):
    code, items = collect(ws, tmp_path, raw_mail([b"=?utf-8?q?Viviana_Cer=C3=A8a?= <SF.Responsabile@example.invalid>"],
                                                 sf_bytes))
    assert code == 0 and items[0]["sender"] == SF_ADDR and items[0]["status"] == "accepted"


def test_a_hand_made_pec_is_not_certified(ws, tmp_path, sf_bytes):
    original = mail("estraneo@example.invalid", "Re: modulo", attachments=[("PIAO-2025-SF-Finanziario.xlsx", sf_bytes)])
    # a plain message with a hand-written daticert.xml naming the Responsabile as the certified sender
    fake = unsigned_pec(original, certified=SF_ADDR)
    forged = tampered_pec(original, certified="estraneo@pec.example.invalid", claimed=SF_ADDR).replace(
        b"<opec21.", b"<opec22.", 1)
    code, items = collect(ws, tmp_path, fake, forged)
    assert code == 1
    for item in items:
        codes = [f["code"] for f in item["findings"]]
        assert item["sender"] != SF_ADDR and "MAIL-PEC" in codes and item["outcome"] == "messo da parte", item
    assert not list((ws / "ricevuti").iterdir())
    with Ledger(ws / "registro.sqlite") as led:
        metas = [json.loads(m["meta"]) for m in led.messages("in")]
    assert all(not m["pec"].get("certificata") for m in metas)
    assert state(ws)["SF"]["status"] == "missing"
    # the same envelope, signed by the provider for the Responsabile: certified
    real = signed_pec(original, certified=SF_ADDR)
    real.replace_header("Message-ID", "<opec23.vera@pec.example.invalid>")
    code, items = collect(ws, tmp_path, real)
    assert code == 0 and items[0]["via"] == "pec" and items[0]["sender"] == SF_ADDR


def test_the_authorised_copy_of_a_refused_file_is_judged_again(ws, tmp_path, sf_bytes):
    first = mail("estraneo@example.invalid", "modulo", attachments=[("PIAO-2025-SF-Finanziario.xlsx", sf_bytes)])
    code, items = collect(ws, tmp_path, first)
    assert items[0]["outcome"] == "messo da parte" and state(ws)["SF"]["status"] == "missing"
    own = mail(SF_ADDR, "Re: modulo", attachments=[("PIAO-2025-SF-Finanziario.xlsx", sf_bytes)])
    code, items = collect(ws, tmp_path, own)
    assert code == 0 and items[0]["outcome"] == "nuovo" and items[0]["status"] == "accepted"
    sf = state(ws)["SF"]
    assert sf["status"] == "accepted" and sf["received_from"] == SF_ADDR
    assert [p.read_bytes() for p in (ws / "ricevuti").iterdir()] == [sf_bytes]
    r = invoke(ws, "reply", "--json")
    assert [a for a in json.loads(r.output)["actions"] if a["code"] == "SF"] == []


# --- what the ledger says --------------------------------------------------------------------------

def _change_plan(ws: Path) -> None:
    """The clerk corrects the workspace's plan (a target) after the forms went out."""
    plan_file = next((ws / "piano").iterdir())
    text = plan_file.read_text(encoding="utf-8")
    new = text.replace("plan_id: truccazzano-2025", "plan_id: truccazzano-2025-rev1", 1)
    assert new != text
    plan_file.write_text(new, encoding="utf-8")


def test_stato_remind_and_reply_rejudge_files_under_the_plan_in_force(ws, tmp_path, sf_bytes):
    code, _ = collect(ws, tmp_path, mail(SF_ADDR, "Re: modulo", attachments=[("a.xlsx", sf_bytes)]))
    assert code == 0 and state(ws)["SF"]["status"] == "accepted"
    _change_plan(ws)
    sf = state(ws)["SF"]
    assert sf["status"] == "rejected"  # «da correggere»: the file is another plan's now
    assert "da correggere" in invoke(ws, "stato").output
    r = invoke(ws, "remind", "--oggi", "2026-01-30", "--json")
    assert "SF" in {a["code"] for a in json.loads(r.output)["actions"]}
    r = invoke(ws, "reply", "--json")
    (act,) = [a for a in json.loads(r.output)["actions"] if a["code"] == "SF"]
    assert act["outcome"] == "bozza preparata" and act["to"] == SF_ADDR
    with Ledger(ws / "registro.sqlite") as led:
        last = led.checks()[-1]
    assert any(f["code"] == "WB-IDENTITY" for f in json.loads(last["findings"]))


def test_send_refuses_forms_of_another_plan(ws):
    real_addresses(ws / "piao-xls.toml")  # placeholders are refused first
    _change_plan(ws)
    r = invoke(ws, "send")
    assert r.exit_code == 1 and "piao-xls genera" in r.output and "modulo di un altro piano" in r.output
    assert not list((ws / "bozze").iterdir())
    assert invoke(ws, "generate", "--force").exit_code == 0
    r = invoke(ws, "send")
    assert r.exit_code == 0 and r.output.count("bozza preparata") == 6


def test_a_missing_ledger_is_an_error_saying_how_to_restore_it(ws):
    (ws / "registro.sqlite").rename(ws / "registro-spostato.sqlite")
    for args in (("stato",), ("send",), ("collect", str(ws / "posta")), ("reply",), ("remind",), ("generate",)):
        r = invoke(ws, *args)
        assert r.exit_code == 2 and "registro" in r.output and "copia di sicurezza" in r.output, (args, r.output)
        assert not (ws / "registro.sqlite").exists(), args
    r = invoke(ws, "registro", "nuovo")
    assert r.exit_code == 0 and "registro vuoto" in r.output and "di nuovo tutti i moduli" in r.output
    assert invoke(ws, "registro", "nuovo").exit_code == 2  # never replaces a ledger
    assert invoke(ws, "stato").exit_code == 1


def test_a_foreign_ledger_is_refused(ws, tmp_path):
    other = tmp_path / "altro"
    assert CliRunner().invoke(cli, ["init", str(other)]).exit_code == 0
    text = (other / "piao-xls.toml").read_text(encoding="utf-8")
    (other / "piao-xls.toml").write_text(text.replace("anno = 2025", "anno = 2024"), encoding="utf-8")
    (other / "registro.sqlite").unlink()
    assert invoke(other, "registro", "nuovo").exit_code == 0  # the ledger of the 2024 workspace
    (ws / "registro.sqlite").unlink()
    (ws / "registro.sqlite").write_bytes((other / "registro.sqlite").read_bytes())
    r = invoke(ws, "stato")
    assert r.exit_code == 2 and "un'altra area di lavoro" in r.output and "2024" in r.output, r.output


def test_an_old_ledger_is_migrated_and_keeps_its_rows(ws):
    (ws / "registro.sqlite").unlink()
    from piao_xls.workspace.ledger import MIGRATIONS, SCHEMA_VERSION

    db = sqlite3.connect(ws / "registro.sqlite")  # a ledger as the first version wrote it: no version, no identity
    db.executescript(MIGRATIONS[1][0])
    db.execute("INSERT INTO events (at, command) VALUES ('2026-01-01T00:00:00+00:00', 'init')")
    db.commit()
    db.close()
    assert invoke(ws, "stato").exit_code == 1
    with Ledger(ws / "registro.sqlite") as led:
        assert led.version == SCHEMA_VERSION == 5 and led.identity() == {"anno": "2025", "comune": "Truccazzano"}
        assert [e["command"] for e in led.events()][:2] == ["init", "stato"]
