"""Every file the project writes opens in Excel intact: openxml-audit finds no schema or semantic error, and no
limit of Excel that no schema states is crossed (tests/excel_limits.py). Also: header/footer escaping, long texts
split within Excel's 409-point rows, and the page breaks that keep each objective card on one page."""

from __future__ import annotations

import io
import zipfile
from datetime import date

import openpyxl
import pytest
import xlsxwriter
from excel_limits import excel_problems, limit_problems
from scenario import SF_ANALYSES, SF_VALUES

from piao_xls.forms.layout import (
    MAX_ROW_HEIGHT,
    header_footer,
    page_capacity,
    plan_workbooks,
    sector_workbook,
)
from piao_xls.forms.writer import render
from piao_xls.plan.planbook import export_bytes, template_bytes
from piao_xls.plan.planfile import parse_plan
from piao_xls.results.consolidate import consolidate
from piao_xls.results.summary import render_summary

LONG = ("Predisposizione degli atti, verifica delle posizioni & controllo delle banche dati comunali; "
        "3° aggiornamento del registro. ") * 60  # about 7,000 characters: several rows of 409 pt

HOSTILE_PLAN = f"""\
comune: "Sant'Angelo & Uniti 2"
year: 2025
return_deadline: 2026-01-31
contact: "Servizio Finanziario & Tributi, ragioneria@comune.example, tel. 02 1234567"
sectors:
  - code: TS
    name: "3° Settore {'Lavori pubblici, ambiente & territorio ' * 8}"
    short_name: TS - Terzo
    responsabile: {{name: "{'Maria Rossi & figli ' * 12}", title: Arch.}}
    activities: ["{LONG}"]
    objectives:
      - number: 1
        title: "2° OBIETTIVO & PROGETTI"
        weight: 60
        stakeholder: "{LONG[:3000]}"
        steps: [{{text: "{LONG}", tempi: Giugno}}, {{text: Seconda fase, tempi: Dicembre}}]
        programma: "{LONG[:5000]}"
        indicators:
          - description: "{LONG[:1800]}"
            target: "100%"
          - description: Adempimento realizzato
            target: "Sì"
            rule: {{kind: yes_no}}
      - number: 2
        title: CERTIFICAZIONE
        weight: 40
        indicators:
          - description: Certificazione del Nucleo
            target: "100%"
            source: nucleo
"""


def hostile_plan():
    plan, findings = parse_plan(HOSTILE_PLAN, "hostile.yaml")
    assert plan is not None, [str(f) for f in findings]
    return plan


def _tampered(data: bytes, part: str, old: bytes, new: bytes) -> bytes:
    src, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            dst.writestr(info, content.replace(old, new, 1) if info.filename == part else content)
    return out.getvalue()


def test_the_helper_finds_what_excel_would_repair_or_drop():
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = wb.add_worksheet("S")
    ws.set_row(0, 432.75)
    ws.set_header("&Lheader")
    ws.data_validation(0, 0, 0, 0, {"validate": "length", "criteria": "<=", "value": 10,
                                    "input_title": "t" * 32, "input_message": "m" * 255})
    ws.write_string(1, 0, "ok")
    wb.set_custom_property("p", "value")
    wb.close()
    data = _tampered(buf.getvalue(), "xl/worksheets/sheet1.xml", b"&amp;Lheader", b"&amp;L" + b"x" * 300)
    data = _tampered(data, "docProps/custom.xml", b">value<", b">" + b"v" * 256 + b"<")
    found = "\n".join(limit_problems(data, "bad.xlsx"))
    assert "row 1 is 432.75 pt" in found and "oddHeader has 302" in found and "custom property 'p'" in found
    assert "promptTitle" not in found and "prompt has" not in found  # 32 and 255 are allowed
    # the file as written: valid for the schema, only its tall row is beyond Excel
    assert excel_problems(buf.getvalue(), "ok.xlsx") == [
        "ok.xlsx:xl/worksheets/sheet1.xml: row 1 is 432.75 pt, above Excel's 409"]


def test_every_workbook_of_the_bundled_plan(plan):
    problems = []
    for book in plan_workbooks(plan):
        problems += excel_problems(render(book), book.filename)
    assert not problems, "\n".join(problems[:20])


def test_every_workbook_of_a_hostile_plan(tmp_path):
    plan = hostile_plan()
    problems = []
    for book in plan_workbooks(plan):
        problems += excel_problems(render(book, password="pw"), book.filename)
    assert not problems, "\n".join(problems[:20])


def test_filled_workbook_summary_template_and_export(plan, tmp_path):
    book = sector_workbook(plan, plan.sector("SF"))
    filled = render(book, prefill={**SF_VALUES, **SF_ANALYSES, "SF-1.1|analisi": "a" * 2000,
                                   "SF-1|step1|risultato": "r" * 2000})
    problems = excel_problems(filled, "filled.xlsx")
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / book.filename).write_bytes(filled)
    problems += excel_problems(render_summary(consolidate([tmp_path / "in"], plan)), "riepilogo.xlsx")
    problems += excel_problems(template_bytes(), "piano-vuoto.xlsx")
    problems += excel_problems(export_bytes(plan), "piano.xlsx")
    problems += excel_problems(export_bytes(hostile_plan()), "piano-ostile.xlsx")
    assert not problems, "\n".join(problems[:20])


def test_header_and_footer_codes_are_escaped():
    text = header_footer("Comune di A&B — PIAO 2025", "3° Settore")
    assert text == "&L&10Comune di A&&B — PIAO 2025&R&10 3° Settore"  # not a 103-point "° Settore"
    long = header_footer("&" * 200, "9" * 300, page_number=True)
    assert len(long) <= 255 and long.endswith("Pagina &P di &N")
    assert "&&" * 10 in long and "…" in long


def test_hostile_texts_stay_whole_split_over_rows_within_excel_limits():
    plan = hostile_plan()
    book = sector_workbook(plan, plan.sectors[0])
    sheet = book.sheets[1]
    data = render(book)
    ws = openpyxl.load_workbook(io.BytesIO(data))[sheet.name]
    assert all((ws.row_dimensions[r].height or 15) <= MAX_ROW_HEIGHT for r in range(1, ws.max_row + 1))
    texts = [str(c.value) for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    joined = " ".join(" ".join(texts).split())
    # every word of the long step text is shown, in order, across its rows
    words = LONG.split()
    pos = 0
    for w in words[:200]:
        pos = joined.index(w, pos) + len(w)
    assert sum(LONG.split()[0] in t for t in texts) >= 3  # split into pieces
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        xml = z.read("xl/worksheets/sheet2.xml").decode()
    assert "&amp;&amp;" in xml  # the "&" of the comune and of the sector name, escaped in the header


def _breaks_respect_units(sheet, card, breaks, heights, capacity) -> list[int]:
    """Breaks inside ``card`` that fall inside one of its units although that unit fits on a page."""
    def height(a, z):
        return sum(heights.get(r, 15) for r in range(a, z + 1))

    return [b for b in breaks if card[0][0] < b <= card[-1][1]
            and any(a < b <= z and height(a, z) <= capacity for a, z in card)]


def test_a_card_taller_than_a_page_breaks_between_its_units():
    plan = hostile_plan()
    sheet = sector_workbook(plan, plan.sectors[0]).sheets[1]
    heights = sheet.row_heights
    capacity = page_capacity(sheet, heights)
    card = sheet.cards[0]
    assert sum(heights.get(r, 15) for r in range(card[0][0], card[-1][1] + 1)) > capacity
    breaks = sheet.page_breaks()
    inside = [b for b in breaks if card[0][0] < b <= card[-1][1]]
    assert inside and not _breaks_respect_units(sheet, card, breaks, heights, capacity)
    # the heading (title, column headers, first step) is broken only when it is itself taller than a page, and
    # then never right after the title or the column headers
    heading = card[0]
    if sum(heights.get(r, 15) for r in range(heading[0], heading[1] + 1)) <= capacity:
        assert not any(heading[0] < b <= heading[1] for b in breaks)
    title = next(c.row for c in sheet.cells if c.style == "card" and c.row >= heading[0])
    assert not any(heading[0] < b <= title + 2 for b in breaks)  # section heading, title, column headers, step


@pytest.mark.parametrize("code", ["SA", "SF", "ST", "AV"])
def test_cards_of_the_bundled_plan_break_only_when_taller_than_a_page(plan, code):
    """A card that fits on a page is never broken; a taller one (each indicator reserves rows for a 2,000-character
    analysis, and the card prints at 93%) starts a page and breaks only between its units."""
    sheet = sector_workbook(plan, plan.sector(code)).sheets[1]
    heights = sheet.row_heights
    capacity = page_capacity(sheet, heights)
    breaks = sheet.page_breaks()
    assert len(sheet.cards) == len(plan.sector(code).objectives)
    for card in sheet.cards:
        first, last = card[0][0], card[-1][1]
        if sum(heights.get(r, 15) for r in range(first, last + 1)) <= capacity:
            assert not any(first < b <= last for b in breaks), (code, first, last, breaks)
        else:
            assert first in breaks, (code, first)
            assert not _breaks_respect_units(sheet, card, breaks, heights, capacity), (code, first)


def test_plan_dates_and_contact_reach_the_istruzioni(tmp_path):
    plan = hostile_plan()
    assert plan.return_deadline == date(2026, 1, 31)
    ws = openpyxl.load_workbook(io.BytesIO(render(sector_workbook(plan, plan.sectors[0]))))["Istruzioni"]
    text = "\n".join(str(c.value) for c in ws["A"] if c.value)
    assert "entro il 31/01/2026" in text and "Servizio Finanziario & Tributi" in text
    assert "da il" not in text and "da l'" not in text and "dal Responsabile del settore" in text
