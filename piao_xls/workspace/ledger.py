"""The ledger: an append-only SQLite record of the year (every message, every file, every check).

Nothing is ever deleted or changed: triggers refuse DELETE and UPDATE on every table. The state of
the year (``stato``) is computed from the latest rows.
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
TABLES = ("events", "files", "messages", "checks")


class AppendOnly(Exception):
    pass


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class Ledger:
    """``with Ledger(path) as led: led.add_message(...)``; every ``add_*`` commits at once."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.db = sqlite3.connect(self.path)
        self.db.row_factory = sqlite3.Row
        self.db.executescript(SCHEMA)
        for t in TABLES:
            for op in ("DELETE", "UPDATE"):
                self.db.execute(f"CREATE TRIGGER IF NOT EXISTS {t}_no_{op.lower()} BEFORE {op} ON {t} "
                                "BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END")
        self.db.commit()

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
                  feedback: str = "", message_id: str = "", sender: str = "") -> int:
        return self._insert("checks", file_sha256=file_sha256, path=path, name=name, sector=sector, status=status,
                            findings=json.dumps(findings, ensure_ascii=False, default=str), feedback=feedback,
                            message_id=message_id, sender=sender)

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
        return {t: self.db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES}
