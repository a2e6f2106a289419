"""Zip and workbook ambiguity (issue 11, section 1): what two programs could read differently is a finding.

Each case starts from a valid returned workbook of the real writer and changes only the container
or the package, so that Excel, LibreOffice and a zip tool could each see another content.
"""

from __future__ import annotations

import pytest
import zipmut
from scenario import SF_ANALYSES, SF_VALUES

from piao_xls.forms.layout import sector_workbook
from piao_xls.forms.writer import render
from piao_xls.returns.reader import ACCEPTED, REJECTED, read_workbook
from piao_xls.sheetio.safeopen import ODS_MIMETYPE

SHEET = "SF - Finanziario"


@pytest.fixture(scope="module")
def sf_bytes(plan) -> bytes:
    return render(sector_workbook(plan, plan.sector("SF")), prefill={**SF_VALUES, **SF_ANALYSES})


def _read(tmp_path, plan, data: bytes, name: str = "PIAO-2025-SF-Finanziario.xlsx"):
    path = tmp_path / name
    path.write_bytes(data)
    return read_workbook(path, plan)


def _refused(res, code: str, words: str):
    assert res.status == REJECTED and not res.sectors
    assert any(f.code == code and words in f.message for f in res.findings), [str(f) for f in res.findings]


def test_valid_file_is_accepted(plan, tmp_path, sf_bytes):
    assert _read(tmp_path, plan, sf_bytes).status == ACCEPTED


def test_two_end_records(plan, tmp_path, sf_bytes):
    decoy = zipmut.rezip({"a.txt": b"another archive"})
    _refused(_read(tmp_path, plan, decoy + sf_bytes), "WB-UNSAFE", "più di un indice")


@pytest.mark.parametrize("tail", [b"x", b"\0" * 100, b"PK\x03\x04 trailing"])
def test_data_after_the_end(plan, tmp_path, sf_bytes, tail):
    _refused(_read(tmp_path, plan, sf_bytes + tail), "WB-UNSAFE", "dopo la fine")


def test_zip_comment(plan, tmp_path, sf_bytes):
    _refused(_read(tmp_path, plan, zipmut.with_comment(sf_bytes, b"hello")), "WB-UNSAFE", "commento")


def test_local_name_differs_from_the_directory(plan, tmp_path, sf_bytes):
    data = zipmut.rename_local(sf_bytes, "xl/worksheets/sheet2.xml", "xl/worksheets/sheet9.xml")
    _refused(_read(tmp_path, plan, data), "WB-UNSAFE", "due nomi")


def test_unicode_path_extra_field(plan, tmp_path, sf_bytes):
    data = zipmut.unicode_path(zipmut.parts(sf_bytes), "xl/worksheets/sheet2.xml", "xl/worksheets/sheet1.xml")
    _refused(_read(tmp_path, plan, data), "WB-UNSAFE", "Unicode Path")


@pytest.mark.parametrize("dup", ["xl/worksheets/sheet2.xml", "XL/Worksheets/Sheet2.xml"])
def test_duplicate_member_names(plan, tmp_path, sf_bytes, dup):
    items = [*zipmut.parts(sf_bytes).items(), (dup, b"<worksheet/>")]
    _refused(_read(tmp_path, plan, zipmut.rezip(items)), "WB-UNSAFE", "duplicata")


def test_member_the_package_does_not_reference(plan, tmp_path, sf_bytes):
    data = zipmut.edit(sf_bytes, {"xl/worksheets/sheet3.xml": zipmut.parts(sf_bytes)["xl/worksheets/sheet2.xml"]})
    _refused(_read(tmp_path, plan, data), "WB-UNSAFE", "non rimanda")


def test_office_document_relationship_elsewhere(plan, tmp_path, sf_bytes):
    """A second main workbook part: Excel would read one, another program the other."""
    p = zipmut.parts(sf_bytes)
    p["xl/workbook2.xml"] = p["xl/workbook.xml"]
    p["xl/_rels/workbook2.xml.rels"] = p["xl/_rels/workbook.xml.rels"]
    rel = (b'<Relationship Id="rId99" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
           b'officeDocument" Target="xl/workbook2.xml"/>')
    p["_rels/.rels"] = p["_rels/.rels"].replace(b"</Relationships>", rel + b"</Relationships>")
    _refused(_read(tmp_path, plan, zipmut.rezip(p)), "WB-UNSAFE", "xl/workbook.xml")


def test_two_sheets_on_one_part(plan, tmp_path, sf_bytes):
    p = zipmut.parts(sf_bytes)
    p["xl/_rels/workbook.xml.rels"] = p["xl/_rels/workbook.xml.rels"].replace(b"worksheets/sheet1.xml",
                                                                              b"worksheets/sheet2.xml")
    p.pop("xl/worksheets/sheet1.xml")
    res = _read(tmp_path, plan, zipmut.rezip(p))
    assert res.status == REJECTED and not res.sectors
    assert any("stessa parte" in f.message for f in res.findings), [str(f) for f in res.findings]


def test_sheet_without_its_relationship(plan, tmp_path, sf_bytes):
    p = zipmut.parts(sf_bytes)
    p["xl/workbook.xml"] = p["xl/workbook.xml"].replace(b'r:id="rId2"', b'r:id="rId99"')
    res = _read(tmp_path, plan, zipmut.rezip(p))
    assert res.status == REJECTED and not res.sectors
    assert any("relazioni" in f.message for f in res.findings), [str(f) for f in res.findings]


@pytest.mark.parametrize("twin", ["SF - Finanziario ", "sf - finanziario", "ＳＦ - Finanziario", "SF  -  Finanziario"])
def test_sheet_names_a_person_cannot_tell_apart(plan, tmp_path, sf_bytes, twin):
    p = zipmut.parts(sf_bytes)
    p["xl/workbook.xml"] = p["xl/workbook.xml"].replace(b'name="Istruzioni"', f'name="{twin}"'.encode())
    res = _read(tmp_path, plan, zipmut.rezip(p))
    assert res.status == REJECTED and not res.sectors
    assert any(f.code == "WB-TAMPERED" and "stesso nome" in f.message for f in res.findings)


def test_ods_part_missing_from_the_manifest(plan, tmp_path):
    manifest = (b'<?xml version="1.0"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:'
                b'manifest:1.0"><manifest:file-entry manifest:full-path="/"/><manifest:file-entry '
                b'manifest:full-path="content.xml"/></manifest:manifest>')
    data = zipmut.rezip({"mimetype": ODS_MIMETYPE, "content.xml": b"<x/>", "META-INF/manifest.xml": manifest,
                         "hidden.xml": b"<x/>"})
    _refused(_read(tmp_path, plan, data, "a.ods"), "WB-UNSAFE", "manifesto")
