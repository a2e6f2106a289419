"""The plan's versions in the workspace: the adoption and every revision, each with its act.

Every version's plan file is kept, as it was recorded, in ``piano/versioni/`` (``v1-<name>``, ``v2-<name>``...),
and recorded in the ledger (``versions``: number, fingerprint, file and its SHA-256, act, date, reason). The plan
in force is the latest version: recording a revision points the settings' ``[ente] piano`` at its file, so every
command uses it. A revision is checked before anything is written (:func:`revise`): a plan with errors (weights
not summing to 100...), another plan, a date before the adoption or the version it revises, a removed objective
already reported on, or no change at all are refused with Italian findings, and nothing in the workspace changes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import pairwise
from pathlib import Path

from ..core import italian
from ..core.errors import ERROR, Finding
from ..core.model import Plan
from ..core.revisions import (
    Act,
    PlanDiff,
    PlanVersion,
    Reported,
    check_revision,
    diff_plans,
    timeline_findings,
    version_of,
)
from ..plan.load import check_plan
from ..plan.revisions_book import write_revisions
from ..returns.reader import read_properties
from ..sheetio.atomic import write_bytes_atomic, write_text_atomic
from .ledger import Ledger
from .planversions import FOLDER, Recorded, VersionError, earlier, in_force, recorded, sha256_of, versions
from .settings import SETTINGS_NAME, Settings, load_settings
from .year import counted_checks, results_file


@dataclass(frozen=True)
class Revision:
    """A revision recorded: the new version, the diff from the version before, the workbook for the Nucleo."""

    version: PlanVersion
    previous: PlanVersion
    diff: PlanDiff
    book: Path


def cutoff(settings: Settings) -> date:
    """The settings' ``termine_revisioni``, by default 30 September of the year."""
    return settings.revision_cutoff or date(settings.year, 9, 30)


def _store(settings: Settings, number: int, source: Path) -> Path:
    folder = settings.root / FOLDER
    target = folder / f"v{number}-{source.name}"
    if target.exists():
        raise VersionError([Finding("REV-PLAN", ERROR, f"{target} esiste già: la versione {number} è già stata "
                                    "registrata o il file è stato messo lì a mano; spostarlo altrove e riprovare",
                                    file=str(target))])
    write_bytes_atomic(target, source.read_bytes())
    return target


def _record(ledger: Ledger, settings: Settings, number: int, plan: Plan, stored: Path, act: Act) -> None:
    ledger.add_version(number, plan.fingerprint, stored.relative_to(settings.root).as_posix(), sha256_of(stored),
                       act.text, act.day.isoformat(), act.reason, act.organ, act.number)


def record_adoption(settings: Settings, ledger: Ledger, plan: Plan, act: Act) -> PlanVersion:
    """Record the plan in force as version 1, adopted by ``act`` (refused when the adoption is recorded)."""
    if recorded(ledger):
        raise VersionError([Finding("REV-DATE", ERROR, "l'adozione del piano è già registrata: una modifica del "
                                    "piano si registra con «piao-xls piano revisione»")])
    if act.day.year > plan.year:
        raise VersionError([Finding("REV-DATE", ERROR, f"l'adozione è datata {act.day:%d/%m/%Y}, dopo l'anno del "
                                    f"piano ({plan.year}): controllare la data dell'atto")])
    stored = _store(settings, 1, settings.plan)
    try:
        _point_settings(settings, stored)
        _record(ledger, settings, 1, plan, stored, act)
    except BaseException:
        stored.unlink(missing_ok=True)
        raise
    return PlanVersion(1, plan, act)


def returns_in(ledger: Ledger) -> list[Reported]:
    """The returns already in (received files that count), per sector."""
    return [Reported(c["sector"], c["name"], c["at"]) for c in counted_checks(ledger) if c["sector"]]


def revise(settings: Settings, ledger: Ledger, source: str | Path, act: Act) -> Revision:
    """Record the plan file ``source`` as a revision by ``act``: checked first (:class:`VersionError`, nothing
    written), then stored, made the plan in force, recorded, and its workbook for the Nucleo written."""
    source = Path(source)
    known = versions(ledger)
    if not known:
        raise VersionError([Finding("REV-NO-ADOPTION", ERROR, "l'adozione del piano non è registrata: prima "
                                    "«piao-xls piano adozione --atto \"Delibera di Giunta comunale n. …\" --data "
                                    "GG/MM/AAAA», poi la revisione", file=str(source))])
    new, findings = check_plan(source)
    if new is None:
        errors = [f for f in findings if f.severity == ERROR]
        raise VersionError([Finding("REV-PLAN", ERROR, f"la revisione non è registrata: il piano {source} contiene "
                                    f"{len(errors)} {'errore' if len(errors) == 1 else 'errori'}", file=str(source)),
                            *errors])
    current = known[-1]
    problems = check_revision(current, new, act, returns_in(ledger), known[0].act.day, str(source))
    if problems:
        raise VersionError(problems)
    number = current.number + 1
    stored = _store(settings, number, source)
    before = settings.settings_file.read_bytes()
    try:
        _point_settings(settings, stored)
        _record(ledger, settings, number, new, stored, act)
    except BaseException:
        write_bytes_atomic(settings.settings_file, before)
        stored.unlink(missing_ok=True)
        raise
    version = PlanVersion(number, new, act)
    d = diff_plans(current.plan, new)
    book = write_book(settings, [*known, version])
    ledger.add_event("piano revisione", version=number, act=act.text, date=act.day.isoformat(), reason=act.reason,
                     changes=len(d.changes), book=str(book))
    return Revision(version, current, d, book)


def history(all_versions: list[PlanVersion]) -> list[tuple[PlanVersion, PlanVersion, PlanDiff]]:
    """Each revision with the version before it and their diff."""
    return [(a, b, diff_plans(a.plan, b.plan)) for a, b in pairwise(all_versions)]


def book_file(settings: Settings, plan: Plan) -> Path:
    return results_file(settings, plan, f"PIAO-{plan.year}-Versioni-del-piano.xlsx")


def write_book(settings: Settings, all_versions: list[PlanVersion], forms: list[list[str]] | None = None) -> Path:
    """The workbook for the Nucleo: every version, every change, the timeline check, and (``forms``, see
    :func:`forms_on_versions`) which returned form was made on which version."""
    out = book_file(settings, all_versions[-1].plan)
    late = timeline_findings(all_versions, cutoff(settings))
    write_revisions(out, all_versions, history(all_versions), [f.message for f in late], forms or ())
    return out


def forms_on_versions(sources: Sequence[Mapping[str, object]], all_versions: Sequence[PlanVersion]
                      ) -> list[list[str]]:
    """Per returned file of a consolidation (``Consolidation.sources``: path, sectors, received): its name, sectors,
    the version of the plan it was made on (from its fingerprint; «non riconosciuta» for a form of no recorded
    version) with that version's act, and when it was received."""
    rows = []
    by_number = {v.number: v for v in all_versions}
    for src in sources:
        path = Path(str(src.get("path", "")))
        if path.suffix.lower() not in (".xlsx", ".ods"):
            continue
        props: dict[str, str] = {}
        if "plan_version" in src:  # the consolidation read it already (results.consolidate)
            v = by_number.get(int(str(src["plan_version"])))
        else:
            try:
                props, _ = read_properties(path)  # already through the guard when it was read
            except Exception:
                props = {}
            v = version_of(props.get("piao_fingerprint", ""), all_versions)
        rows.append([path.name, str(src.get("sectors") or props.get("piao_sectors", "")),
                     str(v.number) if v else "non riconosciuta", v.act.italian() if v else "",
                     italian.day(str(src.get("received") or ""))])
    return rows


def timeline(settings: Settings, ledger: Ledger) -> list[Finding]:
    """The timeline check (warnings for the Nucleo): see :func:`piao_xls.core.revisions.timeline_findings`."""
    return timeline_findings(versions(ledger), cutoff(settings))


_PLAN_LINE = re.compile(r"^(\s*piano\s*=\s*)(\"[^\"\n]*\"|'[^'\n]*')(.*)$")


def _point_settings(settings: Settings, plan_file: Path) -> None:
    """Make ``plan_file`` the plan in force: the ``[ente] piano`` line of the settings, rewritten (comments and
    every other line kept)."""
    path = settings.settings_file
    text = path.read_text(encoding="utf-8")
    rel = plan_file.relative_to(settings.root).as_posix()
    lines = text.split("\n")
    section = ""
    for n, line in enumerate(lines):
        head = re.match(r"^\s*\[([^\]]+)\]", line)
        if head:
            section = head.group(1).strip()
            continue
        m = _PLAN_LINE.match(line)
        if section == "ente" and m:
            lines[n] = f'{m.group(1)}"{rel}"{m.group(3)}'
            break
    else:
        raise VersionError([Finding("REV-PLAN", ERROR, f"{path}: non trovo la riga «piano = …» nella sezione [ente]",
                                    file=str(path))])
    write_text_atomic(path, "\n".join(lines))
    if load_settings(settings.root).plan != plan_file.resolve():
        write_text_atomic(path, text)
        raise VersionError([Finding("REV-PLAN", ERROR, f"{path}: impossibile indicare il nuovo piano nella riga "
                                    "«piano = …»", file=str(path))])


__all__ = ["FOLDER", "SETTINGS_NAME", "Recorded", "Revision", "VersionError", "book_file", "cutoff", "earlier",
           "history", "in_force", "record_adoption", "recorded", "returns_in", "revise", "timeline", "versions",
           "write_book"]


def for_consolidation(settings: Settings, ledger: Ledger) -> tuple[list[PlanVersion], list[Finding]]:
    """What a year-end consolidation in a workspace needs: the recorded versions (a form of a superseded one is
    read on it and carried over) and the timeline check's findings for the Nucleo. ([], []) without versions."""
    known = versions(ledger)
    return known, (timeline_findings(known, cutoff(settings)) if known else [])


def diff_lines(d: PlanDiff) -> list[str]:
    """The diff in Italian, one line per change, grouped by sector: what the clerk reads."""
    out: list[str] = []
    sector = None
    names = {s.code: s.name for s in (*d.old.sectors, *d.new.sectors)}
    for c in d.changes:
        if c.sector != sector:
            sector = c.sector
            out.append(f"Settore {c.sector} - {names.get(c.sector, '')}".rstrip(" -"))
        out.append(f"  {c.italian()}")
    return out


def new_form_for(settings: Settings, ledger: Ledger, plan: Plan, path: str | Path, code: str,
                 password: str = "") -> Path | None:
    """For a received file made on a superseded version that must be completed (``REV-OLD-VERSION`` error): the
    form of ``code`` on the version in force, prefilled with the values that carry over, written to
    ``moduli/<year>/ripresi/`` (the reply attaches it). None when the file is not such a return."""
    from ..forms.layout import sector_workbook
    from ..forms.writer import render
    from ..returns.versions import carried_inputs, read_on_versions

    path = Path(path)
    if not path.is_file():
        return None
    res = read_on_versions(path, plan, versions(ledger))
    if not any(f.code == "REV-OLD-VERSION" and f.severity == ERROR for f in res.findings) or code not in res.sectors:
        return None
    prefill = carried_inputs(res)[code]
    current = version_of(plan.fingerprint, versions(ledger))
    book = sector_workbook(plan, plan.sector(code), current.label() if current is not None else "")
    out = settings.folder("moduli") / str(plan.year) / "ripresi" / book.filename
    write_bytes_atomic(out, render(book, password, prefill=prefill))
    return out
