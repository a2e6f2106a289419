"""PEC envelopes as providers send them: ``multipart/signed`` (S/MIME, signed by the provider with the ``openssl``
command and a test certificate) around the provider's text, ``postacert.eml`` (the original message) and
``daticert.xml``. Also the hand-made look-alikes an attacker can write: the same parts, unsigned or with a
signature that does not match.
"""

from __future__ import annotations

import functools
import subprocess
import tempfile
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from pathlib import Path
from xml.sax.saxutils import escape

OFFICE = "ragioneria@example.invalid"

DATICERT = """<?xml version="1.0" encoding="UTF-8"?>
<postacert tipo="{tipo}" errore="nessuno">
  <intestazione>
    <mittente>{sender}</mittente>
    <destinatari tipo="certificato">{to}</destinatari>
    <risposte>{sender}</risposte>
    <oggetto>{subject}</oggetto>
  </intestazione>
  <dati>
    <gestore-emittente>Gestore PEC di prova</gestore-emittente>
    <data zona="+0100"><giorno>20/01/2026</giorno><ora>10:15:02</ora></data>
    <identificativo>opec21.20260120101502.12345.67.1.1@pec.example.invalid</identificativo>
    <msgid>{msgid}</msgid>
  </dati>
</postacert>
"""


@functools.cache
def provider_key() -> tuple[Path, Path]:
    """A self-signed certificate and key of a test PEC provider (made once per run)."""
    folder = Path(tempfile.mkdtemp(prefix="piao-pec-"))
    cert, key = folder / "gestore.pem", folder / "gestore.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "2", "-subj", "/CN=Gestore PEC di prova/emailAddress=posta-certificata@pec.example.invalid"],
                   check=True, capture_output=True)
    return cert, key


def envelope_content(original: EmailMessage, sender: str, tipo: str = "posta-certificata") -> EmailMessage:
    """The part a provider signs: its text, daticert.xml and the original as postacert.eml."""
    inner = EmailMessage()
    inner.set_content(f"Messaggio di posta certificata\nIl giorno 20/01/2026 alle ore 10:15:02 il messaggio "
                      f"\"{original['Subject']}\" è stato inviato da \"{sender}\".")
    fields = {k: escape(str(v)) for k, v in (("sender", sender), ("to", OFFICE), ("subject", original["Subject"]),
                                             ("msgid", original["Message-ID"]), ("tipo", tipo))}
    inner.add_attachment(DATICERT.format(**fields).encode(), maintype="application", subtype="xml",
                         filename="daticert.xml")
    inner.add_attachment(original, filename="postacert.eml")
    del inner["MIME-Version"]
    return inner


def _outer_headers(sender: str, subject: str) -> list[tuple[str, str]]:
    return [("From", f'"Per conto di: {sender}" <posta-certificata@pec.example.invalid>'), ("To", OFFICE),
            ("Subject", f"POSTA CERTIFICATA: {subject}"),
            ("Message-ID", "<opec21.20260120101502.12345.67.1.1@pec.example.invalid>"),
            ("X-Trasporto", "posta-certificata")]


def signed_pec(original: EmailMessage, certified: str = "", tipo: str = "posta-certificata") -> Message:
    """A PEC envelope signed by the test provider. ``certified``: the sender's PEC address (default: the
    original's From). Parsed with the compat32 policy: ``as_bytes()`` gives back the signed bytes."""
    sender = certified or str(original["From"])
    content = envelope_content(original, sender, tipo).as_bytes(policy=policy.SMTP)
    cert, key = provider_key()
    signed = subprocess.run(["openssl", "smime", "-sign", "-signer", str(cert), "-inkey", str(key)],
                            input=content, check=True, capture_output=True).stdout
    head = "".join(f"{k}: {v}\r\n" for k, v in _outer_headers(sender, str(original["Subject"])))
    return message_from_bytes(head.encode() + signed, policy=policy.compat32)


def unsigned_pec(original: EmailMessage, certified: str = "", signature: bytes = b"0\x82\x01\x00fake") -> EmailMessage:
    """A hand-made look-alike: the parts of a PEC envelope in a plain multipart/mixed, with a signature part
    that signs nothing."""
    sender = certified or str(original["From"])
    env = EmailMessage()
    for k, v in _outer_headers(sender, str(original["Subject"])):
        env[k] = v
    env.set_content(f"Messaggio di posta certificata: \"{original['Subject']}\" inviato da \"{sender}\".")
    fields = {k: escape(str(v)) for k, v in (("sender", sender), ("to", OFFICE), ("subject", original["Subject"]),
                                             ("msgid", original["Message-ID"]), ("tipo", "posta-certificata"))}
    env.add_attachment(DATICERT.format(**fields).encode(), maintype="application", subtype="xml",
                       filename="daticert.xml")
    env.add_attachment(original, filename="postacert.eml")
    env.add_attachment(signature, maintype="application", subtype="pkcs7-signature", filename="smime.p7s")
    return env


def tampered_pec(original: EmailMessage, certified: str, claimed: str) -> bytes:
    """A real envelope signed by the provider for ``certified``, whose signed content was then replaced by one
    naming ``claimed`` as the certified sender: the signature no longer matches."""
    real = envelope_content(original, certified).as_bytes(policy=policy.SMTP)
    forged = envelope_content(original, claimed).as_bytes(policy=policy.SMTP)
    cert, key = provider_key()
    signed = subprocess.run(["openssl", "smime", "-sign", "-signer", str(cert), "-inkey", str(key)],
                            input=real, check=True, capture_output=True).stdout
    assert real in signed
    head = "".join(f"{k}: {v}\r\n" for k, v in _outer_headers(claimed, str(original["Subject"])))
    return head.encode() + signed.replace(real, forged, 1)
