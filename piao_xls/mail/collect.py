"""Returns in: read messages from a mailbox (never changing it), one at a time, open forwards and PEC envelopes
to the original attachment, pass every workbook through the guard, save it once under a safe name, check it.

Sources: an IMAP folder (EXAMINE and BODY.PEEK: read-only, nothing marked as read), a Maildir, an mbox
file, a folder of ``.eml`` files (or one ``.eml`` file). Every source is a generator: one message is in
memory at a time. :func:`process_message` is the whole pipeline for one message (a new source calls it);
a message over a limit of :class:`MailLimits`, or one that cannot be read, is a finding and a ledger row,
and the messages after it are read.
Outlook ``.msg`` files and workbooks saved by hand come through :mod:`.sources` as messages too (transport
``msg``, ``cartella``).
"""

from __future__ import annotations

import contextlib
import hashlib
import imaplib
import re
import ssl
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from email import message_from_bytes, policy
from email.message import Message
from email.utils import getaddresses, parseaddr, parsedate_to_datetime
from pathlib import Path

from ..core import italian
from ..core.errors import ERROR, WARNING, Finding
from ..core.model import Plan
from ..returns.reader import WORKBOOK_SUFFIXES, WorkbookResult, read_properties
from ..sheetio.atomic import write_bytes_atomic
from ..sheetio.oserrors import os_reason
from ..sheetio.safeopen import Limits, UnsafeFile, open_package, parse_xml
from ..sheetio.text import safe_filename
from ..workspace.ledger import YEAR_END, Ledger
from ..workspace.rounds import ROUND_PREFIX, check_round_file, round_of_props
from ..workspace.settings import Server, Settings
from ..workspace.year import check_file, record_check, sender_finding
from .compose import party_of_tag
from .transport import MailError, tls_context
from .trust import ADDRESS, clean, header_text, looks_like_pec, pec_structure, raw_headers, sender_of, verify_signature

HAND = "cartella"  # the transport of a workbook saved by hand (no sender to check, no message to keep)
SPREADSHEET_TYPES = {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                     "application/vnd.oasis.opendocument.spreadsheet", "application/vnd.ms-excel"}
HEAD_BYTES = 64 * 1024  # of a message too large to read: its headers, for the records


@dataclass(frozen=True)
class MailLimits:
    """What one message may cost. Over any limit the message is not opened: a ``MAIL-LIMIT`` finding and a
    ledger row record it (docs/security.md lists these limits)."""

    message_bytes: int = 40 * 1024 * 1024  # a 20 MB workbook (the guard's cap) is ~27 MB in base64
    multiparts: int = 40  # multipart containers (boundary= parameters), nested or not, in the whole message
    delimiter_lines: int = 2_000  # lines starting with "--" (boundaries): bounds the number of parts
    parser_work: int = 8_000_000  # lines x multipart containers: the parser checks every line at each level
    mime_header: int = 2_000  # characters of one Content-* header (the parser's cost grows with its square)
    mime_headers: int = 64 * 1024  # characters of all Content-* headers together
    parts: int = 500  # MIME parts once parsed (inner messages included)
    attachments: int = 20  # spreadsheet attachments in one message
    depth: int = 5  # messages inside messages (forwards of forwards)


MAX_MESSAGE = MailLimits().message_bytes
MAX_DEPTH = MailLimits().depth


@dataclass
class RawMessage:
    data: bytes
    transport: str  # imap, maildir, mbox, eml, msg, cartella
    origin: str  # where it was read from
    size: int = -1  # bytes, when known
    head: bytes = b""  # the headers alone, when ``data`` was not read (a message over the size limit)
    problem: str = ""  # why ``data`` is not the message (Italian): over the size limit, not delivered

    def __post_init__(self) -> None:
        if self.size < 0:
            self.size = len(self.data)


@dataclass
class Attachment:
    filename: str
    data: bytes
    via: str  # diretto, inoltro, pec
    inner_sender: str = ""


@dataclass
class Opened:
    sender: str  # the address checked against the Responsabile's ("" when the From: is not usable)
    attachments: list[Attachment] = field(default_factory=list)
    pec: dict = field(default_factory=dict)
    forwarded_from: list[str] = field(default_factory=list)
    skip: str = ""  # why the attachments are not returns: a PEC receipt, a bounce, the office's own message
    original: dict = field(default_factory=dict)  # PEC: the original message's Message-ID, References, Subject
    also: list[str] = field(default_factory=list)  # PEC: the original From, accepted as the certified sender is
    findings: list[Finding] = field(default_factory=list)  # about the message: its From:, its PEC envelope
    parts: int = 0


class OverLimit(Exception):
    """A message over one of :class:`MailLimits` (Italian message)."""


# --- sources -----------------------------------------------------------------------------

def imap_messages(server: Server, password: str | None, known: Callable[[str], bool] = lambda message_id: False,
                  limits: MailLimits | None = None) -> Iterator[RawMessage]:
    """Every message of the folder, read-only (EXAMINE, UID FETCH BODY.PEEK[]), downloaded one at a time.

    Headers (Message-ID, From, Subject) and sizes are fetched first: messages ``known(message_id)`` says were
    already collected are not downloaded again; a message over the size limit is not downloaded and comes
    with its headers only (``problem`` says why).
    """
    limits = limits or MailLimits()
    if not server.host:
        raise MailError("server IMAP non configurato: indicare [imap] host nel file delle impostazioni, oppure "
                        "raccogliere da una cartella di messaggi (.msg, .eml) o di moduli salvati a mano: "
                        "piao-xls raccogli CARTELLA")
    conn: imaplib.IMAP4
    try:
        if server.security == "tls":
            conn = imaplib.IMAP4_SSL(server.host, server.port or 993, ssl_context=tls_context(server), timeout=30)
        else:
            conn = imaplib.IMAP4(server.host, server.port or 143, timeout=30)
            if server.security == "starttls":
                conn.starttls(ssl_context=tls_context(server))
    except (OSError, imaplib.IMAP4.error, ssl.SSLError) as e:
        why = os_reason(e) if isinstance(e, OSError) else str(e)
        raise MailError(f"impossibile collegarsi al server IMAP {server.host}:{server.port}: {why}") from e
    try:
        try:
            conn.login(server.user, password or "")
        except imaplib.IMAP4.error as e:
            raise MailError(f"il server IMAP {server.host} ha rifiutato utente o password") from e
        folder = '"' + server.folder.replace("\\", "\\\\").replace('"', '\\"') + '"'
        typ, _ = conn.select(folder, readonly=True)  # EXAMINE: the mailbox is never changed
        if typ != "OK":
            raise MailError(f"cartella IMAP «{server.folder}» non trovata su {server.host}")
        typ, data = conn.uid("SEARCH", "ALL")
        uids = (data[0] or b"").split()
        wanted: list[tuple[str, int, bytes]] = []
        if uids:
            typ, heads = conn.uid("FETCH", b",".join(uids).decode("ascii"),
                                  "(RFC822.SIZE BODY.PEEK[HEADER.FIELDS (MESSAGE-ID FROM SUBJECT DATE)])")
            for part in heads:
                if not isinstance(part, tuple):
                    continue
                uid_m = re.search(rb"UID (\d+)", part[0])
                size_m = re.search(rb"RFC822\.SIZE (\d+)", part[0])
                head = bytes(part[1] or b"")[:HEAD_BYTES]
                mid = header_text(parse_headers(head), "Message-ID")
                if uid_m and not (mid and known(mid)):
                    wanted.append((uid_m.group(1).decode("ascii"), int(size_m.group(1)) if size_m else -1, head))
        for uid, size, head in wanted:
            origin = f"imap://{server.host}/{server.folder};UID={uid}"
            if size > limits.message_bytes:
                yield RawMessage(b"", "imap", origin, size, head, "oltre la dimensione massima")
                continue
            typ, parts = conn.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = next((p[1] for p in parts if isinstance(p, tuple)), None) if parts else None
            if typ == "OK" and raw:
                if len(raw) > limits.message_bytes:
                    yield RawMessage(b"", "imap", origin, len(raw), _head(raw), "oltre la dimensione massima")
                else:
                    yield RawMessage(raw, "imap", origin)
            else:
                yield RawMessage(b"", "imap", origin, size, head, "il server non ha consegnato il messaggio")
    except (OSError, imaplib.IMAP4.error) as e:
        raise MailError(f"lettura della cartella IMAP non riuscita ({e})") from e
    finally:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            conn.logout()


def local_messages(source: Path, limits: MailLimits | None = None) -> Iterator[RawMessage]:
    """A Maildir (cur/new/tmp), a folder of .eml files, an .eml file or an mbox file, one message at a time."""
    limits = limits or MailLimits()
    source = Path(source)
    if source.is_dir():
        if (source / "cur").is_dir() and (source / "new").is_dir():  # Maildir: files are only read
            files = sorted(f for sub in ("new", "cur") for f in (source / sub).iterdir() if f.is_file())
            return (file_message(f, "maildir", limits) for f in files)
        files = sorted(f for f in source.iterdir() if f.is_file() and f.suffix.lower() == ".eml")
        return (file_message(f, "eml", limits) for f in files)
    if source.suffix.lower() == ".eml":
        return iter([file_message(source, "eml", limits)])
    with open(source, "rb") as fh:  # an mbox starts with a "From " line: say so before reading anything
        first = fh.read(5)
    if first and first != b"From ":
        raise ValueError("non è un file mbox (non inizia con una riga «From »), né un file .eml o una cartella")
    return mbox_messages(source, limits)


def _head(data: bytes) -> bytes:
    """The header block of a message (at most HEAD_BYTES)."""
    part = data[:HEAD_BYTES]
    end = min((i for i in (part.find(b"\r\n\r\n"), part.find(b"\n\n")) if i >= 0), default=-1)
    return part[:end + 1] if end >= 0 else part


def file_message(path: Path, transport: str, limits: MailLimits | None = None) -> RawMessage:
    """One message saved as a file; over the size limit, its headers alone (``problem`` says why)."""
    limits = limits or MailLimits()
    size = path.stat().st_size
    if size > limits.message_bytes:
        with open(path, "rb") as fh:
            return RawMessage(b"", transport, str(path), size, _head(fh.read(HEAD_BYTES)), "oltre la dimensione massima")
    return RawMessage(path.read_bytes(), transport, str(path))


def mbox_messages(path: Path, limits: MailLimits | None = None) -> Iterator[RawMessage]:
    """The messages of an mbox file, read as a stream (a "From " line at the start of a line begins a
    message, as Python's mailbox reads it); a message over the size limit keeps only its headers."""
    limits = limits or MailLimits()
    index = -1
    chunks: list[bytes] = []
    size = 0
    over = False

    def flush() -> RawMessage:
        data = b"".join(chunks)
        if data.endswith(b"\n\n"):
            data = data[:-1]  # the blank line before the next "From " belongs to the mbox, not the message
        origin = f"{path}#{index}"
        if over:
            return RawMessage(b"", "mbox", origin, size, _head(data), "oltre la dimensione massima")
        return RawMessage(data, "mbox", origin)

    with open(path, "rb") as fh:
        at_start = True
        while True:
            chunk = fh.readline(HEAD_BYTES)
            if not chunk:
                break
            if at_start and chunk.startswith(b"From "):
                if index >= 0:
                    yield flush()
                index += 1
                chunks, size, over = [], 0, False
            elif index >= 0:
                size += len(chunk)
                if not over:
                    chunks.append(chunk)
                    if size > limits.message_bytes:
                        over = True
                        chunks = [_head(b"".join(chunks))]
            at_start = chunk.endswith(b"\n")
    if index >= 0:
        yield flush()


# --- opening a message ---------------------------------------------------------------------

_BOUNDARY = re.compile(rb"boundary\s*=")  # on the lower-cased bytes (an IGNORECASE scan costs 10x)
_MIME_START = re.compile(rb"\ncontent-")  # on the lower-cased bytes (a literal: found by a fast search)


def _mime_header_sizes(data: bytes, low: bytes, limits: MailLimits) -> tuple[int, int]:
    """(longest, total) characters of the Content-* header fields (with their continuation lines), counted
    until the total passes its limit."""
    longest = total = 0
    starts = [0] if low.startswith(b"content-") else []
    for start in (*starts, *(m.start() + 1 for m in _MIME_START.finditer(low))):
        end = data.find(b"\n", start)
        while end >= 0 and data[end + 1:end + 2] in (b" ", b"\t"):
            end = data.find(b"\n", end + 1)
        size = (len(data) if end < 0 else end) - start
        longest, total = max(longest, size), total + size
        if total > limits.mime_headers:
            break
    return longest, total


def prescan(data: bytes, limits: MailLimits) -> str:
    """Before parsing: the cost of parsing ``data`` is bounded (Italian reason when it is not, else "")."""
    low = data.lower()
    containers = len(_BOUNDARY.findall(low))
    if containers > limits.multiparts:
        return f"troppe parti annidate ({containers} contenitori multipart, al massimo {limits.multiparts})"
    delimiters = data.count(b"\n--") + data.startswith(b"--")
    if delimiters > limits.delimiter_lines:
        return f"troppe parti ({delimiters} separatori, al massimo {limits.delimiter_lines})"
    longest, total = _mime_header_sizes(data, low, limits)
    if longest > limits.mime_header:
        return f"intestazione MIME troppo lunga ({longest} caratteri, al massimo {limits.mime_header})"
    if total > limits.mime_headers:
        return f"intestazioni MIME troppo lunghe (oltre {limits.mime_headers} caratteri, al massimo {limits.mime_headers})"
    lines = data.count(b"\n") + 1
    if lines * max(containers, 1) > limits.parser_work:
        return (f"struttura troppo costosa da leggere ({italian.plain(lines)} righe in {containers} contenitori "
                "annidati)")
    return ""


def parse_headers(head: bytes) -> Message:
    return message_from_bytes(head, policy=policy.compat32)


def parse_message(data: bytes, limits: MailLimits) -> Message:
    """``data`` parsed, after :func:`prescan` (raises :class:`OverLimit`). The compat32 policy: the structure
    (parts, parameters) is read by the classic parser, whose cost does not grow with the square of a header;
    the headers that matter are read one by one by :mod:`.trust`, within length limits."""
    problem = prescan(data, limits)
    if problem:
        raise OverLimit(problem)
    return message_from_bytes(data, policy=policy.compat32)


def _filename(part) -> str:
    try:
        return clean(str(part.get_filename() or ""))
    except Exception:  # a hostile Content-Disposition: the part has no usable name
        return ""


def _ctype(part) -> str:
    try:
        return part.get_content_type()
    except Exception:
        return "application/octet-stream"


def _leaves(part, counter: list[int], limits: MailLimits, depth: int = 0):
    """(kind, part) for every leaf and every attached message, not descending into attached messages;
    counts parts in ``counter`` and stops at the limits."""
    counter[0] += 1
    if counter[0] > limits.parts:
        raise OverLimit(f"troppe parti (oltre {limits.parts})")
    if depth > limits.multiparts:
        raise OverLimit(f"troppe parti annidate (oltre {limits.multiparts} livelli)")
    ctype = _ctype(part)
    if ctype == "message/rfc822":
        yield "message", part
    elif part.is_multipart():
        payload = part.get_payload()
        for p in payload if isinstance(payload, list) else []:
            yield from _leaves(p, counter, limits, depth + 1)
    else:
        yield "leaf", part


def _inner(part, limits: MailLimits) -> Message | None:
    """The message inside a message/rfc822 part (or inside a leaf holding an .eml file)."""
    if _ctype(part) == "message/rfc822":
        payload = part.get_payload()
        if isinstance(payload, list) and payload:
            return payload[0]
        return None
    data = part.get_payload(decode=True) or b""
    return parse_message(data, limits)


def _is_workbook(part) -> bool:
    name = _filename(part).lower()
    return name.endswith(WORKBOOK_SUFFIXES) or _ctype(part) in SPREADSHEET_TYPES


def parse_daticert(data: bytes) -> dict:
    """The PEC certificate (daticert.xml): type, sender, recipients, identifier, date and time."""
    try:
        root = parse_xml(data)
    except Exception:
        return {"errore": "daticert.xml illeggibile"}

    def find(tag: str) -> str:
        el = next((e for e in root.iter() if str(e.tag).rsplit("}", 1)[-1] == tag), None)
        return (el.text or "").strip()[:998] if el is not None and el.text else ""

    day = next((e for e in root.iter() if str(e.tag).endswith("data")), None)
    when = ""
    if day is not None:
        parts = {str(c.tag).rsplit("}", 1)[-1]: (c.text or "").strip() for c in day}
        when = " ".join(x for x in (parts.get("giorno", ""), parts.get("ora", ""), day.get("zona", "")) if x)
    return {"tipo": root.get("tipo", ""), "errore": root.get("errore", ""), "mittente": find("mittente"),
            "destinatari": find("destinatari"), "oggetto": find("oggetto"), "identificativo": find("identificativo"),
            "msgid": find("msgid"), "consegna": find("consegna"), "data": when}


def open_message(msg: Message, raw: bytes | None = None, limits: MailLimits | None = None) -> Opened:
    """The workbook attachments of a message, through forwards and PEC envelopes.

    ``raw`` (the message's bytes) lets a PEC envelope be verified; without it, or when the envelope's
    structure or S/MIME signature does not verify, the message is an ordinary one: its sender is its
    ``From:``, and a ``MAIL-PEC`` finding says the envelope was not taken as certified.
    """
    limits = limits or MailLimits()
    who = sender_of(msg)
    counter = [0]
    items = list(_leaves(msg, counter, limits))
    daticert = next((p for k, p in items if k == "leaf" and _filename(p).lower() == "daticert.xml"), None)
    findings = []
    if who.problem:
        findings.append(Finding("MAIL-FROM", ERROR, f"mittente non determinabile: {who.problem} "
                                                    f"(From: {who.shown or 'assente'})"))
    if daticert is not None or looks_like_pec(msg):
        if daticert is not None:
            pec = parse_daticert(daticert.get_payload(decode=True) or b"")
            if pec.get("tipo", "") not in ("", "posta-certificata"):
                # a receipt of the PEC provider (accettazione, avvenuta-consegna, ...): a "complete" delivery
                # receipt carries the office's own message, with the form sent, as postacert.eml; never a return
                return Opened(who.address, pec=pec, skip="ricevuta PEC", findings=findings, parts=counter[0])
        certified = _certified(msg, raw, limits)
        if isinstance(certified, Opened):
            certified.parts = counter[0]
            return certified
        findings.append(Finding("MAIL-PEC", WARNING, f"busta PEC non certificata: {certified}; il messaggio è "
                                                     "trattato come un messaggio ordinario del mittente indicato in From"))
    if _ctype(msg) == "multipart/report":  # a bounce carries the message sent, with the form
        return Opened(who.address, skip="notifica di mancato recapito", findings=findings, parts=counter[0])
    out = Opened(who.address, findings=findings)
    _collect(msg, out, "diretto", 0, limits, counter)
    out.parts = counter[0]
    return out


def _certified(msg: Message, raw: bytes | None, limits: MailLimits) -> Opened | str:
    """The opened PEC envelope when its structure and signature verify, else why not (Italian)."""
    structure = pec_structure(msg)
    if structure is None:
        return "la struttura non è quella di una busta PEC (multipart/signed con daticert.xml e postacert.eml)"
    _, daticert, postacert = structure
    if postacert is None:
        return "la busta non contiene il messaggio originale (postacert.eml)"
    if raw is None:
        return "il messaggio originale non è disponibile per verificare la firma"
    ok, why = verify_signature(raw)
    if not ok:
        return why
    pec = parse_daticert(daticert.get_payload(decode=True) or b"")
    if pec.get("tipo", "") != "posta-certificata":
        return "daticert.xml non è di tipo posta-certificata"
    certified = pec.get("mittente", "").strip().lower()
    if not ADDRESS.fullmatch(certified):
        return "il mittente certificato in daticert.xml non è un indirizzo valido"
    original = _inner(postacert, limits)
    out = Opened(certified, pec=pec)
    pec["busta_mittente"] = ", ".join(raw_headers(msg, "From"))[:998]
    pec["certificata"] = True
    if original is not None:
        inner = sender_of(original)
        pec["originale_mittente"] = inner.address
        if inner.address:
            out.also.append(inner.address)
        out.original = {"message_id": header_text(original, "Message-ID"),
                        "references": header_text(original, "References"),
                        "subject": header_text(original, "Subject")}
        _collect(original, out, "pec", 1, limits, [0])
    return out


def _collect(msg, out: Opened, via: str, depth: int, limits: MailLimits, counter: list[int]) -> None:
    if depth > limits.depth:
        raise OverLimit(f"troppi messaggi inoltrati uno dentro l'altro (oltre {limits.depth})")
    for kind, part in _leaves(msg, counter, limits):
        if kind == "message":
            inner = _inner(part, limits)
            if inner is not None:
                out.forwarded_from.append(sender_of(inner).address)
                _collect(inner, out, "inoltro" if via == "diretto" else via, depth + 1, limits, counter)
        elif _is_workbook(part):
            if len(out.attachments) >= limits.attachments:
                raise OverLimit(f"troppi fogli di calcolo allegati (oltre {limits.attachments})")
            data = part.get_payload(decode=True) or b""
            out.attachments.append(Attachment(_filename(part) or "allegato", data, via,
                                              out.forwarded_from[-1] if via == "inoltro" and out.forwarded_from else ""))


# --- when a return was sent ----------------------------------------------------------------------

SENT_MESSAGE, SENT_PEC, SENT_HAND = "messaggio", "pec", "ricevuto"


def pec_time(text: str) -> str:
    """The delivery time of a PEC certificate ("20/01/2026 10:15:02 +0100") as ISO, "" when it does not parse."""
    for fmt in ("%d/%m/%Y %H:%M:%S %z", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M %z", "%d/%m/%Y %H:%M"):
        try:
            return datetime.strptime(text.strip(), fmt).isoformat()
        except ValueError:
            continue
    return ""


def sent_time(msg: Message, opened: Opened, raw: RawMessage) -> tuple[str, str]:
    """(ISO time, where it comes from) of when a return was sent: the PEC delivery time of a certified
    message, the Date of an ordinary one, and for a file put in by hand the time it was saved there (its
    modification time); ("", "") when none is known. Never the order or the time in which it is read."""
    if raw.transport == HAND:
        try:
            stamp = Path(raw.origin).stat().st_mtime
            return datetime.fromtimestamp(stamp, timezone.utc).isoformat(timespec="microseconds"), SENT_HAND
        except (OSError, ValueError, OverflowError):
            return "", ""
    if opened.pec.get("certificata"):
        when = pec_time(str(opened.pec.get("data", "")))
        if when:
            return when, SENT_PEC
    try:
        date_header = header_text(msg, "Date")
        when_dt = parsedate_to_datetime(date_header) if date_header else None
    except (TypeError, ValueError, IndexError):
        when_dt = None
    if when_dt is None:
        return "", ""
    if when_dt.tzinfo is None:  # "-0000": UTC, origin unknown
        when_dt = when_dt.replace(tzinfo=timezone.utc)
    return when_dt.isoformat(), SENT_MESSAGE


# --- collecting ---------------------------------------------------------------------------------

def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")[:40] or "SCONOSCIUTO"


def _party_of_props(props: dict) -> str:
    if props.get("piao_kind") == "source":
        return props.get("piao_source", "")
    return props.get("piao_sectors", "")


def party_of_subject(plan: Plan, subject: str) -> str:
    """The party named by the tag of the office's subjects ("[PIAO-2025 SF]"), kept by every mail client in a
    reply or a forward even when it gives the sent message a new Message-ID; "" when there is none."""
    return party_of_tag(plan, subject)


def _party_of_sender(settings: Settings, plan: Plan, sender: str) -> str:
    codes = [s.code for s in plan.sectors] + ["nucleo", "esterno"]
    return ",".join(c for c in codes if sender and sender in settings.authorized(c, plan))


@dataclass
class Collected:
    origin: str
    sender: str
    subject: str
    filename: str = ""
    saved: str = ""
    sector: str = ""
    outcome: str = ""  # nuovo, messo da parte, duplicato, rifiutato, senza allegati, già raccolto, non letto
    round: str = ""  # a monitoring round's date (ISO) when the file is its form; "" the year-end campaign
    status: str = ""
    via: str = ""
    findings: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return dict(self.__dict__)


NOT_READ = "non letto"
SET_ASIDE = "messo da parte"


def collect(settings: Settings, plan: Plan, ledger: Ledger, messages: Iterable[RawMessage],
            strict_sender: bool = False, today: date | None = None, limits: Limits | None = None,
            mail_limits: MailLimits | None = None) -> list[Collected]:
    """Save and check every new workbook attachment of ``messages`` (read one at a time); everything goes
    into the ledger. One message that cannot be read is a finding; the others are still read."""
    out: list[Collected] = []
    for raw in messages:
        out.extend(process_message(settings, plan, ledger, raw, strict_sender, today, limits, mail_limits))
    return out


def process_message(settings: Settings, plan: Plan, ledger: Ledger, raw: RawMessage, strict_sender: bool = False,
                    today: date | None = None, limits: Limits | None = None,
                    mail_limits: MailLimits | None = None) -> list[Collected]:
    """The whole pipeline for one message: never raises for what the message contains."""
    today = today or date.today()
    mail_limits = mail_limits or MailLimits()
    try:
        return _process(settings, plan, ledger, raw, strict_sender, today, limits, mail_limits)
    except Exception as e:  # over a limit, or anything a hostile message makes the parser raise
        code = "MAIL-LIMIT" if isinstance(e, OverLimit) else "MAIL-UNREADABLE"
        text = str(e) if isinstance(e, OverLimit) else f"messaggio non leggibile ({type(e).__name__})"
        return _not_read(settings, plan, ledger, raw, today, code, text)


def _key(raw: RawMessage) -> str:
    if raw.problem:
        return hashlib.sha256(f"{raw.origin}|{raw.size}|".encode() + raw.head).hexdigest()
    return hashlib.sha256(raw.data).hexdigest()


def _not_read(settings: Settings, plan: Plan, ledger: Ledger, raw: RawMessage, today: date, code: str,
              text: str) -> list[Collected]:
    """A message that is not opened (over a limit, unreadable): a finding and a ledger row."""
    head = raw.head or _head(raw.data)
    try:
        msg = parse_headers(head)
        who = sender_of(msg)
        mid, subject = header_text(msg, "Message-ID"), header_text(msg, "Subject")
    except Exception:
        who, mid, subject = sender_of(Message()), "", ""
    key = _key(raw)
    done = ledger.messages("in", raw_sha256=key, round=None)
    if done:
        return [Collected(raw.origin, done[0]["sender"], subject, outcome="già raccolto")]
    finding = Finding(code, ERROR, f"{text}: il messaggio non è stato letto; chiedere di rinviare il modulo "
                                   "(senza altri allegati, o in un messaggio a parte)", file=raw.origin)
    party = _party_of_sender(settings, plan, who.address)
    if raw.data:  # kept as it arrived, as every message read
        write_bytes_atomic(settings.folder("posta") / f"{today.isoformat()}-{key[:16]}.eml", raw.data)
    ledger.add_message("in", "ricevuto", day=today.isoformat(), sector=party, sender=who.address,
                       subject=subject, message_id=mid, transport=raw.transport, location=raw.origin,
                       raw_sha256=key, meta={"origin": raw.origin, "size": raw.size, "not_read": code,
                                             "findings": [finding.to_dict()]})
    return [Collected(raw.origin, who.address, subject, outcome=NOT_READ, sector=party, status="rejected",
                      findings=[finding.to_dict()])]


def _process(settings: Settings, plan: Plan, ledger: Ledger, raw: RawMessage, strict: bool, today: date,
             limits: Limits | None, mail_limits: MailLimits) -> list[Collected]:
    if raw.problem:
        code = "MAIL-LIMIT" if "dimensione" in raw.problem else "MAIL-UNREADABLE"
        size = f" ({italian.plain(raw.size)} byte, al massimo {italian.plain(mail_limits.message_bytes)})" \
            if code == "MAIL-LIMIT" else ""
        return _not_read(settings, plan, ledger, raw, today, code, f"messaggio {raw.problem}{size}")
    raw_sha = _key(raw)
    if len(raw.data) > mail_limits.message_bytes:  # a source that did not check the size
        size = f" ({italian.plain(len(raw.data))} byte, al massimo {italian.plain(mail_limits.message_bytes)})"
        return _not_read(settings, plan, ledger, raw, today, "MAIL-LIMIT", f"messaggio oltre la dimensione massima{size}")
    problem = prescan(raw.data, mail_limits)
    if problem:
        return _not_read(settings, plan, ledger, raw, today, "MAIL-LIMIT", problem)
    msg = parse_message(raw.data, mail_limits)
    mid = header_text(msg, "Message-ID")
    subject = header_text(msg, "Subject")
    done = ledger.received_before(raw_sha, mid)
    if done:
        return [Collected(raw.origin, done[0]["sender"], subject, outcome="già raccolto")]
    if raw.transport != HAND:
        write_bytes_atomic(settings.folder("posta") / f"{today.isoformat()}-{raw_sha[:16]}.eml", raw.data)
    opened = open_message(msg, raw.data, mail_limits)
    if raw.transport == HAND:  # put in by the office itself: there is no sender to judge
        opened.findings = [f for f in opened.findings if f.code != "MAIL-FROM"]
    own = {a.lower() for a in (parseaddr(settings.sender)[1], parseaddr(settings.contact_email)[1]) if a}
    if not opened.skip and opened.sender and opened.sender in own:
        opened.skip = "messaggio dell'ufficio"  # a copy of what the office sent
    refs = header_text(msg, "References", 4000)
    sent, sent_from = sent_time(msg, opened, raw)
    base_meta = {"origin": raw.origin, "pec": opened.pec, "forwarded_from": opened.forwarded_from,
                 # when it was sent: which of a party's returns counts is decided by it (workspace.year)
                 "sent": sent, "sent_from": sent_from,
                 # what a reply refers to: for PEC the original message inside the envelope
                 "reply_to_id": opened.original.get("message_id") or mid,
                 "references": opened.original.get("references", refs) if opened.original else refs,
                 "original_subject": opened.original.get("subject") or subject,
                 "from": ", ".join(raw_headers(msg, "From"))[:998],
                 "findings": [f.to_dict() for f in opened.findings]}
    try:
        to = ", ".join(a for _, a in getaddresses([header_text(msg, "To", 4000)]))
    except Exception:
        to = ""
    common = dict(day=today.isoformat(), sender=opened.sender, recipient=to, subject=subject, message_id=mid,
                  in_reply_to=header_text(msg, "In-Reply-To"), transport=raw.transport, location=raw.origin,
                  raw_sha256=raw_sha)
    if opened.skip or not opened.attachments:
        ledger.add_message("in", "ricevuto", sector=party_of_subject(plan, subject)
                           or _party_of_sender(settings, plan, opened.sender),
                           meta={**base_meta, "skipped": opened.skip}, **common)
        return [Collected(raw.origin, opened.sender, subject, outcome=opened.skip or "senza allegati",
                          findings=[f.to_dict() for f in opened.findings])]
    out = []
    for att in opened.attachments:
        out.append(_take(settings, plan, ledger, att, opened, raw, subject, mid, base_meta, common, strict, today,
                         limits))
    return out


def _take(settings: Settings, plan: Plan, ledger: Ledger, att: Attachment, opened: Opened, raw: RawMessage,
          subject: str, mid: str, base_meta: dict, common: dict, strict: bool, today: date,
          limits: Limits | None) -> Collected:
    """One workbook attachment: judged for this sender, saved where it counts or set aside, checked."""
    c = Collected(raw.origin, opened.sender, subject, filename=att.filename, via=att.via)
    sha = hashlib.sha256(att.data).hexdigest()
    meta = {**base_meta, "via": att.via, "filename": att.filename, "inner_sender": att.inner_sender}
    seen = [m for m in ledger.messages("in", file_sha256=sha, round=None)
            if m["sender"] == opened.sender and opened.sender]
    if seen:  # the same file from the same sender: already judged for them
        known = ledger.has_file(sha, "ricevuto") or ledger.has_file(sha, "scartato") or ledger.has_file(sha, "rifiutato")
        c.outcome, c.sector = "duplicato", seen[0]["sector"]
        c.saved = known["path"] if known else ""
        ledger.add_message("in", "ricevuto", sector=seen[0]["sector"], file_sha256=sha, meta=meta,
                           round=seen[0]["round"], **common)
        return c
    try:
        package = open_package(att.data, att.filename, limits)  # the guard, before anything is saved
    except UnsafeFile as u:
        party = party_of_subject(plan, subject) or _party_of_sender(settings, plan, opened.sender)
        res = WorkbookResult(att.filename, sha256=sha, size=len(att.data),
                             findings=[Finding(u.code, ERROR, u.message, file=att.filename)])
        ledger.add_file(sha, "rifiutato", "", len(att.data), party, att.filename)
        ledger.add_message("in", "ricevuto", sector=party, file_sha256=sha, meta=meta, **common)
        record_check(ledger, plan, res, att.filename, party, mid, opened.sender)
        c.outcome, c.sector, c.status = "rifiutato", party, res.status
        c.findings = [f.to_dict() for f in res.findings]
        return c
    try:
        props, _ = read_properties(package)
    except Exception:
        props = {}
    party = (_party_of_props(props) or party_of_subject(plan, subject)
             or _party_of_sender(settings, plan, opened.sender))
    # a monitoring round's form: kept with its round, checked as its round's return (never as the year-end one)
    rnd = round_of_props(props, plan)
    key = rnd.isoformat() if rnd is not None else YEAR_END
    c.round = key
    extra = list(opened.findings)
    who = None if raw.transport == HAND else sender_finding(settings, plan, party, opened.sender, strict, att.filename)
    if who and any(sender_finding(settings, plan, party, a, strict, att.filename) is None for a in opened.also):
        who = None  # PEC: the certified address is not the usual one, the original From is
    if who:
        extra.append(who)
    aside = any(f.severity == ERROR and f.code in ("MAIL-FROM", "MAIL-SENDER") for f in extra)
    suffix = ".ods" if package.kind == "ods" else ".xlsx"
    name = f"{_safe(party)}-{today.strftime('%Y%m%d')}-{sha[:12]}{suffix}"
    kept = None if aside else ledger.has_file(sha, "ricevuto")
    if kept and Path(kept["path"]).is_file():
        path = Path(kept["path"])  # already among the files that count (sent by someone else): not copied twice
    else:
        path = settings.folder("rifiutati" if aside else "ricevuti") / name
        if rnd is not None:
            path = path.parent / f"{ROUND_PREFIX}{key}" / name
        if not path.is_file():
            write_bytes_atomic(path, att.data)
    ledger.add_file(sha, "scartato" if aside else "ricevuto", path, len(att.data), party, safe_filename(att.filename),
                    round=key)
    ledger.add_message("in", "ricevuto", sector=party, file_sha256=sha, meta=meta, round=key, **common)
    res = (check_round_file(ledger, plan, path, rnd, path.name, extra, party, mid, opened.sender) if rnd is not None
           else check_file(ledger, plan, path, path.name, extra, party, mid, opened.sender))
    c.outcome = SET_ASIDE if aside else "nuovo"
    c.saved, c.sector, c.status = str(path), party, res.status
    c.findings = [f.to_dict() for f in res.findings]
    return c
