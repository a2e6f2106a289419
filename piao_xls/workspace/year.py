"""The year's records: checking a received file into the ledger, and the state of the year (``stato``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..core.errors import ERROR, WARNING, Finding
from ..core.model import Plan
from ..returns.feedback import feedback_text
from ..returns.reader import ACCEPTED, ACCEPTED_WITH_WARNINGS, REJECTED, WorkbookResult, read_workbook
from .ledger import Ledger
from .settings import Settings

STATUS_IT = {ACCEPTED: "accettato", ACCEPTED_WITH_WARNINGS: "accettato con avvisi", REJECTED: "da correggere",
             "missing": "mancante"}
#: how a return came in (the ledger's ``transport``, or PEC), as ``stato`` says it
HOW_IT = {"imap": "dalla casella IMAP", "maildir": "da una cartella Maildir", "mbox": "da un file mbox",
          "eml": "da un messaggio .eml", "msg": "da un messaggio di Outlook (.msg)", "cartella": "file salvato a mano",
          "pec": "per PEC"}
SOURCE_NAMES = {"nucleo": "Nucleo di Valutazione", "esterno": "Fonti esterne"}


def parties(plan: Plan) -> list[tuple[str, str, str]]:
    """(code, name, who) for every sector, then every external source the plan uses."""
    out = [(s.code, s.name, s.responsabile.display) for s in plan.sectors]
    used = {i.source for i in plan.indicators}
    out += [(src, SOURCE_NAMES[src], SOURCE_NAMES[src]) for src in ("nucleo", "esterno") if src in used]
    return out


def party_of(result: WorkbookResult) -> str:
    """The ledger's sector field for a result: the source name, or the sector codes joined by commas."""
    if result.kind == "source":
        return result.source
    return ",".join(result.sector_codes)


def with_extra(result: WorkbookResult, extra: list[Finding]) -> WorkbookResult:
    """Add findings (e.g. about the sender) and recompute the status."""
    result.findings.extend(extra)
    errors = any(f.severity == ERROR for f in result.findings)
    result.status = REJECTED if errors else ACCEPTED_WITH_WARNINGS if result.findings else ACCEPTED
    return result


def record_check(ledger: Ledger, plan: Plan, result: WorkbookResult, name: str, sector: str = "",
                 message_id: str = "", sender: str = "") -> None:
    """One check result in the ledger, with its Italian feedback note."""
    ledger.add_check(result.sha256, result.path, name, sector or party_of(result), result.status,
                     [f.to_dict() for f in result.findings], feedback_text(result, plan), message_id, sender)


def check_file(ledger: Ledger, plan: Plan, path: Path, name: str = "", extra: list[Finding] | None = None,
               sector_hint: str = "", message_id: str = "", sender: str = "") -> WorkbookResult:
    res = with_extra(read_workbook(path, plan), list(extra or []))
    record_check(ledger, plan, res, name or path.name, party_of(res) or sector_hint, message_id, sender)
    return res


@dataclass
class PartyState:
    code: str
    name: str
    who: str
    address: str
    sent_at: str = ""
    sent_to: str = ""
    sent_how: str = ""
    received_at: str = ""
    received_from: str = ""
    received_how: str = ""  # how the latest return came in: imap, maildir, mbox, eml, msg, cartella, pec
    status: str = "missing"
    file: str = ""
    last_reminder: str = ""

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def _mine(field: str, code: str) -> bool:
    return code in field.split(",")


def year_state(settings: Settings, plan: Plan, ledger: Ledger) -> list[PartyState]:
    """Per sector (and source): sent, received, the latest check's result, the last reminder."""
    messages = ledger.rows("messages")
    received = {f["sha256"] for f in ledger.rows("files", "role IN ('ricevuto', 'rifiutato')")}
    checks = [c for c in ledger.rows("checks") if c["file_sha256"] in received]  # not forms checked by hand
    out = []
    for code, name, who in parties(plan):
        st = PartyState(code, name, who, settings.address(code, plan))
        for m in messages:
            if not _mine(m["sector"], code):
                continue
            if m["direction"] == "out" and m["kind"] == "invio":
                st.sent_at, st.sent_to, st.sent_how = m["at"], m["recipient"], m["transport"]
            elif m["direction"] == "out" and m["kind"] == "sollecito":
                st.last_reminder = m["at"]
            elif m["direction"] == "in" and m["file_sha256"]:
                st.received_at, st.received_from = m["at"], m["sender"]
                st.received_how = "pec" if (json.loads(m["meta"] or "{}").get("pec") or {}) else m["transport"]
        mine = [c for c in checks if _mine(c["sector"], code)]
        if mine:  # the latest file decides (a corrected file follows a rejected one)
            st.status, st.file = mine[-1]["status"], mine[-1]["name"]
        out.append(st)
    return out


def sender_finding(settings: Settings, plan: Plan, party: str, sender: str, strict: bool, file: str) -> Finding | None:
    """A finding when ``sender`` is not allowed to return the workbook of ``party`` (None when it is)."""
    if not party:
        return None
    allowed = set()
    for code in party.split(","):
        allowed |= settings.authorized(code, plan)
    if sender.lower() in allowed:
        return None
    who = ", ".join(sorted(allowed)) or "nessun indirizzo configurato"
    return Finding("MAIL-SENDER", ERROR if strict else WARNING,
                   f"il file è stato inviato da {sender or 'mittente sconosciuto'}, che non è il Responsabile né un "
                   f"delegato per {party} (indirizzi autorizzati: {who})", file=file)
