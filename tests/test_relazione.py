"""`piao-xls relazione`: the Relazione sulla Performance draft, on real returned workbooks of the bundled plan.

The .docx structure is read back with python-docx; the .pdf is converted by real LibreOffice and read back
with pdftotext (pages, text, and that the index's page numbers point at the pages the headings are on).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from docx import Document
from scenario import NUCLEO_VALUES, SF_ANALYSES, SF_VALUES

from piao_xls.cli import cli
from piao_xls.core.model import ScoringPolicy
from piao_xls.forms.layout import sector_workbook, source_workbook
from piao_xls.forms.writer import render
from piao_xls.plan.planfile import parse_plan
from piao_xls.results.consolidate import consolidate
from piao_xls.results.relazione import RelazioneError, load_results, method_text, render_docx, results_of

DECISIONS = """\
decisions:
  - kind: not_applicable
    indicator: SF-6.1
    reason: Nessuna somma stanziata nel bilancio 2025
    by: Nucleo di Valutazione
    date: 2026-03-10
  - kind: correct
    indicator: SF-1.1
    old: 90%
    new: 95%
    reason: Errore di trascrizione segnalato dal Responsabile
    by: Nucleo di Valutazione
    date: 2026-03-11
"""
CODE = re.compile(r"\b[A-Z]+(?:-[A-Z]+)+\b")
CHAPTERS = ["Metodo di valutazione", "Quadro d'insieme", "Risultati per settore", "Decisioni", "Anomalie", "Fonti"]
ENGLISH = re.compile(r"\b(scored|missing|invalid|informative|accepted|rejected|not_applicable|neutralise|correct|"
                     r"sector|objective|weight|none|true|false|null)\b", re.IGNORECASE)


@pytest.fixture(scope="module")
def returned(tmp_path_factory, plan) -> Path:
    folder = tmp_path_factory.mktemp("returned")
    (folder / "PIAO-2025-SF-Finanziario.xlsx").write_bytes(
        render(sector_workbook(plan, plan.sector("SF")), prefill={**SF_VALUES, **SF_ANALYSES}))
    av = sector_workbook(plan, plan.sector("AV"))
    av_values = {k: 0.9 for k, c in av.sheets[1].inputs.items() if c.unit == "percent"}
    av_values.update({k: "Scostamento dovuto a carenza di personale." for k in av.sheets[1].inputs
                      if k.endswith("|analisi")})
    (folder / "PIAO-2025-AV-Polizia-Locale.xlsx").write_bytes(render(av, prefill=av_values))
    (folder / "PIAO-2025-Nucleo.xlsx").write_bytes(render(source_workbook(plan, "nucleo"), prefill=NUCLEO_VALUES))
    return folder


@pytest.fixture(scope="module")
def decisions(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("dec") / "decisioni.yaml"
    path.write_text(DECISIONS, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def results(returned, decisions, plan) -> dict:
    return results_of(consolidate([returned], plan, decisions=decisions))


def _text(doc) -> str:
    parts = [p.text for p in doc.paragraphs]
    parts += [c.text for t in doc.tables for row in t.rows for c in row.cells]
    return "\n".join(parts)


def _structure(doc):
    heads = [(p.style.name, p.text) for p in doc.paragraphs if p.style.name in ("Title", "Heading 1", "Heading 2")]
    return heads


def test_docx_structure(plan, results, tmp_path):
    path = tmp_path / "r.docx"
    path.write_bytes(render_docx(results, plan))
    doc = Document(str(path))
    heads = _structure(doc)
    assert heads[0] == ("Title", "Comune di Truccazzano — Relazione sulla Performance 2025")
    assert [t for s, t in heads if s == "Heading 1"] == CHAPTERS
    sector_heads = [t for s, t in heads if s == "Heading 2"]
    assert sector_heads == [f"{s.code} – {s.name}" for s in plan.sectors]
    # tables: bands, overview, one per sector, decisions, anomalies, sources
    assert len(doc.tables) == 2 + len(plan.sectors) + 3
    overview = doc.tables[1]
    assert [c.text for c in overview.rows[0].cells] == ["Settore", "Responsabile", "Punteggio", "Fascia", "Stato"]
    assert len(overview.rows) == 1 + len(plan.sectors)
    sf_table = doc.tables[2 + [s.code for s in plan.sectors].index("SF")]
    assert [c.text for c in sf_table.rows[0].cells] == ["N.", "Obiettivo", "Peso", "Peso applicato",
                                                         "Raggiungimento", "Punti", "Fascia"]
    sf = next(s for s in results["sectors"] if s["code"] == "SF")
    total = sf_table.rows[-1].cells
    assert total[1].text == "Totale" and total[5].text == f"{sf['score']:.2f}".replace(".", ",")
    six = next(r for r in sf_table.rows if r.cells[0].text == "6")
    assert six.cells[3].text == "escluso"  # SF-6: its only indicator declared non applicabile
    # figures: the overview and one per sector (an unscored one shows as such), each with a caption
    scored = [s for s in results["sectors"] if s["score"] is not None]
    assert {s["code"] for s in scored} == {"SF", "AV"}
    assert len(doc.inline_shapes) == 1 + len(plan.sectors)
    captions = [p.text for p in doc.paragraphs if p.style.name == "Caption"]
    assert len(captions) == 1 + len(plan.sectors)
    assert all(any(c.endswith(f"settore {s.code}") for c in captions) for s in plan.sectors)
    # each sector's heading is followed by its table and then its figure
    order = []
    for el in doc.element.body.iterchildren():
        tag = el.tag.rsplit("}", 1)[-1]
        if tag == "tbl":
            order.append("T")
        elif tag == "p" and el.xpath(".//w:pStyle[@w:val='Heading2']"):
            order.append("H")
        elif tag == "p" and el.xpath(".//pic:pic"):
            order.append("F")
    sectors_part = "".join(order)[order.index("H"):]
    assert sectors_part.startswith("HTF" * len(plan.sectors)), sectors_part
    # the index: one entry per heading, each a PAGEREF field to that heading's bookmark
    body = doc.element.body.xml
    marks = re.findall(r'w:bookmarkStart w:id="\d+" w:name="(_Toc\d+)"', body)
    refs = re.findall(r"PAGEREF (_Toc\d+)", body)
    assert len(marks) == len(heads) - 1 and refs == marks
    footer = doc.sections[0].footer._element.xml
    assert " PAGE " in footer and " NUMPAGES " in footer
    sec = doc.sections[0]
    assert (round(sec.page_width.cm, 1), round(sec.page_height.cm, 1)) == (21.0, 29.7)


def test_docx_lists_decisions_anomalies_and_sources(plan, results, returned, tmp_path):
    doc = Document(__import__("io").BytesIO(render_docx(results, plan)))
    text = _text(doc)
    dec_table, find_table, src_table = doc.tables[-3:]
    rows = [[c.text for c in r.cells] for r in dec_table.rows]
    assert rows[0] == ["Decisione", "Oggetto", "Motivazione", "Chi e quando", "Esito"]
    by_obj = {r[1].split(" ")[0]: r for r in rows[1:]}
    assert set(by_obj) == {"SF-6.1", "SF-1.1", "AV-5"}  # two of the Nucleo, one of the plan
    assert by_obj["SF-1.1"][1] == "SF-1.1 (90% → 95%)" and "11/03/2026" in by_obj["SF-1.1"][3]
    assert "Nucleo di Valutazione" in by_obj["SF-6.1"][3] and by_obj["SF-6.1"][2].startswith("Nessuna somma")
    assert "Piano" in by_obj["AV-5"][3] and "rinormalizzati" in by_obj["AV-5"][4]
    assert [c.text for c in find_table.rows[0].cells] == ["Gravità", "Codice", "Settore", "Dove", "Descrizione"]
    assert any(r.cells[1].text == "WB-NOT-RECEIVED" for r in find_table.rows[1:])
    import hashlib

    for f in returned.iterdir():
        assert hashlib.sha256(f.read_bytes()).hexdigest() in text
        assert f.name in text
    assert len(src_table.rows) == 1 + len(list(returned.iterdir()))
    # Italian throughout: no English status or key words reach the reader
    words = CODE.sub("", text)  # error codes (WB-MISSING) are stable identifiers, not words
    assert not ENGLISH.findall(words), sorted(set(ENGLISH.findall(words)))
    assert "Soglia" not in text and "non prevede una soglia minima" in text


def test_method_follows_the_plans_scoring_policy(plan):
    default = "\n".join(method_text(plan))
    assert "media dei suoi indicatori" in default and "qualsiasi ritardo vale 0" in default
    assert "2 decimali" in default and "«95,00»" in default
    text = (Path(plan.source).read_text(encoding="utf-8")
            .replace("scoring: {}", 'scoring: {aggregation: min, threshold: "50%", late_penalty_per_month: 0.25, '
                                    "precision: 1}"))
    other, findings = parse_plan(text, "p.yaml")
    assert other is not None, [str(f) for f in findings]
    assert other.scoring == ScoringPolicy(0.25, "min", 0.5, plan.scoring.bands, precision=1)
    custom = "\n".join(method_text(other))
    assert "indicatore più basso" in custom and "inferiore al 50% vale 0" in custom
    assert "toglie 25 punti percentuali" in custom and "1 decimali" not in custom.replace("con 1 decimali", "")
    assert "«95,0»" in custom


def test_from_json_gives_the_same_document(plan, returned, decisions, tmp_path):
    out = tmp_path / "out"
    r = CliRunner().invoke(cli, ["consolidate", str(returned), "-o", str(out / "s.xlsx"), "--json-file",
                                 str(out / "r.json"), "--decisions", str(decisions)])
    assert r.exit_code == 1, r.output
    r = CliRunner().invoke(cli, ["relazione", "--results", str(out / "r.json"), "-o", str(out / "a.docx"),
                                 "--no-pdf"])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(cli, ["relazione", str(returned), "--decisions", str(decisions), "-o",
                                 str(out / "b.docx"), "--no-pdf"])
    assert r.exit_code == 0, r.output
    assert "2 decisioni del Nucleo applicate" in r.output
    a, b = Document(str(out / "a.docx")), Document(str(out / "b.docx"))
    # the date received is the files' time, the same in both runs
    assert _text(a) == _text(b)
    assert not (out / "a.pdf").exists()


def test_results_of_another_plan_are_refused(plan, tmp_path, results):
    bad = tmp_path / "r.json"
    bad.write_text(json.dumps({**results, "fingerprint": "0" * 64}), encoding="utf-8")
    with pytest.raises(RelazioneError, match=r"altro piano|altra versione"):
        load_results(bad, plan)
    broken = {**results, "objectives": [{**results["objectives"][0], "achievement": "molto"}]}
    bad.write_text(json.dumps(broken), encoding="utf-8")
    with pytest.raises(RelazioneError, match=r"objectives.*riga 1.*achievement"):
        load_results(bad, plan)
    bad.write_text('{"sectors": []}', encoding="utf-8")
    with pytest.raises(RelazioneError, match="mancano"):
        load_results(bad, plan)
    bad.write_text("non json", encoding="utf-8")
    r = CliRunner().invoke(cli, ["relazione", "--results", str(bad), "--no-pdf", "-o", str(tmp_path / "x.docx")])
    assert r.exit_code == 1 and "illeggibile" in r.output and not (tmp_path / "x.docx").exists()
    r = CliRunner().invoke(cli, ["relazione", "--no-pdf"])
    assert r.exit_code == 2


def test_many_sectors_keep_the_overview_readable(plan, results):
    """A plan of 60 sectors: the overview chart is split into images of at most 25 sectors."""
    sf = next(s for s in results["sectors"] if s["code"] == "SF")
    many = {**results, "sectors": [{**sf, "code": f"S{i:02d}", "score": i * 1.5 if i % 7 else None}
                                   for i in range(60)]}
    doc = Document(__import__("io").BytesIO(render_docx(many, plan)))
    captions = [p.text for p in doc.paragraphs if p.style.name == "Caption"]
    overview = [c for c in captions if "Punteggio per settore" in c]
    assert len(overview) == 3 and overview[0].endswith("(1 di 3)")


def _need(tool: str) -> None:
    if shutil.which(tool):
        return
    msg = f"{tool} not found (apt-get install poppler-utils)"
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail(msg + " (CI=true)", pytrace=False)
    pytest.skip(msg)


@pytest.mark.libreoffice
def test_pdf_by_libreoffice(plan, returned, decisions, tmp_path):
    from libreoffice import require_libreoffice

    require_libreoffice()
    _need("pdftotext")
    out = tmp_path / "relazione.docx"
    before = {f.name: f.read_bytes() for f in returned.iterdir()}
    r = CliRunner().invoke(cli, ["relazione", str(returned), "--decisions", str(decisions), "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert {f.name: f.read_bytes() for f in returned.iterdir()} == before  # inputs never modified
    pdf = out.with_suffix(".pdf")
    assert pdf.read_bytes()[:5] == b"%PDF-"
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    assert 5 <= pages <= 16, pages
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    per_page = text.split("\f")[:pages]
    assert "Comune di Truccazzano — Relazione sulla" in per_page[0] and "Performance 2025" in per_page[0]
    for n, page in enumerate(per_page, start=1):
        assert f"pagina {n} di {pages}" in page, f"page {n} has no page number"
    # every index entry points at the page that holds its heading
    entries = re.findall(r"^\s*(.+?)\.{5,}\s*(\d+)\s*$", per_page[0], re.MULTILINE)
    names = CHAPTERS + [f"{s.code} – {s.name}" for s in plan.sectors]
    assert sorted(e[0].strip() for e in entries) == sorted(names)
    for name, page in entries:
        lines = [ln.strip() for ln in per_page[int(page) - 1].splitlines()]
        assert name.strip() in lines, f"{name!r} is not on page {page}"
    sf = next(s for s in consolidate([returned], plan, decisions=decisions).sectors if s["code"] == "SF")
    assert f"Punteggio: {sf['score']:.2f}".replace(".", ",") in text
    assert "Nessuna somma" in text  # the Nucleo's motivation (wrapped in its table cell)
    words = CODE.sub("", text.replace("piao-xls", ""))
    assert not ENGLISH.findall(words), sorted(set(ENGLISH.findall(words)))


EDGE_PLAN = """\
comune: Prova
year: 2025
sectors:
  - code: PB
    name: Prova fasce
    short_name: PB - Prova
    responsabile: {name: Mario Rossi}
    objectives:
      - number: 1
        title: UNICO
        weight: 100
        indicators:
          - {description: "% pratiche evase", target: "100%"}
"""


@pytest.mark.parametrize(("value", "shown", "band"), [
    (0.94995, "95,00", "A"),   # 94.995 points: published "95,00", so band A (B on the raw figure)
    (0.94994, "94,99", "B"),
    (0.899999999, "90,00", "B"),
])
def test_published_score_and_band_agree_everywhere(tmp_path, value, shown, band):
    plan, findings = parse_plan(EDGE_PLAN, "prova.yaml")
    assert plan is not None, [str(f) for f in findings]
    (tmp_path / "plan.yaml").write_text(EDGE_PLAN, encoding="utf-8")
    folder = tmp_path / "returned"
    folder.mkdir()
    book = sector_workbook(plan, plan.sectors[0])
    (folder / book.filename).write_bytes(render(book, prefill={"PB-1.1|value": value,
                                                               "PB-1.1|analisi": "Scostamento minimo."}))
    r = CliRunner().invoke(cli, ["consolidate", str(folder), "--plan", str(tmp_path / "plan.yaml"), "-o",
                                 str(tmp_path / "s.xlsx")])
    assert f"{shown} ({band})" in r.output, r.output
    r = CliRunner().invoke(cli, ["relazione", str(folder), "--plan", str(tmp_path / "plan.yaml"), "-o",
                                 str(tmp_path / "r.docx"), "--no-pdf"])
    assert r.exit_code == 0, r.output
    doc = Document(str(tmp_path / "r.docx"))
    overview = [[c.text for c in row.cells] for row in doc.tables[1].rows]
    assert overview[1][2] == shown and overview[1][3].startswith(f"{band} –")
    total = [c.text for c in doc.tables[2].rows[-1].cells]
    assert total[5] == shown and total[6] == band
    assert f"Punteggio: {shown} su 100 — fascia {band}" in _text(doc)


def test_a_file_name_that_reorders_text_is_shown_escaped(plan, returned, tmp_path):
    """A returned file named with a right-to-left override (fattura<U+202E>xcod.xlsx reads «fatturadocx.xlsx»)
    appears in the Relazione's sources and anomalies with the override shown, never obeyed."""
    import shutil as sh

    folder = tmp_path / "in"
    sh.copytree(returned, folder)
    (folder / "fattura\u202excod.xlsx").write_bytes(b"not a workbook")
    doc = Document(__import__("io").BytesIO(render_docx(results_of(consolidate([folder], plan)), plan)))
    text = _text(doc)
    assert "fattura\\u202excod.xlsx" in text
    assert not any(0x202A <= ord(ch) <= 0x202E or 0x2066 <= ord(ch) <= 0x2069 for ch in text)


def test_noncharacters_from_a_cell_or_a_file_name_do_not_stop_the_relazione(plan, tmp_path):
    """U+FFFE and U+FFFF (not allowed in XML) typed in an analysis cell or carried by a file name: the
    Relazione is written, with U+FFFD in their place."""
    folder = tmp_path / "in"
    folder.mkdir()
    av = sector_workbook(plan, plan.sector("AV"))
    values = {k: 0.5 for k, c in av.sheets[1].inputs.items() if c.unit == "percent"}
    values.update({k: "Scostamento \ufffe dovuto \uffff a carenza di personale." for k in av.sheets[1].inputs
                   if k.endswith("|analisi")})
    (folder / "AV\ufffe\uffff.xlsx").write_bytes(render(av, prefill=values))
    (folder / "rotto\uffff.xlsx").write_bytes(b"not a workbook")
    doc = Document(__import__("io").BytesIO(render_docx(results_of(consolidate([folder], plan)), plan)))
    text = _text(doc)
    assert "\ufffe" not in text and "\uffff" not in text
    assert "rotto\ufffd.xlsx" in text
