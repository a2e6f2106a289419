"""The revision workbook for the Nucleo: the plan's versions with their acts, and what each revision changed per
objective and indicator (xlsxwriter, A4 landscape, Italian). Every text is written as a string, never a formula."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

from ..core import italian
from ..core.revisions import CHANGE_IT, LEVEL_IT, PlanDiff, PlanVersion
from ..sheetio.atomic import write_bytes_atomic

MAX_CELL = 32767


def _text(s: object) -> str:
    return str(s)[:MAX_CELL]


def _height(texts: Sequence[str], widths: Sequence[int]) -> float:
    """A row's height in points for wrapped texts (neither Excel nor LibreOffice grows a row written with its
    texts on opening): 15 points a line, a line holding about the column's width in characters."""
    lines = 1
    for t, w in zip(texts, widths, strict=False):
        per = max(1, int(w * 1.1))
        lines = max(lines, sum(max(1, -(-len(part) // per)) for part in str(t).split("\n")))
    return 15.0 * min(lines, 20)


def render_revisions(versions: Sequence[PlanVersion], diffs: Sequence[tuple[PlanVersion, PlanVersion, PlanDiff]],
                     findings_text: Sequence[str] = (), forms: Sequence[Sequence[str]] = ()) -> bytes:
    """Two sheets: «Versioni» (each version with its act, date and reason) and «Modifiche» (one row per change of
    every revision: from version, to version, sector, objective or indicator, what, before, after). «Segnalazioni»
    lists ``findings_text`` (the timeline check) when there are any; «Moduli» lists ``forms`` (file, sectors,
    version, act, received) when given: which returned form was made on which version."""
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
                                   "strings_to_urls": False})
    wb.set_properties({"title": "Versioni e revisioni del piano", "comments": "piao-xls"})
    head = wb.add_format({"bold": True, "bg_color": "#D9E1F2", "border": 1, "text_wrap": True, "valign": "top"})
    cell = wb.add_format({"border": 1, "text_wrap": True, "valign": "top"})
    title = wb.add_format({"bold": True, "font_size": 14})

    def sheet(name: str, heads: Sequence[str], widths: Sequence[int], rows: Sequence[Sequence[object]],
              caption: str) -> None:
        ws = wb.add_worksheet(name)
        ws.set_landscape()
        ws.set_paper(9)  # A4
        ws.fit_to_pages(1, 0)
        ws.repeat_rows(2)
        ws.write_string(0, 0, _text(caption), title)
        for c, (h, w) in enumerate(zip(heads, widths, strict=True)):
            ws.set_column(c, c, w)
            ws.write_string(2, c, h, head)
        ws.set_row(2, _height(heads, widths))
        for r, row in enumerate(rows, start=3):
            for c, v in enumerate(row):
                ws.write_string(r, c, _text(v), cell)
            ws.set_row(r, _height([_text(v) for v in row], widths))
        if rows:
            ws.autofilter(2, 0, 2 + len(rows), len(heads) - 1)
        ws.freeze_panes(3, 0)

    plan = versions[-1].plan if versions else None
    caption = f"PIAO {plan.year} — Comune di {plan.comune}: versioni del piano" if plan else "Versioni del piano"
    sheet("Versioni", ["Versione", "Atto", "Organo", "Numero", "Data", "Motivo", "Impronta"],
          [10, 40, 28, 10, 12, 50, 18],
          [[str(v.number), v.act.text, v.act.organ, v.act.number, italian.day(v.act.day), v.act.reason,
            v.fingerprint[:16]] for v in versions], caption)
    rows = []
    for before, after, d in diffs:
        for ch in d.changes:
            rows.append([f"{before.number} → {after.number}", italian.day(after.act.day), ch.sector,
                         LEVEL_IT[ch.level], ch.item_id, CHANGE_IT[ch.change], ch.before, ch.after])
    sheet("Modifiche", ["Revisione", "Data", "Settore", "Livello", "Codice", "Modifica", "Prima", "Dopo"],
          [10, 12, 9, 12, 10, 18, 50, 50], rows, "Modifiche per obiettivo e indicatore")
    if forms:
        sheet("Moduli", ["File", "Settori", "Versione del piano", "Atto della versione", "Ricevuto"],
              [44, 12, 10, 50, 18], forms, "Moduli restituiti e versione del piano su cui sono compilati")
    if findings_text:
        sheet("Segnalazioni", ["Segnalazione per il Nucleo di Valutazione"], [140],
              [[t] for t in findings_text], "Verifica dei tempi: obiettivi assegnati o modificati in ritardo")
    wb.close()
    return buf.getvalue()


def write_revisions(path: str | Path, versions: Sequence[PlanVersion],
                    diffs: Sequence[tuple[PlanVersion, PlanVersion, PlanDiff]], findings_text: Sequence[str] = (),
                    forms: Sequence[Sequence[str]] = ()) -> None:
    write_bytes_atomic(path, render_revisions(versions, diffs, findings_text, forms))
