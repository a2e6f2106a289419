"""What the Relazione and its technical annex share: a python-docx document with one font family, sober
headings, tables, figures, an index whose page numbers are stored in the .docx, and LibreOffice headless.

The index lists every heading with a PAGEREF field to its bookmark. Its page numbers are computed when the
document is written (:func:`page_numbers`): LibreOffice lays the document out and saves it as .docx, and the
page each field shows there is stored as the field's result in the document that is written. Word and the
previewers then show the numbers as they are, and nothing asks to update fields on opening.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import signal
import subprocess
import tempfile
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ..sheetio.docprops import document_time
from ..sheetio.text import shown_controls

FONT = "Carlito"  # metric twin of Calibri (fonts-crosextra-carlito); the charts use the same family
BODY_PT = 10.5
TABLE_PT = 9.0
SMALL_PT = 9.0
HEADING_COLOR = "1F3864"  # one sober dark blue for headings and table heads
HEAD_FILL = "DCE3EE"
TIMEOUT = 300


class ConversionError(Exception):
    """LibreOffice missing or failing: message in Italian."""


def clean(text: Any) -> str:
    """Text python-docx accepts: no control characters (XML 1.0), no lone surrogates; C1 controls and the
    characters that reorder text shown as escapes (as in every other output)."""
    s = "" if text is None else str(text)
    s = "".join(ch if ch in "\t\n" or (ord(ch) >= 32 and ch != "\x7f") else " " for ch in s)
    s = s.replace("\ufffe", "\ufffd").replace("\uffff", "\ufffd")  # noncharacters XML 1.0 does not allow
    return shown_controls(s).encode("utf-8", "replace").decode("utf-8") if not s.isascii() else s


def short(text: Any, n: int) -> str:
    text = " ".join(str(text or "").split())
    return text if len(text) <= n else text[:n - 1] + "…"


class DocBuilder:
    """A portrait A4 document: headings with bookmarks for the index, paragraphs, tables, figures."""

    def __init__(self, title: str, footer: str, author: str):
        from docx import Document
        from docx.shared import Cm, Pt

        self.Cm, self.Pt = Cm, Pt
        self.doc = Document()
        sec = self.doc.sections[0]
        sec.page_width, sec.page_height = Cm(21), Cm(29.7)
        sec.left_margin = sec.right_margin = Cm(2.2)
        sec.top_margin, sec.bottom_margin = Cm(2), Cm(1.8)
        self.text_width_cm = 21 - 2 * 2.2
        self._styles()
        self.headings: list[tuple[int, str, str]] = []  # level, text, bookmark
        self._page_runs: dict[str, Any] = {}  # bookmark -> the run holding its index entry's page
        self.figures = 0
        self.tables = 0
        self._footer(footer)
        props = self.doc.core_properties
        props.title, props.author, props.language = clean(title), clean(author), "it-IT"
        props.created = props.modified = document_time().replace(tzinfo=None)
        props.last_modified_by, props.revision = clean(author), 1
        props.comments = ""

    # --- styles: one family everywhere, sober sizes --------------------------------------------------------

    def _styles(self) -> None:
        from docx.oxml.ns import qn
        from docx.shared import Pt, RGBColor

        root = self.doc.styles.element
        for fonts in root.iter(qn("w:rFonts")):  # theme fonts (Calibri Light, Cambria...) would override the name
            for attr in list(fonts.attrib):
                if attr.endswith("Theme") or attr.endswith("theme"):
                    del fonts.attrib[attr]
            for attr in ("ascii", "hAnsi", "cs", "eastAsia"):
                fonts.set(qn(f"w:{attr}"), FONT)
        styles = self.doc.styles
        normal = styles["Normal"]
        normal.font.name, normal.font.size = FONT, Pt(BODY_PT)
        normal.paragraph_format.space_after = Pt(4)
        normal.paragraph_format.line_spacing = 1.1
        self._lang(normal.element)
        sizes = {"Title": 20, "Heading 1": 14, "Heading 2": 12, "Heading 3": 11, "Caption": SMALL_PT}
        for name, size in sizes.items():
            st = styles[name]
            st.font.name, st.font.size = FONT, Pt(size)
            st.font.color.rgb = RGBColor.from_string(HEADING_COLOR)
            st.font.italic = False
            fmt = st.paragraph_format
            fmt.keep_with_next = True
            if name == "Heading 1":
                fmt.space_before, fmt.space_after = Pt(16), Pt(6)
            elif name in ("Heading 2", "Heading 3"):
                fmt.space_before, fmt.space_after = Pt(12), Pt(4)
            elif name == "Caption":
                st.font.bold = False
                fmt.space_before, fmt.space_after = Pt(6), Pt(3)
        title = styles["Title"]
        title.font.bold = True
        ppr = title.element.get_or_add_pPr()
        for border in ppr.findall(qn("w:pBdr")):  # the template's coloured rule under the title
            ppr.remove(border)

    @staticmethod
    def _lang(style_el: Any) -> None:
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn

        rpr = style_el.get_or_add_rPr()
        for old in rpr.findall(qn("w:lang")):
            rpr.remove(old)
        lang = OxmlElement("w:lang")
        lang.set(qn("w:val"), "it-IT")
        rpr.append(lang)

    # --- fields ----------------------------------------------------------------------------------------------

    @staticmethod
    def field(paragraph: Any, instr: str, cached: str) -> Any:
        """A field (``instr``) showing ``cached`` until it is updated; returns the run of ``cached``."""
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn

        def char(kind: str) -> None:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
            paragraph.add_run()._r.append(el)

        char("begin")
        instr_el = OxmlElement("w:instrText")
        instr_el.set(qn("xml:space"), "preserve")
        instr_el.text = f" {instr} "
        paragraph.add_run()._r.append(instr_el)
        char("separate")
        run = paragraph.add_run(cached)
        char("end")
        return run

    def _footer(self, text: str) -> None:
        from docx.enum.text import WD_ALIGN_PARAGRAPH

        p = self.doc.sections[0].footer.paragraphs[0]
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        p.add_run(f"{clean(text)} — pagina ")
        self.field(p, "PAGE", "1")
        p.add_run(" di ")
        self.field(p, "NUMPAGES", "1")
        for r in p.runs:
            r.font.size = self.Pt(8.5)

    # --- content ---------------------------------------------------------------------------------------------

    def title(self, text: str, subtitle: str = "") -> None:
        self.doc.add_paragraph(clean(text), style="Title")
        if subtitle:
            p = self.para(subtitle, italic=True)
            p.paragraph_format.space_after = self.Pt(10)

    def heading(self, text: str, level: int) -> Any:
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn

        h = self.doc.add_heading(clean(text), level)
        mark = f"_Toc{len(self.headings) + 1:05d}"
        start = OxmlElement("w:bookmarkStart")
        start.set(qn("w:id"), str(len(self.headings) + 1))
        start.set(qn("w:name"), mark)
        end = OxmlElement("w:bookmarkEnd")
        end.set(qn("w:id"), str(len(self.headings) + 1))
        h._p.insert(1 if h._p.pPr is not None else 0, start)
        h._p.append(end)
        self.headings.append((level, text, mark))
        return h

    def para(self, text: str = "", bold: bool = False, italic: bool = False, size: float | None = None,
             keep: bool = False) -> Any:
        p = self.doc.add_paragraph()
        if text:
            run = p.add_run(clean(text))
            run.bold, run.italic = bold, italic
            if size:
                run.font.size = self.Pt(size)
        if keep:
            p.paragraph_format.keep_with_next = True
        return p

    def rich(self, parts: Iterable[tuple[str, str]], keep: bool = False) -> Any:
        """A paragraph of runs: (text, style) with style "", "b" (bold) or "i" (italic)."""
        p = self.doc.add_paragraph()
        for text, style in parts:
            run = p.add_run(clean(text))
            run.bold, run.italic = "b" in style, "i" in style
        if keep:
            p.paragraph_format.keep_with_next = True
        return p

    def bullet(self, text: str) -> None:
        p = self.doc.add_paragraph(clean(text), style="List Bullet")
        p.paragraph_format.space_after = self.Pt(2)

    def caption(self, kind: str, text: str, keep: bool = True) -> None:
        """«Tabella 3 – …» above a table, «Figura 2 – …» under a figure."""
        from docx.enum.text import WD_ALIGN_PARAGRAPH

        if kind == "Tabella":
            self.tables += 1
            n = self.tables
        else:
            self.figures += 1
            n = self.figures
        cap = self.doc.add_paragraph(clean(f"{kind} {n} – {text}"), style="Caption")
        if kind == "Figura":
            cap.alignment = WD_ALIGN_PARAGRAPH.CENTER
        cap.paragraph_format.keep_with_next = keep

    def table(self, headers: list[str], rows: list[list[Any]], widths_cm: list[float],
              right: Iterable[int] = (), size: float = TABLE_PT, bold_rows: Iterable[int] = (),
              keep_together: bool = False, keep_with_next: bool = False,
              notes: Mapping[int, str] | None = None, note_from: int = 1) -> Any:
        """A table; ``notes``: row index -> a text shown in a row of its own under that row, spanning the
        columns from ``note_from`` (an explanation next to the figures it explains). ``keep_together``: every
        row is kept on the page of the next (a short table is never split); ``keep_with_next``: the table stays
        on the page of what follows (its chart)."""
        from docx.enum.table import WD_TABLE_ALIGNMENT
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn

        right, bold_rows, notes = set(right), set(bold_rows), dict(notes or {})
        t = self.doc.add_table(rows=1, cols=len(headers))
        t.style = "Table Grid"
        t.alignment = WD_TABLE_ALIGNMENT.CENTER
        t.autofit = False
        total_rows = 1 + len(rows) + len(notes)
        done = 0

        def keep(p: Any) -> None:
            nonlocal done
            last = done == total_rows - 1
            p.paragraph_format.keep_with_next = (keep_together and not last) or (keep_with_next and last)

        def fill(cells: Any, values: list[Any], bold: bool = False, shade: str = "", italic: bool = False,
                 first_right: bool = True) -> None:
            nonlocal done
            for j, (cell, v) in enumerate(zip(cells, values, strict=True)):
                cell.width = self.Cm(widths_cm[j])
                p = cell.paragraphs[0]
                p.paragraph_format.space_after = self.Pt(0)
                p.paragraph_format.line_spacing = 1.0
                run = p.add_run(clean(v))
                run.font.size = self.Pt(size)
                run.bold, run.italic = bold, italic
                if j in right and first_right:
                    p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
                keep(p)
                if shade:
                    shd = OxmlElement("w:shd")
                    shd.set(qn("w:val"), "clear")
                    shd.set(qn("w:fill"), shade)
                    cell._tc.get_or_add_tcPr().append(shd)
            done += 1

        for j, w in enumerate(widths_cm):  # the grid: LibreOffice lays the columns out from it
            t.columns[j].width = self.Cm(w)
        fill(t.rows[0].cells, headers, bold=True, shade=HEAD_FILL)
        trpr = t.rows[0]._tr.get_or_add_trPr()
        trpr.append(OxmlElement("w:tblHeader"))  # repeated on every page the table spans
        trpr.append(OxmlElement("w:cantSplit"))
        for i, r in enumerate(rows):
            row = t.add_row()
            row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
            fill(row.cells, r, bold=i in bold_rows)
            if i in notes:
                row.cells[0].paragraphs[0].paragraph_format.keep_with_next = True
                for c in row.cells:
                    c.paragraphs[0].paragraph_format.keep_with_next = True
                note = t.add_row()
                note._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
                cells = note.cells
                merged = cells[note_from].merge(cells[-1]) if note_from < len(cells) - 1 else cells[note_from]
                values = [""] * note_from + [notes[i]]
                fill([*cells[:note_from], merged], values, italic=True, first_right=False)
        spacer = self.doc.add_paragraph()
        spacer.paragraph_format.space_after = self.Pt(2)
        for run in spacer.runs:
            run.font.size = self.Pt(4)
        return t

    def figure(self, png: bytes, caption: str, width_cm: float = 16.0, keep: bool = False) -> None:
        """A picture and its caption under it; ``keep``: both stay on the page of what follows."""
        from docx.enum.text import WD_ALIGN_PARAGRAPH

        pic = self.doc.add_paragraph()
        pic.add_run().add_picture(io.BytesIO(png), width=self.Cm(width_cm))
        pic.alignment = WD_ALIGN_PARAGRAPH.CENTER
        pic.paragraph_format.keep_with_next = True
        pic.paragraph_format.space_after = self.Pt(0)
        self.caption("Figura", caption, keep=keep)

    def index(self, anchor: Any, pages: Mapping[str, int] | None) -> None:
        """The index, before ``anchor`` (a paragraph): each heading with its page (a PAGEREF field whose result
        is the page in ``pages``, by bookmark; "" when not known)."""
        from docx.enum.text import WD_TAB_ALIGNMENT, WD_TAB_LEADER

        pages = pages or {}
        for level, text, mark in self.headings:
            p = anchor.insert_paragraph_before()
            p.paragraph_format.tab_stops.add_tab_stop(self.Cm(self.text_width_cm), WD_TAB_ALIGNMENT.RIGHT,
                                                      WD_TAB_LEADER.DOTS)
            p.paragraph_format.left_indent = self.Cm(0.6 * (level - 1))
            p.paragraph_format.space_after = self.Pt(1)
            run = p.add_run(clean(short(text, 90)) + "\t")
            run.bold = level == 1
            page = pages.get(mark)
            self._page_runs[mark] = self.field(p, f"PAGEREF {mark} \\h", str(page) if page else "")

    def set_pages(self, pages: Mapping[str, int]) -> None:
        """Store the page of each heading (by bookmark) as its index entry's field result."""
        for mark, run in self._page_runs.items():
            page = pages.get(mark)
            run.text = str(page) if page else ""

    def update_fields_on_open(self) -> None:
        """Word asks to update the fields when the document is opened: only when the index's pages could not be
        computed (no LibreOffice)."""
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn

        el = OxmlElement("w:updateFields")
        el.set(qn("w:val"), "true")
        settings = self.doc.settings.element
        # the schema's order: updateFields comes before these (Word refuses a settings part out of order)
        after = {qn(f"w:{n}") for n in ("hdrShapeDefaults", "footnotePr", "endnotePr", "compat", "docVars", "rsids",
                                        "attachedSchema", "themeFontLang", "clrSchemeMapping",
                                        "doNotIncludeSubdocsInStats", "doNotAutoCompressPictures", "forceUpgrade",
                                        "captions", "readModeInkLockDown", "smartTagType", "shapeDefaults",
                                        "doNotEmbedSmartTags", "decimalSymbol", "listSeparator")}
        after.add(qn("m:mathPr"))
        nxt = next((c for c in settings if c.tag in after), None)
        if nxt is not None:
            nxt.addprevious(el)
        else:
            settings.append(el)

    def bytes(self) -> bytes:
        buf = io.BytesIO()
        self.doc.save(buf)
        return buf.getvalue()


# --- LibreOffice headless ------------------------------------------------------------------------------------

def find_soffice() -> str | None:
    env = os.environ.get("PIAO_SOFFICE")
    if env:
        return env
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert(sources: list[Path], target: str, outdir: Path, timeout: float = TIMEOUT) -> list[Path]:
    """Convert ``sources`` with LibreOffice headless (one run, a throw-away profile: no clash with a running
    LibreOffice) into ``outdir``; ``target`` is ``pdf:writer_pdf_Export`` or ``docx:MS Word 2007 XML``."""
    soffice = find_soffice()
    if not soffice:
        raise ConversionError("LibreOffice (soffice) non trovato: installare libreoffice-writer-nogui o indicare "
                              "il programma con PIAO_SOFFICE")
    ext = target.split(":", 1)[0]
    with tempfile.TemporaryDirectory(prefix="piao-relazione-") as tmp:
        profile = Path(tmp) / "profile"
        cmd = [soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
               "--convert-to", target, "--outdir", str(outdir), *map(str, sources)]
        try:
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                    start_new_session=True)  # its own process group: stopped whole on timeout
        except OSError as e:
            raise ConversionError(f"LibreOffice ({soffice}) non avviabile: {e}") from e
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired as e:
            _kill_group(proc)
            raise ConversionError(f"LibreOffice non ha convertito i documenti entro {timeout:.0f} s") from e
        except BaseException:
            _kill_group(proc)
            raise
    made = [outdir / (s.stem + "." + ext) for s in sources]
    if proc.returncode != 0 or not all(m.exists() and m.stat().st_size > 0 for m in made):
        tail = (stderr or stdout or "").strip()[-300:]
        raise ConversionError(f"LibreOffice non ha convertito i documenti (codice {proc.returncode}): {tail}")
    return made


def _kill_group(proc: subprocess.Popen) -> None:
    """Stop soffice and whatever it started (its process group, created for it), then reap it."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()


_PAGEREF = re.compile(r"PAGEREF\s+(_Toc\d+)")


def field_results(docx: bytes) -> dict[str, int]:
    """Bookmark -> the page its PAGEREF field shows, in a .docx saved by LibreOffice (which lays the document
    out and stores each field's result)."""
    from defusedxml import ElementTree

    with zipfile.ZipFile(io.BytesIO(docx)) as z:
        root = ElementTree.fromstring(z.read("word/document.xml"))
    w = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    tags = {f"{w}fldChar", f"{w}instrText", f"{w}t"}
    out: dict[str, int] = {}
    state, mark, text = "", "", ""
    for el in (e for e in root.iter() if e.tag in tags):
        if el.tag == f"{w}fldChar":
            kind = el.get(f"{w}fldCharType")
            if kind == "begin":
                state, mark, text = "instr", "", ""
            elif kind == "separate" and state == "instr":
                state = "result" if mark else ""
            elif kind == "end":
                if state == "result" and text.strip().isdigit():
                    out[mark] = int(text.strip())
                state = ""
        elif el.tag == f"{w}instrText" and state == "instr":
            m = _PAGEREF.search(el.text or "")
            if m:
                mark = m.group(1)
        elif el.tag == f"{w}t" and state == "result":
            text += el.text or ""
    return out


def page_numbers(docx: bytes, timeout: float = TIMEOUT) -> dict[str, int]:
    """The page of every heading of ``docx`` (by bookmark), as LibreOffice lays it out."""
    with tempfile.TemporaryDirectory(prefix="piao-indice-") as tmp:
        src = Path(tmp) / "in" / "documento.docx"
        src.parent.mkdir()
        src.write_bytes(docx)
        out = Path(tmp) / "out"
        made = convert([src], "docx:MS Word 2007 XML", out, timeout)
        return field_results(made[0].read_bytes())


__all__ = ["BODY_PT", "FONT", "TABLE_PT", "ConversionError", "DocBuilder", "clean", "convert", "field_results",
           "find_soffice", "page_numbers", "short"]
