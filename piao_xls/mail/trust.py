"""Who sent a message: the ``From:`` address as mail clients show it, and whether a PEC envelope is certified.

- :func:`sender_of` reads the ``From:`` header defensively: exactly one header with exactly one mailbox,
  parsed without defects, whose address is written in clear (not inside an encoded word) and whose
  display name does not carry another address. Anything else is a problem (Italian text), never a sender.
- :func:`verify_pec` checks a PEC envelope: the structure (``multipart/signed`` around a part holding
  ``daticert.xml`` and ``postacert.eml``) and the S/MIME signature against the message's bytes, with the
  ``openssl`` command. The signer's certificate is NOT checked against the AgID list of PEC providers
  (docs/security.md says what is and is not verified).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from email import policy
from email.utils import parseaddr

# an address as clients show it: ASCII local part (dot-atom) and a domain of labels
ADDRESS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
                   r"@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)+")
_ANY_ADDR = re.compile(r"[^\s<>\"'@,;:()]+@[^\s<>\"'@,;:()]+")
MAX_FROM = 998  # one header line as RFC 5322 allows it
VERIFY_SECONDS = 30
SIGNED_TYPES = {"application/pkcs7-signature", "application/x-pkcs7-signature"}


@dataclass
class Sender:
    address: str  # lower case; "" when the From: is not usable
    problem: str = ""  # Italian: why the From: is not a sender (empty when it is)
    shown: str = ""  # the header as it arrived (for the records), at most MAX_FROM characters


def clean(text: str) -> str:
    """Text from a message as valid Unicode: bytes the parser kept as surrogates (headers that are not ASCII)
    are decoded as UTF-8 where they are, else U+FFFD; lone surrogates become U+FFFD."""
    if text.isascii():
        return text
    try:
        data = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        data = text.encode("utf-8", "surrogatepass")
    return data.decode("utf-8", "replace")


def raw_headers(msg, name: str) -> list[str]:
    """Every value of header ``name`` as it arrived (unfolded, not decoded): never raises."""
    out: list[str] = []
    try:
        items = msg.raw_items()
    except Exception:
        return out
    for key, value in items:
        if str(key).lower() == name.lower():
            out.append(clean(re.sub(r"\r?\n[ \t]", " ", str(value)).strip()))
    return out


def header_text(msg, name: str, limit: int = 998) -> str:
    """The decoded text of the first header ``name``, or its raw text when decoding fails or the header is
    longer than ``limit`` (the structured parsers' cost grows with the square of the length); one line, at
    most ``limit`` characters. Never raises."""
    raw = raw_headers(msg, name)
    if not raw:
        return ""
    value = raw[0]
    if len(value) <= limit:
        try:
            value = str(policy.default.header_factory(name, value))
        except Exception:
            value = raw[0]
    return clean(" ".join(value.split())[:limit])


def sender_of(msg) -> Sender:
    """The sender of ``msg`` as a mail client shows it, or a problem (never both)."""
    values = raw_headers(msg, "From")
    if not values:
        return Sender("", "il messaggio non ha l'intestazione From (mittente)")
    shown = values[0][:MAX_FROM]
    if len(values) > 1:
        return Sender("", "il messaggio ha più intestazioni From: il mittente è ambiguo", shown)
    raw = values[0]
    if len(raw) > MAX_FROM:
        return Sender("", "l'intestazione From è troppo lunga", shown)
    try:
        header = policy.default.header_factory("From", raw)
        defects = list(getattr(header, "defects", ()))
        addresses = list(getattr(header, "addresses", ()))
        groups = [g for g in getattr(header, "groups", ()) if g.display_name is not None]
    except Exception:
        return Sender("", "l'intestazione From non è leggibile", shown)
    if defects:
        return Sender("", "l'intestazione From è difettosa (per esempio virgolette o parentesi non chiuse)", shown)
    if groups:
        return Sender("", "l'intestazione From contiene un gruppo di indirizzi, non un mittente", shown)
    if len(addresses) != 1:
        return Sender("", "l'intestazione From non contiene uno e un solo indirizzo", shown)
    address = str(addresses[0].addr_spec or "")
    display = str(addresses[0].display_name or "")
    if not ADDRESS.fullmatch(address):
        return Sender("", "l'indirizzo del mittente non è un indirizzo di posta valido", shown)
    if address not in raw:  # the address came out of an encoded word: clients do not show it as the sender
        return Sender("", "l'indirizzo del mittente è codificato (encoded word) e non è quello che i programmi "
                          "di posta mostrano", shown)
    if parseaddr(raw)[1].lower() != address.lower():
        return Sender("", "l'intestazione From è ambigua: due letture danno indirizzi diversi", shown)
    others = {a.lower() for a in _ANY_ADDR.findall(display)} - {address.lower()}
    if others:
        return Sender("", "il nome del mittente contiene un altro indirizzo "
                          f"({', '.join(sorted(others))}): il mittente è ambiguo", shown)
    return Sender(address.lower(), "", shown)


def openssl() -> str | None:
    return shutil.which("openssl")


def pec_structure(msg):
    """(signed content, daticert part, postacert part) when ``msg`` has the structure of a PEC envelope:
    ``multipart/signed`` with an S/MIME signature, whose first part holds ``daticert.xml`` and
    ``postacert.eml`` as its own children; None otherwise. Never raises."""
    try:
        if msg.get_content_type() != "multipart/signed":
            return None
        parts = msg.get_payload()
        if not isinstance(parts, list) or len(parts) != 2:
            return None
        content, signature = parts
        if signature.get_content_type() not in SIGNED_TYPES or not content.is_multipart():
            return None
        daticert = postacert = None
        for child in content.get_payload():
            name = (child.get_filename() or "").lower()
            if name == "daticert.xml" and not child.is_multipart():
                if daticert is not None:
                    return None
                daticert = child
            elif name == "postacert.eml" or child.get_content_type() == "message/rfc822":
                if postacert is not None:
                    return None
                postacert = child
        if daticert is None:
            return None
        return content, daticert, postacert
    except Exception:
        return None


def looks_like_pec(msg) -> bool:
    """Does the message carry a daticert.xml anywhere (a PEC envelope, real or hand-made)?"""
    try:
        return any((p.get_filename() or "").lower() == "daticert.xml" for p in msg.walk())
    except Exception:
        return False


def verify_signature(raw: bytes) -> tuple[bool, str]:
    """Does the S/MIME signature of the message ``raw`` verify against its signed content? (True, "") or
    (False, Italian reason). The signer's certificate chain is not checked (``-noverify``)."""
    tool = openssl()
    if tool is None:
        return False, "impossibile verificare la firma: il comando openssl non è installato"
    try:
        run = subprocess.run([tool, "smime", "-verify", "-noverify", "-out", os.devnull], input=raw,
                             capture_output=True, timeout=VERIFY_SECONDS, check=False)
    except (OSError, subprocess.SubprocessError):
        return False, "impossibile verificare la firma della busta PEC"
    if run.returncode != 0:
        return False, "la firma della busta PEC non corrisponde al contenuto (o manca)"
    return True, ""
