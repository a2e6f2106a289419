"""The every-figure checker: every figure a reader sees, read back from every output, against the evaluation.

A figure is keyed ``(kind, id, field)``: ``("sector", "SF", "score")``, ``("objective", "SF-1", "points")``…
:func:`expected` takes them from the one :class:`~piao_xls.core.evaluation.Evaluation` (its published figures);
each reader takes them from one output, as a reader sees them:

* the summary workbook with openpyxl (the value each cell stores) and with LibreOffice (the text each cell
  shows once LibreOffice has loaded and recalculated it);
* the JSON (the Italian texts ``*_it`` and the published numbers), both CSV flavours;
* the Relazione's .docx with python-docx, generically: a table row whose first cell is an objective's code
  (``SF-1``) is that objective's row and must hold its applied weight, achievement and points as Italian
  numbers; a row whose first cell starts with a sector's code is that sector's and must hold its score. Rows
  are found wherever they are (no heading or table order is assumed). For a Relazione written before this
  contract, a row whose first cell is an objective's number and whose second starts with its title counts too;
* the sector workbooks' live totals, recalculated by LibreOffice, against the provisional figures of the same
  evaluation (the objectives whose values come from another source left out, as the form says).

:func:`compare` lists every difference; an empty list is the only pass. A figure is a number (compared exactly
at the published precision) or ``None`` for a cell that shows a word (a state that is not a result).
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from piao_xls.core.decisions import NEUTRALISE, Decision
from piao_xls.core.evaluation import Evaluation, ObjectiveState, Submission, evaluate
from piao_xls.core.model import Plan, publish_round

Key = tuple[str, str, str]
#: the states whose achievement is a figure (the others show their word)
SHOWN = (ObjectiveState.SCORED, ObjectiveState.NOT_REPORTED, ObjectiveState.NOT_AVAILABLE, ObjectiveState.GATE)
LEFT_OUT = (ObjectiveState.NEUTRALISED, ObjectiveState.EXCLUDED, ObjectiveState.NOT_APPLICABLE)
COUNTS = ("reached", "partly", "not_reached", "not_reported")


@dataclass
class Read:
    """The figures one output shows, and what it could not make sense of."""

    where: str
    figures: dict[Key, float | str | None] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


# --- what every output must show -------------------------------------------------------------------------------

def expected(ev: Evaluation) -> dict[Key, float | str | None]:
    """The published figures of an evaluation: the one truth every output is checked against."""
    out: dict[Key, float | str | None] = {}
    for s in ev.sectors:
        out[("sector", s.code, "score")] = s.published
        out[("sector", s.code, "band")] = s.band or None
        if s.published is not None:
            from piao_xls.core.evaluation import Outcome

            for name in COUNTS:
                out[("sector", s.code, name)] = float(s.count(Outcome(name)))
        for o in s.objectives:
            if not o.scored:
                continue
            oid = o.objective_id
            out[("objective", oid, "achievement")] = o.published_achievement if o.state in SHOWN else None
            if not o.gate:
                out[("objective", oid, "weight_applied")] = o.published_weight_applied
                out[("objective", oid, "points")] = None if o.state in LEFT_OUT else o.published_points
    return out


def sums(ev: Evaluation) -> list[str]:
    """The rows add up: applied weights to 100, points to the score (before a gate's cap), each within the
    rounding of the published figures."""
    problems = []
    for s in ev.sectors:
        if s.published is None:
            continue
        counted = [o for o in s.objectives if not o.gate]
        half = 0.5 * 10 ** -ev.plan.scoring.precision * max(1, len(counted))
        w = sum(o.published_weight_applied or 0 for o in counted)
        if abs(w - 100) > half + 1e-9:
            problems.append(f"{s.code}: the applied weights add up to {w}, not 100")
        p = sum(o.published_points or 0 for o in counted)
        total = s.published if s.note is None or s.note.code != "gate_failed" else \
            ev.plan.scoring.published(float(s.note.params["uncapped"]))  # type: ignore[arg-type]
        if abs(p - total) > half + 1e-9:
            problems.append(f"{s.code}: the points add up to {p}, the score is {total}")
    return problems


def compare(truth: dict[Key, float | str | None], read: Read, keys: Iterable[Key] | None = None) -> list[str]:
    """Every difference between ``truth`` and what ``read`` shows (only ``keys`` when given)."""
    out = [f"{read.where}: {p}" for p in read.problems]
    for key in keys if keys is not None else truth:
        want = truth[key]
        if key not in read.figures:
            out.append(f"{read.where}: {'/'.join(key)} not found (expected {want!r})")
            continue
        got = read.figures[key]
        if isinstance(want, float) and isinstance(got, float):
            if abs(want - got) > 1e-9:
                out.append(f"{read.where}: {'/'.join(key)} shows {got!r}, the evaluation {want!r}")
        elif want != got:
            out.append(f"{read.where}: {'/'.join(key)} shows {got!r}, the evaluation {want!r}")
    return out


# --- reading Italian figures -----------------------------------------------------------------------------------

_NUMBER = re.compile(r"^-?\d{1,3}(\.\d{3})*(,\d+)?%?$|^-?\d+(,\d+)?%?$")


def italian_number(text: object) -> float | None:
    """``"1.234,56"`` -> 1234.56, ``"21,16%"`` -> 21.16 (the percentage as shown), a word -> None. A mark
    after the figure (``"0,00% (n.r.)"``) is dropped: the figure is what counts."""
    if text is None:
        return None
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return float(text)
    s = str(text).strip().replace("\u00a0", " ")
    s = re.sub(r"\s*\(.*\)$", "", s)
    if not _NUMBER.match(s):
        return None
    return float(s.rstrip("%").replace(".", "").replace(",", "."))


def _exact(x: float, decimals: int) -> float:
    """A stored number as the figure it must be: it is kept only when it *is* a figure of ``decimals``
    decimals (a number stored at full precision is reported as is, and differs from the published one)."""
    r = publish_round(x, decimals)
    return r if abs(r - x) < 1e-9 else x


# --- the summary workbook ------------------------------------------------------------------------------------

def _header(ws) -> dict[str, int]:
    return {str(c.value): c.column for c in ws[3] if c.value}


def summary_cells(path: Path) -> dict[Key, tuple[str, str, object]]:
    """Key -> (sheet, cell, stored value) of every figure of the summary's Riepilogo and Obiettivi sheets."""
    from openpyxl import load_workbook

    wb = load_workbook(path)
    out: dict[Key, tuple[str, str, object]] = {}
    tables = [("Riepilogo", "sector", "Settore",
               {"score": "Punteggio (0-100)", "band": "Fascia", "reached": "Obiettivi raggiunti",
                "partly": "Parzialmente raggiunti", "not_reached": "Non raggiunti", "not_reported": "Non rendicontati"}),
              ("Obiettivi", "objective", "Obiettivo",
               {"weight_applied": "Peso applicato %", "achievement": "Raggiungimento", "points": "Punti"})]
    for sheet, kind, key_head, cols in tables:  # one row per sector / objective, from row 4 to the first blank key
        ws = wb[sheet]
        h = _header(ws)
        for r in range(4, ws.max_row + 1):
            key = ws.cell(r, h[key_head]).value
            if not key:
                break
            for name, head in cols.items():
                cell = ws.cell(r, h[head])
                out[(kind, str(key), name)] = (sheet, cell.coordinate, cell.value)
    return out


def read_summary(path: Path, precision: int) -> Read:
    """The summary as openpyxl reads it: the numbers the cells store."""
    read = Read(f"summary {path.name} (openpyxl)")
    for key, (_, _, v) in summary_cells(path).items():
        if key[2] == "band":
            read.figures[key] = str(v) if v else None
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            x = float(v) * (100 if key[2] == "achievement" else 1)
            read.figures[key] = _exact(x, precision if key[2] not in COUNTS else 0)
        else:
            read.figures[key] = italian_number(v)
    return read


def read_summary_libreoffice(lo, path: Path, precision: int) -> Read:
    """The summary as LibreOffice shows it: the text of each cell, recalculated, read as an Italian figure; a
    figure shown with other decimals than the published ones is a problem."""
    read = Read(f"summary {path.name} (LibreOffice)")
    cells = summary_cells(path)
    with lo.open(path) as doc:
        doc.recalc()
        for key, (sheet, ref, _) in cells.items():
            text = doc.get_string(sheet, ref)
            read.figures[key] = (text or None) if key[2] == "band" else italian_number(text)
            if key[2] not in COUNTS and key[2] != "band" and read.figures[key] is not None:
                shown = re.sub(r"\s*\(.*\)$", "", text).rstrip("%")
                decimals = len(shown.split(",")[1]) if "," in shown else 0
                if decimals != precision:
                    read.problems.append(f"{sheet}!{ref} ({'/'.join(key)}) shows {text!r}: {decimals} decimals, "
                                         f"published with {precision}")
    return read


# --- JSON and CSV ----------------------------------------------------------------------------------------------

def read_json(path: Path) -> Read:
    """The JSON's Italian texts (what a program shows), and its published numbers, which must agree with them."""
    read = Read(f"JSON {path.name}")
    data = json.loads(path.read_text(encoding="utf-8"))
    for s in data["sectors"]:
        read.figures[("sector", s["code"], "score")] = italian_number(s.get("score_it") or None)
        read.figures[("sector", s["code"], "band")] = s.get("band") or None
        if s.get("score") is not None:
            for name in COUNTS:
                read.figures[("sector", s["code"], name)] = float(s[f"objectives_{name}"])
        if s.get("score") is not None and publish_round(s["score"], _precision(data)) != s.get("published_score"):
            read.problems.append(f"{s['code']}: score {s['score']} is not published as {s.get('published_score')}")
    for o in data["objectives"]:
        if o.get("state") == "not_scored":
            continue
        for name in ("achievement", "weight_applied", "points"):
            text = o.get(f"{name}_it")
            read.figures[("objective", o["objective"], name)] = italian_number(text or None)
            number = o.get(f"published_{name}")
            if text and number is not None and italian_number(text) != number:
                read.problems.append(f"{o['objective']}: {name}_it {text!r} is not published_{name} {number!r}")
    return read


def _precision(data: dict) -> int:
    return int((data.get("scoring") or {}).get("precision", 2))


def read_csv(folder: Path, excel: bool) -> Read:
    """One CSV flavour: sectors.csv and objectives.csv, numbers as written."""
    read = Read(f"CSV {'Excel' if excel else 'open data'} {folder.name}")

    def rows(name: str) -> list[dict[str, str]]:
        text = (folder / f"{name}.csv").read_bytes().decode("utf-8-sig")
        return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=";" if excel else ","))

    def num(text: str) -> float | None:
        if text == "":
            return None
        try:
            return float(text.replace(",", ".") if excel else text)
        except ValueError:
            return None

    for r in rows("sectors"):
        code = r["settore"]
        read.figures[("sector", code, "score")] = num(r["punteggio"])
        read.figures[("sector", code, "band")] = r["fascia"] or None
        if r["punteggio"]:
            for name, col in zip(COUNTS, ("obiettivi_raggiunti", "obiettivi_parzialmente_raggiunti",
                                          "obiettivi_non_raggiunti", "obiettivi_non_rendicontati"), strict=True):
                read.figures[("sector", code, name)] = num(r[col])
    for r in rows("objectives"):
        oid = r["obiettivo"]
        ach = num(r["raggiungimento"])
        read.figures[("objective", oid, "achievement")] = round(ach * 100, 9) if ach is not None else None
        read.figures[("objective", oid, "weight_applied")] = num(r["peso_applicato"])
        read.figures[("objective", oid, "points")] = num(r["punti"])
    return read


# --- the Relazione (.docx) -------------------------------------------------------------------------------------

def read_docx(path: Path, plan: Plan) -> Read:
    """Every objective row and sector row of every table of the .docx (see the module's docstring)."""
    from docx import Document

    read = Read(f"Relazione {path.name}")
    doc = Document(str(path))
    objectives = {o.id: o for s in plan.sectors for o in s.objectives}
    sector_codes = sorted((s.code for s in plan.sectors), key=len, reverse=True)
    for table in _tables(doc):
        rows = [_unique_cells(row) for row in table.rows]
        numbered = _numbered_sector(rows, plan)
        for cells in rows:
            if not cells:
                continue
            first = cells[0].strip()
            oid = first if first in objectives else numbered.get(first)
            if oid is not None:
                _objective_row(read, oid, cells[1:])
                continue
            code = next((c for c in sector_codes if first == c or re.match(rf"{re.escape(c)}\b[\s–—:-]", first)),
                        None)
            if code is not None:
                numbers = [italian_number(c) for c in cells[1:]]
                read.figures.setdefault(("sector", code, "score-candidates"), ())  # type: ignore[arg-type]
                found = read.figures[("sector", code, "score-candidates")]
                read.figures[("sector", code, "score-candidates")] = tuple(found) + tuple(  # type: ignore[arg-type]
                    n for n, c in zip(numbers, cells[1:], strict=True) if n is not None and "%" not in c)
    return read


def _tables(doc) -> list:
    out, todo = [], list(doc.tables)
    while todo:
        t = todo.pop(0)
        out.append(t)
        for row in t.rows:
            for cell in row.cells:
                todo.extend(cell.tables)
    return out


def _unique_cells(row) -> list[str]:
    """The texts of a row's cells, a merged cell once."""
    out, seen = [], set()
    for cell in row.cells:
        if id(cell._tc) in seen:
            continue
        seen.add(id(cell._tc))
        out.append(cell.text)
    return out


def _numbered_sector(rows: list[list[str]], plan: Plan) -> dict[str, str]:
    """For a Relazione written before the contract (objective rows numbered 1, 2, … with their title): number ->
    objective id, when the numbered rows of this table are the objectives of exactly one sector."""
    numbered = [(c[0].strip(), c[1].strip().rstrip("…").strip()) for c in rows if len(c) > 1 and c[0].strip().isdigit()]
    if not numbered:
        return {}
    found = []
    for s in plan.sectors:
        by_number = {str(o.number): o for o in s.objectives}
        if all(n in by_number and t and by_number[n].title.strip().startswith(t[:40]) for n, t in numbered):
            found.append({n: by_number[n].id for n, _ in numbered})
    return found[0] if len(found) == 1 else {}


def _objective_row(read: Read, oid: str, cells: list[str]) -> None:
    """An objective's figures in a row: every Italian number with a % is a candidate achievement, every other
    one a candidate applied weight or points; the check asks that the published figure be among them."""
    pcts = tuple(italian_number(c) for c in cells if c.strip().endswith("%") and italian_number(c) is not None)
    nums = tuple(italian_number(c) for c in cells if not c.strip().endswith("%") and italian_number(c) is not None)
    for name, found in (("achievement", pcts), ("weight_applied", nums), ("points", nums)):
        key = ("objective", oid, f"{name}-candidates")
        read.figures[key] = tuple(read.figures.get(key) or ()) + found  # type: ignore[operator]


def compare_docx(truth: dict[Key, float | str | None], read: Read, plan: Plan) -> list[str]:
    """The Relazione's rows against the truth: each published figure must be in its row (a figure the row does
    not show is a difference; a word — non rendicontato, escluso — where the truth is a word is fine)."""
    out = [f"{read.where}: {p}" for p in read.problems]
    for key, want in truth.items():
        kind, ident, name = key
        if kind == "sector" and name == "score":
            cands = read.figures.get(("sector", ident, "score-candidates"))
            if cands is None:
                out.append(f"{read.where}: no row for sector {ident}")
            elif want is not None and want not in cands:
                out.append(f"{read.where}: sector {ident} shows {sorted(set(cands))}, the score is {want}")
        elif kind == "objective":
            cands = read.figures.get(("objective", ident, f"{name}-candidates"))
            if cands is None:
                out.append(f"{read.where}: no row for objective {ident}")
            elif isinstance(want, float) and not any(abs(want - c) < 1e-9 for c in cands):  # type: ignore[union-attr]
                if name == "achievement" and want == 0:  # «non rendicontato», «non disponibile»: a word, not 0
                    continue
                if name == "weight_applied" and truth.get(("objective", ident, "points"), 0) is None:
                    continue  # left out: «escluso», «neutralizzato» instead of a weight of 0
                out.append(f"{read.where}: objective {ident} {name}: {want} not among {sorted(set(cands))}")
    return out


# --- the sector workbooks' live totals ----------------------------------------------------------------------

def provisional(plan: Plan, sector_code: str, submission: Submission) -> Evaluation:
    """What a sector's form computes as the Responsabile types: the same evaluation, of the Responsabile's values
    alone, with the objectives the form leaves out (no value typed in this form) left out."""
    sector = plan.sector(sector_code)
    left_out = [Decision(NEUTRALISE, sector_code, o.id, reason="calcolo provvisorio del modulo", by="modulo",
                         date="") for o in sector.objectives
                if o.evaluable and not o.gate and not any(i.source == "responsabile" and i.scored
                                                          for i in o.indicators)]
    return evaluate(plan, [submission], left_out)


def form_cells(plan: Plan, sector_code: str) -> tuple[str, dict[Key, str]]:
    """(sheet name, key -> A1 ref) of the live figures of a sector form's objectives summary."""
    from piao_xls.forms.layout import sector_workbook

    book = sector_workbook(plan, plan.sector(sector_code))
    sheet = book.sheets[1]
    head = next(c for c in sheet.cells if c.col == 0 and c.value == "N." and c.style == "header")
    total = next(c for c in sheet.formulas if c.style == "live_total")
    cells: dict[Key, str] = {("sector", sector_code, "score"): _a1(total.row, total.col)}
    for i, o in enumerate(plan.sector(sector_code).objectives):
        r = head.row + 1 + i
        if not o.gate:
            cells[("objective", o.id, "weight_applied")] = _a1(r, 4)
            cells[("objective", o.id, "points")] = _a1(r, 6)
        cells[("objective", o.id, "achievement")] = _a1(r, 5)
    return sheet.name, cells


def _a1(row: int, col: int) -> str:
    return f"{chr(ord('A') + col)}{row + 1}"


def read_form_libreoffice(lo, path: Path, plan: Plan, sector_code: str) -> Read:
    """A returned sector form, opened and recalculated by LibreOffice: its live figures as shown."""
    read = Read(f"form {path.name} (LibreOffice)")
    sheet, cells = form_cells(plan, sector_code)
    with lo.open(path) as doc:
        doc.recalc()
        for key, ref in cells.items():
            text = doc.get_string(sheet, ref).replace(",", "\u0000").replace(".", ",").replace("\u0000", ".")
            read.figures[key] = italian_number(text)  # en-US LibreOffice: "21.16%" -> read as Italian
    return read


def form_truth(ev: Evaluation, sector_code: str) -> dict[Key, float | str | None]:
    """The figures a form must show: the provisional evaluation's, a left-out objective showing no figure."""
    truth = expected(ev)
    keep = {k: v for k, v in truth.items() if (k[0] == "sector" and k[1] == sector_code and k[2] == "score")
            or (k[0] == "objective" and k[1].startswith(f"{sector_code}-") and k[1] in
                {o.objective_id for o in ev.sector(sector_code).objectives})}
    waiting = False
    for o in ev.sector(sector_code).objectives:
        if o.state in LEFT_OUT:
            keep[("objective", o.objective_id, "weight_applied")] = None  # the form writes «—»
            keep[("objective", o.objective_id, "achievement")] = None
        if o.state == ObjectiveState.NOT_REPORTED:  # nothing typed: the form waits, it shows no figure
            waiting = True
            for name in ("achievement", "points"):
                if ("objective", o.objective_id, name) in keep:
                    keep[("objective", o.objective_id, name)] = None
    if waiting:  # «da compilare (peso rendicontato: …)»
        keep[("sector", sector_code, "score")] = None
    return keep


def finite(x: object) -> bool:
    return isinstance(x, float) and math.isfinite(x)


__all__ = ["Read", "compare", "compare_docx", "expected", "form_cells", "form_truth", "italian_number",
           "provisional", "read_csv", "read_docx", "read_form_libreoffice", "read_json", "read_summary",
           "read_summary_libreoffice", "sums"]
