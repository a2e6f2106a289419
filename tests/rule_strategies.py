"""Hypothesis strategies that build rules of every registered kind (shared by the grammar and formula tests).

Numbers are built as a plan prints them (at most a few decimals), so that formatting them in Italian and
reading them back gives the same float.
"""

from __future__ import annotations

from datetime import date

from hypothesis import assume
from hypothesis import strategies as st

from piao_xls.core.model import Rule


def pct(x: float) -> float:
    return x / 100


def decimal(max_int: int, decimals: int = 2):
    return st.builds(lambda i, d: float(f"{i}.{d:0{decimals}d}") if d else float(i),
                     st.integers(0, max_int), st.integers(0, 10 ** decimals - 1))


PCT_VALUE = decimal(150, 1).map(pct)
MEASURE = st.sampled_from([None, "controlli", "eventi", "pratiche evase"])
YEAR = st.one_of(st.none(), st.integers(2015, 2030))


@st.composite
def value_rule(draw, kind):
    unit = draw(st.sampled_from(["percent", "number", "amount"]))
    value = draw(PCT_VALUE) if unit == "percent" else draw(decimal(10 ** 7))
    measure = draw(MEASURE) if unit == "number" else None
    if kind in ("at_most", "less_than", "equal") and unit == "number" and draw(st.booleans()):
        value = -value if value else value
    extra = {}
    if kind == "at_most" and draw(st.booleans()):
        worst = draw(PCT_VALUE) if unit == "percent" else draw(decimal(10 ** 7))
        assume(worst > value)
        extra["worst"] = worst
    if kind == "equal" and draw(st.booleans()):
        tol = draw(PCT_VALUE) if unit == "percent" else draw(decimal(100))
        if tol:
            extra["tolerance"] = tol
    return Rule(kind, unit=unit, target=value, measure=measure, **extra)


@st.composite
def range_rule(draw):
    unit = draw(st.sampled_from(["percent", "number", "amount"]))
    a, b = sorted(draw(st.lists(PCT_VALUE if unit == "percent" else decimal(10 ** 6), min_size=2, max_size=2)))
    return Rule("range", unit=unit, low=a, high=b, measure=draw(MEASURE) if unit == "number" else None)


@st.composite
def change_rule(draw, kind):
    unit = draw(st.sampled_from(["number", "amount"]))
    measure = draw(MEASURE) if unit == "number" else None
    year = draw(YEAR)
    form = draw(st.sampled_from(["share", "share+baseline", "target"]))
    share = draw(decimal(100 if kind == "decrease" else 300, 1).filter(lambda x: kind != "decrease" or x <= 100)
                 .map(pct))
    if form == "share":
        what = draw(st.sampled_from([None, "dei tempi di attesa", "delle pratiche"]))
        return Rule(kind, unit="number", baseline_year=year, measure=what, **{kind: share})
    base = draw(decimal(10 ** 6))
    if form == "share+baseline":
        return Rule(kind, unit=unit, baseline_year=year, baseline=base, measure=measure, **{kind: share})
    other = draw(decimal(10 ** 6))
    lo, hi = sorted((base, other))
    if lo == hi:
        hi += 1
    base, target = (lo, hi) if kind == "increase" else (hi, lo)
    return Rule(kind, unit=unit, baseline_year=year, baseline=base, target=target, measure=measure)


@st.composite
def maintain_rule(draw):
    unit = draw(st.sampled_from(["percent", "number", "amount"]))
    year = draw(YEAR)
    value = PCT_VALUE if unit == "percent" else decimal(10 ** 6)
    tolerance = draw(st.one_of(st.none(), value.filter(bool)))
    if draw(st.booleans()):  # the plan states the baseline
        measure = draw(MEASURE) if unit == "number" else None
        return Rule("maintain", unit=unit, baseline=draw(value), baseline_year=year, tolerance=tolerance,
                    measure=measure)
    what = draw(st.sampled_from([None, "delle pratiche evase", "dei controlli svolti", "degli utenti serviti"]))
    return Rule("maintain", unit="number", baseline_year=year, measure=what,
                tolerance=draw(st.one_of(st.none(), decimal(100).filter(bool))))


@st.composite
def rate_rule(draw):
    target = draw(decimal(1000).filter(bool))
    every = draw(decimal(10 ** 5).filter(bool))
    return Rule("rate", unit="number", target=target, every=every,
                measure=draw(st.sampled_from([None, "sopralluogo", "controlli", "verifiche a campione"])),
                per=draw(st.sampled_from([None, "pratiche", "cantieri", "pratiche edilizie"])))


DURATION = st.builds(lambda t, m: Rule("duration", unit="number", target=t, measure=m),
                     decimal(120, 1).filter(bool),
                     st.sampled_from(["mesi", "anni", "mese", "anno", "mesi dall'avvio", "anni dalla richiesta"]))


#: kind name -> strategy of rules of that kind; every registered kind must have one (tests check it)
BY_KIND = {
    **{k: value_rule(k) for k in ("at_least", "at_most", "more_than", "less_than", "equal", "threshold")},
    "range": range_rule(),
    "deadline": st.dates(date(2020, 1, 1), date(2030, 12, 31)).map(lambda d: Rule("deadline", unit="date",
                                                                                   deadline=d)),
    "yes_no": st.just(Rule("yes_no", unit="yes_no")),
    "fraction": PCT_VALUE.map(lambda t: Rule("fraction", unit="percent", target=t)),
    "increase": change_rule("increase"),
    "decrease": change_rule("decrease"),
    "maintain": maintain_rule(),
    "rate": rate_rule(),
    "duration": DURATION,
    "giudizio": st.just(Rule("giudizio", unit="percent")),
    "informative": st.just(Rule("informative")),
}
