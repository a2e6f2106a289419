"""A filled-in campaign of the bundled plan for the summary tests: every sector's workbook and the
Nucleo's and external sources', written by the real writer, with values chosen to expose each class
of problem of the summary, JSON and CSV.

* SF: the hand-computed scenario, with an amount that needs full precision (1.234.567,891 €), a
  negative number (-4 days), a real 0 (SF-3.1 = 0%), analyses built to become formulas in a CSV
  (after a separator, a tab, a line break, a quote);
* AV: every value of objective AV-1 left empty (non rendicontato: must not look like a 0);
* the others: reproducible sample values.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from scenario import NUCLEO_VALUES, SF_ANALYSES, SF_VALUES

from piao_xls.forms.layout import sector_workbook, source_workbook
from piao_xls.forms.samples import sample_values
from piao_xls.forms.writer import render

BIG_NUMERATOR = 1234567.891
BIG_DENOMINATOR = 1300000.0
NEGATIVE = -4.0
HOSTILE_ANALYSES = {
    "SF-6.1|analisi": 'Accertamenti; =1+1\tsegue =2+2\n-3+3 e "virgolette"=4+4, @SUM(A1) fine',
    "SF-3.1|analisi": "+39 02 1234 5678,-5;@x",
    "SF-1.1|analisi": "=HYPERLINK(\"http://example.invalid\";\"clic\")",
}
MISSING_OBJECTIVE = "AV-1"
ZERO_OBJECTIVE = "SF-3"
SF_FILLED = {**SF_VALUES, **SF_ANALYSES, **HOSTILE_ANALYSES, "SF-6.1|numerator": BIG_NUMERATOR,
             "SF-6.1|denominator": BIG_DENOMINATOR, "SF-4.1|value": NEGATIVE, "SF-3.1|value": 0.0,
             "SF-1.2|date": date(2025, 12, 5)}


def build_inbox(plan, folder: Path, without: tuple[str, ...] = ()) -> Path:
    """Write the returned workbooks into ``folder`` (sector codes in ``without`` are left out, also from the
    Nucleo's and the external sources' workbooks)."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, sector in enumerate(plan.sectors):
        if sector.code in without:
            continue
        book = sector_workbook(plan, sector)
        if sector.code == "SF":
            values = dict(SF_FILLED)
        else:
            values = sample_values(book.sheets[1], seed=i, year=plan.year)
        if sector.code == "AV":
            values = {k: v for k, v in values.items() if not k.startswith(MISSING_OBJECTIVE + ".")}
        (folder / book.filename).write_bytes(render(book, prefill=values))
    for source in ("nucleo", "esterno"):
        book = source_workbook(plan, source)
        values: dict = {}
        for sheet in book.sheets[1:]:
            values.update(sample_values(sheet, seed=5, year=plan.year))
        if source == "nucleo":
            values.update(NUCLEO_VALUES)
        # a sector left out is left out by every source: nothing to score it from
        values = {k: v for k, v in values.items() if not k.startswith(tuple(f"{c}-" for c in without))}
        (folder / book.filename).write_bytes(render(book, prefill=values))
    return folder
