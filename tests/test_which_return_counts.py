"""Which return counts: the one sent last, whatever the order in which files or messages are read.

The correction loop of the year (a rejected return, then its correction) is collected in every order the clerk
could produce: the two messages under each other's names, with their file times swapped, collected together or
in two runs in either order, from a folder or from the real IMAP server (Dovecot, tests/mailservers.py) in
either UID order, part from the folder and part from the mailbox. Every run ends with the same ``stato``, the
same consolidation JSON and the same Relazione figures, every sector scored. The reverse (an accepted return,
then a newer rejected one), a real conflict (two returns sent at the same instant) and files saved by hand
(ordered by their file time) are tested on the same workspace.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_year import XLSX, filled, real_addresses, set_key

from piao_xls.cli import cli
from piao_xls.forms.layout import sector_workbook, source_workbook

OFFICE = "ragioneria@example.invalid"
ADDR = {code: f"{code.lower()}.responsabile@comune.test" for code in ("SA", "SF", "ST", "AV")} | {
    "nucleo": "nucleo@comune.test", "esterno": "esterno@comune.test"}
T0 = datetime(2026, 1, 12, 10, 0, tzinfo=timezone(timedelta(hours=1)))


def invoke(ws: Path, *args, env=None):
    return CliRunner().invoke(cli, ["-C", str(ws), *args], env=env or {})


def message(code: str, book: bytes, sent: datetime, name: str = "modulo.xlsx") -> bytes:
    m = EmailMessage()
    m["From"], m["To"] = ADDR[code], OFFICE
    m["Subject"] = f"R: [PIAO-2025 {code}] modulo compilato"
    m["Date"] = format_datetime(sent)
    m["Message-ID"] = make_msgid(domain="comune.test")
    m.set_content("In allegato il modulo.")
    m.add_attachment(book, maintype=XLSX[0], subtype=XLSX[1], filename=name)
    return m.as_bytes()


@pytest.fixture(scope="module")
def books(plan) -> dict[str, bytes]:
    """The forms as the Responsabili return them: every one accepted, AV once with a value to correct."""
    out = {code: filled(sector_workbook(plan, plan.sector(code)), seed) for seed, code in
           enumerate(("SA", "SF", "ST", "AV"), 1)}
    out |= {src: filled(source_workbook(plan, src), seed) for seed, src in ((5, "nucleo"), (6, "esterno"))}
    av_book = sector_workbook(plan, plan.sector("AV"))
    bad = next(k for k, c in av_book.sheets[1].inputs.items() if c.unit == "percent")
    out["AV-bad"] = filled(av_book, 4, {bad: "circa ottanta"})
    out["AV-bad2"] = filled(av_book, 7, {bad: "novanta circa"})
    return out


@pytest.fixture(scope="module")
def others(books) -> list[bytes]:
    """The returns that are not in question: each party but AV, once, two days before the correction loop."""
    return [message(code, books[code], T0 - timedelta(days=2)) for code in ("SA", "SF", "ST", "nucleo", "esterno")]


def workspace(root: Path) -> Path:
    ws = root / "PIAO-2025"
    r = CliRunner().invoke(cli, ["crea", str(ws), "--scadenza", "31/01/2026"])
    assert r.exit_code == 0, r.output
    real_addresses(ws / "piao-xls.toml")
    return ws


def collect(ws: Path, source: Path | None = None, env=None) -> None:
    r = invoke(ws, "raccogli", *([str(source)] if source else []), "--json", env=env)
    assert r.exit_code in (0, 1), r.output  # 1: the rejected return is new


def outcome(ws: Path, relazione: bool = True) -> dict:
    """What the year says: stato (which file counts, superseded), the consolidation JSON, the Relazione's text."""
    r = invoke(ws, "stato", "--json")
    state = {p["code"]: {"status": p["status"], "file": p["file"], "sent": p["file_sent"],
                         "sent_from": p["file_sent_from"], "conflict": [c["file"] for c in p["conflict"]],
                         "superseded": [(s["file"], s["status"]) for s in p["superseded"]]}
             for p in json.loads(r.output)["parties"]}
    c = invoke(ws, "consolida", "--json")
    data = json.loads(c.output)
    for row in data["sources"]:
        row.pop("received", None)
        row.pop("saved", None)
    text = json.dumps(data, sort_keys=True, ensure_ascii=False).replace(str(ws), "WS")
    out = {"stato": state, "stato_exit": r.exit_code, "consolida": json.loads(text), "consolida_exit": c.exit_code}
    if relazione:
        docx = ws.parent / "relazione.docx"
        rel = invoke(ws, "relazione", "--no-pdf", "-o", str(docx))
        assert rel.exit_code == 0, rel.output
        out["relazione"] = relazione_figures(docx)
    return out


def relazione_figures(docx: Path) -> list[str]:
    """Every figure of the Relazione's body and tables (numbers, percentages), in order; not the times the files
    were received (the clock of each run)."""
    import docx as python_docx

    doc = python_docx.Document(str(docx))
    texts = [p.text for p in doc.paragraphs]
    texts += [cell.text for t in doc.tables for row in t.rows for cell in row.cells]
    texts = [re.sub(r"\d{1,2}/\d{1,2}/\d{4},? \d{1,2}[:.]\d{2}(?:[:.]\d{2})?", "", t) for t in texts]
    return [" ".join(re.findall(r"\d+(?:[.,]\d+)*%?", t)) for t in texts if re.search(r"\d", t)]


def assert_loop_closed(out: dict) -> None:
    """The correction loop ends with every sector scored, from AV's correction, and every output agreeing."""
    st = out["stato"]
    assert {c: s["status"] for c, s in st.items()} == {c: "accepted" for c in st}, st
    assert out["stato_exit"] == 0 and out["consolida_exit"] == 0
    assert [status for _, status in st["AV"]["superseded"]] == ["rejected"]
    assert {s["code"]: s["status"] for s in out["consolida"]["sectors"]} == dict.fromkeys(
        ["SA", "SF", "ST", "AV"], "scored")
    used = {Path(s["path"]).name: s["used_for"] for s in out["consolida"]["sources"]}
    assert used[st["AV"]["file"]] == "AV" and used[st["AV"]["superseded"][0][0]] == ""
    assert not [f for f in out["consolida"]["findings"] if f["code"] == "WB-CONFLICT"]


def folder_run(root: Path, others: list[bytes], first: bytes, correction: bytes, names: tuple[str, str],
               mtimes: tuple[int, int], split: str, relazione: bool) -> dict:
    """One way the clerk could collect the loop from a folder of .eml files."""
    ws = workspace(root)
    inbox = root / "allegati"
    inbox.mkdir()
    for i, raw in enumerate(others):
        (inbox / f"risposta {i}.eml").write_bytes(raw)
    loop = root / "correzione"
    loop.mkdir()
    for raw, name, mtime in zip((first, correction), names, mtimes, strict=True):
        (loop / name).write_bytes(raw)
        os.utime(loop / name, (mtime, mtime))
    collect(ws, inbox)
    if split == "together":
        collect(ws, loop)
    else:  # two runs, one file each, in the order given
        order = [names[0], names[1]] if split == "first-first" else [names[1], names[0]]
        for name in order:
            collect(ws, loop / name)
    return outcome(ws, relazione)


@pytest.mark.parametrize("reverse", [False, True], ids=["rejected-then-accepted", "accepted-then-rejected"])
def test_every_collection_order_from_a_folder_gives_the_same_year(tmp_path, books, others, reverse):
    older, newer = (books["AV"], books["AV-bad"]) if reverse else (books["AV-bad"], books["AV"])
    first = message("AV", older, T0)
    correction = message("AV", newer, T0 + timedelta(days=2), "PIAO-2025-AV-Polizia-Locale.xlsx")
    now = int(datetime(2026, 1, 20).timestamp())
    results = []
    runs = list(itertools.product([("modulo AV.eml", "modulo AV (corretto).eml"),
                                   ("modulo AV (corretto).eml", "modulo AV.eml")],
                                  [(now, now + 60), (now + 60, now)],
                                  ["together", "first-first", "correction-first"]))
    for i, (names, mtimes, split) in enumerate(runs):
        # the Relazione is written for one run in three (the most different ones), the rest for all of them
        results.append(folder_run(tmp_path / f"run{i}", others, first, correction, names, mtimes, split,
                                  relazione=i % 3 == 0 or i == len(runs) - 1))
    base = results[0]
    for run, got in zip(runs, results, strict=True):
        assert got["stato"] == base["stato"], run
        assert got["consolida"] == base["consolida"], run
        if "relazione" in got:
            assert got["relazione"] == base["relazione"], run
    if not reverse:
        assert_loop_closed(base)
        assert base["stato"]["AV"]["sent"] == (T0 + timedelta(days=2)).isoformat()
        assert base["stato"]["AV"]["sent_from"] == "messaggio"
    else:  # the newest counts: AV is to correct again, in stato and in the consolidation
        av = base["stato"]["AV"]
        assert av["status"] == "rejected" and [s for _, s in av["superseded"]] == ["accepted"]
        assert base["stato_exit"] == 1 and base["consolida_exit"] == 1
        sectors = {s["code"]: s["status"] for s in base["consolida"]["sectors"]}
        assert sectors["AV"] == "scored_with_issues" and sectors["SF"] == "scored"
        used = {Path(s["path"]).name: s["used_for"] for s in base["consolida"]["sources"]}
        assert used[av["file"]] == "AV"


def test_the_sending_time_not_the_file_name_decides(tmp_path, books, others):
    """A control for the test above: the same two messages, their Dates swapped, give the opposite outcome."""
    first = message("AV", books["AV-bad"], T0 + timedelta(days=2))
    correction = message("AV", books["AV"], T0)
    now = int(datetime(2026, 1, 20).timestamp())
    got = folder_run(tmp_path, others, first, correction, ("modulo AV.eml", "modulo AV (corretto).eml"),
                     (now, now + 60), "together", relazione=False)
    assert got["stato"]["AV"]["status"] == "rejected" and got["stato_exit"] == 1


@pytest.mark.dovecot
def test_every_order_through_the_real_mailbox_gives_the_year_of_the_folder(tmp_path, books, others):
    from mailservers import Dovecot

    first = message("AV", books["AV-bad"], T0)
    correction = message("AV", books["AV"], T0 + timedelta(days=2), "PIAO-2025-AV-Polizia-Locale.xlsx")
    now = int(datetime(2026, 1, 20).timestamp())
    reference = folder_run(tmp_path / "folder", others, first, correction,
                           ("modulo AV.eml", "modulo AV (corretto).eml"), (now, now + 60), "together", True)
    assert_loop_closed(reference)
    with Dovecot() as dovecot:
        env = {"PIAO_XLS_IMAP_PASSWORD": dovecot.password}
        for i, (via_imap, order) in enumerate([(("first", "correction"), ("first", "correction")),
                                               (("first", "correction"), ("correction", "first")),
                                               (("correction",), ("correction", "first")),
                                               (("first",), ("correction", "first"))]):
            root = tmp_path / f"imap{i}"
            ws = workspace(root)
            folder = f"PIAO {i}"
            for key, value in [("host", '"127.0.0.1"'), ("porta", str(dovecot.port)), ("sicurezza", '"starttls"'),
                               ("utente", f'"{dovecot.user}"'), ("ca", f'"{dovecot.cert}"'),
                               ("cartella", f'"{folder}"')]:
                set_key(ws / "piao-xls.toml", "imap", key, value)
            raw = {"first": first, "correction": correction}
            for name in order:  # the UID order is the order of delivery
                if name in via_imap:
                    dovecot.deliver(raw[name], folder=folder)
            for raw_other in others:
                dovecot.deliver(raw_other, folder=folder)
            hand = root / "allegati"
            hand.mkdir()
            for name in order:  # what is not in the mailbox was saved from the mail client into a folder
                if name not in via_imap:
                    (hand / f"{name}.eml").write_bytes(raw[name])
            if order[0] in via_imap:
                collect(ws, env=env)
                collect(ws, hand)
            else:
                collect(ws, hand)
                collect(ws, env=env)
            got = outcome(ws, relazione=i in (1, 3))
            assert got["stato"] == reference["stato"], (via_imap, order)
            assert got["consolida"] == reference["consolida"], (via_imap, order)
            if "relazione" in got:
                assert got["relazione"] == reference["relazione"], (via_imap, order)


def test_a_real_conflict_is_shown_by_stato_and_settled_by_scegli(tmp_path, books, others):
    """Two different returns sent at the same instant cannot be ordered: stato and consolida both say so, with
    the command; once the office chooses, both count the chosen file."""
    ws = workspace(tmp_path)
    inbox = tmp_path / "allegati"
    inbox.mkdir()
    for i, raw in enumerate([*others, message("AV", books["AV-bad"], T0), message("AV", books["AV"], T0)]):
        (inbox / f"risposta {i}.eml").write_bytes(raw)
    collect(ws, inbox)
    got = outcome(ws, relazione=False)
    av = got["stato"]["AV"]
    assert av["status"] == "conflict" and len(av["conflict"]) == 2 and av["file"] == ""
    assert got["stato_exit"] == 1 and got["consolida_exit"] == 1
    assert {s["code"]: s["status"] for s in got["consolida"]["sectors"]}["AV"] == "conflict"
    text = invoke(ws, "stato").output
    assert "in conflitto" in text and "piao-xls scegli AV FILE" in text
    conflict = [f for f in got["consolida"]["findings"] if f["code"] == "WB-CONFLICT"]
    assert len(conflict) == 1 and "piao-xls scegli AV FILE" in conflict[0]["message"]
    # the office chooses the accepted one (by the name stato shows)
    state = json.loads(invoke(ws, "stato", "--json").output)
    good = next(c["file"] for p in state["parties"] if p["code"] == "AV" for c in p["conflict"]
                if c["status"] == "accepted")
    assert invoke(ws, "scegli", "AV", "nessuno.xlsx").exit_code == 2
    r = invoke(ws, "scegli", "AV", good)
    assert r.exit_code == 0 and good in r.output
    after = outcome(ws, relazione=False)
    assert after["stato"]["AV"]["status"] == "accepted" and after["stato"]["AV"]["file"] == good
    assert after["stato_exit"] == 0 and after["consolida_exit"] == 0
    used = {Path(s["path"]).name: s["used_for"] for s in after["consolida"]["sources"]}
    assert used[good] == "AV"
    # a return sent later supersedes the choice as any earlier return
    later = tmp_path / "dopo"
    later.mkdir()
    (later / "r.eml").write_bytes(message("AV", books["AV-bad2"], T0 + timedelta(hours=1)))
    collect(ws, later)
    last = outcome(ws, relazione=False)
    assert last["stato"]["AV"]["status"] == "rejected" and good in dict(last["stato"]["AV"]["superseded"])
    assert {s["code"]: s["status"] for s in last["consolida"]["sectors"]}["AV"] == "scored_with_issues"


def _repacked(book: bytes) -> bytes:
    """The same workbook with other bytes: every part stored instead of deflated, as another zip tool may save it."""
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(book)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as dst:
        for info in src.infolist():
            dst.writestr(zipfile.ZipInfo(info.filename, info.date_time), src.read(info))
    assert out.getvalue() != book
    return out.getvalue()


@pytest.mark.parametrize("when", ["same-instant", "unknown"])
def test_two_files_with_the_same_values_are_one_return_for_stato_and_consolida(tmp_path, books, others, when):
    """Two different files holding the same values (saved again, repacked by another program), sent at the same
    instant or at unknown times, are one return: stato does not call them a conflict while consolida scores the
    sector (docs/returns.md: «submissions that hold the same values are one»)."""
    ws = workspace(tmp_path)
    inbox = tmp_path / "allegati"
    inbox.mkdir()
    twins = [message("AV", books["AV"], T0), message("AV", _repacked(books["AV"]), T0)]
    if when == "unknown":
        twins = [re.sub(rb"(?m)^Date: .*\r?\n", b"", m, count=1) for m in twins]
    for i, raw in enumerate([*others, *twins]):
        (inbox / f"r{i}.eml").write_bytes(raw)
    collect(ws, inbox)
    got = outcome(ws, relazione=False)
    av = got["stato"]["AV"]
    assert av["status"] == "accepted" and av["conflict"] == [] and len(av["superseded"]) == 1, av
    assert got["stato_exit"] == 0 and got["consolida_exit"] == 0
    assert {s["code"]: s["status"] for s in got["consolida"]["sectors"]}["AV"] == "scored"
    # stato's file is the one consolida used
    used = {Path(s["path"]).name: s["used_for"] for s in got["consolida"]["sources"]}
    assert used[av["file"]] == "AV"


@pytest.mark.parametrize("date", ["future", "none"])
def test_a_return_whose_sending_time_is_not_known_is_a_conflict(tmp_path, books, others, date):
    """A message dated after it arrived (a clock set wrong, or a date put in the future to win) or without a date
    cannot be ordered: a conflict, never a silent winner."""
    ws = workspace(tmp_path)
    inbox = tmp_path / "allegati"
    inbox.mkdir()
    odd = message("AV", books["AV-bad"], datetime.now(timezone.utc) + timedelta(days=30))
    if date == "none":
        odd = re.sub(rb"(?m)^Date: .*\r?\n", b"", odd, count=1)
        assert b"\nDate:" not in odd
    for i, raw in enumerate([*others, message("AV", books["AV"], T0), odd]):
        (inbox / f"r{i}.eml").write_bytes(raw)
    collect(ws, inbox)
    got = outcome(ws, relazione=False)
    assert got["stato"]["AV"]["status"] == "conflict" and got["consolida_exit"] == 1
    assert {s["code"]: s["status"] for s in got["consolida"]["sectors"]}["AV"] == "conflict"


@pytest.mark.parametrize("newer", ["bad", "good"])
def test_files_saved_by_hand_are_ordered_by_their_file_time(tmp_path, books, others, newer):
    """Two workbooks put in a shared folder by hand: the one saved there last counts, whatever their names."""
    ws = workspace(tmp_path)
    inbox = tmp_path / "allegati"
    inbox.mkdir()
    for i, raw in enumerate(others):
        (inbox / f"risposta {i}.eml").write_bytes(raw)
    collect(ws, inbox)
    hand = tmp_path / "condivisa"
    hand.mkdir()
    t = int(datetime(2026, 1, 15, 9).timestamp())
    names = {"bad": "AV corretto.xlsx", "good": "AV.xlsx"}  # the names say the opposite of the times
    for key, book in (("bad", books["AV-bad"]), ("good", books["AV"])):
        (hand / names[key]).write_bytes(book)
        os.utime(hand / names[key], (t + (60 if key == newer else 0),) * 2)
    collect(ws, hand)
    got = outcome(ws, relazione=False)
    av = got["stato"]["AV"]
    assert av["sent_from"] == "ricevuto"
    assert av["status"] == ("rejected" if newer == "bad" else "accepted")
    assert (got["stato_exit"] == 0) == (newer == "good") == (got["consolida_exit"] == 0)


def test_reply_answers_the_return_that_counts(tmp_path, books, others):
    """A rejected return superseded by its correction is never answered; the newer rejected one is."""
    ws = workspace(tmp_path)
    inbox = tmp_path / "allegati"
    inbox.mkdir()
    for i, raw in enumerate([*others, message("AV", books["AV-bad"], T0),
                             message("AV", books["AV"], T0 + timedelta(days=1))]):
        (inbox / f"r{i}.eml").write_bytes(raw)
    collect(ws, inbox)
    r = invoke(ws, "rispondi", "--json")
    assert r.exit_code == 0 and json.loads(r.output)["actions"] == []
    assert invoke(ws, "sollecita", "--oggi", "2026-01-30", "--json", "--dry-run").output.count('"AV"') == 0
    # a newer return with an error: it counts, it is answered, AV is reminded
    later = tmp_path / "dopo"
    later.mkdir()
    (later / "r.eml").write_bytes(message("AV", books["AV-bad"], T0 + timedelta(days=3), "di nuovo.xlsx"))
    shutil.copy(later / "r.eml", later / "r2.eml")  # the same message twice is one return
    collect(ws, later)
    actions = json.loads(invoke(ws, "rispondi", "--json").output)["actions"]
    av = next(p for p in json.loads(invoke(ws, "stato", "--json").output)["parties"] if p["code"] == "AV")
    assert av["status"] == "rejected" and [s["status"] for s in av["superseded"]] == ["accepted"]
    assert [(a["code"], a["file"]) for a in actions] == [("AV", av["file"])]
    assert '"AV"' in invoke(ws, "sollecita", "--oggi", "2026-01-30", "--json", "--dry-run").output


@pytest.mark.dovecot
def test_the_correction_loop_of_the_year_with_real_servers(tmp_path, plan, books):
    """The year as test_year runs it (SMTP out, Dovecot in), with the correction loop: AV's first return is
    rejected and answered, its correction arrives; every sector ends scored, and stato, consolida and relazione
    agree on which file counts and on the scores."""
    from email import message_from_bytes, policy

    from mailservers import Dovecot, SmtpServer

    from piao_xls.core import italian

    ws = workspace(tmp_path)
    with SmtpServer(tmp_path) as smtp, Dovecot() as dovecot:
        env = {"PIAO_XLS_SMTP_PASSWORD": smtp.password, "PIAO_XLS_IMAP_PASSWORD": dovecot.password}
        settings = ws / "piao-xls.toml"
        set_key(settings, "posta", "invio", '"smtp"')
        for section, server in (("smtp", smtp), ("imap", dovecot)):
            for key, value in [("host", '"127.0.0.1"'), ("porta", str(server.port)), ("sicurezza", '"starttls"'),
                               ("utente", f'"{server.user}"'), ("ca", f'"{server.cert}"')]:
                set_key(settings, section, key, value)
        assert invoke(ws, "genera", env=env).exit_code == 0
        assert invoke(ws, "invia", env=env).exit_code == 0 and len(smtp.messages) == 6
        sent = {str(m["X-PIAO-Sector"]): m for m in
                (message_from_bytes(x["data"], policy=policy.default) for x in smtp.messages)}

        def answer(code: str, book: bytes, when: datetime) -> bytes:
            m = EmailMessage()
            m["From"], m["To"], m["Date"] = ADDR[code], OFFICE, format_datetime(when)
            m["Subject"] = f"Re: {sent[code]['Subject']}"
            m["Message-ID"] = make_msgid(domain="comune.test")
            m["In-Reply-To"] = m["References"] = sent[code]["Message-ID"]
            m.set_content("In allegato il modulo compilato.")
            m.add_attachment(book, maintype=XLSX[0], subtype=XLSX[1], filename="modulo.xlsx")
            return m.as_bytes()

        for code in ("SA", "SF", "ST", "nucleo", "esterno"):
            dovecot.deliver(answer(code, books[code], T0))
        dovecot.deliver(answer("AV", books["AV-bad"], T0))
        assert invoke(ws, "raccogli", env=env).exit_code == 1
        state = {p["code"]: p for p in json.loads(invoke(ws, "stato", "--json").output)["parties"]}
        assert state["AV"]["status"] == "rejected"
        r = invoke(ws, "rispondi", "--json", env=env)
        assert [a["code"] for a in json.loads(r.output)["actions"]] == ["AV"] and len(smtp.messages) == 7
        rejected_file = state["AV"]["file"]

        # the correction, in the thread; the first return is still in the mailbox (collected again: nothing new)
        dovecot.deliver(answer("AV", books["AV"], T0 + timedelta(days=1)))
        assert invoke(ws, "raccogli", env=env).exit_code == 0
        r = invoke(ws, "stato", "--json")
        state = {p["code"]: p for p in json.loads(r.output)["parties"]}
        assert r.exit_code == 0 and {p["status"] for p in state.values()} == {"accepted"}
        assert [s["file"] for s in state["AV"]["superseded"]] == [rejected_file]
        text = invoke(ws, "stato").output
        assert f"sostituito: {rejected_file}" in text and "— da correggere" in text
        assert json.loads(invoke(ws, "rispondi", "--json", env=env).output)["actions"] == []
        assert json.loads(invoke(ws, "sollecita", "--oggi", "2026-01-30", "--json", env=env).output)["actions"] == []
        assert len(smtp.messages) == 7

    c = invoke(ws, "consolida", "--json")
    assert c.exit_code == 0, c.output
    data = json.loads(c.output)
    assert {s["code"]: s["status"] for s in data["sectors"]} == dict.fromkeys(["SA", "SF", "ST", "AV"], "scored")
    used = {Path(s["path"]).name: s["used_for"] for s in data["sources"]}
    assert used[state["AV"]["file"]] == "AV" and used[rejected_file] == ""
    assert invoke(ws, "consolida").output.count("sostituisce 1 file precedente") == 1
    docx = tmp_path / "relazione.docx"
    assert invoke(ws, "relazione", "--no-pdf", "-o", str(docx)).exit_code == 0
    import docx as python_docx

    doc = python_docx.Document(str(docx))
    body = "\n".join([p.text for p in doc.paragraphs] + [c.text for t in doc.tables for r in t.rows for c in r.cells])
    assert "conflitto" not in body
    for s in data["sectors"]:  # the scores of the summary, as published, are the Relazione's
        assert italian.number(s["score"], plan.scoring.precision) in body, s["code"]


def test_a_newer_return_that_cannot_be_read_supersedes_too(tmp_path, books, others):
    """A damaged workbook sent after an accepted one is the party's latest return: AV is to correct in stato
    and in the consolidation alike (scored from a return with no values), until a newer good file comes."""
    ws = workspace(tmp_path)
    inbox = tmp_path / "allegati"
    inbox.mkdir()
    broken = books["AV"][:3000]
    for i, raw in enumerate([*others, message("AV", books["AV"], T0), message("AV", broken, T0 + timedelta(days=1))]):
        (inbox / f"r{i}.eml").write_bytes(raw)
    collect(ws, inbox)
    got = outcome(ws, relazione=False)
    assert got["stato"]["AV"]["status"] == "rejected" and got["stato"]["AV"]["superseded"][0][1] == "accepted"
    sectors = {s["code"]: s for s in got["consolida"]["sectors"]}
    assert sectors["AV"]["status"] == "scored_with_issues" and got["consolida_exit"] == 1
    assert all(i["status"] in ("missing", "informative") for i in got["consolida"]["indicators"]
               if i["sector"] == "AV" and i["source"] == "responsabile")
    later = tmp_path / "dopo"
    later.mkdir()
    (later / "r.eml").write_bytes(message("AV", books["AV"], T0 + timedelta(days=2), "di nuovo.xlsx"))
    collect(ws, later)
    again = outcome(ws, relazione=False)
    assert again["stato"]["AV"]["status"] == "accepted" and again["consolida_exit"] == 0
