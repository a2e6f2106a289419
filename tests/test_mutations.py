"""Mutation suite: thousands of damaged returned workbooks, each read and consolidated.

Valid returned workbooks of the bundled plan (every kind: per sector, all sectors, Nucleo,
external) are damaged at random (seeded: a failure prints the seed and the variant id) at the
zip level (byte flips, truncation, removed, duplicated, renamed or swapped parts, lying headers)
and at the XML level (broken XML, retyped cells, absurd values, unicode, very long texts, rows and
sheets moved, edited properties, DTDs, macros). For every variant ``consolidate`` (hence
``read_workbook``) must end normally, under a time cap, with a status for the file; the input is
never modified; and every value used for a score is the raw cell judged by docs/inputs.md (tests/value_oracle.py).
The scores are checked against tests/oracle.py, the scoring rules as docs/scoring.md states them (not
the engine). Batches of variants are then consolidated together: the summary accounts for every file, runs
are repeatable and ``--jobs 2`` gives the same results as one process.

Reproduce: PIAO_MUTATION_SEED=<seed> PIAO_MUTATION_ONLY=<id,id> python3 -m pytest tests/test_mutations.py
Size: PIAO_MUTATIONS=<count> (default 2000).
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import random
import re
import resource
import signal
import time
import traceback
import zipfile
from collections import Counter, defaultdict
from pathlib import Path

import oracle
import pytest
import tamper_agree
import zipmut
from scenario import NUCLEO_VALUES, SF_ANALYSES, SF_VALUES
from value_oracle import accepted

from piao_xls.forms.layout import all_sectors_workbook, sector_sheet, sector_workbook, source_workbook
from piao_xls.forms.samples import sample_values
from piao_xls.forms.writer import render
from piao_xls.results.consolidate import consolidate
from piao_xls.returns.reader import ACCEPTED, ACCEPTED_WITH_WARNINGS, REJECTED

SEED = int(os.environ.get("PIAO_MUTATION_SEED", "20251"))
COUNT = int(os.environ.get("PIAO_MUTATIONS", "2000"))
ONLY = [int(x) for x in os.environ.get("PIAO_MUTATION_ONLY", "").split(",") if x.strip()]
TIME_CAP = 2.0  # CPU seconds per file: a hostile file must not make the reader work for long
HANG_CAP = 30.0  # wall-clock seconds per file: a file that never ends (the machine may be busy: CPU time decides)
BATCH = 100
STATUSES = {ACCEPTED, ACCEPTED_WITH_WARNINGS, REJECTED}


# --- the valid returned workbooks ------------------------------------------------------------

class Base:
    def __init__(self, name: str, book, values: dict):
        self.name = name
        self.data = render(book, prefill=values)
        self.parts = zipmut.parts(self.data)
        # xlsxwriter writes sheet i to xl/worksheets/sheet<i>.xml
        self.sheets = [(f"xl/worksheets/sheet{i}.xml", s) for i, s in enumerate(book.sheets, 1) if s.kind != "instructions"]


def build_bases(plan) -> list[Base]:
    out = [Base("SF", sector_workbook(plan, plan.sector("SF")), {**SF_VALUES, **SF_ANALYSES})]
    for i, code in enumerate(("SA", "ST", "AV")):
        book = sector_workbook(plan, plan.sector(code))
        out.append(Base(code, book, sample_values(book.sheets[1], seed=i, year=plan.year)))
    for source in ("nucleo", "esterno"):
        book = source_workbook(plan, source)
        values = sample_values(book.sheets[1], seed=3, year=plan.year)
        if source == "nucleo":
            values.update(NUCLEO_VALUES)
        out.append(Base(source.upper(), book, values))
    book = all_sectors_workbook(plan)
    values = {}
    for s in book.sheets[1:]:
        values.update(sample_values(s, seed=5, year=plan.year))
    out.append(Base("ALL", book, values))
    return out


# --- mutation operators: (rng, base) -> (bytes, file suffix, description) ----------------------

ABSURD_NUMBERS = ["1e308", "-1e308", "1.7976931348623157e308", "-0", "0", "5e-324", "NaN", "nan", "inf", "-inf",
                  "2958465", "2958466", "-1", "-693594", "99999999999999999999999999", "1e-7", "0x10", "1,5", "",
                  " 12 ", "1e", "--1", "12%"]
ABSURD_TEXTS = ["NaN", "Infinity", "-0", "1e308", "31/12/9999", "00/00/0000", "29/02/2025", "1/1/2025", "TRUE",
                "#N/A", "#DIV/0!", "Err:502", "Sì", "no", "VERO", " ", "=1+1", "+39 02 1234", "@SUM(A1)",
                "100%", "1.000,50", "1 000", "٣", "１２", "𝟙𝟚"]
UNICODE = ["\u202eRTL override\u202c", "\u200f\u200e\u2066isolato\u2069", "😀🎉👩‍👩‍👧", "e\u0301\u0301\u0301", "\ufeffBOM",
           "_x0000_", "_x0007_campanello", "_xD800_", "\u2028riga\u2029paragrafo", "ℌ𝔢𝔩𝔩𝔬", "\uffff\ufffe", "Ω≈ç√∫",
           "Ⅻ", "\u00a0\u2003\u3000", "ـــ", "\x7f"]


def _data_sheet(rng, base: Base):
    part, layout = rng.choice(base.sheets)
    return part, layout, base.parts[part]


def _input_ref(rng, layout):
    key = rng.choice(list(layout.inputs))
    return key, layout.inputs[key].ref


def _with_sheet(base: Base, part: str, xml: bytes) -> bytes:
    return zipmut.edit(base.data, {part: xml})


def op_flip_bytes(rng, base):
    d = bytearray(base.data)
    for _ in range(rng.randint(1, 24)):
        i = rng.randrange(len(d))
        d[i] ^= 1 << rng.randrange(8)
    return bytes(d), ".xlsx", "flip bytes"


def op_flip_directory(rng, base):
    d = bytearray(base.data)
    start = d.rindex(b"PK\x01\x02")
    for _ in range(rng.randint(1, 6)):
        i = rng.randrange(max(0, start - 2000), len(d))
        d[i] = rng.randrange(256)
    return bytes(d), ".xlsx", "flip directory bytes"


def op_truncate(rng, base):
    return base.data[:rng.randrange(len(base.data))], ".xlsx", "truncate"


def op_junk(rng, base):
    junk = rng.randbytes(rng.randint(1, 4096))
    where = rng.choice(["prepend", "append", "middle"])
    if where == "prepend":
        return junk + base.data, ".xlsx", "prepend junk"
    if where == "append":
        return base.data + junk, ".xlsx", "append junk"
    i = rng.randrange(len(base.data))
    return base.data[:i] + junk + base.data[i:], ".xlsx", "insert junk"


def op_remove_part(rng, base):
    name = rng.choice(list(base.parts))
    return zipmut.edit(base.data, {name: None}), ".xlsx", f"remove {name}"


def op_duplicate_part(rng, base):
    name = rng.choice(list(base.parts))
    items = list(base.parts.items())
    body = base.parts[name]
    if rng.random() < 0.5 and len(body) > 10:
        i = rng.randrange(len(body))
        body = body[:i] + body[i + 1:]
    items.insert(rng.randrange(len(items) + 1), (name if rng.random() < 0.7 else name.upper(), body))
    return zipmut.rezip(items), ".xlsx", f"duplicate {name}"


def op_rename_or_swap_parts(rng, base):
    p = dict(base.parts)
    a, b = rng.sample(list(p), 2)
    if rng.random() < 0.5:
        p[a], p[b] = p[b], p[a]
        return zipmut.rezip(p), ".xlsx", f"swap {a} {b}"
    body = p.pop(a)
    p[rng.choice([a.upper(), a + ".bak", "xl/" + a.rsplit("/", 1)[-1], a.replace("sheet", "Sheet")])] = body
    return zipmut.rezip(p), ".xlsx", f"rename {a}"


def op_lying_size(rng, base):
    name = rng.choice(list(base.parts))
    size = rng.choice([0, 1, len(base.parts[name]) - 1, len(base.parts[name]) + 1, 2**31, 2**32 - 1])
    return zipmut.patch_declared_size(base.data, name, max(0, size)), ".xlsx", f"lying size {name}"


def op_alias(rng, base):
    name = rng.choice(list(base.parts))
    return zipmut.alias_member(base.data, name, name + "x"), ".xlsx", f"alias {name}"


def op_equivalent(rng, base):
    """Semantically unchanged packages: stored instead of deflated, members reordered, an unknown part."""
    how = rng.choice(["stored", "reorder", "extra part"])
    if how == "stored":
        return zipmut.rezip(base.parts, compress=zipfile.ZIP_STORED), ".xlsx", "equivalent: stored"
    if how == "reorder":
        items = list(base.parts.items())
        rng.shuffle(items)
        return zipmut.rezip(items), ".xlsx", "equivalent: reordered"
    rel = (b'<Relationship Id="rId99" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
           b'customXml" Target="customXml/item1.xml"/>')
    rels = base.parts["_rels/.rels"].replace(b"</Relationships>", rel + b"</Relationships>")
    return (zipmut.edit(base.data, {"customXml/item1.xml": b"<note>ok</note>", "_rels/.rels": rels}), ".xlsx",
            "equivalent: extra part")


# --- generators per class of ambiguity and tampering (issue 11): each variant must be rejected ------

def op_zip_ambiguity(rng, base):
    """Two programs could read another content: the guard must refuse, never choose."""
    how = rng.choice(["two end records", "comment", "trailing", "local name", "unicode path", "unreferenced",
                      "case duplicate"])
    if how == "two end records":
        return zipmut.rezip({"decoy.txt": rng.randbytes(50)}) + base.data, ".xlsx", "ambiguous: two end records"
    if how == "comment":
        return zipmut.with_comment(base.data, rng.randbytes(rng.randint(1, 200))), ".xlsx", "ambiguous: comment"
    if how == "trailing":
        return base.data + rng.randbytes(rng.randint(1, 300)), ".xlsx", "ambiguous: trailing data"
    name = rng.choice([n for n in base.parts if "/" in n])
    if how == "local name":
        other = name[:-5] + ("y" if name[-5] != "y" else "z") + name[-4:]
        return zipmut.rename_local(base.data, name, other), ".xlsx", f"ambiguous: local name {name}"
    if how == "unicode path":
        shown = rng.choice([n for n in base.parts if n != name])
        return zipmut.unicode_path(base.parts, name, shown), ".xlsx", f"ambiguous: unicode path {name}"
    if how == "unreferenced":
        extra = rng.choice(["xl/worksheets/sheet9.xml", "xl/evil.xml", "customXml/item1.xml", "docProps/x.xml"])
        return zipmut.edit(base.data, {extra: base.parts[base.sheets[0][0]]}), ".xlsx", f"ambiguous: unreferenced {extra}"
    items = [*base.parts.items(), (name.swapcase(), base.parts[name])]
    return zipmut.rezip(items), ".xlsx", f"ambiguous: case duplicate {name}"


def op_workbook_ambiguity(rng, base):
    wbx = base.parts["xl/workbook.xml"]
    sheets = re.findall(rb"<sheet [^>]*/>", wbx)
    victim = sheets[0]
    target = re.search(rb'name="([^"]*)"', sheets[-1]).group(1).decode()
    how = rng.choice(["twin name", "hidden", "very hidden", "same part"])
    if how == "twin name":
        twin = rng.choice([target.upper(), target + " ", " " + target, target.replace(" ", "  "),
                           "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in target)])
        new = wbx.replace(victim, re.sub(rb'name="[^"]*"', b'name="' + zipmut.xml_escape(twin) + b'"', victim), 1)
        return zipmut.edit(base.data, {"xl/workbook.xml": new}), ".xlsx", "ambiguous: twin sheet name"
    if how in ("hidden", "very hidden"):
        state = b"hidden" if how == "hidden" else b"veryHidden"
        new = wbx.replace(victim, victim.replace(b"/>", b' state="' + state + b'"/>'), 1)
        return zipmut.edit(base.data, {"xl/workbook.xml": new}), ".xlsx", f"ambiguous: {how} sheet"
    rels = base.parts["xl/_rels/workbook.xml.rels"].replace(b"worksheets/sheet1.xml", b"worksheets/sheet2.xml")
    return (zipmut.edit(base.data, {"xl/_rels/workbook.xml.rels": rels, "xl/worksheets/sheet1.xml": None}), ".xlsx",
            "ambiguous: two sheets on one part")


def op_look(rng, base):
    """The look of a locked label cell changed: a custom format, white or tiny text, another fill."""
    part, layout, xml = _data_sheet(rng, base)
    cell = rng.choice([c for c in layout.labels if c.row < layout.last_row])
    styles = base.parts["xl/styles.xml"]
    how = rng.choice(["format", "white", "tiny", "fill"])
    font = b'<font><sz val="10"/><color rgb="FF000000"/><name val="Calibri"/></font>'
    fill = b""
    fmt = b""
    if how == "format":
        code = rng.choice(['"50%"', ";;;", '0"0"', "#,##0.00 \\x", '"Raggiunto"'])
        fmt = b'<numFmt numFmtId="190" formatCode="' + zipmut.xml_escape(code).replace(b'"', b"&quot;") + b'"/>'
    elif how == "white":
        font = b'<font><sz val="10"/><color rgb="FFFFFFFF"/><name val="Calibri"/></font>'
    elif how == "tiny":
        font = b'<font><sz val="1"/><name val="Calibri"/></font>'
    else:
        fill = b'<fill><patternFill patternType="solid"><fgColor rgb="FF00FF00"/></patternFill></fill>'
    n_fonts = int(re.search(rb'<fonts count="(\d+)"', styles).group(1))
    n_fills = int(re.search(rb'<fills count="(\d+)"', styles).group(1))
    n_xfs = int(re.search(rb'<cellXfs count="(\d+)"', styles).group(1))
    new = styles.replace(b"</fonts>", font + b"</fonts>").replace(b"</fills>", fill + b"</fills>")
    if fmt:
        new = new.replace(b"<numFmts", b"<numFmts", 1) if b"<numFmts" in new else new.replace(
            b"<fonts", b'<numFmts count="0"></numFmts><fonts', 1)
        new = new.replace(b"</numFmts>", fmt + b"</numFmts>", 1)
    xf = (b'<xf numFmtId="' + (b"190" if fmt else b"0") + b'" fontId="' + str(n_fonts).encode() + b'" fillId="'
          + (str(n_fills).encode() if fill else b"0") + b'" borderId="0" applyNumberFormat="1" applyFont="1"/>')
    new = new.replace(b"</cellXfs>", xf + b"</cellXfs>", 1)
    try:
        el = re.search(rb'<c r="' + cell.ref.encode() + rb'"[^>]*?(?:/>|>.*?</c>)', xml, re.S).group(0)
    except AttributeError:
        raise KeyError(cell.ref) from None
    el2 = re.sub(rb' s="\d+"', b' s="' + str(n_xfs).encode() + b'"', el, count=1)
    if b' s="' not in el2:
        el2 = el2.replace(b"<c ", b'<c s="' + str(n_xfs).encode() + b'" ', 1)
    return (zipmut.edit(base.data, {part: xml.replace(el, el2, 1), "xl/styles.xml": new}), ".xlsx",
            f"tampered: look ({how}) {cell.ref}")


def op_encodings(rng, base):
    """References and repeats in forms a reader may not expect; read the same or refused, never misplaced."""
    part, _layout, xml = _data_sheet(rng, base)
    how = rng.choice(["entity ref", "no ref", "huge ref", "lower ref", "many refs to one long string"])
    if how == "entity ref":  # r="&#69;12" is "E12" to any XML parser
        m = re.search(rb'<c r="([A-Z])([0-9]+)"', xml)
        new = xml.replace(m.group(0), b'<c r="&#' + str(m.group(1)[0]).encode() + b";" + m.group(2) + b'"', 1)
        return _with_sheet(base, part, new), ".xlsx", "equivalent: entity in a reference"
    if how == "no ref":  # cells without r: their position is the next column
        new = re.sub(rb'(<row r="[0-9]+"[^>]*>)<c r="A[0-9]+"', rb"\1<c", xml, count=3)
        return _with_sheet(base, part, new), ".xlsx", "equivalent: cells without reference"
    if how == "huge ref":
        ref = rng.choice([b"A" * 5000 + b"1", b"A" + b"9" * 5000, b"XFD1048576", b"A" * 8 + b"1"])
        new = xml.replace(b"</sheetData>", b'<row><c r="' + ref + b'"><v>1</v></c></row></sheetData>', 1)
        return _with_sheet(base, part, new), ".xlsx", "tampered: far reference"
    if how == "lower ref":
        m = re.search(rb'<c r="([A-Z]+[0-9]+)"', xml)
        new = xml.replace(m.group(0), b'<c r="' + m.group(1).lower() + b'"', 1)
        return _with_sheet(base, part, new), ".xlsx", "lower-case reference"
    sst = base.parts["xl/sharedStrings.xml"]
    long = b"<si><t>" + b"x" * 2_000_000 + b"</t></si>"
    new_sst = sst.replace(b"</sst>", long + b"</sst>")
    idx = len(re.findall(rb"<si>", sst))
    rows = b"".join(b'<row r="%d">' % r + b"".join(b'<c r="%s%d" t="s"><v>%d</v></c>' % (c.encode(), r, idx)
                                                 for c in "ABCDEFGH") + b"</row>" for r in range(2000, 2400))
    new = xml.replace(b"</sheetData>", rows + b"</sheetData>", 1)
    return zipmut.edit(base.data, {part: new, "xl/sharedStrings.xml": new_sst}), ".xlsx", "tampered: long string x3200"


def op_broken_xml(rng, base):
    name = rng.choice([n for n in base.parts if n.endswith((".xml", ".rels"))])
    body = bytearray(base.parts[name])
    how = rng.choice(["truncate", "delete", "insert", "tag"])
    i = rng.randrange(len(body))
    if how == "truncate":
        body = body[:i]
    elif how == "delete":
        j = body.find(rng.choice([b"<", b">", b'"', b"/"]), i)
        if j >= 0:
            del body[j]
    elif how == "insert":
        body[i:i] = rng.choice([b"&", b"<", b"&amp", b"\x00", b"<x>", b"]]>", b"\xff\xfe", b"&#0;", b"&#xD800;"])
    else:
        body = body.replace(b"</row>", b"", 1) if b"</row>" in body else body.replace(b"</", b"<", 1)
    return zipmut.edit(base.data, {name: bytes(body)}), ".xlsx", f"broken xml {name} ({how})"


def op_retype(rng, base):
    part, layout, xml = _data_sheet(rng, base)
    key, ref = _input_ref(rng, layout)
    s = zipmut.cell_style(xml, ref)
    kind = rng.choice(["number", "string", "bool", "error", "formula", "empty", "shared", "date-iso"])
    el = {
        "number": zipmut.number_cell(ref, rng.choice(["0.5", "1", "42", "-3", "45000"]), s),
        "string": zipmut.inline_string(ref, rng.choice(["0.5", "abc", "1", "15/11/2025", "Sì"]), s),
        "bool": zipmut.typed_cell(ref, "b", rng.choice(["0", "1", "2"]), s),
        "error": zipmut.typed_cell(ref, "e", rng.choice(["#DIV/0!", "#N/A", "#VALUE!", "#REF!", "#BOGUS"]), s),
        "formula": b'<c r="' + ref.encode() + b'" s="' + s + b'"><f>' + rng.choice(
            [b"1+1", b"HYPERLINK(&quot;http://x&quot;)", b"cmd|' /C calc'!A0", b"1/0"]) + b"</f><v>2</v></c>",
        "empty": b'<c r="' + ref.encode() + b'" s="' + s + b'"/>',
        "shared": zipmut.typed_cell(ref, "s", rng.choice(["0", "1", "99999", "-1", "x"]), s),
        "date-iso": zipmut.typed_cell(ref, "d", rng.choice(["2025-11-15", "9999-12-31T00:00:00", "bad"]), s),
    }[kind]
    return _with_sheet(base, part, zipmut.set_cell(xml, ref, el)), ".xlsx", f"retype {key} -> {kind}"


def op_absurd(rng, base):
    part, layout, xml = _data_sheet(rng, base)
    key, ref = _input_ref(rng, layout)
    s = zipmut.cell_style(xml, ref)
    if rng.random() < 0.5:
        v = rng.choice(ABSURD_NUMBERS)
        el = zipmut.number_cell(ref, v, s)
    else:
        v = rng.choice(ABSURD_TEXTS)
        el = zipmut.inline_string(ref, v, s)
    return _with_sheet(base, part, zipmut.set_cell(xml, ref, el)), ".xlsx", f"absurd {key} = {v!r}"


def op_unicode(rng, base):
    part, layout, xml = _data_sheet(rng, base)
    refs = [c.ref for c in layout.labels] if rng.random() < 0.3 else [c.ref for c in layout.inputs.values()]
    ref = rng.choice(refs)
    text = "".join(rng.choice(UNICODE) for _ in range(rng.randint(1, 4)))
    if rng.random() < 0.2:
        raw = zipmut.inline_string(ref, "x", zipmut.cell_style(xml, ref)).replace(b">x<", b">\x00NUL<")  # invalid XML
    else:
        raw = zipmut.inline_string(ref, text, zipmut.cell_style(xml, ref))
    return _with_sheet(base, part, zipmut.set_cell(xml, ref, raw)), ".xlsx", f"unicode {ref} {text!r}"


def op_long_text(rng, base):
    part, layout, xml = _data_sheet(rng, base)
    refs = [c.ref for c in layout.labels] if rng.random() < 0.3 else [c.ref for c in layout.inputs.values()]
    ref = rng.choice(refs)
    n = rng.choice([2001, 32767, 32768, 100_000, 1_500_000])
    text = (rng.choice(["a", "è", "😀", "=", "lorem ipsum "]) * n)[:n]
    el = zipmut.inline_string(ref, text, zipmut.cell_style(xml, ref))
    return _with_sheet(base, part, zipmut.set_cell(xml, ref, el)), ".xlsx", f"long text {ref} ({n})"


_ROW = re.compile(rb'<row r="(\d+)"[^>]*>.*?</row>', re.S)


def _renumber(row_xml: bytes, new: int) -> bytes:
    row_xml = re.sub(rb'^<row r="\d+"', b'<row r="%d"' % new, row_xml)
    return re.sub(rb'(<c r="[A-Z]+)\d+"', lambda m: m.group(1) + b'%d"' % new, row_xml)


def op_rows(rng, base):
    part, _layout, xml = _data_sheet(rng, base)
    rows = list(_ROW.finditer(xml))
    how = rng.choice(["swap", "shift", "delete", "duplicate", "move to end"])
    a, b = rng.sample(rows, 2)
    if a.start() > b.start():
        a, b = b, a
    ra, rb_ = int(a.group(1)), int(b.group(1))
    if how == "swap":  # contents exchanged, numbering kept in order
        new = (xml[:a.start()] + _renumber(b.group(0), ra) + xml[a.end():b.start()] + _renumber(a.group(0), rb_)
               + xml[b.end():])
    elif how == "shift":
        k = rng.randint(1, 3)
        new = xml[:a.start()] + b"".join(_renumber(r.group(0), int(r.group(1)) + k) for r in rows if r.start() >= a.start())
        new += xml[rows[-1].end():]
    elif how == "delete":
        new = xml[:a.start()] + xml[a.end():]
    elif how == "duplicate":
        new = xml[:a.end()] + a.group(0) + xml[a.end():]
    else:
        last = int(rows[-1].group(1))
        new = xml[:a.start()] + xml[a.end():rows[-1].end()] + _renumber(a.group(0), last + 5) + xml[rows[-1].end():]
    return _with_sheet(base, part, new), ".xlsx", f"rows {how} {ra},{rb_}"


def op_label(rng, base):
    part, layout, xml = _data_sheet(rng, base)
    cell = rng.choice(layout.labels)
    s = zipmut.cell_style(xml, cell.ref)
    el = rng.choice([zipmut.inline_string(cell.ref, rng.choice(["50%", "", " ", str(cell.value).upper(),
                                                                 str(cell.value) + " "]), s),
                     zipmut.number_cell(cell.ref, rng.choice(["0", "0.3", "100"]), s),
                     b'<c r="' + cell.ref.encode() + b'" s="' + s + b'"/>'])
    try:
        new = zipmut.set_cell(xml, cell.ref, el)
    except KeyError:
        new = xml
    return _with_sheet(base, part, new), ".xlsx", f"label {cell.ref}"


def op_cell_ref(rng, base):
    part, layout, xml = _data_sheet(rng, base)
    _key, ref = _input_ref(rng, layout)
    target = rng.choice(["A1", "ZZZ99999", "XFE1", "A0", "A1048577", "", "1A", ref.lower(),
                         rng.choice(list(layout.inputs.values())).ref])
    new = xml.replace(b'<c r="' + ref.encode() + b'"', b'<c r="' + target.encode() + b'"', 1)
    return _with_sheet(base, part, new), ".xlsx", f"cell ref {ref} -> {target}"


def op_sheets(rng, base):
    wbx = base.parts["xl/workbook.xml"]
    sheets = re.findall(rb"<sheet [^>]*/>", wbx)
    how = rng.choice(["reorder", "rename", "duplicate", "remove", "rid", "hidden"])
    if how == "reorder":
        new_order = sheets[:]
        rng.shuffle(new_order)
        new = wbx.replace(b"".join(sheets), b"".join(new_order))
    elif how == "rename":
        name = rng.choice(["Foglio1", "x" * 200, "SF - Finanziario", "Istruzioni", "😀", "a\tb", "", "&amp;",
                           "ST - Tecnico"])
        victim = rng.choice(sheets)
        new = wbx.replace(victim, re.sub(rb'name="[^"]*"', b'name="' + zipmut.xml_escape(name).replace(b'"', b"")
                                         + b'"', victim), 1)
    elif how == "duplicate":
        new = wbx.replace(sheets[-1], sheets[-1] + rng.choice(sheets), 1)
    elif how == "remove":
        new = wbx.replace(rng.choice(sheets), b"", 1)
    elif how == "rid":
        new = wbx.replace(b'r:id="rId2"', b'r:id="rId' + rng.choice([b"1", b"3", b"99", b""]) + b'"', 1)
    else:
        new = wbx.replace(sheets[-1], sheets[-1].replace(b"/>", b' state="veryHidden"/>'), 1)
    return zipmut.edit(base.data, {"xl/workbook.xml": new}), ".xlsx", f"sheets {how}"


def op_properties(rng, base):
    custom = base.parts["docProps/custom.xml"]
    how = rng.choice(["value", "remove", "duplicate", "core"])
    if how == "remove":
        return zipmut.edit(base.data, {"docProps/custom.xml": None}), ".xlsx", "properties removed"
    if how == "core":
        stamp = rng.choice([b"9999-12-31T23:59:59Z", b"", b"not a date", b"0001-01-01T00:00:00Z", b"x" * 5000])
        core = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + stamp, base.parts["docProps/core.xml"])
        return zipmut.edit(base.data, {"docProps/core.xml": core}), ".xlsx", "core modified"
    props = re.findall(rb'name="(piao_\w+)"><vt:lpwstr>([^<]*)<', custom)
    name, _old = rng.choice(props)
    value = rng.choice([b"", b"SF,SF", b"SF,ST", b"ZZ", b"SF,", b"all", b"source", b"sector", b"esterno", b"nucleo",
                        b"responsabile", b"2024", b"x" * 100_000, b"&#1;", b"truccazzano-2024", b"99"])
    if how == "duplicate":
        prop = re.search(rb'<property [^>]*name="' + name + rb'">.*?</property>', custom).group(0)
        new = custom.replace(prop, prop + prop.replace(b"<vt:lpwstr>" + _old, b"<vt:lpwstr>" + value), 1)
    else:
        new = custom.replace(b'name="' + name + b'"><vt:lpwstr>' + _old, b'name="' + name + b'"><vt:lpwstr>' + value, 1)
    return zipmut.edit(base.data, {"docProps/custom.xml": new}), ".xlsx", f"property {name.decode()} ({how})"


def op_shared_strings(rng, base):
    sst = base.parts["xl/sharedStrings.xml"]
    items = list(re.finditer(rb"<si>.*?</si>", sst, re.S))
    si = rng.choice(items)
    how = rng.choice(["edit", "remove", "huge", "count"])
    if how == "edit":
        text = zipmut.xml_escape(rng.choice(UNICODE + ABSURD_TEXTS))
        new = sst[:si.start()] + b"<si><t>" + text + b"</t></si>" + sst[si.end():]
    elif how == "remove":
        new = sst[:si.start()] + sst[si.end():]
    elif how == "huge":
        new = sst[:si.start()] + b"<si><t>" + b"ab" * 400_000 + b"</t></si>" + sst[si.end():]
    else:
        new = re.sub(rb'uniqueCount="\d+"', b'uniqueCount="999999999"', sst, count=1)
    return zipmut.edit(base.data, {"xl/sharedStrings.xml": new}), ".xlsx", f"shared strings {how}"


def op_styles(rng, base):
    styles = base.parts["xl/styles.xml"]
    how = rng.choice(["remove", "dates everywhere", "numfmt"])
    if how == "remove":
        return zipmut.edit(base.data, {"xl/styles.xml": None}), ".xlsx", "styles removed"
    if how == "dates everywhere":
        new = re.sub(rb'numFmtId="\d+"', b'numFmtId="14"', styles)
    else:
        new = re.sub(rb'formatCode="[^"]*"', b'formatCode="yyyy-mm-dd"', styles)
    return zipmut.edit(base.data, {"xl/styles.xml": new}), ".xlsx", f"styles {how}"


def op_hostile_package(rng, base):
    how = rng.choice(["dtd", "macro", "encrypted", "ratio", "suffix"])
    if how == "dtd":
        name = rng.choice([n for n in base.parts if n.endswith((".xml", ".rels"))])
        body = base.parts[name].split(b"?>", 1)[-1].lstrip()
        return zipmut.edit(base.data, {name: zipmut.BILLION_LAUGHS + body}), ".xlsx", f"dtd in {name}"
    if how == "macro":
        return zipmut.edit(base.data, {"xl/vbaProject.bin": rng.randbytes(512)}), ".xlsx", "macro"
    if how == "encrypted":
        return (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + rng.randbytes(200) + "EncryptionInfo".encode("utf-16-le")
                + rng.randbytes(300)), ".xlsx", "encrypted"
    if how == "ratio":
        return zipmut.edit(base.data, {"xl/media/image1.png": b"\0" * (2 * 1024 * 1024)}), ".xlsx", "ratio"
    return base.data, rng.choice([".xlsm", ".xls", ".xlsb", ".ods", ".XLSX", ".txt"]), "suffix"


def op_combined(rng, base):
    """Two or three XML-level mutations on the same workbook."""
    data, desc = base.data, []
    for _ in range(rng.randint(2, 3)):
        op = rng.choice([op_retype, op_absurd, op_unicode, op_rows, op_label, op_cell_ref, op_sheets, op_properties])
        current = Base.__new__(Base)
        current.name, current.data, current.sheets = base.name, data, base.sheets
        current.parts = zipmut.parts(data)
        try:
            data, _, d = op(rng, current)
        except (KeyError, ValueError, IndexError):  # an earlier step removed what this one edits
            d = f"({op.__name__[3:]} not applicable)"
        desc.append(d)
    return data, ".xlsx", " + ".join(desc)


OPERATORS = [(op_flip_bytes, 8), (op_flip_directory, 3), (op_truncate, 5), (op_junk, 3), (op_remove_part, 5),
             (op_duplicate_part, 3), (op_rename_or_swap_parts, 4), (op_lying_size, 3), (op_alias, 2),
             (op_equivalent, 4), (op_broken_xml, 8), (op_retype, 12), (op_absurd, 12), (op_unicode, 8),
             (op_long_text, 4), (op_rows, 6), (op_label, 5), (op_cell_ref, 4), (op_sheets, 6), (op_properties, 6),
             (op_shared_strings, 4), (op_styles, 3), (op_hostile_package, 5), (op_combined, 8),
             (op_zip_ambiguity, 6), (op_workbook_ambiguity, 4), (op_look, 5), (op_encodings, 4)]


def make_variant(vid: int, bases: list[Base]) -> tuple[str, str, bytes, str, str]:
    """(base name, operator name, bytes, suffix, description) for variant ``vid`` of SEED."""
    rng = random.Random(f"{SEED}:{vid}")
    base = rng.choice(bases)
    op = rng.choices([o for o, _ in OPERATORS], weights=[w for _, w in OPERATORS])[0]
    data, suffix, desc = op(rng, base)
    return base.name, op.__name__[3:], data, suffix, desc


# --- the invariants ----------------------------------------------------------------------------

def sheet_layout(plan, res, sub):
    if res.kind == "sector":
        return sector_sheet(plan, plan.sector(sub.code))
    book = all_sectors_workbook(plan) if res.kind == "all" else source_workbook(plan, res.source)
    return next(s for s in book.sheets if s.name == sub.sheet)


def revalidated(plan, res, sub) -> dict[str, dict[str, object]]:
    """Judge every raw value by docs/inputs.md (tests/value_oracle.py, not the reader's code); assert the reader
    kept exactly the accepted values."""
    layout = sheet_layout(plan, res, sub)
    values: dict[str, dict[str, object]] = {}
    for key, raw in sub.raw.items():
        cell = layout.inputs[key]
        assert sub.cells[key] == cell.ref, key
        v = cell.validation
        ok, value = accepted(raw, cell.unit, v.minimum if v else None, v.maximum if v else None, plan.year)
        if not ok:
            value = None
        target, _, name = key.partition("|")
        if cell.unit == "text":
            assert sub.texts.get(key) == value, (key, raw)
        else:
            got = sub.values.get(target, {}).get(name)
            assert got == value and type(got) is type(value), (key, raw, got, value)
            values.setdefault(target, {})[name] = value
    return values


def check_consolidation(plan, c, files: list[Path]) -> None:
    by_path = {r.path: r for r in c.results}
    listed = [s["path"] for s in c.sources]
    assert sorted(listed) == sorted(str(f) for f in files), "Fonti must list every input file exactly once"
    for res in c.results:
        assert res.status in STATUSES
        errors = [f for f in res.findings if f.severity == "error"]
        assert (res.status == REJECTED) == bool(errors), (res.status, [str(f) for f in res.findings])
        if res.status == REJECTED:
            assert any(f["file"] == res.path and f["severity"] == "error" for f in c.findings), "Anomalie lacks the file"
        for sub in res.sectors.values():
            revalidated(plan, res, sub)
    for f in c.skipped:
        assert any(x["file"] == str(f) and x["code"] == "WB-SKIPPED" for x in c.findings)
    codes = {s.code for s in plan.sectors}
    assert [s["code"] for s in c.sectors] == [s.code for s in plan.sectors]
    for row in c.sectors:
        assert row["code"] in codes
        if row["score"] is None:
            continue
        sector = plan.sector(row["code"])
        values: dict[str, dict] = {}
        for src in c.sources:
            for tag in filter(None, src["used_for"].split(",")):
                code, _, source = tag.partition(":")
                if code != row["code"]:
                    continue
                res = by_path[src["path"]]
                source = source or "responsabile"
                assert res.source == source
                good = revalidated(plan, res, res.sectors[code])
                for ind in sector.indicators:
                    if ind.source == source and ind.id in good:
                        values[ind.id] = good[ind.id]
        # the expected score from an independent statement of docs/scoring.md (tests/oracle.py)
        expected = oracle.sector_score(sector, values, plan.scoring)
        assert row["score"] == pytest.approx(expected, rel=1e-12, abs=1e-9), (
            "score not built from validated values by the documented rules", row["code"], row["score"], expected)
        assert row["band"] == oracle.band(expected, plan.scoring), (row["code"], row["score"], row["band"])


def outcome(res) -> str:
    if res is None:
        return "skipped (not a workbook name)"
    first = next((f.code for f in res.findings if f.severity == "error"), None) or next(
        (f.code for f in res.findings), "")
    return f"{res.status}{': ' + first if first else ''}"


def fingerprint(res) -> tuple:
    subs = tuple(sorted((k, tuple(sorted((kk, repr(v)) for kk, v in s.raw.items()))) for k, s in res.sectors.items()))
    return res.status, tuple(sorted(f.code for f in res.findings)), subs


# --- the worker --------------------------------------------------------------------------------

_STATE: dict = {}


class Hang(BaseException):  # not an Exception: the reader's "never raise" net must not swallow it
    pass


def _alarm(*_):
    raise Hang()


def _init(plan, bases, base_prints, folder):
    _STATE.update(plan=plan, bases=bases, base_prints=base_prints, folder=Path(folder))
    _STATE["disagree"] = tamper_agree.install()  # quick and cell-by-cell tampering checks must agree
    signal.signal(signal.SIGALRM, _alarm)


def run_variant(vid: int) -> dict:
    plan, bases, folder = _STATE["plan"], _STATE["bases"], _STATE["folder"]
    out = {"id": vid, "failure": None}
    try:
        base, op, data, suffix, desc = make_variant(vid, bases)
        out.update(base=base, op=op, desc=desc[:160])
        batch = folder / f"batch{vid // BATCH:03d}"
        batch.mkdir(exist_ok=True)
        path = batch / f"v{vid:05d}-{base}{suffix}"
        path.write_bytes(data)
        before = hashlib.sha256(path.read_bytes()).hexdigest()
        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        signal.setitimer(signal.ITIMER_REAL, HANG_CAP)
        t = time.process_time()
        try:
            c = consolidate([path], plan, keep_raw=True)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        elapsed = time.process_time() - t
        out["elapsed"] = elapsed
        out["rss_growth_mb"] = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) / 1024
        assert elapsed < TIME_CAP, f"took {elapsed:.1f} s of CPU (cap {TIME_CAP} s)"
        assert out["rss_growth_mb"] < 300, f"peak memory grew by {out['rss_growth_mb']:.0f} MB"
        assert hashlib.sha256(path.read_bytes()).hexdigest() == before, "input file modified"
        check_consolidation(plan, c, [path])
        disagree, _STATE["disagree"][:] = list(_STATE["disagree"]), []
        assert not disagree, f"the two tampering checks disagree: {disagree[:2]}"
        res = c.results[0] if c.results else None
        assert res is not None or c.skipped == [path]
        out["outcome"] = outcome(res)
        if desc.startswith("equivalent") and res is not None:
            assert fingerprint(res) == _STATE["base_prints"][base], "an equivalent package read differently"
        if desc.startswith(("ambiguous", "tampered")):
            assert res is not None and res.status == REJECTED, f"not refused: {[str(f) for f in res.findings][:5]}"
    except Hang:
        out["failure"] = f"hang: over {HANG_CAP:.0f} s"
    except BaseException as e:  # report everything, with the traceback
        out["failure"] = f"{type(e).__name__}: {e}\n{traceback.format_exc(limit=6)}"
    return out


def run_batch(batch: Path) -> dict:
    """Consolidate a folder of variants with the valid files: summary, JSON, CSV; twice, same results."""
    from openpyxl import load_workbook

    from piao_xls.results.summary import write_csv, write_json, write_summary

    plan = _STATE["plan"]
    try:
        for b in _STATE["bases"]:
            (batch / f"valid-{b.name}.xlsx").write_bytes(b.data)
        files = sorted(p for p in batch.iterdir() if p.is_file())
        sums = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in files}
        c = consolidate([batch], plan, keep_raw=True)
        check_consolidation(plan, c, files)
        again = consolidate([batch], plan, keep_raw=True)
        assert again.to_dict() == c.to_dict(), "two runs differ"
        out = batch.parent / f"{batch.name}-out"
        write_summary(c, out / "summary.xlsx")
        write_json(c, out / "results.json")
        write_csv(c, out / "csv")
        wb = load_workbook(out / "summary.xlsx", read_only=True)
        fonti = [r for r in wb["Fonti"].iter_rows(min_row=4, values_only=True) if r[0] is not None]
        assert len(fonti) == len(files), "Fonti must have a row per input file"
        anomalie_files = {r[3] for r in wb["Anomalie"].iter_rows(min_row=4, values_only=True)}
        for res in c.results:
            if res.status != ACCEPTED:
                assert any(f and Path(f).name == Path(res.path).name for f in anomalie_files), res.path
        wb.close()
        assert {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in files} == sums, "input modified"
        return {"batch": batch.name, "files": len(files), "failure": None,
                "sectors": [(s["code"], s["status"], s["score"]) for s in c.sectors]}
    except BaseException as e:
        return {"batch": batch.name, "failure": f"{type(e).__name__}: {e}\n{traceback.format_exc(limit=6)}"}


# --- the test -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def mutation_run(plan, tmp_path_factory):
    folder = tmp_path_factory.mktemp("mutations")
    bases = build_bases(plan)
    base_prints = {}
    for b in bases:
        p = folder / f"base-{b.name}.xlsx"
        p.write_bytes(b.data)
        res = consolidate([p], plan, keep_raw=True).results[0]
        base_prints[b.name] = fingerprint(res)
        p.unlink()
    ids = ONLY or list(range(COUNT))
    t = time.perf_counter()
    workers = max(1, min(4, os.cpu_count() or 1))
    ctx = multiprocessing.get_context("fork")
    results, done = [], set()
    with ctx.Pool(workers, initializer=_init, initargs=(plan, bases, base_prints, str(folder))) as pool:
        it = pool.imap_unordered(run_variant, ids)  # chunksize 1: next(timeout) works
        try:
            for _ in ids:
                r = it.next(timeout=120)
                results.append(r)
                done.add(r["id"])
        except multiprocessing.TimeoutError:
            missing = sorted(set(ids) - done)
            results.append({"id": missing[0], "failure": f"a worker stopped answering; unfinished ids {missing[:20]}"})
            pool.terminate()
        variants_time = time.perf_counter() - t
        batches = sorted(p for p in folder.iterdir() if p.is_dir() and p.name.startswith("batch"))
        batch_results = pool.map(run_batch, batches, chunksize=1) if not ONLY else []
    total = time.perf_counter() - t
    return {"results": results, "batches": batch_results, "variants_time": variants_time, "total_time": total,
            "folder": folder, "workers": workers, "bases": bases}


def test_every_variant_ends_with_a_status(mutation_run, capsys):
    results = mutation_run["results"]
    failures = [r for r in results if r["failure"]]
    by_outcome = Counter(r.get("outcome", "FAILED") for r in results)
    by_op: dict[str, Counter] = defaultdict(Counter)
    for r in results:
        by_op[r.get("op", "?")][r.get("outcome", "FAILED").split(":")[0]] += 1
    times = sorted(r.get("elapsed", 0) for r in results)
    lines = [f"mutation suite: seed {SEED}, {len(results)} variants, {mutation_run['workers']} workers, "
             f"{mutation_run['variants_time']:.1f} s for the variants, {mutation_run['total_time']:.1f} s with "
             f"{len(mutation_run['batches'])} batch consolidations",
             f"per file (CPU): median {times[len(times) // 2] * 1000:.0f} ms, max {times[-1] * 1000:.0f} ms "
             f"(cap {TIME_CAP:.0f} s); max peak-memory growth "
             f"{max(r.get('rss_growth_mb', 0) for r in results):.0f} MB",
             "", f"{'outcome':<52}{'variants':>9}"]
    lines += [f"{k:<52}{v:>9}" for k, v in sorted(by_outcome.items(), key=lambda kv: -kv[1])]
    lines += ["", f"{'operator':<20}{'accepted':>10}{'warnings':>10}{'rejected':>10}{'skipped':>9}{'FAILED':>8}"]
    for op, cnt in sorted(by_op.items()):
        lines.append(f"{op:<20}{cnt[ACCEPTED]:>10}{cnt[ACCEPTED_WITH_WARNINGS]:>10}{cnt[REJECTED]:>10}"
                     f"{cnt['skipped (not a workbook name)']:>9}{cnt['FAILED']:>8}")
    with capsys.disabled():
        print("\n" + "\n".join(lines))
    assert len(results) >= len(ONLY or range(COUNT))
    assert not failures, "\n\n".join(
        f"seed {SEED} variant {r['id']} ({r.get('base')}, {r.get('desc')}): {r['failure']}" for r in failures[:10]) + (
        f"\nreproduce: PIAO_MUTATION_SEED={SEED} PIAO_MUTATION_ONLY="
        f"{','.join(str(r['id']) for r in failures[:10])} python3 -m pytest tests/test_mutations.py")
    if not ONLY:
        assert len(by_outcome) >= 10  # the damage is varied enough to reach many outcomes
        assert by_outcome.get(ACCEPTED, 0) > 0 and sum(v for k, v in by_outcome.items() if k.startswith(REJECTED)) > 0


def test_batches_account_for_every_file_and_repeat(mutation_run):
    if ONLY:
        pytest.skip("single variants requested")
    failures = [b for b in mutation_run["batches"] if b["failure"]]
    assert mutation_run["batches"] and not failures, "\n\n".join(f"seed {SEED} {b['batch']}: {b['failure']}"
                                                                 for b in failures[:5])


def test_jobs_give_the_same_results_as_one_process(mutation_run, plan):
    if ONLY:
        pytest.skip("single variants requested")
    batch = next(p for p in sorted(mutation_run["folder"].iterdir()) if p.is_dir() and p.name.startswith("batch"))
    one = consolidate([batch], plan, jobs=1, keep_raw=True)
    two = consolidate([batch], plan, jobs=2, keep_raw=True)
    assert len(one.results) >= 16  # large enough for the pool to be used
    assert two.to_dict() == one.to_dict()
    assert [r.to_dict() for r in two.results] == [r.to_dict() for r in one.results]


def test_bases_are_valid_returned_workbooks(plan, tmp_path):
    """The mutation suite starts from workbooks the reader accepts (the scenario's SF file)."""
    base = build_bases(plan)[0]
    path = tmp_path / "PIAO-2025-SF-Finanziario.xlsx"
    path.write_bytes(base.data)
    c = consolidate([path], plan, keep_raw=True)
    assert c.results[0].status == ACCEPTED
    check_consolidation(plan, c, [path])
