"""The ledger: an append-only SQLite record of the year (every message, every file, every check).

Nothing is ever deleted or changed: triggers refuse DELETE and UPDATE on every table. The state of
the year (``stato``) is computed from the latest rows.

The ledger carries its schema version (``PRAGMA user_version``; older ledgers are migrated on opening, a
newer one is refused) and the identity of its workspace (comune and year, in the ``workspace`` table). A
ledger is created only when asked (``create=True``: ``init``, ``registro nuovo``); a missing ledger, or one
of another workspace, is a :class:`LedgerError` with an Italian message saying how to restore it.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY, at TEXT NOT NULL, command TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '{}');
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY, at TEXT NOT NULL, sha256 TEXT NOT NULL, role TEXT NOT NULL, path TEXT NOT NULL,
    size INTEGER NOT NULL, sector TEXT NOT NULL DEFAULT '', name TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY, at TEXT NOT NULL, day TEXT NOT NULL, direction TEXT NOT NULL, kind TEXT NOT NULL,
    sector TEXT NOT NULL DEFAULT '', sender TEXT NOT NULL DEFAULT '', recipient TEXT NOT NULL DEFAULT '',
    subject TEXT NOT NULL DEFAULT '', message_id TEXT NOT NULL DEFAULT '', in_reply_to TEXT NOT NULL DEFAULT '',
    file_sha256 TEXT NOT NULL DEFAULT '', transport TEXT NOT NULL DEFAULT '', location TEXT NOT NULL DEFAULT '',
    raw_sha256 TEXT NOT NULL DEFAULT '', meta TEXT NOT NULL DEFAULT '{}');
CREATE TABLE IF NOT EXISTS checks (
    id INTEGER PRIMARY KEY, at TEXT NOT NULL, file_sha256 TEXT NOT NULL, path TEXT NOT NULL, name TEXT NOT NULL,
    sector TEXT NOT NULL DEFAULT '', status TEXT NOT NULL, findings TEXT NOT NULL DEFAULT '[]',
    feedback TEXT NOT NULL DEFAULT '', message_id TEXT NOT NULL DEFAULT '', sender TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS files_sha ON files(sha256, role);
CREATE INDEX IF NOT EXISTS messages_mid ON messages(message_id);
"""
# schema version -> the statements that bring a ledger of the version before to it
MIGRATIONS: dict[int, list[str]] = {
    1: [SCHEMA, "CREATE TABLE IF NOT EXISTS workspace (key TEXT PRIMARY KEY, value TEXT NOT NULL)"],
    2: ["ALTER TABLE checks ADD COLUMN plan_fingerprint TEXT NOT NULL DEFAULT ''",
        "CREATE INDEX IF NOT EXISTS messages_file ON messages(file_sha256)"],
    # plan versions (workspace/versions.py): the adoption and every revision, with its act
    3: ["CREATE TABLE IF NOT EXISTS versions (id INTEGER PRIMARY KEY, at TEXT NOT NULL, number INTEGER NOT NULL, "
        "fingerprint TEXT NOT NULL, path TEXT NOT NULL, sha256 TEXT NOT NULL, act TEXT NOT NULL, "
        "act_date TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '', organ TEXT NOT NULL DEFAULT '', "
        "act_number TEXT NOT NULL DEFAULT '')"],
}
SCHEMA_VERSION = max(MIGRATIONS)
TABLES = ("events", "files", "messages", "checks", "workspace", "versions")


class AppendOnly(Exception):
    pass


class LedgerError(Exception):
    """The ledger cannot be used: missing, of another workspace, newer than this program (Italian message)."""


def _identity_text(identity: dict[str, str]) -> str:
    return f"Comune di {identity.get('comune', '?')}, anno {identity.get('anno', '?')}"


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class Ledger:
    """``with Ledger(path) as led: led.add_message(...)``; every ``add_*`` commits at once."""

    def __init__(self, path: str | Path, create: bool = False, identity: dict[str, str] | None = None):
        """Open the ledger at ``path`` (``create``: make it when missing). ``identity`` (comune, anno) is the
        workspace's: stored in a ledger that has none, compared with the one a ledger has."""
        self.path = Path(path)
        if not create and (not self.path.is_file() or self.path.stat().st_size == 0):
            raise LedgerError(f"il registro {self.path} non esiste: ogni invio, ricezione e verifica dell'anno è "
                              "scritto lì. Ripristinarlo dalla copia di sicurezza dell'area di lavoro; solo se non "
                              "esiste una copia, «piao-xls registro nuovo» crea un registro vuoto (tutti i moduli "
                              "risulteranno non inviati e non ricevuti)")
        try:
            self.db = sqlite3.connect(self.path)
            self.db.row_factory = sqlite3.Row
            self._migrate()
        except sqlite3.DatabaseError as e:
            raise LedgerError(f"il registro {self.path} non è leggibile ({e}): ripristinarlo dalla copia di "
                              "sicurezza dell'area di lavoro") from e
        if identity:
            self._identify(identity)

    def _migrate(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            self.db.close()
            raise LedgerError(f"il registro {self.path} è stato scritto da una versione più recente di piao-xls "
                              f"(schema {version}, questa versione legge fino allo schema {SCHEMA_VERSION}): "
                              "aggiornare piao-xls")
        for v in range(version + 1, SCHEMA_VERSION + 1):
            with self.db:
                for statement in MIGRATIONS[v]:
                    if v == 2 and statement.startswith("ALTER") and "plan_fingerprint" in self._columns("checks"):
                        continue
                    self.db.executescript(statement) if ";" in statement else self.db.execute(statement)
                self.db.execute(f"PRAGMA user_version = {v}")
        for t in TABLES:
            for op in ("DELETE", "UPDATE"):
                self.db.execute(f"CREATE TRIGGER IF NOT EXISTS {t}_no_{op.lower()} BEFORE {op} ON {t} "
                                "BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END")
        self.db.commit()

    def _columns(self, table: str) -> set[str]:
        return {r[1] for r in self.db.execute(f"PRAGMA table_info({table})")}

    @property
    def version(self) -> int:
        return self.db.execute("PRAGMA user_version").fetchone()[0]

    def identity(self) -> dict[str, str]:
        return {r["key"]: r["value"] for r in self.db.execute("SELECT key, value FROM workspace ORDER BY key")}

    def _identify(self, identity: dict[str, str]) -> None:
        mine = self.identity()
        if not mine:  # a new ledger, or one written before ledgers had an identity: it takes the workspace's
            with self.db:
                for k, v in sorted(identity.items()):
                    self.db.execute("INSERT INTO workspace (key, value) VALUES (?, ?)", (k, str(v)))
            return
        differ = {k for k, v in identity.items() if k in mine and mine[k] != str(v)}
        if differ:
            self.db.close()
            raise LedgerError(f"il registro {self.path} appartiene a un'altra area di lavoro ({_identity_text(mine)}"
                              f", questa è {_identity_text({k: str(v) for k, v in identity.items()})}): "
                              "spostarlo altrove e ripristinare il registro di questa area di lavoro dalla copia "
                              "di sicurezza (oppure, se non esiste, «piao-xls registro nuovo»)")

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()

    def _insert(self, table: str, **values) -> int:
        values.setdefault("at", now())
        cols = ", ".join(values)
        cur = self.db.execute(f"INSERT INTO {table} ({cols}) VALUES ({', '.join('?' * len(values))})",
                              list(values.values()))
        self.db.commit()
        return cur.lastrowid

    def add_event(self, command: str, **detail) -> int:
        return self._insert("events", command=command, detail=json.dumps(detail, ensure_ascii=False, default=str))

    def add_file(self, sha256: str, role: str, path: str | Path, size: int, sector: str = "", name: str = "") -> int:
        return self._insert("files", sha256=sha256, role=role, path=str(path), size=size, sector=sector, name=name)

    def add_message(self, direction: str, kind: str, *, day: str, sector: str = "", sender: str = "",
                    recipient: str = "", subject: str = "", message_id: str = "", in_reply_to: str = "",
                    file_sha256: str = "", transport: str = "", location: str = "", raw_sha256: str = "",
                    meta: dict | None = None, at: str | None = None) -> int:
        return self._insert("messages", at=at or now(), day=day, direction=direction, kind=kind, sector=sector,
                            sender=sender, recipient=recipient, subject=subject, message_id=message_id,
                            in_reply_to=in_reply_to, file_sha256=file_sha256, transport=transport,
                            location=location, raw_sha256=raw_sha256,
                            meta=json.dumps(meta or {}, ensure_ascii=False, default=str))

    def add_check(self, file_sha256: str, path: str, name: str, sector: str, status: str, findings: list[dict],
                  feedback: str = "", message_id: str = "", sender: str = "", plan_fingerprint: str = "") -> int:
        return self._insert("checks", file_sha256=file_sha256, path=path, name=name, sector=sector, status=status,
                            findings=json.dumps(findings, ensure_ascii=False, default=str), feedback=feedback,
                            message_id=message_id, sender=sender, plan_fingerprint=plan_fingerprint)

    # --- queries -----------------------------------------------------------------------

    def rows(self, table: str, where: str = "", *args) -> list[dict]:
        if table not in TABLES:
            raise ValueError(table)
        sql = f"SELECT * FROM {table}" + (f" WHERE {where}" if where else "") + " ORDER BY id"
        return [dict(r) for r in self.db.execute(sql, args)]

    def has_file(self, sha256: str, role: str) -> dict | None:
        r = self.db.execute("SELECT * FROM files WHERE sha256 = ? AND role = ? ORDER BY id LIMIT 1",
                            (sha256, role)).fetchone()
        return dict(r) if r else None

    def has_message(self, message_id: str, direction: str) -> bool:
        return self.db.execute("SELECT 1 FROM messages WHERE message_id = ? AND direction = ? LIMIT 1",
                               (message_id, direction)).fetchone() is not None

    def counts(self) -> dict[str, int]:
        return {t: self.db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES if t != "workspace"}

    def add_version(self, number: int, fingerprint: str, path: str, sha256: str, act: str, act_date: str,
                    reason: str = "", organ: str = "", act_number: str = "") -> int:
        return self._insert("versions", number=number, fingerprint=fingerprint, path=path, sha256=sha256, act=act,
                            act_date=act_date, reason=reason, organ=organ, act_number=act_number)
