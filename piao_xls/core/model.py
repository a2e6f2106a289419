"""The plan model: Plan -> Sector -> Objective -> Indicator (pure data, no I/O).

Instances are frozen and built by :mod:`piao_xls.plan.planfile`. ``line`` fields remember where
each element stands in its plan file, for error messages; they are not part of the plan's
canonical form, so moving text around in the file does not change its fingerprint.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import date
from functools import cached_property, lru_cache

from .gcpause import paused_gc

RULE_KINDS = ("at_least", "at_most", "range", "deadline", "yes_no", "fraction", "increase", "informative")
UNITS = ("percent", "number", "amount", "date", "yes_no")
SOURCES = ("responsabile", "nucleo", "esterno")


def _meta_line() -> int:
    return field(default=0, compare=False, metadata={"canonical": False})


@dataclass(frozen=True)
class Rule:
    """How an indicator is scored. Percent values are fractions (100% = 1.0)."""

    kind: str
    unit: str = "number"
    target: float | None = None  # at_least, at_most, fraction
    worst: float | None = None  # at_most: worst acceptable value (linear between target and worst)
    low: float | None = None  # range
    high: float | None = None  # range
    deadline: date | None = None  # deadline
    increase: float | None = None  # increase: 0.6 = +60%
    baseline_year: int | None = None  # increase: the year of the baseline figure

    @property
    def scored(self) -> bool:
        return self.kind != "informative"

    def describe(self) -> str:
        """A short English description, used by ``plan check --verbose``."""
        def v(x: float | None) -> str:
            if x is None:
                return "?"
            if self.unit == "percent":
                return f"{x * 100:g}%"
            return f"{x:g}"

        k = self.kind
        if k == "at_least":
            return f"at_least {v(self.target)} ({self.unit})"
        if k == "at_most":
            worst = f", worst acceptable {v(self.worst)}" if self.worst is not None else ""
            return f"at_most {v(self.target)} ({self.unit}{worst})"
        if k == "range":
            return f"range {v(self.low)}..{v(self.high)} ({self.unit})"
        if k == "deadline":
            return f"deadline {self.deadline.isoformat() if self.deadline else '?'}"
        if k == "fraction":
            return f"fraction numerator/denominator at_least {v(self.target)}"
        if k == "increase":
            base = f" over {self.baseline_year}" if self.baseline_year else " over baseline"
            return f"increase +{(self.increase or 0) * 100:g}%{base}"
        return k


@dataclass(frozen=True)
class Indicator:
    id: str
    profilo: str
    description: str
    target_text: str
    rule: Rule
    source: str = "responsabile"
    weight: float = 1.0
    line: int = _meta_line()

    @property
    def scored(self) -> bool:
        return self.rule.scored


@dataclass(frozen=True)
class Step:
    text: str
    tempi: str = ""


@dataclass(frozen=True)
class Objective:
    id: str
    number: int
    title: str
    weight: float
    stakeholder: str = ""
    impatto: str = ""
    risultato: str = ""
    steps: tuple[Step, ...] = ()
    tempi: str = ""
    programma: str = ""
    obiettivo_operativo: str = ""
    indicators: tuple[Indicator, ...] = ()
    line: int = _meta_line()

    @property
    def scored_indicators(self) -> tuple[Indicator, ...]:
        return tuple(i for i in self.indicators if i.scored)

    @property
    def evaluable(self) -> bool:
        """True when at least one indicator is scored: only then does the weight count."""
        return bool(self.scored_indicators)


@dataclass(frozen=True)
class Responsabile:
    name: str
    title: str = ""
    email: str = ""

    @property
    def display(self) -> str:
        return f"{self.title} {self.name}".strip()


@dataclass(frozen=True)
class StaffRow:
    qualifica: str
    categoria: str
    unita: float


@dataclass(frozen=True)
class Sector:
    code: str
    name: str
    short_name: str
    responsabile: Responsabile
    offices: tuple[str, ...] = ()
    staff: tuple[StaffRow, ...] = ()
    staff_total: float | None = None
    activities: tuple[str, ...] = ()
    objectives: tuple[Objective, ...] = ()
    line: int = _meta_line()

    @property
    def computed_staff_total(self) -> float:
        return sum(r.unita for r in self.staff)

    @property
    def weight_total(self) -> float:
        return sum(o.weight for o in self.objectives)

    @cached_property
    def indicators(self) -> tuple[Indicator, ...]:
        """Every indicator of the sector, in order (computed once: the sector is immutable)."""
        return tuple(i for o in self.objectives for i in o.indicators)


@dataclass(frozen=True)
class Band:
    min: float
    code: str
    label: str


DEFAULT_BANDS = (
    Band(95, "A", "Eccellente"),
    Band(90, "B", "Buono"),
    Band(80, "C", "Adeguato"),
    Band(70, "D", "Migliorabile"),
    Band(0, "E", "Inadeguato"),
)


@dataclass(frozen=True)
class ScoringPolicy:
    """Every number of the scoring engine; see docs/scoring.md."""

    late_penalty_per_month: float = 1.0
    aggregation: str = "weighted_mean"  # or "min"
    threshold: float | None = None  # objective achievement below this counts 0 (0..1)
    bands: tuple[Band, ...] = DEFAULT_BANDS

    def band(self, score: float) -> Band:
        """The band of a 0-100 score, decided on the score rounded to 9 decimals so that floating-point
        noise (94.99999999999999 for an exact 95) does not drop a sector into the band below."""
        score = round(score, 9)
        for b in sorted(self.bands, key=lambda b: -b.min):
            if score >= b.min:
                return b
        return min(self.bands, key=lambda b: b.min)


@dataclass(frozen=True)
class Plan:
    plan_id: str
    comune: str
    year: int
    title: str
    ente_sovraordinato: str = ""
    scoring: ScoringPolicy = field(default_factory=ScoringPolicy)
    sectors: tuple[Sector, ...] = ()
    source: str = field(default="", compare=False, metadata={"canonical": False})
    # What the Istruzioni sheet tells about the return (optional). Not in the fingerprint: moving the deadline
    # does not change what a workbook holds, and workbooks already sent stay valid.
    return_deadline: date | None = field(default=None, metadata={"canonical": False})
    contact: str = field(default="", metadata={"canonical": False})

    def sector(self, code: str) -> Sector:
        for s in self.sectors:
            if s.code == code:
                return s
        raise KeyError(code)

    @property
    def objectives(self) -> tuple[Objective, ...]:
        return tuple(o for s in self.sectors for o in s.objectives)

    @property
    def indicators(self) -> tuple[Indicator, ...]:
        return tuple(i for s in self.sectors for i in s.indicators)

    def canonical(self) -> dict:
        return canonical(self)

    @cached_property
    def fingerprint(self) -> str:
        """SHA-256 of the canonical JSON form: same plan content, same fingerprint."""
        with paused_gc():  # the canonical form of a large plan is millions of objects
            text = json.dumps(self.canonical(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


@lru_cache(maxsize=256)
def _canonical_fields(cls: type) -> tuple[str, ...] | None:
    """The fields of a model class that count in its canonical form; None for other types."""
    if not is_dataclass(cls):
        return None
    return tuple(f.name for f in fields(cls) if f.metadata.get("canonical", True))


def canonical(obj):
    """A JSON-ready form of a model object, without file positions."""
    if type(obj) is str:
        return obj
    names = _canonical_fields(type(obj))
    if names is not None:
        return {name: canonical(getattr(obj, name)) for name in names}
    if isinstance(obj, (tuple, list)):
        return [canonical(x) for x in obj]
    if isinstance(obj, date):
        return obj.isoformat()
    if isinstance(obj, float) and obj.is_integer():
        return int(obj)
    return obj
