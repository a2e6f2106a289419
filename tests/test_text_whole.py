"""Layout never alters text: a text cut over rows keeps every character and every space.

A property test over generated texts (Italian words, punctuation, long words, URLs, line breaks, runs of
spaces) joins the pieces back and compares them with the original; the bundled plan and a plan of long texts
are checked cell by cell in the generated workbook, and the reader accepts the untouched workbooks."""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from piao_xls.forms.layout import (
    BIG_STYLES,
    COL_WIDTHS,
    MAX_ROW_HEIGHT,
    _pieces,
    _text_height,
    sector_workbook,
)
from piao_xls.forms.writer import render

WORDS = ("delle", "posizioni", "banche", "dati", "Comune", "attività", "è", "perché", "l'ufficio", "dell'ente",
         "—", "«accertamento»", "(Anagrafe,", "Catasto,", "ecc.);", "verifica:", "100%", "31/12/2025", "€",
         "precipitevolissimevolmente", "https://www.comune.truccazzano.mi.it/amministrazione-trasparente/"
         "bandi-di-gara-e-contratti?anno=2025&tipo=determinazioni", "x" * 300, "a", "È", "ć", "🙂")
SEPARATORS = (" ", " ", " ", "  ", "\n", "\n\n", " \n", "\t", "   ")

texts = st.lists(st.tuples(st.sampled_from(WORDS), st.sampled_from(SEPARATORS)), min_size=0, max_size=900).map(
    lambda parts: "".join(w + s for w, s in parts))
edges = st.sampled_from(("", " ", "\n", "  testo", "testo  ", "\ntesto\n"))


@settings(max_examples=150, deadline=None)
@given(texts, edges, edges, st.sampled_from((*COL_WIDTHS, 8.0, 70.0, 198.0)),
       st.sampled_from(("text", "plain", *BIG_STYLES)))
def test_pieces_join_back_to_the_original(body, lead, tail, width, style):
    text = lead + body + tail
    pieces = _pieces(text, width, style)
    assert "".join(pieces) == text
    assert all(isinstance(p, str) and p for p in pieces) or pieces == [text]
    if len(pieces) > 1:  # cut only when needed, and every piece fits in Excel's tallest row
        assert _text_height(text, width, style) > MAX_ROW_HEIGHT
        assert all(_text_height(p, width, style) <= MAX_ROW_HEIGHT for p in pieces), [len(p) for p in pieces]


def test_non_text_values_are_one_piece():
    assert _pieces(12.5, 10.0) == [12.5]
    assert _pieces(None, 10.0) == [None]


def _column_texts(data: bytes, sheet: str) -> dict[int, str]:
    """Per column, every label of the sheet joined in row order (merged cells: only their first cell holds text)."""
    ws = load_workbook(io.BytesIO(data))[sheet]
    cols: dict[int, list[str]] = {}
    for row in ws.iter_rows():
        for c in row:
            if isinstance(c.value, str) and not c.value.startswith("="):
                cols.setdefault(c.column, []).append(c.value)
    return {k: "".join(v) for k, v in cols.items()}


def test_bundled_sf_card_6_reads_as_in_the_plan(plan):
    sector = plan.sector("SF")
    obj = next(o for o in sector.objectives if o.number == 6)
    book = sector_workbook(plan, sector)
    sheet = book.sheets[1]
    step = obj.steps[0].text
    assert len(step) > 1000
    column = {c.row: c.value for c in sheet.cells if c.col == 3 and isinstance(c.value, str)}
    first = next(r for r, v in column.items() if len(v) > 40 and step.startswith(v))
    joined, r = "", first
    while len(joined) < len(step) and r in column:
        joined, r = joined + column[r], r + 1
    assert r - first > 1, "the step is cut over rows"
    assert joined == step
    assert "delle posizioni, riscontrabili nelle banche dati" in _column_texts(render(book), sheet.name)[4]


def test_long_texts_of_a_plan_survive_the_workbook_and_the_reader(plan, tmp_path):
    """Every long text of a plan (steps, stakeholder, activities, offices, staff) is in the generated file whole,
    and the reader accepts the untouched file: labels are compared with the same layout."""
    from scenario import LONG_TEXT as long
    from scenario import long_text_plan

    from piao_xls.returns.reader import read_workbook

    big = long_text_plan(plan)
    book = sector_workbook(big, big.sector("SF"))
    data = render(book)
    joined = _column_texts(data, book.sheets[1].name)
    for text in (long + " fine", "Impatto " + long, long.strip() + ".", "Attività " + long, "Ufficio " + long):
        assert any(text in column for column in joined.values()), text[:40]
    path = tmp_path / book.filename
    path.write_bytes(data)
    result = read_workbook(path, big)
    codes = {f.code for f in result.findings}
    assert not any(c.startswith("T") for c in codes), sorted(codes)
