"""Text from an untrusted file or message, made safe to print (control characters escaped) and to name a file."""

from __future__ import annotations

import re

# Characters that reorder the text after them (embeddings, overrides, isolates): shown, never obeyed.
REORDERING = {i: f"\\u{i:04x}" for i in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}
C1 = {i: f"\\x{i:02x}" for i in range(0x80, 0xA0)}  # C1 control characters: no one types them

_ESCAPES = {i: f"\\x{i:02x}" for i in (*range(0x20), 0x7F)}
_ESCAPES.update(C1)
_ESCAPES.update(REORDERING)
_ESCAPES.update({i: f"\\u{i:04x}" for i in (0x2028, 0x2029, 0x200E, 0x200F, 0x061C)})
_SHOWN = {**C1, **REORDERING}


def shown_controls(text: str) -> str:
    """``text`` with C1 control characters and the characters that reorder text (bidirectional
    embeddings, overrides and isolates) as visible escapes: for texts written into outputs, where
    tabs and line breaks stay."""
    return text if text.isascii() else text.translate(_SHOWN)


def printable(text: str) -> str:
    """``text`` with control characters (C0, DEL, C1, line and bidirectional controls) as ``\\xNN``
    escapes, and lone surrogates (a file name that is not UTF-8) as ``\\udcNN``: one line, no terminal
    escape sequence, nothing that reorders what follows."""
    out = text.translate(_ESCAPES)
    if any("\ud800" <= ch <= "\udfff" for ch in out):
        out = "".join(f"\\u{ord(ch):04x}" if "\ud800" <= ch <= "\udfff" else ch for ch in out)
    return out


_UNSAFE_NAME = re.compile(r"[^\w.+-]+", re.ASCII)


def safe_filename(text: str, limit: int = 80) -> str:
    """A name from a message or a cell made safe for a file name: ASCII letters, digits, ``._+-``;
    everything else (path separators, NUL, controls, spaces) becomes ``_``; no leading dot; at most
    ``limit`` characters (the suffix kept). Never empty."""
    name = _UNSAFE_NAME.sub("_", text).strip("._") or "file"
    if len(name) > limit:
        _, dot, suffix = name.rpartition(".")
        keep = f".{suffix}" if dot and 0 < len(suffix) <= 8 else ""
        name = name[: limit - len(keep)].rstrip("._") + keep
    return name or "file"
