"""Differential test (issue 11, section 4): what LibreOffice shows is what piao-xls scored.

A seeded sample of mutated returned workbooks (the generators of tests/test_mutations.py that can
leave a file readable: retyped cells, absurd values, unicode, encodings, equivalent packages, shared
strings, styles) is read by piao-xls; each *accepted* file is then opened in a real LibreOffice and,
for every input cell piao-xls read, the value LibreOffice shows, validated by the same rule, must be
the value piao-xls scored. Any difference fails the run.

Reproduce: PIAO_DIFF_SEED=<seed> PIAO_DIFF_FILES=<n> python3 -m pytest tests/test_lo_differential.py
"""

from __future__ import annotations

import math
import os
import random
import re
from datetime import date, datetime, timedelta

import pytest
import test_mutations as mut
import zipmut

from piao_xls.forms.layout import COLS
from piao_xls.returns.reader import ACCEPTED, ACCEPTED_WITH_WARNINGS, read_workbook, validate_value

pytestmark = pytest.mark.libreoffice

SEED = int(os.environ.get("PIAO_DIFF_SEED", "11"))
FILES = int(os.environ.get("PIAO_DIFF_FILES", "24"))
CANDIDATES = 12 * FILES
OPERATORS = [mut.op_equivalent, mut.op_retype, mut.op_absurd, mut.op_unicode, mut.op_encodings,
             mut.op_shared_strings, mut.op_styles, mut.op_long_text]


def _shown(value, unit: str, ours):
    """A LibreOffice cell value in the reader's representation: LibreOffice's API gives dates as serials
    and booleans as 1/0 (a number with a boolean format); the cell's type in the file says which."""
    if value is None or value == "":
        return None
    if isinstance(value, float) and (unit == "date" or isinstance(ours, (date, datetime))):
        return (datetime(1899, 12, 30) + timedelta(days=value)).date() if value == int(value) else (
            datetime(1899, 12, 30) + timedelta(days=value))
    if isinstance(ours, bool) and value in (0.0, 1.0):
        return bool(value)
    return value


def _same(ours, theirs) -> bool:
    if isinstance(ours, float) and isinstance(theirs, float):
        return ours == theirs or (math.isclose(ours, theirs, rel_tol=1e-12, abs_tol=1e-12))
    if isinstance(ours, datetime) and isinstance(theirs, date):
        return ours.date() == (theirs.date() if isinstance(theirs, datetime) else theirs)
    return ours == theirs


@pytest.fixture(scope="module")
def accepted(plan, tmp_path_factory):
    folder = tmp_path_factory.mktemp("differential")
    bases = mut.build_bases(plan)
    rng = random.Random(SEED)
    found = []
    for i in range(CANDIDATES):
        base = rng.choice(bases)
        op = rng.choice(OPERATORS)
        try:
            data, suffix, desc = op(random.Random(f"{SEED}:{i}"), base)
        except (KeyError, ValueError, IndexError):
            continue
        if suffix != ".xlsx" or any(re.search(rb"_x[dD][89a-fA-F][0-9a-fA-F]{2}_", body)
                                    for body in zipmut.parts(data).values()):
            continue  # an escaped lone surrogate: LibreOffice's UNO bridge cannot carry it back to Python
        path = folder / f"d{i:04d}-{base.name}.xlsx"
        path.write_bytes(data)
        res = read_workbook(path, plan)
        if res.status in (ACCEPTED, ACCEPTED_WITH_WARNINGS) and res.sectors:
            found.append((path, desc, res))
        if len(found) >= FILES:
            break
    assert len(found) >= FILES // 2, f"only {len(found)} accepted variants out of {CANDIDATES}"
    return found


def test_libreoffice_shows_the_values_piao_xls_scored(accepted, libreoffice, plan):
    differences = []
    compared = 0
    for path, desc, res in accepted:
        with libreoffice.open(path) as doc:
            for sub in res.sectors.values():
                inputs = sub._inputs or {}
                for key, ours in sub.raw.items():
                    cell = inputs[key]
                    theirs = _shown(doc.get_value(sub.sheet, cell.ref), cell.unit or "text", ours)
                    scored = validate_value(ours, cell, plan.year)[0]
                    shown = validate_value(theirs, cell, plan.year)[0]
                    compared += 1
                    if not _same(scored, shown):
                        differences.append(f"{path.name} ({desc}) {sub.sheet}!{cell.ref}: piao-xls {scored!r}, "
                                           f"LibreOffice {shown!r} (raw {ours!r} / {theirs!r})")
                # nothing LibreOffice shows outside the form's area
                last_row, last_col = doc.used_range(sub.sheet)
                right = range(COLS, min(last_col + 1, 26))
                if any(doc.get_value(sub.sheet, f"{chr(65 + c)}{r + 1}") not in (None, "")
                       for r in range(min(last_row + 1, 50)) for c in right):
                    differences.append(f"{path.name} ({desc}): LibreOffice shows cells right of the form")
    assert compared > 100
    assert not differences, "\n".join(differences[:20]) + f"\nreproduce: PIAO_DIFF_SEED={SEED}"
