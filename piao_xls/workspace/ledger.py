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
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypedDict, cast

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
    # monitoring rounds ('' = the year-end campaign; else the round's date, ISO) on every file, message and
    # check; and every evaluation the year published (``consolida``), with its round, date and plan version
    4: ["ALTER TABLE files ADD COLUMN round TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE messages ADD COLUMN round TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE checks ADD COLUMN round TEXT NOT NULL DEFAULT ''",
        "CREATE TABLE IF NOT EXISTS evaluations (id INTEGER PRIMARY KEY, at TEXT NOT NULL, "
        "round TEXT NOT NULL DEFAULT '', as_of TEXT NOT NULL DEFAULT '', plan_fingerprint TEXT NOT NULL, "
        "digest TEXT NOT NULL, summary TEXT NOT NULL DEFAULT '', figures TEXT NOT NULL DEFAULT '{}')"],
    # what each check found filled in, per sector (JSON {code: digest of the values}): two files with the same
    # values are one return for ``stato`` as for the evaluation, whatever their bytes
    5: ["ALTER TABLE checks ADD COLUMN signatures TEXT NOT NULL DEFAULT '{}'"],
}
SCHEMA_VERSION = max(MIGRATIONS)
TABLES = ("events", "files", "messages", "checks", "workspace", "versions", "evaluations")

#: the year-end campaign's round (a monitoring round is named by its date, ``2025-06-30``)
YEAR_END = ""


class EventRow(TypedDict):
    id: int
    at: str
    command: str
    detail: str  # JSON


class FileRow(TypedDict):
    id: int
    at: str
    sha256: str
    role: str
    path: str
    size: int
    sector: str
    name: str
    round: str


class MessageRow(TypedDict):
    id: int
    at: str
    day: str
    direction: str  # 'in' | 'out'
    kind: str
    sector: str
    sender: str
    recipient: str
    subject: str
    message_id: str
    in_reply_to: str
    file_sha256: str
    transport: str
    location: str
    raw_sha256: str
    meta: str  # JSON
    round: str


class CheckRow(TypedDict):
    id: int
    at: str
    file_sha256: str
    path: str
    name: str
    sector: str
    status: str
    findings: str  # JSON
    feedback: str
    message_id: str
    sender: str
    plan_fingerprint: str
    round: str
    signatures: str  # JSON {sector code: digest of the values filled in}


class VersionRow(TypedDict):
    id: int
    at: str
    number: int
    fingerprint: str
    path: str
    sha256: str
    act: str
    act_date: str
    reason: str
    organ: str
    act_number: str


class EvaluationRow(TypedDict):
    id: int
    at: str
    round: str
    as_of: str
    plan_fingerprint: str
    digest: str
    summary: str
    figures: str  # JSON


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
                    if statement.startswith("ALTER TABLE") and self._has_column(statement):
                        continue  # a ledger written while the column was being introduced
                    self.db.executescript(statement) if ";" in statement else self.db.execute(statement)
                self.db.execute(f"PRAGMA user_version = {v}")
        for t in TABLES:
            for op in ("DELETE", "UPDATE"):
                self.db.execute(f"CREATE TRIGGER IF NOT EXISTS {t}_no_{op.lower()} BEFORE {op} ON {t} "
                                "BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END")
        self.db.commit()

    def _columns(self, table: str) -> set[str]:
        return {r[1] for r in self.db.execute(f"PRAGMA table_info({table})")}

    def _has_column(self, alter: str) -> bool:
        words = alter.split()  # ALTER TABLE <t> ADD COLUMN <c> ...
        return words[5] in self._columns(words[2])

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
        return cast(int, cur.lastrowid)  # an INSERT sets it

    def add_event(self, command: str, **detail) -> int:
        return self._insert("events", command=command, detail=json.dumps(detail, ensure_ascii=False, default=str))

    def add_file(self, sha256: str, role: str, path: str | Path, size: int, sector: str = "", name: str = "",
                 round: str = YEAR_END) -> int:
        return self._insert("files", sha256=sha256, role=role, path=str(path), size=size, sector=sector, name=name,
                            round=round)

    def add_message(self, direction: str, kind: str, *, day: str, sector: str = "", sender: str = "",
                    recipient: str = "", subject: str = "", message_id: str = "", in_reply_to: str = "",
                    file_sha256: str = "", transport: str = "", location: str = "", raw_sha256: str = "",
                    meta: dict | None = None, at: str | None = None, round: str = YEAR_END) -> int:
        return self._insert("messages", at=at or now(), day=day, direction=direction, kind=kind, sector=sector,
                            sender=sender, recipient=recipient, subject=subject, message_id=message_id,
                            in_reply_to=in_reply_to, file_sha256=file_sha256, transport=transport,
                            location=location, raw_sha256=raw_sha256,
                            meta=json.dumps(meta or {}, ensure_ascii=False, default=str), round=round)

    def add_check(self, file_sha256: str, path: str, name: str, sector: str, status: str, findings: list[dict],
                  feedback: str = "", message_id: str = "", sender: str = "", plan_fingerprint: str = "",
                  round: str = YEAR_END, signatures: dict[str, str] | None = None) -> int:
        return self._insert("checks", file_sha256=file_sha256, path=path, name=name, sector=sector, status=status,
                            findings=json.dumps(findings, ensure_ascii=False, default=str), feedback=feedback,
                            message_id=message_id, sender=sender, plan_fingerprint=plan_fingerprint, round=round,
                            signatures=json.dumps(signatures or {}, sort_keys=True))

    def add_evaluation(self, plan_fingerprint: str, digest: str, *, round: str = YEAR_END, as_of: str = "",
                       summary: str = "", figures: dict | None = None) -> int:
        """An evaluation the year published: its round, the date it is at (``as_of``, ISO; '' = every return),
        the plan version (fingerprint), the digest of its results document and the file it was written to."""
        return self._insert("evaluations", round=round, as_of=as_of, plan_fingerprint=plan_fingerprint,
                            digest=digest, summary=summary,
                            figures=json.dumps(figures or {}, ensure_ascii=False, default=str, sort_keys=True))

    # --- queries: typed, by keyword (no SQL leaves this module) ------------------------------------

    def _select(self, table: str, filters: dict[str, Any], extra: str = "", args: Iterable[Any] = ()) -> list[Any]:
        """Rows of ``table`` whose columns equal ``filters`` (a ``None`` filter is no filter; a tuple is any of
        its values), in the order they were written."""
        clauses: list[str] = []
        params: list[Any] = []
        for col, want in filters.items():
            if want is None:
                continue
            if isinstance(want, tuple):
                clauses.append(f"{col} IN ({', '.join('?' * len(want))})" if want else "0")
                params.extend(want)
            else:
                clauses.append(f"{col} = ?")
                params.append(want)
        if extra:
            clauses.append(extra)
            params.extend(args)
        sql = f"SELECT * FROM {table}" + (f" WHERE {' AND '.join(clauses)}" if clauses else "") + " ORDER BY id"
        return [dict(r) for r in self.db.execute(sql, params)]

    def events(self, command: str | None = None) -> list[EventRow]:
        return cast(list[EventRow], self._select("events", {"command": command}))

    def files(self, role: str | tuple[str, ...] | None = None, *, sha256: str | None = None,
              round: str | None = YEAR_END) -> list[FileRow]:
        """Files recorded (``round``: the year-end campaign by default, a round's date, or ``None``: all)."""
        return cast(list[FileRow], self._select("files", {"role": role, "sha256": sha256, "round": round}))

    def messages(self, direction: str | None = None, kind: str | None = None, *, sector: str | None = None,
                 day: str | None = None, message_id: str | None = None, file_sha256: str | None = None,
                 raw_sha256: str | None = None, with_file: bool = False,
                 round: str | None = YEAR_END) -> list[MessageRow]:
        """Messages sent and received (``with_file``: only those that carried a workbook; ``round`` as
        :meth:`files`)."""
        return cast(list[MessageRow], self._select(
            "messages", {"direction": direction, "kind": kind, "sector": sector, "day": day,
                         "message_id": message_id, "file_sha256": file_sha256, "raw_sha256": raw_sha256,
                         "round": round}, "file_sha256 != ''" if with_file else ""))

    def received_before(self, raw_sha256: str, message_id: str) -> list[MessageRow]:
        """Incoming messages with these raw bytes, or with this Message-ID (when it has one): already collected."""
        return cast(list[MessageRow], self._select(
            "messages", {"direction": "in"}, "(raw_sha256 = ? OR (message_id != '' AND message_id = ?))",
            (raw_sha256, message_id)))

    def checks(self, round: str | None = YEAR_END) -> list[CheckRow]:
        return cast(list[CheckRow], self._select("checks", {"round": round}))

    def last_check(self) -> CheckRow | None:
        r = self.db.execute("SELECT * FROM checks ORDER BY id DESC LIMIT 1").fetchone()
        return cast(CheckRow, dict(r)) if r else None

    def versions(self) -> list[VersionRow]:
        return cast(list[VersionRow], self._select("versions", {}))

    def evaluations(self, round: str | None = None) -> list[EvaluationRow]:
        return cast(list[EvaluationRow], self._select("evaluations", {"round": round}))

    def has_file(self, sha256: str, role: str) -> FileRow | None:
        r = self.db.execute("SELECT * FROM files WHERE sha256 = ? AND role = ? ORDER BY id LIMIT 1",
                            (sha256, role)).fetchone()
        return cast(FileRow, dict(r)) if r else None

    def has_message(self, message_id: str, direction: str) -> bool:
        return self.db.execute("SELECT 1 FROM messages WHERE message_id = ? AND direction = ? LIMIT 1",
                               (message_id, direction)).fetchone() is not None

    def counts(self) -> dict[str, int]:
        return {t: self.db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES if t != "workspace"}

    def add_version(self, number: int, fingerprint: str, path: str, sha256: str, act: str, act_date: str,
                    reason: str = "", organ: str = "", act_number: str = "") -> int:
        return self._insert("versions", number=number, fingerprint=fingerprint, path=path, sha256=sha256, act=act,
                            act_date=act_date, reason=reason, organ=organ, act_number=act_number)
