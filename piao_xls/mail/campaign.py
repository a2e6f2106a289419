"""The year's outgoing mail: the forms (``send``), replies with the feedback note, reminders.

Each function returns one action per recipient (a dict with English keys and an Italian ``outcome``)
and records every message in the ledger. ``transport`` is :class:`~.transport.Drafts` or
:class:`~.transport.Smtp`; with ``dry_run`` nothing is written, sent or recorded.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from email.utils import parseaddr
from pathlib import Path

from ..core.model import Plan
from ..forms.layout import plan_workbooks
from ..returns.reader import read_properties
from ..sheetio.text import safe_filename
from ..workspace.ledger import Ledger
from ..workspace.settings import Settings
from ..workspace.year import counted_checks, parties, year_state
from .compose import form_message, reminder_message, reply_message

SENT, DRAFTED, ALREADY, NO_ADDRESS, NO_FORM, WOULD = ("inviato", "bozza preparata", "già inviato",
                                                      "indirizzo mancante", "modulo mancante", "da inviare")
BAD_ADDRESS = "indirizzo non valido"
STALE_FORM = "modulo di un altro piano: eseguire «piao-xls generate»"


def forms_by_party(settings: Settings, plan: Plan) -> dict[str, tuple[Path, str, str]]:
    """Party code -> (generated workbook path, kind, source), for the per-sector and per-source workbooks."""
    folder = settings.folder("moduli") / str(plan.year)
    out = {}
    for book in plan_workbooks(plan):
        if book.kind == "sector" and len(book.sector_codes) == 1:
            out[book.sector_codes[0]] = (folder / book.filename, "sector", "responsabile")
        elif book.kind == "source":
            out[book.source] = (folder / book.filename, "source", book.source)
    return out


def form_matches(path: Path, plan: Plan) -> bool:
    """Was the form at ``path`` generated from ``plan`` (its fingerprint in the document properties)?"""
    try:
        props, _ = read_properties(path)
    except Exception:
        return False
    return props.get("piao_fingerprint") == plan.fingerprint


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _outcome(transport) -> str:
    return DRAFTED if transport.name == "bozze" else SENT


def send(settings: Settings, plan: Plan, ledger: Ledger, transport, dry_run: bool = False, resend: bool = False,
         only: tuple[str, ...] = (), today: date | None = None) -> list[dict]:
    today = today or date.today()
    forms = forms_by_party(settings, plan)
    sent = ledger.rows("messages", "direction = 'out' AND kind = 'invio'")
    actions = []
    for code, name, who in parties(plan):
        if only and code not in only:
            continue
        to = settings.address(code, plan)
        path, kind, source = forms[code]
        act = {"code": code, "to": to, "file": str(path), "message_id": "", "outcome": ""}
        actions.append(act)
        if not to or "@" not in parseaddr(to)[1]:
            act["outcome"] = NO_ADDRESS if not to else BAD_ADDRESS
            continue
        if not path.is_file():
            act["outcome"] = NO_FORM
            continue
        if not form_matches(path, plan):
            act["outcome"] = STALE_FORM
            continue
        sha = _sha(path)
        if not resend and any(m["sector"] == code and m["file_sha256"] == sha for m in sent):
            act["outcome"] = ALREADY
            continue
        if dry_run:
            act["outcome"] = WOULD
            continue
        label = name if kind == "source" else f"il settore {code} – {name}"
        msg = form_message(settings, plan, code, label, who, to, path, kind, source, draft=transport.name == "bozze")
        location = transport.deliver(msg, f"{today.isoformat()}-invio-{code}")
        if not ledger.has_file(sha, "generato"):
            ledger.add_file(sha, "generato", path, path.stat().st_size, code, path.name)
        ledger.add_message("out", "invio", day=today.isoformat(), sector=code, sender=str(msg["From"]), recipient=to,
                           subject=str(msg["Subject"]), message_id=str(msg["Message-ID"]), file_sha256=sha,
                           transport=transport.name, location=location)
        act["message_id"], act["outcome"] = str(msg["Message-ID"]), _outcome(transport)
    return actions


def reply(settings: Settings, plan: Plan, ledger: Ledger, transport, dry_run: bool = False,
          today: date | None = None) -> list[dict]:
    """A reply with the feedback note to the message of each file still to correct (once per file)."""
    from ..sheetio.atomic import write_text_atomic

    today = today or date.today()
    state = year_state(settings, plan, ledger)  # re-judged under the plan in force
    checks = counted_checks(ledger)
    replies = ledger.rows("messages", "direction = 'out' AND kind = 'risposta'")
    actions = []
    for st in state:
        if st.status != "rejected":
            continue
        check = next(c for c in reversed(checks) if st.code in c["sector"].split(","))
        act = {"code": st.code, "to": check["sender"], "file": check["name"], "message_id": "", "outcome": ""}
        actions.append(act)
        if not check["message_id"]:
            act["outcome"] = "nessun messaggio a cui rispondere"
            continue
        if any(r["file_sha256"] == check["file_sha256"] and json.loads(r["meta"]).get("answers") == check["message_id"]
               for r in replies):
            act["outcome"] = "già risposto"
            continue
        if dry_run:
            act["outcome"] = WOULD
            continue
        incoming = ledger.rows("messages", "direction = 'in' AND message_id = ?", check["message_id"])
        meta = json.loads(incoming[0]["meta"]) if incoming else {}
        subject = meta.get("original_subject") or f"PIAO {plan.year}"
        refers_to = meta.get("reply_to_id") or check["message_id"]
        note = settings.folder("riscontri") / f"{safe_filename(Path(check['name']).stem, 80)}-riscontro.txt"
        write_text_atomic(note, check["feedback"])
        ledger.add_file(hashlib.sha256(check["feedback"].encode()).hexdigest(), "riscontro", note,
                        len(check["feedback"].encode()), st.code, note.name)
        msg = reply_message(settings, plan, check["sender"], subject, refers_to, meta.get("references", ""),
                            check["feedback"], draft=transport.name == "bozze")
        location = transport.deliver(msg, f"{today.isoformat()}-risposta-{st.code}")
        ledger.add_message("out", "risposta", day=today.isoformat(), sector=st.code, sender=str(msg["From"]),
                           recipient=check["sender"], subject=str(msg["Subject"]), message_id=str(msg["Message-ID"]),
                           in_reply_to=refers_to, file_sha256=check["file_sha256"], transport=transport.name,
                           location=location, meta={"answers": check["message_id"]})
        act["message_id"], act["outcome"] = str(msg["Message-ID"]), _outcome(transport)
    return actions


def remind(settings: Settings, plan: Plan, ledger: Ledger, transport, today: date | None = None,
           dry_run: bool = False) -> list[dict]:
    """A reminder to each party whose workbook is missing or still to correct, from ``remind_days_before``
    days before the deadline on; never twice the same day."""
    today = today or date.today()
    days = (settings.deadline - today).days
    if days > settings.remind_days_before:
        return []
    forms = forms_by_party(settings, plan)
    sent = ledger.rows("messages", "direction = 'out' AND kind = 'invio'")
    actions = []
    for st in year_state(settings, plan, ledger):
        if st.status not in ("missing", "rejected"):
            continue
        act = {"code": st.code, "to": st.address, "file": "", "message_id": "", "outcome": ""}
        actions.append(act)
        if not st.address:
            act["outcome"] = NO_ADDRESS
            continue
        if ledger.rows("messages", "direction = 'out' AND kind = 'sollecito' AND day = ? AND sector = ?",
                       today.isoformat(), st.code):
            act["outcome"] = "già sollecitato oggi"
            continue
        if dry_run:
            act["outcome"] = WOULD
            continue
        path = forms.get(st.code, (None,))[0]
        attach = path if st.status == "missing" and path is not None and path.is_file() else None
        first = next((m["message_id"] for m in reversed(sent) if m["sector"] == st.code), "")
        label = st.name if st.code in ("nucleo", "esterno") else f"il settore {st.code} – {st.name}"
        msg = reminder_message(settings, plan, st.code, label, st.who, st.address, today, st.status, attach, first,
                               draft=transport.name == "bozze")
        location = transport.deliver(msg, f"{today.isoformat()}-sollecito-{st.code}")
        ledger.add_message("out", "sollecito", day=today.isoformat(), sector=st.code, sender=str(msg["From"]),
                           recipient=st.address, subject=str(msg["Subject"]), message_id=str(msg["Message-ID"]),
                           in_reply_to=first, file_sha256=_sha(attach) if attach else "", transport=transport.name,
                           location=location)
        act["file"] = str(attach or "")
        act["message_id"], act["outcome"] = str(msg["Message-ID"]), _outcome(transport)
    return actions
