"""Reading returned workbooks back: identity, tampering, values, required fields (no LibreOffice).

Workbooks are produced with the real writer (prefilled inputs) and damaged with openpyxl, as a
person editing the file in a spreadsheet would.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from scenario import NUCLEO_VALUES, SF_ANALYSES, SF_EXPECTED_BAND, SF_EXPECTED_POINTS, SF_EXPECTED_SCORE, SF_VALUES

from piao_xls.cli import cli
from piao_xls.forms.layout import sector_workbook, source_workbook
from piao_xls.forms.writer import render
from piao_xls.plan.planfile import parse_plan
from piao_xls.results.consolidate import consolidate
from piao_xls.returns.reader import ACCEPTED, REJECTED, read_workbook

SHEET = "SF - Finanziario"


def write(path: Path, book, values) -> Path:
    path.write_bytes(render(book, prefill=values))
    return path


@pytest.fixture
def sf_book(plan):
    return sector_workbook(plan, plan.sector("SF"))


@pytest.fixture
def sf_filled(tmp_path, sf_book):
    return write(tmp_path / sf_book.filename, sf_book, {**SF_VALUES, **SF_ANALYSES})


def ref(book, key):
    return book.sheets[1].inputs[key].ref


def codes(res):
    return sorted({f.code for f in res.findings})


def test_filled_sector_workbook_is_accepted(plan, sf_filled):
    res = read_workbook(sf_filled, plan)
    assert res.status == ACCEPTED, [str(f) for f in res.findings]
    assert res.kind == "sector" and res.sector_codes == ["SF"]
    sub = res.sectors["SF"]
    assert sub.values["SF-6.1"] == {"numerator": 150000.0, "denominator": 200000.0}
    assert sub.values["SF-1.2"] == {"date": date(2025, 11, 15)}
    assert sub.texts["SF-6.1|analisi"].startswith("=HYPERLINK")


def test_empty_sector_workbook_lists_every_unreported_indicator(plan, tmp_path, sf_book):
    res = read_workbook(write(tmp_path / "empty.xlsx", sf_book, {}), plan)
    assert res.status == REJECTED
    missing = [f for f in res.findings if f.code == "WB-MISSING"]
    scored_own = [i for i in plan.sector("SF").indicators if i.scored and i.source == "responsabile"]
    assert len(missing) == len(scored_own) == 10
    # docs/errors.md: WB-MISSING, a scored indicator not reported (non rendicontato): each finding names its own
    assert {i.id for i in scored_own for f in missing if i.id in f.message} == {i.id for i in scored_own}
    assert all("non rendicontato" in f.message for f in missing)
    assert {f.cell for f in missing} >= {ref(sf_book, "SF-1.1|value"), ref(sf_book, "SF-6.1|numerator")}


def test_analysis_required_below_target(plan, tmp_path, sf_book):
    path = write(tmp_path / "x.xlsx", sf_book, SF_VALUES)
    res = read_workbook(path, plan)
    found = {f.cell for f in res.findings if f.code == "WB-ANALYSIS"}
    assert found == {ref(sf_book, k) for k in SF_ANALYSES}
    # README: file, sheet and cell; docs/errors.md: achievement below 100% (SF-1.1: 90%, shown as docs/scoring.md prints it)
    assert all(f.file == str(path) and f.sheet == SHEET for f in res.findings if f.code == "WB-ANALYSIS")
    (f,) = [f for f in res.findings if f.code == "WB-ANALYSIS" and "SF-1.1" in f.message]
    assert "90,00%" in f.message, f.message
    assert res.status == REJECTED


def test_a_zero_denominator_is_one_finding_on_its_indicator(plan, tmp_path, sf_book):
    """docs/scoring.md: a denominator of 0 cannot be scored (status invalid, 0 points, listed for the Nucleo);
    docs/errors.md: `WB-DIV-ZERO`; README: a workbook finding names its file, sheet and cell. The value is read,
    not refused (no WB-VALUE) nor taken as missing (no WB-MISSING)."""
    path = write(tmp_path / "zero.xlsx", sf_book, {**SF_VALUES, **SF_ANALYSES, "SF-6.1|denominator": 0})
    res = read_workbook(path, plan)
    (f,) = [f for f in res.findings if f.code == "WB-DIV-ZERO"]
    inputs = sf_book.sheets[1].inputs
    assert "SF-6.1" in f.message and f.severity in ("error", "warning")
    assert f.file == str(path) and f.sheet == SHEET
    assert f.cell in {inputs["SF-6.1|numerator"].ref, inputs["SF-6.1|denominator"].ref}
    assert not [g for g in res.findings if g.code in ("WB-VALUE", "WB-MISSING")]
    assert res.sectors["SF"].values["SF-6.1"] == {"numerator": 150000.0, "denominator": 0}


def test_a_value_not_available_is_named_where_it_is(plan, tmp_path, sf_book):
    """docs/errors.md: a value declared 'non disponibile' with no reason is `WB-ANALYSIS` (at the analysis cell),
    with its reason `WB-NOT-AVAILABLE` (the reason reported); README: a workbook finding names file, sheet and
    cell."""
    inputs = sf_book.sheets[1].inputs
    base = {**SF_VALUES, **SF_ANALYSES, "SF-3.1|value": "non disponibile"}
    path = write(tmp_path / "nd.xlsx", sf_book, base)
    (f,) = [f for f in read_workbook(path, plan).findings if f.code == "WB-ANALYSIS"]
    assert "SF-3.1" in f.message and f.severity == "error"
    assert (f.file, f.sheet, f.cell) == (str(path), SHEET, inputs["SF-3.1|analisi"].ref)
    reason = "Dato ISTAT non ancora pubblicato."
    path = write(tmp_path / "nd-motivato.xlsx", sf_book, {**base, "SF-3.1|analisi": reason})
    res = read_workbook(path, plan)
    (w,) = [f for f in res.findings if f.code == "WB-NOT-AVAILABLE"]
    assert "SF-3.1" in w.message and reason in w.message and w.severity == "warning"
    assert (w.file, w.sheet, w.cell) == (str(path), SHEET, inputs["SF-3.1|value"].ref)
    assert not [f for f in res.findings if f.severity == "error"]


@pytest.mark.parametrize(("key", "bad", "words"), [
    ("SF-1.1|value", "circa 80", "non è una percentuale"),
    ("SF-1.1|value", 1.5, "fuori dall'intervallo"),
    ("SF-1.1|value", 80.0, "forse intendeva 80%"),
    ("SF-1.2|date", date(2031, 1, 1), "fuori dal periodo"),
    ("SF-1.2|date", "domani", "non è una data"),
    ("SF-6.1|numerator", -5.0, "importo negativo"),
    ("SF-1.1|value", "#DIV/0!", "errore"),
])
def test_bad_values_are_found_and_never_scored(plan, tmp_path, sf_book, key, bad, words):
    values = {**SF_VALUES, **SF_ANALYSES, key: bad}
    res = read_workbook(write(tmp_path / "bad.xlsx", sf_book, values), plan)
    errs = [f for f in res.findings if f.code == "WB-VALUE" and f.severity == "error"]
    assert len(errs) == 1, [str(f) for f in res.findings]
    assert errs[0].sheet == SHEET and errs[0].cell == ref(sf_book, key)
    assert words in errs[0].message
    ind, name = key.split("|")
    assert res.sectors["SF"].values[ind][name] is None  # the bad value is not used
    assert res.status == REJECTED


def test_date_typed_as_text_is_accepted_with_warning(plan, tmp_path, sf_book):
    values = {**SF_VALUES, **SF_ANALYSES, "SF-1.2|date": "15/11/2025"}
    res = read_workbook(write(tmp_path / "d.xlsx", sf_book, values), plan)
    assert res.status == "accepted_with_warnings"
    assert res.sectors["SF"].values["SF-1.2"]["date"] == date(2025, 11, 15)


def _edit(src: Path, dst: Path, fn) -> Path:
    wb = load_workbook(src)
    fn(wb)
    wb.save(dst)
    return dst


def test_edited_target_is_tampering(plan, tmp_path, sf_filled, sf_book):
    layout = sf_book.sheets[1]
    target_cell = next(c for c in layout.labels if c.value == "Accertamento del 100% delle somme stanziate nel "
                       "Bilancio 2025")
    out = _edit(sf_filled, tmp_path / "t.xlsx", lambda wb: wb[SHEET].__setitem__(target_cell.ref, "50%"))
    res = read_workbook(out, plan)
    assert res.status == REJECTED and "SF" not in res.sectors
    assert any(f.code == "WB-TAMPERED" and f.cell == target_cell.ref for f in res.findings)


def test_edited_weight_is_tampering(plan, tmp_path, sf_filled, sf_book):
    weight = next(c for c in sf_book.sheets[1].labels if c.style == "weight" and c.value == 0.2)
    out = _edit(sf_filled, tmp_path / "w.xlsx", lambda wb: wb[SHEET].__setitem__(weight.ref, 0.3))
    res = read_workbook(out, plan)
    assert any(f.code == "WB-TAMPERED" and f.cell == weight.ref for f in res.findings)


def test_inserted_row_is_tampering(plan, tmp_path, sf_filled):
    out = _edit(sf_filled, tmp_path / "r.xlsx", lambda wb: wb[SHEET].insert_rows(30))
    res = read_workbook(out, plan)
    assert res.status == REJECTED and "SF" not in res.sectors
    assert "WB-TAMPERED" in codes(res)


def test_renamed_and_added_sheets(plan, tmp_path, sf_filled):
    def rename(wb):
        wb[SHEET].title = "Finanziario"
    res = read_workbook(_edit(sf_filled, tmp_path / "n.xlsx", rename), plan)
    msgs = " ".join(f.message for f in res.findings if f.code == "WB-TAMPERED")
    assert "foglio mancante" in msgs and "foglio aggiunto" in msgs and res.status == REJECTED


def test_deleted_sheet(plan, tmp_path, plan_all_filled):
    def drop(wb):
        del wb["ST - Tecnico"]
    res = read_workbook(_edit(plan_all_filled, tmp_path / "d.xlsx", drop), plan)
    assert any(f.code == "WB-TAMPERED" and f.sheet == "ST - Tecnico" for f in res.findings)
    assert "ST" not in res.sectors and {"SA", "SF", "AV"} <= set(res.sectors)


@pytest.fixture
def plan_all_filled(tmp_path, plan):
    from piao_xls.forms.layout import all_sectors_workbook
    from piao_xls.forms.samples import sample_values

    book = all_sectors_workbook(plan)
    values = {}
    for s in book.sheets[1:]:
        values.update(sample_values(s, seed=5, year=plan.year))
    return write(tmp_path / book.filename, book, values)


def test_workbook_of_another_year_or_plan_is_rejected(plan, tmp_path):
    text = Path("templates/truccazzano-2025.yaml").read_text().replace("year: 2025", "year: 2024", 1)
    other, _ = parse_plan(text, "2024.yaml")
    book = sector_workbook(other, other.sector("SF"))
    res = read_workbook(write(tmp_path / "old.xlsx", book, {}), plan)
    assert res.status == REJECTED and codes(res) == ["WB-IDENTITY"] and "anno" in res.findings[0].message
    changed, _ = parse_plan(Path("templates/truccazzano-2025.yaml").read_text().replace(
        "Rispetto dei tempi del cronoprogramma", "Rispetto del cronoprogramma", 1), "changed.yaml")
    res2 = read_workbook(write(tmp_path / "changed.xlsx", sector_workbook(changed, changed.sector("SF")), {}), plan)
    assert codes(res2) == ["WB-IDENTITY"] and "impronta" in res2.findings[0].message


def test_per_sector_file_renamed_to_another_sector(plan, tmp_path, sf_book):
    path = write(tmp_path / "PIAO-2025-ST-Tecnico.xlsx", sf_book, {**SF_VALUES, **SF_ANALYSES})
    res = read_workbook(path, plan)
    assert res.sector_codes == ["SF"]
    assert any(f.code == "WB-IDENTITY" and f.severity == "warning" and "ST" in f.message for f in res.findings)


@pytest.mark.parametrize(("name", "data", "words"), [
    ("notes.xlsx", b"not a zip at all", "non è una cartella di lavoro"),
    ("old.xls", b"\xd0\xcf\x11\xe0" + b"\0" * 100, "xlsx"),
])
def test_unreadable_files_get_a_finding_not_a_traceback(plan, tmp_path, name, data, words):
    path = tmp_path / name
    path.write_bytes(data)
    res = read_workbook(path, plan)
    assert res.status == REJECTED and res.findings[0].code == "WB-OPEN" and words in res.findings[0].message


def test_formula_typed_into_input_is_a_warning(plan, tmp_path, sf_filled, sf_book):
    cell = ref(sf_book, "SF-3.1|value")
    out = _edit(sf_filled, tmp_path / "f.xlsx", lambda wb: wb[SHEET].__setitem__(cell, "=0.5*2"))
    res = read_workbook(out, plan)
    assert any(f.code == "WB-FORMULA" and f.cell == cell for f in res.findings)


# --- consolidation ---------------------------------------------------------------------

def _nucleo(tmp_path, plan, values) -> Path:
    return write(tmp_path / "PIAO-2025-Nucleo.xlsx", source_workbook(plan, "nucleo"), values)


def _sha(folder: Path) -> dict:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}


def test_consolidate_scores_match_hand_computation(plan, tmp_path, sf_book, sf_filled):
    _nucleo(tmp_path, plan, NUCLEO_VALUES)
    before = _sha(tmp_path)
    c = consolidate([tmp_path], plan)
    assert _sha(tmp_path) == before  # inputs never modified
    sf = next(s for s in c.sectors if s["code"] == "SF")
    assert sf["score"] == pytest.approx(SF_EXPECTED_SCORE, abs=1e-9)
    assert sf["band"] == SF_EXPECTED_BAND and sf["status"] == "scored"
    pts = {o["objective"]: o["points"] for o in c.objectives if o["sector"] == "SF"}
    assert pts == pytest.approx(SF_EXPECTED_POINTS, abs=1e-9)
    others = {s["code"]: s["status"] for s in c.sectors if s["code"] != "SF"}
    assert others == {"SA": "not_received", "ST": "not_received", "AV": "not_received"}
    assert not c.ok


def test_conflicts_and_duplicates(plan, tmp_path, sf_book):
    a = tmp_path / "a"
    a.mkdir()
    write(a / "one.xlsx", sf_book, {**SF_VALUES, **SF_ANALYSES})
    write(a / "copy.xlsx", sf_book, {**SF_VALUES, **SF_ANALYSES})
    c = consolidate([a], plan)
    assert next(s for s in c.sectors if s["code"] == "SF")["status"] != "conflict"
    write(a / "zz-newer.xlsx", sf_book, {**SF_VALUES, **SF_ANALYSES, "SF-3.1|value": 0.5,
                                          "SF-3.1|analisi": "ritardo"})
    c2 = consolidate([a], plan)
    sf = next(s for s in c2.sectors if s["code"] == "SF")
    assert sf["status"] == "conflict" and sf["score"] is None
    assert any(f["code"] == "WB-CONFLICT" for f in c2.findings)
    # generated files share one fixed "modified" date: which is newest cannot be told
    c3 = consolidate([a], plan, prefer_newest=True)
    sf3 = next(s for s in c3.sectors if s["code"] == "SF")
    assert sf3["score"] is None
    assert any(f["code"] == "WB-CONFLICT" and "stessa data" in f["message"] for f in c3.findings)
    _set_modified(a / "zz-newer.xlsx", b"2026-01-20T10:00:00Z")
    c4 = consolidate([a], plan, prefer_newest=True)
    sf4 = next(s for s in c4.sectors if s["code"] == "SF")
    assert sf4["score"] is not None
    assert any(f["code"] == "WB-CONFLICT" and "usato il più recente: zz-newer.xlsx" in f["message"]
               and "proprietà del documento" in f["message"] for f in c4.findings)


@pytest.mark.parametrize("stamp", [b"9999-12-31T23:59:59Z", b"not a date", b"1900-01-01T00:00:00Z", b"x" * 500])
def test_prefer_newest_never_trusts_a_date_that_does_not_parse(plan, tmp_path, sf_book, stamp):
    a = tmp_path / "a"
    a.mkdir()
    write(a / "one.xlsx", sf_book, {**SF_VALUES, **SF_ANALYSES})
    _set_modified(a / "one.xlsx", b"2026-01-10T10:00:00Z")
    write(a / "other.xlsx", sf_book, {**SF_VALUES, **SF_ANALYSES, "SF-3.1|value": 0.5, "SF-3.1|analisi": "ritardo"})
    _set_modified(a / "other.xlsx", stamp)
    c = consolidate([a], plan, prefer_newest=True)
    sf = next(s for s in c.sectors if s["code"] == "SF")
    assert sf["score"] is None and sf["status"] == "conflict"
    assert any(f["code"] == "WB-CONFLICT" and f["severity"] == "error" and "other.xlsx" in f["message"]
               and "non valida" in f["message"] for f in c.findings), [f["message"] for f in c.findings]


def test_a_document_s_saved_time_orders_returns_only_when_plausible():
    """docs/security.md: `--prefer-newest` uses a file's own "modified" property only when it parses and lies
    between 1990 and one day after now; docs/returns.md: times are instants, a time without offset local time."""
    from datetime import datetime, timedelta, timezone

    from piao_xls.returns.reader import saved_time

    def local(stamp: datetime) -> str:
        return stamp.astimezone().replace(tzinfo=None).isoformat(timespec="seconds")

    assert saved_time("2026-01-10T10:00:00Z") == local(datetime(2026, 1, 10, 10, tzinfo=timezone.utc))
    assert saved_time(" 2026-01-10T10:00:00+02:00 ") == local(datetime(2026, 1, 10, 8, tzinfo=timezone.utc))
    assert saved_time("2026-01-10T10:00:00") == "2026-01-10T10:00:00"
    assert saved_time("1990-01-01T00:00:00") == "1990-01-01T00:00:00"
    soon = datetime.now() + timedelta(hours=12)
    assert saved_time(soon.isoformat(timespec="seconds")) == soon.isoformat(timespec="seconds")
    for wrong in ("1989-12-31T23:59:59", (datetime.now() + timedelta(days=2)).isoformat(timespec="seconds"),
                  "ieri", "", "2026-13-01T00:00:00"):
        assert saved_time(wrong) is None, wrong


def _set_modified(path: Path, stamp: bytes) -> None:
    import re

    import zipmut

    p = zipmut.parts(path.read_bytes())
    p["docProps/core.xml"] = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + stamp, p["docProps/core.xml"])
    path.write_bytes(zipmut.rezip(p))


def test_released_results_consolidate_like_full_ones(plan, tmp_path, sf_book):
    """consolidate() drops each file's raw cells once read; conflicts and scores must not change."""
    write(tmp_path / "one.xlsx", sf_book, {**SF_VALUES, **SF_ANALYSES})
    write(tmp_path / "copy.xlsx", sf_book, {**SF_VALUES, **SF_ANALYSES})
    write(tmp_path / "other.xlsx", sf_book, {**SF_VALUES, **SF_ANALYSES, "SF-3.1|value": 0.5,
                                              "SF-3.1|analisi": "ritardo"})
    _nucleo(tmp_path, plan, NUCLEO_VALUES)
    for prefer_newest in (False, True):
        lean = consolidate([tmp_path], plan, prefer_newest=prefer_newest)
        full = consolidate([tmp_path], plan, prefer_newest=prefer_newest, keep_raw=True)
        assert lean.to_dict() == full.to_dict()
        assert all(not s.raw and not s.cells for r in lean.results for s in r.sectors.values())
        assert all(s.raw and s.cells for r in full.results for s in r.sectors.values())
        lean_subs = [s for r in lean.results for s in r.sectors.values()]
        full_subs = [s for r in full.results for s in r.sectors.values()]
        assert [s.signature() for s in lean_subs] == [s.signature() for s in full_subs]
        assert [(s.values, s.filled) for s in lean_subs] == [(s.values, s.filled) for s in full_subs]
        assert [s.texts for s in lean_subs] == [{k: v for k, v in s.texts.items() if k.endswith("|analisi")}
                                                for s in full_subs]
    statuses = {s["code"]: s["status"] for s in consolidate([tmp_path], plan).sectors}
    assert statuses["SF"] == "conflict"
    for i in range(5):  # enough files for worker processes: released results travel back pickled
        write(tmp_path / f"copy-{i}.xlsx", sf_book, {**SF_VALUES, **SF_ANALYSES})
    one, two = consolidate([tmp_path], plan, jobs=1), consolidate([tmp_path], plan, jobs=2)
    assert one.to_dict() == two.to_dict()
    assert [r.sectors["SF"].values for r in one.results if "SF" in r.sectors] == \
        [r.sectors["SF"].values for r in two.results if "SF" in r.sectors]


def test_cli_consolidate_outputs(plan, tmp_path, sf_filled):
    _nucleo(tmp_path, plan, NUCLEO_VALUES)
    (tmp_path / "readme.txt").write_text("not a workbook")
    out = tmp_path / "out"
    r = CliRunner().invoke(cli, ["consolidate", str(tmp_path), "-o", str(out / "sum.xlsx"), "--json-file",
                                 str(out / "r.json"), "--csv", str(out / "csv")])
    assert r.exit_code == 1, r.output  # three sectors not received
    data = json.loads((out / "r.json").read_text())
    assert set(data) >= {"sectors", "objectives", "indicators", "findings", "sources"}
    assert {"code", "responsabile", "score", "band", "status"} <= set(data["sectors"][0])
    assert any(f["code"] == "WB-SKIPPED" for f in data["findings"])
    wb = load_workbook(out / "sum.xlsx")
    assert wb.sheetnames == ["Riepilogo", "Obiettivi", "Indicatori", "Anomalie", "Decisioni", "Fonti", "Grafici"]
    formulas = [c.coordinate for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.data_type == "f"]
    assert formulas == []  # everything typed is a string
    texts = [c.value for row in wb["Indicatori"].iter_rows() for c in row if isinstance(c.value, str)]
    assert SF_ANALYSES["SF-6.1|analisi"] in texts
    csv_text = (out / "csv" / "indicators.csv").read_text()
    assert "'=HYPERLINK" in csv_text and ',"=HYPERLINK' not in csv_text
    sources = (out / "csv" / "sources.csv").read_text()
    assert hashlib.sha256(sf_filled.read_bytes()).hexdigest() in sources


def test_cli_check_json_and_feedback(plan, tmp_path, sf_book):
    bad = write(tmp_path / "bad.xlsx", sf_book, {**SF_VALUES, **SF_ANALYSES, "SF-1.1|value": "circa 80"})
    r = CliRunner().invoke(cli, ["check", str(bad), "--json", "--feedback", str(tmp_path / "fb")])
    assert r.exit_code == 1
    files = json.loads(r.output)["files"]
    assert files[0]["status"] == "rejected" and files[0]["sectors"] == ["SF"]
    assert files[0]["path"] == str(bad)  # each report names its file
    f = next(x for x in files[0]["findings"] if x["code"] == "WB-VALUE")
    assert f["sheet"] == SHEET and f["cell"] == ref(sf_book, "SF-1.1|value")
    note = (tmp_path / "fb" / "bad-riscontro.txt").read_text()
    assert "DA CORREGGERE" in note and f"cella {f['cell']}" in note
    # the text report: each finding with its place, and a finding of the whole file with none (no space before ":")
    (tmp_path / "junk.xlsx").write_bytes(b"not a workbook")
    text = CliRunner().invoke(cli, ["check", str(bad), str(tmp_path / "junk.xlsx")]).output
    assert f"  errore WB-VALUE '{SHEET}'!{f['cell']}: " in text or f"  errore WB-VALUE {SHEET}!{f['cell']}: " in text, text
    assert "  errore WB-OPEN: " in text and " :" not in text, text


def test_cli_check_in_parallel_gives_the_same_report(plan, tmp_path, sf_book):
    files = [write(tmp_path / f"sf-{i:02d}.xlsx", sf_book, {**SF_VALUES, **SF_ANALYSES, "SF-1.1|value": i / 10})
             for i in range(12)]  # 0.0 .. 1.1: the last is 110%, refused
    (tmp_path / "junk.xlsx").write_bytes(b"not a workbook")
    args = ["check", *map(str, files), str(tmp_path / "junk.xlsx"), "--json"]
    one = CliRunner().invoke(cli, [*args, "--jobs", "1"])
    two = CliRunner().invoke(cli, [*args, "--jobs", "2"])
    assert one.exit_code == two.exit_code == 1
    assert json.loads(one.output) == json.loads(two.output)
    statuses = [f["status"] for f in json.loads(two.output)["files"]]
    assert statuses[-2:] == ["rejected", "rejected"] and statuses.count("rejected") == 2


def test_two_files_that_differ_in_one_value_are_a_conflict(plan, tmp_path, sf_book):
    """docs/returns.md, outside a workspace: two files with different values for one sector are a conflict (unless
    --prefer-newest); two with the same values are one return. Here they differ only in one number."""
    same = {**SF_VALUES, **SF_ANALYSES, "SF-3.1|value": 0.5, "SF-3.1|analisi": "ritardo"}
    write(tmp_path / "a.xlsx", sf_book, same)
    write(tmp_path / "b.xlsx", sf_book, same)
    sf = next(s for s in consolidate([tmp_path], plan).sectors if s["code"] == "SF")
    assert sf["status"] != "conflict"
    write(tmp_path / "b.xlsx", sf_book, {**same, "SF-3.1|value": 0.6})
    sf = next(s for s in consolidate([tmp_path], plan).sectors if s["code"] == "SF")
    assert sf["status"] == "conflict" and sf["score"] is None


def test_a_released_submission_reads_its_values_as_before(plan, tmp_path, sf_book):
    """release() keeps what scoring and monitoring use: every indicator's values (now read-only mappings, read as
    the dicts they replace: looked up, iterated, missing) and which indicators had a refused value."""
    path = write(tmp_path / "sf.xlsx", sf_book, {**SF_VALUES, **SF_ANALYSES})
    sub = read_workbook(path, plan).sectors["SF"]
    before = {k: dict(v) for k, v in sub.values.items()}
    sub.release()
    assert before and {k: dict(v) for k, v in sub.values.items()} == before
    for k, want in before.items():
        got = sub.values[k]
        assert list(got) == list(want) and len(got) == len(want) and list(got.items()) == list(want.items())
        assert all(got[n] == v and got.get(n) == v for n, v in want.items())
        assert got.get("nessuno") is None and got.get("nessuno", 0) == 0 and "nessuno" not in got
        with pytest.raises(KeyError, match="nessuno"):
            got["nessuno"]
    bad = read_workbook(write(tmp_path / "bad.xlsx", sf_book, {**SF_VALUES, **SF_ANALYSES, "SF-1.1|value": "circa 80"}),
                        plan).sectors["SF"]
    bad.release()
    assert "SF-1.1" in bad.invalid and "SF-2.1" not in bad.invalid


def test_the_nucleo_s_workbook_counts_for_each_sector_it_measures(plan, tmp_path):
    """README: PIAO-<year>-Nucleo.xlsx holds the indicators of every sector whose value comes from the Nucleo, and
    `genera` never overwrites a file that already holds filled-in values; docs/errors.md: a refused value (WB-VALUE)
    and a value left empty (WB-MISSING) are named by file, sheet and cell, each once, on its own sector."""
    from piao_xls.returns.reader import why_keep

    book = source_workbook(plan, "nucleo")
    blank = tmp_path / "vuoto.xlsx"
    blank.write_bytes(render(book))
    assert why_keep(blank, plan) is None
    path = _nucleo(tmp_path, plan, {"SA-2.1|value": "circa 80", "SA-8.1|value": 1.0, "ST-2.1|value": 1.0,
                                    **NUCLEO_VALUES})  # AV-2.1 left empty
    res = read_workbook(path, plan)
    sheet = book.sheets[1]
    assert set(res.sectors) == {"SA", "SF", "ST", "AV"}
    assert all(s.sheet == sheet.name for s in res.sectors.values())
    where = {(f.code, f.cell): f for f in res.findings if f.severity == "error"}
    assert set(where) == {("WB-VALUE", sheet.inputs["SA-2.1|value"].ref), ("WB-MISSING", sheet.inputs["AV-2.1|value"].ref)}
    assert all(f.file == str(path) and f.sheet == sheet.name for f in where.values())
    assert {code for code, s in res.sectors.items() if s.has_errors} == {"SA", "AV"}
    assert why_keep(path, plan) == f"{path} contiene già 5 valori compilati"


def test_many_sector_workbook_keeps_its_identity(tmp_path):
    """Excel caps custom properties at 255 characters: a 100-sector workbook must still be identified."""
    import warnings

    from piao_xls.forms.layout import all_sectors_workbook
    from piao_xls.forms.samples import sample_values, synthetic_plan_yaml

    big, _ = parse_plan(synthetic_plan_yaml(100, 1, 1), "big.yaml")
    book = all_sectors_workbook(big)
    values = sample_values(book.sheets[1], seed=1, year=big.year)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # xlsxwriter warns (and drops the property) past 255 characters
        path = write(tmp_path / "big.xlsx", book, values)
    res = read_workbook(path, big)
    assert res.kind == "all" and res.sector_codes == ["S001"], [str(f) for f in res.findings]


def test_outside_a_workspace_results_never_land_among_the_forms(tmp_path, monkeypatch):
    """`generate` then `consolidate output/<year>` (no -o): the summary goes to output/<year>-risultati/, so a
    second consolidation of the forms' folder does not read the summary back as a returned form."""
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    assert runner.invoke(cli, ["generate", "-o", "output"]).exit_code == 0
    forms = sorted(p.name for p in (tmp_path / "output" / "2025").iterdir())
    for _ in range(2):
        r = runner.invoke(cli, ["consolidate", "output/2025", "--jobs", "1"])
        assert r.exit_code == 1, r.output  # empty forms: sectors not scored cleanly
        assert (tmp_path / "output" / "2025-risultati" / "PIAO-2025-Riepilogo.xlsx").is_file()
        assert sorted(p.name for p in (tmp_path / "output" / "2025").iterdir()) == forms
        assert f"{len(forms)} file letti" in r.output


def _cells(book):
    return [(s.name, s.parsed, s.outside, sorted((k, (c.value, c.formula, c.error, c.style)) for k, c in s.cells.items()))
            for s in book.sheets]


def test_the_four_ways_of_reading_a_sheet_give_the_same_cells(sf_filled, monkeypatch):
    """A sheet written the usual way is scanned with regular expressions; any other is read from
    ElementTree's C tree row by row; an unusual one walks the same tree as expat's events; one far larger
    than a form is streamed through expat. The four read the same cells, and the filled form is scanned."""
    from piao_xls.sheetio import book as bookmod
    from piao_xls.sheetio.safeopen import open_package

    package = open_package(sf_filled.read_bytes(), sf_filled.name, extent=False)
    areas = {s.name: (400, 7) for s in bookmod.read_book(package, {}).sheets}
    scanned: list[bool] = []
    scan = bookmod._xlsx_scan
    with monkeypatch.context() as m:
        m.setattr(bookmod, "_xlsx_scan", lambda *a: scanned.append(scan(*a)) or scanned[-1])
        rows = _cells(bookmod.read_book(package, areas))
    assert scanned == [True] * len(areas), scanned
    assert any(cells for *_, cells in rows)

    def odd(*_):
        raise bookmod._Odd

    with monkeypatch.context() as m:
        m.setattr(bookmod, "_xlsx_scan", lambda *_: False)
        assert _cells(bookmod.read_book(package, areas)) == rows
        m.setattr(bookmod, "_xlsx_rows", odd)
        assert _cells(bookmod.read_book(package, areas)) == rows
    with monkeypatch.context() as m:
        m.setattr(bookmod, "MAX_TREE", 0)
        assert _cells(bookmod.read_book(package, areas)) == rows


_MAIN_NS = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"


_SST_ITEMS = [
    b"<si><t>plain</t></si>",
    b"<si><t/></si>",
    b"<si/>",
    b'<si><t xml:space="preserve"> spaced </t></si>',
    b"<si><r><rPr><b/><sz val=\"11\"/></rPr><t>bold</t></r><r><t xml:space=\"preserve\"> and not</t></r></si>",
    b"<si><t>base</t><rPh sb=\"0\" eb=\"1\"><t>phonetic</t></rPh><phoneticPr fontId=\"1\"/></si>",
    b"<si><t>line_x000D_break _x005F_x0041_ _xD800_</t></si>",
    b"<si><foo><t>nested</t></foo></si>",
    b"<si><r><rPr><t>odd</t></rPr><t>run</t></r></si>",
    b"<si><t>a</t><t>b</t></si>",
    b"<si><t><b>x</b></t></si>",
    b"<si><ext/><t>after an unknown element</t></si>",
]


@pytest.mark.parametrize("n", range(len(_SST_ITEMS)))
def test_shared_strings_from_the_tree_equal_those_from_the_events(n):
    """Shared strings are read from ElementTree's C tree; an unusual structure from expat's events. Both give
    the same texts, for every item alone and for all items together."""
    from piao_xls.sheetio.book import _xlsx_shared_strings, _xlsx_shared_strings_events

    for items in ([_SST_ITEMS[n]], _SST_ITEMS[:n + 1]):
        xml = (b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="' + _MAIN_NS + b'">' + b"".join(items)
               + b"</sst>")
        assert _xlsx_shared_strings(xml) == _xlsx_shared_strings_events(xml)


_CELL_EDITS = [  # (pattern, replacement) applied to some cells of the sector sheet, chosen by a seeded generator
    (rb'<c r="[A-Z]+[0-9]+"', b"<c"),  # no reference: the next column
    (rb'<row r="[0-9]+"', b"<row"),  # no row number: the next row
    (rb' t="s"><v>([0-9]+)</v>', rb' t="s"><v> \1 </v>'),  # a shared index with spaces
    (rb' t="s"><v>[0-9]+</v>', b' t="s"><v>999999</v>'),  # a shared index that does not exist
    (rb'<v>([0-9.]+)</v>', rb'<v>\1e0</v>'),  # a number in exponent form
    (rb'<v>([0-9.]+)</v>', b"<v>1_000</v>"),  # a number no two programs read alike
    (rb' t="s"><v>[0-9]+</v>', b' t="str"><v>typed</v>'),  # a formula string
    (rb' t="s"><v>[0-9]+</v>', b' t="b"><v>1</v>'),  # a boolean
    (rb' t="s"><v>[0-9]+</v>', b' t="e"><v>#DIV/0!</v>'),  # an error value
    (rb' t="s"><v>[0-9]+</v>', b' t="d"><v>2025-03-01T00:00:00</v>'),  # an ISO date
    (rb' t="s"><v>[0-9]+</v>', b' t=""><v>odd</v>'),  # an empty type
    (rb' s="[0-9]+"', b' s="x"'),  # a style that is not a number
    (rb' s="[0-9]+"', b""),  # no style
    (rb"<f>", b"<f>1+"),  # a formula changed
    (rb"<v></v>", b""),  # a formula without a cached value
]


_SCAN_EDITS = [  # what the scan must hand over to the tree (or read as the tree does), as other programs write it
    (rb"</c><c ", b"</c>\n  <c "),  # white space between cells
    (rb'<c r="([A-Z]+[0-9]+)" s="([0-9]+)"', rb'<c s="\2" r="\1"'),  # attributes in another order
    (rb'<c r="([A-Z]+[0-9]+)"', rb'<c r="\1" cm="1"'),  # an attribute the scan does not know
    (rb'<c r="[A-Z]+[0-9]+"', b'<c r="A1"'),  # a cell written twice: the last one counts
    (rb"<f>", b'<f t="shared" ref="A1:A2" si="0">'),  # a shared formula (Excel)
    (rb"<f>[^<]*</f>", b'<f t="shared" si="0"/>'),  # a cell sharing it
    (rb"<f>", b'<f aca="false">'),  # LibreOffice
    (rb"<f>", b'<f t="array" t="array">'),  # an attribute written twice: not XML
    (rb"<f>", b'<f xmlns="urn:other">'),  # a formula in another namespace is no formula
    (rb'<worksheet xmlns="[^"]+"', b'<worksheet xmlns="urn:other"'),  # a sheet in another namespace has no cells
    (rb' t="s"><v>[0-9]+</v>', b' t="str"><v>\xc3\xa8</v>'),  # a non-ASCII text in the sheet itself
    (rb'<row r="([0-9]+)"', rb'<row r="\1" customFormat="false" hidden="false" outlineLevel="0" collapsed="false"'),
    (rb'<row r="([0-9]+)"', rb'<row r="\1" ht="12" ht="13"'),  # an attribute written twice: not XML
    (rb'<row r="([0-9]+)"', rb'<row r="\1" xmlns="urn:other"'),  # the row's cells in another namespace
    (rb'<row r="([0-9]+)"', rb'<row r="\1" x14ac:dyDescent="0.25"'),  # a prefix nobody declared: not XML
    (rb'<row r="[0-9]+"', b'<row r="1048577"'),  # a row beyond the grid
    (rb"<v>([0-9]+)</v>", rb"<v>&#49;\1</v>"),  # a character reference
    (rb' t="s"><v>[0-9]+</v>', b' t="str"><v>a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos;</v>'),  # entities
    (rb' t="s"><v>[0-9]+</v>', b' t="str"><v>&nbsp;</v>'),  # an entity XML does not define
    (rb' t="s"><v>[0-9]+</v>', b' t="str"><v><![CDATA[x<y]]></v>'),
    (rb' t="s"><v>[0-9]+</v>', b' t="str"><v>a\r\nb</v>'),  # a carriage return, normalised by XML
    (rb' t="s"><v>[0-9]+</v>', b' t="str"><v>a]]>b</v>'),  # not XML
    (rb' t="s"><v>[0-9]+</v>', b' t="str"><v>a\x01b</v>'),  # not an XML character
    (rb' t="s"><v>[0-9]+</v>', b' t="str"><v>\xc3\xa8 \xef\xbf\xbe</v>'),  # U+FFFE: not an XML character
    (rb' t="s"><v>[0-9]+</v>', b' t="str"><v>\xff</v>'),  # not UTF-8
    (rb' t="s"><v>[0-9]+</v>', b' t="inlineStr"><is><t>inline</t></is>'),  # an inline string
    (rb' t="s"><v>([0-9]+)</v>', rb' t="s"><v>\1</v><v>0</v>'),  # two values: the last one counts
    (rb"<v>", b'<v xml:space="preserve">'),
    (rb'encoding="UTF-8"', b'encoding="ISO-8859-1"'),  # the same bytes read as Latin-1
    (rb'(?s)encoding="UTF-8"(.*?<sheetData>.*?) t="s"><v>[0-9]+</v>', b'encoding="ISO-8859-1"\\1 t="str"><v>\xc3\xa8</v>'),
    (rb"<sheetData>", b"<!-- <sheetData> --><sheetData>"),
    (rb"</sheetData>", b'</sheetData><extLst><ext uri="x"><c r="A1"><v>1</v></c></ext></extLst>'),  # a cell outside
    (rb"<sheetData>", b'<sheetData xmlns:x14ac="http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac">'),
]


@pytest.mark.parametrize("seed", [*(-1 - i for i in range(len(_CELL_EDITS) + len(_SCAN_EDITS))), *range(12)])
def test_the_scan_the_row_walk_and_the_event_walk_agree_on_edited_cells(sf_filled, monkeypatch, seed):
    """The scan, the row-by-row walk of the C tree and the event walk read the same cells, or refuse with the
    same message, for sheets whose cells were edited in ways a program or a person could write them: each
    edit alone (negative seeds), then three together."""
    import random
    import re

    from zipmut import edit, parts

    from piao_xls.sheetio import book as bookmod
    from piao_xls.sheetio.safeopen import UnsafeFile, open_package

    rng = random.Random(seed)
    edits = _CELL_EDITS + _SCAN_EDITS
    data = sf_filled.read_bytes()
    members = parts(data)
    name = max((n for n in members if n.startswith("xl/worksheets/")), key=lambda n: len(members[n]))
    body = members[name]
    for pattern, replacement in [edits[-1 - seed]] if seed < 0 else rng.sample(edits, 3):
        spots = list(re.finditer(pattern, body))
        for m in sorted(rng.sample(spots, min(len(spots), rng.randint(1, 5))), key=lambda m: -m.start()):
            body = body[:m.start()] + m.expand(replacement) + body[m.end():]
    package = open_package(edit(data, {name: body}), sf_filled.name, extent=False)
    areas = {s.name: (400, 7) for s in bookmod.read_book(open_package(data, "x.xlsx", extent=False), {}).sheets}

    def read():
        try:
            return _cells(bookmod.read_book(package, areas))
        except UnsafeFile as e:
            return e.code, e.message

    rows = read()

    def odd(*_):
        raise bookmod._Odd

    monkeypatch.setattr(bookmod, "_xlsx_scan", lambda *_: False)
    assert read() == rows
    monkeypatch.setattr(bookmod, "_xlsx_rows", odd)
    assert read() == rows
    assert body != members[name]


def test_workbooks_saved_by_excel_and_libreoffice_are_scanned(monkeypatch):
    """The scan covers <sheetData> as Excel and LibreOffice write it (row attributes, <f aca="false">, shared
    formulas, the x14ac prefix declared on the root), and reads what the tree reads."""
    from zipmut import rezip

    from piao_xls.sheetio import book as bookmod
    from piao_xls.sheetio.safeopen import open_package

    root = ('<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" {}>')
    rows = {
        "excel": ('<row r="1" spans="1:3" ht="20.25" customHeight="1" x14ac:dyDescent="0.25"><c r="A1" s="1" t="s">'
                  '<v>0</v></c><c r="B1" s="2"><f t="shared" ref="B1:B2" si="0">A1&amp;"x"</f><v>7</v></c></row>'
                  '<row r="2" spans="1:3" x14ac:dyDescent="0.25"><c r="B2" s="2"><f t="shared" si="0"/><v>8</v></c>'
                  '<c r="C2" t="str"><f>IF(A1&lt;&gt;"",1,2)</f><v>&lt;1&gt;</v></c></row>',
                  'xmlns:x14ac="http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac"'),
        "libreoffice": ('<row r="1" customFormat="false" ht="20.25" hidden="false" customHeight="true" outlineLevel="0" '
                        'collapsed="false"><c r="A1" s="1" t="s"><v>0</v></c><c r="B1" s="2" t="n"><f aca="false">'
                        'SUM(1,2)</f><v>3</v></c><c r="C1" s="2"/></row><row r="3" customFormat="false" ht="12.8" '
                        'hidden="false" customHeight="false" outlineLevel="0" collapsed="false"/>', ""),
    }
    for program, (body, decl) in rows.items():
        sheet = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + root.format(decl)
                 + f"<sheetData>{body}</sheetData><mergeCells count=\"1\"><mergeCell ref=\"A3:C3\"/></mergeCells>"
                 "</worksheet>")
        data = rezip(_minimal_xlsx(sheet.encode()).items())
        package = open_package(data, f"{program}.xlsx", extent=False)
        scanned: list[bool] = []
        with monkeypatch.context() as m:
            m.setattr(bookmod, "_xlsx_scan", lambda *a, scan=bookmod._xlsx_scan, out=scanned: out.append(scan(*a))
                      or out[-1])
            got = _cells(bookmod.read_book(package, {"Foglio1": (10, 5)}))
        assert scanned == [True], program
        with monkeypatch.context() as m:
            m.setattr(bookmod, "_xlsx_scan", lambda *_: False)
            assert _cells(bookmod.read_book(package, {"Foglio1": (10, 5)})) == got, program
        cells = dict(got[0][3])
        assert cells[(0, 0)][0] == "etichetta", program
        if program == "excel":
            assert cells[(0, 1)][:2] == (7.0, 'A1&"x"') and cells[(1, 1)][:2] == (8.0, "=")
            assert cells[(1, 2)][:2] == ("<1>", 'IF(A1<>"",1,2)')
        else:
            assert cells[(0, 1)][:2] == (3.0, "SUM(1,2)") and (0, 2) in cells


def _minimal_xlsx(sheet: bytes) -> dict[str, bytes]:
    ct = b'http://schemas.openxmlformats.org/officeDocument/2006/relationships'
    return {
        "[Content_Types].xml": b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
                               b'package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.'
                               b'openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="'
                               b'application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/'
                               b'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName='
                               b'"/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
                               b'officedocument.spreadsheetml.worksheet+xml"/></Types>',
        "_rels/.rels": b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
                       b'package/2006/relationships"><Relationship Id="rId1" Type="' + ct + b'/officeDocument" '
                       b'Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": b'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/'
                           b'spreadsheetml/2006/main" xmlns:r="' + ct + b'"><sheets><sheet name="Foglio1" '
                           b'sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
                                      b'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="'
                                      + ct + b'/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" '
                                      b'Type="' + ct + b'/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
        "xl/sharedStrings.xml": b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/'
                                b'spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>etichetta</t></si></sst>',
        "xl/worksheets/sheet1.xml": sheet,
    }


def test_reader_leaves_layouts_untouched_and_forgets_them_with_the_layouts(plan, sf_filled):
    """The reader keeps what it derives from a layout beside it, not in it, and drops it with the layout."""
    import dataclasses
    import gc
    from functools import cached_property

    from piao_xls.forms.layout import SheetLayout
    from piao_xls.returns import reader

    assert read_workbook(sf_filled, plan).status == ACCEPTED
    sheets = [s for _, v in reader._LAYOUTS.values() for s in getattr(v, "sheets", [v]) if isinstance(s, SheetLayout)]
    assert sheets
    allowed = {f.name for f in dataclasses.fields(SheetLayout)}
    allowed |= {k for k, v in vars(SheetLayout).items() if isinstance(v, cached_property)}
    for s in sheets:
        assert set(vars(s)) <= allowed, set(vars(s)) - allowed
    assert reader._DERIVED
    del sheets, s
    reader._LAYOUTS.clear()
    gc.collect()
    assert reader._DERIVED == {}


DOCUMENTED_TEXT_CAP = 8_000_000  # docs/security.md: text materialised per file


def _text_book(tmp_path: Path, total: int, lo=None, writer: str = "openpyxl") -> Path:
    """A workbook whose first sheet holds ``total`` characters of cell text in distinct cells of A1:H400, written
    by openpyxl (inline strings: read through the tree) or xlsxwriter (shared strings: read by the scan)."""
    import random
    import string

    texts = []
    rng = random.Random(total)
    chunk, left = 32_000, total
    while left:  # distinct random texts: no sharing to lean on, and no compression ratio the guard would refuse
        n = min(chunk, left)
        texts.append("".join(rng.choices(string.ascii_letters, k=n)))
        left -= n
    path = tmp_path / f"text{total}-{writer}.xlsx"
    if writer == "xlsxwriter":
        import xlsxwriter

        book = xlsxwriter.Workbook(str(path))
        sheet = book.add_worksheet("Sheet")
        for i, text in enumerate(texts):
            sheet.write_string(i // 8, i % 8, text)
        book.close()
        return path
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    for i, text in enumerate(texts):
        ws.cell(i // 8 + 1, i % 8 + 1, text)
    wb.save(path)
    if lo is not None:  # the same sheet as LibreOffice saves it in OpenDocument
        with lo.open(path) as doc:
            path = doc.save_as(tmp_path / f"text{total}.ods", "ods")
    return path


@pytest.mark.parametrize("suffix", [".xlsx", "xlsxwriter", pytest.param(".ods", marks=pytest.mark.libreoffice)])
def test_the_text_cap_is_the_documented_one(tmp_path, request, suffix):
    """Up to the documented number of characters a sheet is read; one more and the file is refused (a sheet read
    through the tree, a sheet read by the scan, an OpenDocument sheet)."""
    from piao_xls.sheetio.book import read_book
    from piao_xls.sheetio.safeopen import UnsafeFile, open_package

    def read(total: int):
        path = _text_book(tmp_path, total, request.getfixturevalue("libreoffice") if suffix == ".ods" else None,
                          "xlsxwriter" if suffix == "xlsxwriter" else "openpyxl")
        package = open_package(path.read_bytes(), path.name, extent=False)
        return read_book(package, {"Sheet": (399, 7)})

    book = read(DOCUMENTED_TEXT_CAP)
    assert sum(len(c.value) for c in book.sheets[0].cells.values()) == DOCUMENTED_TEXT_CAP
    with pytest.raises(UnsafeFile, match="troppo testo"):
        read(DOCUMENTED_TEXT_CAP + 1)


@pytest.mark.parametrize("path", ["scan", "tree"])
def test_the_cells_stored_are_counted_over_the_whole_file(sf_filled, monkeypatch, path):
    """The cap on cells stored per file (MAX_STORED) counts every sheet of the file together, whichever way a
    sheet is read: one cell fewer than the file holds and it is refused, as many and it is read."""
    from piao_xls.sheetio import book as bookmod
    from piao_xls.sheetio.safeopen import UnsafeFile, open_package

    package = open_package(sf_filled.read_bytes(), sf_filled.name, extent=False)
    areas = {s.name: (400, 7) for s in bookmod.read_book(package, {}).sheets}
    if path == "tree":
        monkeypatch.setattr(bookmod, "_xlsx_scan", lambda *_: False)
    held = [len(s.cells) for s in bookmod.read_book(package, areas).sheets]
    assert len(held) == 2 and min(held) > 0
    monkeypatch.setattr(bookmod, "MAX_STORED", sum(held))
    assert [len(s.cells) for s in bookmod.read_book(package, areas).sheets] == held
    monkeypatch.setattr(bookmod, "MAX_STORED", sum(held) - 1)
    with pytest.raises(UnsafeFile, match="troppe celle"):
        bookmod.read_book(package, areas)


def test_a_boolean_cell_reads_as_spreadsheets_read_it(tmp_path):
    """t="b" holds 1 or 0 by the standard; other numbers are TRUE for Excel, LibreOffice and openpyxl alike."""
    import re

    from openpyxl import Workbook
    from zipmut import edit, parts

    from piao_xls.sheetio.book import read_book
    from piao_xls.sheetio.safeopen import open_package

    wb = Workbook()
    for r in range(6):
        wb.active.cell(r + 1, 1, True)
    wb.save(tmp_path / "b.xlsx")
    data = (tmp_path / "b.xlsx").read_bytes()
    sheet = parts(data)["xl/worksheets/sheet1.xml"]

    def with_raws(raws: list[bytes]) -> bytes:
        it = iter(raws)
        body = re.sub(rb'(t="b"[^>]*><v>)1(</v>)', lambda m: m.group(1) + next(it) + m.group(2), sheet, count=len(raws))
        return edit(data, {"xl/worksheets/sheet1.xml": body})

    def ours(raws: list[bytes]) -> list[object]:
        book = read_book(open_package(with_raws(raws), "b.xlsx", extent=False), {"Sheet": (10, 2)})
        return [book.sheets[0].cells[(r, 0)].value for r in range(len(raws))]

    assert ours([b"2", b"-1", b"0", b"0.0", b"true", b"FALSE"]) == [True, True, False, False, True, False]
    (tmp_path / "b2.xlsx").write_bytes(with_raws([b"2", b"-1", b"0", b"1"]))  # openpyxl reads integers only
    theirs = [c.value for (c,) in load_workbook(tmp_path / "b2.xlsx").active.iter_rows(max_row=4)]
    assert theirs == ours([b"2", b"-1", b"0", b"1"]) == [True, True, False, True]


@pytest.mark.parametrize(("prop", "value", "words"), [
    ("piao_layout_version", "2", "il file appartiene a un'altra versione del modulo («2», atteso «3»)"),
    ("piao_year", "2024", "il file appartiene a un altro anno («2024», atteso «2025»)"),
])
def test_a_form_of_another_layout_or_year_is_refused_in_good_italian(plan, tmp_path, sf_filled, prop, value, words):
    """A form made by an earlier build has its cells elsewhere: it is refused by its identity, not read as a
    tampered form; the message says which version it is and which one is expected."""
    import re

    from zipmut import edit, parts

    data = sf_filled.read_bytes()
    custom = parts(data)["docProps/custom.xml"]
    pattern = re.compile(rb'(name="' + prop.encode() + rb'"[^>]*>\s*<vt:lpwstr>)[^<]*(</vt:lpwstr>)')
    assert pattern.search(custom), custom[:300]
    out = tmp_path / "old.xlsx"
    out.write_bytes(edit(data, {"docProps/custom.xml": pattern.sub(rb"\g<1>" + value.encode() + rb"\g<2>", custom)}))
    res = read_workbook(out, plan)
    assert res.status == REJECTED
    assert [f.code for f in res.findings] == ["WB-IDENTITY"] and words in res.findings[0].message


@pytest.mark.parametrize("kind", ["SA", "SF", "ST", "AV", "nucleo", "esterno", "all"])
def test_a_sheet_nobody_touched_is_cleared_by_whole_sheet_comparisons(plan, tmp_path, monkeypatch, kind):
    """README (Reading returned workbooks): "A sheet nobody touched is cleared by whole-sheet comparisons"; the
    cell-by-cell check runs only when something differs. Every form of the bundled plan, with values typed in
    every input, takes the whole-sheet path on every sheet, weights such as 7,69% and 11,11% included (they are
    not stored as the layout computes them: 0.07690000000000001 against 0.0769)."""
    from piao_xls.forms.layout import all_sectors_workbook
    from piao_xls.forms.samples import sample_values
    from piao_xls.returns import reader

    book = (all_sectors_workbook(plan) if kind == "all" else source_workbook(plan, kind) if kind in ("nucleo", "esterno")
            else sector_workbook(plan, plan.sector(kind)))
    values: dict = {}
    for i, sheet in enumerate(book.sheets[1:]):
        values.update(sample_values(sheet, seed=i, year=plan.year))
    path = tmp_path / book.filename
    path.write_bytes(render(book, prefill=values))
    untouched, cleared = reader._untouched, []
    monkeypatch.setattr(reader, "_untouched", lambda *a: cleared.append(untouched(*a)) or cleared[-1])
    assert read_workbook(path, plan).status == ACCEPTED
    assert cleared == [True] * len(book.sheets)


@pytest.mark.parametrize(("text", "read"), [
    ("_x0041_b", "Ab"), ("_x00e9_", "é"), ("_x005F_x0041_", "_x0041_"),  # _x005F_ escapes the underscore itself
    ("_xD7FF_", "\ud7ff"), ("_xD800_", "\ufffd"), ("_xDFFF_", "\ufffd"), ("_xE000_", "\ue000"),  # a lone surrogate
    ("_x41_", "_x41_"), ("senza", "senza"),                                                   # is no character
])
def test_ooxml_escapes_in_cell_text(text, read):
    """ECMA-376 (ST_Xstring): a character XML cannot hold is written _xHHHH_ (four hex digits); the surrogates
    D800-DFFF are not characters and read as U+FFFD (docs/security.md: text is read as the spreadsheet shows it)."""
    from piao_xls.sheetio.book import unescape_ooxml

    assert unescape_ooxml(text) == read


@pytest.mark.parametrize(("ref", "at"), [("A1", (0, 0)), ("E12", (11, 4)), ("XFD1048576", (1048575, 16383)),
                                         ("XFE1", None), ("A1048577", None), ("A0", None), ("1A", None)])
def test_cell_references_inside_excels_grid(ref, at):
    """Excel's grid is A1:XFD1048576 (docs/security.md: a cell beyond it is refused); its last cell is a reference
    of ten characters."""
    from piao_xls.sheetio.book import _ref

    assert _ref(ref) == at


def test_what_the_reader_expects_is_what_the_layout_writes(plan):
    """The reader's expectations of a sheet (one pass over the layout's cells) hold what the layout itself says:
    its labels with a value, in order; every formula; the look of every cell but the inputs; the positions that
    may hold a value; the last row a cell or its merge covers. Every sheet of the bundled plan, with its merges."""
    from piao_xls.forms.layout import instructions_sheet, source_sheet
    from piao_xls.forms.layout import sector_sheet as build_sector_sheet
    from piao_xls.returns.reader import _expected

    layouts = [build_sector_sheet(plan, s) for s in plan.sectors] + [source_sheet(plan, "nucleo"),
                                                                     instructions_sheet(plan, "sector")]
    assert any(c.merge_to for lay in layouts for c in lay.cells)
    for lay in layouts:
        exp = _expected(lay)
        inputs = {(c.row, c.col) for c in lay.inputs.values()}
        assert exp.labels == lay.label_values and exp.label_at == [(r, c) for r, c, _ in lay.label_values]
        assert exp.label_want == [v for _, _, v in lay.label_values]
        assert exp.formulas == {(c.row, c.col): (c.formula or "").removeprefix("=") for c in lay.formulas}
        assert exp.looked == {(c.row, c.col): c.style for c in lay.cells if (c.row, c.col) not in inputs}
        assert exp.allowed == {(c.row, c.col) for c in lay.cells
                               if c.kind != "label" or c.value not in (None, "")} | inputs
        assert exp.last_row == lay.last_row == max(c.merge_to[0] if c.merge_to else c.row for c in lay.cells)
