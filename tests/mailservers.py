"""Real mail servers for the tests, on 127.0.0.1 only: Dovecot (IMAP) and aiosmtpd (SMTP).

- :class:`Dovecot` starts the Debian ``dovecot`` binary with a throwaway configuration (its own base,
  state and mail folders in a temporary directory, a loopback port, STARTTLS with a certificate the
  test made); no system service and no root-owned path is used. Messages are delivered with IMAP APPEND.
- :class:`SmtpServer` runs aiosmtpd with STARTTLS required and AUTH (PLAIN/LOGIN) required.
- :func:`make_cert` makes a self-signed certificate for 127.0.0.1 with the ``openssl`` command.

Missing Dovecot skips the test locally but fails it under ``CI=true`` (:func:`require_dovecot`).
"""

from __future__ import annotations

import contextlib
import imaplib
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from pathlib import Path

DOVECOT = shutil.which("dovecot") or ("/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None)


def require_dovecot() -> str:
    import pytest

    if DOVECOT and shutil.which("openssl"):
        return DOVECOT
    msg = "Dovecot (apt-get install dovecot-imapd) or openssl not installed"
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail(msg + " (CI=true: the IMAP tests are mandatory)", pytrace=False)
    pytest.skip(msg)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_cert(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate (and key) valid for 127.0.0.1 and localhost."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True)
    return cert, key


class Dovecot:
    """``with Dovecot() as d:`` a running IMAP server; ``d.user``/``d.password``, ``d.port``, ``d.cert``."""

    user, password = "ragioneria", "segreta-di-prova"

    def __init__(self):
        self.binary = require_dovecot()
        self.dir = Path(tempfile.mkdtemp(prefix="piao-dovecot-"))
        self.port = free_port()
        self.tls_port = free_port()  # implicit TLS (imaps)
        self.proc = None

    def _ids(self) -> tuple[str, int, int, str]:
        if os.getuid() != 0:
            me = pwd.getpwuid(os.getuid())
            return me.pw_name, me.pw_uid, me.pw_gid, me.pw_name
        # as root: mail processes may not run as root; use nobody and the packaged internal users
        nobody = pwd.getpwnam("nobody")
        return "dovecot", nobody.pw_uid, nobody.pw_gid, "dovenull"

    def __enter__(self) -> Dovecot:
        d = self.dir
        os.chmod(d, 0o755)
        self.cert, key = make_cert(d)
        internal, uid, gid, login = self._ids()
        self.home = d / "home" / self.user
        (self.home / "Maildir").mkdir(parents=True)
        for p in (d / "home", self.home, self.home / "Maildir"):
            os.chown(p, uid, gid) if os.getuid() == 0 else None
        (d / "passwd").write_text(f"{self.user}:{{PLAIN}}{self.password}::::::\n")
        os.chmod(key, 0o644)
        (d / "run").mkdir()
        (d / "state").mkdir()
        conf = d / "dovecot.conf"
        conf.write_text(f"""
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
protocols = imap
listen = 127.0.0.1
default_internal_user = {internal}
default_login_user = {login}
first_valid_uid = {uid}
last_valid_uid = 0
ssl = yes
ssl_cert = <{self.cert}
ssl_key = <{key}
disable_plaintext_auth = yes
auth_mechanisms = plain login
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={d}/home/%u
}}
mail_location = maildir:~/Maildir
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.tls_port}
    ssl = yes
  }}
  chroot =
}}
service anvil {{
  chroot =
}}
service auth {{
  unix_listener auth-userdb {{
    mode = 0666
  }}
}}
""")
        self.proc = subprocess.Popen([self.binary, "-F", "-c", str(conf)], stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dovecot exited: {self.proc.stdout.read().decode(errors='replace')} "
                                   f"{self.log()}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return self
            time.sleep(0.1)
        self.__exit__()
        raise RuntimeError(f"dovecot did not start: {self.log()}")

    def log(self) -> str:
        p = self.dir / "dovecot.log"
        return p.read_text(errors="replace") if p.exists() else ""

    def __exit__(self, *exc) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def connect(self) -> imaplib.IMAP4:
        conn = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        conn.starttls(ssl_context=ssl.create_default_context(cafile=str(self.cert)))
        conn.login(self.user, self.password)
        return conn

    def deliver(self, raw: bytes, folder: str = "INBOX") -> None:
        conn = self.connect()
        try:
            if folder != "INBOX":
                conn.create(f'"{folder}"')
            typ, data = conn.append(f'"{folder}"', None, None, raw)
            assert typ == "OK", data
        finally:
            conn.logout()

    def snapshot(self, folder: str = "INBOX") -> dict:
        """What a mailbox change would alter: per UID its flags and size (read with EXAMINE), and the message
        files of the Maildir (names carry the flags)."""
        conn = self.connect()
        try:
            conn.select(f'"{folder}"', readonly=True)
            _, data = conn.uid("FETCH", "1:*", "(FLAGS RFC822.SIZE)")
            imap = sorted(x.decode() for x in data if isinstance(x, bytes))
        finally:
            conn.logout()
        box = self.home / "Maildir" / ("" if folder == "INBOX" else "." + folder)
        files = sorted(str(p.relative_to(box)) for sub in ("cur", "new") for p in (box / sub).iterdir())
        return {"imap": imap, "files": files}


class SmtpServer:
    """aiosmtpd on 127.0.0.1 requiring STARTTLS and AUTH; ``messages`` holds (envelope, session facts)."""

    user, password = "ragioneria", "altra-segreta"

    def __init__(self, folder: Path, implicit_tls: bool = False):
        self.folder = Path(folder)
        self.implicit_tls = implicit_tls
        self.messages: list[dict] = []
        self.port = free_port()

    def __enter__(self) -> SmtpServer:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult, LoginPassword

        self.cert, key = make_cert(self.folder)
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(str(self.cert), str(key))
        outer = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                outer.messages.append({"from": envelope.mail_from, "to": list(envelope.rcpt_tos),
                                       "data": envelope.original_content or envelope.content,
                                       "auth": session.authenticated,
                                       "tls": session.ssl is not None  # STARTTLS, or implicit TLS:
                                       or server.transport.get_extra_info("ssl_object") is not None})
                return "250 OK"

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == outer.user
                  and auth_data.password.decode() == outer.password)
            return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535 itself

        # implicit TLS: the whole connection is TLS (aiosmtpd's auth_require_tls only knows STARTTLS)
        tls = ({"ssl_context": ctx, "auth_require_tls": False} if self.implicit_tls else
               {"tls_context": ctx, "require_starttls": True, "auth_require_tls": True})
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port, auth_required=True,
                                     authenticator=authenticator, **tls)
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()
