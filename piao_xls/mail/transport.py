"""Two ways out: ``.eml`` drafts in a folder (the default) or SMTP (STARTTLS or TLS, with authentication)."""

from __future__ import annotations

import contextlib
import hashlib
import re
import smtplib
import ssl
from email.message import EmailMessage
from pathlib import Path

from ..sheetio.atomic import write_bytes_atomic
from ..sheetio.oserrors import os_reason
from ..workspace.settings import Server


class MailError(Exception):
    """A mail server could not be reached or refused us (Italian message)."""


def tls_context(server: Server) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=server.ca or None)
    return ctx


class Drafts:
    """Write each message as an .eml file, marked unsent (Outlook and Thunderbird open it as a draft)."""

    name = "bozze"

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def __enter__(self) -> Drafts:
        return self

    def __exit__(self, *exc) -> None:
        return None

    def deliver(self, msg: EmailMessage, label: str) -> str:
        data = msg.as_bytes()
        tag = hashlib.sha256(str(msg["Message-ID"]).encode()).hexdigest()[:10]
        path = self.folder / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', label)[:80]}-{tag}.eml"
        write_bytes_atomic(path, data)
        return str(path)


class Smtp:
    """Send through an SMTP server; one connection for a whole run."""

    name = "smtp"

    def __init__(self, server: Server, password: str | None):
        if not server.host:
            raise MailError("server SMTP non configurato: indicare [smtp] host nel file delle impostazioni")
        self.server, self.password = server, password
        self.conn: smtplib.SMTP | None = None

    def __enter__(self) -> Smtp:
        s = self.server
        try:
            if s.security == "tls":
                self.conn = smtplib.SMTP_SSL(s.host, s.port or 465, context=tls_context(s), timeout=30)
            else:
                self.conn = conn = smtplib.SMTP(s.host, s.port or 587, timeout=30)
                if s.security == "starttls":
                    conn.starttls(context=tls_context(s))
            if s.user:
                self._login(s.user, self.password or "")
        except smtplib.SMTPAuthenticationError as e:
            raise MailError(f"il server SMTP {s.host} ha rifiutato utente o password ({e.smtp_code})") from e
        except (OSError, smtplib.SMTPException, ssl.SSLError) as e:
            why = os_reason(e) if isinstance(e, OSError) else str(e)
            raise MailError(f"impossibile collegarsi al server SMTP {s.host}:{s.port}: {why}") from e
        return self

    def _open(self) -> smtplib.SMTP:
        """The connection ``with Smtp(...)`` opened."""
        if self.conn is None:
            raise RuntimeError("Smtp used outside its with block")
        return self.conn

    def _login(self, user: str, password: str) -> None:
        """AUTH PLAIN when offered (one attempt: a refused password is not retried with other mechanisms)."""
        conn = self._open()
        conn.ehlo_or_helo_if_needed()
        if "plain" in conn.esmtp_features.get("auth", "").lower().split():
            conn.user, conn.password = user, password
            code, resp = conn.auth("PLAIN", conn.auth_plain, initial_response_ok=True)
            if code != 235:
                raise smtplib.SMTPAuthenticationError(code, resp)
            return
        conn.login(user, password)

    def __exit__(self, *exc) -> None:
        if self.conn is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self.conn.quit()

    def deliver(self, msg: EmailMessage, label: str) -> str:
        try:
            refused = self._open().send_message(msg)
        except (OSError, smtplib.SMTPException) as e:
            why = os_reason(e) if isinstance(e, OSError) else str(e)
            raise MailError(f"invio non riuscito a {msg['To']}: {why}") from e
        if refused:
            raise MailError(f"il server SMTP ha rifiutato il destinatario {msg['To']}")
        return f"smtp:{self.server.host}:{self.server.port}"
