"""A monitoring round in the workspace: where its forms, returns and report go, and reading its returns.

A round is named by its date. Its forms go into ``moduli/<year>/monitoraggio-<date>/``, its returns are the
workbooks in ``ricevuti/monitoraggio-<date>/`` (and any file or folder given), its report into ``risultati/``.
Which round a returned file belongs to is decided by the file's own document properties, never by its folder
or name: a form of another round, or a year-end form, is refused (``WB-IDENTITY``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ..core.errors import Finding
from ..core.evaluation import Provenance
from ..core.model import Plan
from ..core.revisions import PlanVersion
from ..core.rounds import Round, RoundEvaluation, RoundReturn, evaluate_round, parse_key
from ..core.status import CONFLICT
from ..forms.layout import ROUND_PROPERTY
from ..returns.batch import expand_paths
from ..returns.monitoring import read_round_workbook, round_returns
from ..returns.reader import WorkbookResult, read_properties
from ..sheetio.safeopen import open_package, read_bounded
from .ledger import Ledger
from .planversions import usable_versions
from .settings import Settings
from .year import (
    OUTPUT,
    PartyState,
    chosen_files,
    parties,
    party_of,
    party_returns,
    record_check,
    returned_files,
    which_counts,
    with_extra,
)

ROUND_PREFIX = "monitoraggio-"


def round_of(plan: Plan, as_of: date) -> Round:
    return Round(as_of, plan.plan_id, plan.year)


def forms_folder(settings: Settings | None, plan: Plan, as_of: date, out_dir: str | Path | None = None) -> Path:
    """Where a round's forms go: ``<moduli or out_dir or output>/<year>/monitoraggio-<date>/``."""
    base = Path(out_dir) if out_dir else settings.folder("moduli") if settings is not None else OUTPUT
    return base / str(plan.year) / round_of(plan, as_of).folder


def returns_folder(settings: Settings | None, as_of: date) -> Path | None:
    """Where the clerk puts a round's returns in a workspace: ``ricevuti/monitoraggio-<date>/`` (None outside)."""
    return settings.folder("ricevuti") / f"{ROUND_PREFIX}{as_of.isoformat()}" if settings is not None else None


def report_file(settings: Settings | None, plan: Plan, as_of: date, suffix: str = ".xlsx") -> Path:
    folder = settings.folder("risultati") if settings is not None else OUTPUT / f"{plan.year}-risultati"
    return folder / f"PIAO-{plan.year}-Monitoraggio-{as_of:%d-%m-%Y}{suffix}"


def known_rounds(settings: Settings | None, plan: Plan) -> list[date]:
    """The rounds of the year whose forms or returns are in the workspace, in order."""
    if settings is None:
        return []
    found: set[date] = set()
    for base in (settings.folder("moduli") / str(plan.year), settings.folder("ricevuti")):
        if base.is_dir():
            for child in base.iterdir():
                if child.is_dir() and child.name.startswith(ROUND_PREFIX):
                    d = parse_key(child.name[len(ROUND_PREFIX):])
                    if d is not None and d.year == plan.year:
                        found.add(d)
    return sorted(found)


@dataclass
class RoundRead:
    """The returns of one round: every file read (with its findings) and the returns they give."""

    round: Round
    results: list[WorkbookResult]
    returns: list[RoundReturn]
    skipped: list[str]


def read_round(plan: Plan, as_of: date, paths: Sequence[str | Path],
               provenance: Mapping[str, Provenance] | None = None) -> RoundRead:
    """Read the returned forms of a round (files or folders, read recursively); a file of another round, or of the
    year end, is a rejected result naming its round, never one of this round's returns. ``provenance``: when each
    file was sent, by SHA-256, as the ledger knows it (else the file's own last-saved time)."""
    files, skipped = _files(paths)
    results = [read_round_workbook(f, plan, as_of) for f in files]
    known = provenance or {}
    returns = [r for res in results if res.sectors for r in round_returns(res, plan, known.get(res.sha256))]
    return RoundRead(round_of(plan, as_of), results, returns, skipped)


def _files(paths: Sequence[str | Path]) -> tuple[list[Path], list[str]]:
    """The workbooks among ``paths`` (folders read with their sub-folders) and what else was there."""
    books, others = expand_paths([Path(p) for p in paths if Path(p).exists()])
    return books, [str(p) for p in paths if not Path(p).exists()] + [str(o) for o in others]


def round_paths(settings: Settings | None, as_of: date, given: Iterable[str]) -> list[str]:
    """The files to read for a round: those given, else the round's folder of returns in the workspace."""
    given = list(given)
    if given:
        return given
    folder = returns_folder(settings, as_of)
    return [str(folder)] if folder is not None and folder.is_dir() else []


def round_plan(plan: Plan, as_of: date, paths: Sequence[str | Path], versions: Sequence[PlanVersion]) -> Plan:
    """The plan version a round is evaluated on: the recorded version its forms were made on (their fingerprint),
    else the plan in force. A round is a snapshot: a revision approved after it does not change it."""
    if not versions:
        return plan
    by_print = {v.fingerprint: v.plan for v in versions}
    files, _ = _files(paths)
    for f in files:
        try:
            package = open_package(read_bounded(f), f.name, extent=False)
            props, _saved = read_properties(package)
        except Exception:  # an unreadable file says nothing about its version; the reader reports it
            continue
        if props.get(ROUND_PROPERTY) == as_of.isoformat() and props.get("piao_fingerprint") in by_print:
            return by_print[props["piao_fingerprint"]]
    return plan


def evaluate_rounds(settings: Settings | None, plan: Plan, as_of: date, paths: Sequence[str],
                    previous_paths: Sequence[str] = (), ledger: Ledger | None = None
                    ) -> tuple[RoundEvaluation, RoundRead, RoundRead | None]:
    """The round at ``as_of`` evaluated on its returns, with the change since the previous round (the latest round
    before it in the workspace, or the files given as ``previous_paths``). In a workspace each round is read and
    evaluated on the plan version its forms were made on; objectives are compared by their identifier."""
    versions = usable_versions(ledger) if ledger is not None else []
    prev_eval: RoundEvaluation | None = None
    prev_read: RoundRead | None = None
    earlier = [d for d in known_rounds(settings, plan) if d < as_of]
    if previous_paths or earlier:
        prev_date = earlier[-1] if earlier else None
        if previous_paths and prev_date is None:
            prev_date = _round_in(previous_paths, plan)
        if prev_date is not None:
            prev_paths = round_paths(settings, prev_date, previous_paths)
            prev_plan = round_plan(plan, prev_date, prev_paths, versions)
            prev_read = read_round(prev_plan, prev_date, prev_paths,
                                   round_provenance(ledger, prev_date) if ledger is not None else None)
            prev_chosen = chosen_files(ledger, prev_plan, round=prev_date.isoformat()) if ledger is not None else set()
            prev_eval = evaluate_round(prev_plan, prev_read.round, prev_read.returns, chosen=prev_chosen)
    this = round_plan(plan, as_of, paths, versions)
    read = read_round(this, as_of, paths, round_provenance(ledger, as_of) if ledger is not None else None)
    chosen = chosen_files(ledger, this, round=as_of.isoformat()) if ledger is not None else set()
    return evaluate_round(this, read.round, read.returns, prev_eval, chosen=chosen), read, prev_read


def previous_returns(settings: Settings | None, plan: Plan, as_of: date) -> tuple[date | None, list[RoundReturn]]:
    """The returns of the latest round before ``as_of`` in the workspace (to prefill the new round's forms)."""
    earlier = [d for d in known_rounds(settings, plan) if d < as_of]
    if not earlier:
        return None, []
    paths = round_paths(settings, earlier[-1], ())
    if not paths:
        return earlier[-1], []
    read = read_round(plan, earlier[-1], paths)
    from ..core.rounds import choose_returns

    return earlier[-1], list(choose_returns(read.returns).values())


def _round_in(paths: Sequence[str | Path], plan: Plan) -> date | None:
    """The round of the first readable monitoring form among ``paths`` (its document properties)."""
    files, _ = _files(paths)
    for f in files:
        try:
            props, _saved = read_properties(f)
        except Exception:  # an unreadable file says nothing about its round
            continue
        d = parse_key(props.get(ROUND_PROPERTY, ""))
        if d is not None and d.year == plan.year:
            return d
    return None


# --- a round in the ledger: its returns checked, its state ------------------------------------------------------

def round_of_props(props: Mapping[str, str], plan: Plan) -> date | None:
    """The round a file's document properties name (None: a year-end form, or a date not of the plan's year: the
    reader then refuses it as such)."""
    d = parse_key(props.get(ROUND_PROPERTY, ""))
    return d if d is not None and d.year == plan.year else None


def check_round_file(ledger: Ledger, plan: Plan, path: Path, as_of: date, name: str = "",
                     extra: list[Finding] | None = None, sector_hint: str = "", message_id: str = "",
                     sender: str = "") -> WorkbookResult:
    """A round's returned file checked (:func:`~piao_xls.returns.monitoring.read_round_workbook`) and recorded in
    the ledger with its round."""
    res = with_extra(read_round_workbook(path, round_plan(plan, as_of, [path], usable_versions(ledger)), as_of),
                     list(extra or []))
    record_check(ledger, plan, res, name or path.name, party_of(res) or sector_hint, message_id, sender,
                 round=as_of.isoformat())
    return res


def round_provenance(ledger: Ledger, as_of: date) -> dict[str, Provenance]:
    """SHA-256 -> provenance of the round's files as the ledger knows them (when each was sent)."""
    return {r.sha256: r.provenance for r in returned_files(ledger, as_of.isoformat())}


def opened_rounds(ledger: Ledger) -> list[date]:
    """The rounds opened in this workspace (``monitoraggio apri``), in order."""
    found = set()
    for e in ledger.events("monitoraggio-apri"):
        d = parse_key(str(json.loads(e["detail"] or "{}").get("round", "")))
        if d is not None:
            found.add(d)
    return sorted(found)


def round_state(settings: Settings, plan: Plan, ledger: Ledger, as_of: date) -> list[PartyState]:
    """Per sector (and source), for the round: sent, received, the return that counts (the one sent last, as for
    the year) and its check, the returns it supersedes or a conflict, the last reminder."""
    key = as_of.isoformat()
    returns = party_returns(ledger, plan, key)
    chosen = chosen_files(ledger, plan, returns, key)
    out = []
    for code, name, who in parties(plan):
        st = PartyState(code, name, who, settings.address(code, plan))
        counts, superseded, conflict = which_counts(returns[code], code, chosen)
        for m in ledger.messages(round=key):
            if code not in m["sector"].split(","):
                continue
            if m["direction"] == "out" and m["kind"] == "invio":
                st.sent_at, st.sent_to, st.sent_how = m["at"], m["recipient"], m["transport"]
            elif m["direction"] == "out" and m["kind"] == "sollecito":
                st.last_reminder = m["at"]
            elif (m["direction"] == "in" and counts is not None and m["file_sha256"] == counts.sha256
                  and m["sender"] == counts.check["sender"]):
                st.received_at, st.received_from, st.received_how = m["at"], m["sender"], m["transport"]
        if counts is not None:
            st.check = counts.check
            st.status, st.file = counts.check["status"], counts.check["name"]
            st.file_sent, st.file_sent_from = counts.provenance.sent, counts.provenance.sent_from
            st.superseded = [{"file": r.check["name"], "sent": r.provenance.sent, "sent_from": r.provenance.sent_from,
                              "status": r.check["status"]} for r in superseded]
        elif conflict:
            st.status = CONFLICT
            st.conflict = [{"file": r.check["name"], "sent": r.provenance.sent, "sent_from": r.provenance.sent_from,
                            "status": r.check["status"]} for r in conflict]
            st.resolve = f"piao-xls scegli {code} FILE --monitoraggio {as_of:%d/%m/%Y}"
        out.append(st)
    return out


def year_received(settings: Settings) -> list[Path]:
    """What the year-end commands read in ``ricevuti/``: everything but the monitoring rounds' folders (a round's
    return is never read as a year-end one; it would only be refused there)."""
    folder = settings.folder("ricevuti")
    if not folder.is_dir() or not any(folder.iterdir()):
        return [folder]  # as before rounds existed: the (empty or missing) folder itself
    return [p for p in sorted(folder.iterdir()) if not (p.is_dir() and p.name.startswith(ROUND_PREFIX))]


def record_round_report(ledger: Ledger, rev: RoundEvaluation, read: RoundRead, written: Sequence[Path]) -> None:
    """The evaluation a round's report published (its round, date, plan version, the digest of its figures and
    each sector's light) and the event, as ``consolida`` records the year's."""
    key = rev.round.key
    ledger.add_evaluation(rev.evaluation.plan.fingerprint, rev.evaluation.digest(), round=key, as_of=key,
                          summary=str(written[0]), figures={x.code: str(x.state) for x in rev.sectors})
    ledger.add_event("monitoraggio-rapporto", round=key, files=[r.path for r in read.results],
                     report=[str(w) for w in written])
