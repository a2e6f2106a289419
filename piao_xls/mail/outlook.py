"""Messages saved by Outlook for Windows (``.msg``: an OLE compound file in the Outlook MSG format).

Read with extract-msg and turned into an ordinary Internet message (:class:`email.message.EmailMessage`)
carrying what the collector needs: sender, recipients, subject, Message-ID, In-Reply-To, References,
date, and every attachment (an attached message becomes a ``message/rfc822`` part, so forwards are
opened as for ``.eml``). When Outlook kept the Internet headers of a received message
(PR_TRANSPORT_MESSAGE_HEADERS) they are used first; otherwise the MAPI properties.
"""

from __future__ import annotations

import contextlib
import logging
from email import message_from_string, policy
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, getaddresses, parseaddr
from pathlib import Path

MAX_DEPTH = 5  # messages attached inside messages

# MAPI string properties (PT_UNICODE / PT_STRING8 streams)
SENDER_SMTP = ("5D01", "5D02", "39FE", "0C1F", "0065")  # sender / sent-representing SMTP, then e-mail addresses
IN_REPLY_TO, REFERENCES = "1042", "1039"


class MsgError(ValueError):
    """A .msg file that cannot be read (Italian message)."""


def _prop(msg, tag: str) -> str:
    try:
        value = msg.getStringStream(f"__substg1.0_{tag}")
    except Exception:
        return ""
    return str(value or "").strip()


def _sender(msg, headers) -> str:
    if headers is not None and headers.get("From"):
        addr = parseaddr(str(headers.get("From")))[1]
        if "@" in addr:
            return str(headers.get("From"))
    for tag in SENDER_SMTP:
        value = _prop(msg, tag)
        if "@" in value and not value.startswith("/"):  # an Exchange sender is an X.500 name: "/O=..."
            name = str(getattr(msg, "sender", "") or "")
            name = "" if "@" in name or not name else name
            return formataddr((name, value))
    return str(getattr(msg, "sender", "") or "")


def _headers(msg):
    with contextlib.suppress(Exception):
        text = _prop(msg, "007D")  # PR_TRANSPORT_MESSAGE_HEADERS: the message as it arrived
        if text and ":" in text:
            return message_from_string(text.strip() + "\n\n", policy=policy.default)
    return None


def to_email(msg, depth: int = 0) -> EmailMessage:
    """An extract-msg message as an :class:`EmailMessage` with its attachments."""
    head = _headers(msg)
    out = EmailMessage()

    def take(name: str, value: str) -> None:
        value = " ".join(str(value or "").split())
        if value:
            with contextlib.suppress(Exception):
                out[name] = value

    take("From", _sender(msg, head))
    for name, attr in (("To", "to"), ("Cc", "cc")):
        value = (head.get(name) if head is not None else None) or getattr(msg, attr, "") or ""
        take(name, ", ".join(formataddr(p) for p in getaddresses([str(value)]) if p[1]))
    take("Subject", (head.get("Subject") if head is not None else None) or getattr(msg, "subject", "") or "")
    take("Message-ID", (head.get("Message-ID") if head is not None else None) or getattr(msg, "messageId", "") or "")
    take("In-Reply-To", (head.get("In-Reply-To") if head is not None else None) or _prop(msg, IN_REPLY_TO))
    take("References", (head.get("References") if head is not None else None) or _prop(msg, REFERENCES))
    date = head.get("Date") if head is not None else None
    if not date:
        with contextlib.suppress(Exception):
            when = getattr(msg, "date", None)
            date = format_datetime(when) if when is not None and getattr(when, "tzinfo", None) else ""
    take("Date", date or "")
    out["X-PIAO-Origin"] = "outlook-msg"
    body = ""
    with contextlib.suppress(Exception):
        body = str(msg.body or "")
    out.set_content(body or "\n")
    for att in getattr(msg, "attachments", []) or []:
        _attach(out, att, depth)
    return out


def _attach(out: EmailMessage, att, depth: int) -> None:
    data = getattr(att, "data", None)
    name = str(getattr(att, "longFilename", "") or getattr(att, "shortFilename", "") or "allegato")
    if isinstance(data, (bytes, bytearray)):
        mime = str(getattr(att, "mimetype", "") or "application/octet-stream")
        main, _, sub = mime.partition("/")
        if not sub or main == "multipart" or main == "message":
            main, sub = "application", "octet-stream"
        out.add_attachment(bytes(data), maintype=main, subtype=sub, filename=name)
    elif data is not None and hasattr(data, "attachments") and depth < MAX_DEPTH:  # an attached message
        inner = to_email(data, depth + 1)
        out.add_attachment(inner)  # message/rfc822


def read_msg(path: str | Path) -> EmailMessage:
    """The ``.msg`` file at ``path`` as an :class:`EmailMessage`; :class:`MsgError` when it cannot be read."""
    try:
        import extract_msg
    except ImportError as e:  # pragma: no cover - a dependency of the package
        raise MsgError("per leggere i file .msg di Outlook serve il pacchetto extract-msg") from e
    # extract-msg logs every property it does not know at WARNING: English noise for the clerk, not findings
    logging.getLogger("extract_msg").setLevel(logging.ERROR)
    try:
        msg = extract_msg.openMsg(str(path), delayAttachments=False)
    except Exception as e:  # a damaged file, or an OLE file that is not a message
        raise MsgError(f"il file .msg non è leggibile ({type(e).__name__}): salvare di nuovo il messaggio da "
                       "Outlook (File > Salva con nome > Formato Outlook .msg) oppure salvare solo l'allegato") from e
    try:
        if not hasattr(msg, "attachments"):
            raise MsgError("il file .msg non è un messaggio di posta (è un appuntamento, un contatto o un'attività)")
        return to_email(msg)
    finally:
        with contextlib.suppress(Exception):
            msg.close()
