"""The summary workbook, the JSON and the two CSV flavours, on a real campaign of the bundled plan
(workbooks written by the real writer, read back and consolidated; `piao-xls consolidate` run as a
user runs it). The LibreOffice half (PDF pages, CSV opened with both separators) is in
tests/test_lo_summary.py.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
import re
import zipfile
from datetime import datetime
from pathlib import Path

import pytest
from summary_case import (
    BIG_DENOMINATOR,
    BIG_NUMERATOR,
    HOSTILE_ANALYSES,
    MISSING_OBJECTIVE,
    NEGATIVE,
    ZERO_OBJECTIVE,
    build_inbox,
)

from piao_xls.results.consolidate import consolidate
from piao_xls.results.export import COLUMNS, guard_formula, write_csv, write_csv_excel, write_json
from piao_xls.results.summary import GROUP, MAX_ROW, PAGE_ROWS, PRINT_SCALE, render_summary, write_summary

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "docs" / "summary.schema.json"
CSV_FILES = ("sectors", "objectives", "indicators", "findings", "sources", "decisions")  # the plan decides on AV-5
ENGLISH = re.compile(r"\b(scored|missing|rejected|accepted\w*|sector|nucleo|esterno|responsabile|informative|invalid|"
                     r"error|warning|conflict|numerator|denominator|True|False|None|nan)\b")


@pytest.fixture(scope="module")
def campaign(plan, tmp_path_factory):
    """`piao-xls consolidate` of the full campaign, with every output; and the same without ST's file."""
    from click.testing import CliRunner

    from piao_xls.cli import cli

    root = tmp_path_factory.mktemp("summary")
    inbox = build_inbox(plan, root / "inbox")
    out = root / "out"
    r = CliRunner().invoke(cli, ["consolidate", str(inbox), "-o", str(out / "riepilogo.xlsx"), "--json-file",
                                 str(out / "results.json"), "--csv", str(out / "csv"), "--csv-excel",
                                 str(out / "csv-excel"), "--jobs", "1"])
    assert r.exit_code == 1, r.output  # AV has missing values: not every sector is clean
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
    c = consolidate([inbox], plan)
    partial = build_inbox(plan, root / "inbox-no-st", without=("ST",))
    c2 = consolidate([partial], plan)
    write_summary(c2, out / "riepilogo-senza-st.xlsx")
    return {"out": out, "c": c, "c2": c2, "inbox": inbox}


def _load(path):
    from openpyxl import load_workbook

    return load_workbook(path)


def _header_map(ws) -> dict[str, int]:
    return {cell.value: cell.column for cell in ws[3] if cell.value}


def _row_of(ws, col: int, value) -> int:
    for r in range(4, ws.max_row + 1):
        if ws.cell(r, col).value == value:
            return r
    raise AssertionError(f"{value!r} not in column {col} of {ws.title}")


# --- the workbook -------------------------------------------------------------------------

def test_every_sheet_prints_on_a4_landscape_fit_to_width_with_headers_and_page_numbers(campaign, plan):
    wb = _load(campaign["out"] / "riepilogo.xlsx")
    assert wb.sheetnames == ["Riepilogo", "Obiettivi", "Indicatori", "Anomalie", "Decisioni", "Fonti", "Grafici"]
    for ws in wb.worksheets:
        ps = ws.page_setup
        assert ps.orientation == "landscape" and str(ps.paperSize) == "9", ws.title
        if ws.title == "Grafici":  # a fixed scale: Excel ignores manual page breaks when fitting to a page
            assert not ws.sheet_properties.pageSetUpPr or not ws.sheet_properties.pageSetUpPr.fitToPage
            assert ps.scale == PRINT_SCALE
        else:
            assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
            assert ps.fitToWidth in (None, 1) and ps.fitToHeight == 0, ws.title
        assert "&P" in ws.oddFooter.center.text and "&N" in ws.oddFooter.center.text, ws.title
        assert plan.comune in ws.oddHeader.left.text and str(plan.year) in ws.oddHeader.right.text, ws.title
        if ws.title != "Grafici":
            assert ws.print_title_rows == "$3:$3", ws.title
    # the charts sheet breaks pages itself, between chart rows
    assert [b.id for b in wb["Grafici"].row_breaks.brk] == [2 + PAGE_ROWS * k for k in range(1, len(wb["Grafici"]
                                                                                                    .row_breaks.brk) + 1)]


def test_ampersands_in_plan_texts_are_escaped_in_page_headers(campaign, plan, tmp_path):
    c = campaign["c"]
    odd = dataclasses.replace(c, plan=dataclasses.replace(plan, comune="Rocca & Castello"))
    path = tmp_path / "amp.xlsx"
    write_summary(odd, path)
    with zipfile.ZipFile(path) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
    header = re.search(r"<oddHeader>(.*?)</oddHeader>", sheet).group(1)
    assert "Rocca &amp;&amp; Castello" in header  # "&&" prints one "&"; a lone "&" would be a control code
    assert _load(path)["Riepilogo"]["A1"].value.startswith("Comune di Rocca & Castello")


def test_numbers_dates_amounts_and_percentages_are_real_numbers_with_italian_formats(campaign):
    wb = _load(campaign["out"] / "riepilogo.xlsx")
    ws = wb["Indicatori"]
    h = _header_map(ws)
    main, ref, ach = h["Valore consuntivo"], h["Riferimento (stanziato, anno base)"], h["Raggiungimento"]
    row = _row_of(ws, 1, "SF-6.1")
    assert ws.cell(row, main).value == BIG_NUMERATOR and ws.cell(row, ref).value == BIG_DENOMINATOR
    assert ws.cell(row, main).number_format == '[$-410]#,##0.00 "€"'
    # the achievement as published (2 decimals of a percentage), not the raw 0.94966...
    assert ws.cell(row, ach).value == pytest.approx(0.9497, abs=1e-12)
    assert ws.cell(row, ach).number_format == "[$-410]0.00%"
    row = _row_of(ws, 1, "SF-4.1")
    assert ws.cell(row, main).value == NEGATIVE and ws.cell(row, main).data_type == "n"
    row = _row_of(ws, 1, "SF-1.2")
    assert ws.cell(row, main).value == datetime(2025, 12, 5) and ws.cell(row, main).number_format == "dd/mm/yyyy"
    row = _row_of(ws, 1, "SF-1.1")
    assert ws.cell(row, main).value == 0.9 and ws.cell(row, main).number_format == "[$-410]0%"
    # counts are integers, scores real numbers with two decimals
    rs = wb["Riepilogo"]
    h = _header_map(rs)
    for r in range(4, 4 + len(campaign["c"].sectors)):
        for name in ("Obiettivi raggiunti", "Parzialmente raggiunti", "Non raggiunti", "Non rendicontati"):
            cell = rs.cell(r, h[name])
            assert isinstance(cell.value, int) and cell.number_format == "[$-410]#,##0", (name, cell.value)
        score = rs.cell(r, h["Punteggio (0-100)"])
        assert isinstance(score.value, float) and score.number_format == "[$-410]0.00"
    # dates of the files read are dates
    fonti = wb["Fonti"]
    saved = fonti.cell(4, _header_map(fonti)["Salvato il"])
    assert isinstance(saved.value, datetime) and saved.number_format == "dd/mm/yyyy hh:mm"


def test_every_word_a_reader_sees_is_italian(campaign):
    wb = _load(campaign["out"] / "riepilogo-senza-st.xlsx")
    for ws in wb.worksheets:
        # file names, error codes and what people typed are not ours to translate
        skip = {c.column for c in ws[3] if c.value in ("File", "Codice", "SHA-256", "Analisi scostamenti")}
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.column not in skip:
                    assert not ENGLISH.search(cell.value), (ws.title, cell.coordinate, cell.value)
    ws = wb["Indicatori"]
    statuses = {r[_header_map(ws)["Stato"] - 1] for r in ws.iter_rows(min_row=4, values_only=True) if r[0]}
    assert {"valutato", "non rendicontato", "informativo", "non pervenuto"} <= statuses, statuses
    sources = {r[3] for r in ws.iter_rows(min_row=4, values_only=True) if r[0]}
    assert sources == {"Responsabile", "Nucleo di Valutazione", "Certificazione esterna"}
    fonti = {r[1] for r in wb["Fonti"].iter_rows(min_row=4, values_only=True) if r[0]}
    assert fonti <= {"accettato", "accettato con avvisi", "da correggere", "ignorato"}, fonti


def test_row_heights_fit_the_wrapped_text(campaign, plan, tmp_path):
    long = "Una spiegazione lunga dello scostamento. " * 400  # ~16,000 characters: capped at 409 pt
    c = campaign["c"]
    rows = [dict(r) for r in c.indicators]
    rows[0]["analysis"] = long
    path = tmp_path / "long.xlsx"
    write_summary(dataclasses.replace(c, indicators=rows), path)
    ws = _load(path)["Indicatori"]
    widths = {cell.column: ws.column_dimensions[cell.column_letter].width for cell in ws[3]}
    for r in range(3, ws.max_row + 1):
        height = ws.row_dimensions[r].height
        assert height is not None and 0 < height <= MAX_ROW, (r, height)
        for cell in ws[r]:
            if isinstance(cell.value, str) and cell.alignment.wrap_text:
                # a lower bound no renderer beats: 2 characters per unit of width, 10 pt per line
                lines = sum(max(1, math.ceil(len(p) / (2 * widths[cell.column]))) for p in cell.value.split("\n"))
                assert height >= min(MAX_ROW - 1, lines * 10), (cell.coordinate, height, lines)
    assert ws.row_dimensions[4].height >= MAX_ROW - 1  # 409 pt, as stored (whole pixels)
    assert ws.row_dimensions[3].height > 15  # the header wraps ("Riferimento (stanziato, anno base)")


def test_a_missing_value_is_not_shown_as_a_zero(campaign):
    wb = _load(campaign["out"] / "riepilogo.xlsx")
    ws = wb["Obiettivi"]
    h = _header_map(ws)
    missing = _row_of(ws, h["Obiettivo"], MISSING_OBJECTIVE)
    zero = _row_of(ws, h["Obiettivo"], ZERO_OBJECTIVE)
    assert ws.cell(missing, h["Stato"]).value == "non rendicontato"
    assert "n.r." in ws.cell(missing, h["Raggiungimento"]).number_format
    assert ws.cell(zero, h["Raggiungimento"]).value == 0 and ws.cell(zero, h["Stato"]).value == "valutato"
    assert "n.r." not in ws.cell(zero, h["Raggiungimento"]).number_format
    ind = wb["Indicatori"]
    hi = _header_map(ind)
    assert ind.cell(_row_of(ind, 1, MISSING_OBJECTIVE + ".1"), hi["Valore consuntivo"]).value == "non rendicontato"
    assert ind.cell(_row_of(ind, 1, ZERO_OBJECTIVE + ".1"), hi["Valore consuntivo"]).value == 0


# --- charts ---------------------------------------------------------------------------------

def _charts(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n).decode() for n in z.namelist() if n.startswith("xl/charts/chart")}


def _chart_data(path: Path) -> dict[str, list]:
    """The Grafici sheet's data blocks: header row -> rows (the data the charts plot)."""
    ws = _load(path)["Grafici"]
    blocks, current = {}, None
    for row in ws.iter_rows(min_row=3, min_col=19, values_only=True):
        if row[0] is None:
            current = None
            continue
        if current is None:
            width = sum(1 for v in row if v is not None)  # headers are never empty
            current = blocks.setdefault(f"{row[0]}#{len(blocks)}", [list(row[:width])])
        else:
            current.append(list(row[:len(current[0])]))
    return blocks


def test_charts_overview_against_bands_and_per_sector_with_labels_and_a_100_line(campaign, plan):
    path = campaign["out"] / "riepilogo-senza-st.xlsx"
    charts = _charts(path)
    titles = [re.search(r"<a:t>(.*?)</a:t>", x).group(1) for x in charts.values()]
    assert sum(t.startswith("Punteggio per settore e fasce") for t in titles) == 1
    for s in plan.sectors:
        assert any(t.startswith(f"{s.code} {s.name}") for t in titles), s.code
    assert any("ST Tecnico" in t and "non valutato (non pervenuto)" in t for t in titles)
    for xml in charts.values():
        assert "<c:showVal val=\"1\"/>" in xml  # data labels
    blocks = list(_chart_data(path).values())
    overview = blocks[0]
    sectors = {s["code"]: s for s in campaign["c2"].sectors}
    bands = sorted(plan.scoring.bands, key=lambda b: -b.min)
    drawn = [b for b in bands if any(s["band"] == b.code and s["score"] is not None for s in sectors.values())]
    # one series per band drawn (the legend lists only those), then the unscored, then the labelled band lines
    assert overview[0] == (["Settore"] + [f"Fascia {b.code} ({b.label})" for b in drawn] + ["Non valutato"]
                           + [f"Limite fascia {b.code}: {b.min:g}" for b in bands if b.min > 0])
    by_code = {r[0]: r for r in overview[1:]}
    nv = 1 + len(drawn)
    assert by_code["ST"][1:nv] == [None] * len(drawn) and by_code["ST"][nv] == 100  # a hatched bar, never a 0
    sf_col = 1 + [b.code for b in drawn].index(sectors["SF"]["band"])
    assert by_code["SF"][sf_col] == pytest.approx(sectors["SF"]["published_score"], abs=1e-12)
    assert [v for v in by_code["SF"][1:nv + 1] if v is not None] == [by_code["SF"][sf_col]]
    for rows in blocks[1:]:
        assert rows[0][0] == "Obiettivo" and rows[0][-1] == "Target 100%"
        assert all(r[-1] == 1 for r in rows[1:])  # the 100% line
    codes = [s.code for s in plan.sectors]
    av = blocks[1 + codes.index("AV")]
    marks = [h for h in av[0] if h.startswith(("n.r.", "escl."))]
    assert marks == ["n.r. non rendicontato (vale 0)", "escl. escluso dal piano (non misurabile)"]  # AV-1, AV-5
    nr = av[0].index(marks[0])
    assert av[1][nr] == 1 and all(v is None for v in av[1][1:nr])  # AV-1, missing: a marked bar, no achievement
    sf = blocks[1 + codes.index("SF")]
    zero = [o.number for o in plan.sector("SF").objectives].index(3)
    assert [v for v in sf[1 + zero][1:-1] if v is not None] == [0]  # a real 0 is a 0
    assert not any(h.startswith(("n.", "escl.", "neutr.")) for h in sf[0])  # nothing drawn, nothing listed


def _anchor_rows(path: Path) -> list[tuple[int, int]]:
    with zipfile.ZipFile(path) as z:
        names = [n for n in z.namelist() if n.startswith("xl/drawings/drawing") and n.endswith(".xml")]
        rows = []
        for n in names:
            xml = z.read(n).decode()
            for a in re.finditer(r"<xdr:from>.*?<xdr:row>(\d+)</xdr:row>.*?<xdr:to>.*?<xdr:row>(\d+)</xdr:row>", xml,
                                 re.S):
                rows.append((int(a.group(1)), int(a.group(2))))
        return rows


def test_two_hundred_sectors_page_the_overview_and_no_page_break_cuts_a_chart(tmp_path):
    from piao_xls.forms.samples import synthetic_plan_yaml
    from piao_xls.plan.load import load_plan

    (tmp_path / "big.yaml").write_text(synthetic_plan_yaml(200, 20, 1), encoding="utf-8")
    big = load_plan(tmp_path / "big.yaml")
    (tmp_path / "in").mkdir()
    c = consolidate([tmp_path / "in"], big)
    path = tmp_path / "big.xlsx"
    path.write_bytes(render_summary(c))
    charts = _charts(path)
    titles = [re.search(r"<a:t>(.*?)</a:t>", x).group(1) for x in charts.values()]
    overviews = [t for t in titles if t.startswith("Punteggio per settore")]
    assert len(overviews) == math.ceil(200 / GROUP) and "(settori 26-50 di 200)" in overviews[1]
    assert len(charts) == len(overviews) + 200
    for xml in charts.values():
        if "Punteggio per settore" in xml:
            counts = {int(n) for n in re.findall(r'<c:ptCount val="(\d+)"/>', xml)}
            assert max(counts) <= GROUP  # at most GROUP sectors per chart
    wb = _load(path)
    breaks = [b.id for b in wb["Grafici"].row_breaks.brk]
    pages = [0, *breaks, 10 ** 9]
    anchors = _anchor_rows(path)
    assert len(anchors) == len(charts)
    for top, bottom in anchors:
        page = next(i for i in range(len(pages) - 1) if pages[i] <= top < pages[i + 1])
        assert bottom < pages[page + 1], (top, bottom, breaks[:5])  # the chart ends on the page it starts


# --- JSON -----------------------------------------------------------------------------------

def test_json_validates_against_its_schema_and_numbers_round_trip(campaign):
    import jsonschema

    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    data = json.loads((campaign["out"] / "results.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(data)
    c = campaign["c"]
    # every existing key is kept; full precision everywhere
    for name in ("sectors", "objectives", "indicators", "findings", "sources"):
        rows = getattr(c, name)
        assert len(data[name]) == len(rows)
        for got, want in zip(data[name], rows, strict=True):
            assert set(want) <= set(got), name
            for k, v in want.items():
                if isinstance(v, float):
                    assert got[k] == v, (name, k)  # exact: no rounding on the way
    ind = {r["indicator"]: r for r in data["indicators"]}
    assert ind["SF-6.1"]["actual_values"] == {"numerator": BIG_NUMERATOR, "denominator": BIG_DENOMINATOR}
    assert ind["SF-6.1"]["actual_it"] == "accertato 1.234.567,89 €; stanziato 1.300.000,00 €"
    assert ind["SF-4.1"]["actual_values"] == {"value": NEGATIVE} and ind["SF-4.1"]["actual_it"] == "-4"
    assert ind["SF-1.2"]["actual_values"] == {"date": "2025-12-05"} and ind["SF-1.2"]["actual_it"] == "05/12/2025"
    assert ind["SF-1.1"]["actual_values"] == {"value": 0.9} and ind["SF-1.1"]["actual_it"] == "90%"
    assert ind[MISSING_OBJECTIVE + ".1"]["actual_values"] in ({}, {"value": None})
    assert ind[MISSING_OBJECTIVE + ".1"]["status_it"] == "non rendicontato"
    assert ind["SF-2.1"]["source_it"] == "Nucleo di Valutazione"
    sf = next(s for s in data["sectors"] if s["code"] == "SF")
    assert sf["score_it"] == f"{sf['score']:.2f}".replace(".", ",")
    for s in data["sources"]:
        datetime.fromisoformat(s["saved"])
    assert data["comune"] == c.plan.comune and [b["code"] for b in data["bands"]] == ["A", "B", "C", "D", "E"]


def test_json_of_an_unscored_sector_and_odd_values(campaign, tmp_path):
    c = campaign["c2"]
    rows = [dict(r) for r in c.indicators]
    rows[0]["achievement"] = float("nan")  # never "NaN" in the file: not JSON
    path = tmp_path / "r.json"
    write_json(dataclasses.replace(c, indicators=rows), path)
    text = path.read_text(encoding="utf-8")
    assert "NaN" not in text and "Infinity" not in text
    data = json.loads(text)
    import jsonschema

    jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text(encoding="utf-8"))).validate(data)
    st = next(s for s in data["sectors"] if s["code"] == "ST")
    assert st["score"] is None and st["score_it"] == "" and st["status"] == "not_received"
    assert data["indicators"][0]["achievement"] is None


# --- CSV ------------------------------------------------------------------------------------

def _read_csv(path: Path, excel: bool) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") == excel, path
    text = raw.decode("utf-8-sig")
    assert "\r\n" in text and not re.search(r"(?<!\r)\n(?=\")", text)  # CRLF between records
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=";" if excel else ","))


def test_csv_open_data_and_excel_flavours(campaign):
    out = campaign["out"]
    for excel, folder in ((False, out / "csv"), (True, out / "csv-excel")):
        assert sorted(p.stem for p in folder.iterdir()) == sorted(CSV_FILES)
        for file, cols in COLUMNS.values():
            rows = _read_csv(folder / f"{file}.csv", excel)
            assert rows[0] == [c for c, _, _ in cols], file
            assert all(len(r) == len(cols) for r in rows), file
        ind = _read_csv(folder / "indicators.csv", excel)
        head = ind[0]
        rec = {r[0] + r[2]: dict(zip(head, r, strict=True)) for r in ind[1:]}
        dec = "," if excel else "."
        assert rec["SFSF-6.1"]["numeratore"] == f"1234567{dec}891"
        assert rec["SFSF-6.1"]["denominatore"] == "1300000"
        assert rec["SFSF-4.1"]["valore"] == "-4"  # a number is never guarded
        assert rec["SFSF-1.1"]["valore"] == f"0{dec}9"
        assert rec["SFSF-1.2"]["data"] == ("05/12/2025" if excel else "2025-12-05")
        assert rec["SFSF-6.1"]["valore_testo"] == "accertato 1.234.567,89 €; stanziato 1.300.000,00 €"
        # the achievement as published: 94,97% (the value itself keeps full precision in "numeratore"/"denominatore")
        assert rec["SFSF-6.1"]["raggiungimento"] == f"0{dec}9497"
        assert rec["SFSF-2.1"]["fonte"] == "Nucleo di Valutazione" and rec["SFSF-2.1"]["stato"] == "valutato"
        for key, text in HOSTILE_ANALYSES.items():
            assert rec["SF" + key.split("|")[0]]["analisi_scostamenti"] == guard_formula(text)
        settori = _read_csv(folder / "sectors.csv", excel)
        assert [r[0] for r in settori[1:]] == ["SA", "SF", "ST", "AV"]
        assert all(re.fullmatch(r"\d+", r[6]) for r in settori[1:])  # counts are integers


FORMULA_START = re.compile(r"^[=+\-@]")
NUMBER = re.compile(r"^[+-]?\d+([.,]\d+)?([eE][+-]?\d+)?$")


@pytest.mark.parametrize("excel", [False, True], ids=["open-data", "excel"])
def test_no_csv_fragment_can_start_a_formula_whatever_the_separator(campaign, excel):
    """Split every file on every separator a spreadsheet may use (, ; tab, line break; quotes ignored,
    as a program that disagrees on the separator does): no piece starts a formula, but numbers."""
    folder = campaign["out"] / ("csv-excel" if excel else "csv")
    for path in folder.iterdir():
        text = path.read_bytes().decode("utf-8-sig")
        for sep in (",", ";", "\t"):
            for line in re.split(r"\r\n|\n|\r", text):
                for piece in line.split(sep):
                    piece = piece.lstrip('"')
                    if FORMULA_START.match(piece):
                        assert NUMBER.match(piece.rstrip('"')), (path.name, sep, piece)


def test_guard_formula_on_text_only():
    assert guard_formula("-4") == "'-4"  # as text; numbers never reach it (see the CSV tests)
    assert guard_formula("a;=1+1") == "a;'=1+1"
    assert guard_formula("a\t+1\n@x\"=y") == "a\t'+1\n'@x\"'=y"
    assert guard_formula("\tTAB") == "'\tTAB"
    assert guard_formula("Entro il 31/12/2025 - fine") == "Entro il 31/12/2025 - fine"
    assert guard_formula("") == ""


def test_library_writers_write_both_flavours(campaign, tmp_path):
    c = campaign["c"]
    a = write_csv(c, tmp_path / "a")
    b = write_csv_excel(c, tmp_path / "b")
    assert [p.name for p in a] == [p.name for p in b] == [f"{f}.csv" for f in CSV_FILES]
    again = write_csv(c, tmp_path / "a2")  # no generation time in the files: two runs, same bytes
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in again]


def test_decisions_recorded_by_the_consolidation_are_shown(campaign, tmp_path):
    """The hook for the Nucleo's decisions: a `decisions` list on the consolidation gets its sheet, CSV
    and JSON key, texts never as formulas."""
    c = dataclasses.replace(campaign["c"])
    c.decisions = [{"origin": "nucleo", "kind": "neutralise", "kind_it": "obiettivo neutralizzato", "sector": "AV",
                    "objective": "AV-5", "indicator": "", "input": "", "old": None, "new": None, "old_text": "",
                    "new_text": "", "reason": "=1+1 attività sospesa per tutto l'anno", "by": "Nucleo di Valutazione",
                    "date": "2026-02-10", "where": "decisioni.yaml:3", "applied": True, "effect": "escluso"}]
    write_summary(c, tmp_path / "s.xlsx")
    wb = _load(tmp_path / "s.xlsx")
    assert wb.sheetnames == ["Riepilogo", "Obiettivi", "Indicatori", "Anomalie", "Decisioni", "Fonti", "Grafici"]
    cell = wb["Decisioni"]["H4"]
    assert cell.value == "=1+1 attività sospesa per tutto l'anno" and cell.data_type == "s"
    paths = write_csv(c, tmp_path / "csv")
    assert paths[-1].name == "decisions.csv"
    rows = _read_csv(paths[-1], excel=False)
    assert rows[1][7] == "'=1+1 attività sospesa per tutto l'anno"
    write_json(c, tmp_path / "r.json")
    assert json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["decisions"][0]["sector"] == "AV"


@pytest.mark.parametrize("odd", [None, float("nan"), float("inf"), -1e308, "testo", True, 0])
def test_odd_figures_never_break_the_writers(campaign, tmp_path, odd):
    """Whatever a later scoring rule puts in a numeric field, every output is written, and the
    workbook and the JSON stay valid (a non-finite number is never written as a number)."""
    c = campaign["c"]
    numeric = {"score", "achievement", "points", "weight", "size", "objectives_reached"}
    swap = {name: [{k: (odd if k in numeric else v) for k, v in r.items()} for r in getattr(c, name)]
            for name in ("sectors", "objectives", "indicators", "sources")}
    odd_c = dataclasses.replace(c, **swap)
    write_summary(odd_c, tmp_path / "s.xlsx")
    write_json(odd_c, tmp_path / "r.json")
    write_csv(odd_c, tmp_path / "csv")
    write_csv_excel(odd_c, tmp_path / "csvx")
    wb = _load(tmp_path / "s.xlsx")
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert not (isinstance(cell.value, float) and not math.isfinite(cell.value)), cell.coordinate
    text = (tmp_path / "r.json").read_text(encoding="utf-8")
    assert "NaN" not in text and "Infinity" not in text
    json.loads(text)


def test_both_csv_flavours_cannot_share_a_folder(campaign, tmp_path):
    from click.testing import CliRunner

    from piao_xls.cli import cli

    r = CliRunner().invoke(cli, ["consolidate", str(campaign["inbox"]), "-o", str(tmp_path / "s.xlsx"), "--csv",
                                 str(tmp_path / "csv"), "--csv-excel", str(tmp_path / "csv" / "."), "--jobs", "1"])
    assert r.exit_code == 2 and "due cartelle diverse" in r.output
    assert not (tmp_path / "s.xlsx").exists()


def test_batch_commands_keep_the_collector_off_only_as_a_whole_process(campaign, tmp_path):
    """`consolidate` and `controlla` run as the process (the console script) leave Python's cyclic collector off
    until it ends, end without freeing their objects one by one, and write the same summary and output; run from
    another program (here a test runner) they leave the collector on."""
    import gc
    import subprocess
    import sys

    from click.testing import CliRunner

    from piao_xls.cli import cli

    assert gc.isenabled()
    r = CliRunner().invoke(cli, ["consolidate", str(campaign["inbox"]), "-o", str(tmp_path / "a.xlsx"), "--jobs", "1"])
    assert r.exit_code == 1, r.output
    assert gc.isenabled()
    probe = ("import atexit, gc, sys; atexit.register(lambda: print('collector', gc.isenabled(), file=sys.stderr)); "
             "Freed = type('Freed', (), {'__del__': lambda self: print('freed', file=sys.stderr)}); kept = Freed(); "
             "from piao_xls.cli import main; sys.argv = ['piao-xls'] + sys.argv[1:]; main()")
    run = subprocess.run([sys.executable, "-c", probe, "consolidate", str(campaign["inbox"]), "-o",
                          str(tmp_path / "b.xlsx"), "--jobs", "1"], capture_output=True, text=True, timeout=300)
    assert run.returncode == 1, run.stderr
    # it ends without freeing its objects (os._exit): the exit handlers still run and the output is all there
    assert "collector False" in run.stderr and "freed" not in run.stderr
    assert "file letti" in run.stdout.splitlines()[-1], run.stdout
    sheets = [zipfile.ZipFile(tmp_path / n).read("xl/worksheets/sheet1.xml") for n in ("a.xlsx", "b.xlsx")]
    assert sheets[0] == sheets[1]
    # `controlla` reads the same folder the same way: the same report, every line of it
    r = CliRunner().invoke(cli, ["controlla", str(campaign["inbox"]), "--jobs", "1"])
    assert gc.isenabled()
    run = subprocess.run([sys.executable, "-c", probe, "controlla", str(campaign["inbox"]), "--jobs", "1"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == r.exit_code, run.stderr
    assert "collector False" in run.stderr and "freed" not in run.stderr
    assert run.stdout == r.output and "non rendicontato" in run.stdout


def _with_plain_worksheets(monkeypatch, c) -> bytes:
    """The summary as xlsxwriter's own Worksheet and Chart write it (no fast table writer, no quick points)."""
    from xlsxwriter.worksheet import Worksheet

    from piao_xls.results import summary as summod

    with monkeypatch.context() as m:
        m.setattr(summod, "_table_sheet", lambda: Worksheet)
        m.setattr(summod, "_quick", lambda chart: chart)
        return render_summary(c)


def test_a_chart_label_is_escaped_as_xlsxwriter_escapes_it():
    """The charts' cached labels skip xlsxwriter's escaping when there is nothing to escape: every text made of
    the characters its escapes change (XML's, control characters, "_xHHHH_", the two non-characters) and plain
    ones must come out as xlsxwriter writes them."""
    import random

    from xlsxwriter.chart import Chart

    from piao_xls.results.summary import _point_text

    chart = Chart()
    alphabet = ['"', "&", "<", ">", "\n", "\t", "\r", "\x00", "\x01", "\x1f", "\x7f", "_", "x", "X", "0", "A", "f",
                "\ufffe", "\uffff", "\ufffd", "é", " ", "%", ","]
    rng = random.Random(19)
    texts = ["", "Settore 1", "_x0041_", "_X0041_", "a_xb"] + [
        "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 8))) for _ in range(3000)]
    for text in texts:
        assert _point_text(chart, text) == f"{chart._escape_control_characters(chart._escape_data(text))}", repr(text)
    assert _point_text(chart, 2.5) == "2.5" and _point_text(chart, 3) == "3"


@pytest.mark.parametrize("case", ["campaign", "without ST", "odd figures", "odd texts", "no file"])
def test_the_fast_table_writer_writes_the_bytes_xlsxwriter_writes(campaign, plan, case, monkeypatch):
    """summary.py writes its tables through a faster Worksheet (cells stored and <sheetData> written without
    per-cell overhead): the workbook must be the one xlsxwriter's own Worksheet writes, byte for byte."""
    c = campaign["c2"] if case == "without ST" else campaign["c"]
    if case == "odd figures":
        swap = {name: [{k: (float("nan") if k in {"score", "points"} else -1e308 if k == "weight" else v)
                        for k, v in r.items()} for r in getattr(c, name)] for name in ("sectors", "objectives")}
        c = dataclasses.replace(c, **swap)
    elif case == "odd texts":  # longer than Excel's cell, control characters, XML specials, empty, a formula
        texts = ["x" * 40000, "a\x00b\x1bc\u202ed", "<&>\"'", "", "=1+1", "é" * 20000, "  spazi  ", "riga\nriga",
                 "parola " * 30]
        swap = {"objectives": [{**r, "title": texts[i % len(texts)]} for i, r in enumerate(c.objectives)],
                "sources": [{**r, "path": texts[i % len(texts)]} for i, r in enumerate(c.sources)]}
        c = dataclasses.replace(c, **swap)
    elif case == "no file":
        c = consolidate([], plan)
    fast = render_summary(c)
    assert fast == _with_plain_worksheets(monkeypatch, c)
    assert zipfile.ZipFile(io.BytesIO(fast)).testzip() is None
