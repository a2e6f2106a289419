"""Excel fidelity of a generated .xlsx: the Open XML schema and semantics (openxml-audit, a port of the Open XML
SDK validator) and the limits of Excel that no schema states. Used by the tests for every file the project writes.

    problems = excel_problems(data, "PIAO-2025-SF-Finanziario.xlsx")   # [] when Excel will open it intact
"""

from __future__ import annotations

import io
import re
import tempfile
import zipfile
from pathlib import Path

from defusedxml import ElementTree

MAX_ROW_HEIGHT = 409.0  # points: Excel clamps a taller row (and hides the end of its text)
MAX_VALIDATION_FORMULA = 255  # characters of a data validation formula
MAX_TITLE = 32  # input and error titles of a data validation (UTF-16 units)
MAX_MESSAGE = 255  # input and error messages (UTF-16 units)
MAX_HEADER_FOOTER = 255  # a longer header or footer is dropped
MAX_CELL_TEXT = 32767  # characters in a cell
MAX_FORMULA = 8192  # characters of a cell formula
MAX_CUSTOM_PROPERTY = 255  # characters of a custom document property value
MAX_SHEET_NAME = 31

_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def limit_problems(data: bytes, name: str = "book.xlsx") -> list[str]:
    """Excel's unwritten limits, checked on the package XML."""
    out: list[str] = []
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        names = z.namelist()
        book = ElementTree.fromstring(z.read("xl/workbook.xml"))
        for sheet in book.iter(f"{_NS}sheet"):
            if len(sheet.get("name", "")) > MAX_SHEET_NAME:
                out.append(f"{name}: sheet name {sheet.get('name')!r} longer than {MAX_SHEET_NAME}")
        for part in sorted(n for n in names if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n)):
            root = ElementTree.fromstring(z.read(part))
            where = f"{name}:{part}"
            for row in root.iter(f"{_NS}row"):
                ht = row.get("ht")
                if ht is not None and float(ht) > MAX_ROW_HEIGHT:
                    out.append(f"{where}: row {row.get('r')} is {ht} pt, above Excel's {MAX_ROW_HEIGHT:g}")
            for dv in root.iter(f"{_NS}dataValidation"):
                ref = dv.get("sqref")
                for attr, limit in (("promptTitle", MAX_TITLE), ("errorTitle", MAX_TITLE), ("prompt", MAX_MESSAGE),
                                    ("error", MAX_MESSAGE)):
                    if utf16(dv.get(attr) or "") > limit:
                        out.append(f"{where}: validation {ref}: {attr} has {utf16(dv.get(attr))} UTF-16 units "
                                   f"(Excel's limit {limit})")
                for f in dv:
                    if _local(f.tag) in ("formula1", "formula2") and len(f.text or "") > MAX_VALIDATION_FORMULA:
                        out.append(f"{where}: validation {ref}: {_local(f.tag)} has {len(f.text)} characters "
                                   f"(Excel's limit {MAX_VALIDATION_FORMULA})")
            for hf in root.iter():
                if _local(hf.tag) in ("oddHeader", "oddFooter", "evenHeader", "evenFooter", "firstHeader",
                                      "firstFooter") and utf16(hf.text or "") > MAX_HEADER_FOOTER:
                    out.append(f"{where}: {_local(hf.tag)} has {utf16(hf.text)} characters (Excel drops it over "
                               f"{MAX_HEADER_FOOTER})")
            for c in root.iter(f"{_NS}c"):
                for child in c:
                    tag = _local(child.tag)
                    if tag == "f" and len(child.text or "") > MAX_FORMULA:
                        out.append(f"{where}: {c.get('r')}: formula of {len(child.text)} characters")
                    if tag == "is":
                        text = "".join(t.text or "" for t in child.iter(f"{_NS}t"))
                        if len(text) > MAX_CELL_TEXT:
                            out.append(f"{where}: {c.get('r')}: text of {len(text)} characters")
        if "xl/sharedStrings.xml" in names:
            for i, si in enumerate(ElementTree.fromstring(z.read("xl/sharedStrings.xml"))):
                text = "".join(t.text or "" for t in si.iter(f"{_NS}t"))
                if len(text) > MAX_CELL_TEXT:
                    out.append(f"{name}: shared string {i} has {len(text)} characters (Excel's limit {MAX_CELL_TEXT})")
        if "docProps/custom.xml" in names:
            for prop in ElementTree.fromstring(z.read("docProps/custom.xml")):
                value = "".join(v.text or "" for v in prop)
                if len(value) > MAX_CUSTOM_PROPERTY:
                    out.append(f"{name}: custom property {prop.get('name')!r} has {len(value)} characters "
                               f"(Excel's limit {MAX_CUSTOM_PROPERTY})")
    return out


def audit_problems(data: bytes, name: str = "book.xlsx") -> list[str]:
    """Schema and semantic errors found by openxml-audit (the Open XML SDK's rules, in Python)."""
    from openxml_audit import OpenXmlValidator

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / (Path(name).stem + ".xlsx")
        path.write_bytes(data)
        result = OpenXmlValidator().validate(path)
    return [f"{name}: {e}" for e in result.errors]


def excel_problems(data: bytes, name: str = "book.xlsx") -> list[str]:
    """Everything that would make Excel repair, clamp or drop part of the file."""
    return audit_problems(data, name) + limit_problems(data, name)
