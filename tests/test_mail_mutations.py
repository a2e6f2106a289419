"""Mutation suite for messages: thousands of damaged replies, each collected by the one per-message pipeline.

Valid replies of the Responsabile of SF (a filled workbook, or a broken one the guard refuses at once) are
damaged at random (seeded: a failure prints the seed and the variant id): headers (From: variants, CR/LF/NUL
in values, very long and repeated headers, unbalanced quotes, encoded words), MIME structure (nesting,
forwards, boundaries broken or missing, bogus encodings, a hand-made PEC envelope, a bounce), names (NUL,
line breaks, path separators, very long, bidirectional controls, noncharacters, RFC 2231) and sizes (many
parts, many empty lines, over the size limit). Expectations come from the documented rules (docs/security.md):

- ``process_message`` returns for every variant (no traceback) and never reports ``MAIL-UNREADABLE``: each
  message is either read or refused by a documented limit (``MAIL-LIMIT``);
- every message leaves a row in the ledger;
- a message over the size limit, or with more parts than allowed, is ``non letto`` with ``MAIL-LIMIT``;
- a file counts (``nuovo``, in ``ricevuti/``) only when its sender is the SF Responsabile (``--strict-sender``);
  a defective or ambiguous ``From:`` is ``MAIL-FROM`` and never a file that counts; an unsigned PEC is never
  certified;
- every saved file is inside ``ricevuti/`` or ``rifiutati/`` under a safe name;
- the text ``collect`` prints for the variant has no control character.

Reproduce: PIAO_MAIL_MUTATION_SEED=<seed> PIAO_MAIL_MUTATION_ONLY=<id,id> python3 -m pytest tests/test_mail_mutations.py
Size: PIAO_MAIL_MUTATIONS=<count> (default 2000).
"""

from __future__ import annotations

import base64
import os
import random
import re
import shutil
import signal
import tempfile
import traceback
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from test_year import filled

from piao_xls.forms.layout import sector_workbook
from piao_xls.mail.collect import MailLimits, RawMessage, process_message
from piao_xls.plan.planfile import bundled_plan_path
from piao_xls.sheetio.text import printable
from piao_xls.workspace.ledger import Ledger
from piao_xls.workspace.settings import init_workspace

SEED = int(os.environ.get("PIAO_MAIL_MUTATION_SEED", "21021"))
COUNT = int(os.environ.get("PIAO_MAIL_MUTATIONS", "2000"))
ONLY = [int(x) for x in os.environ.get("PIAO_MAIL_MUTATION_ONLY", "").split(",") if x.strip()]
TIME_CAP = 5  # seconds per message: a hang guard, not a benchmark
SF = "sf.responsabile@example.invalid"
LIMITS = replace(MailLimits(), message_bytes=256 * 1024)  # small, so that sizes can be exceeded quickly
XLSX = b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
OUTCOMES = {"nuovo", "messo da parte", "duplicato", "rifiutato", "senza allegati", "già raccolto", "non letto",
            "ricevuta PEC", "notifica di mancato recapito", "messaggio dell'ufficio"}

FROM_OK = [SF.encode(), b"Viviana Cerea <" + SF.encode() + b">", b"=?utf-8?q?Cer=C3=A8a?= <SF.Responsabile@example.invalid>"]
FROM_BAD = [  # documented: not a sender (MAIL-FROM)
    b'"' + SF.encode() + b'" <other@elsewhere.invalid>', b"=?utf-8?q?" + SF.encode() + b"?=",
    b'"unbalanced <' + SF.encode() + b">", b"Resp <" + SF.encode(), b"g: " + SF.encode() + b";",
    SF.encode() + b", other@elsewhere.invalid", b"", b"(((" + SF.encode(), b"<>", b"@",
    b"=?utf-8?b?" + base64.b64encode(SF.encode()) + b"?=",
]
NAMES = ["PIAO-2025-SF-Finanziario.xlsx", "nul\x00.xlsx", "a\r\nb.xlsx", "../../etc/passwd.xlsx", "L" * 600 + ".xlsx",
         "fattura\u202excod.xlsx", "\ufffe\uffff.xlsx", "", ".xlsx", "con spazi e àccenti.xlsx", "x\x1b[2J.xlsx",
         "C:\\Windows\\x.xlsx", "dir/sub/x.ods"]


def message(frm: bytes, name: str, payload: bytes, mid: bytes, extra_headers: bytes = b"", ctype: bytes = XLSX,
            boundary: bytes = b"b1", body_lines: bytes = b"In allegato.\r\n") -> bytes:
    disp = b'attachment; filename="' + name.encode("utf-8", "surrogatepass") + b'"'
    return (b"From: " + frm + b"\r\nTo: ragioneria@example.invalid\r\nSubject: Re: modulo\r\nMessage-ID: " + mid +
            b"\r\n" + extra_headers + b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"" + boundary +
            b"\"\r\n\r\n--" + boundary + b"\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body_lines +
            b"--" + boundary + b"\r\nContent-Type: " + ctype + b"\r\nContent-Transfer-Encoding: base64\r\n"
            b"Content-Disposition: " + disp + b"\r\n\r\n" + base64.encodebytes(payload) + b"--" + boundary + b"--\r\n")


def mutate(rng: random.Random, vid: int, workbook: bytes) -> tuple[str, bytes, dict]:
    """(operator, message bytes, expectations) for variant ``vid``."""
    mid = b"<v%d.%d@comune.example.invalid>" % (SEED, vid)
    payload = workbook if rng.random() < 0.04 else b"PK\x03\x04 rotto %d" % vid  # the guard refuses it at once
    frm, name = rng.choice(FROM_OK), NAMES[0]
    expect: dict = {}
    op = rng.choice(["from", "header_junk", "long_header", "many_headers", "references", "nesting", "forward",
                     "boundary", "encoding", "pec", "bounce", "name", "many_parts", "empty_lines", "oversize",
                     "truncate", "flip", "combined"])
    extra = b""
    if op == "from":
        frm = rng.choice(FROM_BAD + FROM_OK)
        if frm in FROM_BAD:
            expect["no_sender"] = True
        if rng.random() < 0.2:
            extra += b"From: other@elsewhere.invalid\r\n"
            expect["no_sender"] = True
    elif op == "header_junk":
        junk = rng.choice([b"\x00", b"\r", b"\n", b"\r\n", b'"', b"(", b"<", b"=?utf-8?q?=0D=0A?=", b"\xff\xfe", b"\\"])
        extra += rng.choice([b"To", b"Cc", b"Subject", b"In-Reply-To", b"Reply-To"]) + b": a" + junk * rng.randint(1, 50) \
            + b"b\r\n"
    elif op == "long_header":
        unit = rng.choice([b'"a, ', b"(", b"=?utf-8?q?a?= ", b"<a@b> ", b"x"])
        extra += rng.choice([b"To", b"Subject", b"References", b"X-Junk"]) + b": " + unit * rng.randint(100, 40_000) \
            + b"\r\n"
    elif op == "many_headers":
        extra += b"".join(b"X-H%d: %s\r\n" % (i, b"v" * rng.randint(0, 20)) for i in range(rng.randint(10, 5000)))
    elif op == "references":
        extra += b"References: " + b" ".join(rng.choice([b"<a@b>", b"=?utf-8?q?=0D=0ABcc:_x@y?=", b"\x00", b"<",
                                                         b"<" + b"z" * 300 + b">"]) for _ in range(rng.randint(1, 400)))
        extra += b"\r\n"
    data = message(frm, name, payload, mid, extra)
    if op == "nesting":
        depth = rng.randint(1, 80)
        head, _, body = data.partition(b"MIME-Version: 1.0\r\n")
        wrap = b"".join(b'Content-Type: multipart/mixed; boundary="n%d"\r\n\r\n--n%d\r\n' % (i, i) for i in range(depth))
        tail = b"".join(b"\r\n--n%d--\r\n" % i for i in reversed(range(depth)))
        data = head + b"MIME-Version: 1.0\r\n" + wrap + body + tail
        if depth + 1 > LIMITS.multiparts:
            expect["limit"] = True
    elif op == "forward":
        depth = rng.randint(1, 9)
        for i in range(depth):
            data = (b"From: " + SF.encode() + b"\r\nSubject: I: x\r\nMessage-ID: <f%d.%d@x>\r\nMIME-Version: 1.0\r\n"
                    b'Content-Type: multipart/mixed; boundary="f%d"\r\n\r\n--f%d\r\nContent-Type: message/rfc822\r\n\r\n'
                    % (vid, i, i, i) + data + b"\r\n--f%d--\r\n" % i)
        if depth > LIMITS.depth:
            expect["limit"] = True
    elif op == "boundary":
        data = rng.choice([data.replace(b"--b1--", b"", 1), data.replace(b'boundary="b1"', b'boundary=""', 1),
                           data.replace(b'boundary="b1"', b"boundary=" + b"b" * 2000, 1),
                           data.replace(b"--b1\r\n", b"--b2\r\n"), data.replace(b'"b1"', b'"b1', 1)])
    elif op == "encoding":
        data = data.replace(b"Content-Transfer-Encoding: base64", rng.choice(
            [b"Content-Transfer-Encoding: x-bogus", b"Content-Transfer-Encoding: quoted-printable",
             b"Content-Transfer-Encoding: base64\r\nContent-Transfer-Encoding: 7bit", b"X: y"]), 1)
        if rng.random() < 0.5:
            data = data.replace(b"\r\n\r\nUEsDB", b"\r\n\r\n!!!UEsDB", 1)
    elif op == "pec":
        daticert = (b'<postacert tipo="posta-certificata"><intestazione><mittente>' + SF.encode() +
                    b"</mittente></intestazione></postacert>")
        inner = message(b"estraneo@example.invalid", name, payload, b"<inner%d@x>" % vid)
        data = (b"From: \"Per conto di: " + SF.encode() + b"\" <posta-certificata@pec.example.invalid>\r\n"
                b"Message-ID: " + mid + b"\r\nMIME-Version: 1.0\r\n" + rng.choice(
                    [b'Content-Type: multipart/mixed; boundary="p"',
                     b'Content-Type: multipart/signed; protocol="application/pkcs7-signature"; boundary="p"']) +
                b"\r\n\r\n--p\r\nContent-Type: application/xml\r\nContent-Disposition: attachment; filename=daticert.xml"
                b"\r\n\r\n" + daticert + b"\r\n--p\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment; "
                b"filename=postacert.eml\r\n\r\n" + inner + b"\r\n--p\r\nContent-Type: application/pkcs7-signature\r\n\r\n"
                b"fake\r\n--p--\r\n")
        expect["not_certified"] = True
    elif op == "bounce":
        data = data.replace(b"multipart/mixed", b"multipart/report", 1)
    elif op == "name":
        name = rng.choice(NAMES) + rng.choice(["", "\x00", "\n", "/", "\u2028"])
        data = message(frm, name, payload, mid)
        if rng.random() < 0.3:  # the RFC 2231 spelling of the name
            data = data.replace(b'filename="' + name.encode() + b'"',
                                b"filename*=utf-8''" + "".join(f"%{b:02X}" for b in name.encode()).encode(), 1)
    elif op == "many_parts":
        n = rng.randint(10, 4000)
        part = b"--b1\r\nContent-Type: " + XLSX + b"\r\nContent-Disposition: attachment; filename=t.xlsx\r\n\r\nPK\r\n"
        data = data.replace(b"--b1--", part * n + b"--b1--", 1)
        if n + 3 > LIMITS.parts or n > LIMITS.attachments:
            expect["limit"] = True
    elif op == "empty_lines":
        data = data.replace(b"In allegato.\r\n", b"In allegato.\r\n" + b"\r\n" * rng.randint(1000, 120_000), 1)
    elif op == "oversize":
        pad = rng.randint(LIMITS.message_bytes, LIMITS.message_bytes * 2)
        data = data.replace(b"In allegato.\r\n", b"In allegato.\r\n" + (b"x" * 76 + b"\r\n") * (pad // 78 + 1), 1)
        expect["limit"] = True
    elif op == "truncate":
        data = data[:rng.randint(0, len(data))]
    elif op == "flip":
        b = bytearray(data)
        for _ in range(rng.randint(1, 30)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        data = bytes(b)
    elif op == "combined":
        extra = b"To: " + b'"a, ' * rng.randint(1, 3000) + b"\r\n"
        data = message(rng.choice(FROM_BAD + FROM_OK), rng.choice(NAMES), payload, mid, extra)
        data = data[:rng.randint(len(data) // 2, len(data))]
    if len(data) > LIMITS.message_bytes:
        expect["limit"] = True
    return op, data, expect


class Hang(BaseException):
    pass


def _alarm(*_):
    raise Hang


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, plan, request):
    shm = Path("/dev/shm")  # thousands of ledger commits and atomic writes: in memory when the system has it
    base = Path(tempfile.mkdtemp(prefix="piao-mail-mut-", dir=shm)) if shm.is_dir() and os.access(shm, os.W_OK) \
        else tmp_path_factory.mktemp("mail-mutations")
    request.addfinalizer(lambda: shutil.rmtree(base, ignore_errors=True))
    root = base / "ws"
    settings = init_workspace(root, bundled_plan_path(), plan)
    workbook = filled(sector_workbook(plan, plan.sector("SF")), 3)
    return settings, workbook


def test_message_mutations_never_stop_collect_and_follow_the_rules(workspace, plan):
    settings, workbook = workspace
    rng_all = random.Random(SEED)
    seeds = [rng_all.randrange(2**32) for _ in range(COUNT)]
    ids = ONLY or range(COUNT)
    problems: list[str] = []
    ops: dict[str, int] = {}
    allowed = settings.authorized("SF", plan)
    safe = re.compile(r"[A-Za-z0-9_]+-\d{8}-[0-9a-f]{12}\.(xlsx|ods)")
    old = signal.signal(signal.SIGALRM, _alarm)
    try:
        with Ledger(settings.ledger_path) as led:
            for vid in ids:
                op, data, expect = mutate(random.Random(seeds[vid]), vid, workbook)
                ops[op] = ops.get(op, 0) + 1
                before = led.counts()["messages"]
                where = f"seed {SEED} variant {vid} ({op})"
                signal.alarm(TIME_CAP)
                try:
                    got = process_message(settings, plan, led, RawMessage(data, "eml", f"v{vid}.eml"), True,
                                          date(2026, 1, 20), None, LIMITS)
                except Hang:
                    problems.append(f"{where}: over {TIME_CAP} s")
                    continue
                except Exception:
                    problems.append(f"{where}: traceback\n{traceback.format_exc()}")
                    continue
                finally:
                    signal.alarm(0)
                codes = {f["code"] for c in got for f in c.findings}
                outcomes = [c.outcome for c in got]
                if not got or not set(outcomes) <= OUTCOMES:
                    problems.append(f"{where}: outcomes {outcomes}")
                if "MAIL-UNREADABLE" in codes:
                    problems.append(f"{where}: unreadable {[f['message'] for c in got for f in c.findings]}")
                if outcomes != ["già raccolto"] and led.counts()["messages"] <= before:
                    problems.append(f"{where}: no ledger row")
                if expect.get("limit") and (outcomes != ["non letto"] or codes != {"MAIL-LIMIT"}):
                    problems.append(f"{where}: over a limit but {outcomes} {codes}")
                for c in got:
                    if c.outcome == "nuovo" and c.sender not in allowed:
                        problems.append(f"{where}: a file from {c.sender!r} counts")
                    if expect.get("no_sender") and c.outcome == "nuovo":
                        problems.append(f"{where}: a defective From: authorised a file")
                    if c.saved:
                        path = Path(c.saved)
                        if path.parent not in (settings.folder("ricevuti"), settings.folder("rifiutati")) or \
                                not safe.fullmatch(path.name):
                            problems.append(f"{where}: saved as {c.saved!r}")
                    if expect.get("not_certified") and c.via == "pec":
                        problems.append(f"{where}: an unsigned envelope was certified")
                    line = printable(f"{c.sector} {c.outcome}: {c.filename or c.subject} da {c.sender}")
                    if any(ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 or ch in "\u2028\u2029\u202e" for ch in line):
                        problems.append(f"{where}: printed {line!r}")
    finally:
        signal.signal(signal.SIGALRM, old)
    assert not problems, f"{len(problems)} problems over {len(ids)} variants:\n" + "\n".join(problems[:20])
    if not ONLY:
        assert len(ids) >= 2000 or COUNT < 2000
        assert len(ops) == 18, ops  # every operator was drawn
