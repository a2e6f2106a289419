"""Helpers that build damaged or hostile workbook packages (for test_hostile and test_mutations)."""

from __future__ import annotations

import io
import re
import struct
import warnings
import zipfile


def parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {i.filename: z.read(i) for i in z.infolist()}


def rezip(items, compress: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A zip from (name, bytes) pairs (a dict or a list: a list may repeat names)."""
    buf = io.BytesIO()
    pairs = items.items() if isinstance(items, dict) else items
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names on purpose
        with zipfile.ZipFile(buf, "w", compress) as z:
            for name, body in pairs:
                info = zipfile.ZipInfo(name, date_time=(2000, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_STORED if name == "mimetype" else compress
                z.writestr(info, body)
    return buf.getvalue()


def edit(data: bytes, changes: dict[str, bytes | None]) -> bytes:
    """Replace (bytes), add, or remove (None) members of a zip."""
    p = parts(data)
    for name, body in changes.items():
        if body is None:
            p.pop(name, None)
        else:
            p[name] = body
    return rezip(p)


def _eocd(data: bytes) -> int:
    return data.rindex(b"PK\x05\x06")


def _central_directory(data: bytes) -> tuple[int, int, int, int]:
    """(EOCD offset, entry count, central directory size, central directory offset)."""
    e = _eocd(data)
    count, cd_size, cd_off = struct.unpack_from("<HII", data, e + 10)
    return e, count, cd_size, cd_off


def _entries(data: bytes):
    _, _, cd_size, cd_off = _central_directory(data)
    pos = cd_off
    while pos < cd_off + cd_size:
        n, m, k = struct.unpack_from("<HHH", data, pos + 28)
        yield pos, data[pos + 46:pos + 46 + n].decode(), 46 + n + m + k
        pos += 46 + n + m + k


def patch_declared_size(data: bytes, name: str, size: int) -> bytes:
    """Make the central directory lie about a member's uncompressed size."""
    out = bytearray(data)
    for pos, entry, _ in _entries(data):
        if entry == name:
            struct.pack_into("<I", out, pos + 24, size)
            return bytes(out)
    raise KeyError(name)


def alias_member(data: bytes, name: str, alias: str) -> bytes:
    """Add a central directory entry ``alias`` pointing at the same data as ``name`` (overlapping files)."""
    e, count, cd_size, cd_off = _central_directory(data)
    for pos, entry, length in _entries(data):
        if entry == name:
            n = len(name.encode())
            rec = bytearray(data[pos:pos + length])
            struct.pack_into("<H", rec, 28, len(alias.encode()))
            new = bytes(rec[:46]) + alias.encode() + bytes(rec[46 + n:])
            cd2 = data[cd_off:cd_off + cd_size] + new
            eocd = bytearray(data[e:])
            struct.pack_into("<HHII", eocd, 8, count + 1, count + 1, len(cd2), cd_off)
            return data[:cd_off] + cd2 + bytes(eocd)
    raise KeyError(name)


SHEET_CELL = re.compile(rb'<c r="([A-Z]+[0-9]+)"[^>]*?(?:/>|>.*?</c>)', re.S)


def set_cell(xml: bytes, ref: str, element: bytes) -> bytes:
    """Replace cell ``ref`` of a worksheet XML with ``element`` (the cell must exist)."""
    pat = re.compile(rb'<c r="' + ref.encode() + rb'"[^>]*?(?:/>|>.*?</c>)', re.S)
    new, n = pat.subn(lambda _m: element, xml, count=1)
    if not n:
        raise KeyError(ref)
    return new


def cell_style(xml: bytes, ref: str) -> bytes:
    m = re.search(rb'<c r="' + ref.encode() + rb'"[^>]*?\ss="(\d+)"', xml)
    return m.group(1) if m else b"0"


def xml_escape(text: str) -> bytes:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").encode("utf-8"))


def inline_string(ref: str, text: str, style: bytes = b"0") -> bytes:
    return (b'<c r="' + ref.encode() + b'" s="' + style + b'" t="inlineStr"><is><t xml:space="preserve">'
            + xml_escape(text) + b"</t></is></c>")


def number_cell(ref: str, value: str, style: bytes = b"0") -> bytes:
    return b'<c r="' + ref.encode() + b'" s="' + style + b'"><v>' + value.encode() + b"</v></c>"


def typed_cell(ref: str, t: str, value: str, style: bytes = b"0") -> bytes:
    return b'<c r="' + ref.encode() + b'" s="' + style + b'" t="' + t.encode() + b'"><v>' + xml_escape(value) + b"</v></c>"


BILLION_LAUGHS = (b'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n<!ENTITY lol "lol">\n'
                  + b"".join(b'<!ENTITY lol%d "%s">\n' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                             for i in range(1, 10))
                  + b"]>\n")


def with_comment(data: bytes, comment: bytes) -> bytes:
    """The archive with a zip comment (set in the end record)."""
    e = _eocd(data)
    return data[:e + 20] + struct.pack("<H", len(comment)) + comment


def rename_local(data: bytes, name: str, other: str) -> bytes:
    """Give member ``name`` another name (same length) in its local header only."""
    assert len(other.encode()) == len(name.encode())
    for pos, entry, _ in _entries(data):
        if entry == name:
            off = struct.unpack_from("<I", data, pos + 42)[0]
            n = struct.unpack_from("<H", data, off + 26)[0]
            return data[:off + 30] + other.encode() + data[off + 30 + n:]
    raise KeyError(name)


def unicode_path(items: dict[str, bytes], name: str, shown: str) -> bytes:
    """A zip where ``name`` carries an Info-ZIP Unicode Path extra field naming it ``shown``."""
    import zlib

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for part, body in items.items():
            info = zipfile.ZipInfo(part, date_time=(2000, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            if part == name:
                u = shown.encode()
                payload = b"\x01" + struct.pack("<I", zlib.crc32(part.encode())) + u
                info.extra = struct.pack("<HH", 0x7075, len(payload)) + payload
            z.writestr(info, body)
    return buf.getvalue()
