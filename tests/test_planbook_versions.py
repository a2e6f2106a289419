"""The plan workbook format is versioned: workbooks written by earlier versions of ``plan template`` still import.

``tests/fixtures/planbook-v1-template.xlsx`` is the empty workbook written by ``plan template`` before the
format gained its version mark (format 1); ``planbook-v1-filled.xlsx`` is that workbook filled in (openpyxl)
with ``planbook_sample.SAMPLE``. Neither file is ever regenerated: they stand for workbooks already in use.
"""

from __future__ import annotations

from pathlib import Path

from planbook_sample import EXPECTED_YAML

from piao_xls.plan.planbook import check_book
from piao_xls.plan.planfile import parse_plan

FIXTURES = Path(__file__).parent / "fixtures"


def test_a_format_1_workbook_still_imports_as_the_same_plan():
    plan, findings = check_book(FIXTURES / "planbook-v1-filled.xlsx")
    assert plan is not None, [str(f) for f in findings]
    expected, _ = parse_plan(EXPECTED_YAML, "expected.yaml")
    assert plan.fingerprint == expected.fingerprint
    assert not [f for f in findings if f.severity == "error"]


def test_an_empty_format_1_template_names_what_is_missing_without_a_traceback():
    plan, findings = check_book(FIXTURES / "planbook-v1-template.xlsx")
    assert plan is None
    assert any(f.sheet == "Ente" for f in findings), [str(f) for f in findings]
