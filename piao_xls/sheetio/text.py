"""Text from an untrusted file, made safe to print: control characters escaped."""

from __future__ import annotations

_ESCAPES = {i: f"\\x{i:02x}" for i in (*range(0x20), 0x7F, *range(0x80, 0xA0))}
_ESCAPES.update({0x2028: "\\u2028", 0x2029: "\\u2029", 0x202E: "\\u202e", 0x202D: "\\u202d", 0x200E: "\\u200e",
                 0x200F: "\\u200f", 0x2066: "\\u2066", 0x2067: "\\u2067", 0x2068: "\\u2068", 0x2069: "\\u2069"})


def printable(text: str) -> str:
    """``text`` with control characters (C0, DEL, C1, line and bidirectional controls) as ``\\xNN``
    escapes, and lone surrogates (a file name that is not UTF-8) as ``\\udcNN``: one line, no terminal
    escape sequence, nothing that reorders what follows."""
    out = text.translate(_ESCAPES)
    if any("\ud800" <= ch <= "\udfff" for ch in out):
        out = "".join(f"\\u{ord(ch):04x}" if "\ud800" <= ch <= "\udfff" else ch for ch in out)
    return out
