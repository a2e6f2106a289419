"""The year's records: checking a received file into the ledger, and the state of the year (``stato``)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..core.errors import ERROR, WARNING, Finding
from ..core.model import Plan
from ..returns.feedback import feedback_text
from ..returns.reader import ACCEPTED, ACCEPTED_WITH_WARNINGS, REJECTED, WorkbookResult
from ..returns.versions import read_on_versions
from .ledger import Ledger
from .planversions import usable_versions
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
                     [f.to_dict() for f in result.findings], feedback_text(result, plan), message_id, sender,
                     plan.fingerprint)


def check_file(ledger: Ledger, plan: Plan, path: Path, name: str = "", extra: list[Finding] | None = None,
               sector_hint: str = "", message_id: str = "", sender: str = "") -> WorkbookResult:
    res = with_extra(read_on_versions(path, plan, usable_versions(ledger)), list(extra or []))
    record_check(ledger, plan, res, name or path.name, party_of(res) or sector_hint, message_id, sender)
    return res


# --- where the year's outputs go, and what the ledger records about them -----------------------------------

#: outside a workspace, the forms go here (and the results next to them, never among them)
OUTPUT = Path("output")
GENERATED = "generato"  # the ledger's kind of a form written by ``generate`` (and by ``send`` when it writes one)
SUMMARY = "riepilogo"


def forms_folder(settings: Settings | None) -> Path:
    """Where ``generate`` writes the forms: the workspace's moduli/, else output/."""
    return settings.folder("moduli") if settings is not None else OUTPUT


def results_file(settings: Settings | None, plan: Plan, name: str) -> Path:
    """Where a result of the year (summary, Relazione) goes: the workspace's risultati/; outside one,
    output/<year>-risultati/, next to the forms but never among them (a later «consolidate output/<year>» must
    not read the summary back as a returned form)."""
    folder = settings.folder("risultati") if settings is not None else OUTPUT / f"{plan.year}-risultati"
    return folder / name


def summary_file(settings: Settings | None, plan: Plan) -> Path:
    return results_file(settings, plan, f"PIAO-{plan.year}-Riepilogo.xlsx")


def relazione_file(settings: Settings | None, plan: Plan) -> Path:
    return results_file(settings, plan, f"PIAO-{plan.year}-Relazione-Performance.docx")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def record_generated(ledger: Ledger, plan: Plan, written: Iterable) -> None:
    """The forms ``generate`` wrote (``forms.generate.Written``), each with its SHA-256, and the event."""
    written = list(written)
    for w in written:
        path = Path(w.path)
        ledger.add_file(_sha256(path), GENERATED, w.path, w.size,
                        ",".join(w.sectors) if w.kind != "source" else w.source, path.name)
    ledger.add_event("generate", files=[w.path for w in written], fingerprint=plan.fingerprint)


def record_checks(ledger: Ledger, plan: Plan, results: Sequence[WorkbookResult]) -> None:
    """The results of ``check``, each with its feedback note, and the event."""
    for r in results:
        record_check(ledger, plan, r, Path(r.path).name)
    ledger.add_event("check", files=[r.path for r in results])


def record_summary(ledger: Ledger, summary: Path, paths: Sequence[str], ok: bool) -> None:
    """The summary ``consolidate`` wrote (with its SHA-256) and the event."""
    ledger.add_file(_sha256(summary), SUMMARY, summary, summary.stat().st_size)
    ledger.add_event("consolidate", paths=list(paths), summary=str(summary), ok=ok)


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
    set_aside: list[dict] = field(default_factory=list)  # files kept aside: sender not authorised or unknown
    not_read: list[dict] = field(default_factory=list)  # messages not opened: over a limit, unreadable

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def _mine(field: str, code: str) -> bool:
    return code in field.split(",")


MAIL_CODES = ("MAIL-SENDER", "MAIL-FROM", "MAIL-PEC")


def counted_checks(ledger: Ledger) -> list[dict]:
    """The checks of received files that count: not forms checked by hand, not files set aside."""
    files = ledger.rows("files", "role IN ('ricevuto', 'rifiutato', 'scartato')")
    received = {f["sha256"] for f in files if f["role"] != "scartato"}
    aside = {f["path"] for f in files if f["role"] == "scartato"}
    return [c for c in ledger.rows("checks") if c["file_sha256"] in received and c["path"] not in aside]


def rejudge(ledger: Ledger, plan: Plan, check: dict) -> dict:
    """The check of a received file under the plan in force: when ``check`` was made under another plan (or
    before checks recorded their plan) and the file is still there, it is read again against ``plan`` and the
    new check recorded (the findings about its message are kept). Returns the check in force."""
    if check.get("plan_fingerprint") == plan.fingerprint or not check["path"] or not Path(check["path"]).is_file():
        return check
    old = [Finding(f["code"], f["severity"], f["message"], file=f.get("file") or "") for f in
           json.loads(check["findings"] or "[]") if f.get("code") in MAIL_CODES]
    res = with_extra(read_on_versions(Path(check["path"]), plan, usable_versions(ledger)), old)
    record_check(ledger, plan, res, check["name"], check["sector"], check["message_id"], check["sender"])
    return ledger.rows("checks", "id = (SELECT MAX(id) FROM checks)")[0]


def year_state(settings: Settings, plan: Plan, ledger: Ledger) -> list[PartyState]:
    """Per sector (and source): sent, received, the latest check's result under the plan in force, the last
    reminder, the files set aside and the messages not read."""
    messages = ledger.rows("messages")
    checks = counted_checks(ledger)
    aside = {f["path"]: f for f in ledger.rows("files", "role = 'scartato'")}
    aside_checks = [c for c in ledger.rows("checks") if c["path"] in aside]
    counted = {(c["file_sha256"], c["sender"]) for c in checks}
    latest: dict[int, dict] = {}
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
                if (m["file_sha256"], m["sender"]) in counted:  # not a file set aside
                    st.received_at, st.received_from = m["at"], m["sender"]
                    st.received_how = ("pec" if (json.loads(m["meta"] or "{}").get("pec") or {})
                                       else m["transport"])
            elif m["direction"] == "in":
                meta = json.loads(m["meta"] or "{}")
                if meta.get("not_read"):
                    st.not_read.append({"at": m["at"], "sender": m["sender"], "subject": m["subject"],
                                        "code": meta["not_read"],
                                        "message": (meta.get("findings") or [{}])[0].get("message", "")})
        mine = [c for c in checks if _mine(c["sector"], code)]
        if mine:  # the latest file decides (a corrected file follows a rejected one), under the plan in force
            last = mine[-1]
            if last["id"] not in latest:
                latest[last["id"]] = rejudge(ledger, plan, last)
            st.status, st.file = latest[last["id"]]["status"], latest[last["id"]]["name"]
        st.set_aside = [{"at": c["at"], "sender": c["sender"], "file": c["name"], "path": c["path"]}
                        for c in aside_checks if _mine(c["sector"], code)]
        out.append(st)
    return out


def sender_finding(settings: Settings, plan: Plan, party: str, sender: str, strict: bool, file: str) -> Finding | None:
    """A finding when ``sender`` is not allowed to return the workbook of ``party`` (None when it is). A file
    of several sectors needs a sender authorised for each of them."""
    if not party:
        return None
    denied = [code for code in party.split(",") if not sender or sender.lower() not in settings.authorized(code, plan)]
    if not denied:
        return None
    allowed: set[str] = set()
    for code in denied:
        allowed |= settings.authorized(code, plan)
    who = ", ".join(sorted(allowed)) or "nessun indirizzo configurato"
    return Finding("MAIL-SENDER", ERROR if strict else WARNING,
                   f"il file è stato inviato da {sender or 'un mittente non determinabile'}, che non è il Responsabile "
                   f"né un delegato per {', '.join(denied)} (indirizzi autorizzati: {who})", file=file)
