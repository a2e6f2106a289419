"""A return made on an earlier version of the plan: neither tampering nor lost.

:func:`read_on_versions` reads a workbook under the plan in force; when it belongs to an earlier recorded version
(its fingerprint says which), it is read and checked on that version instead, and carried over to the plan in
force: the values of indicators that did not change count (the carry-over rule, docs/revisions.md), the others
are left out and asked for again, and a ``REV-OLD-VERSION`` finding per sector says which version the form is,
what changed since and what must be filled in again (an error when anything must: the sector sends the new form).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..core.errors import ERROR, WARNING, Finding
from ..core.model import Plan
from ..core.revisions import PlanDiff, PlanVersion, diff_plans, old_version_finding, version_of
from ..sheetio.safeopen import Limits
from .reader import (
    ACCEPTED,
    ACCEPTED_WITH_WARNINGS,
    REJECTED,
    SectorSubmission,
    WorkbookResult,
    read_properties,
    read_workbook,
    why_keep,
)


def _identity_only(res: WorkbookResult) -> bool:
    """Whether ``res`` was refused only because it belongs to another version of the plan."""
    errors = [f for f in res.findings if f.severity == ERROR]
    return len(errors) == 1 and errors[0].code == "WB-IDENTITY" and "altra versione del piano" in errors[0].message


def read_on_versions(path: str | Path, plan: Plan, versions: Sequence[PlanVersion],
                     limits: Limits | None = None) -> WorkbookResult:
    """Read ``path`` under ``plan`` (the plan in force); a form of another of the recorded ``versions`` is read on
    its version and carried over (see the module's docstring). Never raises for a bad file."""
    res = read_workbook(path, plan, limits)
    if not versions or not _identity_only(res):
        return res
    try:
        props, _ = read_properties(Path(path))  # the file passed the guard in the reading above
    except Exception:
        return res
    old = version_of(props.get("piao_fingerprint", ""), versions)
    if old is None or old.fingerprint == plan.fingerprint:
        return res
    return carry_over(read_workbook(path, old.plan, limits), old, version_of(plan.fingerprint, versions), plan)


_DIFFS: dict[tuple[str, str], PlanDiff] = {}  # (old, new fingerprint) -> diff: computed once per pair of versions


def carry_over(res: WorkbookResult, old: PlanVersion, new: PlanVersion | None, plan: Plan) -> WorkbookResult:
    """``res`` (read on ``old``) as a result under ``plan`` (version ``new``): see :func:`read_on_versions`."""
    if res.status == REJECTED and not res.sectors:
        return res  # refused on its own version too (tampered, damaged): as it is
    key = (old.fingerprint, plan.fingerprint)
    d = _DIFFS.get(key) or _DIFFS.setdefault(key, diff_plans(old.plan, plan))
    out = WorkbookResult(res.path, kind=res.kind, source=res.source, sha256=res.sha256, size=res.size,
                         saved=res.saved, saved_from=res.saved_from, saved_doubt=res.saved_doubt)
    codes = {s.code for s in plan.sectors}
    file_level = [f for f in res.findings if not f.cell]
    out.findings.extend(f for f in file_level if f.code != "WB-MISSING")
    for code, sub in res.sectors.items():
        if code not in codes:
            continue  # a sector the plan in force no longer has
        sector = plan.sector(code)
        keep = {i.id for i in sector.indicators if d.carries_over(i.id) and i.source == res.source}
        part = SectorSubmission(code, sub.sheet, invalid=set(sub.invalid) & keep)
        part.values = {k: v for k, v in sub.values.items() if k in keep}
        part.texts = {k: v for k, v in sub.texts.items() if k.split("|", 1)[0] in keep}
        part.raw = {k: v for k, v in sub.raw.items() if k.split("|", 1)[0] in keep}
        part.filled = sum(1 for v in part.raw.values() if v not in (None, ""))
        mine = {sub.cells.get(k) for k in sub.raw if k.split("|", 1)[0] in keep} - {None}
        part.findings = [f for f in sub.findings if f.cell in mine]
        note = old_version_finding(old, new, d, sector, res.source, res.path)
        part.findings.append(note)
        out.findings.extend(part.findings)
        out.sectors[code] = part
    errors = any(f.severity == ERROR for f in out.findings)
    out.status = REJECTED if errors else ACCEPTED_WITH_WARNINGS if out.findings else ACCEPTED
    if not out.sectors:
        out.findings.append(Finding("REV-OLD-VERSION", ERROR, f"il modulo è stato compilato sulla {old.italian()} e "
                                    "nessuno dei suoi settori è nel piano in vigore", file=res.path))
        out.status = REJECTED
    return out


def carried_inputs(res: WorkbookResult) -> dict[str, dict[str, object]]:
    """Per sector of a carried-over result (read with ``keep_raw``: not released), the input cells whose values
    carry over, as typed (input key -> raw value): what prefills the sector's form of the version in force."""
    return {code: {k: v for k, v in sub.raw.items() if v is not None and v != ""} for code, sub in res.sectors.items()}


def settle(results: list[WorkbookResult]) -> list[WorkbookResult]:
    """A return on a superseded version counts for a sector only until that sector's form on the version in force
    arrives: then its sector is dropped from it, its ``REV-OLD-VERSION`` finding becoming a warning that says so
    (the file stays listed among the sources). Results without a carried-over sector are returned as they are."""
    current: dict[str, str] = {}  # sector -> the first file on the version in force that gives it
    for r in results:
        carried = {f.sector for f in r.findings if f.code == "REV-OLD-VERSION"}
        for code in r.sectors:
            if code not in carried:
                current.setdefault(code, r.path)
    for r in results:
        dropped = [code for code in list(r.sectors) if code in current and any(
            f.code == "REV-OLD-VERSION" and f.sector == code for f in r.findings)]
        if not dropped:
            continue
        for code in dropped:
            gone = r.sectors.pop(code).findings  # its cells' findings and its REV-OLD-VERSION go with it
            r.findings = [f for f in r.findings if f not in gone]
            r.findings.append(Finding("REV-OLD-VERSION", WARNING, f"settore {code}: il modulo compilato su una "
                                      "versione precedente del piano non conta più: è arrivato il modulo della "
                                      f"versione in vigore ({Path(current[code]).name})", file=r.path, sector=code))
        errors = any(f.severity == ERROR for f in r.findings)
        r.status = REJECTED if errors else ACCEPTED_WITH_WARNINGS if r.findings else ACCEPTED
    return results



def why_keep_on_versions(path: str | Path, plan: Plan, versions: Sequence[PlanVersion]) -> str | None:
    """:func:`~piao_xls.returns.reader.why_keep` that knows the recorded versions: a form of an earlier version
    is judged on its own version (an untouched one may be replaced by the form of the version in force)."""
    try:
        props, _ = read_properties(Path(path))
    except Exception:
        props = {}
    old = version_of(props.get("piao_fingerprint", ""), versions)
    return why_keep(path, old.plan if old is not None else plan)
