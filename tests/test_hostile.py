"""Safe opening of hostile returned files, injection-safe outputs, atomic outputs, light start-up.

Every returned workbook is untrusted: each case below must end in exactly one finding with a
stable code (WB-UNSAFE or WB-OPEN), never a traceback, an expansion or a hang.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import random
import resource
import signal
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import pytest
import zipmut
from scenario import NUCLEO_VALUES, SF_ANALYSES, SF_VALUES

from piao_xls.forms.layout import sector_workbook, source_workbook
from piao_xls.forms.writer import render
from piao_xls.results.consolidate import consolidate
from piao_xls.results.summary import FORMULA_LEAD, write_csv, write_json, write_summary
from piao_xls.returns import reader
from piao_xls.returns.reader import ACCEPTED, REJECTED, read_workbook
from piao_xls.sheetio import safeopen
from piao_xls.sheetio.safeopen import Limits

ROOT = Path(__file__).resolve().parent.parent
SHEET_PART = "xl/worksheets/sheet2.xml"  # the sector sheet (sheet1 is Istruzioni)


@pytest.fixture(scope="module")
def sf_bytes(plan) -> bytes:
    return render(sector_workbook(plan, plan.sector("SF")), prefill={**SF_VALUES, **SF_ANALYSES})


def _read(tmp_path, plan, name, data, limits=None):
    path = tmp_path / name
    path.write_bytes(data)
    t = time.perf_counter()
    res = read_workbook(path, plan, limits)
    assert time.perf_counter() - t < 5
    return res


def _one(res, code, *words):
    assert res.status == REJECTED
    assert [f.code for f in res.findings] == [code], [str(f) for f in res.findings]
    for w in words:
        assert w in res.findings[0].message, res.findings[0].message
    return res.findings[0]


def test_valid_file_still_accepted(plan, tmp_path, sf_bytes):
    assert _read(tmp_path, plan, "PIAO-2025-SF-Finanziario.xlsx", sf_bytes).status == ACCEPTED


# --- size and container -------------------------------------------------------------------

def test_file_over_the_size_cap(plan, tmp_path, sf_bytes):
    _one(_read(tmp_path, plan, "sf.xlsx", sf_bytes, Limits(max_size=10_000)), "WB-UNSAFE", "troppo grande")
    big = tmp_path / "big.xlsx"
    with open(big, "wb") as fh:  # sparse: 21 MB on disk cost nothing, never read
        fh.truncate(safeopen.MAX_SIZE + 1024 * 1024)
    res = read_workbook(big, plan)
    _one(res, "WB-UNSAFE", "troppo grande", "massimo 20 MB")
    assert res.size == big.stat().st_size
    # the size as an Italian reads it: a comma before the decimals (21 MB: "21", 21.5 MB: "21,5")
    with open(big, "wb") as fh:
        fh.truncate(safeopen.MAX_SIZE + 1024 * 1024 + 512 * 1024)
    _one(read_workbook(big, plan), "WB-UNSAFE", "file troppo grande (21,5 MB, massimo 20 MB)")


def test_a_pipe_named_like_a_workbook_does_not_block(plan, tmp_path):
    fifo = tmp_path / "pipe.xlsx"
    os.mkfifo(fifo)
    _one(read_workbook(fifo, plan), "WB-OPEN", "non è un file regolare")


def test_limits_are_threaded_through_consolidate(plan, tmp_path, sf_bytes):
    (tmp_path / "sf.xlsx").write_bytes(sf_bytes)
    c = consolidate([tmp_path], plan, limits=Limits(max_size=10_000))
    assert [f["code"] for f in c.findings if f["file"].endswith("sf.xlsx")] == ["WB-UNSAFE"]
    assert consolidate([tmp_path], plan).results[0].status == ACCEPTED


@pytest.mark.parametrize(("name", "data", "code", "words"), [
    ("notes.xlsx", b"just text, no zip", "WB-OPEN", "non è una cartella di lavoro"),
    ("empty.xlsx", b"", "WB-OPEN", "non è una cartella di lavoro"),
    ("doc.xlsx", zipmut.rezip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w/>"}), "WB-OPEN",
     "né un foglio OpenDocument"),
    ("text.ods", zipmut.rezip({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<x/>"}),
     "WB-OPEN", "non è un foglio di calcolo"),
    ("old.xls", safeopen.OLE_MAGIC + "Workbook".encode("utf-16-le") + b"\0" * 500, "WB-OPEN", ".xlsx"),
    ("old.xlsx", safeopen.OLE_MAGIC + "Workbook".encode("utf-16-le") + b"\0" * 500, "WB-OPEN", "Excel 97-2003"),
    ("binary.xlsb", zipmut.rezip({"[Content_Types].xml": b"<Types/>", "xl/workbook.bin": b"\0"}), "WB-OPEN",
     "Cartella di lavoro di Excel (.xlsx)"),
    ("renamed.xlsx", zipmut.rezip({"[Content_Types].xml": b"<Types/>", "xl/workbook.bin": b"\0"}), "WB-OPEN",
     ".xlsb"),
    ("secret.xlsx", safeopen.OLE_MAGIC + b"\0" * 64 + "EncryptionInfo".encode("utf-16-le") + b"\0" * 64
     + "EncryptedPackage".encode("utf-16-le"), "WB-OPEN", "salvarlo senza password"),
])
def test_not_a_workbook(plan, tmp_path, name, data, code, words):
    f = _one(_read(tmp_path, plan, name, data), code, words)
    assert f.file.endswith(name)


def test_encrypted_message_is_the_one_asked_for(plan, tmp_path):
    data = safeopen.OLE_MAGIC + "EncryptionInfo".encode("utf-16-le")
    _one(_read(tmp_path, plan, "p.xlsx", data), "WB-OPEN", "file protetto da password di apertura: "
         "salvarlo senza password")


def test_zip_encrypted_member(plan, tmp_path, sf_bytes):
    data = bytearray(sf_bytes)
    pos = data.index(b"PK\x01\x02")
    data[pos + 8] |= 1  # "encrypted" flag of the first central directory entry
    _one(_read(tmp_path, plan, "enc.xlsx", bytes(data)), "WB-OPEN", "password")


# --- zip bombs ------------------------------------------------------------------------------

def test_too_many_members(plan, tmp_path, sf_bytes):
    p = zipmut.parts(sf_bytes)
    p.update({f"xl/junk/{i}.xml": b"<a/>" for i in range(safeopen.MAX_MEMBERS)})
    _one(_read(tmp_path, plan, "many.xlsx", zipmut.rezip(p)), "WB-UNSAFE", "troppe parti")


def test_compression_ratio(plan, tmp_path, sf_bytes):
    data = zipmut.edit(sf_bytes, {"xl/media/pad.bin": b"\0" * (8 * 1024 * 1024)})  # ~1000:1
    _one(_read(tmp_path, plan, "ratio.xlsx", data), "WB-UNSAFE", "rapporto di compressione", "zip bomb")


def test_total_uncompressed_size(plan, tmp_path, sf_bytes):
    data = zipmut.edit(sf_bytes, {"xl/media/pad.bin": random.Random(1).randbytes(3 * 1024 * 1024)})
    res = _read(tmp_path, plan, "total.xlsx", data, Limits(max_uncompressed=2 * 1024 * 1024))
    _one(res, "WB-UNSAFE", "decompresso troppo grande")


def test_lying_header_is_read_with_a_bounded_read(plan, tmp_path, sf_bytes):
    """The directory says 1 KB; the member inflates to 64 MB: rejected after 1 KB + 1 byte."""
    data = zipmut.edit(sf_bytes, {"xl/media/pad.bin": b"\0" * (64 * 1024 * 1024)})
    data = zipmut.patch_declared_size(data, "xl/media/pad.bin", 1024)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    _one(_read(tmp_path, plan, "liar.xlsx", data), "WB-UNSAFE", "oltre la dimensione dichiarata")
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 32 * 1024  # KB: nothing inflated


def test_overlapping_members(plan, tmp_path, sf_bytes):
    data = zipmut.alias_member(sf_bytes, SHEET_PART, "xl/worksheets/sheet9.xml")
    _one(_read(tmp_path, plan, "overlap.xlsx", data), "WB-UNSAFE", "sovrapposte")


def test_duplicated_part(plan, tmp_path, sf_bytes):
    items = list(zipmut.parts(sf_bytes).items())
    sheet = dict(items)[SHEET_PART]
    items.append((SHEET_PART, sheet.replace(b"<v>0.9</v>", b"<v>1</v>")))  # a second, different copy
    _one(_read(tmp_path, plan, "dup.xlsx", zipmut.rezip(items)), "WB-UNSAFE", "duplicata")
    items[-1] = (SHEET_PART.upper(), sheet)
    _one(_read(tmp_path, plan, "dupcase.xlsx", zipmut.rezip(items)), "WB-UNSAFE", "duplicata")


def test_damaged_member_checksum(plan, tmp_path, sf_bytes):
    data = zipmut.rezip(zipmut.parts(sf_bytes), compress=zipfile.ZIP_STORED)
    pos = data.index(b"piao_plan_id")
    data = data[:pos] + b"X" + data[pos + 1:]  # stored bytes changed, CRC now wrong
    _one(_read(tmp_path, plan, "crc.xlsx", data), "WB-OPEN", "danneggiata")


# --- sheets spanning an enormous area (python-calamine allocates the whole bounding box) -----

def _ods(table: bytes) -> bytes:
    content = (b'<?xml version="1.0" encoding="UTF-8"?><office:document-content '
               b'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
               b'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"><office:body><office:spreadsheet>'
               b'<table:table table:name="S">' + table + b"</table:table></office:spreadsheet></office:body>"
               b"</office:document-content>")
    return zipmut.rezip({"mimetype": safeopen.ODS_MIMETYPE, "content.xml": content})


@pytest.mark.parametrize(("extra", "far", "words"), [
    (b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>', "XFD1048576", "1.048.576 righe x 16.384 colonne"),
    (b'<row r="1048576"><c><v>1</v></c></row>', "A1048576", "1.048.576 righe"),  # a cell placed by its row only
    (b'<row r="200000"><c r="ZZ200000"><v>1</v></c></row>', "ZZ200000", "200.000 righe x 702 colonne"),
    (b"<row r = '1048576'><c\nr = 'XFD1048576' s=\"1\"/></row>", None, "16.384 colonne"),  # empty: nothing to read
])
def test_cell_far_away_is_a_finding_and_costs_nothing(plan, tmp_path, sf_bytes, extra, far, words):
    """One value in XFD1048576 made python-calamine ask for 550 GB and abort the whole process. The reader
    stores only the form's area: the far cell is a finding naming it, found in a few milliseconds."""
    sheet = zipmut.parts(sf_bytes)[SHEET_PART].replace(b"</sheetData>", extra + b"</sheetData>")
    data = zipmut.edit(sf_bytes, {SHEET_PART: sheet})
    t = time.perf_counter()
    res = _read(tmp_path, plan, "far.xlsx", data)
    assert time.perf_counter() - t < 1.0
    if far is None:
        assert res.status == ACCEPTED, [str(f) for f in res.findings]
    else:
        assert res.status == REJECTED and not res.sectors
        assert any(f.code == "WB-TAMPERED" and f.cell == far and "fuori dall'area" in f.message for f in res.findings)
    with pytest.raises(safeopen.UnsafeFile, match=words):  # the guard in front of python-calamine (plan workbooks)
        safeopen.open_package(data, "far.xlsx")


@pytest.mark.parametrize(("table", "far"), [
    (b'<table:table-row table:number-rows-repeated="1048575"><table:table-cell table:number-columns-repeated="16384"/>'
     b'</table:table-row><table:table-row><table:table-cell table:number-columns-repeated="16383"/>'
     b'<table:table-cell office:value-type="float" office:value="1"/></table:table-row>', (1048575, 16383)),
    (b'<table:table-row table:number-rows-repeated="100000"><table:table-cell table:number-columns-repeated="1000" '
     b'office:value-type="float" office:value="1"/></table:table-row>', (0, 8)),
    (b'<table:table-row table:number-rows-repeated="&#49;00000"><table:table-cell table:number-columns-repeated='
     b"'&#x31;000' office:value-type=\"float\" office:value=\"1\"/></table:table-row>", (0, 8)),  # entity forms
])
def test_ods_repeated_rows_and_columns_cost_nothing(table, far):
    from piao_xls.sheetio.book import read_book

    package = safeopen.open_package(_ods(table), "far.ods", extent=False)
    t = time.perf_counter()
    book = read_book(package, {"S": (200, 7)})
    assert time.perf_counter() - t < 1.0
    sheet = book.sheet("S")
    assert sheet.outside == far
    assert len(sheet.cells) <= 201 * 8
    with pytest.raises(safeopen.UnsafeFile, match="area enorme"):
        safeopen.open_package(_ods(table.replace(b"&#49;", b"1").replace(b"'&#x31;000'", b'"1000"')), "far.ods")


def test_ods_empty_repeats_are_fine(plan, tmp_path):
    """LibreOffice ends every sheet with empty rows repeated to the last row: not a problem."""
    table = (b'<table:table-row><table:table-cell office:value-type="float" office:value="1"/></table:table-row>'
             b'<table:table-row table:number-rows-repeated="1048575"><table:table-cell '
             b'table:number-columns-repeated="16384"/></table:table-row>')
    res = _read(tmp_path, plan, "ok.ods", _ods(table))
    assert [f.code for f in res.findings] == ["WB-IDENTITY"]  # past the guard: no properties in this one


def test_no_second_library_reads_a_returned_file(plan, tmp_path, sf_bytes, monkeypatch):
    """One parse: the values scored are those the guard's package holds, read once (python-calamine,
    openpyxl and zipfile never open the returned bytes on the reading path)."""
    import zipfile

    import openpyxl
    import python_calamine

    def never(*_a, **_k):
        raise AssertionError("a second parser opened the returned file")

    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_filelike", never)
    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_path", never)
    monkeypatch.setattr(openpyxl, "load_workbook", never)
    real = zipfile.ZipFile

    def once(*a, **k):  # the guard reads the directory once; nobody else may
        calls.append(1)
        return real(*a, **k)
    calls: list[int] = []
    monkeypatch.setattr(zipfile, "ZipFile", once)
    path = tmp_path / "PIAO-2025-SF-Finanziario.xlsx"
    path.write_bytes(sf_bytes)
    res = read_workbook(path, plan)
    assert res.status in ("accepted", "accepted_with_warnings"), [str(f) for f in res.findings]
    assert len(calls) == 1


def test_unknown_workbook_kind_is_an_identity_error(plan, tmp_path, sf_bytes):
    custom = zipmut.parts(sf_bytes)["docProps/custom.xml"].replace(b">sector<", b">all-of-them<")
    _one(_read(tmp_path, plan, "k.xlsx", zipmut.edit(sf_bytes, {"docProps/custom.xml": custom})), "WB-IDENTITY",
         "tipo di modulo")


def _with_property(custom: bytes, name: str, value: str | None) -> bytes:
    """docProps/custom.xml with the property ``name`` set to ``value`` (None: the property left out)."""
    import re

    pat = re.compile(rb'<property [^>]*name="' + name.encode() + rb'"><vt:lpwstr>[^<]*</vt:lpwstr></property>')
    assert pat.search(custom), name
    if value is None:
        return pat.sub(b"", custom, count=1)
    return pat.sub(lambda m: re.sub(rb"<vt:lpwstr>[^<]*<", b"<vt:lpwstr>" + value.encode() + b"<", m.group(0)),
                   custom, count=1)


@pytest.mark.parametrize(("name", "value", "words"), [
    ("piao_plan_id", None, "non è un modulo generato da piao-xls"),
    ("piao_plan_id", "altro-piano-2025", "altro-piano-2025"),
    ("piao_year", "2024", "anno"),
    ("piao_layout_version", "0", "versione del modulo"),
    ("piao_fingerprint", "0" * 64, "truccazzano-2025"),
    ("piao_fingerprint", None, "truccazzano-2025"),
    ("piao_sectors", "SF,XX", "XX"),
    ("piao_kind", None, "tipo di modulo"),
])
def test_a_form_of_another_plan_year_or_version_is_an_identity_error(plan, tmp_path, sf_bytes, name, value, words):
    """README: a file of another plan, or of another version of the plan, is rejected with a WB-IDENTITY
    finding naming that plan; docs/security.md: identity is the document properties (plan, year, layout
    version, fingerprint). A form naming a sector the plan does not have is no form of this plan either."""
    custom = _with_property(zipmut.parts(sf_bytes)["docProps/custom.xml"], name, value)
    found = _one(_read(tmp_path, plan, "id.xlsx", zipmut.edit(sf_bytes, {"docProps/custom.xml": custom})),
                 "WB-IDENTITY", words)
    assert found.file == str(tmp_path / "id.xlsx")


def test_damaged_document_properties_are_one_wb_open(plan, tmp_path, sf_bytes):
    """A properties part that is no well-formed XML: the file cannot be read as a workbook (WB-OPEN,
    docs/errors.md), one finding naming the file, never a traceback (this module's rule)."""
    found = _one(_read(tmp_path, plan, "p.xlsx", zipmut.edit(sf_bytes, {"docProps/custom.xml": b"<Properties"})),
                 "WB-OPEN", "danneggiato")
    assert found.file == str(tmp_path / "p.xlsx") and found.severity == "error"


# --- macros ---------------------------------------------------------------------------------

def test_macros_are_refused(plan, tmp_path, sf_bytes):
    _one(_read(tmp_path, plan, "m.xlsx", zipmut.edit(sf_bytes, {"xl/vbaProject.bin": b"\0" * 64})), "WB-UNSAFE",
         "macro")
    ct = zipmut.parts(sf_bytes)["[Content_Types].xml"].replace(
        b"sheet.main+xml", b"sheet.macroEnabled.main+xml")
    _one(_read(tmp_path, plan, "ct.xlsx", zipmut.edit(sf_bytes, {"[Content_Types].xml": ct})), "WB-UNSAFE", "macro")
    _one(_read(tmp_path, plan, "PIAO-2025-SF.xlsm", sf_bytes), "WB-UNSAFE", "macro", ".xlsx")
    ods = zipmut.rezip({"mimetype": safeopen.ODS_MIMETYPE, "content.xml": b"<x/>",
                        "Basic/Standard/Module1.xml": b"<script/>"})
    _one(_read(tmp_path, plan, "m.ods", ods), "WB-UNSAFE", "macro")


# --- XML entities: defusedxml on our parsing path, quick-xml in calamine ---------------------

def _laughs(root: bytes) -> bytes:
    return zipmut.BILLION_LAUGHS + root.replace(b">", b">&lol9;", 1)


def test_reader_parses_xml_with_defusedxml():
    from defusedxml import EntitiesForbidden

    safeopen.assert_defused_xml()
    with pytest.raises(EntitiesForbidden):
        safeopen.parse_xml(_laughs(b"<Properties></Properties>"))


@pytest.mark.parametrize("part", ["docProps/custom.xml", "docProps/core.xml", "xl/workbook.xml", SHEET_PART,
                                  "xl/sharedStrings.xml", "[Content_Types].xml"])
def test_billion_laughs_in_any_part_is_refused(plan, tmp_path, sf_bytes, part):
    body = zipmut.parts(sf_bytes)[part]
    body = _laughs(body.split(b"?>", 1)[1].lstrip()) if body.startswith(b"<?xml") else _laughs(body)
    _one(_read(tmp_path, plan, "laughs.xlsx", zipmut.edit(sf_bytes, {part: body})), "WB-UNSAFE", "DTD")


def test_billion_laughs_in_properties_raises_entities_forbidden_when_parsed(plan, sf_bytes):
    """Behind the guard, the properties parser itself refuses the entities (a clear finding, no expansion)."""
    from defusedxml import EntitiesForbidden

    custom = zipmut.parts(sf_bytes)["docProps/custom.xml"].split(b"?>", 1)[1].lstrip()
    data = zipmut.edit(sf_bytes, {"docProps/custom.xml": _laughs(custom)})
    with pytest.raises(EntitiesForbidden):
        reader.read_properties(io.BytesIO(data))
    meta = b'<office:document-meta xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"/>'
    ods = zipmut.rezip({"mimetype": safeopen.ODS_MIMETYPE, "content.xml": b"<x/>", "meta.xml": _laughs(meta)})
    with pytest.raises(EntitiesForbidden):
        reader.read_properties(io.BytesIO(ods))
    package = safeopen.Package("xlsx", data, zipmut.parts(data))  # as if the guard had missed it
    with pytest.raises(reader._Reject) as e:
        reader._identify(Path("x.xlsx"), plan, package)
    assert e.value.args[0].code == "WB-UNSAFE" and "EntitiesForbidden" in e.value.args[0].message


def test_calamine_does_not_expand_a_billion_laughs_sheet(tmp_path, sf_bytes):
    """python-calamine parses sheets itself (quick-xml): bypassing the guard, a billion-laughs sheet
    must neither blow up memory (capped at 1 GB here, the expansion would need ~3 GB) nor time."""
    body = zipmut.parts(sf_bytes)[SHEET_PART].split(b"?>", 1)[1].lstrip()
    body = zipmut.BILLION_LAUGHS + body.replace(b"<v>0.9</v>", b"<v>&lol9;</v>", 1)
    path = tmp_path / "laughs.xlsx"
    path.write_bytes(zipmut.edit(sf_bytes, {SHEET_PART: body}))
    code = textwrap.dedent(f"""
        import resource, time, python_calamine
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
        t = time.perf_counter()
        try:
            wb = python_calamine.CalamineWorkbook.from_path({str(path)!r})
            rows = wb.get_sheet_by_name("SF - Finanziario").to_python()
            out = "parsed, %d laughs" % sum(str(v).count("lol") for r in rows for v in r)
        except Exception as e:
            out = "error " + type(e).__name__
        # the peak of this program's own memory: Linux carries ru_maxrss over from the process that started it
        # (a large test process), /proc's VmHWM is this program's alone
        try:
            peak = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
        except (OSError, StopIteration):
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(out, "|", round(time.perf_counter() - t, 2), "|", peak)
    """)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    outcome, seconds, rss_kb = (x.strip() for x in p.stdout.split("|"))
    assert float(seconds) < 5 and int(rss_kb) < 400 * 1024, p.stdout  # the expansion would need ~3 GB
    if outcome.startswith("parsed"):
        assert int(outcome.split()[1]) < 10  # the entity was not expanded


# --- outputs are injection-safe -------------------------------------------------------------

HOSTILE_TEXTS = ["=HYPERLINK(\"http://x.invalid\",\"clic\")", "=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)",
                 "\tTAB", "ok\x07bell\x1bescape\x00nul", "\u202edestra-sinistra\u200f 😀 emoji\x85\u2067"]


def test_outputs_never_hold_formulas_or_control_characters(plan, tmp_path):
    from openpyxl import load_workbook

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    analyses = dict(zip(SF_ANALYSES, HOSTILE_TEXTS, strict=False))
    sf = sector_workbook(plan, plan.sector("SF"))
    (inbox / "PIAO-2025-SF.xlsx").write_bytes(render(sf, prefill={**SF_VALUES, **analyses}))
    (inbox / "PIAO-2025-Nucleo.xlsx").write_bytes(render(source_workbook(plan, "nucleo"), prefill={
        **NUCLEO_VALUES, "SF-2.1|analisi": "=1+1\x01" + "😀" * 1000}))
    weird = inbox / os.fsdecode(b"=cmd|calc \xe0\xff\x01.xlsx")  # not UTF-8, a control character, a formula
    weird.write_bytes(b"garbage")
    (inbox / "fattura\u202excod.xlsx").write_bytes(b"garbage")  # shows as "fatturadocx.xlsx" if obeyed
    c = consolidate([inbox], plan)
    msg = "«" + "😀" * 20000 + "\x00»"  # a 40,000 UTF-16 unit message: must be cut, not dropped
    c.found.append(dataclasses.replace(c.found[0], message=msg, file="=HYPERLINK(\"x\")"))
    out = tmp_path / "out"
    write_summary(c, out / "s.xlsx")
    write_json(c, out / "r.json")
    write_csv(c, out / "csv")
    wb = load_workbook(out / "s.xlsx")
    cells = [cell for ws in wb.worksheets for row in ws.iter_rows() for cell in row]
    assert [x.coordinate for x in cells if x.data_type == "f"] == []
    texts = [x.value for x in cells if isinstance(x.value, str)]
    for t in texts:
        assert len(t.encode("utf-16-le")) // 2 <= 32767
        assert all(ch in "\t\n" or ord(ch) >= 32 for ch in t), repr(t)
        assert not _reordering_or_c1(t), repr(t)  # shown as escapes, never obeyed
        assert "_x00" not in t, repr(t)  # no escaped control characters either
    joined = "\n".join(texts)
    assert HOSTILE_TEXTS[1] in joined and "=HYPERLINK(\"x\")" in joined  # kept as text
    assert "fattura\\u202excod.xlsx" in joined  # the override is visible
    assert any(t.startswith("«😀") for t in texts)  # the long message is there, cut
    assert sum(1 for t in texts if "=cmd|calc" in t) >= 2  # the odd file is in Fonti and Anomalie
    data = json.loads((out / "r.json").read_text(encoding="utf-8"))
    assert any("=cmd|calc" in s["path"] for s in data["sources"])
    for name in ("sectors", "objectives", "indicators", "findings", "sources"):
        with open(out / "csv" / f"{name}.csv", newline="", encoding="utf-8") as fh:
            for row in list(csv.reader(fh))[1:]:
                for v in row:
                    assert not v.startswith(FORMULA_LEAD) or _is_number(v), (name, v)  # -3 stays a number
                    assert all(ch in "\t\n" or ord(ch) >= 32 for ch in v) and not _reordering_or_c1(v)


def _reordering_or_c1(text: str) -> bool:
    """A C1 control character or a character that reorders the text after it (bidirectional override)."""
    return any(0x80 <= ord(ch) < 0xA0 or 0x202A <= ord(ch) <= 0x202E or 0x2066 <= ord(ch) <= 0x2069 for ch in text)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_check_with_feedback_survives_a_file_name_that_is_not_utf8(plan, tmp_path):
    from click.testing import CliRunner

    from piao_xls.cli import cli

    odd = tmp_path / os.fsdecode(b"PIAO-\xe0\xff.xlsx")
    odd.write_bytes(b"junk")
    r = CliRunner().invoke(cli, ["check", str(odd), "--feedback", str(tmp_path / "fb")])
    assert r.exit_code == 1 and (r.exception is None or isinstance(r.exception, SystemExit)), r.exception
    notes = list((tmp_path / "fb").iterdir())
    assert len(notes) == 1 and "DA CORREGGERE" in notes[0].read_text(encoding="utf-8")


# --- nothing lost: a killed consolidation leaves the previous summary whole -----------------

def _summary_ok(path: Path, label: str) -> None:
    from openpyxl import load_workbook

    assert zipfile.ZipFile(path).testzip() is None, label
    wb = load_workbook(path, read_only=True)  # a valid, openable workbook
    assert [n for n in wb.sheetnames if n != "Decisioni"] == ["Riepilogo", "Obiettivi", "Indicatori", "Anomalie", "Fonti",
                                                              "Grafici"], label
    wb.close()


def test_killed_consolidation_keeps_the_previous_summary(tmp_path):
    """SIGKILL `piao-xls consolidate` while it rewrites a big summary: the old one stays whole."""
    from piao_xls.forms.samples import synthetic_plan_yaml

    plan_file = tmp_path / "big.yaml"
    plan_file.write_text(synthetic_plan_yaml(60, 10, 3), encoding="utf-8")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "x.xlsx").write_bytes(b"not a workbook")
    out = tmp_path / "out" / "riepilogo.xlsx"
    args = ["consolidate", str(inbox), "--plan", str(plan_file), "-o", str(out), "--jobs", "1"]
    cmd = [sys.executable, "-m", "piao_xls.cli", *args]
    t = time.perf_counter()
    subprocess.run(cmd, capture_output=True, check=False, timeout=300)
    full = time.perf_counter() - t
    _summary_ok(out, "first run")
    assert out.stat().st_size > 100_000
    rng = random.Random(7)
    for i in range(6):  # at random times over the whole run
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.05, 1.1) * full)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        _summary_ok(out, f"kill {i}")
    # and exactly in the middle of the write: the new bytes are in the temporary file, not yet renamed
    marker = tmp_path / "writing"
    hook = textwrap.dedent(f"""
        import os, sys, time
        def stalled_fsync(fd):
            open({str(marker)!r}, "w").close()
            time.sleep(60)
        os.fsync = stalled_fsync
        sys.argv = ["piao-xls", *{args!r}]
        from piao_xls.cli import main
        main()
    """)
    (inbox / "y.xlsx").write_bytes(b"another bad file: the new summary differs")
    previous = out.read_bytes()
    proc = subprocess.Popen([sys.executable, "-c", hook], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert marker.exists()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert out.read_bytes() == previous
    _summary_ok(out, "kill during write")
    leftovers = [p for p in out.parent.iterdir() if p.name.endswith(".tmp")]
    assert leftovers and all(p.stat().st_size > 100_000 for p in leftovers)  # the new data was being written
    # the next complete run replaces the summary and removes what the killed writer left behind
    subprocess.run(cmd, capture_output=True, check=False, timeout=300)
    _summary_ok(out, "after the kill")
    assert out.read_bytes() != previous
    assert not [p for p in out.parent.iterdir() if p.name.endswith(".tmp")]


# --- progress bar: on a terminal only --------------------------------------------------------

def _run_on_a_terminal(args: list[str], cwd: Path) -> str:
    import pty

    pid, fd = pty.fork()
    if pid == 0:  # the child: stdin, stdout and stderr are the terminal
        os.chdir(cwd)
        os.execv(sys.executable, [sys.executable, "-m", "piao_xls.cli", *args])
    out = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    os.waitpid(pid, 0)
    return out.decode("utf-8", "replace")


def test_progress_bar_on_a_terminal_and_not_otherwise(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for i in range(25):
        (inbox / f"f{i:02d}.xlsx").write_bytes(b"not a workbook")
    args = ["consolidate", str(inbox), "-o", str(tmp_path / "s.xlsx"), "--jobs", "1"]
    assert "lettura" in _run_on_a_terminal(args, tmp_path)
    assert "lettura" not in _run_on_a_terminal([*args, "--json"], tmp_path)  # JSON on stdout: no progress bar
    p = subprocess.run([sys.executable, "-m", "piao_xls.cli", *args], capture_output=True, text=True, cwd=tmp_path)
    assert "lettura" not in p.stderr and "25 file letti" in p.stdout


# --- start-up stays light -------------------------------------------------------------------

@pytest.mark.parametrize("args", [["--help"], ["plan", "check"], ["consolidate", "--help"]])
def test_help_and_plan_check_do_not_import_pandas_or_openpyxl(args):
    code = textwrap.dedent(f"""
        import sys, atexit
        atexit.register(lambda: sys.__stderr__.write("MODULES " + ",".join(
            m for m in ("pandas", "openpyxl", "numpy", "xlsxwriter", "python_calamine") if m in sys.modules)))
        sys.argv = ["piao-xls", *{args!r}]
        from piao_xls.cli import main
        main()
    """)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert p.returncode in (0, 1), p.stderr
    loaded = p.stderr.rsplit("MODULES ", 1)[1].strip().split(",")
    assert "pandas" not in loaded and "openpyxl" not in loaded and "numpy" not in loaded, loaded
