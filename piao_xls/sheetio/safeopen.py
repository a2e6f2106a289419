"""Safe opening: one guard in front of every reader of an untrusted returned workbook.

Returned workbooks arrive by email from outside. Before any parser sees one, :func:`read_bounded`
and :func:`open_package` check:

- the size on disk (a cap, :data:`MAX_SIZE`);
- the container: a zip holding an OOXML workbook (``[Content_Types].xml`` + ``xl/workbook.xml``)
  or an OpenDocument spreadsheet (``mimetype``); an OLE compound file is a legacy ``.xls`` or a
  workbook encrypted with a password to open; ``.xls``/``.xlsb`` get one message on how to re-save;
- zip bombs: member count, total uncompressed size and per-member compression ratio, read from
  the zip directory; then every member is decompressed here with a bounded decompressor that
  does not trust the sizes the headers declare (a member that inflates beyond its declared size
  is rejected, so is one whose checksum does not match);
- macros (``xl/vbaProject.bin``, macro-enabled content types, ``.xlsm``, OpenDocument Basic/Scripts);
- ambiguity (:func:`_check_container`, the reference checks): a second end record, a comment or data
  after the end, local and central names that differ, Unicode Path extra fields, parts that no
  relationship (or the .ods manifest) reaches; each is refused, never resolved;
- for python-calamine only (plan workbooks; ``extent=True``): the area a sheet spans, since calamine
  allocates every cell of a sheet's bounding box (one value in XFD1048576 would ask for 550 GB);
  returned workbooks are parsed by :mod:`piao_xls.sheetio.book`, which stores only the form's area;
- XML document type declarations (``<!DOCTYPE``/``<!ENTITY``: the "billion laughs" family) in any
  XML part. Parts the reader parses itself also go through defusedxml (:func:`assert_defused_xml`).

The result is a :class:`Package` of decompressed parts and parsed relationships: every later
reader works on the very bytes that were checked (no second read of the file, no
time-of-check/time-of-use gap). The guard knows bytes and packages; the layout is the reader's.
Problems raise :class:`UnsafeFile` with a stable finding code and an Italian message.
"""

from __future__ import annotations

import functools
import io
import itertools
import re
import stat
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

MAX_SIZE = 20 * 1024 * 1024  # bytes on disk
MAX_UNCOMPRESSED = 100 * 1024 * 1024  # all members together, decompressed
MAX_RATIO = 100.0  # decompressed / compressed size of one member ...
RATIO_FLOOR = 1024 * 1024  # ... checked only for members larger than this once decompressed
MAX_MEMBERS = 1000
MAX_CELLS = 2_000_000  # rows x columns spanned by the cells of one sheet (the form needs a few thousand)

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
XML_SUFFIXES = (".xml", ".rels", ".vml", ".rdf")
_DTD_MARKERS = tuple(m.encode(enc) for m in ("<!DOCTYPE", "<!ENTITY") for enc in ("ascii", "utf-16-le", "utf-16-be"))

RESAVE_XLSX = "aprire il file e salvarlo come «Cartella di lavoro di Excel (.xlsx)»"


@dataclass(frozen=True)
class Limits:
    """Caps applied to every returned file (see the module constants for the defaults)."""

    max_size: int = MAX_SIZE
    max_uncompressed: int = MAX_UNCOMPRESSED
    max_ratio: float = MAX_RATIO
    ratio_floor: int = RATIO_FLOOR
    max_members: int = MAX_MEMBERS
    max_cells: int = MAX_CELLS


DEFAULT_LIMITS = Limits()


class UnsafeFile(Exception):
    """A file the guard refuses: ``code`` is a finding code, ``message`` is Italian."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def _unsafe(message: str) -> UnsafeFile:
    return UnsafeFile("WB-UNSAFE", message)


def _unreadable(message: str) -> UnsafeFile:
    return UnsafeFile("WB-OPEN", message)


@dataclass
class Package:
    """The checked, decompressed parts of a workbook package (a read-only zip look-alike)."""

    kind: str  # "xlsx" or "ods"
    data: bytes  # the whole file, as checked
    parts: dict[str, bytes] = field(default_factory=dict)
    # .xlsx: every relationships part, parsed once by the guard: rels part -> {Id: (Type, resolved target)}
    rels: dict[str, dict[str, tuple[str, str]]] = field(default_factory=dict)

    def namelist(self) -> list[str]:
        return list(self.parts)

    def repacked(self) -> bytes:
        """A new zip holding exactly the checked parts (stored, ``mimetype`` first): what a library that
        reads a zip by itself is given, never :attr:`data`, so it cannot see a member, name or byte the
        guard did not check."""
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
            for name in sorted(self.parts, key=lambda n: n != "mimetype"):
                z.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), self.parts[name])
        return buf.getvalue()

    def read(self, name: str) -> bytes:
        return self.parts[name]  # KeyError for a missing part, as zipfile.ZipFile.read

    def __enter__(self) -> Package:
        return self

    def __exit__(self, *exc) -> None:
        return None


def read_bounded(path: str | Path, limits: Limits | None = None) -> bytes:
    """The bytes of ``path``, refusing files over the size cap (never reads more than the cap + 1)."""
    limits = limits or DEFAULT_LIMITS
    path = Path(path)
    st = path.stat()
    if not stat.S_ISREG(st.st_mode):  # a pipe or a device would block or never end
        raise _unreadable("non è un file regolare (dispositivo, pipe o cartella): indicare il file della cartella di lavoro")
    size = st.st_size
    if size > limits.max_size:
        raise _unsafe(_too_big(size, limits.max_size))
    with open(path, "rb") as fh:
        data = fh.read(limits.max_size + 1)
    if len(data) > limits.max_size:  # the file grew while we read it
        raise _unsafe(_too_big(len(data), limits.max_size))
    return data


def _too_big(size: int, cap: int) -> str:
    from ..core import italian  # only for this message: the guard imports nothing else of the tool

    return (f"file troppo grande ({italian.plain(size / 1048576, 1)} MB, massimo {italian.plain(cap / 1048576, 0)} MB): "
            "un modulo compilato pesa poche decine di KB; restituire il file ricevuto, compilato, senza immagini o "
            "allegati")


def sniff(data: bytes) -> str:
    """'zip', 'ole' or '' from the first bytes."""
    if data[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return "zip"
    if data[:8] == OLE_MAGIC:
        return "ole"
    return ""


def _ole_message(data: bytes, suffix: str) -> UnsafeFile:
    def has(name: str) -> bool:
        return name.encode("utf-16-le") in data  # directory entries hold UTF-16LE stream names

    if has("EncryptionInfo") or has("EncryptedPackage"):
        return _unreadable("file protetto da password di apertura: salvarlo senza password "
                           "(File > Informazioni > Proteggi cartella di lavoro > Crittografa con password: "
                           "cancellare la password) e restituirlo")
    if suffix == ".xls" or has("Workbook") or has("Book"):
        return _unreadable(f"formato .xls (Excel 97-2003) non supportato: {RESAVE_XLSX}")
    return _unreadable(f"file in un formato Office non supportato: {RESAVE_XLSX}")


def open_package(data: bytes, name: str = "", limits: Limits | None = None, extent: bool = True) -> Package:
    """Check ``data`` (a whole file named ``name``) and return its decompressed parts.

    ``extent``: refuse sheets spanning more than ``limits.max_cells`` (needed before python-calamine,
    which allocates a sheet's whole bounding box; :mod:`piao_xls.sheetio.book` stores only the cells
    inside the form's area and needs no such check).

    Raises :class:`UnsafeFile`: code ``WB-UNSAFE`` for what could harm the reader or hide
    content (size caps, zip bombs, macros, XML entity declarations, inconsistent zip headers),
    ``WB-OPEN`` for what is simply not a readable workbook (with how to fix it).
    """
    assert_defused_xml()
    limits = limits or DEFAULT_LIMITS
    suffix = Path(name).suffix.lower()
    if len(data) > limits.max_size:
        raise _unsafe(_too_big(len(data), limits.max_size))
    kind = sniff(data)
    if suffix in (".xls", ".xlsb"):
        raise _unreadable(f"formato {suffix} non supportato: {RESAVE_XLSX}")
    if kind == "ole":
        raise _ole_message(data, suffix)
    if kind != "zip":
        from .filekind import form_advice, sniff_bytes

        what = sniff_bytes(data[:65536], data)
        if what not in ("text", "binary", "empty"):  # a PDF, an image, a Word file...: say what it is
            raise _unreadable(form_advice(what))
        raise _unreadable("il file non è una cartella di lavoro leggibile (formato non riconosciuto: "
                          "atteso un file .xlsx o .ods)")
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
        infos = z.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, struct.error, EOFError, OSError,
            NotImplementedError, OverflowError, IndexError) as e:
        raise _unreadable(f"il file non è una cartella di lavoro leggibile (archivio danneggiato: "
                          f"{type(e).__name__})") from e
    _check_directory(infos, len(data), limits)
    _check_container(data, infos)
    names = {i.filename for i in infos}
    lower = {n.lower() for n in names}
    if "xl/workbook.bin" in lower:
        raise _unreadable(f"formato .xlsb non supportato: {RESAVE_XLSX}")
    if any(n.endswith("vbaproject.bin") for n in lower) or suffix == ".xlsm":
        raise _unsafe(f"il file contiene macro (cartella di lavoro con macro, .xlsm): le macro non sono ammesse; "
                      f"{RESAVE_XLSX}")
    if any(n.startswith(("basic/", "scripts/")) and not n.endswith("/") and
           not n.rsplit("/", 1)[-1].startswith("script-l") for n in lower):
        raise _unsafe("il file contiene macro (Basic o script di LibreOffice): le macro non sono ammesse; "
                      "salvarlo senza macro come .ods o .xlsx")
    parts = _inflate_all(data, infos, limits)
    if "mimetype" in parts:
        if parts["mimetype"].strip() != ODS_MIMETYPE:
            raise _unreadable("il file OpenDocument non è un foglio di calcolo (.ods): restituire il modulo ricevuto")
        pkg_kind = "ods"
        if "content.xml" not in parts:
            raise _unreadable("il file .ods è incompleto (manca content.xml): salvarlo di nuovo e restituirlo")
    elif "[Content_Types].xml" in parts and "xl/workbook.xml" in parts:
        pkg_kind = "xlsx"
        ctypes = parts["[Content_Types].xml"].lower()
        if b"macroenabled" in ctypes or b"vbaproject" in ctypes:
            raise _unsafe(f"il file contiene macro (tipo di contenuto con macro): le macro non sono ammesse; "
                          f"{RESAVE_XLSX}")
    else:
        raise _unreadable("il file non è una cartella di lavoro Excel (.xlsx) né un foglio OpenDocument (.ods): "
                          "restituire il modulo ricevuto, compilato")
    if extent:
        _check_extent(parts, pkg_kind, limits)
    for part, body in parts.items():
        utf16 = body[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\0" in body[:4]
        if (part.lower().endswith(XML_SUFFIXES) and (b"<!" in body or utf16)
                and any(m in body for m in _DTD_MARKERS)):
            raise _unsafe(f"il file contiene dichiarazioni XML non ammesse (DTD/entità) nella parte «{_name(part)}»: "
                          "file costruito ad arte o danneggiato; salvarlo di nuovo da Excel o LibreOffice")
    package = Package(pkg_kind, data, parts)
    if pkg_kind == "xlsx":
        package.rels = _check_xlsx_references(parts)
    else:
        _check_ods_references(parts)
    return package


def _name(part: str) -> str:
    from .text import printable

    return printable(part[:80])


# --- zip and package ambiguity -------------------------------------------------------------------

_EOCD = b"PK\x05\x06"
_UNICODE_PATH = 0x7075  # Info-ZIP Unicode Path extra field: a second name for the member


def _extra_ids(extra: bytes) -> list[int]:
    ids, i = [], 0
    while i + 4 <= len(extra):
        hid, size = struct.unpack_from("<HH", extra, i)
        ids.append(hid)
        i += 4 + size
    return ids


def _check_container(data: bytes, infos: list[zipfile.ZipInfo]) -> None:
    """One reading of the zip: no second end record, nothing after it, one name per member."""
    eocd = data.rfind(_EOCD)
    if eocd < 0 or eocd + 22 > len(data):
        raise _unreadable("il file non è una cartella di lavoro leggibile (archivio troncato o danneggiato)")
    comment = struct.unpack_from("<H", data, eocd + 20)[0]
    if comment or eocd + 22 != len(data):
        raise _unsafe("archivio con un commento o con dati dopo la fine: file costruito ad arte o modificato; "
                      "salvarlo di nuovo da Excel o LibreOffice")
    bodies = []
    for i in infos:
        off = i.header_offset
        if data[off:off + 4] != b"PK\x03\x04":
            raise _unreadable(f"il file non è una cartella di lavoro leggibile (parte «{_name(i.filename)}» "
                              "danneggiata)")
        n, m = struct.unpack_from("<HH", data, off + 26)
        local_name = data[off + 30:off + 30 + n]
        central_name = i.orig_filename.encode("utf-8" if i.flag_bits & 0x800 else "cp437", "surrogateescape")
        if local_name != central_name:
            raise _unsafe(f"la parte «{_name(i.filename)}» ha due nomi diversi nell'archivio (intestazione locale e "
                          "indice centrale): file costruito ad arte; file rifiutato")
        local_extra = data[off + 30 + n:off + 30 + n + m]
        if _UNICODE_PATH in _extra_ids(i.extra) or _UNICODE_PATH in _extra_ids(local_extra):
            raise _unsafe(f"la parte «{_name(i.filename)}» ha un secondo nome (campo «Unicode Path»): file costruito "
                          "ad arte; file rifiutato")
        start = off + 30 + n + m
        bodies.append((start, start + i.compress_size))
    bodies.sort()
    pos = data.find(_EOCD)
    k = 0
    while 0 <= pos < eocd:
        while k < len(bodies) and bodies[k][1] <= pos:
            k += 1
        if not (k < len(bodies) and bodies[k][0] <= pos):  # not inside a member's compressed bytes
            raise _unsafe("archivio con più di un indice (record di fine ripetuto): programmi diversi leggerebbero "
                          "contenuti diversi; file rifiutato")
        pos = data.find(_EOCD, pos + 1)


def _rels_of(body: bytes, part: str) -> dict[str, tuple[str, str, str]]:
    """Id -> (Type, Target, TargetMode) of one relationships part (expat; no DTD, no entity)."""
    from xml.parsers import expat

    out: dict[str, tuple[str, str, str]] = {}
    p = expat.ParserCreate()
    p.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def refuse(*_):
        raise _unsafe(f"il file contiene dichiarazioni XML non ammesse (DTD/entità) nella parte «{_name(part)}»")

    def start(tag, attrs):
        if tag.rpartition(":")[2] == "Relationship" and "Id" in attrs:
            if attrs["Id"] in out:
                raise _unsafe(f"relazione duplicata «{_name(attrs['Id'])}» nella parte «{_name(part)}»: file "
                              "costruito ad arte; file rifiutato")
            out[attrs["Id"]] = (attrs.get("Type", ""), attrs.get("Target", ""), attrs.get("TargetMode", ""))

    p.StartDoctypeDeclHandler = p.EntityDeclHandler = refuse
    p.StartElementHandler = start
    try:
        p.Parse(body, True)
    except expat.ExpatError as e:
        raise _unreadable(f"il file è danneggiato: XML non valido nella parte «{_name(part)}»") from e
    return out


def resolve_target(source_dir: str, target: str) -> str:
    """A relationship target as a part name ('xl' + 'worksheets/sheet1.xml' -> 'xl/worksheets/sheet1.xml')."""
    path = target.lstrip("/") if target.startswith("/") else (f"{source_dir}/{target}" if source_dir else target)
    out: list[str] = []
    for seg in path.split("/"):
        if seg in ("", "."):
            continue
        if seg == "..":
            if out:
                out.pop()
        else:
            out.append(seg)
    return "/".join(out)


def _rels_part(part: str) -> str:
    head, _, tail = part.rpartition("/")
    return f"{head}/_rels/{tail}.rels" if head else f"_rels/{tail}.rels"


def _check_xlsx_references(parts: dict[str, bytes]) -> dict[str, dict[str, tuple[str, str]]]:
    """Every part must be reached from the package's relationships; returns the parsed relationships."""
    rels: dict[str, dict[str, tuple[str, str]]] = {}
    reached = {"[Content_Types].xml", "_rels/.rels"}
    queue = [("", "_rels/.rels")]
    while queue:
        source_dir, rels_name = queue.pop()
        if rels_name not in parts or rels_name in rels:
            continue
        found = {}
        for rid, (kind, target, mode) in _rels_of(parts[rels_name], rels_name).items():
            if mode == "External":
                continue
            name = resolve_target(source_dir, target)
            found[rid] = (kind, name)
            if name not in reached:
                reached.add(name)
                queue.append((name.rpartition("/")[0], _rels_part(name)))
        rels[rels_name] = found
        reached.add(rels_name)
    stray = [p for p in parts if p not in reached]
    if stray:
        raise _unsafe(f"l'archivio contiene parti a cui il file non rimanda (ad esempio «{_name(stray[0])}»): "
                      "contenuto nascosto o file costruito ad arte; salvarlo di nuovo da Excel o LibreOffice")
    return rels


def _check_ods_references(parts: dict[str, bytes]) -> None:
    """Every part of an OpenDocument file must be listed in its manifest (directories cover what they hold)."""
    from xml.parsers import expat

    listed: set[str] = set()
    manifest = parts.get("META-INF/manifest.xml")
    if manifest is None:  # LibreOffice repairs such a file; its parts other than content.xml are not read
        return
    p = expat.ParserCreate(namespace_separator=" ")
    p.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def refuse(*_):
        raise _unsafe("il file contiene dichiarazioni XML non ammesse (DTD/entità) nel manifesto")

    def start(tag, attrs):
        if tag.endswith(" file-entry"):
            path = next((v for k, v in attrs.items() if k.endswith(" full-path")), "")
            listed.add(path.lstrip("/"))

    p.StartDoctypeDeclHandler = p.EntityDeclHandler = refuse
    p.StartElementHandler = start
    try:
        p.Parse(manifest, True)
    except expat.ExpatError as e:
        raise _unreadable("il file è danneggiato: XML non valido nel manifesto") from e
    folders = tuple(x for x in listed if x.endswith("/") and x)
    for part in parts:
        if part in ("mimetype", "META-INF/manifest.xml") or part in listed or part.startswith(folders):
            continue
        raise _unsafe(f"l'archivio contiene parti che il manifesto non elenca (ad esempio «{_name(part)}»): "
                      "contenuto nascosto o file costruito ad arte; salvarlo di nuovo da LibreOffice")


def _check_directory(infos: list[zipfile.ZipInfo], size: int, limits: Limits) -> None:
    """Limits read from the zip's central directory, before anything is decompressed."""
    if len(infos) > limits.max_members:
        raise _unsafe(f"archivio con troppe parti ({len(infos)}, massimo {limits.max_members}): "
                      "file costruito ad arte o danneggiato")
    total = 0
    spans = []
    for i in infos:
        if i.flag_bits & 0x1:
            raise _unreadable("file protetto da password di apertura (archivio cifrato): salvarlo senza password")
        if i.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _unsafe(f"metodo di compressione non ammesso (tipo {i.compress_type}) nella parte "
                          f"«{i.filename[:80]}»: salvarlo di nuovo da Excel o LibreOffice")
        total += i.file_size
        if total > limits.max_uncompressed:
            raise _unsafe(f"contenuto decompresso troppo grande (oltre {limits.max_uncompressed / 1048576:.0f} MB): "
                          "possibile «zip bomb»; file rifiutato")
        if i.file_size > limits.ratio_floor and i.file_size > limits.max_ratio * max(i.compress_size, 1):
            raise _unsafe(f"rapporto di compressione anomalo nella parte «{i.filename[:80]}» "
                          f"({i.file_size // max(i.compress_size, 1)}:1): possibile «zip bomb»; file rifiutato")
        if i.header_offset < 0 or i.header_offset + 30 + i.compress_size > size:
            raise _unreadable("il file non è una cartella di lavoro leggibile (archivio troncato o danneggiato)")
        spans.append((i.header_offset, i.header_offset + 30 + i.compress_size))
    spans.sort()
    for (_, end), (start, _) in itertools.pairwise(spans):
        if start < end:
            raise _unsafe("archivio con parti sovrapposte: possibile «zip bomb»; file rifiutato")


def _inflate_all(data: bytes, infos: list[zipfile.ZipInfo], limits: Limits) -> dict[str, bytes]:
    """Every member, decompressed without trusting declared sizes."""
    parts: dict[str, bytes] = {}
    view = memoryview(data)
    budget = limits.max_uncompressed
    seen: set[str] = set()  # part names are case-insensitive in OPC
    for i in infos:
        if i.is_dir():
            continue
        if i.filename in parts or i.filename.lower() in seen:
            raise _unsafe(f"parte duplicata nell'archivio: «{i.filename[:80]}»; file costruito ad arte o danneggiato")
        body = _inflate(view, i, min(i.file_size, budget))
        budget -= len(body)
        parts[i.filename] = body
        seen.add(i.filename.lower())
    return parts


def _inflate(view: memoryview, info: zipfile.ZipInfo, cap: int) -> bytes:
    off = info.header_offset
    damaged = _unreadable(f"il file non è una cartella di lavoro leggibile (parte «{info.filename[:80]}» danneggiata)")
    if bytes(view[off:off + 4]) != b"PK\x03\x04":
        raise damaged
    n, m = struct.unpack("<HH", view[off + 26:off + 30])
    start = off + 30 + n + m
    comp = view[start:start + info.compress_size]
    if len(comp) != info.compress_size:
        raise damaged
    if info.compress_type == zipfile.ZIP_STORED:
        body = bytes(comp)
    else:
        d = zlib.decompressobj(-15)
        try:
            body = d.decompress(comp, cap + 1)  # at most one byte more than declared
        except zlib.error as e:
            raise damaged from e
        if len(body) > cap or d.unconsumed_tail:
            raise _unsafe(f"la parte «{info.filename[:80]}» si espande oltre la dimensione dichiarata: "
                          "intestazioni dell'archivio incoerenti (possibile «zip bomb»); file rifiutato")
        if not d.eof:
            raise damaged
    if len(body) != info.file_size or (zlib.crc32(body) & 0xFFFFFFFF) != info.CRC:
        raise damaged
    return body


# --- the area each sheet spans -------------------------------------------------------------

# Any r="..." attribute that is a cell reference beyond column Z or a row number of 5 digits or more.
# A literal first character keeps the scan fast; the character before it is checked separately.
_XLSX_SUSPECT = re.compile(rb"r\s*=\s*[\"'](?:[A-Za-z](?:[A-Za-z]|[0-9]{5})|[0-9]{5})")
_XLSX_CELL_REF = re.compile(rb"(?<![\w:.-])r\s*=\s*[\"']([A-Za-z]{1,8})([0-9]{1,12})[\"']")
_XLSX_ROW_REF = re.compile(rb"(?<![\w:.-])r\s*=\s*[\"']([0-9]{1,12})[\"']")
_ODS_NAME = re.compile(rb'(?:\w{1,64}:)?name\s*=\s*"([^"]*)"')
_ROWS_REPEATED = re.compile(rb'number-rows-repeated="(\d{1,12})"')
_COLS_REPEATED = re.compile(rb'number-columns-repeated="(\d{1,12})"')


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ch - 64
    return n


def _check_extent(parts: dict[str, bytes], kind: str, limits: Limits) -> None:
    """Refuse sheets whose cells span more than ``limits.max_cells`` (what calamine would allocate)."""
    if kind == "xlsx":
        for part, body in parts.items():
            start, end = body.find(b"sheetData"), body.rfind(b"sheetData")
            if start < 0:
                continue
            if len(body) > 4 * limits.max_cells and body.count(b"<c") + body.count(b":c") > limits.max_cells:
                _too_wide(part, 0, 0)  # cells without references: each takes 4 bytes at least ("<c/>")
            if not _xlsx_suspect(body, start, end):
                continue  # every reference is within column Z and row 9999: small enough
            refs = set(_XLSX_CELL_REF.findall(body))
            rows = max([int(r) for _, r in refs] + [int(r) for r in set(_XLSX_ROW_REF.findall(body))] + [1])
            cols = _column_number(max([(len(c), c.upper()) for c, _ in refs] + [(1, b"A")])[1])
            if rows * cols > limits.max_cells:
                _too_wide(part, rows, cols)
    else:
        body = parts.get("content.xml", b"")
        for _, start, end in ods_tables(body):
            rows = cols = 0
            for row, n_rows, cells, _ in ods_rows(body, start, end):
                used = max((col + n for col, n, cell in cells
                            if cell.group(2) == b">" or b"value-type" in cell.group(1)), default=0)
                if used:
                    rows, cols = row + n_rows, max(cols, used)
                if rows * cols > limits.max_cells:
                    _too_wide("content.xml", rows, cols)


def _tags(body: bytes, opener: re.Pattern, start: int, end: int):
    """(match, attributes, self-closing, end of the tag) of each tag ``opener`` finds, scanning forward only:
    each search starts where the previous tag ended, so the scan is linear in the input."""
    pos = start
    while True:
        m = opener.search(body, pos, end)
        if m is None:
            return
        gt = body.find(b">", m.end(), end)
        if gt < 0:
            return
        attrs = body[m.end():gt]
        closed = attrs.endswith(b"/")
        yield m, attrs[:-1] if closed else attrs, closed, gt + 1
        pos = gt + 1


_ODS_TABLE_OPEN = re.compile(rb"<(?:\w{1,64}:)?table(?=[\s>/])")
_ODS_ROW_OPEN = re.compile(rb"<(?:\w{1,64}:)?table-row(?=[\s>/])")
_ODS_ROW_CLOSE = re.compile(rb"</(?:\w{1,64}:)?table-row\s*>")
_ODS_CELL_OPEN = re.compile(rb"<(?:\w{1,64}:)?(?:covered-)?table-cell(?=[\s>/])")


class _CellTag:
    """What ods_rows yields for a cell: group(1) is its attributes, group(2) is b"/>" or b">"."""

    __slots__ = ("_attrs", "_close", "_end")

    def __init__(self, attrs: bytes, closed: bool, end: int):
        self._attrs, self._close, self._end = attrs, b"/>" if closed else b">", end

    def group(self, i: int) -> bytes:
        return self._attrs if i == 1 else self._close

    def end(self) -> int:
        return self._end


def ods_tables(body: bytes) -> list[tuple[str, int, int]]:
    """(name, start, end) of each table (sheet) of an OpenDocument content.xml."""
    from html import unescape

    opens = [(attrs, tag_end) for _, attrs, _, tag_end in _tags(body, _ODS_TABLE_OPEN, 0, len(body))]
    ends = [tag_end for _, tag_end in opens[1:]] + [len(body)] * bool(opens)
    out = []
    for (attrs, tag_end), end in zip(opens, ends, strict=True):
        name = _ODS_NAME.search(attrs)
        out.append((unescape(name.group(1).decode("utf-8", "replace")) if name else "", tag_end, end))
    return out


def ods_rows(body: bytes, start: int, end: int):
    """Each row of a table: (first row index, times repeated, cells, the row's inner bytes), where
    cells are (first column index, times repeated, the cell's opening tag: group(1) its attributes).

    Positions are counted as calamine counts them: repeated rows and columns, covered cells included.
    One forward scan: linear in the input whatever it holds.
    """
    row = 0
    for _, attrs, closed, tag_end in _tags(body, _ODS_ROW_OPEN, start, end):
        rep = _ROWS_REPEATED.search(attrs)
        n_rows = int(rep.group(1)) if rep else 1
        if closed:
            inner = b""
        else:
            close = _ODS_ROW_CLOSE.search(body, tag_end, end)
            inner = body[tag_end:close.start() if close else end]
        cells, col = [], 0
        for _, cattrs, cclosed, cend in _tags(inner, _ODS_CELL_OPEN, 0, len(inner)):
            rc = _COLS_REPEATED.search(cattrs)
            n_cols = int(rc.group(1)) if rc else 1
            cells.append((col, n_cols, _CellTag(cattrs, cclosed, cend)))
            col += n_cols
        yield row, n_rows, cells, inner
        row += n_rows


def _xlsx_suspect(body: bytes, start: int, end: int) -> bool:
    """Could a cell or row reference (between ``start`` and ``end``: sheetData) lie beyond column Z or row 9999?"""
    return any(m.start() > 0 and body[m.start() - 1] in b" \t\r\n" for m in _XLSX_SUSPECT.finditer(body, start, end))


def _too_wide(part: str, rows: int, cols: int) -> None:
    from ..core import italian  # only for this message: the guard imports nothing else of the tool

    size = f"{italian.plain(rows)} righe x {italian.plain(cols)} colonne" if rows else "troppe celle"
    raise _unsafe(f"un foglio occupa un'area enorme ({size}, parte «{part[:80]}»): "
                  "contenuto fuori dall'area del modulo; file rifiutato per non esaurire la memoria. "
                  "Cancellare il contenuto fuori dal modulo o restituire il file ricevuto")


# --- XML parsing through defusedxml -------------------------------------------------------

_LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "ha"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
           b']><l>&b;</l>')


@functools.lru_cache(maxsize=1)
def assert_defused_xml() -> None:
    """Start-up check of the reading path: the reader's XML parser must refuse entity declarations.

    The reader parses package XML with :func:`parse_xml`, which must be defusedxml
    (openpyxl and the standard library parsers are never used on returned files).
    """
    from defusedxml import DefusedXmlException

    try:
        parse_xml(_LAUGHS)
    except DefusedXmlException:
        return
    raise RuntimeError("parse_xml expands XML entities: package XML must be parsed with defusedxml")


def parse_xml(data: bytes):
    """Parse one package XML part with defusedxml (no DTD, no entities, no network)."""
    from defusedxml import ElementTree

    return ElementTree.fromstring(data)
