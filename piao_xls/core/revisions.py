"""Plan versions and revisions (pure): what changed between two versions of a plan, and the checks a revision and
the year's timeline must pass.

A plan has versions: the one adopted (version 1) and one per revision approved by an act of the Giunta
("rimodulazione"). :func:`diff_plans` compares two versions per objective and indicator, keyed by their stable
identifiers (``SF-6``, ``SF-6.1``); :func:`check_revision` refuses a revision dated before the version it
revises, one that removes an objective already reported on, or one that changes nothing;
:func:`timeline_findings` flags objectives assigned or changed after the cut-off of the settings (or after the
deadline they measure) for the Nucleo.

The carry-over rule (docs/revisions.md): a value reported on an earlier version counts under a later one only
for an indicator that did not change at all (same identifier in the same objective, same description, target,
rule, baseline, source and weight). Every other indicator of the sector is asked for again.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from enum import Enum
from itertools import pairwise

from . import italian
from .errors import ERROR, WARNING, Finding
from .model import Indicator, Objective, Plan, Rule, Sector, canonical_json


class Change(str, Enum):
    """What changed, per objective or indicator (English codes; Italian words in :data:`CHANGE_IT`)."""

    ADDED = "added"
    REMOVED = "removed"
    TARGET = "target"
    WEIGHT = "weight"
    BASELINE = "baseline"
    DEADLINE = "deadline"
    WORDING = "wording"
    SOURCE = "source"


CHANGE_IT = {Change.ADDED: "aggiunto", Change.REMOVED: "tolto", Change.TARGET: "target",
             Change.WEIGHT: "peso", Change.BASELINE: "valore di partenza", Change.DEADLINE: "scadenza",
             Change.WORDING: "testo", Change.SOURCE: "fonte del dato"}
LEVEL_IT = {"objective": "obiettivo", "indicator": "indicatore"}


@dataclass(frozen=True)
class Act:
    """The act that adopted or revised the plan: «Delibera di Giunta comunale n. 45», its date, its reason."""

    text: str
    day: date
    reason: str = ""

    @property
    def organ(self) -> str:
        """The act without its number: «Delibera di Giunta comunale»."""
        m = _ACT_NUMBER.search(self.text)
        return self.text[:m.start()].strip(" ,") if m else self.text.strip()

    @property
    def number(self) -> str:
        """The act's number as written («45», «45/2025»), "" when the text gives none."""
        m = _ACT_NUMBER.search(self.text)
        return m.group(1) if m else ""

    def italian(self) -> str:
        """«Delibera di Giunta comunale n. 45 del 15/07/2025»."""
        return f"{self.text.strip()} del {italian.day(self.day)}"


_ACT_NUMBER = re.compile(r"\b(?:n\.|n°|nr\.?|num\.|numero)\s*([0-9][0-9A-Za-z/.-]*)", re.I)


@dataclass(frozen=True)
class PlanVersion:
    """One version of the plan: 1 is the plan adopted, 2.. the revisions, each with its act."""

    number: int
    plan: Plan
    act: Act

    @property
    def fingerprint(self) -> str:
        return self.plan.fingerprint

    def italian(self) -> str:
        """«versione 2 (Delibera di Giunta comunale n. 45 del 15/07/2025)»."""
        return f"versione {self.number} ({self.act.italian()})"

    def label(self) -> str:
        """What a form says of its version («2 (Delibera di Giunta comunale n. 45 del 15/07/2025)»), within the 250
        characters a document property holds."""
        text = f"{self.number} ({self.act.italian()})"
        return text if len(text) <= 250 else f"{text[:248]}…)"


@dataclass(frozen=True)
class ItemChange:
    """One change of one objective or indicator: ``before`` and ``after`` as a person reads them ("" when the
    item did not exist)."""

    level: str  # "objective" or "indicator"
    item_id: str  # SF-6, SF-6.1
    sector: str
    change: Change
    before: str = ""
    after: str = ""

    def italian(self) -> str:
        """«indicatore SF-6.1: target «100%» → «90%»», «obiettivo SF-7 aggiunto: «Nuovo obiettivo»»."""
        what = f"{LEVEL_IT[self.level]} {self.item_id}"
        if self.change is Change.ADDED:
            return f"{what} aggiunto: «{self.after}»"
        if self.change is Change.REMOVED:
            return f"{what} tolto (era «{self.before}»)"
        return f"{what}: {CHANGE_IT[self.change]} «{self.before}» → «{self.after}»"


@dataclass(frozen=True)
class PlanDiff:
    """Every change from ``old`` to ``new``, in the new plan's order (removed items after their sector's)."""

    old: Plan
    new: Plan
    changes: tuple[ItemChange, ...] = ()
    #: indicators present in both versions and identical: their values carry over
    unchanged_indicators: frozenset[str] = field(default_factory=frozenset)

    @property
    def empty(self) -> bool:
        return not self.changes

    def of(self, item_id: str) -> tuple[ItemChange, ...]:
        return tuple(c for c in self.changes if c.item_id == item_id)

    def by_change(self, change: Change, level: str | None = None) -> tuple[ItemChange, ...]:
        return tuple(c for c in self.changes if c.change is change and (level is None or c.level == level))

    def in_sector(self, code: str) -> tuple[ItemChange, ...]:
        return tuple(c for c in self.changes if c.sector == code)

    def carries_over(self, indicator_id: str) -> bool:
        """Whether a value reported for ``indicator_id`` on the old version counts under the new one."""
        return indicator_id in self.unchanged_indicators

    def changed_objectives(self) -> tuple[str, ...]:
        """Objectives added or changed (themselves or one of their indicators), in order."""
        out: dict[str, None] = {}
        for c in self.changes:
            if c.change is Change.REMOVED:
                continue
            out[c.item_id if c.level == "objective" else _objective_of(self.new, c.item_id)] = None
        return tuple(k for k in out if k)


def _objective_of(plan: Plan, indicator_id: str) -> str:
    for o in plan.objectives:
        if any(i.id == indicator_id for i in o.indicators):
            return o.id
    return ""


# --- the diff -----------------------------------------------------------------------------------------------

_BASELINE_FIELDS = ("baseline", "baseline_year")
_DEADLINE_FIELDS = ("deadline",)


def _num(x: float | None) -> str:
    return "" if x is None else italian.plain(x)


def _weight(o: Objective) -> str:
    if o.gate:
        return "X (obiettivo di accesso)"
    return italian.plain(o.coefficient) if o.coefficient is not None else f"{italian.plain(o.weight, 2)}%"


def _deadline_text(o: Objective) -> str:
    return "; ".join(t for t in [o.tempi, *(s.tempi for s in o.steps)] if t.strip())


def _objective_wording(o: Objective) -> str:
    parts = [o.title, o.risultato, o.impatto, o.stakeholder, o.programma, o.obiettivo_operativo, o.dup,
             *(s.text for s in o.steps)]
    return " | ".join(p for p in parts if p)


def _rule_without(rule: Rule, names: Sequence[str]) -> Rule:
    cleared: dict[str, object] = {n: None for n in names}
    return replace(rule, **cleared)  # type: ignore[arg-type]


def _baseline(ind: Indicator) -> str:
    r = ind.rule
    parts = []
    if r.baseline is not None:
        parts.append(italian.value(r.baseline, r.unit))
    if r.baseline_year is not None:
        parts.append(f"anno {r.baseline_year}")
    if ind.previous is not None:
        parts.append(f"anno precedente {italian.value(ind.previous, r.unit)}")
    return ", ".join(parts) or "nessuno"


def _indicator_changes(old: Indicator, new: Indicator, sector: str) -> list[ItemChange]:
    out = []

    def add(change: Change, before: str, after: str) -> None:
        out.append(ItemChange("indicator", new.id, sector, change, before, after))

    if (old.description, old.profilo, old.data_source) != (new.description, new.profilo, new.data_source):
        add(Change.WORDING, old.description, new.description) if old.description != new.description else \
            add(Change.WORDING, f"{old.profilo}; {old.data_source}".strip("; "),
                f"{new.profilo}; {new.data_source}".strip("; "))
    plain_old = _rule_without(old.rule, _BASELINE_FIELDS + _DEADLINE_FIELDS)
    plain_new = _rule_without(new.rule, _BASELINE_FIELDS + _DEADLINE_FIELDS)
    if old.target_text != new.target_text or plain_old != plain_new:
        add(Change.TARGET, old.target_text, new.target_text)
    if old.rule.deadline != new.rule.deadline:
        add(Change.DEADLINE, italian.day(old.rule.deadline) or "nessuna", italian.day(new.rule.deadline) or "nessuna")
    if _baseline(old) != _baseline(new):
        add(Change.BASELINE, _baseline(old), _baseline(new))
    if old.source != new.source:
        add(Change.SOURCE, old.source, new.source)
    if old.weight != new.weight:
        add(Change.WEIGHT, _num(old.weight), _num(new.weight))
    return out


def _objective_changes(old: Objective, new: Objective, sector: str) -> list[ItemChange]:
    out = []
    if _objective_wording(old) != _objective_wording(new):
        before, after = (old.title, new.title) if old.title != new.title else \
            (_objective_wording(old), _objective_wording(new))
        out.append(ItemChange("objective", new.id, sector, Change.WORDING, before, after))
    if (old.weight, old.gate, old.coefficient) != (new.weight, new.gate, new.coefficient):
        out.append(ItemChange("objective", new.id, sector, Change.WEIGHT, _weight(old), _weight(new)))
    if _deadline_text(old) != _deadline_text(new):
        out.append(ItemChange("objective", new.id, sector, Change.DEADLINE, _deadline_text(old) or "nessuna",
                              _deadline_text(new) or "nessuna"))
    return out


def _same(a: object, b: object) -> bool:
    """Equal in every field that counts in the plan's canonical form (file positions ignored)."""
    return canonical_json(a) == canonical_json(b)


def diff_plans(old: Plan, new: Plan) -> PlanDiff:
    """Every change from ``old`` to ``new`` per objective and indicator, keyed by identifier."""
    changes: list[ItemChange] = []
    unchanged: set[str] = set()
    old_objectives = {o.id: (s, o) for s in old.sectors for o in s.objectives}
    new_ids = {o.id for o in new.objectives}
    old_sectors = {s.code: s for s in old.sectors}

    def removed_of(sector: Sector) -> None:
        for o in sector.objectives:
            if o.id not in new_ids:
                changes.append(ItemChange("objective", o.id, sector.code, Change.REMOVED, before=o.title))

    for s in new.sectors:
        for o in s.objectives:
            if o.id not in old_objectives:
                changes.append(ItemChange("objective", o.id, s.code, Change.ADDED, after=o.title))
                changes.extend(ItemChange("indicator", i.id, s.code, Change.ADDED, after=i.description)
                               for i in o.indicators)
                continue
            _, before = old_objectives[o.id]
            changes.extend(_objective_changes(before, o, s.code))
            old_inds = {i.id: i for i in before.indicators}
            new_inds = {i.id for i in o.indicators}
            for i in o.indicators:
                if i.id not in old_inds:
                    changes.append(ItemChange("indicator", i.id, s.code, Change.ADDED, after=i.description))
                elif _same(old_inds[i.id], i):
                    unchanged.add(i.id)
                else:
                    found = _indicator_changes(old_inds[i.id], i, s.code)
                    changes.extend(found or [ItemChange("indicator", i.id, s.code, Change.TARGET,
                                                        old_inds[i.id].target_text, i.target_text)])
            changes.extend(ItemChange("indicator", i.id, s.code, Change.REMOVED, before=i.description)
                           for i in before.indicators if i.id not in new_inds)
        if s.code in old_sectors:
            removed_of(old_sectors[s.code])
    for s in old.sectors:
        if s.code not in {x.code for x in new.sectors}:
            removed_of(s)
    return PlanDiff(old, new, tuple(changes), frozenset(unchanged))


# --- a revision's checks ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Reported:
    """A return already in for a sector: the file's name and when it came in (ISO)."""

    sector: str
    name: str
    at: str


def check_revision(current: PlanVersion, new: Plan, act: Act, reported: Iterable[Reported] = (),
                   adopted: date | None = None, where: str = "") -> list[Finding]:
    """Why a revision of ``current`` into ``new`` by ``act`` cannot be recorded (errors, Italian), or [].

    ``reported``: the returns already in (year-end forms); ``adopted``: the date of the plan's adoption;
    ``where``: the revision's plan file, named in every finding."""
    out: list[Finding] = []
    file = where or None
    for key, what in (("plan_id", "codice del piano"), ("year", "anno"), ("comune", "comune")):
        if getattr(new, key) != getattr(current.plan, key):
            out.append(Finding("REV-PLAN", ERROR, f"la revisione ha un altro {what} («{getattr(new, key)}») rispetto "
                               f"al piano in vigore («{getattr(current.plan, key)}»): una revisione modifica il piano "
                               "dell'anno, non ne crea un altro", file=file))
    if out:
        return out
    if adopted is not None and act.day < adopted:
        out.append(Finding("REV-DATE", ERROR, f"la revisione è datata {italian.day(act.day)}, prima dell'adozione "
                           f"del piano ({italian.day(adopted)}): controllare la data dell'atto", file=file))
    elif act.day < current.act.day:
        out.append(Finding("REV-DATE", ERROR, f"la revisione è datata {italian.day(act.day)}, prima della "
                           f"{current.italian()} che modifica: controllare la data dell'atto", file=file))
    d = diff_plans(current.plan, new)
    if d.empty:
        out.append(Finding("REV-NO-CHANGE", ERROR, f"il piano indicato è uguale alla {current.italian()}: non c'è "
                           "nulla da registrare", file=file))
    by_sector: dict[str, list[Reported]] = {}
    for r in reported:
        for code in r.sector.split(","):
            by_sector.setdefault(code, []).append(r)
    for c in d.by_change(Change.REMOVED, "objective"):
        if c.sector in by_sector:
            first = by_sector[c.sector][0]
            out.append(Finding(
                "REV-REMOVED-REPORTED", ERROR,
                f"la revisione toglie l'obiettivo {c.item_id} «{c.before}», ma il settore {c.sector} ha già "
                f"restituito il modulo ({first.name}, ricevuto il {italian.day(first.at)}): un obiettivo già "
                "rendicontato non si toglie; se non deve più contare, il Nucleo lo neutralizza con una decisione "
                "(docs/scoring.md)", file=file, sector=c.sector))
    return out


# --- the timeline -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LateChange:
    """An objective a revision added or changed late: after the cut-off of the settings, or after a deadline it
    measures (``why``: the Italian clause after «obiettivo SF-6 modificato con la versione 2 (…), »)."""

    version: int
    objective_id: str
    sector: str
    what: str  # "assegnato" or "modificato"
    act: str  # «versione 2 (Delibera … del …)»
    why: str

    def italian(self) -> str:
        return f"obiettivo {self.objective_id} {self.what} con la {self.act}, {self.why}"


def late_changes(versions: Sequence[PlanVersion], cutoff: date | None) -> list[LateChange]:
    """Every objective a revision added or changed after ``cutoff``, or before it but after a deadline it
    measures (an indicator's own deadline, already passed on the date of the act, and the indicator changed)."""
    out: list[LateChange] = []
    for before, after in pairwise(versions):
        d = diff_plans(before.plan, after.plan)
        when = after.act.day
        for oid in d.changed_objectives():
            sector = oid.split("-")[0]
            added = any(c.change is Change.ADDED for c in d.of(oid))
            what = "assegnato" if added else "modificato"
            if cutoff is not None and when > cutoff:
                out.append(LateChange(after.number, oid, sector, what, after.italian(),
                                      f"dopo il termine del {italian.day(cutoff)} fissato nelle impostazioni"))
                continue
            passed = [i for o in before.plan.objectives if o.id == oid for i in o.indicators
                      if i.rule.deadline is not None and i.rule.deadline < when and not d.carries_over(i.id)]
            if passed:
                i = passed[0]
                out.append(LateChange(after.number, oid, sector, what, after.italian(),
                                      f"dopo la scadenza che misura (indicatore {i.id}: {italian.day(i.rule.deadline)})"))
    return out


def timeline_findings(versions: Sequence[PlanVersion], cutoff: date | None) -> list[Finding]:
    """For the Nucleo (warnings): the plan adopted after the cut-off, and every objective a revision added or changed
    after the cut-off or after a deadline it measures (:func:`late_changes`)."""
    out: list[Finding] = []
    if not versions:
        return out
    first = versions[0]
    if cutoff is not None and first.act.day > cutoff:
        out.append(Finding("REV-LATE", WARNING, f"il piano è stato adottato il {italian.day(first.act.day)} "
                           f"({first.act.text.strip()}), dopo il termine del {italian.day(cutoff)} fissato nelle "
                           "impostazioni: tutti gli obiettivi risultano assegnati in ritardo"))
    out.extend(Finding("REV-LATE", WARNING, c.italian(), sector=c.sector) for c in late_changes(versions, cutoff))
    return out


# --- a return made on an earlier version -----------------------------------------------------------------

def version_of(fingerprint: str, versions: Sequence[PlanVersion]) -> PlanVersion | None:
    return next((v for v in versions if v.fingerprint == fingerprint), None)


def carried_ids(diff: PlanDiff, sector: Sector, source: str) -> tuple[list[str], list[str]]:
    """The scored indicators of ``sector`` (from ``source``) under the new version: those whose values carry
    over from the old one, and those asked for again."""
    keep: list[str] = []
    again: list[str] = []
    for i in sector.indicators:
        if not i.scored or i.source != source:
            continue
        (keep if diff.carries_over(i.id) else again).append(i.id)
    return keep, again


def old_version_finding(old: PlanVersion, new: PlanVersion | None, diff: PlanDiff, sector: Sector, source: str,
                        file: str) -> Finding:
    """The finding about a return on ``old`` read under ``new``: which version, what changed since, what carries
    over and what is asked for again (an error when something is: the sector must send the new form)."""
    keep, again = carried_ids(diff, sector, source)
    changed = [c.italian() for c in diff.in_sector(sector.code)]
    more = len(changed) - 8
    shown = "; ".join(changed[:8]) + ("" if more <= 0 else "; e un'altra modifica" if more == 1 else
                                      f"; e altre {more} modifiche")
    msg = (f"settore {sector.code}: il modulo è stato compilato sulla {old.italian()}; è in vigore la "
           f"{new.italian() if new else 'versione del piano indicata nelle impostazioni (non registrata)'}. ")
    msg += f"Cambiato da allora: {shown}. " if changed else "Per questo settore non è cambiato nulla. "
    msg += (f"Valori ripresi perché l'indicatore non è cambiato: {', '.join(keep)}. " if keep else
            "Nessun valore ripreso. ")
    if again:
        msg += (f"Da compilare di nuovo sul modulo della versione {new.number if new else 'in vigore'}: "
                f"{', '.join(again)}")
    else:
        msg += "Nulla da compilare di nuovo"
    return Finding("REV-OLD-VERSION", ERROR if again else WARNING, msg, file=file, sector=sector.code)


def versions_text(versions: Sequence[PlanVersion]) -> list[str]:
    """One Italian line per version, with its act and reason: what the summary and the Relazione list."""
    out = []
    for v in versions:
        head = "adozione" if v.number == 1 else "revisione"
        line = f"Versione {v.number} ({head}): {v.act.italian()}"
        if v.act.reason:
            line += f" — motivo: {v.act.reason}"
        out.append(line)
    return out



@dataclass(frozen=True)
class ObjectiveChanges:
    """What one revision changed in one objective (itself and its indicators), in Italian."""

    objective_id: str
    title: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class RevisionEntry:
    """One revision as the Relazione and the summary tell it: its act and reason, its changes per objective."""

    version: PlanVersion
    previous: PlanVersion
    objectives: tuple[ObjectiveChanges, ...]


def revision_entries(versions: Sequence[PlanVersion]) -> list[RevisionEntry]:
    """Every revision (version 2 on) with its act and its changes grouped by objective, in plan order (removed
    objectives after the others): the data of the Relazione's chapter on what changed during the year."""
    out = []
    for before, after in pairwise(versions):
        d = diff_plans(before.plan, after.plan)
        titles = {o.id: o.title for o in (*before.plan.objectives, *after.plan.objectives)}
        groups: dict[str, list[str]] = {}
        for c in d.changes:
            oid = c.item_id if c.level == "objective" else (
                _objective_of(after.plan, c.item_id) or _objective_of(before.plan, c.item_id))
            groups.setdefault(oid, []).append(c.italian())
        out.append(RevisionEntry(after, before, tuple(ObjectiveChanges(oid, titles.get(oid, ""), tuple(lines))
                                                      for oid, lines in groups.items())))
    return out


def revision_rows(versions: Sequence[PlanVersion], cutoff: date | None = None) -> list[dict[str, object]]:
    """The revisions of :func:`revision_entries` as rows of the results (JSON keys in English, texts in Italian):
    version, act, date (ISO), reason, and per objective its changes and, when the timeline check flags it
    (:func:`late_changes` with ``cutoff``), why the change is late ("" when it is not)."""
    late = {(c.version, c.objective_id): c.why for c in late_changes(versions, cutoff)} if versions else {}
    return [{"version": e.version.number, "act": e.version.act.text, "date": e.version.act.day.isoformat(),
             "act_it": e.version.act.italian(), "reason": e.version.act.reason,
             "changes": [{"objective": o.objective_id, "title": o.title, "lines": list(o.lines),
                          "late": late.get((e.version.number, o.objective_id), "")}
                         for o in e.objectives]}
            for e in revision_entries(versions)]


def change_text(change: Mapping[str, object]) -> str:
    """One objective's changes in a revision row (:func:`revision_rows`), as the summary and the Relazione print
    them: «SF-6 «TITOLO»: indicatore SF-6.1: target «…» → «…»; …»."""
    lines = change.get("lines")
    return (f"{change.get('objective', '')} «{change.get('title', '')}»: "
            + "; ".join(map(str, lines if isinstance(lines, (list, tuple)) else ())))


def act_text(row: Mapping[str, object]) -> str:
    """The act of a revision row, as printed: «Delibera di Giunta comunale n. 45 del 15/07/2025» (rows without the
    act's own wording: the act as written and its date)."""
    act = str(row.get("act_it") or "")
    if act:
        return act
    day = row.get("date")
    return " del ".join(t for t in (str(row.get("act") or ""), italian.day(str(day)) if day else "") if t) or "—"
