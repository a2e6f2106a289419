"""Legible on paper and on a laptop screen, measured on what LibreOffice prints and on the column widths in the file.

Paper: every word of every page of LibreOffice's PDF of every generated workbook (sector, all sectors, Nucleo,
external sources; the bundled plan and a plan of long texts) prints at an effective size of at least 9 points
on A4. The effective size is the height of a word's box (pdftotext -bbox) over the height of a 10-point Calibri
word printed at 100%, times 10. Screen: every column of a card is within a 1,366 px wide screen at 100% zoom
(Excel's pixels: 7 a character plus 5 of padding; row headers and the scroll bar take the rest)."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import xlsxwriter
from openpyxl import load_workbook
from scenario import long_text_plan
from test_lo_print import pdf_pages

from piao_xls.forms.layout import (
    LINE_HEIGHT,
    MIN_ANALYSIS_LINES,
    ROW_HEIGHT,
    column_pixels,
    page_capacity,
    plan_workbooks,
)
from piao_xls.forms.writer import render

pytestmark = pytest.mark.libreoffice

SCREEN_PX = 1366
CHROME_PX = 60  # Excel's row headers (about 40 px at 100%) and the vertical scroll bar (about 17 px)
MIN_POINTS = 9.0

_WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>')


def pdf_words(pdf: Path) -> list[list[tuple[float, str]]]:
    """Per page: (height of the word's box in points, word), from pdftotext -bbox."""
    tool = shutil.which("pdftotext")
    if tool is None:
        from libreoffice import require_program

        require_program("pdftotext", "poppler-utils")
    out = subprocess.run([tool, "-bbox", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    pages = []
    for page in out.split("<page ")[1:]:
        pages.append([(float(m[3]) - float(m[1]), m[4]) for m in _WORD.findall(page)])
    return pages


@pytest.fixture(scope="module")
def ten_points(libreoffice, tmp_path_factory) -> float:
    """The box height of 10-point Calibri printed at 100% (the fonts installed decide it)."""
    tmp = tmp_path_factory.mktemp("calibration")
    path = tmp / "ten.xlsx"
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet()
    ws.write(0, 0, "Calibrazione", wb.add_format({"font_name": "Calibri", "font_size": 10}))
    ws.set_print_scale(100)
    wb.close()
    with libreoffice.open(path) as doc:
        pdf = doc.save_as(tmp / "ten.pdf", "pdf")
    heights = [h for page in pdf_words(pdf) for h, w in page if w == "Calibrazione"]
    assert len(heights) == 1
    return heights[0]


def _books(plan):
    """Every workbook of the bundled plan, and those of the long-text plan that show its long SF texts."""
    long = long_text_plan(plan)
    return [(b, "bundled") for b in plan_workbooks(plan)] + [
        (b, "long") for b in plan_workbooks(long) if b.kind == "all" or b.sector_codes == ("SF",)]


@pytest.fixture(scope="module")
def printed(libreoffice, plan, tmp_path_factory):
    """(book, which plan, LibreOffice's PDF of it) for every workbook of :func:`_books`."""
    tmp = tmp_path_factory.mktemp("printed")
    out = []
    for book, which in _books(plan):
        path = tmp / f"{which}-{book.filename}"
        path.write_bytes(render(book))
        with libreoffice.open(path) as doc:
            out.append((book, which, doc.save_as(path.with_suffix(".pdf"), "pdf")))
    return out


def test_every_word_prints_at_9_points_or_more(printed, ten_points):
    problems, words = [], 0
    for book, which, pdf in printed:
        for p, page in enumerate(pdf_words(pdf), 1):
            for height, word in page:
                words += 1
                size = 10 * height / ten_points
                if size < MIN_POINTS - 0.05:
                    problems.append(f"{which} {book.filename} page {p}: {word!r} at {size:.1f} pt")
    assert words > 10000
    assert not problems, f"{len(problems)} words below {MIN_POINTS} pt, e.g.\n" + "\n".join(problems[:15])


_CARD_EVENT = re.compile(r"Obiettivo (\d+)/(\S+)|(\(segue\))|Programma di bilancio")


def _card_pages(pages: list[str]) -> dict[tuple[str, str], tuple[int, int, set[int]]]:
    """Per card ("N", "CODE"): its first page, the page of its footer, and the pages where it goes on under its
    heading repeated with «(segue)» (read from the text of each page, in print order)."""
    out: dict[tuple[str, str], tuple[int, int, set[int]]] = {}
    current: tuple[str, str] | None = None
    for p, text in enumerate(pages):
        for m in _CARD_EVENT.finditer(text):
            if m[1]:
                key = (m[1], m[2])
                if key not in out:
                    out[key] = (p, -1, set())
                current = key
            elif m[3] and current:
                out[current][2].add(p)
            elif current:  # its footer
                first, _, cont = out[current]
                out[current] = (first, p, cont)
                current = None
    return out


def test_no_card_splits_unless_it_cannot_fit_a_page_and_then_its_heading_goes_on(printed, plan):
    """In LibreOffice's PDF of every workbook (each sector, all sectors, of the bundled and the long-text plan) each
    objective card prints on one page. A card taller than a page even with its «Analisi» rows shortened goes on at
    an indicator, on a new page under its heading with «(segue)»; it breaks elsewhere only inside a part that is
    by itself taller than a page (a plan text longer than a page). The pages are those the layout planned."""
    checked, continued, inside = 0, 0, 0
    plans = {"bundled": plan, "long": long_text_plan(plan)}
    for book, which, pdf in printed:
        pages = pdf_pages(pdf)
        cards = _card_pages(pages)
        for sheet in book.sheets:
            if sheet.kind != "sector":
                continue
            heights = sheet.row_heights
            capacity = page_capacity(sheet, heights)
            breaks = sheet.page_breaks()
            sector = plans[which].sector(sheet.sector_code)
            starts = [i for i, g in enumerate(sheet.groups) if g[0][0] in sheet.fresh]
            spans = [(sheet.groups[i][0][0], sheet.groups[j - 1][-1][1] + 1)  # a card's groups: until the next card
                     for i, j in zip(starts, [*starts[1:], len(sheet.groups)], strict=True)]
            for obj, (first, end) in zip(sector.objectives, spans, strict=True):
                where = f"{which} {book.filename} {obj.number}/{sector.code}"
                page, last, cont = cards[(str(obj.number), sector.code)]
                inner = [b for b in breaks if first < b < end]
                segue = {c.row for c in sheet.cells if c.style == "card" and isinstance(c.value, str)
                         and c.value.endswith("(segue)") and first < c.row < end}
                assert last - page == len(inner), f"{where}: pages {page + 1}-{last + 1}, planned breaks {inner}"
                words = " ".join(obj.programma.split()[:2])  # the card's last line prints with its footer
                assert words in " ".join(pages[last].split()), f"{where}: {words!r} not on page {last + 1}"
                assert len(cont) == len(segue) and set(b for b in inner if b in segue) == segue, where
                for b in inner:
                    if b in segue:
                        continue
                    unit = next(((a, z) for g in sheet.groups for a, z in g if a < b <= z), None)
                    assert unit, f"{where}: goes on at row {b + 1} without its heading"
                    assert sum(heights.get(r, ROW_HEIGHT) for r in range(unit[0], unit[1] + 1)) > capacity, (
                        f"{where}: a break inside rows {unit} that fit a page")
                    inside += 1
                if segue:  # it cannot fit: even with the shortest analysis rows it is taller than a page
                    continued += 1
                    added = {r + k for r in segue for k in (0, 1)}  # the repeated heading and indicator header
                    analyses = {c.row for c in sheet.cells if (c.key or "").endswith("|analisi") and first <= c.row < end}
                    total = sum(heights.get(r, ROW_HEIGHT) for r in range(first, end) if r not in added | analyses
                                ) + len(analyses) * (MIN_ANALYSIS_LINES * LINE_HEIGHT + 4)
                    assert total > capacity, f"{where}: continued although {total:.0f} pt fit {capacity:.0f}"
                checked += 1
    assert checked >= 2 * 38 and continued and inside, (checked, continued, inside)


def test_every_column_of_a_card_is_on_a_1366_px_screen(plan):
    for book, which in _books(plan):
        wb = load_workbook(io.BytesIO(render(book)))
        for sheet in book.sheets:
            ws = wb[sheet.name]
            widths = {i: d.width for d in ws.column_dimensions.values() for i in range(d.min, d.max + 1)}
            pixels = [round(widths[i + 1] * 7) for i in range(len(sheet.col_widths))]  # as Excel draws them
            assert pixels == [column_pixels(w) for w in sheet.col_widths], sheet.name
            assert sum(pixels) + CHROME_PX <= SCREEN_PX, f"{which} {book.filename} {sheet.name}: {sum(pixels)} px"


@pytest.mark.parametrize("which", ["template", "export"])
def test_the_plan_workbook_prints_at_8_points_without_blank_pages(libreoffice, plan, tmp_path, ten_points, which):
    """The plan template and the plan export: every word at 8 points or more, no page without content (the empty
    coloured input rows are outside the print area), and no table squeezed: a wide one prints in strips."""
    from piao_xls.plan.planbook import export_bytes, print_strips, template_bytes

    path = tmp_path / f"plan-{which}.xlsx"
    path.write_bytes(template_bytes() if which == "template" else export_bytes(plan))
    with libreoffice.open(path) as doc:
        pdf = doc.save_as(path.with_suffix(".pdf"), "pdf")
    pages = pdf_words(pdf)
    small = [(p, w, round(10 * h / ten_points, 1)) for p, page in enumerate(pages, 1) for h, w in page
             if 10 * h / ten_points < 8.0 - 0.05]
    assert not small, small[:10]
    header_footer = {"Piano", "della", "performance", "Pagina", "di"}
    empty = [p for p, page in enumerate(pages, 1) if len([w for _, w in page if w not in header_footer]) < 4]
    assert not empty, f"pages without content: {empty}"
    assert print_strips("Indicatori")[0][1:], "the Indicatori table prints in more than one strip"
    assert len(pages) <= (16 if which == "template" else 40)
