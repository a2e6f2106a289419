"""The reader's validation of an input value against the independent statement of docs/inputs.md."""

from __future__ import annotations

import math
from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from value_oracle import accepted

from piao_xls.forms.layout import Cell, Validation, all_sectors_workbook, source_workbook
from piao_xls.returns.reader import validate_value


def _cells(plan):
    """One input cell per (unit, bounds) of every workbook of the bundled plan."""
    books = [all_sectors_workbook(plan), *(source_workbook(plan, s) for s in ("nucleo", "esterno"))]
    out = {}
    for book in books:
        for sheet in book.sheets:
            for cell in sheet.inputs.values():
                v = cell.validation
                out.setdefault((cell.unit, v.minimum if v else None, v.maximum if v else None), cell)
    extra = [  # units and bounds other plans give (rule kinds the bundled plan does not use)
        Validation("list", choices=("Sì", "No", "non disponibile"), not_available=True),
        Validation("decimal", 0.0, 10.0, not_available=True),  # a percentage that is not a share
        Validation("decimal", 0.0, 1e12, not_available=True),
        Validation("date", date(2024, 1, 1), date(2027, 12, 31), not_available=True),  # a two-year target
    ]
    for unit, v in zip(("yes_no", "percent", "number", "date"), extra, strict=True):
        out.setdefault((unit, v.minimum, v.maximum), Cell(0, 0, kind="input", unit=unit, validation=v))
    out.setdefault(("text", 0, 2000), Cell(0, 0, kind="input", unit="text", validation=None))  # no validation
    return list(out.values())


TEXTS = ["", "   ", "#DIV/0!", " #n/a ", "#VALUE!", "Err:502", "err:502", "non disponibile", "  N.D. ", "n/d",
         "Non  disponibile", "nd.", "sì", " SI ", "si'", "Sí", "vero", "FALSE", "no", "forse", "15/11/2025",
         "1.2.2025", "31-12-2026", "29/02/2025", "29/02/2024", "1/1/2024", "31/12/2026", "1/1/2027", "2025-11-15",
         " 5/5/2025 ", "5/5/25", "95%", "95", "0,95", "1e3", "x" * 255, "y" * 256, "z" * 2000, "w" * 2001,
         "=1+1", "\u00a0", "testo libero", "#1 priorità", "# nota", "#N/D"]
RAWS = st.one_of(
    st.none(), st.sampled_from(TEXTS), st.text(max_size=12), st.booleans(),
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.sampled_from([0.0, 1.0, 0.95, 1.0000001, 10.0, 10.5, -0.0, -1.0, 1e12, 1e12 + 1, 45976.0, 45976.5, 44000.0,
                     46752.0, 0.5, 100.0, 2.5e6, -1e12 - 1]),
    st.integers(min_value=-10**13, max_value=10**13),
    st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)),
    st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 12, 31)),
)


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    return a == b and type(a) is type(b)


@pytest.fixture(scope="module")
def cells(plan):
    return _cells(plan)


def test_the_bundled_plan_has_every_unit(cells):
    assert {c.unit for c in cells} == {"percent", "number", "amount", "date", "yes_no", "text"}


@settings(max_examples=3000, deadline=None, derandomize=True)
@given(raw=RAWS, pick=st.integers(min_value=0, max_value=10**6), date1904=st.booleans())
def test_validate_value_follows_the_documented_rule(plan, cells, raw, pick, date1904):
    cell = cells[pick % len(cells)]
    v = cell.validation
    value, error, _ = validate_value(raw, cell, plan.year, date1904)
    ok, want = accepted(raw, cell.unit, v.minimum if v else None, v.maximum if v else None, plan.year, date1904)
    assert (error is None) == ok, (raw, cell.unit, error)
    assert _same(value, want), (raw, cell.unit, value, want)
