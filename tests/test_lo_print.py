"""The Responsabile's first look and the printout, judged in real LibreOffice: a fresh workbook shows no grade,
no points and no band; in the PDF of every sector workbook no objective card is split over two pages; a 2,000-
character analysis is printed whole; every spelling of "Sì" scores 1 in the live formula, as in the reader."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from libreoffice import LibreOffice
from scenario import YN_PLAN

from piao_xls.core.answers import NO, YES
from piao_xls.forms.layout import ROW_HEIGHT, G, page_capacity, plan_workbooks, sector_workbook
from piao_xls.forms.writer import render
from piao_xls.plan.planfile import parse_plan

pytestmark = pytest.mark.libreoffice

BAND_TEXT = re.compile(r"\b(Eccellente|Buono|Adeguato|Migliorabile|Inadeguato)\b")


def _pdftotext() -> str:
    tool = shutil.which("pdftotext")
    if tool is None:
        from libreoffice import require_libreoffice

        require_libreoffice()  # same policy: skip locally, fail under CI
        pytest.skip("pdftotext (poppler-utils) is not installed")
    return tool


def pdf_pages(pdf: Path) -> list[str]:
    """The text of each page of ``pdf`` (pdftotext, layout kept)."""
    tool = _pdftotext()
    text = subprocess.run([tool, "-layout", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    return text.split("\f")[:-1] if text.endswith("\f") else text.split("\f")


def to_pdf(lo: LibreOffice, xlsx: Path, out: Path) -> Path:
    with lo.open(xlsx) as doc:
        return doc.save_as(out, "pdf")


def test_a_fresh_workbook_shows_no_grade_points_or_band(libreoffice, plan, bundled_dir):
    problems = []
    for book in plan_workbooks(plan):
        with libreoffice.open(bundled_dir / book.filename) as doc:
            doc.recalc()
            for sheet in book.sheets:
                for cell in sheet.formulas:
                    shown = doc.get_string(sheet.name, cell.ref)
                    if shown and shown != "da compilare (peso rendicontato: 0%)":
                        problems.append(f"{book.filename}: {sheet.name}!{cell.ref} shows {shown!r}")
                for cell in sheet.labels:
                    if isinstance(cell.value, str) and BAND_TEXT.search(cell.value):
                        problems.append(f"{book.filename}: {sheet.name}!{cell.ref} holds a band: {cell.value!r}")
    assert not problems, "\n".join(problems[:20])


@pytest.mark.parametrize("code", ["SA", "SF", "ST", "AV"])
def test_no_card_splits_across_pages_in_the_pdf(libreoffice, plan, bundled_dir, tmp_path, code):
    """A card that fits on a page is printed on one page; a taller one (each indicator reserves rows for a
    2,000-character analysis) starts at the top of a page and breaks only between its parts (steps,
    indicators with their analysis), never inside one."""
    sector = plan.sector(code)
    book = sector_workbook(plan, sector)
    sheet = book.sheets[1]
    heights = sheet.row_heights
    capacity = page_capacity(sheet, heights)
    fits = [sum(heights.get(r, ROW_HEIGHT) for r in range(g[0][0], g[-1][1] + 1)) <= capacity for g in sheet.cards]
    pages = pdf_pages(to_pdf(libreoffice, bundled_dir / book.filename, tmp_path / f"{code}.pdf"))
    assert len(pages) > 2
    # card k begins with "Obiettivo N/CODE" and ends with its k-th "Programma di bilancio" row and the text below
    ends = [(p, m.end()) for p, text in enumerate(pages) for m in re.finditer(r"Programma di bilancio", text)]
    assert len(ends) == len(sector.objectives), f"{code}: {len(ends)} card footers printed"
    for k, obj in enumerate(sector.objectives):
        first = [p for p, text in enumerate(pages) if re.search(rf"Obiettivo {obj.number}/{code}\b", text)]
        assert len(first) == 1, f"{code}: the heading of objective {obj.number} printed on pages {first}"
        end_page, end_pos = ends[k]
        words = obj.programma.split()[:2]
        if words:  # the last line of the card: the first words of the Programma di bilancio
            assert " ".join(words) in " ".join(pages[end_page][end_pos:].split()), f"{code}-{obj.number}: last line"
        if fits[k]:
            assert first[0] == end_page, (f"{code}: objective {obj.number} starts on page {first[0] + 1} and ends "
                                          f"on page {end_page + 1}")
        else:  # at the top of its page: no part of another card above its heading
            above = set(pages[first[0]].split(f"Obiettivo {obj.number}/{code}")[0].split())
            assert not above & {"Programma", "Analisi", "Stakeholder", "Peso", "Totale"}, (code, obj.number, above)


def test_a_2000_character_analysis_typed_in_a_fresh_workbook_is_printed_whole(libreoffice, plan, bundled_dir,
                                                                              tmp_path):
    """The analysis row of a fresh workbook is sized for the longest accepted text: typed, it prints whole."""
    book = sector_workbook(plan, plan.sector("AV"))  # AV-8: the tallest card, three analyses
    sheet = book.sheets[1]
    words = [f"parola{i:03d}" for i in range(200)]
    analysis = " ".join(words) + "."
    assert len(analysis) == 2000
    keys = [k for k in sheet.inputs if k.startswith("AV-8.") and k.endswith("|analisi")]
    assert len(keys) == 3
    with libreoffice.open(bundled_dir / book.filename) as doc:
        for key in keys:
            doc.set_value(sheet.name, sheet.inputs[key].ref, analysis)
        pdf = doc.save_as(tmp_path / "typed.pdf", "pdf")
    pages = pdf_pages(pdf)
    text = " ".join(" ".join(pages).split())
    for w in words:
        assert text.count(w) == 3, f"{w} printed {text.count(w)} times, not in each of the 3 analyses"
    card = [i for i, page in enumerate(pages) if "Obiettivo 8/AV" in page]
    assert len(card) == 1 and "parola199" in pages[card[0]]  # the card, analyses included, on one page


def test_a_2000_character_analysis_is_printed_whole(libreoffice, plan, tmp_path):
    book = sector_workbook(plan, plan.sector("SF"))
    words = [f"parola{i:03d}" for i in range(200)]
    analysis = " ".join(words) + "."
    assert len(analysis) == 2000  # the longest accepted
    path = tmp_path / book.filename
    path.write_bytes(render(book, prefill={"SF-6.1|analisi": analysis, "SF-6.1|numerator": 1.0,
                                           "SF-6.1|denominator": 2.0}))
    text = " ".join(" ".join(pdf_pages(to_pdf(libreoffice, path, tmp_path / "filled.pdf"))).split())
    missing = [w for w in words if w not in text]
    assert not missing, f"{len(missing)} words of the analysis not printed, e.g. {missing[:3]}"




def test_every_spelling_of_yes_scores_1_live_as_in_the_reader(libreoffice, tmp_path):
    plan, _ = parse_plan(YN_PLAN, "yn.yaml")
    book = sector_workbook(plan, plan.sectors[0])
    sheet = book.sheets[1]
    cell = sheet.inputs["YN-1.1|value"]
    path = tmp_path / book.filename
    path.write_bytes(render(book))
    live = f"{'ABCDEFGH'[G]}{cell.row + 1}"
    with libreoffice.open(path) as doc:
        for typed in (*YES, *(s.upper() for s in YES), "Sì ", *NO, "NO", "non disponibile", "forse"):
            doc.set_value(sheet.name, cell.ref, typed)
            doc.recalc()
            got = doc.get_value(sheet.name, live)
            want = 1.0 if typed.strip().lower() in YES else "n.d." if typed == "non disponibile" else 0.0
            assert got == want, f"{typed!r}: live {got!r}, reader {want!r}"
