"""OpenDocument files saved by real LibreOffice, then edited at the package level: the look of a locked
cell, repeat attributes, hidden sheets, formulas; each a finding naming sheet and cell (issue 11)."""

from __future__ import annotations

import re

import pytest
import zipmut
from scenario import SF_ANALYSES, SF_VALUES

from piao_xls.forms.layout import sector_workbook
from piao_xls.returns.reader import ACCEPTED, REJECTED, read_workbook

pytestmark = pytest.mark.libreoffice
SHEET = "SF - Finanziario"
TARGET = "Accertamento del 100% delle somme stanziate nel Bilancio 2025"


@pytest.fixture(scope="module")
def sf_ods(tmp_path_factory, bundled_dir, libreoffice, plan):
    out = tmp_path_factory.mktemp("ods")
    layout = sector_workbook(plan, plan.sector("SF")).sheets[1]
    with libreoffice.open(bundled_dir / "PIAO-2025-SF-Finanziario.xlsx") as doc:
        plain = {**SF_ANALYSES, "SF-6.1|analisi": "accertamenti in corso"}
        for key, value in {**SF_VALUES, **plain}.items():
            doc.set_value(SHEET, layout.inputs[key].ref, value)
        doc.recalc()
        return doc.save_as(out / "PIAO-2025-SF-Finanziario.ods", "ods").read_bytes()


def _with_style(content: bytes, text: str, props: bytes) -> bytes:
    """Give the cell showing ``text`` a new automatic style with ``props``."""
    style = (b'<style:style style:name="evil" style:family="table-cell">' + props + b"</style:style>")
    content = content.replace(b"</office:automatic-styles>", style + b"</office:automatic-styles>", 1)
    at = content.index(b"<text:p>" + text.encode())
    start = content.rindex(b"<table:table-cell", 0, at)
    tag_end = content.index(b">", start)
    tag = content[start:tag_end]
    new = re.sub(rb' table:style-name="[^"]*"', b"", tag) + b' table:style-name="evil"'
    return content[:start] + new + content[tag_end:]


def _read(tmp_path, plan, data: bytes):
    path = tmp_path / "PIAO-2025-SF-Finanziario.ods"
    path.write_bytes(data)
    return read_workbook(path, plan)


def test_saved_file_is_accepted(plan, tmp_path, sf_ods):
    res = _read(tmp_path, plan, sf_ods)
    assert res.status == ACCEPTED, [str(f) for f in res.findings]


@pytest.mark.parametrize("props, words", [
    (b'<style:text-properties fo:color="#ffffff"/>', "stesso colore dello sfondo"),
    (b'<style:table-cell-properties fo:background-color="#ff0000"/>', "colore di sfondo"),
    (b'<style:text-properties fo:font-size="2pt"/>', "troppo piccolo"),
])
def test_the_look_of_a_locked_cell_in_ods(plan, tmp_path, sf_ods, props, words):
    p = zipmut.parts(sf_ods)
    p["content.xml"] = _with_style(p["content.xml"], TARGET, props)
    res = _read(tmp_path, plan, zipmut.rezip(p))
    assert res.status == REJECTED
    ref = next(c.ref for c in sector_workbook(plan, plan.sector("SF")).sheets[1].cells if c.value == TARGET)
    assert any(f.code == "WB-TAMPERED" and f.cell == ref and words in f.message for f in res.findings), [
        str(f) for f in res.findings]


def test_a_data_style_with_fixed_text_in_ods(plan, tmp_path, sf_ods):
    """A weight of 20% shown as "50%": a percentage style whose number is replaced by fixed text."""
    p = zipmut.parts(sf_ods)
    content = p["content.xml"]
    fake = (b'<number:number-style style:name="Nfake"><number:text>50%</number:text></number:number-style>')
    content = content.replace(b"<office:automatic-styles>", b"<office:automatic-styles>" + fake, 1)
    m = re.search(rb'<table:table-cell table:style-name="([^"]+)" office:value-type="percentage" '
                  rb'office:value="0.2"', content)
    assert m, "a 20% weight cell"
    start = content.index(b'<style:style style:name="' + m.group(1) + b'"')
    end = content.index(b">", start)
    tag = re.sub(rb' style:data-style-name="[^"]*"', b"", content[start:end]) + b' style:data-style-name="Nfake"'
    content = content[:start] + tag + content[end:]
    p["content.xml"] = content
    res = _read(tmp_path, plan, zipmut.rezip(p))
    assert res.status == REJECTED
    assert any(f.code == "WB-TAMPERED" and "formato numerico" in f.message for f in res.findings), [
        str(f) for f in res.findings]


def test_hidden_sheet_in_ods(plan, tmp_path, sf_ods):
    p = zipmut.parts(sf_ods)
    content = p["content.xml"]
    style = (b'<style:style style:name="hid" style:family="table"><style:table-properties table:display="false"/>'
             b"</style:style>")
    content = content.replace(b"</office:automatic-styles>", style + b"</office:automatic-styles>", 1)
    content = re.sub(rb'(<table:table table:name="Istruzioni" table:style-name=")[^"]*"', rb'\1hid"', content)
    p["content.xml"] = content
    res = _read(tmp_path, plan, zipmut.rezip(p))
    assert res.status == REJECTED and any("nascosto" in f.message for f in res.findings)


def test_repeat_attributes_in_entity_form_read_the_same(plan, tmp_path, sf_ods):
    """number-columns-repeated written with character references is the same count for every XML reader."""
    p = zipmut.parts(sf_ods)
    content = p["content.xml"]
    n = 0

    def encode(m):
        nonlocal n
        n += 1
        return m.group(1) + b"".join(b"&#%d;" % ch for ch in m.group(2)) + b'"'
    p["content.xml"] = re.sub(rb'(table:number-columns-repeated=")([0-9]+)"', encode, content)
    assert n
    res = _read(tmp_path, plan, zipmut.rezip(p))
    base = _read(tmp_path, plan, sf_ods)
    assert res.status == base.status == ACCEPTED
    assert res.sectors["SF"].raw == base.sectors["SF"].raw
