"""What every rule kind is made of, and the helpers the kinds share (pure, no I/O).

A kind is one object (a :class:`Kind` subclass in its own module of this package) that knows
everything about the rules of that kind: the parameters a plan states and their validation, the
inputs a person fills in, the score, the live Excel formula that mirrors the score, and the wording
in English (for developers) and in Italian (for the plan's author and the Responsabile).
"""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from babel.numbers import format_decimal

from ..answers import NO, NOT_AVAILABLE, NOT_AVAILABLE_REASON, YES
from ..model import Rule, ScoringPolicy

# Indicator status
SCORED = "scored"
MISSING = "missing"  # non rendicontato: scores 0, reported
INVALID = "invalid"  # a value exists but cannot be scored (e.g. denominator 0): scores 0, reported
INFORMATIVE = "informative"  # not scored

UNITS = ("percent", "number", "amount", "date", "yes_no")

# The spellings of yes and no that a person may type in a yes/no cell live in core/answers.py: the reader
# accepts them, and the live formula of a yes/no rule counts the same "yes" spellings.
YES_SPELLINGS, NO_SPELLINGS = YES, NO

Score = tuple[str, "float | None", str]


@dataclass(frozen=True)
class InputSpec:
    """One cell a person fills in for an indicator."""

    name: str  # key used by the scoring engine
    label: str  # Italian label shown in the workbook
    unit: str  # percent | number | amount | date | yes_no
    min: float | None = None
    max: float | None = None


class RuleProblem(ValueError):
    """A rule's parameters do not make a rule of its kind; ``param`` names the parameter at fault."""

    def __init__(self, message: str, param: str | None = None):
        super().__init__(message)
        self.param = param


def clamp01(x: float) -> float:
    return 0.0 if x < 0 else 1.0 if x > 1 else x


def xl_number(x: float) -> str:
    """A number as an Excel formula literal (shortest exact form)."""
    return repr(float(x)) if not float(x).is_integer() else str(int(x))


def it_number(x: float) -> str:
    """A number as Italians write it: ``1.500,5``; never an exponent, and exactly the value held."""
    if x == 0:
        return "0"
    d = Decimal(repr(float(x)))
    if d == d.to_integral_value():
        d = d.quantize(Decimal(1))
    return format_decimal(d, locale="it_IT", decimal_quantization=False)


def en_number(x: float | None) -> str:
    return "?" if x is None else f"{x:g}"


class Kind:
    """One rule kind. Subclasses set the class attributes and override what differs."""

    name: str = ""
    order: int = 100  # position in lists of kinds (dropdowns, docs)
    label_it: str = ""  # the Italian name, as in the plan workbook's dropdown
    # words and symbols that introduce a target value of this kind in a printed target ("almeno", ">="): the
    # target grammar reads "<phrase> <quantity>" as a rule of this kind, trying kinds in ``order``
    phrases: tuple[str, ...] = ()
    units: tuple[str, ...] = ("percent", "number", "amount")  # units a plan may state
    default_unit: str = "number"
    required: tuple[str, ...] = ()  # Rule fields a plan must state
    optional: tuple[str, ...] = ()  # Rule fields a plan may state
    percent_params: tuple[str, ...] = ("target", "worst", "low", "high", "tolerance")  # in % when unit is percent
    scored: bool = True
    needs_motivation: bool = False  # the person must write why, whatever the score
    default_source: str | None = None  # who fills it in when the plan does not say
    doc_it: str = ""  # one line for docs/targets.md: how it is scored

    # --- parameters -----------------------------------------------------------------------------------
    def check(self, rule: Rule) -> None:
        """Raise :class:`RuleProblem` when the rule's parameters do not make a rule of this kind."""
        if rule.unit not in self.units:
            raise RuleProblem(f"l'unità «{rule.unit}» non è ammessa per la regola «{self.label_it or self.name}»: "
                              f"scelga tra {', '.join(self.units)}", "unit")
        missing = [n for n in self.required if getattr(rule, n) is None]
        if missing:
            raise RuleProblem(f"la regola «{self.label_it or self.name}» richiede {' e '.join(missing)}", missing[0])
        for n in (*self.required, *self.optional):
            v = getattr(rule, n)
            if isinstance(v, float) and not math.isfinite(v):
                raise RuleProblem(f"«{n}» deve essere un numero finito", n)

    # --- inputs ---------------------------------------------------------------------------------------
    def inputs(self, rule: Rule, year: int) -> tuple[InputSpec, ...]:
        """What a person fills in for this rule, in order."""
        return (value_input(rule),)

    fixed_inputs: tuple[str, ...] | None = ("value",)  # the input names when they do not depend on the rule

    def input_names(self, rule: Rule) -> tuple[str, ...]:
        return self.fixed_inputs or _input_names(self, rule)

    # --- score ----------------------------------------------------------------------------------------
    def score(self, rule: Rule, values: Mapping[str, Any], policy: ScoringPolicy) -> Score:
        """(status, achievement, reason) from validated values; a missing input scores MISSING."""
        names = self.input_names(rule)
        if any(values.get(n) == NOT_AVAILABLE for n in names):  # declared not available, with a note
            return MISSING, 0.0, NOT_AVAILABLE_REASON
        if any(values.get(n) is None for n in names):
            return MISSING, 0.0, "non rendicontato"
        return self.achievement(rule, values, policy)

    def achievement(self, rule: Rule, values: Mapping[str, Any], policy: ScoringPolicy) -> Score:
        """The score of complete values (every kind that keeps :meth:`score` defines it)."""
        raise NotImplementedError(f"{type(self).__name__} must define achievement() or score()")

    # --- live formula ---------------------------------------------------------------------------------
    def formula(self, rule: Rule, cells: Sequence[str], policy: ScoringPolicy) -> str | None:
        """The live achievement formula over the input ``cells`` (A1 refs, in :meth:`inputs` order)."""
        cells = cells[:len(self.input_names(rule))]
        guard = ",".join(f"ISNUMBER({c})" for c in cells)
        guard = guard if len(cells) == 1 else f"AND({guard})"
        return f"=IF({guard},{self.expression(rule, cells, policy)},0)"

    def expression(self, rule: Rule, cells: Sequence[str], policy: ScoringPolicy) -> str:
        """The formula's achievement once every input is a number (every kind that keeps :meth:`formula`)."""
        raise NotImplementedError(f"{type(self).__name__} must define expression() or formula()")

    # --- wording --------------------------------------------------------------------------------------
    def wording(self, rule: Rule) -> str:
        """The rule in Italian; the target grammar reads it back as the same rule."""
        raise NotImplementedError(f"{type(self).__name__} must define wording()")

    def describe(self, rule: Rule) -> str:
        """A short English description for developers and ``plan check --verbose``."""
        return self.name

    # --- what the form says ---------------------------------------------------------------------------
    def asked_it(self, rule: Rule, spec: InputSpec) -> str:
        """What a person types in the input ``spec``, in words with its unit (the form's «Dato richiesto»): the
        single value of a comparison by its unit ("Numero di giorni", "Importo in euro"), any other its label."""
        if spec.name != "value" or len(self.input_names(rule)) > 1:
            return spec.label
        return asked_by_unit(spec.unit, rule.measure)

    def requirement_it(self, rule: Rule) -> str:
        """The rule stated in full Italian for the input message of the value ("il valore deve essere minore o
        uguale a 0"). Kinds override it; the default names the target as the plan words it."""
        return f"risultato atteso {self.wording(rule)}"


@functools.lru_cache(maxsize=4096)
def _input_names(kind: Kind, rule: Rule) -> tuple[str, ...]:
    """The names of a rule's inputs (memoized: scoring thousands of returns asks for them every time)."""
    return tuple(s.name for s in kind.inputs(rule, 2000))


_COMPARE = {">": operator.gt, "<": operator.lt, ">=": operator.ge, "<=": operator.le}


class AllOrNothing(Kind):
    """A comparison of the value with the target that is met (100%) or not (0): subclasses set ``op``
    (a Python and Excel comparison operator) and ``word`` (how the wording introduces the target)."""

    op = ">="
    word = ""
    required = ("target",)
    optional = ("measure",)

    def achievement(self, rule: Rule, values: Mapping[str, Any], policy: ScoringPolicy) -> Score:
        return SCORED, 1.0 if _COMPARE[self.op](float(values["value"]), rule.target or 0.0) else 0.0, ""

    def expression(self, rule: Rule, cells: Sequence[str], policy: ScoringPolicy) -> str:
        return f"IF({cells[0]}{self.op}{xl_number(rule.target or 0.0)},1,0)"

    def wording(self, rule: Rule) -> str:
        return f"{self.word} {it_quantity(rule, rule.target)}"

    def requirement_it(self, rule: Rule) -> str:
        return f"il valore deve essere {COMPARISON_IT[self.op]} {it_quantity(rule, rule.target)}; altrimenti conta 0"

    def describe(self, rule: Rule) -> str:
        return f"{self.name} {en_quantity(rule, rule.target)} ({rule.unit})"


# --- shared pieces -------------------------------------------------------------------------------------

COMPARISON_IT = {">": "maggiore di", "<": "minore di", ">=": "maggiore o uguale a", "<=": "minore o uguale a"}


def asked_by_unit(unit: str, measure: str | None = None) -> str:
    """The value asked, in words with its unit: "Percentuale (%)", "Importo in euro (€)", "Numero di giorni"."""
    if unit == "number":
        return f"Numero di {measure}" if measure else "Numero"
    return {"percent": "Percentuale (%)", "amount": "Importo in euro (€)", "date": "Data (gg/mm/aaaa)",
            "yes_no": "Sì o No"}.get(unit, "Valore")


def value_input(rule: Rule, label: str = "Valore consuntivo") -> InputSpec:
    """The single value cell of a comparison rule, bounded as its unit requires."""
    if rule.unit == "percent":
        top = max(1.0, rule.target or 0.0, rule.high or 0.0)
        return InputSpec("value", f"{label} (%)", "percent", 0.0, top)
    if rule.unit == "amount":
        return InputSpec("value", f"{label} (€)", "amount", 0.0)
    if rule.measure:
        return InputSpec("value", f"{label} ({rule.measure})", "number")
    return InputSpec("value", label, "number")


def it_quantity(rule: Rule, x: float | None) -> str:
    """A value of the rule with its unit, in Italian: ``95,5%``, ``1.500 €``, ``30 giorni``."""
    if x is None:
        return "?"
    if rule.unit == "percent":
        pct = f"{it_number(round(x * 100, 10))}%"
        return f"{pct} {rule.measure}" if rule.measure else pct
    if rule.unit == "amount":
        return f"{it_number(x)} €"
    if rule.measure:
        return f"{it_number(x)} {rule.measure}"
    return it_number(x)


def en_quantity(rule: Rule, x: float | None) -> str:
    if x is None:
        return "?"
    if rule.unit == "percent":
        return f"{x * 100:g}%"
    return f"{x:g}"


def at_least_ratio(actual: float, target: float) -> float:
    if target == 0:
        return 1.0 if actual >= 0 else 0.0
    return clamp01(actual / target)


def at_least_expression(expr: str, target: float) -> str:
    if target == 0:
        return f"IF({expr}>=0,1,0)"
    return f"MIN(1,MAX(0,({expr})/{xl_number(target)}))"
