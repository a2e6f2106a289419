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
from piao_xls.results.annex import render_annex
from piao_xls.results.consolidate import consolidate
from piao_xls.results.relazione import RelazioneError, load_results, method_text, render_docx, results_of
from piao_xls.results.tables import it_number

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
CHAPTERS = ["1. Presentazione", "2. Il metodo di misurazione e valutazione", "3. I risultati dell'ente",
            "4. I risultati per settore", "5. Le decisioni del Nucleo di Valutazione", "6. Conclusioni"]
ENGLISH = re.compile(r"\b(scored|missing|invalid|informative|accepted|rejected|not_applicable|neutralise|correct|"
                     r"sector|objective|weight|none|true|false|null)\b", re.IGNORECASE)
HASH = re.compile(r"\b[0-9a-f]{64}\b|\b[0-9a-f]{16}\b")
CELL = re.compile(r"![A-Z]{1,3}\d+\b|\bcella [A-Z]{1,3}\d+\b|\b[A-Z]{1,3}\d+:[A-Z]{1,3}\d+\b")


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


def _order(doc) -> str:
    """The body as a string: H1/H2 headings, T tables, F figures."""
    out = []
    for el in doc.element.body.iterchildren():
        tag = el.tag.rsplit("}", 1)[-1]
        if tag == "tbl":
            out.append("T")
        elif tag == "p" and el.xpath(".//w:pStyle[@w:val='Heading1']"):
            out.append("1")
        elif tag == "p" and el.xpath(".//w:pStyle[@w:val='Heading2']"):
            out.append("2")
        elif tag == "p" and el.xpath(".//pic:pic"):
            out.append("F")
    return "".join(out)


def test_docx_structure(plan, results, tmp_path):
    path = tmp_path / "r.docx"
    path.write_bytes(render_docx(results, plan))
    doc = Document(str(path))
    heads = _structure(doc)
    assert heads[0] == ("Title", "Comune di Truccazzano")
    assert "Relazione sulla Performance 2025" in [p.text for p in doc.paragraphs[:3]]
    assert [t for s, t in heads if s == "Heading 1"] == CHAPTERS  # no revisions yet: no chapter on them
    sector_heads = [t for s, t in heads if s == "Heading 2"]
    assert sector_heads == [f"4.{k} {s.code} – {s.name}" for k, s in enumerate(plan.sectors, start=1)]
    # chapters flow: no page break anywhere in the body
    body = doc.element.body.xml
    assert "pageBreakBefore" not in body and 'w:type="page"' not in body
    # tables: bands, overview (after its chart); per sector objectives and indicators; decisions
    # (a sector not received has no indicators table: nothing was reported)
    scored = {s["code"] for s in results["sectors"] if s["status"] not in ("not_received", "conflict")}
    assert scored == {"SF", "AV"}
    assert _order(doc) == "1" + "1T" + "1FT" + "1" + "".join(
        "2TT" if s.code in scored else "2T" for s in plan.sectors) + "1T" + "1"
    overview = doc.tables[1]
    assert [c.text for c in overview.rows[0].cells] == ["Settore", "Responsabile", "Punteggio", "Fascia", "Stato"]
    # the contract with the cross-output checker: a sector's row starts with its code and name, has its score
    for s, row in zip(results["sectors"], overview.rows[1:], strict=True):
        assert row.cells[0].text == f"{s['code']} – {s['name']}"
        assert row.cells[2].text == (s["score_it"] or "—")
    # every objective row: its code alone in the first cell, applied weight, achievement and points as published
    objective_rows = {r.cells[0].text: [c.text for c in r.cells] for t in doc.tables for r in t.rows}
    by_code = {s["code"]: s for s in results["sectors"]}
    for o in results["objectives"]:
        row = objective_rows[o["objective"]]
        if by_code[o["sector"]]["score"] is None:
            assert row[3:] == ["—", "—", "—"]
        elif o["achievement"] is None:
            assert row[4] in ("escluso", "neutralizzato") and row[5] == "—"
        else:
            assert row[3] == it_number(o["weight_applied"], 2), row
            assert row[4] in (o["achievement_it"], "non rendicontato") and row[5] == o["points_it"], row
    sf_table = next(t for t in doc.tables if t.rows[1].cells[0].text == "SF-1")
    total = sf_table.rows[-1].cells
    assert total[1].text == "Totale" and total[5].text == by_code["SF"]["score_it"]
    assert objective_rows["SF-6"][4] == "escluso"  # its only indicator declared non applicabile
    # the one figure (the sectors' scores) comes before its table, with a caption
    assert len(doc.inline_shapes) == 1
    captions = [p.text for p in doc.paragraphs if p.style.name == "Caption"]
    assert captions[0].startswith("Tabella 1 –") and captions[1].startswith("Figura 1 –")
    # the index: one entry per heading, each a PAGEREF field to that heading's bookmark
    marks = re.findall(r'w:bookmarkStart w:id="\d+" w:name="(_Toc\d+)"', body)
    refs = re.findall(r"PAGEREF (_Toc\d+)", body)
    assert len(marks) == len(heads) - 1 and refs == marks
    footer = doc.sections[0].footer._element.xml
    assert " PAGE " in footer and " NUMPAGES " in footer
    sec = doc.sections[0]
    assert (round(sec.page_width.cm, 1), round(sec.page_height.cm, 1)) == (21.0, 29.7)


def test_one_font_family_and_readable_sizes(plan, results):
    """Carlito everywhere (no theme font left to replace it), body text >= 10,5 pt, tables >= 9 pt."""
    import zipfile

    data = render_docx(results, plan)
    with zipfile.ZipFile(__import__("io").BytesIO(data)) as z:
        styles = z.read("word/styles.xml").decode()
        document = z.read("word/document.xml").decode()
    rfonts = " ".join(re.findall(r"<w:rFonts [^>]*>", styles + document))
    fonts = set(re.findall(r'w:(?:ascii|hAnsi|cs|eastAsia)="([^"]+)"', rfonts))
    assert fonts == {"Carlito"}, fonts
    assert "Theme=" not in styles.replace("w:themeColor", "").replace("w:themeShade", "")
    sizes = [int(v) / 2 for v in re.findall(r'<w:sz w:val="(\d+)"', document)]
    assert sizes and min(sizes) >= 8.5  # the footer; every table cell is 9 pt or more
    doc = Document(__import__("io").BytesIO(data))
    assert doc.styles["Normal"].font.size.pt >= 10.5
    cells = [r.font.size.pt for t in doc.tables for row in t.rows for c in row.cells for p in c.paragraphs
             for r in p.runs if r.font.size is not None]
    assert cells and min(cells) >= 9


def test_no_audit_material_in_the_body(plan, results):
    """No software name, fingerprint, hash, error code or cell reference in the Relazione; all in the annex."""
    from piao_xls.core.errors import CODES
    doc = Document(__import__("io").BytesIO(render_docx(results, plan)))
    text = _text(doc) + "\n".join(p.text for p in doc.sections[0].footer.paragraphs)
    assert "piao-xls" not in text.lower() and "piao_xls" not in text.lower()
    assert not HASH.findall(text), HASH.findall(text)
    assert plan.fingerprint[:16] not in text
    found = [c for c in CODES if re.search(rf"\b{re.escape(c)}\b", text)]
    assert not found, found
    assert not CELL.findall(text), CELL.findall(text)
    assert "sha" not in text.lower() and ".xlsx" not in text
    props = doc.core_properties
    assert "piao" not in (props.author + props.last_modified_by).lower()
    # the annex holds it: the files with their hashes, the anomalies with code and cell, the plan's fingerprint
    annex = Document(__import__("io").BytesIO(render_annex(results, plan)))
    atext = _text(annex)
    assert plan.fingerprint in atext
    for src in results["sources"]:
        assert src["sha256"] in atext and Path(src["path"]).name in atext
    assert any(f["code"] in atext for f in results["findings"])
    assert "WB-NOT-RECEIVED" in atext


def test_each_deviation_is_explained_next_to_its_indicator(plan, results):
    """Under every indicator that misses its target, the row after it holds the Responsabile's analysis."""
    doc = Document(__import__("io").BytesIO(render_docx(results, plan)))
    rows = [[c.text for c in r.cells] for t in doc.tables for r in t.rows]
    index = {r[0]: k for k, r in enumerate(rows) if re.fullmatch(r"[A-Z]+-\d+\.\d+", r[0])}
    checked = 0
    received = {s["code"] for s in results["sectors"] if s["status"] not in ("not_received", "conflict")}
    for i in results["indicators"]:
        if i["sector"] not in received:
            assert i["indicator"] not in index  # nothing reported: no indicators table
            continue
        k = index[i["indicator"]]
        under = rows[k + 1] if k + 1 < len(rows) else [""]
        below_target = i["status"] == "scored" and i["achievement"] is not None and i["achievement_it"] != "100%"
        if below_target and i["analysis"].strip():
            assert under[0] == "" and " ".join(i["analysis"].split()) in under[-1], (i["indicator"], under)
            assert under[-1].startswith("Analisi dello scostamento")
            checked += 1
        elif not below_target and i["status"] == "scored":
            assert not under[-1].startswith("Analisi dello scostamento"), (i["indicator"], under)
    assert checked >= 4  # SF-2.1 (Nucleo), SF-4.2, SF-5.1 and the AV indicators at 90%
    sf11 = rows[index["SF-1.1"]]
    assert sf11[3] == "95% (dichiarato 90%, corretto dal Nucleo)"  # the Nucleo's correction, shown as such


def test_docx_lists_decisions_with_reasons(plan, results, tmp_path):
    doc = Document(__import__("io").BytesIO(render_docx(results, plan)))
    text = _text(doc)
    dec_table = doc.tables[-1]
    rows = [[c.text for c in r.cells] for r in dec_table.rows]
    assert rows[0] == ["Decisione", "Oggetto", "Motivazione", "Chi e quando", "Effetto"]
    by_obj = {r[1].split(" ")[0]: r for r in rows[1:]}
    assert set(by_obj) == {"SF-6.1", "SF-1.1", "AV-5"}  # two of the Nucleo, one of the plan
    assert by_obj["SF-1.1"][1] == "SF-1.1 (90% → 95%)" and "11/03/2026" in by_obj["SF-1.1"][3]
    assert "Nucleo di Valutazione" in by_obj["SF-6.1"][3] and by_obj["SF-6.1"][2].startswith("Nessuna somma")
    assert by_obj["AV-5"][0] == "obiettivo escluso dal piano" and "Piano" in by_obj["AV-5"][3]
    assert "rinormalizzati" in by_obj["AV-5"][4]
    assert "2 decisioni del Nucleo di Valutazione, 1 esclusione prevista dal piano" in text
    # Italian throughout: no English status or key words reach the reader
    words = CODE.sub("", text)
    assert not ENGLISH.findall(words), sorted(set(ENGLISH.findall(words)))
    assert "Soglia" not in text and "non prevede una soglia minima" in text
    assert "2.025" not in text and "2025" in text


def test_revisions_get_their_chapter_once_they_exist(plan, results):
    """The hook for the plan's versions: a chapter on what changed during the year, only when there are any."""
    doc = Document(__import__("io").BytesIO(render_docx(
        {**results, "revisions": [{"date": "2025-07-15", "what": "SF-3: target portato al 95%",
                                   "reason": "Variazione di bilancio"}]}, plan)))
    heads = [t for s, t in _structure(doc) if s == "Heading 1"]
    assert heads[-2:] == ["6. Le modifiche intervenute nel corso dell'anno", "7. Conclusioni"]
    assert "15/07/2025" in _text(doc) and "Variazione di bilancio" in _text(doc)


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
    annex_docx = tmp_path / "relazione-Allegato-tecnico.docx"
    assert annex_docx.exists() and annex_docx.with_suffix(".pdf").read_bytes()[:5] == b"%PDF-"
    assert str(annex_docx) in r.output

    def pages_of(path):
        info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
        return int(re.search(r"Pages:\s+(\d+)", info).group(1))

    pages = pages_of(pdf)
    assert 4 <= pages <= 8, pages  # two sectors of four received: the chapter flows, no page per section
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    per_page = text.split("\f")[:pages]
    assert "Comune di Truccazzano" in per_page[0] and "Relazione sulla Performance 2025" in per_page[0]
    for n, page in enumerate(per_page, start=1):
        assert f"pagina {n} di {pages}" in page, f"page {n} has no page number"
    # the index's pages are in the .docx itself (no field for Word to update on opening) ...
    import zipfile

    with zipfile.ZipFile(out) as z:
        settings = z.read("word/settings.xml").decode()
    assert "updateFields" not in settings
    from piao_xls.results.docbuild import field_results

    stored = field_results(out.read_bytes())
    doc = Document(str(out))
    heads = [t for s, t in _structure(doc) if s in ("Heading 1", "Heading 2")]
    assert len(stored) == len(heads) and all(v >= 1 for v in stored.values())
    # ... and each is the page of the PDF that holds its heading
    for (_mark, page), head in zip(sorted(stored.items()), heads, strict=True):
        lines = [" ".join(ln.split()) for ln in per_page[page - 1].splitlines()]
        assert head in lines, f"{head!r} is not on page {page}"
    entries = re.findall(r"^\s*(.+?)\.{5,}\s*(\d+)\s*$", per_page[0], re.MULTILINE)
    assert [(" ".join(e.split()), int(n)) for e, n in entries] == [
        (h, p) for h, (_, p) in zip(heads, sorted(stored.items()), strict=True)]
    # the .docx and the .pdf show the same pages: the .docx converted again gives the same page count
    from piao_xls.results.relazione import docx_to_pdf

    again = docx_to_pdf(out, tmp_path / "again.pdf")
    assert pages_of(again) == pages
    sf = next(s for s in consolidate([returned], plan, decisions=decisions).sectors if s["code"] == "SF")
    assert f"Punteggio {sf['score']:.2f}".replace(".", ",") in text
    assert "Nessuna somma" in text  # the Nucleo's motivation (wrapped in its table cell)
    words = CODE.sub("", text)
    assert not ENGLISH.findall(words), sorted(set(ENGLISH.findall(words)))
    assert "piao-xls" not in text and not HASH.findall(text)
    annex_text = subprocess.run(["pdftotext", "-layout", str(annex_docx.with_suffix(".pdf")), "-"],
                                capture_output=True, text=True, check=True).stdout
    assert "SHA-256" in annex_text and "Anomalie" in annex_text


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
    assert total[1] == "Totale" and total[5] == shown
    assert f"Punteggio {shown} su 100, fascia {band} (" in _text(doc)


def test_a_file_name_that_reorders_text_is_shown_escaped(plan, returned, tmp_path):
    """A returned file named with a right-to-left override (fattura<U+202E>xcod.xlsx reads «fatturadocx.xlsx»)
    appears in the Relazione's sources and anomalies with the override shown, never obeyed."""
    import shutil as sh

    folder = tmp_path / "in"
    sh.copytree(returned, folder)
    (folder / "fattura\u202excod.xlsx").write_bytes(b"not a workbook")
    doc = Document(__import__("io").BytesIO(render_annex(results_of(consolidate([folder], plan)), plan)))
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
    results = results_of(consolidate([folder], plan))
    text = _text(Document(__import__("io").BytesIO(render_docx(results, plan))))
    assert "\ufffe" not in text and "\uffff" not in text and "Scostamento \ufffd dovuto" in text
    text = _text(Document(__import__("io").BytesIO(render_annex(results, plan))))
    assert "\ufffe" not in text and "\uffff" not in text
    assert "rotto\ufffd.xlsx" in text


def test_without_a_working_libreoffice_the_docx_asks_word_for_the_pages(plan, results, tmp_path, monkeypatch):
    """LibreOffice failing (here: a program that exits 1): the .docx alone is still written, and since its
    index has no pages it asks Word to compute them on opening; the PDF is refused with an Italian message."""
    import zipfile

    from piao_xls.results.relazione import write_relazione

    monkeypatch.setenv("PIAO_SOFFICE", shutil.which("false") or "/bin/false")
    docx, pdf = write_relazione(results, plan, tmp_path / "r.docx", pdf=False)
    assert pdf is None
    with zipfile.ZipFile(docx) as z:
        assert "updateFields" in z.read("word/settings.xml").decode()
    assert (tmp_path / "r-Allegato-tecnico.docx").exists()
    with pytest.raises(RelazioneError, match="LibreOffice non ha convertito"):
        write_relazione(results, plan, tmp_path / "s.docx", pdf=True)
    assert not (tmp_path / "s.pdf").exists()


def test_the_method_states_the_plan_s_thresholds_and_decimals(plan):
    """The counts of objectives follow the plan's thresholds: the method says which, and its precision in
    correct Italian (1 decimale, 3 decimali)."""
    import dataclasses

    from piao_xls.results.relazione import method_text

    scoring = dataclasses.replace(plan.scoring, reached=0.95, not_reached_below=0.4, precision=1)
    text = " ".join(method_text(dataclasses.replace(plan, scoring=scoring)))
    assert "«raggiunto» quando il suo raggiungimento pubblicato è almeno del 95%" in text
    assert "«non raggiunto» quando è inferiore al 40%" in text
    assert "pubblicati con 1 decimale " in text and "1 decimali" not in text
    assert "almeno del 100%" in " ".join(method_text(plan)) and "al 50%" in " ".join(method_text(plan))
