"""What a file is, from its first bytes (magic numbers), never from its name, said in Italian.

Every command that takes a file uses it to answer a PDF, a Word document, an ``.xls``, an image, an
archive... with what the file is and what to do instead: for a plan, fill the plan workbook
(``piao-xls piano template``); for a form, save it as ``.xlsx``.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
HEAD = 64 * 1024  # bytes read to tell an OLE compound file's content (its directory is near the start)

#: kind -> what it is, in Italian (an indefinite article first: "il file è " + text)
DESCRIPTIONS = {
    "pdf": "un documento PDF",
    "word": "un documento Word",
    "doc": "un documento Word 97-2003 (.doc)",
    "odt": "un documento di testo OpenDocument (.odt)",
    "rtf": "un documento RTF",
    "xls": "una cartella di lavoro Excel 97-2003 (.xls)",
    "xlsb": "una cartella di lavoro Excel binaria (.xlsb)",
    "encrypted": "un file Office protetto da password di apertura",
    "msg": "un messaggio di Outlook (.msg)",
    "ole": "un file Office in un formato non supportato",
    "powerpoint": "una presentazione PowerPoint",
    "png": "un'immagine PNG",
    "jpeg": "un'immagine JPEG (per esempio una foto o una scansione)",
    "gif": "un'immagine GIF",
    "tiff": "un'immagine TIFF (per esempio una scansione)",
    "bmp": "un'immagine BMP",
    "webp": "un'immagine WebP",
    "heic": "un'immagine HEIC (una foto dello smartphone)",
    "zip": "un archivio compresso (.zip)",
    "rar": "un archivio compresso RAR",
    "7z": "un archivio compresso 7-Zip",
    "gzip": "un archivio compresso gzip",
    "html": "una pagina web (HTML)",
    "eml": "un messaggio di posta (.eml)",
    "p7m": "un file firmato digitalmente (.p7m)",
    "empty": "un file vuoto",
    "binary": "un file in un formato non riconosciuto",
}
WORKBOOK = ("xlsx", "ods")


def sniff_bytes(head: bytes, whole: bytes | None = None) -> str:
    """The kind of a file from its first bytes (``whole``: the entire file, to look inside a zip or OLE).

    Returns a key of :data:`DESCRIPTIONS`, ``"xlsx"``/``"ods"`` for a workbook, or ``"text"`` for
    anything that looks like text (a YAML plan, a CSV...).
    """
    if not head:
        return "empty"
    if head.startswith(b"%PDF"):
        return "pdf"
    if head.startswith(OLE_MAGIC):
        return _ole_kind(whole or head)
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return _zip_kind(whole) if whole is not None else "zip"
    if head.startswith(b"\x89PNG"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if head.startswith(b"BM") and len(head) > 14 and head[6:10] == b"\0\0\0\0":
        return "bmp"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftypmsf1"):
        return "heic"
    if head.startswith(b"Rar!\x1a\x07"):
        return "rar"
    if head.startswith(b"7z\xbc\xaf\x27\x1c"):
        return "7z"
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head.startswith(b"{\\rtf"):
        return "rtf"
    if head[:1] == b"\x30" and b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07" in head[:64]:
        return "p7m"  # a CMS (PKCS#7) signed file: DER SEQUENCE with the pkcs7 OID
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if start.startswith((b"<!doctype html", b"<html")):
        return "html"
    if b"\0" in head[:4096]:
        return "binary"
    first = start.split(b"\n", 1)[0]
    if any(start.startswith(h) for h in (b"received:", b"return-path:", b"from:", b"message-id:", b"mime-version:",
                                         b"delivered-to:", b"x-unsent:")) and b":" in first:
        return "eml"
    return "text"


def _ole_kind(data: bytes) -> str:
    def has(name: str) -> bool:
        return name.encode("utf-16-le") in data  # directory entries hold UTF-16LE stream names

    if has("EncryptionInfo") or has("EncryptedPackage"):
        return "encrypted"
    if has("__substg1.0_") or has("__properties_version1.0"):
        return "msg"
    if has("Workbook") or has("Book"):
        return "xls"
    if has("WordDocument"):
        return "doc"
    if has("PowerPoint Document"):
        return "powerpoint"
    return "ole"


def _zip_kind(data: bytes) -> str:
    import io

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            names = {n.lower() for n in z.namelist()[:10000]}
            mimetype = z.read("mimetype")[:100] if "mimetype" in names else b""
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError, KeyError, NotImplementedError):
        return "zip"
    if mimetype:
        if b"spreadsheet" in mimetype:
            return "ods"
        if b"text" in mimetype:
            return "odt"
    if "xl/workbook.bin" in names:
        return "xlsb"
    if "xl/workbook.xml" in names:
        return "xlsx"
    if "word/document.xml" in names:
        return "word"
    if "ppt/presentation.xml" in names:
        return "powerpoint"
    return "zip"


def sniff_file(path: str | Path, max_whole: int = 64 * 1024 * 1024) -> str:
    """The kind of the file at ``path`` (see :func:`sniff_bytes`); raises OSError when it cannot be read."""
    path = Path(path)
    with path.open("rb") as f:
        head = f.read(HEAD)
        whole = None
        if head.startswith(OLE_MAGIC) or head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
            size = path.stat().st_size
            whole = head + f.read(max_whole - len(head)) if size <= max_whole else None
    if whole is None and head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return "zip"
    return sniff_bytes(head, whole)


def describe(kind: str) -> str:
    return DESCRIPTIONS.get(kind, DESCRIPTIONS["binary"])


def plan_advice(kind: str) -> str:
    """For a plan command given something that is not a plan: what it is, and what to do."""
    what = describe(kind)
    if kind == "xls":
        return (f"il file è {what}, non un piano: aprirlo con Excel o LibreOffice e salvarlo come «Cartella di "
                "lavoro di Excel (.xlsx)», poi verificarlo con «piao-xls piano verifica FILE.xlsx»")
    return (f"il file è {what}, non un piano: il piano si legge da un file YAML o dalla cartella di lavoro del piano; "
            "scrivere la cartella da compilare con «piao-xls piano modello -o piano.xlsx», riportarvi settori, "
            "obiettivi e indicatori del PIAO, poi «piao-xls piano importa piano.xlsx»")


def form_advice(kind: str) -> str:
    """For a command that reads returned forms, given something that is not one."""
    what = describe(kind)
    if kind in ("xls", "xlsb"):
        return (f"il file è {what}: aprirlo con Excel o LibreOffice e salvarlo come «Cartella di lavoro di Excel "
                "(.xlsx)»")
    if kind == "encrypted":
        return f"il file è {what}: salvarlo senza password e restituirlo"
    if kind == "msg":
        return f"il file è {what}: raccoglierlo con «piao-xls raccogli FILE.msg»"
    if kind in ("zip", "rar", "7z", "gzip"):
        return f"il file è {what}: estrarre il modulo compilato (.xlsx) dall'archivio e usare quello"
    return (f"il file è {what}, non un modulo compilato: il modulo si restituisce com'è stato ricevuto, "
            "una cartella di lavoro Excel (.xlsx) o LibreOffice (.ods)")
