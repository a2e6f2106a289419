"""The Responsabile's first look and the printout, judged in real LibreOffice: a fresh workbook shows no grade,
no points and no band (how cards are printed over pages: tests/test_lo_legible.py); a 2,000-character analysis
is printed whole; every spelling of "Sì" scores 1 in the live formula, as in the reader."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from libreoffice import LibreOffice
from scenario import YN_PLAN

from piao_xls.core.answers import NO, YES
from piao_xls.forms.layout import G, plan_workbooks, sector_workbook
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


def test_a_2000_character_analysis_typed_in_a_fresh_workbook_is_printed_whole(libreoffice, plan, bundled_dir,
                                                                              tmp_path):
    """The analysis row of a fresh workbook is sized for the longest accepted text, unless that makes its card taller
    than a page while shorter rows would fit (tests/test_layout.py): typed, it prints whole."""
    book = sector_workbook(plan, plan.sector("AV"))  # AV-8: the tallest card, three analyses, on three pages
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
    assert all("parola199" in pages[i] for i in card), card  # each page of the card shows a whole analysis
    assert len(card) == 3 and all("(segue)" in pages[i] for i in card[1:])


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
