"""Monitoring rounds during the year (art. 6 d.lgs. 150/2009): pure and typed.

A round is named by its date (``as_of``): at that date each Responsabile gives, per indicator, the value reached so
far or says that it cannot be measured yet, and per objective its state (on track, at risk, critical), the progress
in percent, the cause of a deviation, the corrective action, a proposed revision (new target, weight or deadline,
with its reason) and the evidence. :func:`evaluate_round` is the year's evaluation (:func:`~piao_xls.core.evaluation
.evaluate`) of the plan version in force on those partial values, with what the Responsabili declared next to it
and the change since the previous round. It reads no file and writes no Italian: the words each token is shown
with are the maps at the end, used only by the outputs that render a round.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar

from .evaluation import (
    RESPONSABILE,
    Choice,
    Evaluation,
    IndicatorResult,
    ObjectiveResult,
    Provenance,
    Submission,
    _Token,
    evaluate,
    pick,
)
from .model import Plan

_T = TypeVar("_T")


class RoundState(_Token):
    """An objective's (or a sector's) state at the round's date: the traffic light."""

    ON_TRACK = "on_track"  # green
    AT_RISK = "at_risk"  # amber
    CRITICAL = "critical"  # red
    NOT_REPORTED = "not_reported"  # no state given (nothing returned, or the cell left empty)


#: worst first: a sector's light is that of its worst objective
SEVERITY = {RoundState.CRITICAL: 3, RoundState.AT_RISK: 2, RoundState.ON_TRACK: 1, RoundState.NOT_REPORTED: 0}


class Cause(_Token):
    """Why an objective deviates (Linee guida DFP n. 2/2017): outside the comune, inside it, or a badly built
    indicator."""

    EXTERNAL = "external"
    INTERNAL = "internal"
    INDICATOR = "indicator"  # the indicator is to be revised


class RevisionKind(_Token):
    """What a proposed revision would change."""

    TARGET = "target"
    WEIGHT = "weight"
    DEADLINE = "deadline"


class Change(_Token):
    """An objective's state compared with the previous round."""

    BETTER = "better"
    WORSE = "worse"
    SAME = "same"
    FIRST = "first"  # no previous round, or the objective was not reported in it


@dataclass(frozen=True, order=True)
class Round:
    """A monitoring round of a plan, named by its date."""

    as_of: date
    plan_id: str = ""
    year: int = 0

    @property
    def key(self) -> str:
        """The round's identity in a form's document properties and the ledger: ``2025-06-30``."""
        return self.as_of.isoformat()

    @property
    def folder(self) -> str:
        """The folder of the round's forms and returns (under the year's): ``monitoraggio-2025-06-30``."""
        return f"monitoraggio-{self.key}"

    @property
    def tag(self) -> str:
        """The round in a subject tag or a file name: ``M2025-06-30``."""
        return f"M{self.key}"


_KEY = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def parse_key(text: str) -> date | None:
    """The date of a round's key (``2025-06-30``), None when ``text`` is not one."""
    m = _KEY.fullmatch(text.strip())
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def round_problem(plan: Plan, as_of: date) -> str | None:
    """Why a round cannot be opened at ``as_of`` for ``plan`` (a code of the reason), None when it can: the date
    must fall within the plan's year."""
    if as_of.year != plan.year:
        return "round_outside_year"
    return None


@dataclass(frozen=True)
class ProposedRevision:
    kind: RevisionKind
    value: str  # the new target, weight or deadline as the Responsabile wrote it
    reason: str


@dataclass(frozen=True)
class ObjectiveReport:
    """What a Responsabile declares about one objective at the round's date."""

    objective_id: str
    state: RoundState = RoundState.NOT_REPORTED
    progress: float | None = None  # 0..1, declared
    cause: Cause | None = None
    action: str = ""
    revision: ProposedRevision | None = None
    evidence: str = ""


@dataclass(frozen=True)
class RoundReturn:
    """One party's return for one sector in a round: the values at the date (``values[indicator][input]``, as a
    :class:`~piao_xls.core.evaluation.Submission`'s), the indicators not measurable yet, and the objectives'
    reports."""

    sector: str
    source: str = RESPONSABILE
    values: Mapping[str, Mapping[str, object]] = field(default_factory=dict)
    not_yet: frozenset[str] = frozenset()
    reports: Mapping[str, ObjectiveReport] = field(default_factory=dict)
    texts: Mapping[str, str] = field(default_factory=dict)
    provenance: Provenance = field(default_factory=Provenance)
    has_errors: bool = False

    def submission(self) -> Submission:
        """The values as a submission (those not measurable yet left out: they are not a result)."""
        return Submission(self.sector, self.source, {k: v for k, v in self.values.items() if k not in self.not_yet},
                          self.texts, self.provenance, self.has_errors, self._signature())

    def _signature(self) -> str:
        import hashlib

        items = sorted((k, sorted((n, repr(v)) for n, v in vs.items())) for k, vs in self.values.items())
        reports = sorted((k, repr(r)) for k, r in self.reports.items())
        return hashlib.sha256(repr((items, sorted(self.not_yet), reports, sorted(self.texts.items()))).encode(
            "utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class IndicatorReading:
    indicator_id: str
    measured: bool  # False: «non ancora misurabile», or no value
    not_yet: bool  # declared not measurable yet
    result: IndicatorResult  # the evaluation at the date (achievement of the value reached so far)


@dataclass(frozen=True)
class ObjectiveRound:
    objective_id: str
    sector: str
    state: RoundState
    progress: float | None  # 0..1: declared, else computed where every counted indicator has a value
    progress_computed: bool  # the progress is the achievement of the values at the date, not a declaration
    report: ObjectiveReport
    result: ObjectiveResult  # the evaluation at the date
    readings: tuple[IndicatorReading, ...]
    previous: RoundState | None = None
    previous_progress: float | None = None
    change: Change = Change.FIRST


@dataclass(frozen=True)
class SectorRound:
    code: str
    state: RoundState  # the worst of its objectives (NOT_REPORTED when none reported)
    received: bool
    objectives: tuple[ObjectiveRound, ...]
    file: str = ""
    has_errors: bool = False

    def count(self, state: RoundState) -> int:
        return sum(1 for o in self.objectives if o.state == state)


@dataclass(frozen=True)
class RoundEvaluation:
    round: Round
    evaluation: Evaluation
    sectors: tuple[SectorRound, ...]
    previous: date | None = None

    def sector(self, code: str) -> SectorRound:
        return next(s for s in self.sectors if s.code == code)

    @property
    def objectives(self) -> tuple[ObjectiveRound, ...]:
        return tuple(o for s in self.sectors for o in s.objectives)

    def at_risk(self) -> tuple[ObjectiveRound, ...]:
        """The objectives at risk or critical, worst first (plan order within a state)."""
        return tuple(sorted((o for o in self.objectives if o.state in (RoundState.AT_RISK, RoundState.CRITICAL)),
                            key=lambda o: -SEVERITY[o.state]))

    def proposals(self) -> tuple[ObjectiveRound, ...]:
        """The objectives with a proposed revision, in plan order."""
        return tuple(o for o in self.objectives if o.report.revision is not None)

    def count(self, state: RoundState) -> int:
        return sum(1 for o in self.objectives if o.state == state)


def worst(states: Iterable[RoundState]) -> RoundState:
    """The worst of ``states`` (NOT_REPORTED for none)."""
    return max(states, key=SEVERITY.__getitem__, default=RoundState.NOT_REPORTED)


def _change(now: RoundState, before: RoundState | None) -> Change:
    if before is None or before == RoundState.NOT_REPORTED or now == RoundState.NOT_REPORTED:
        return Change.FIRST
    if SEVERITY[now] < SEVERITY[before]:
        return Change.BETTER
    if SEVERITY[now] > SEVERITY[before]:
        return Change.WORSE
    return Change.SAME


def choose_returns(returns: Sequence[RoundReturn], choice: Choice = Choice.LATEST_SENT,
                   chosen: Collection[str] = ()) -> dict[tuple[str, str], RoundReturn]:
    """The return that counts for each sector and source: the year's one rule (:func:`~piao_xls.core.evaluation
    .pick`, the return sent last; ``chosen``: the SHA-256 of the files the office chose in a conflict); a conflict
    that is not settled leaves the sector out."""
    groups: dict[tuple[str, str], list[RoundReturn]] = {}
    for r in returns:
        groups.setdefault((r.sector, r.source), []).append(r)
    out: dict[tuple[str, str], RoundReturn] = {}
    for key, cands in groups.items():
        subs = [c.submission() for c in cands]
        counts = pick(subs, choice, chosen).counts
        if counts is not None:
            out[key] = cands[next(i for i, s in enumerate(subs) if s is counts)]
    return out


def evaluate_round(plan: Plan, rnd: Round, returns: Iterable[RoundReturn], previous: RoundEvaluation | None = None,
                   choice: Choice = Choice.LATEST_SENT, chosen: Collection[str] = ()) -> RoundEvaluation:
    """The round at its date: the evaluation of ``plan`` on the values reached so far, with each objective's
    declared state, progress, cause, action, proposed revision and evidence, and its change since ``previous``."""
    counted = choose_returns(list(returns), choice, chosen)
    ev = evaluate(plan, [r.submission() for r in counted.values()], choice=choice)
    before = {o.objective_id: o for o in previous.objectives} if previous is not None else {}
    sectors = []
    for sector, res in zip(plan.sectors, ev.sectors, strict=True):
        mine = [r for (code, _), r in counted.items() if code == sector.code]
        main = counted.get((sector.code, RESPONSABILE))
        not_yet = frozenset().union(*(r.not_yet for r in mine)) if mine else frozenset()
        objectives = []
        for obj, ores in zip(sector.objectives, res.objectives, strict=True):
            report = (main.reports.get(obj.id) if main is not None else None) or ObjectiveReport(obj.id)
            readings = tuple(IndicatorReading(ir.indicator_id, ir.reported is not None and ir.indicator_id not in not_yet,
                                              ir.indicator_id in not_yet, ir)
                             for ir in ores.indicators)
            counted_inds = [rd for rd, ind in zip(readings, obj.indicators, strict=True) if ind.scored]
            computed = (ores.achievement if ores.achievement is not None and counted_inds
                        and all(rd.measured for rd in counted_inds) else None)
            progress = report.progress if report.progress is not None else computed
            prev = before.get(obj.id)
            objectives.append(ObjectiveRound(
                obj.id, sector.code, report.state, progress, report.progress is None and computed is not None,
                report, ores, readings, prev.state if prev else None, prev.progress if prev else None,
                _change(report.state, prev.state if prev else None)))
        sectors.append(SectorRound(sector.code, worst(o.state for o in objectives), main is not None,
                                   tuple(objectives), main.provenance.file if main else "",
                                   main.has_errors if main else False))
    return RoundEvaluation(rnd, ev, tuple(sectors), previous.round.as_of if previous is not None else None)


# --- a revision drafted from a round's proposals ------------------------------------------------------------------

@dataclass(frozen=True)
class Applied:
    """A proposal and what became of it in the draft: ``reason`` is "" when applied, else a code of why not
    (``several_indicators``, ``target_not_understood``, ``weight_not_a_number``, ``deadline_not_a_date``)."""

    objective_id: str
    kind: RevisionKind
    value: str
    reason: str = ""


_NUMBER = re.compile(r"\s*(\d+(?:[.,]\d+)?)\s*%?\s*")
_DAY = re.compile(r"\s*(\d{1,2})/(\d{1,2})/(\d{4})\s*")


def apply_proposals(plan: Plan, rev: RoundEvaluation) -> tuple[Plan, tuple[Applied, ...]]:
    """The plan with the round's proposed revisions applied where they say one thing: a new target for an objective
    with one scored indicator (read by the target grammar), a new weight (a number; the sector's weights are not
    rebalanced: a revision whose weights do not sum to 100 is refused, so the author decides), a new deadline (a
    date, as the «Tempi» of the objective and the target of its one deadline indicator). Nothing else changes."""
    from dataclasses import replace

    from .targets import TargetError, interpret

    proposals = {o.objective_id: o.report.revision for o in rev.proposals()}
    done: list[Applied] = []
    sectors = []
    for sector in plan.sectors:
        objectives = []
        for obj in sector.objectives:
            rv = proposals.get(obj.id)
            if rv is None:
                objectives.append(obj)
                continue
            new, why = obj, ""
            if rv.kind == RevisionKind.WEIGHT:
                m = _NUMBER.fullmatch(rv.value)
                if m is None or obj.gate:
                    why = "weight_not_a_number"
                else:
                    new = replace(obj, weight=float(m.group(1).replace(",", ".")), coefficient=None)
            else:
                scored = [i for i in obj.indicators if i.scored]
                text = rv.value.strip()
                if rv.kind == RevisionKind.DEADLINE:
                    m = _DAY.fullmatch(rv.value)
                    if m is None:
                        why = "deadline_not_a_date"
                    else:
                        text = f"Entro il {int(m.group(1)):02d}/{int(m.group(2)):02d}/{m.group(3)}"
                        scored = [i for i in scored if i.rule.kind == "deadline"]
                if not why and len(scored) != 1:
                    why = "several_indicators"
                if not why:
                    ind = scored[0]
                    try:
                        rule = interpret(text, ind.description, plan.year)
                    except TargetError:
                        why = "target_not_understood"
                    else:
                        inds = tuple(replace(i, target_text=text, rule=rule) if i is ind else i
                                     for i in obj.indicators)
                        new = replace(obj, indicators=inds,
                                      tempi=text if rv.kind == RevisionKind.DEADLINE else obj.tempi)
            done.append(Applied(obj.id, rv.kind, rv.value, why))
            objectives.append(new)
        sectors.append(replace(sector, objectives=tuple(objectives)))
    return replace(plan, sectors=tuple(sectors)), tuple(done)


# --- the Italian words of the tokens, for the outputs that render a round -----------------------------------------

STATE_IT = {RoundState.ON_TRACK: "in linea", RoundState.AT_RISK: "a rischio", RoundState.CRITICAL: "critico",
            RoundState.NOT_REPORTED: "non rendicontato"}
CAUSE_IT = {Cause.EXTERNAL: "esterna", Cause.INTERNAL: "interna", Cause.INDICATOR: "indicatore da rivedere"}
REVISION_IT = {RevisionKind.TARGET: "nuovo target", RevisionKind.WEIGHT: "nuovo peso",
               RevisionKind.DEADLINE: "nuova scadenza"}
CHANGE_IT = {Change.BETTER: "migliorato", Change.WORSE: "peggiorato", Change.SAME: "invariato",
             Change.FIRST: "—"}
NO_REVISION = "nessuna"


def _from_words(words: Mapping[_T, str], text: str) -> _T | None:
    t = " ".join(text.split()).lower()
    return next((k for k, v in words.items() if v == t), None)


def state_of(text: str) -> RoundState | None:
    """The state of a choice as the form lists it (None: not one of them)."""
    s = _from_words(STATE_IT, text)
    return s if s != RoundState.NOT_REPORTED else None


def cause_of(text: str) -> Cause | None:
    return _from_words(CAUSE_IT, text)


def revision_of(text: str) -> RevisionKind | None:
    return _from_words(REVISION_IT, text)


__all__ = [
    "CAUSE_IT",
    "CHANGE_IT",
    "NO_REVISION",
    "REVISION_IT",
    "SEVERITY",
    "STATE_IT",
    "Cause",
    "Change",
    "IndicatorReading",
    "ObjectiveReport",
    "ObjectiveRound",
    "ProposedRevision",
    "RevisionKind",
    "Round",
    "RoundEvaluation",
    "RoundReturn",
    "RoundState",
    "SectorRound",
    "cause_of",
    "choose_returns",
    "evaluate_round",
    "parse_key",
    "revision_of",
    "round_problem",
    "state_of",
    "worst",
]
