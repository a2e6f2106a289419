"""The plan model: Plan -> Sector -> Objective -> Indicator (pure data, no I/O).

Instances are frozen and built by :mod:`piao_xls.plan.planfile`. ``line`` fields remember where
each element stands in its plan file, for error messages; they are not part of the plan's
canonical form, so moving text around in the file does not change its fingerprint.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property, lru_cache
from typing import Any

from .gcpause import paused_gc

UNITS = ("percent", "number", "amount", "date", "yes_no")
SOURCES = ("responsabile", "nucleo", "esterno")


def _meta_line() -> Any:
    return field(default=0, compare=False, metadata={"canonical": False})


def _optional(default: Any) -> Any:
    """A field added after plans were fingerprinted: it counts in the canonical form only when it differs from
    its default, so that a plan that does not use it keeps its fingerprint."""
    return field(default=default, metadata={"canonical": "unless_default"})


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
    baseline_year: int | None = None  # increase, decrease: the year of the baseline figure
    decrease: float | None = _optional(None)  # decrease: 0.1 = -10%
    baseline: float | None = _optional(None)  # increase, decrease: the baseline value when the plan states it
    tolerance: float | None = _optional(None)  # equal: accepted distance from the target
    measure: str | None = _optional(None)  # what is counted, as the plan says it: "giorni", "controlli"
    every: float | None = _optional(None)  # rate: the quantity of reference ("1 sopralluogo ogni 50 pratiche": 50)
    per: str | None = _optional(None)  # rate: what the quantity of reference counts ("pratiche")

    @property
    def scored(self) -> bool:
        return self.kind != "informative"



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
    #: where the datum comes from, as the plan says it ("protocollo informatico", "contabilità"): optional
    data_source: str = _optional("")
    #: the value of the year before, when the plan prints it (a fraction for a percentage): optional; the quality
    #: report compares the target with it
    previous: float | None = _optional(None)

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
    #: a gate objective ("obiettivo di accesso", printed weight "X"): weight 0, met or not met; when not met the
    #: sector's score is capped at ``ScoringPolicy.gate_cap`` (0 by default)
    gate: bool = _optional(False)
    #: the weight as printed when the plan gives coefficients (1,0 / 1,2 / 1,4); ``weight`` is then the
    #: coefficient normalised to 100 over the sector
    coefficient: float | None = _optional(None)
    #: the DUP missione/programma the objective belongs to ("01.03", "Missione 1 - Programma 3"): the link to the
    #: budget; optional
    dup: str = _optional("")

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

    @property
    def gates(self) -> tuple[Objective, ...]:
        return tuple(o for o in self.objectives if o.gate)

    @property
    def evaluable(self) -> bool:
        """False for a sector with nothing measurable ("non valutabile"): no objective other than a gate has a
        scored indicator, so the sector gets no score and no band."""
        return any(o.evaluable for o in self.objectives if not o.gate)

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


def publish_round(x: float, decimals: int) -> float:
    """``x`` rounded to ``decimals`` as a person reads it printed: the float taken at 15 significant digits (as
    Excel and LibreOffice compute), then rounded half away from zero (as their ROUND). So floating-point noise
    never decides a digit: 94.99499999999999 (0.94995 x 100) -> 95.0, 2.675 -> 2.68, 94.994 -> 94.99."""
    if not math.isfinite(x) or abs(x) >= 1e15:  # no digit after the point to round at that size
        return x
    key = (x, decimals)
    done = _PUBLISHED.get(key) if x else None  # 0.0 and -0.0 are one key: their results differ in sign
    if done is None:
        q = Decimal(1).scaleb(-decimals)
        done = float(Decimal(f"{float(x):.15g}").quantize(q, rounding=ROUND_HALF_UP))
        if x and len(_PUBLISHED) < 1 << 16:
            _PUBLISHED[key] = done
    return done


#: figures already rounded (a plan's figures repeat: 100, 0, the same weights): (x, decimals) -> rounded
_PUBLISHED: dict[tuple[float, int], float] = {}


@dataclass(frozen=True)
class ScoringPolicy:
    """Every number of the scoring engine; see docs/scoring.md."""

    late_penalty_per_month: float = 1.0
    aggregation: str = "weighted_mean"  # or "min"
    threshold: float | None = None  # objective achievement below this counts 0 (0..1)
    bands: tuple[Band, ...] = DEFAULT_BANDS
    #: "percent" (weights are percentages summing to 100) or "coefficients" (normalised to 100 per sector)
    weights: str = _optional("percent")
    #: the highest sector score (0..100) when a gate objective is not met; 0: the sector scores 0
    gate_cap: float = _optional(0.0)
    # decimals of every published figure (sector score and points; achievements as percentages). Outcomes
    # (band, threshold) are decided on the published figure. Left out of the canonical form at its default,
    # so that plans written before it keep their fingerprint.
    precision: int = _optional(2)
    #: the counts of objectives (reached / partly reached / not reached), decided on the published achievement:
    #: reached from ``reached`` (0..1), not reached below ``not_reached_below`` (0..1), partly in between
    reached: float = _optional(1.0)
    not_reached_below: float = _optional(0.5)

    def published(self, score: float) -> float:
        """A 0-100 figure (score, points, achievement in %) as published: rounded to ``precision`` decimals."""
        return publish_round(score, self.precision)

    def band(self, score: float) -> Band:
        """The band of a 0-100 score, decided on the published score (rounded to ``precision`` decimals):
        "95,00" is never shown with band B, and floating-point noise (94.99999999999999 for an exact 95)
        does not drop a sector into the band below."""
        score = self.published(score)
        for b in sorted(self.bands, key=lambda b: -b.min):
            if score >= b.min:
                return b
        return min(self.bands, key=lambda b: b.min)

    def outcome(self, achievement: float) -> str:
        """"reached", "partly" or "not_reached": an objective's achievement (0..1) as published, against
        :attr:`reached` and :attr:`not_reached_below` (see docs/scoring.md, Counts of objectives)."""
        pct = self.published(achievement * 100)
        if pct >= publish_round(self.reached * 100, 9):
            return "reached"
        if pct < publish_round(self.not_reached_below * 100, 9):
            return "not_reached"
        return "partly"

    def below_threshold(self, achievement: float) -> bool:
        """True when an objective's achievement (0..1), as published in %, is below the threshold."""
        if self.threshold is None:
            return False
        return self.published(achievement * 100) < publish_round(self.threshold * 100, 9)


@dataclass(frozen=True)
class QualitySettings:
    """The thresholds of the plan-quality report (``plan check --qualita``); see docs/plan-quality.md."""

    min_objectives: int = 2  # a sector with fewer (non-gate) objectives is flagged
    max_objectives: int = 8  # a sector with more is flagged
    flat_weights_from: int = 4  # equal weights across at least this many objectives of a sector are flagged
    adopted: date | None = None  # the plan's adoption: a deadline before it is flagged
    errors: tuple[str, ...] = ()  # codes of the report reported as errors instead of warnings


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
    # The thresholds of the quality report: not in the fingerprint (they change no workbook).
    quality: QualitySettings = field(default_factory=QualitySettings, metadata={"canonical": False})

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

    def canonical(self) -> dict[str, Any]:
        out: dict[str, Any] = canonical(self)
        return out

    @cached_property
    def fingerprint(self) -> str:
        """SHA-256 of the canonical JSON form: same plan content, same fingerprint."""
        with paused_gc():  # a large plan's text is written from hundreds of thousands of pieces
            text = canonical_json(self)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


_ALWAYS = object()


@lru_cache(maxsize=256)
def _canonical_fields(cls: type) -> tuple[tuple[str, object], ...] | None:
    """(name, default) of the fields of a model class that count in its canonical form (default
    ``_ALWAYS`` when the field always counts); None for other types."""
    if not is_dataclass(cls):
        return None
    out = []
    for f in fields(cls):
        how = f.metadata.get("canonical", True)
        if how is True:
            out.append((f.name, _ALWAYS))
        elif how == "unless_default":
            out.append((f.name, f.default))
    return tuple(out)


def canonical(obj: Any) -> Any:
    """A JSON-ready form of a model object, without file positions."""
    t = type(obj)
    if t is str or t is int or t is bool or obj is None:  # JSON-ready as they are (the most frequent values)
        return obj
    names = _canonical_fields(t)  # type: ignore[arg-type]
    if names is not None:
        out = {}
        for name, default in names:
            v = getattr(obj, name)
            if default is _ALWAYS or v != default:
                out[name] = v if type(v) is str or v is None else canonical(v)
        return out
    if isinstance(obj, (tuple, list)):
        return [canonical(x) for x in obj]
    if isinstance(obj, date):
        return obj.isoformat()
    if isinstance(obj, float) and obj.is_integer():
        return int(obj)
    return obj


# --- the canonical JSON text, written directly ------------------------------------------------------------

_encode_str = json.encoder.encode_basestring  # what json.dumps uses with ensure_ascii=False (C when available)


@lru_cache(maxsize=256)
def _json_fields(cls: type) -> tuple[tuple[str, str, object], ...] | None:
    """:func:`_canonical_fields` sorted by name (as ``sort_keys`` orders them), each with its JSON key text."""
    names = _canonical_fields(cls)
    if names is None:
        return None
    return tuple((name, _encode_str(name) + ":", default) for name, default in sorted(names))


def canonical_json(obj: object) -> str:
    """``json.dumps(canonical(obj), sort_keys=True, ensure_ascii=False, separators=(",", ":"))``, written
    without building the canonical form; a model object met again (plans share rules) is written once."""
    return _json(obj, {})


def _json(obj: Any, memo: dict[int, str]) -> str:
    t = type(obj)
    if t is str:
        return _encode_str(obj)
    if obj is None:
        return "null"
    if t is bool:
        return "true" if obj else "false"
    if t is int:
        return int.__repr__(obj)
    if t is float:
        if obj.is_integer():
            return int.__repr__(int(obj))
        if obj != obj:
            return "NaN"
        if obj in (math.inf, -math.inf):
            return "Infinity" if obj > 0 else "-Infinity"
        return float.__repr__(obj)
    spec = _json_fields(t)  # type: ignore[arg-type]
    if spec is not None:
        done = memo.get(id(obj))  # every object stays alive until the text is written: ids are not reused
        if done is None:
            parts = []
            for name, key, default in spec:
                v = getattr(obj, name)
                if default is _ALWAYS or v != default:
                    parts.append(key + (_encode_str(v) if type(v) is str else _json(v, memo)))
            done = memo[id(obj)] = "{" + ",".join(parts) + "}"
        return done
    if t is tuple or t is list:
        return "[" + ",".join([_json(x, memo) for x in obj]) + "]"
    if t is date:
        return _encode_str(obj.isoformat())
    # anything else (a date, an unexpected type): as json.dumps writes its canonical form
    return json.dumps(canonical(obj), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
