"""Returns in: read messages from a mailbox (never changing it), open forwards and PEC envelopes to the
original attachment, pass every workbook through the guard, save it once under a safe name, check it.

Sources: an IMAP folder (EXAMINE and BODY.PEEK: read-only, nothing marked as read), a Maildir, an mbox
file, a folder of ``.eml`` files (or one ``.eml`` file); Outlook ``.msg`` files and workbooks saved by hand
come through :mod:`.sources` as messages too (transport ``msg``, ``cartella``).
"""

from __future__ import annotations

import contextlib
import hashlib
import imaplib
import mailbox
import re
import ssl
from dataclasses import dataclass, field
from datetime import date
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr
from pathlib import Path

from ..core.errors import ERROR, Finding
from ..core.model import Plan
from ..returns.reader import WORKBOOK_SUFFIXES, WorkbookResult, read_properties
from ..sheetio.atomic import write_bytes_atomic
from ..sheetio.oserrors import os_reason
from ..sheetio.safeopen import Limits, UnsafeFile, open_package, parse_xml
from ..workspace.ledger import Ledger
from ..workspace.settings import Server, Settings
from ..workspace.year import check_file, record_check, sender_finding
from .compose import party_of_tag
from .transport import MailError, tls_context

MAX_DEPTH = 5  # forwards inside forwards
MAX_MESSAGE = 64 * 1024 * 1024  # bytes: a message with a 20 MB workbook (the guard's cap) is ~27 MB in base64
HAND = "cartella"  # the transport of a workbook saved by hand (no sender to check, no message to keep)
SPREADSHEET_TYPES = {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                     "application/vnd.oasis.opendocument.spreadsheet", "application/vnd.ms-excel"}


@dataclass
class RawMessage:
    data: bytes
    transport: str  # imap, maildir, mbox, eml, msg, cartella
    origin: str  # where it was read from


@dataclass
class Attachment:
    filename: str
    data: bytes
    via: str  # diretto, inoltro, pec
    inner_sender: str = ""


@dataclass
class Opened:
    sender: str  # the address checked against the Responsabile's
    attachments: list[Attachment] = field(default_factory=list)
    pec: dict = field(default_factory=dict)
    forwarded_from: list[str] = field(default_factory=list)
    skip: str = ""  # why the attachments are not returns: a PEC receipt, a bounce, the office's own message
    original: dict = field(default_factory=dict)  # PEC: the original message's Message-ID, References, Subject
    also: list[str] = field(default_factory=list)  # PEC: the original From, accepted as the certified sender is


# --- sources -----------------------------------------------------------------------------

def imap_messages(server: Server, password: str | None, known=lambda message_id: False) -> list[RawMessage]:
    """Every message of the folder, read-only: EXAMINE (select readonly) and UID FETCH BODY.PEEK[].

    Headers (Message-ID) and sizes are fetched first: messages ``known(message_id)`` says were already
    collected, and messages over :data:`MAX_MESSAGE`, are not downloaded again.
    """
    if not server.host:
        raise MailError("server IMAP non configurato: indicare [imap] host nel file delle impostazioni, oppure "
                        "raccogliere da una cartella di messaggi (.msg, .eml) o di moduli salvati a mano: "
                        "piao-xls raccogli CARTELLA")
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
    out = []
    try:
        try:
            conn.login(server.user, password or "")
        except imaplib.IMAP4.error as e:
            raise MailError(f"il server IMAP {server.host} ha rifiutato utente o password") from e
        folder = '"' + server.folder.replace("\\", "\\\\").replace('"', '\\"') + '"'
        typ, _ = conn.select(folder, readonly=True)  # EXAMINE: the mailbox is never changed
        if typ != "OK":
            raise MailError(f"cartella IMAP «{server.folder}» non trovata su {server.host}")
        typ, data = conn.uid("SEARCH", None, "ALL")
        uids = (data[0] or b"").split()
        wanted = []
        if uids:
            typ, heads = conn.uid("FETCH", b",".join(uids), "(RFC822.SIZE BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
            for part in heads:
                if not isinstance(part, tuple):
                    continue
                uid = re.search(rb"UID (\d+)", part[0])
                size = re.search(rb"RFC822\.SIZE (\d+)", part[0])
                mid = str(message_from_bytes(part[1], policy=policy.default).get("Message-ID", "") or "").strip()
                if uid and not (mid and known(mid)) and not (size and int(size.group(1)) > MAX_MESSAGE):
                    wanted.append(uid.group(1))
        for uid in wanted:
            typ, parts = conn.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = next((p[1] for p in parts if isinstance(p, tuple)), None)
            if typ == "OK" and raw:
                out.append(RawMessage(raw, "imap", f"imap://{server.host}/{server.folder};UID={uid.decode()}"))
    except (OSError, imaplib.IMAP4.error) as e:
        raise MailError(f"lettura della cartella IMAP non riuscita ({e})") from e
    finally:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            conn.logout()
    return out


def local_messages(source: Path) -> list[RawMessage]:
    """A Maildir (cur/new/tmp), a folder of .eml files, an .eml file or an mbox file."""
    source = Path(source)
    if source.is_dir():
        if (source / "cur").is_dir() and (source / "new").is_dir():  # Maildir: files are only read
            files = sorted(f for sub in ("new", "cur") for f in (source / sub).iterdir() if f.is_file())
            return [RawMessage(f.read_bytes(), "maildir", str(f)) for f in files if _small(f)]
        files = sorted(f for f in source.iterdir() if f.is_file() and f.suffix.lower() == ".eml")
        return [RawMessage(f.read_bytes(), "eml", str(f)) for f in files if _small(f)]
    if source.suffix.lower() == ".eml":
        return [RawMessage(source.read_bytes(), "eml", str(source))] if _small(source) else []
    if source.suffix.lower() == ".msg":
        raise ValueError("i file .msg di Outlook non sono supportati: salvare il messaggio come .eml")
    box = mailbox.mbox(source, create=False)
    try:
        return [RawMessage(box.get_bytes(k), "mbox", f"{source}#{i}") for i, k in enumerate(box.keys())]
    finally:
        box.close()


def _small(path: Path) -> bool:
    return path.stat().st_size <= MAX_MESSAGE


# --- opening a message ---------------------------------------------------------------------

def _addr(value) -> str:
    return parseaddr(str(value or ""))[1].lower()


def _leaves(part, depth: int = 0):
    """(kind, part) for every leaf and every attached message, not descending into attached messages."""
    if depth > MAX_DEPTH * 4:
        return
    if part.get_content_type() == "message/rfc822":
        yield "message", part
    elif part.is_multipart():
        for p in part.get_payload():
            yield from _leaves(p, depth + 1)
    else:
        yield "leaf", part


def _inner(part) -> EmailMessage | None:
    """The message inside a message/rfc822 part (or inside a leaf holding an .eml file)."""
    if part.get_content_type() == "message/rfc822":
        payload = part.get_payload()
        if isinstance(payload, list) and payload:
            return payload[0]
        return None
    data = part.get_payload(decode=True) or b""
    return message_from_bytes(data, policy=policy.default)


def _is_workbook(part) -> bool:
    name = (part.get_filename() or "").lower()
    return name.endswith(WORKBOOK_SUFFIXES) or part.get_content_type() in SPREADSHEET_TYPES


def parse_daticert(data: bytes) -> dict:
    """The PEC certificate (daticert.xml): type, sender, recipients, identifier, date and time."""
    try:
        root = parse_xml(data)
    except Exception:
        return {"errore": "daticert.xml illeggibile"}

    def find(tag: str) -> str:
        el = next((e for e in root.iter() if str(e.tag).rsplit("}", 1)[-1] == tag), None)
        return (el.text or "").strip() if el is not None and el.text else ""

    day = next((e for e in root.iter() if str(e.tag).endswith("data")), None)
    when = ""
    if day is not None:
        parts = {str(c.tag).rsplit("}", 1)[-1]: (c.text or "").strip() for c in day}
        when = " ".join(x for x in (parts.get("giorno", ""), parts.get("ora", ""), day.get("zona", "")) if x)
    return {"tipo": root.get("tipo", ""), "errore": root.get("errore", ""), "mittente": find("mittente"),
            "destinatari": find("destinatari"), "oggetto": find("oggetto"), "identificativo": find("identificativo"),
            "msgid": find("msgid"), "consegna": find("consegna"), "data": when}


def open_message(msg: EmailMessage) -> Opened:
    """The workbook attachments of a message, through forwards and PEC envelopes."""
    sender = _addr(msg["From"])
    items = list(_leaves(msg))
    daticert = next((p for k, p in items if k == "leaf" and (p.get_filename() or "").lower() == "daticert.xml"), None)
    postacert = next((p for k, p in items if (p.get_filename() or "").lower() == "postacert.eml"
                      or (k == "message" and daticert is not None)), None)
    if daticert is not None:
        pec = parse_daticert(daticert.get_payload(decode=True) or b"")
        if pec.get("tipo", "") not in ("", "posta-certificata") or postacert is None:
            # a receipt of the PEC provider (accettazione, avvenuta-consegna, ...): a "complete" delivery
            # receipt carries the office's own message, with the form sent, as postacert.eml
            return Opened(_addr(pec.get("mittente")) or sender, pec=pec, skip="ricevuta PEC")
    if daticert is not None and postacert is not None:  # PEC: the original message is postacert.eml
        original = _inner(postacert)
        out = Opened(_addr(pec.get("mittente")) or (_addr(original["From"]) if original is not None else sender),
                     pec=pec)
        pec["busta_mittente"] = sender
        if original is not None:
            pec["originale_mittente"] = _addr(original["From"])
            out.also.append(pec["originale_mittente"])
            out.original = {"message_id": str(original.get("Message-ID", "") or "").strip(),
                            "references": str(original.get("References", "") or ""),
                            "subject": str(original.get("Subject", "") or "")}
            _collect(original, out, "pec", 1)
        return out
    if msg.get_content_type() == "multipart/report":  # a bounce carries the message sent, with the form
        return Opened(sender, skip="notifica di mancato recapito")
    out = Opened(sender)
    _collect(msg, out, "diretto", 0)
    return out


def _collect(msg, out: Opened, via: str, depth: int) -> None:
    if depth > MAX_DEPTH:
        return
    for kind, part in _leaves(msg):
        if kind == "message":
            inner = _inner(part)
            if inner is not None:
                out.forwarded_from.append(_addr(inner["From"]))
                _collect(inner, out, "inoltro" if via == "diretto" else via, depth + 1)
        elif _is_workbook(part):
            data = part.get_payload(decode=True) or b""
            out.attachments.append(Attachment(part.get_filename() or "allegato", data, via,
                                              out.forwarded_from[-1] if via == "inoltro" and out.forwarded_from else ""))


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
    outcome: str = ""  # nuovo, duplicato, rifiutato, senza allegati, già raccolto
    status: str = ""
    via: str = ""
    findings: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def collect(settings: Settings, plan: Plan, ledger: Ledger, messages: list[RawMessage], strict_sender: bool = False,
            today: date | None = None, limits: Limits | None = None) -> list[Collected]:
    """Save and check every new workbook attachment of ``messages``; everything goes into the ledger."""
    today = today or date.today()
    out: list[Collected] = []
    for raw in messages:
        out.extend(_collect_one(settings, plan, ledger, raw, strict_sender, today, limits))
    return out


def _collect_one(settings, plan, ledger, raw: RawMessage, strict: bool, today: date, limits) -> list[Collected]:
    raw_sha = hashlib.sha256(raw.data).hexdigest()
    msg = message_from_bytes(raw.data, policy=policy.default)
    try:
        mid = str(msg["Message-ID"] or "").strip()
        subject = str(msg["Subject"] or "")
    except Exception:  # a malformed header must not stop the batch
        mid, subject = "", ""
    done = ledger.rows("messages", "direction = 'in' AND (raw_sha256 = ? OR (message_id != '' AND message_id = ?))",
                       raw_sha, mid)
    if done:
        return [Collected(raw.origin, done[0]["sender"], subject, outcome="già raccolto")]
    if raw.transport != HAND:
        write_bytes_atomic(settings.folder("posta") / f"{today.isoformat()}-{raw_sha[:16]}.eml", raw.data)
    try:
        opened = open_message(msg)
    except Exception as e:  # a hostile message is recorded, never a traceback
        opened = Opened(_addr(msg.get("From", "")))
        opened.pec = {"errore": f"messaggio non leggibile ({type(e).__name__})"}
    own = {a.lower() for a in (parseaddr(settings.sender)[1], parseaddr(settings.contact_email)[1]) if a}
    if not opened.skip and opened.sender in own:
        opened.skip = "messaggio dell'ufficio"  # a copy of what the office sent
    refs = str(msg.get("References", "") or "")
    base_meta = {"origin": raw.origin, "pec": opened.pec, "forwarded_from": opened.forwarded_from,
                 # what a reply refers to: for PEC the original message inside the envelope
                 "reply_to_id": opened.original.get("message_id") or mid,
                 "references": opened.original.get("references", refs) if opened.original else refs,
                 "original_subject": opened.original.get("subject") or subject}
    common = dict(day=today.isoformat(), sender=opened.sender, recipient=", ".join(
        a for _, a in getaddresses([str(msg.get("To", "") or "")])), subject=subject, message_id=mid,
        in_reply_to=str(msg.get("In-Reply-To", "") or ""), transport=raw.transport, location=raw.origin,
        raw_sha256=raw_sha)
    if opened.skip or not opened.attachments:
        ledger.add_message("in", "ricevuto", sector=party_of_subject(plan, subject)
                           or _party_of_sender(settings, plan, opened.sender),
                           meta={**base_meta, "skipped": opened.skip}, **common)
        return [Collected(raw.origin, opened.sender, subject, outcome=opened.skip or "senza allegati")]
    out = []
    for att in opened.attachments:
        c = Collected(raw.origin, opened.sender, subject, filename=att.filename, via=att.via)
        sha = hashlib.sha256(att.data).hexdigest()
        meta = {**base_meta, "via": att.via, "filename": att.filename, "inner_sender": att.inner_sender}
        known = ledger.has_file(sha, "ricevuto") or ledger.has_file(sha, "rifiutato")
        if known:
            c.outcome, c.saved, c.sector = "duplicato", known["path"], known["sector"]
            ledger.add_message("in", "ricevuto", sector=known["sector"], file_sha256=sha, meta=meta, **common)
            out.append(c)
            continue
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
            out.append(c)
            continue
        try:
            props, _ = read_properties(package)
        except Exception:
            props = {}
        party = (_party_of_props(props) or party_of_subject(plan, subject)
                 or _party_of_sender(settings, plan, opened.sender))
        suffix = ".ods" if package.kind == "ods" else ".xlsx"
        name = f"{_safe(party)}-{today.strftime('%Y%m%d')}-{sha[:12]}{suffix}"
        path = settings.folder("ricevuti") / name
        write_bytes_atomic(path, att.data)
        ledger.add_file(sha, "ricevuto", path, len(att.data), party, att.filename)
        ledger.add_message("in", "ricevuto", sector=party, file_sha256=sha, meta=meta, **common)
        extra = None if raw.transport == HAND else sender_finding(settings, plan, party, opened.sender, strict,
                                                                  str(path))
        if extra and any(sender_finding(settings, plan, party, a, strict, str(path)) is None for a in opened.also):
            extra = None  # PEC: the certified address is not the usual one, the original From is
        res = check_file(ledger, plan, path, name, [extra] if extra else [], party, mid, opened.sender)
        c.outcome, c.saved, c.sector, c.status = "nuovo", str(path), party, res.status
        c.findings = [f.to_dict() for f in res.findings]
        out.append(c)
    return out
