"""The year's outgoing mail: the forms (``send``), replies with the feedback note, reminders.

Each function returns one action per recipient (a dict with English keys and an Italian ``outcome``)
and records every message in the ledger. ``transport`` is :class:`~.transport.Drafts` or
:class:`~.transport.Smtp`; with ``dry_run`` nothing is written, sent or recorded.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import date
from email.utils import parseaddr
from pathlib import Path

from ..core.model import Plan
from ..core.revisions import PlanVersion, version_of
from ..forms.layout import plan_workbooks, round_workbooks
from ..returns.reader import read_properties
from ..sheetio.text import safe_filename
from ..workspace.ledger import YEAR_END, Ledger, MessageRow
from ..workspace.planversions import usable_versions
from ..workspace.rounds import forms_folder as rounds_forms_folder
from ..workspace.rounds import round_state
from ..workspace.settings import Settings
from ..workspace.versions import new_form_for
from ..workspace.year import parties, year_state
from .compose import form_message, reminder_message, reply_message, with_tag

SENT, DRAFTED, ALREADY, NO_ADDRESS, NO_FORM, WOULD = ("inviato", "bozza preparata", "già inviato",
                                                      "indirizzo mancante", "modulo mancante", "da inviare")
BAD_ADDRESS = "indirizzo non valido"
STALE_FORM = "modulo di un altro piano: eseguire «piao-xls genera»"
PLACEHOLDER = "indirizzo di esempio"
CHANGED = "indirizzo cambiato"
REFUSED = (NO_ADDRESS, NO_FORM, BAD_ADDRESS, PLACEHOLDER, CHANGED, STALE_FORM)  # outcomes that need the clerk (exit 1)
UNCHANGED = "invariato: non reinviato"  # after a revision, a party whose form did not change


class UnknownParty(ValueError):
    """``--settore`` names no sector of the plan (Italian message with the codes known)."""


def check_parties(plan: Plan, only: tuple[str, ...]) -> None:
    """Raise :class:`UnknownParty` when a code of ``only`` is no party of the plan, naming the closest."""
    import difflib

    codes = [code for code, _, _ in parties(plan)]
    for code in only:
        if code in codes:
            continue
        near = difflib.get_close_matches(code, codes, n=1, cutoff=0.5) or [
            c for c in codes if c.lower() == code.lower()]
        hint = f" (forse «{near[0]}»?)" if near else ""
        raise UnknownParty(f"--settore {code}: nessun settore con questo codice nel piano{hint}; i codici sono: "
                           f"{', '.join(codes)}")


def address_problems(settings: Settings, plan: Plan, code: str) -> tuple[str, list[str]]:
    """(outcome, Italian reasons) when the address of ``code`` cannot be used; ("", []) when it can."""
    from ..workspace.settings import address_problem

    entries = settings.recipients(code, plan)
    if not entries:
        return NO_ADDRESS, [f"manca l'indirizzo di {code}: indicarlo in {settings.settings_file.name}, sezione "
                            "[indirizzi]"]
    problems = [p for p in (address_problem(e) for e in entries) if p]
    if not problems:
        return "", []
    return (PLACEHOLDER if all("di esempio" in p for p in problems) else BAD_ADDRESS), problems


def _addresses(text: str) -> set[str]:
    from ..workspace.settings import split_addresses

    return {(parseaddr(a)[1] or a).lower() for a in split_addresses(text)}


def changed_since_sent(settings: Settings, plan: Plan, ledger: Ledger) -> dict[str, dict]:
    """Parties whose address changed after their form was last sent: code -> {"sent_to", "now", "at"}."""
    last: dict[str, MessageRow] = {}
    for m in ledger.messages("out", "invio"):
        last[m["sector"]] = m
    out = {}
    for code, m in last.items():
        now = settings.address(code, plan)
        if now and _addresses(now) != _addresses(m["recipient"]):
            out[code] = {"sent_to": m["recipient"], "now": now, "at": m["at"]}
    return out


def resend_hint(code: str) -> str:
    return f"per inviarlo al nuovo indirizzo: piao-xls invia --resend --settore {code}"


def forms_by_party(settings: Settings, plan: Plan, as_of: date | None = None) -> dict[str, tuple[Path, str, str]]:
    """Party code -> (generated workbook path, kind, source), for the per-sector and per-source workbooks (``as_of``:
    of the monitoring round at that date, in its folder)."""
    if as_of is None:
        folder, books = settings.folder("moduli") / str(plan.year), plan_workbooks(plan)
    else:  # only the round's workbooks are laid out: their names, never the year-end ones
        folder, books = rounds_forms_folder(settings, plan, as_of), round_workbooks(plan, as_of)
    out = {}
    for book in books:
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


def party_fingerprint(plan: Plan, code: str, kind: str = "sector") -> str:
    """The fingerprint of what a party's form may hold: for a sector, the plan with that sector only ("" for no such
    sector); for a source (the Nucleo, an external source), the plan with the whole of every sector that has one of
    its indicators (more than its form shows: a change there sends the form again, never the other way round)."""
    if kind == "source":
        return replace(plan, sectors=tuple(s for s in plan.sectors
                                           if any(i.source == code for i in s.indicators))).fingerprint
    try:
        return replace(plan, sectors=(plan.sector(code),)).fingerprint
    except KeyError:
        return ""


def sent_on(sent: list[MessageRow], code: str, known: list[PlanVersion]) -> PlanVersion | None:
    """The recorded version the last form sent to ``code`` was made on (the plan fingerprint ``send`` records in
    the message's ``meta``), or None (nothing sent, or sent before versions were recorded in messages)."""
    mine = [m for m in sent if m["sector"] == code]
    if not mine:
        return None
    return version_of(str(json.loads(mine[-1]["meta"] or "{}").get("plan_fingerprint", "")), known)


def send(settings: Settings, plan: Plan, ledger: Ledger, transport, dry_run: bool = False, resend: bool = False,
         only: tuple[str, ...] = (), today: date | None = None, as_of: date | None = None,
         due: date | None = None) -> list[dict]:
    """Each party's form, once; after a revision (docs/revisions.md) only to the parties whose form changed
    (:func:`party_fingerprint`), in the thread of the form sent before, saying which act changed the plan
    (``--resend``: to every party again). ``as_of``: the monitoring round's forms (returned by ``due``), the round
    in every subject, file name and ledger row."""
    today = today or date.today()
    forms = forms_by_party(settings, plan, as_of)
    key = as_of.isoformat() if as_of is not None else YEAR_END
    check_parties(plan, only)
    sent = ledger.messages("out", "invio", round=key)
    changed = changed_since_sent(settings, plan, ledger)
    known = usable_versions(ledger)
    current = version_of(plan.fingerprint, known) if as_of is None else None  # a round's forms: no revision rule
    actions = []
    for code, name, who in parties(plan):
        if only and code not in only:
            continue
        to = ", ".join(settings.recipients(code, plan))
        path, kind, source = forms[code]
        act = {"code": code, "to": to, "file": str(path), "message_id": "", "outcome": "", "problems": []}
        actions.append(act)
        outcome, problems = address_problems(settings, plan, code)
        if outcome:  # caught before anything goes out
            act["outcome"], act["problems"] = outcome, problems
            continue
        if not path.is_file():
            act["outcome"] = NO_FORM
            act["problems"] = [f"modulo {path.name} non ancora generato: eseguire «piao-xls " + (
                f"monitoraggio apri {as_of:%d/%m/%Y}»" if as_of is not None else "genera»")]
            continue
        if not form_matches(path, plan):
            act["outcome"] = STALE_FORM
            continue
        sha = _sha(path)
        if not resend and any(m["sector"] == code and m["file_sha256"] == sha for m in sent):
            if code in changed:
                c = changed[code]
                act["outcome"] = CHANGED
                act["problems"] = [f"il modulo è stato inviato a {c['sent_to']}, ma ora l'indirizzo è {c['now']}, "
                                   f"che non l'ha ancora ricevuto; {resend_hint(code)}"]
            else:
                act["outcome"] = ALREADY
            continue
        before = sent_on(sent, code, known) if current is not None else None
        if before is not None and before.fingerprint == plan.fingerprint:
            before = None  # the same version, another file (regenerated): sent as any other
        if (not resend and before is not None and current is not None
                and party_fingerprint(before.plan, code, kind) == party_fingerprint(plan, code, kind)):
            act["outcome"] = UNCHANGED
            act["problems"] = [f"il modulo inviato sulla versione {before.number} resta valido: la {current.italian()} "
                               f"non cambia nulla per {'questo settore' if kind == 'sector' else 'questa fonte'}; per "
                               f"inviarlo comunque: piao-xls invia --resend --settore {code}"]
            continue
        if dry_run:
            act["outcome"] = WOULD
            continue
        label = name if kind == "source" else f"il settore {code} – {name}"
        msg = form_message(settings, plan, code, label, who, to, path, kind, source, draft=transport.name == "bozze",
                           as_of=as_of, due=due,
                           replaces=(f"Il piano è stato modificato con la {current.italian()}: questo modulo "
                                     f"sostituisce quello della versione {before.number}, che non va più compilato; "
                                     "se è già stato restituito, i valori degli indicatori non cambiati restano "
                                     "validi." if before is not None and current is not None else ""))
        first = ""
        if before is not None:  # the new version's form, in the thread of the one it replaces
            first, refs = thread_of(ledger, code, sent)
            if first:
                msg["In-Reply-To"], msg["References"] = first, " ".join(refs)
        location = transport.deliver(msg, f"{today.isoformat()}-invio-{code}" + (f"-{key}" if key else ""))
        if not ledger.has_file(sha, "generato"):
            ledger.add_file(sha, "generato", path, path.stat().st_size, code, path.name, round=key)
        ledger.add_message("out", "invio", day=today.isoformat(), sector=code, sender=str(msg["From"]), recipient=to,
                           subject=str(msg["Subject"]), message_id=str(msg["Message-ID"]), file_sha256=sha,
                           transport=transport.name, location=location, in_reply_to=first, round=key,
                           meta={"plan_fingerprint": plan.fingerprint,
                                 **({"due": due.isoformat()} if due is not None else {})})
        act["message_id"], act["outcome"] = str(msg["Message-ID"]), _outcome(transport)
    return actions


def _state(settings: Settings, plan: Plan, ledger: Ledger, as_of: date | None) -> list:
    """The year's state, or a monitoring round's (``as_of``)."""
    if as_of is None:
        return year_state(settings, plan, ledger)
    return round_state(settings, plan, ledger, as_of)


def reply(settings: Settings, plan: Plan, ledger: Ledger, transport, dry_run: bool = False,
          today: date | None = None, as_of: date | None = None) -> list[dict]:
    """A reply with the feedback note to the message of each file still to correct (once per file).

    A file that came with no message (saved by hand) is answered with a new message to the party's
    address, in the thread of the form sent (the subject's tag, the identifiers known). ``as_of``: the files
    of the monitoring round at that date."""
    from ..sheetio.atomic import write_text_atomic

    today = today or date.today()
    key = as_of.isoformat() if as_of is not None else YEAR_END
    state = _state(settings, plan, ledger, as_of)  # the return that counts (sent last), under the plan in force
    replies = ledger.messages("out", "risposta", round=key)
    actions = []
    for st in state:
        if st.status != "rejected":
            continue
        check = st.check  # the return that counts: a superseded one is never answered
        to = check["sender"] or ", ".join(settings.recipients(st.code, plan))
        act = {"code": st.code, "to": to, "file": check["name"], "message_id": "", "outcome": "", "problems": []}
        actions.append(act)
        if not check["sender"]:  # saved by hand: to the party's address, which must be usable
            outcome, problems = address_problems(settings, plan, st.code)
            if outcome:
                act["outcome"], act["problems"] = outcome, problems
                continue
        if any(r["file_sha256"] == check["file_sha256"] and json.loads(r["meta"]).get("answers") == check["message_id"]
               for r in replies):
            act["outcome"] = "già risposto"
            continue
        if dry_run:
            act["outcome"] = WOULD
            continue
        incoming = (ledger.messages("in", message_id=check["message_id"], round=None)
                    if check["message_id"] else [])
        meta = json.loads(incoming[0]["meta"]) if incoming else {}
        subject = with_tag(plan, st.code, meta.get("original_subject") or (
            f"PIAO {plan.year} – correzioni al modulo" + (f" del monitoraggio al {as_of:%d/%m/%Y}" if as_of else "")))
        refers_to = meta.get("reply_to_id") or check["message_id"]
        if not refers_to:  # no message came with the file: in the thread of the form sent
            refers_to, refs = thread_of(ledger, st.code, ledger.messages("out", "invio", round=key), key)
            meta["references"] = " ".join(refs[:-1])
        note = settings.folder("riscontri") / f"{safe_filename(Path(check['name']).stem, 80)}-riscontro.txt"
        write_text_atomic(note, check["feedback"])
        ledger.add_file(hashlib.sha256(check["feedback"].encode()).hexdigest(), "riscontro", note,
                        len(check["feedback"].encode()), st.code, note.name, round=key)
        new_form = new_form_for(settings, ledger, plan, check["path"], st.code) if "REV-OLD-VERSION" in \
            check["findings"] and st.code in (c.code for c in plan.sectors) and as_of is None else None
        msg = reply_message(settings, plan, to, subject, refers_to, meta.get("references", ""),
                            check["feedback"], draft=transport.name == "bozze", new_form=new_form)
        location = transport.deliver(msg, f"{today.isoformat()}-risposta-{st.code}" + (f"-{key}" if key else ""))
        ledger.add_message("out", "risposta", day=today.isoformat(), sector=st.code, sender=str(msg["From"]),
                           recipient=to, subject=str(msg["Subject"]), message_id=str(msg["Message-ID"]),
                           in_reply_to=refers_to, file_sha256=check["file_sha256"], transport=transport.name,
                           location=location, meta={"answers": check["message_id"]}, round=key)
        act["message_id"], act["outcome"] = str(msg["Message-ID"]), _outcome(transport)
        if new_form is not None:
            act["file"] = str(new_form)
    return actions


def thread_of(ledger: Ledger, code: str, sent: list[MessageRow], round: str = YEAR_END) -> tuple[str, list[str]]:
    """(In-Reply-To, References) for a new message to ``code`` in the thread of the year.

    The drafts' Message-IDs are ours, but the mail client may give a draft a new one when it sends it: the
    Responsabile's messages then refer to the Message-ID actually sent (In-Reply-To, References), and
    their own Message-ID certainly exists in their mailbox. So the newest message received from ``code``
    is answered when there is one, and References carries every identifier known for the thread.
    """
    ours = [m["message_id"] for m in sent if m["sector"] == code and m["message_id"]]
    refs = list(ours)
    latest = ""
    for m in ledger.messages("in", round=round):
        if code not in m["sector"].split(","):
            continue
        seen = [x for x in f"{m['in_reply_to']} {json.loads(m['meta'] or '{}').get('references', '')}".split()
                if x.startswith("<")]
        refs += seen
        if m["message_id"]:
            refs.append(m["message_id"])
            latest = m["message_id"]
    unique = list(dict.fromkeys(refs))[-20:]  # oldest first, as References is ordered
    first = latest or (ours[-1] if ours else "")
    return first, unique if first else []


def round_due(ledger: Ledger, as_of: date) -> date | None:
    """The return deadline of a monitoring round, as its forms' messages gave it (None: none given)."""
    dues = [json.loads(m["meta"] or "{}").get("due") for m in ledger.messages("out", "invio", round=as_of.isoformat())]
    return max((date.fromisoformat(d) for d in dues if d), default=None)


def remind(settings: Settings, plan: Plan, ledger: Ledger, transport, today: date | None = None,
           dry_run: bool = False, as_of: date | None = None) -> list[dict]:
    """A reminder to each party whose workbook is missing or still to correct, from ``remind_days_before``
    days before the deadline on; never twice the same day. ``as_of``: of the monitoring round at that date, whose
    deadline is the one its forms were sent with (``invia --entro``; none: no reminder)."""
    today = today or date.today()
    key = as_of.isoformat() if as_of is not None else YEAR_END
    deadline = settings.deadline if as_of is None else round_due(ledger, as_of)
    if deadline is None or (deadline - today).days > settings.remind_days_before:
        return []
    forms = forms_by_party(settings, plan, as_of)
    sent = ledger.messages("out", "invio", round=key)
    actions = []
    for st in _state(settings, plan, ledger, as_of):
        if st.status not in ("missing", "rejected"):
            continue
        to = ", ".join(settings.recipients(st.code, plan))
        act = {"code": st.code, "to": to, "file": "", "message_id": "", "outcome": "", "problems": []}
        actions.append(act)
        outcome, problems = address_problems(settings, plan, st.code)
        if outcome:  # caught before anything goes out
            act["outcome"], act["problems"] = outcome, problems
            continue
        if ledger.messages("out", "sollecito", day=today.isoformat(), sector=st.code, round=key):
            act["outcome"] = "già sollecitato oggi"
            continue
        if dry_run:
            act["outcome"] = WOULD
            continue
        path = forms.get(st.code, (None,))[0]
        attach = path if st.status == "missing" and path is not None and path.is_file() else None
        first, refs = thread_of(ledger, st.code, sent, key)
        label = st.name if st.code in ("nucleo", "esterno") else f"il settore {st.code} – {st.name}"
        msg = reminder_message(settings, plan, st.code, label, st.who, to, today, st.status, attach, first,
                               draft=transport.name == "bozze", references=" ".join(refs), as_of=as_of,
                               due=deadline)
        location = transport.deliver(msg, f"{today.isoformat()}-sollecito-{st.code}" + (f"-{key}" if key else ""))
        ledger.add_message("out", "sollecito", day=today.isoformat(), sector=st.code, sender=str(msg["From"]),
                           recipient=to, subject=str(msg["Subject"]), message_id=str(msg["Message-ID"]),
                           in_reply_to=first, file_sha256=_sha(attach) if attach else "", transport=transport.name,
                           location=location, round=key)
        act["file"] = str(attach or "")
        act["message_id"], act["outcome"] = str(msg["Message-ID"]), _outcome(transport)
    return actions
