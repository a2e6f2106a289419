"""Italian figures: one module (piao_xls.core.italian, on babel), rounding half away from zero defined once, and
every output that shows a figure goes through it. Expected texts are written as an Italian reader writes them
(CLDR it_IT: «.» for thousands, «,» for decimals; «€» after the amount), not computed.
"""

from __future__ import annotations

import math
from datetime import date, datetime

import pytest

from piao_xls.core import italian
from piao_xls.core.evaluation import Reason
from piao_xls.core.model import ScoringPolicy
from piao_xls.forms.layout import Cell, Validation
from piao_xls.results.consolidate import sector_note_it
from piao_xls.results.decisions import format_value
from piao_xls.results.relazione import method_text
from piao_xls.results.tables import it_number, it_percent, it_plain
from piao_xls.returns.reader import validate_value


@pytest.mark.parametrize(("x", "decimals", "text"), [
    (1234567.891, 2, "1.234.567,89"),
    (94.995, 2, "95,00"),  # half away from zero, on the figure as printed (binary 94.99499999...)
    (0.94995 * 100, 2, "95,00"),
    (2.675, 2, "2,68"),
    (-2.675, 2, "-2,68"),  # away from zero on both sides
    (2.665, 2, "2,67"),  # never half-even
    (94.994, 2, "94,99"),
    (0.5, 0, "1"),
    (1.5, 0, "2"),
    (2.5, 0, "3"),
    (-0.5, 0, "-1"),
    (2.5e6, 2, "2.500.000,00"),
    (1e15, 0, "1.000.000.000.000.000"),
    (0.0, 2, "0,00"),
])
def test_numbers_round_half_away_from_zero(x, decimals, text):
    assert italian.number(x, decimals) == text


@pytest.mark.parametrize(("x", "text"), [
    (3.0, "3"), (-2.5, "-2,5"), (2.5e6, "2.500.000"), (1e6, "1.000.000"), (0.1 + 0.2, "0,3"),
    (1234.5, "1.234,5"), (0.0000001, "0"), (-0.0000001, "0"), (12.3456789, "12,345679"),
    (1e15, "1.000.000.000.000.000"), (1e300, "1 × 10^300"), (-2.5e30, "-2,5 × 10^30"),
])
def test_plain_numbers_never_use_exponents(x, text):
    assert italian.plain(x) == text


@pytest.mark.parametrize(("fraction", "text"), [
    (0.97, "97%"), (0.944444, "94,44%"), (0.94995, "95%"), (0.949949, "94,99%"), (1.0, "100%"), (0.0, "0%"),
    (0.5 + 1e-12, "50%"),
])
def test_percentages_show_the_published_figure(fraction, text):
    assert italian.percent(fraction) == text
    assert it_percent(fraction) == text  # the summary's, the JSON's and the CSV's text: the same


def test_the_same_figure_is_the_same_text_in_every_output():
    x = 0.94995
    assert it_percent(x) == italian.percent(x) == "95%"
    assert it_number(x * 100, 2) == "95,00"
    assert format_value(x, "percent") == "95%"


@pytest.mark.parametrize(("v", "unit", "text"), [
    (-1234.5, "amount", "-1.234,50 €"), (0.0, "amount", "0,00 €"), (1234567.891, "amount", "1.234.567,89 €"),
    (0.905, "percent", "90,5%"), (date(2025, 12, 31), "date", "31/12/2025"), (True, "yes_no", "Sì"),
    (False, "yes_no", "No"), (None, "number", "—"), (14.285714, "number", "14,29"), (2.5e6, "number", "2.500.000"),
])
def test_values_by_unit(v, unit, text):
    assert italian.value(v, unit) == text


def test_dates_and_plurals():
    assert italian.day(date(2025, 12, 5)) == "05/12/2025"
    assert italian.day(datetime(2025, 12, 5, 10, 30)) == "05/12/2025 10:30"
    assert italian.day("2025-12-05T10:30:00") == "05/12/2025 10:30"
    assert italian.day("non una data") == "non una data"
    assert [italian.plural(n, "segnalazione", "segnalazioni") for n in (0, 1, 2, 1000)] == \
        ["0 segnalazioni", "1 segnalazione", "2 segnalazioni", "1.000 segnalazioni"]


def test_a_sentence_keeps_the_dots_of_codes():
    # a gate objective «SA.1» not met: only the figures are Italian, the objective's code is as in the plan
    note = sector_note_it(Reason("gate_failed", {"gates": ("SA.1", "SA.2"), "uncapped": 1234.5}),
                          ScoringPolicy(gate_cap=59.5))
    assert note == ("obiettivo di accesso SA.1, SA.2 non raggiunto: punteggio al massimo 59,5 (senza il limite "
                    "sarebbe 1.234,50)")


def _cell(unit: str, validation: Validation) -> Cell:
    return Cell(0, 4, kind="input", key="X|value", unit=unit, validation=validation)


@pytest.mark.parametrize(("raw", "unit", "validation", "words"), [
    (2.5e6, "number", Validation("decimal", 0.0, 1e6), "valore 2.500.000 superiore al massimo ammesso (1.000.000)"),
    (-1234.5, "amount", Validation("decimal", 0.0, 1e12), "importo negativo (-1.234,50 €)"),
    (-0.75, "number", Validation("decimal", -0.5, 1e12), "valore -0,75 inferiore al minimo ammesso (-0,5)"),
    (1.5, "percent", Validation("decimal", 0.0, 1.0), "percentuale 150% fuori dall'intervallo 0% - 100%"),
    (80.5, "percent", Validation("decimal", 0.0, 1.0), "forse intendeva 80,5%?"),
    (date(2031, 1, 1), "date", Validation("date", date(2025, 1, 1), date(2026, 12, 31)),
     "data 01/01/2031 fuori dal periodo ammesso (01/01/2025 - 31/12/2026)"),
])
def test_the_responsabile_reads_italian_figures(raw, unit, validation, words):
    _, err, _ = validate_value(raw, _cell(unit, validation), 2025)
    assert err is not None and words in err, err
    assert "e+" not in err


def test_the_relazione_states_the_threshold_in_italian(plan):
    from dataclasses import replace

    text = " ".join(method_text(replace(plan, scoring=replace(plan.scoring, threshold=0.405))))
    assert "inferiore al 40,5% vale 0" in text
    assert it_plain(40.5) == "40,5"


def test_the_fast_rounding_is_the_published_rounding():
    """italian.rounded takes Python's round away from half-way points: the same figure as publish_round, on
    random values and on values next to half-way points."""
    import random

    from piao_xls.core.model import publish_round

    rng = random.Random(19)
    values = [rng.uniform(-1e6, 1e6) for _ in range(20000)] + [rng.random() for _ in range(20000)]
    values += [round(rng.uniform(-1e4, 1e4), 3) + h for _ in range(5000) for h in (0.0005, -0.0005, 5e-7, 4.9999e-4)]
    for x in values:
        for d in (0, 1, 2, 3, 6):
            assert italian.rounded(x, d) == publish_round(x, d), (x, d)


def test_finite_is_a_finite_number_and_not_a_boolean():
    """Every output asks ``finite`` whether a figure can be shown: a float or int that is finite, never a bool."""
    from piao_xls.core.italian import finite

    class Share(float):
        pass

    for x in (0.0, -0.0, 1e308, -1e308, 5e-324, 0.1 + 0.2, 7, -3, 0, Share(2.5)):
        assert finite(x), x
    for x in (math.inf, -math.inf, math.nan, Share("inf"), Share("nan"), True, False, None, "1", "nan", [1.0]):
        assert not finite(x), x


def test_a_figure_written_before_is_written_alike_and_a_boolean_never_as_one():
    """``number`` remembers the texts it wrote: the same figure reads the same every time, and a boolean (equal
    to 1 or 0 for Python) is still no figure after 1 and 0 were written."""
    assert italian.number(1, 2) == italian.number(1.0, 2) == "1,00"
    assert italian.number(0, 2) == "0,00" and italian.number(-0.0, 2) == "0,00" and italian.number(-0.001, 2) == "0,00"
    assert italian.number(True, 2) == "" and italian.number(False, 2) == ""
    assert italian.number(2.675, 2) == "2,68" and italian.number(2.675, 1) == "2,7"  # half away from zero, per digits
    assert italian.number(1234567.891, 2) == "1.234.567,89" and italian.number(1234567.891, 2) == "1.234.567,89"


def _format_specs(tree):
    """(line, spec) of every literal format spec of an f-string in ``tree``."""
    import ast

    for node in ast.walk(tree):
        if isinstance(node, ast.FormattedValue) and isinstance(node.format_spec, ast.JoinedStr):
            spec = "".join(v.value for v in node.format_spec.values if isinstance(v, ast.Constant))
            yield node.lineno, spec


def test_no_number_is_written_in_english_outside_the_italian_module():
    """Issue 19: one module writes numbers for people (core/italian.py, on babel). Python's own thousands
    separator (``{n:,}``) and fixed decimals (``{x:.1f}``) write 1,048,576 and 21.5, an English spelling in an
    Italian sentence; whole figures with no separator (``{x:.0f}``, ``{x:g}`` of a small count) stay allowed."""
    import ast
    import re
    from pathlib import Path

    root = Path(italian.__file__).resolve().parent.parent
    found = []
    for path in sorted(root.rglob("*.py")):
        if path.name == "italian.py" and path.parent.name == "core":
            continue
        for line, spec in _format_specs(ast.parse(path.read_text(encoding="utf-8"))):
            if "," in spec or "_" in spec or re.search(r"\.[1-9]\d*[fe%]", spec):
                found.append(f"{path.relative_to(root.parent)}:{line}: {{:{spec}}}")
    assert not found, found
