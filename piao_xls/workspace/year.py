"""The year's records: checking a received file into the ledger, and the state of the year (``stato``)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from ..core import italian
from ..core.errors import ERROR, WARNING, Finding
from ..core.evaluation import EXTERNAL, NUCLEO, RESPONSABILE, Choice, Evaluation, Provenance, Submission, instant, pick
from ..core.model import Plan
from ..core.status import ACCEPTED, ACCEPTED_WITH_WARNINGS, CONFLICT, MISSING, REJECTED
from ..core.status import STATUS_IT as STATUS_IT  # kept for callers of earlier versions: the one map is core's
from ..returns.feedback import feedback_text
from ..returns.reader import WorkbookResult
from ..returns.versions import read_on_versions
from .ledger import YEAR_END, CheckRow, Ledger, MessageRow
from .planversions import usable_versions
from .settings import Settings

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
                 message_id: str = "", sender: str = "", round: str = "") -> None:
    """One check result in the ledger, with its Italian feedback note (``round``: a monitoring round's date)."""
    ledger.add_check(result.sha256, result.path, name, sector or party_of(result), result.status,
                     [f.to_dict() for f in result.findings], feedback_text(result, plan), message_id, sender,
                     plan.fingerprint, round=round,
                     signatures={code: sub.signature() for code, sub in result.sectors.items()})


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


def record_generated(ledger: Ledger, plan: Plan, written: Iterable, round: str = YEAR_END,
                     event: str = "generate", **detail: str) -> None:
    """The forms ``generate`` (or ``monitoraggio apri``: ``round``, ``event``) wrote (``forms.generate.Written``),
    each with its SHA-256 and its round, and the event."""
    written = list(written)
    for w in written:
        path = Path(w.path)
        ledger.add_file(_sha256(path), GENERATED, w.path, w.size,
                        ",".join(w.sectors) if w.kind != "source" else w.source, path.name, round=round)
    extra = {"round": round, **detail} if round else {}
    ledger.add_event(event, files=[w.path for w in written], fingerprint=plan.fingerprint, **extra)


def record_checks(ledger: Ledger, plan: Plan, results: Sequence[WorkbookResult]) -> None:
    """The results of ``check``, each with its feedback note, and the event."""
    for r in results:
        record_check(ledger, plan, r, Path(r.path).name)
    ledger.add_event("check", files=[r.path for r in results])


def record_summary(ledger: Ledger, summary: Path, paths: Sequence[str], ok: bool,
                   evaluation: Evaluation | None = None, round: str = YEAR_END) -> None:
    """The summary ``consolidate`` wrote (with its SHA-256), the evaluation it published (its round, date, plan
    version and the digest of its figures: every later document can be checked against it) and the event."""
    ledger.add_file(_sha256(summary), SUMMARY, summary, summary.stat().st_size, round=round)
    if evaluation is not None:
        as_of = evaluation.as_of.isoformat() if evaluation.as_of is not None else ""
        ledger.add_evaluation(evaluation.plan.fingerprint, evaluation.digest(), round=round, as_of=as_of,
                              summary=str(summary),
                              figures={s.code: [s.status.value, s.published, s.band] for s in evaluation.sectors})
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
    received_at: str = ""  # when the return that counts reached the office
    received_from: str = ""
    received_how: str = ""  # how the return that counts came in: imap, maildir, mbox, eml, msg, cartella, pec
    status: str = MISSING
    file: str = ""  # the return that counts (its name in ricevuti/)
    file_sent: str = ""  # when it was sent (ISO), the time that decides which return counts
    file_sent_from: str = ""  # messaggio (Date), pec (delivery), ricevuto (a file put in by hand)
    superseded: list[dict] = field(default_factory=list)  # earlier returns: they no longer count
    conflict: list[dict] = field(default_factory=list)  # returns that cannot be ordered: none counts
    resolve: str = ""  # the command that settles a conflict
    last_reminder: str = ""
    set_aside: list[dict] = field(default_factory=list)  # files kept aside: sender not authorised or unknown
    not_read: list[dict] = field(default_factory=list)  # messages not opened: over a limit, unreadable
    check: CheckRow | dict = field(default_factory=dict, repr=False)  # the ledger's check of the return that counts

    def to_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "check"}


def _mine(field: str, code: str) -> bool:
    return code in field.split(",")


MAIL_CODES = ("MAIL-SENDER", "MAIL-FROM", "MAIL-PEC")
CHOOSE = "scegli"  # the ledger's event of the office's choice between returns in conflict


def counted_checks(ledger: Ledger, round: str = YEAR_END) -> list[CheckRow]:
    """The checks of received files that count (of the year end, or of a monitoring round: ``round``): not forms
    checked by hand, not files set aside."""
    files = ledger.files(("ricevuto", "rifiutato", "scartato"), round=round)
    received = {f["sha256"] for f in files if f["role"] != "scartato"}
    aside = {f["path"] for f in files if f["role"] == "scartato"}
    return [c for c in ledger.checks(round=round) if c["file_sha256"] in received and c["path"] not in aside]


def rejudge(ledger: Ledger, plan: Plan, check: CheckRow) -> CheckRow:
    """The check of a received file under the plan in force: when ``check`` was made under another plan (or
    before checks recorded their plan) and the file is still there, it is read again against ``plan`` and the
    new check recorded (the findings about its message are kept). Returns the check in force."""
    if check.get("plan_fingerprint") == plan.fingerprint or not check["path"] or not Path(check["path"]).is_file():
        return check
    old = [Finding(f["code"], f["severity"], f["message"], file=f.get("file") or "") for f in
           json.loads(check["findings"] or "[]") if f.get("code") in MAIL_CODES]
    res = with_extra(read_on_versions(Path(check["path"]), plan, usable_versions(ledger)), old)
    record_check(ledger, plan, res, check["name"], check["sector"], check["message_id"], check["sender"])
    last = ledger.last_check()
    assert last is not None  # just written
    return last


# --- which return counts -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Returned:
    """One file a party returned, as the ledger records it: its latest check, when it was sent and received."""

    check: CheckRow
    provenance: Provenance
    readable: bool = True  # saved in ricevuti/ (False: refused by the guard, not a workbook that can be read)

    @property
    def sha256(self) -> str:
        return str(self.check["file_sha256"])


LATER_THAN_RECEIVED = timedelta(days=1)  # a sending time after the arrival (past a clock's error) is not trusted


def _sent_of(messages: list[MessageRow]) -> tuple[str, str, str, str]:
    """(sent, where that time comes from, why it is not trusted, received) of a file from the messages that
    brought it: the latest sending counts (a file sent again is sent again). A ledger written before times were
    recorded gives the time the message was collected; a time later than the message's arrival (a sender's
    clock set wrong, or a date put in the future) is not trusted."""
    best: tuple[str, str] = ("", "")
    doubt = ""
    for m in messages:
        meta = json.loads(m["meta"] or "{}")
        sent, frm = str(meta.get("sent") or ""), str(meta.get("sent_from") or "")
        if "sent" not in meta:  # recorded before sending times were
            sent, frm = m["at"], "raccolto"
        t, b, arrived = instant(sent), instant(best[0]), instant(m["at"])
        if t is not None and arrived is not None and t > arrived + LATER_THAN_RECEIVED:
            doubt = f"inviato il {italian.day(sent)}, dopo il suo arrivo: data non attendibile"
            continue
        if t is not None and (b is None or t > b):
            best = (sent, frm)
    received = min((m["at"] for m in messages), default="")
    if not best[0] and not doubt:
        doubt = "momento dell'invio sconosciuto"
    return best[0], best[1], doubt if not best[0] else "", received


def returned_files(ledger: Ledger, round: str = YEAR_END) -> list[Returned]:
    """Every file received that counts (not set aside), once, with its latest check and its provenance (of the
    year end, or of a monitoring round: ``round``)."""
    checks = counted_checks(ledger, round)
    latest: dict[str, CheckRow] = {}
    senders: dict[str, set[str]] = {}
    for c in checks:
        latest[c["file_sha256"]] = c  # the latest check of a file is the one in force
        senders.setdefault(c["file_sha256"], set()).add(c["sender"])
    incoming: dict[str, list[MessageRow]] = {}
    for m in ledger.messages("in", with_file=True, round=round):
        incoming.setdefault(m["file_sha256"], []).append(m)
    saved = {f["sha256"] for f in ledger.files("ricevuto", round=round)}
    out = []
    for sha, c in latest.items():
        msgs = [m for m in incoming.get(sha, []) if m["sender"] in senders[sha]]
        sent, frm, doubt, received = _sent_of(msgs)
        prov = Provenance(c["name"], sha, sent, frm, doubt, received)
        out.append(Returned(c, prov, sha in saved))
    return out


def chosen_files(ledger: Ledger, plan: Plan, returns: dict[str, list[Returned]] | None = None,
                 round: str = YEAR_END) -> set[str]:
    """The SHA-256 of the files the office chose to settle a conflict (``piao-xls scegli``, of the year end or of
    the monitoring round ``round``). A choice holds while the party's returns are those it was made among: a newer
    return reopens the question (it supersedes the files in conflict when it can be ordered, else ``stato`` shows
    the conflict again)."""
    returns = party_returns(ledger, plan, round) if returns is None else returns
    out = set()
    for e in ledger.events(CHOOSE):
        detail = json.loads(e["detail"] or "{}")
        if str(detail.get("round") or YEAR_END) != round:
            continue
        now = {r.sha256 for r in returns.get(str(detail.get("sector")), [])}
        if detail.get("sha256") and now <= set(detail.get("among") or ()):
            out.add(str(detail["sha256"]))
    return out


def _source_of(code: str) -> str:
    return code if code in (NUCLEO, EXTERNAL) else RESPONSABILE


def party_returns(ledger: Ledger, plan: Plan, round: str = YEAR_END) -> dict[str, list[Returned]]:
    """Party code -> the files it returned (every sector of a file of several sectors), of the year end or of the
    monitoring round ``round``."""
    files = returned_files(ledger, round)
    return {code: [r for r in files if _mine(r.check["sector"], code)] for code, _, _ in parties(plan)}


def _values_of(r: Returned, code: str) -> str:
    """What a return holds for ``code``, as the evaluation tells two submissions apart (the digest of its values,
    recorded with its check); a check recorded before that, or a file that could not be read: its bytes."""
    try:
        recorded = json.loads(r.check.get("signatures") or "{}")
    except ValueError:
        recorded = {}
    found = recorded.get(code) if isinstance(recorded, dict) else None
    return str(found) if found and r.check["status"] != REJECTED else r.sha256


def which_counts(returned: list[Returned], code: str, chosen: set[str]) -> tuple[Returned | None, list[Returned],
                                                                                  list[Returned]]:
    """(the return that counts, those it supersedes, those in conflict): the evaluation's one rule
    (:func:`piao_xls.core.evaluation.pick` under :attr:`Choice.LATEST_SENT`), on the ledger's provenance."""
    subs = [Submission(code, _source_of(code), provenance=r.provenance, signature=_values_of(r, code),
                       has_errors=r.check["status"] == REJECTED) for r in returned]
    got = pick(subs, Choice.LATEST_SENT, chosen)
    by_sha = {r.sha256: r for r in returned}
    if got.counts is None:
        return None, [], ([by_sha[s.provenance.sha256] for s in subs] if got.reason is not None else [])
    counts = by_sha[got.counts.provenance.sha256]
    return counts, [by_sha[s.provenance.sha256] for s in got.superseded if s.provenance.sha256 != counts.sha256], []


def choose_hint(code: str) -> str:
    return f"piao-xls scegli {code} FILE"


def year_provenance(ledger: Ledger, plan: Plan) -> tuple[dict[str, Provenance], list[Submission], set[str]]:
    """What the year's consolidation needs from the ledger: the provenance of every file received (by SHA-256),
    a submission without values for every return that could not be read as a workbook (it counts as the
    party's latest return when it is), and the files the office chose."""
    returns = party_returns(ledger, plan)
    files = list({r.sha256: r for rs in returns.values() for r in rs}.values())
    unreadable = []
    sectors_of = {src: [s.code for s in plan.sectors if any(i.source == src for i in s.indicators)]
                  for src in (NUCLEO, EXTERNAL)}
    codes = {s.code for s in plan.sectors}
    for r in files:
        if r.readable:
            continue
        for party in str(r.check["sector"]).split(","):
            if party in sectors_of:
                unreadable += [Submission(c, party, provenance=r.provenance, has_errors=True, signature=r.sha256)
                               for c in sectors_of[party]]
            elif party in codes:
                unreadable.append(Submission(party, RESPONSABILE, provenance=r.provenance, has_errors=True,
                                             signature=r.sha256))
    return {r.sha256: r.provenance for r in files}, unreadable, chosen_files(ledger, plan, returns)


def year_state(settings: Settings, plan: Plan, ledger: Ledger) -> list[PartyState]:
    """Per sector (and source): sent, received, which return counts (the one sent last: see docs/returns.md) and
    its check under the plan in force, the returns it supersedes or a conflict, the last reminder, the files set
    aside and the messages not read."""
    messages = ledger.messages()
    returns = party_returns(ledger, plan)
    chosen = chosen_files(ledger, plan, returns)
    aside = {f["path"]: f for f in ledger.files("scartato")}
    aside_checks = [c for c in ledger.checks() if c["path"] in aside]
    judged: dict[int, CheckRow] = {}
    out = []
    for code, name, who in parties(plan):
        st = PartyState(code, name, who, settings.address(code, plan))
        counts, superseded, conflict = which_counts(returns[code], code, chosen)
        for m in messages:
            if not _mine(m["sector"], code):
                continue
            if m["direction"] == "out" and m["kind"] == "invio":
                st.sent_at, st.sent_to, st.sent_how = m["at"], m["recipient"], m["transport"]
            elif m["direction"] == "out" and m["kind"] == "sollecito":
                st.last_reminder = m["at"]
            elif m["direction"] == "in" and m["file_sha256"]:
                if counts is not None and m["file_sha256"] == counts.sha256 and m["sender"] == counts.check["sender"]:
                    st.received_at, st.received_from = m["at"], m["sender"]
                    st.received_how = ("pec" if (json.loads(m["meta"] or "{}").get("pec") or {})
                                       else m["transport"])
            elif m["direction"] == "in":
                meta = json.loads(m["meta"] or "{}")
                if meta.get("not_read"):
                    st.not_read.append({"at": m["at"], "sender": m["sender"], "subject": m["subject"],
                                        "code": meta["not_read"],
                                        "message": (meta.get("findings") or [{}])[0].get("message", "")})
        if counts is not None:  # the return sent last counts, judged under the plan in force
            check = counts.check
            if check["id"] not in judged:
                judged[check["id"]] = rejudge(ledger, plan, check)
            st.check = judged[check["id"]]
            st.status, st.file = st.check["status"], st.check["name"]
            st.file_sent, st.file_sent_from = counts.provenance.sent, counts.provenance.sent_from
            st.superseded = [_brief(r) for r in superseded]
        elif conflict:
            st.status = CONFLICT
            st.conflict = [_brief(r) for r in conflict]
            st.resolve = choose_hint(code)
        st.set_aside = [{"at": c["at"], "sender": c["sender"], "file": c["name"], "path": c["path"]}
                        for c in aside_checks if _mine(c["sector"], code)]
        out.append(st)
    return out


def _brief(r: Returned) -> dict:
    return {"file": r.check["name"], "sha256": r.sha256, "sent": r.provenance.sent,
            "sent_from": r.provenance.sent_from, "status": r.check["status"]}


def record_choice(ledger: Ledger, plan: Plan, code: str, file: str, round: str = YEAR_END) -> Returned:
    """The office's choice of the return that counts for ``code`` among those in conflict (``piao-xls scegli``;
    ``round``: in a monitoring round): ``file`` is its name in ricevuti/ (as ``stato`` shows it), a path, or the
    start of its SHA-256. Raises ValueError (Italian) when ``code`` returned no such file."""
    mine = party_returns(ledger, plan, round).get(code)
    if mine is None:
        raise ValueError(f"«{code}» non è un settore né una fonte del piano")
    key = Path(file).name
    found = [r for r in mine if key in (r.check["name"], Path(r.check["path"] or "").name)
             or (len(key) >= 8 and r.sha256.startswith(key.lower()))]
    if len(found) != 1:
        names = ", ".join(sorted(r.check["name"] for r in mine)) or "nessuno"
        where = f" nel monitoraggio al {date.fromisoformat(round):%d/%m/%Y}" if round else ""
        raise ValueError(f"nessun file «{file}» ricevuto per {code}{where} (file ricevuti: {names})")
    ledger.add_event(CHOOSE, sector=code, sha256=found[0].sha256, file=found[0].check["name"],
                     among=sorted(r.sha256 for r in mine), **({"round": round} if round else {}))
    return found[0]


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
