"""Output adapters for a :class:`~piao_xls.results.consolidate.Consolidation`: summary workbook, JSON, CSV.

Everything a person typed is written as a string, never as a formula; CSV cells that a
spreadsheet would run as a formula are prefixed with an apostrophe. Files are written atomically.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections import Counter
from pathlib import Path

from ..sheetio.atomic import write_bytes_atomic, write_text_atomic
from .consolidate import Consolidation

FORMULA_LEAD = ("=", "+", "-", "@", "\t", "\r", "\n")
MAX_CELL = 32000

SHEETS = {
    "sectors": ("Riepilogo", [("code", "Settore", 8), ("name", "Denominazione", 34), ("responsabile", "Responsabile", 28),
                              ("score", "Punteggio", 11), ("band", "Fascia", 8), ("band_label", "Giudizio", 14),
                              ("objectives_reached", "Obiettivi raggiunti", 11),
                              ("objectives_partly", "Parzialmente", 11), ("objectives_not_reached", "Non raggiunti", 11),
                              ("objectives_not_reported", "Non rendicontati", 11), ("status", "Stato", 22),
                              ("note", "Note", 50)]),
    "objectives": ("Obiettivi", [("sector", "Settore", 8), ("objective", "Obiettivo", 9), ("number", "N.", 5),
                                 ("title", "Titolo", 50), ("weight", "Peso %", 8), ("achievement", "Raggiungimento", 14),
                                 ("points", "Punti", 9), ("band", "Fascia", 8), ("gate", "Di accesso", 9),
                                 ("coefficient", "Coefficiente di peso", 11)]),
    "indicators": ("Indicatori", [("sector", "Settore", 8), ("objective", "Obiettivo", 9), ("indicator", "Indicatore", 10),
                                  ("description", "Descrizione", 45), ("target", "Target", 22),
                                  ("target_year", "Anno del target", 9),
                                  ("rule_it", "Regola", 24), ("source", "Fonte", 12), ("actual", "Valore consuntivo", 20),
                                  ("achievement", "Raggiungimento", 14), ("status", "Stato", 14),
                                  ("analysis", "Analisi scostamenti", 45)]),
    "findings": ("Anomalie", [("severity", "Gravità", 9), ("code", "Codice", 16), ("sector", "Settore", 8),
                              ("file", "File", 40), ("sheet", "Foglio", 20), ("cell", "Cella", 8),
                              ("message", "Descrizione", 70)]),
    "sources": ("Fonti", [("path", "File", 50), ("status", "Stato", 22), ("kind", "Tipo", 8),
                          ("sectors", "Settori", 14), ("used_for", "Usato per", 14), ("saved", "Salvato il", 20),
                          ("size", "Dimensione (byte)", 12), ("sha256", "SHA-256", 66)]),
    # the Nucleo's and the plan's decisions (results/decisions.py): none is applied silently
    "decisions": ("Decisioni", [("origin", "Origine", 9), ("kind_it", "Decisione", 22), ("sector", "Settore", 8),
                                ("objective", "Obiettivo", 9), ("indicator", "Indicatore", 10),
                                ("old_text", "Valore precedente", 14), ("new_text", "Nuovo valore", 14),
                                ("reason", "Motivazione", 40), ("by", "Chi", 22), ("date", "Data", 11),
                                ("applied", "Applicata", 9), ("effect", "Effetto", 60), ("where", "Fonte", 30)]),
}
PERCENT_COLS = {"achievement"}
SEVERITY_IT = {"error": "errore", "warning": "avviso"}


def clean_text(value) -> str:
    """Text any output can hold: no control characters (but tab and newline), no lone surrogates
    (file names that are not valid UTF-8), at most :data:`MAX_CELL` UTF-16 code units (Excel's unit)."""
    s = "" if value is None else str(value)
    if not s.isprintable():
        s = "".join(ch for ch in s if ch in "\t\n" or (ord(ch) >= 32 and ord(ch) != 127))
    if not s.isascii():
        try:
            s.encode("utf-8")  # fails exactly on lone surrogates, at C speed
        except UnicodeEncodeError:
            s = s.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    if len(s) > MAX_CELL // 2:
        s = s.encode("utf-16-le")[:2 * MAX_CELL].decode("utf-16-le", "ignore")
    return s


def _clean_tree(value):
    if isinstance(value, str):
        return clean_text(value) if not value.isprintable() or len(value) > MAX_CELL // 2 else value
    if isinstance(value, dict):
        return {k: _clean_tree(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean_tree(v) for v in value]
    return value


def safe_text(value) -> str:
    """Text for a CSV cell that no spreadsheet will run as a formula."""
    s = clean_text(value)
    return "'" + s if s.startswith(FORMULA_LEAD) else s


def write_json(c: Consolidation, path: str | Path) -> None:
    write_text_atomic(path, json.dumps(_clean_tree(c.to_dict()), ensure_ascii=False, indent=2, default=str))


def write_csv(c: Consolidation, folder: str | Path) -> list[Path]:
    out = []
    for name, (_, cols) in SHEETS.items():
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow([k for k, _, _ in cols])
        for row in getattr(c, name):
            w.writerow([safe_text(row.get(k)) if isinstance(row.get(k), str) else
                        ("" if row.get(k) is None else row.get(k)) for k, _, _ in cols])
        path = Path(folder) / f"{name}.csv"
        write_text_atomic(path, buf.getvalue())
        out.append(path)
    return out


def render_summary(c: Consolidation) -> bytes:
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
                                   "strings_to_urls": False})
    from ..sheetio.docprops import document_time

    wb.set_properties({"title": f"PIAO {c.plan.year} - Comune di {c.plan.comune}: risultati di performance",
                       "author": "piao-xls", "created": document_time().replace(tzinfo=None)})
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "top"})
    text = wb.add_format({"text_wrap": True, "valign": "top", "border": 1})
    num = wb.add_format({"num_format": "0.00", "valign": "top", "border": 1})
    pct = wb.add_format({"num_format": "0.00%", "valign": "top", "border": 1})
    title = wb.add_format({"bold": True, "font_size": 13})
    green = wb.add_format({"bg_color": "#C6EFCE", "font_color": "#006100"})
    amber = wb.add_format({"bg_color": "#FFEB9C", "font_color": "#9C5700"})
    red = wb.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006"})
    sheets = {}
    for name, (sheet_name, cols) in SHEETS.items():
        ws = wb.add_worksheet(sheet_name)
        sheets[name] = ws
        ws.write_string(0, 0, f"Comune di {c.plan.comune} — PIAO {c.plan.year} — {sheet_name}", title)
        for j, (_, label, width) in enumerate(cols):
            ws.set_column(j, j, width)
            ws.write_string(2, j, label, head)
        rows = getattr(c, name)
        for i, row in enumerate(rows, start=3):
            for j, (key, _, _) in enumerate(cols):
                v = row.get(key)
                if key == "severity":
                    v = SEVERITY_IT.get(v, v)
                if v is None or v == "":
                    ws.write_blank(i, j, None, text)
                elif isinstance(v, bool):
                    ws.write_string(i, j, "Sì" if v else "No", text)
                elif isinstance(v, (int, float)) and math.isfinite(v):  # xlsxwriter refuses NaN and infinities
                    ws.write_number(i, j, v, pct if key in PERCENT_COLS else num)
                else:
                    ws.write_string(i, j, clean_text(v), text)
        last = 2 + max(1, len(rows))
        ws.autofilter(2, 0, last, len(cols) - 1)
        ws.freeze_panes(3, 1)
        keys = [k for k, _, _ in cols]
        if "score" in keys:
            col = keys.index("score")
            ws.conditional_format(3, col, last, col, {"type": "cell", "criteria": ">=", "value": 90, "format": green})
            ws.conditional_format(3, col, last, col, {"type": "cell", "criteria": "between", "minimum": 70,
                                                      "maximum": 89.999999, "format": amber})
            ws.conditional_format(3, col, last, col, {"type": "cell", "criteria": "<", "value": 70, "format": red})
        if "achievement" in keys:
            col = keys.index("achievement")
            ws.conditional_format(3, col, last, col, {"type": "cell", "criteria": ">=", "value": 0.999999999,
                                                      "format": green})
            ws.conditional_format(3, col, last, col, {"type": "cell", "criteria": "between", "minimum": 0.000001,
                                                      "maximum": 0.999999999, "format": amber})
            ws.conditional_format(3, col, last, col, {"type": "cell", "criteria": "==", "value": 0, "format": red})
        if "severity" in keys:
            col = keys.index("severity")
            ws.conditional_format(3, col, last, col, {"type": "text", "criteria": "containing", "value": "errore",
                                                      "format": red})
    # charts
    ws = wb.add_worksheet("Grafici")
    ws.write_string(0, 0, "Grafici", title)
    n = len(c.sectors)
    score_col = [k for k, _, _ in SHEETS["sectors"][1]].index("score")
    chart = wb.add_chart({"type": "bar"})
    chart.add_series({"name": "Punteggio", "categories": ["Riepilogo", 3, 0, 2 + n, 0],
                      "values": ["Riepilogo", 3, score_col, 2 + n, score_col], "data_labels": {"value": True}})
    chart.set_title({"name": "Punteggio per settore (0-100)"})
    chart.set_x_axis({"min": 0, "max": 100})
    chart.set_legend({"none": True})
    ws.insert_chart(2, 0, chart, {"x_scale": 1.5, "y_scale": 1.2})
    ach_col = [k for k, _, _ in SHEETS["objectives"][1]].index("achievement")
    start, row_at = 3, 22
    per_sector = Counter(o["sector"] for o in c.objectives)
    for s in c.sectors:
        count = per_sector[s["code"]]
        if count:
            ch = wb.add_chart({"type": "column"})
            ch.add_series({"name": s["code"], "categories": ["Obiettivi", start, 1, start + count - 1, 1],
                           "values": ["Obiettivi", start, ach_col, start + count - 1, ach_col]})
            ch.set_title({"name": f"Raggiungimento obiettivi — {s['code']} {s['name']}"})
            ch.set_y_axis({"min": 0, "max": 1, "num_format": "0%"})
            ch.set_legend({"none": True})
            ws.insert_chart(row_at, 0, ch, {"x_scale": 1.5, "y_scale": 1.0})
            row_at += 16
        start += count
    wb.close()
    return buf.getvalue()


def write_summary(c: Consolidation, path: str | Path) -> None:
    write_bytes_atomic(path, render_summary(c))
