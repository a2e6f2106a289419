"""The evaluation of a plan on a set of submissions at a date: one pure, typed step.

``evaluate(plan, submissions, decisions, as_of)`` decides which submission counts for each sector and source
(from their provenance), applies the Nucleo di Valutazione's decisions, scores every indicator, objective and
sector (:mod:`piao_xls.core.scoring`) and returns an :class:`Evaluation`: dataclasses with stable English
statuses, the applied weights, the published figures, and every reason as a code with parameters. It reads
no file and writes no word of Italian: the outputs (summary workbook, JSON, CSV, Relazione, the command
line) render it (:mod:`piao_xls.results.consolidate`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from enum import Enum

from .answers import NOT_AVAILABLE_REASON
from .decisions import CORRECT, NEUTRALISE, NOT_APPLICABLE, PLAN, Decision, same_value
from .errors import ERROR, WARNING
from .model import Indicator, Objective, Plan, Sector
from .rules.base import INFORMATIVE, MISSING
from .scoring import NOT_APPLICABLE as NOT_APPLICABLE_SCORE
from .scoring import IndicatorScore, ObjectiveScore, SectorScore, score_sector
from .targets import inputs_for
from .years import target_year

RESPONSABILE = "responsabile"
NUCLEO = "nucleo"
EXTERNAL = "esterno"
#: the parties that may give a sector's values, in the order their submissions are chosen
SOURCES = (RESPONSABILE, NUCLEO, EXTERNAL)


class _Token(str, Enum):
    """A stable English token: compares, hashes, prints and serialises as its value."""

    def __str__(self) -> str:
        return str(self.value)


class SectorStatus(_Token):
    """How a sector was evaluated (the JSON's ``sectors[*].status``)."""

    SCORED = "scored"  # scored from accepted submissions
    SCORED_WITH_ISSUES = "scored_with_issues"  # scored, but a submission has errors or a source is missing
    NOT_RECEIVED = "not_received"  # nothing to score it from
    CONFLICT = "conflict"  # submissions that disagree, none chosen
    NOT_EVALUABLE = "not_evaluable"  # nothing measurable in the sector: no score, no band


class IndicatorStatus(_Token):
    """How an indicator was evaluated (the JSON's ``indicators[*].status``)."""

    SCORED = "scored"
    MISSING = "missing"  # no value: scores 0
    INVALID = "invalid"  # a value the rule refuses: scores 0
    INFORMATIVE = "informative"  # no target: reported, not scored
    NOT_APPLICABLE = "not_applicable"  # declared so by a decision: does not count
    NOT_AVAILABLE = "not_available"  # declared «non disponibile» by the Responsabile: scores 0
    NOT_RECEIVED = "not_received"  # its sector was not received
    CONFLICT = "conflict"  # its sector's submissions disagree
    NEUTRALISED = "neutralised"  # its objective was neutralised by the Nucleo: reported, not counted
    EXCLUDED = "excluded"  # its objective is left out by the plan (no measurable target): not counted


class ObjectiveState(_Token):
    """What an objective's figures are (the JSON's ``objectives[*].state``): each has its own word and mark in
    every output, so that no figure that is not a result looks like one."""

    SCORED = "scored"  # counted with an achievement from reported values
    NOT_REPORTED = "not_reported"  # counted, but no counted indicator has a value: scores 0
    NOT_AVAILABLE = "not_available"  # counted, every counted indicator declared «non disponibile»: scores 0
    NEUTRALISED = "neutralised"  # left out by the Nucleo's decision: weight re-proportioned over the others
    EXCLUDED = "excluded"  # left out by the plan (no measurable indicator): weight re-proportioned
    NOT_APPLICABLE = "not_applicable"  # every indicator declared not applicable: left out, weight re-proportioned
    GATE = "gate"  # a gate objective: met or not met, weighs 0
    NOT_SCORED = "not_scored"  # its sector was not scored (not received, conflict)


class Choice(_Token):
    """Which of a sector's submissions of one source counts when they disagree."""

    CONFLICT = "conflict"  # none counts: the sector is not scored until someone decides
    NEWEST = "newest"  # the one sent last counts, when the times can be ordered (else: conflict); a warning says so
    # the year's rule in a workspace: the return sent last counts (the message's Date, the PEC delivery, the time a
    # file saved by hand was received); an earlier one is superseded, which is the correction loop, not an anomaly
    LATEST_SENT = "latest_sent"


class Outcome(_Token):
    """An objective's outcome, for the counts of a sector: on the published achievement, against the plan's
    thresholds (``ScoringPolicy.reached``, ``ScoringPolicy.not_reached_below``; defaults 100% and 50%)."""

    REACHED = "reached"  # published achievement >= the "reached" threshold
    PARTLY = "partly"
    NOT_REACHED = "not_reached"  # published achievement below the "not reached" threshold
    NOT_REPORTED = "not_reported"  # none of its counted indicators has a value (or its sector is not scored)
    NOT_COUNTED = "not_counted"  # no counted indicator (not evaluable, neutralised)


@dataclass(frozen=True)
class Reason:
    """Why something is as it is: a stable code and its parameters (the outputs word it)."""

    code: str
    params: Mapping[str, object] = field(default_factory=dict)

    def __getitem__(self, key: str) -> object:
        return self.params[key]


@dataclass(frozen=True)
class Provenance:
    """How and when a submission arrived.

    ``sent`` is when whoever sent it sent it (ISO date-time, with its offset when known; "" unknown),
    ``sent_from`` where that time comes from: in a workspace "messaggio" (the message's Date), "pec" (the
    certified delivery time), "ricevuto" (a file put in by hand: when it was received, its file time); outside
    one "documento" (the file's own last-saved property) or "file" (its modification time). ``doubt`` says why
    that time cannot be trusted ("" when it can), ``received`` when it reached the office (ISO; "").
    """

    file: str = ""  # where it was read from ("" for a submission built in memory)
    sha256: str = ""
    sent: str = ""
    sent_from: str = ""
    doubt: str = ""
    received: str = ""


@dataclass(frozen=True)
class Submission:
    """The values one party gives for one sector: ``values[indicator id][input name]`` (validated engine
    values: fractions for percentages, ``date``, ``bool``, a text for «non disponibile»), ``texts`` by input key
    (``"SF-1.1|analisi"``), whether the file it came from has errors, and its provenance."""

    sector: str
    source: str = RESPONSABILE
    values: Mapping[str, Mapping[str, object]] = field(default_factory=dict)
    texts: Mapping[str, str] = field(default_factory=dict)
    provenance: Provenance = field(default_factory=Provenance)
    has_errors: bool = False
    signature: str = ""  # a digest of what was filled in ("": computed from values and texts)

    def content(self) -> str:
        """Equal for two submissions that hold the same values."""
        if self.signature:
            return self.signature
        items = sorted((k, sorted((n, repr(v)) for n, v in vs.items() if v is not None))
                       for k, vs in self.values.items())
        texts = sorted((k, t) for k, t in self.texts.items() if t)
        return hashlib.sha256(repr((items, texts)).encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class Note:
    """Something the evaluation reports: an error code of :mod:`piao_xls.core.errors`, its severity, the
    reason (code and parameters), the sector, and the file or decision it is about."""

    code: str
    severity: str
    reason: Reason
    sector: str = ""
    file: str = ""
    decision: Decision | None = None


@dataclass(frozen=True)
class IndicatorResult:
    indicator_id: str
    objective_id: str
    sector: str
    status: IndicatorStatus
    achievement: float | None  # 0..1; None when not scored
    target_year: int
    reported: Mapping[str, object] | None  # the values as submitted (None: none submitted)
    scored: Mapping[str, object] | None  # the values scored, after the Nucleo's corrections
    analysis: str = ""  # «Analisi scostamenti», as typed
    published: float | None = None  # the achievement as published: a percentage at the plan's precision

    @property
    def corrected(self) -> bool:
        """Whether the Nucleo corrected a value: the declared and the validated values differ."""
        if self.reported is None or self.scored is None or self.reported is self.scored:  # most: nothing corrected
            return False
        return dict(self.reported) != dict(self.scored)


@dataclass(frozen=True)
class ObjectiveResult:
    objective_id: str
    sector: str
    weight: float  # as in the plan
    achievement: float | None  # 0..1, full precision; None when not evaluable or its sector not scored
    # applied weight x achievement: what it adds to the sector's score (the points of a sector add up to its score
    # before a gate's cap); 0 for a gate and an objective left out; None when its sector is not scored
    points: float | None
    band: str  # the band code of its achievement ("" none)
    gate: bool
    # the weight that counts once the objectives left out are removed (sums to 100); 0 for an objective left out
    # of a scored sector; None for a gate and when its sector is not scored
    weight_applied: float | None
    neutralised: bool
    outcome: Outcome
    indicators: tuple[IndicatorResult, ...]
    scored: bool  # whether its sector was scored
    state: ObjectiveState = ObjectiveState.SCORED
    # the published figures (the plan's precision, half away from zero): what every output shows
    published_achievement: float | None = None  # a percentage (0..100+)
    published_points: float | None = None  # None also for an objective left out (its points are no result)
    published_weight_applied: float | None = None

    @property
    def evaluable(self) -> bool:
        return self.achievement is not None


@dataclass(frozen=True)
class SectorResult:
    code: str
    status: SectorStatus
    score: float | None  # 0..100, full precision; None when not scored or not evaluable
    published: float | None  # the score as published (the plan's precision, half away from zero)
    band: str  # "" when not scored
    band_label: str
    note: Reason | None  # why the score is what it is (not evaluable, capped by a gate)
    objectives: tuple[ObjectiveResult, ...]
    # the submissions that count, by source (their provenance is not part of the result: compare=False)
    used: tuple[Submission, ...] = field(compare=False)
    # the submissions sent earlier than the one that counts (of any source): they never count
    superseded: tuple[Submission, ...] = field(default=(), compare=False)

    def count(self, outcome: Outcome) -> int:
        return sum(1 for o in self.objectives if o.outcome == outcome)


@dataclass(frozen=True)
class DecisionOutcome:
    """A decision (of the Nucleo, or of the plan itself) and what it did."""

    decision: Decision
    applied: bool
    effect: Reason
    unit: str = ""  # the unit of the corrected input


@dataclass(frozen=True)
class Evaluation:
    plan: Plan
    as_of: date | datetime | None
    sectors: tuple[SectorResult, ...]
    decisions: tuple[DecisionOutcome, ...]
    notes: tuple[Note, ...]

    @property
    def ok(self) -> bool:
        """Every sector scored from accepted submissions (or, by the plan, not evaluable)."""
        return all(s.status in (SectorStatus.SCORED, SectorStatus.NOT_EVALUABLE) for s in self.sectors)

    def used_for(self) -> dict[str, list[str]]:
        """File -> what it was used for: ``"SF"`` (a Responsabile's values), ``"SF:nucleo"`` (another source's)."""
        out: dict[str, list[str]] = {}
        for s in self.sectors:
            for sub in s.used:
                out.setdefault(sub.provenance.file, []).append(
                    s.code if sub.source == RESPONSABILE else f"{s.code}:{sub.source}")
        return out

    def sector(self, code: str) -> SectorResult:
        return next(s for s in self.sectors if s.code == code)

    def figures(self) -> dict[str, object]:
        """The published figures, and nothing else: per sector its status, score and band, per objective its
        outcome, achievement, points and applied weight, per indicator its status and achievement, all as
        published (the plan's precision). Two documents tell the same truth when their figures are these."""
        return {
            "plan": self.plan.fingerprint,
            "sectors": [{
                "code": s.code, "status": s.status.value, "score": s.published, "band": s.band,
                "objectives": [{
                    "id": o.objective_id, "outcome": o.outcome.value, "achievement": o.published_achievement,
                    "points": o.published_points, "weight_applied": o.published_weight_applied,
                    "indicators": [[i.indicator_id, i.status.value, i.published] for i in o.indicators],
                } for o in s.objectives],
            } for s in self.sectors],
        }

    def digest(self) -> str:
        """SHA-256 of :meth:`figures` written canonically: the identity of what this evaluation publishes."""
        text = json.dumps(self.figures(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- which submission counts ---------------------------------------------------------------------------------

def _arrived_by(sub: Submission, as_of: date | datetime | None) -> bool:
    """Whether a submission had arrived at ``as_of`` (by when it was received, else sent; unknown or unreadable:
    yes). A date-time ``as_of`` is compared as an instant, a time without offset being local time on both sides
    (:func:`instant`); a date, with the date the time is written with."""
    if as_of is None:
        return True
    t = instant(sub.provenance.received or sub.provenance.sent)
    if t is None:
        return True
    if isinstance(as_of, datetime):
        return t <= (as_of if as_of.tzinfo is not None else as_of.astimezone())
    return t.date() <= as_of


def instant(iso: str) -> datetime | None:
    """An ISO time as an aware datetime (a time without offset is local time, as a file's), None if unknown."""
    if not iso:
        return None
    try:
        t = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo is not None else t.astimezone()


_NEVER = datetime.min.replace(tzinfo=timezone.utc)


def _order(sub: Submission) -> tuple[datetime, str, str]:
    """Sent last is greatest; equal times are ordered by content digest and file, never by reading order."""
    return (instant(sub.provenance.sent) or _NEVER, sub.provenance.sha256 or sub.content(), sub.provenance.file)


@dataclass(frozen=True)
class Pick:
    """Which submission counts among those of one sector and source: ``counts`` (None: none, ``reason`` says
    why when there is a conflict), the others (``superseded``: sent earlier, or the same values again), and
    whether the office's own choice (``chosen``) settled it."""

    counts: Submission | None
    superseded: tuple[Submission, ...] = ()
    reason: Reason | None = None
    chosen: bool = False


def pick(cands: Sequence[Submission], choice: Choice = Choice.LATEST_SENT,
         chosen: Collection[str] = ()) -> Pick:
    """The one rule: which of ``cands`` (one sector, one source) counts, whatever the order they come in.

    Submissions that hold the same values are one: the one sent last stands for them. Different ones: under
    :attr:`Choice.CONFLICT` none counts; under :attr:`Choice.NEWEST` and :attr:`Choice.LATEST_SENT` the one sent
    last counts when that can be told (every time known and trusted, and no other values sent at the same
    instant), else none does. A conflict is settled by the office's choice: the submissions whose SHA-256 is in
    ``chosen`` (of one content) count.
    """
    if not cands:
        return Pick(None)
    ordered = sorted(cands, key=_order)
    contents = {c.content() for c in cands}
    if len(contents) == 1:
        return Pick(ordered[-1], tuple(ordered[:-1]))
    files = tuple(c.provenance.file for c in ordered)
    if choice == Choice.CONFLICT:
        reason = Reason("conflict", {"files": files})
    else:
        doubtful = [c for c in ordered if c.provenance.doubt or instant(c.provenance.sent) is None]
        last = ordered[-1]
        tied = [c for c in ordered if c.provenance.sent and instant(c.provenance.sent) == instant(last.provenance.sent)]
        if not doubtful and len({c.content() for c in tied}) == 1:
            return Pick(last, tuple(ordered[:-1]))
        if doubtful:
            d = doubtful[0].provenance
            reason = Reason("conflict_newest_unknown", {"files": files, "doubtful": d.file,
                                                        "doubt": d.doubt})
        else:
            reason = Reason("conflict_newest_tied", {"files": files, "sent": last.provenance.sent,
                                                     "sent_from": last.provenance.sent_from})
    picked = [c for c in ordered if c.provenance.sha256 and c.provenance.sha256 in chosen]
    if picked and len({c.content() for c in picked}) == 1:
        return Pick(picked[-1], tuple(c for c in ordered if c is not picked[-1]), reason, chosen=True)
    return Pick(None, (), reason)


def choose(sector: str, cands: Sequence[Submission], choice: Choice, notes: list[Note],
           chosen: Collection[str] = ()) -> tuple[Submission | None, bool]:
    """:func:`pick`, with its notes: (the submission that counts, whether there is an unsettled conflict)."""
    p = pick(cands, choice, chosen)
    if p.counts is not None and p.chosen and p.reason is not None:
        notes.append(Note("WB-CONFLICT", WARNING, Reason("conflict_chosen", {
            **p.reason.params, "sector": sector, "file": p.counts.provenance.file}), sector, p.counts.provenance.file))
    elif p.counts is not None:
        if choice == Choice.NEWEST and len({c.content() for c in cands}) > 1:
            c = p.counts.provenance
            notes.append(Note("WB-CONFLICT", WARNING, Reason("conflict_newest_used", {
                "sector": sector, "files": tuple(s.provenance.file for s in sorted(cands, key=_order)),
                "file": c.file, "sent": c.sent, "sent_from": c.sent_from}), sector, c.file))
    elif p.reason is not None:
        where = sorted(cands, key=_order)[-1].provenance.file
        notes.append(Note("WB-CONFLICT", ERROR, Reason(p.reason.code, {**p.reason.params, "sector": sector}),
                          sector, where))
        return None, True
    return p.counts, False


# --- the evaluation ---------------------------------------------------------------------------------------------

def evaluate(plan: Plan, submissions: Iterable[Submission], decisions: Iterable[Decision] = (),
             as_of: date | datetime | None = None, choice: Choice = Choice.CONFLICT,
             chosen: Collection[str] = ()) -> Evaluation:
    """Evaluate ``plan`` on ``submissions`` (those arrived by ``as_of``; None: all) with ``decisions``.

    Which submission counts for each sector and source is :func:`pick` under ``choice``; ``chosen`` are the
    SHA-256 of the files the office chose to settle a conflict.

    Decisions must have been validated against the plan (:func:`piao_xls.results.decisions.load_decisions`).
    Submissions of a sector the plan does not have, or of a source none of its indicators has, are ignored.
    """
    groups: dict[tuple[str, str], list[Submission]] = {}
    for sub in submissions:
        if _arrived_by(sub, as_of):
            groups.setdefault((sub.sector, sub.source), []).append(sub)
    by_sector: dict[str, list[Decision]] = {}
    for d in decisions:
        by_sector.setdefault(d.sector, []).append(d)
    notes: list[Note] = []
    outcomes: list[DecisionOutcome] = []
    chosen = frozenset(chosen)
    sectors = tuple(_sector(plan, sector, groups, by_sector.get(sector.code, []), choice, chosen, notes, outcomes)
                    for sector in plan.sectors)
    return Evaluation(plan, as_of, sectors, tuple(outcomes), tuple(notes))


def _sector(plan: Plan, sector: Sector, groups: Mapping[tuple[str, str], list[Submission]], own: list[Decision],
            choice: Choice, preferred: Collection[str], notes: list[Note],
            outcomes: list[DecisionOutcome]) -> SectorResult:
    code = sector.code
    main, conflict = choose(code, groups.get((code, RESPONSABILE), []), choice, notes, preferred)
    chosen: dict[str, Submission | None] = {RESPONSABILE: main}
    for source in (NUCLEO, EXTERNAL):
        if any(i.source == source for i in sector.indicators):
            got, conf = choose(code, groups.get((code, source), []), choice, notes, preferred)
            chosen[source] = got
            conflict = conflict or conf
    counted = {id(s) for s in chosen.values() if s is not None}
    superseded = tuple(s for source in chosen for s in sorted(groups.get((code, source), []), key=_order)
                       if id(s) not in counted and not conflict)
    reported: dict[str, Mapping[str, object]] = {}
    texts: dict[str, str] = {}
    for source, sub in chosen.items():
        if sub is None:
            continue
        for ind in sector.indicators:
            if ind.source == source and ind.id in sub.values:
                reported[ind.id] = sub.values[ind.id]
        texts.update(sub.texts)
    others_count = main is None and not conflict and _has_values(sector, chosen)
    if main is None and not conflict and not others_count:
        status = SectorStatus.NOT_RECEIVED
        notes.append(Note("WB-NOT-RECEIVED", ERROR, Reason("sector_not_received", {"sector": code}), code))
    elif others_count:
        # the Responsabile's workbook has not arrived, but the Nucleo's (or a certifier's) values for this sector
        # have: they still count, the Responsabile's indicators are "non rendicontati" (0)
        status = SectorStatus.SCORED_WITH_ISSUES
        notes.append(Note("WB-NOT-RECEIVED", ERROR, Reason("responsabile_not_received", {"sector": code}), code))
    elif conflict:
        status = SectorStatus.CONFLICT
    else:
        files_ok = all(not s.has_errors for s in chosen.values() if s is not None)
        missing_sources = [s for s, sub in chosen.items() if sub is None]
        status = SectorStatus.SCORED if files_ok and not missing_sources else SectorStatus.SCORED_WITH_ISSUES
        for s in missing_sources:
            notes.append(Note("WB-NOT-RECEIVED", ERROR, Reason("source_not_received", {"sector": code,
                                                                                      "source": s}), code))
    scored = status not in (SectorStatus.NOT_RECEIVED, SectorStatus.CONFLICT)
    structural = bool(own) or any(not o.evaluable for o in sector.objectives)
    values = _corrected(plan, sector, own, reported, scored, notes, outcomes) if structural else dict(reported)
    na = {d.indicator for d in own if d.kind == NOT_APPLICABLE}
    neutral = {d.objective for d in own if d.kind == NEUTRALISE}
    policy = plan.scoring
    sc = score_sector(sector, values, policy, na, neutral) if scored else None
    if sc is not None and not sc.evaluable and status == SectorStatus.SCORED:
        status = SectorStatus.NOT_EVALUABLE
    if structural:
        _structural(plan, sector, own, sc, outcomes)
    # the weight of the objectives that count, to which each one's weight is reported (once per sector)
    ev_weight = sum(o.weight for o in sc.objectives if o.evaluable) if sc is not None else 0.0
    objectives = tuple(_objective(plan, sector, i, obj, sc, status, reported, values, texts, ev_weight)
                       for i, obj in enumerate(sector.objectives))
    note = None
    if not sector.evaluable:
        note = Reason("sector_not_evaluable")
    elif sc is not None and sc.gates_failed:
        note = Reason("gate_failed", {"gates": sc.gates_failed, "cap": policy.gate_cap, "uncapped": sc.uncapped})
    return SectorResult(
        code, status, sc.score if sc else None,
        policy.published(sc.score) if sc is not None and sc.score is not None else None,
        sc.band_code if sc else "", sc.band_label if sc else "", note, objectives,
        tuple(s for s in chosen.values() if s is not None), superseded)


#: the states of an objective left out of its sector's score (its weight re-proportioned over the others): its
#: points are no result (0 in the sums, no published figure)
LEFT_OUT = (ObjectiveState.NEUTRALISED, ObjectiveState.EXCLUDED, ObjectiveState.NOT_APPLICABLE)


def _objective(plan: Plan, sector: Sector, i: int, obj: Objective, sc: SectorScore | None, status: SectorStatus,
               reported: Mapping[str, Mapping[str, object]], values: Mapping[str, Mapping[str, object]],
               texts: Mapping[str, str], ev_weight: float) -> ObjectiveResult:
    policy = plan.scoring

    def indicator(ind: Indicator, st: IndicatorStatus, achievement: float | None) -> IndicatorResult:
        return IndicatorResult(ind.id, obj.id, sector.code, st, achievement, target_year(ind, plan.year),
                               reported.get(ind.id), values.get(ind.id), texts.get(f"{ind.id}|analisi", ""),
                               policy.published(achievement * 100) if achievement is not None else None)

    if sc is None:
        st = IndicatorStatus(status.value)
        return ObjectiveResult(obj.id, sector.code, obj.weight, None, None, "", obj.gate, None, False,
                               Outcome.NOT_REPORTED, tuple(indicator(ind, st, None) for ind in obj.indicators), False,
                               ObjectiveState.NOT_SCORED)
    osc: ObjectiveScore = sc.objectives[i]
    counted = [s for s in osc.indicators if s.counts]
    if osc.neutralised:
        state = ObjectiveState.NEUTRALISED
    elif osc.achievement is None:
        state = (ObjectiveState.EXCLUDED if not obj.evaluable or not any(s.status == NOT_APPLICABLE_SCORE
                                                                         for s in osc.indicators)
                 else ObjectiveState.NOT_APPLICABLE)
    elif obj.gate:
        state = ObjectiveState.GATE
    elif counted and all(s.reason == NOT_AVAILABLE_REASON for s in counted):
        state = ObjectiveState.NOT_AVAILABLE
    elif all(s.status in (MISSING,) or s.reason == NOT_AVAILABLE_REASON for s in counted):
        state = ObjectiveState.NOT_REPORTED
    else:
        state = ObjectiveState.SCORED
    if all(s.status == MISSING for s in counted) and osc.evaluable:
        outcome = Outcome.NOT_REPORTED
    elif osc.achievement is None:
        outcome = Outcome.NOT_COUNTED
    else:
        outcome = Outcome(policy.outcome(osc.achievement))
    band = policy.band(osc.achievement * 100) if osc.achievement is not None else None

    def ind_status(ind: Indicator, isc: IndicatorScore) -> IndicatorStatus:
        if osc.neutralised:
            return IndicatorStatus.NEUTRALISED
        if isc.reason == NOT_AVAILABLE_REASON:
            return IndicatorStatus.NOT_AVAILABLE
        if state == ObjectiveState.EXCLUDED and isc.status != INFORMATIVE:
            return IndicatorStatus.EXCLUDED
        return IndicatorStatus(isc.status)

    inds = tuple(indicator(ind, ind_status(ind, isc), isc.achievement)
                 for ind, isc in zip(obj.indicators, osc.indicators, strict=False))
    if obj.gate:
        applied: float | None = None
    elif osc.evaluable and ev_weight:
        applied = obj.weight * 100 / ev_weight
    else:
        applied = 0.0
    points = (applied or 0.0) * osc.achievement if osc.achievement is not None and not obj.gate else 0.0
    return ObjectiveResult(
        obj.id, sector.code, obj.weight, osc.achievement, points, band.code if band else "", obj.gate,
        applied, osc.neutralised, outcome, inds, True, state,
        policy.published(osc.achievement * 100) if osc.achievement is not None else None,
        policy.published(points) if points is not None and state not in LEFT_OUT else None,
        policy.published(applied) if applied is not None else None)


def _has_values(sector: Sector, chosen: Mapping[str, Submission | None]) -> bool:
    """Whether a source other than the Responsabile gave at least one value for this sector."""
    for source, sub in chosen.items():
        if source == RESPONSABILE or sub is None:
            continue
        for ind in sector.indicators:
            vals = sub.values.get(ind.id) if ind.source == source else None
            if vals and any(v is not None for v in vals.values()):
                return True
    return False


def _corrected(plan: Plan, sector: Sector, own: list[Decision], values: Mapping[str, Mapping[str, object]],
               scored: bool, notes: list[Note], outcomes: list[DecisionOutcome]) -> dict[str, Mapping[str, object]]:
    """The sector's values with the Nucleo's corrections applied (a correction whose ``old`` value is not the
    one reported is refused: a DEC-INVALID note)."""
    out = dict(values)
    inds = {i.id: i for i in sector.indicators}
    for d in own:
        if d.kind != CORRECT:
            continue
        unit = next((sp.unit for sp in inputs_for(inds[d.indicator].rule, plan.year) if sp.name == d.input), "")
        current = (out.get(d.indicator) or {}).get(d.input)
        if not scored:
            outcomes.append(DecisionOutcome(d, False, Reason("sector_not_scored"), unit))
            continue
        if not same_value(current, d.old):
            reason = Reason("old_value_differs", {"indicator": d.indicator, "old": d.old, "current": current,
                                                  "unit": unit})
            notes.append(Note("DEC-INVALID", ERROR, reason, sector.code, d.file, d))
            outcomes.append(DecisionOutcome(d, False, reason, unit))
            continue
        out[d.indicator] = {**(out.get(d.indicator) or {}), d.input: d.new}
        outcomes.append(DecisionOutcome(d, True, Reason("value_corrected", {"indicator": d.indicator, "old": d.old,
                                                                             "new": d.new, "unit": unit}), unit))
    return out


def renormalised(sc: SectorScore, plan: Plan) -> Reason:
    """How the weights of a sector's evaluable objectives are re-normalised to sum 100."""
    policy = plan.scoring
    ev = [o for o in sc.objectives if o.evaluable]
    total = sum(o.weight for o in ev)
    if not ev or not total:
        return Reason("no_evaluable_objective")
    return Reason("weights_renormalised", {"total": total, "weights": tuple(
        (o.objective_id, o.weight, policy.published(o.weight * 100 / total)) for o in ev)})


def _structural(plan: Plan, sector: Sector, own: list[Decision], sc: SectorScore | None,
                outcomes: list[DecisionOutcome]) -> None:
    """The decisions that change which weights count: the Nucleo's neutralisations and "non applicabile"
    indicators, and the plan's own objectives with no scored indicator (left out, weights re-normalised)."""
    scored = sc is not None
    weights = renormalised(sc, plan) if sc is not None else None
    by_obj = {o.objective_id: o for o in sc.objectives} if sc is not None else {}
    for d in own:
        if d.kind == NEUTRALISE:
            outcomes.append(DecisionOutcome(d, scored, Reason("objective_left_out", {
                "objective": d.objective, "weights": weights}) if scored else Reason("sector_not_scored")))
        elif d.kind == NOT_APPLICABLE:
            if not scored:
                outcomes.append(DecisionOutcome(d, False, Reason("sector_not_scored")))
                continue
            o = by_obj[d.objective]
            outcomes.append(DecisionOutcome(d, True, Reason("indicator_left_out", {
                "indicator": d.indicator, "objective": d.objective,
                "objective_left_out": not o.evaluable and not o.neutralised, "weights": weights})))
    for obj in sector.objectives:
        if obj.evaluable:
            continue
        d = Decision(NEUTRALISE, sector.code, obj.id, reason="", by="", date="", where=plan.source or "",
                     origin=PLAN)
        outcomes.append(DecisionOutcome(d, scored, Reason("objective_left_out", {
            "objective": obj.id, "weights": weights, "no_measurable_target": True}) if scored
            else Reason("sector_not_scored")))


__all__ = ["EXTERNAL", "NUCLEO", "RESPONSABILE", "SOURCES", "Choice", "DecisionOutcome", "Evaluation",
           "IndicatorResult", "IndicatorStatus", "Note", "ObjectiveResult", "ObjectiveState", "Outcome", "Pick",
           "Provenance", "Reason", "SectorResult", "SectorStatus", "Submission", "choose", "evaluate", "instant", "pick",
           "renormalised"]
