"""The Responsabile's workbook, judged by real LibreOffice: protection, validation, live scores, print setup.

Every generated workbook of the bundled plan is opened in headless LibreOffice (tests/libreoffice.py):
- locking and data validation of every cell, as LibreOffice reads them;
- a user typing through the dispatcher (locked cells refuse, input cells accept);
- LibreOffice's own "Mark Invalid Data" judging valid and invalid values;
- the live formulas, recalculated by LibreOffice, against the Python scoring engine to 1e-9;
- the print setup as written, and as LibreOffice keeps it when it saves the file.
"""

from __future__ import annotations

import collections
import io
import re
from datetime import date, timedelta
from pathlib import Path

import openpyxl
import pytest
from libreoffice import LibreOffice

from piao_xls.core import answers, scoring
from piao_xls.core.model import Plan, Sector, publish_round
from piao_xls.forms.layout import (
    A,
    Cell,
    E,
    F,
    G,
    SheetLayout,
    a1,
    all_sectors_workbook,
    plan_workbooks,
    sector_workbook,
)
from piao_xls.forms.samples import sample_values
from piao_xls.forms.writer import render
from piao_xls.plan.load import load_plan
from piao_xls.plan.planfile import parse_plan

pytestmark = pytest.mark.libreoffice

BOOK_NAMES = [b.filename for b in plan_workbooks(load_plan())]
ALL_BOOK = BOOK_NAMES[0]
SF_BOOK = "PIAO-2025-SF-Finanziario.xlsx"
SF = "SF - Finanziario"
TOL = 1e-9

# unit of an input -> (LibreOffice validation type, operator)
# (numbers and dates: a custom rule, the range of the unit or "non disponibile")
UNIT_VALIDATION = {
    "percent": ("CUSTOM", None),
    "number": ("CUSTOM", None),
    "amount": ("CUSTOM", None),
    "date": ("CUSTOM", None),
    "yes_no": ("LIST", None),
    "text": ("TEXT_LEN", "LESS_EQUAL"),
}
ITALIAN = re.compile(r"\b(Inserire|Scegliere|Testo|testo|importo|percentuale|data|numero|caratteri)\b")

# A small plan with what the bundled plan lacks: Sì/No, at_most with a worst value, a target above 100%,
# an amount, a range starting at 0, a Nucleo indicator, a partial late penalty and a threshold.
YN_PLAN = """\
comune: Prova
year: 2025
scoring: {SCORING}
sectors:
  - code: YN
    name: Prova
    short_name: YN - Prova
    responsabile: {name: Mario Rossi, title: Dott.}
    objectives:
      - number: 1
        title: ADEMPIMENTO
        weight: 30
        steps: [{text: Fase unica, tempi: Giugno}]
        indicators:
          - description: Adempimento realizzato
            target: "Sì"
            rule: {kind: yes_no}
          - description: Giorni di ritardo medi
            target: "<= 5 giorni"
            weight: 2
            rule: {kind: at_most, unit: number, target: 5, worst: 30}
      - number: 2
        title: SCADENZE
        weight: 30
        indicators:
          - description: Rispetto del cronoprogramma
            target: "Entro il 30/06/2025"
          - description: "% utenti soddisfatti rispetto al previsto"
            target: "120%"
            rule: {kind: at_least, unit: percent, target: "120%"}
      - number: 3
        title: CERTIFICAZIONE
        weight: 20
        indicators:
          - description: Certificazione del Nucleo
            target: "100%"
            source: nucleo
      - number: 4
        title: ENTRATE
        weight: 20
        indicators:
          - description: Entrate riscosse
            target: "50000 €"
          - description: Numero di reclami
            target: "0 ≤ x ≤ 10"
            rule: {kind: range, unit: number, low: 0, high: 10}
"""
YN_SCORING = {
    "penalty": '{late_penalty_per_month: 0.25, threshold: "50%"}',
    "min": '{late_penalty_per_month: 0.5, aggregation: min}',
}


def yn_plan(scoring_line: str = YN_SCORING["penalty"]) -> Plan:
    plan, findings = parse_plan(YN_PLAN.replace("{SCORING}", scoring_line), "yn-plan.yaml")
    assert plan is not None, [str(f) for f in findings]
    return plan


@pytest.fixture(scope="module")
def yn_book(tmp_path_factory) -> tuple[Plan, SheetLayout, Path]:
    """The Responsabile's workbook of the small Sì/No plan."""
    plan = yn_plan()
    book = sector_workbook(plan, plan.sectors[0])
    path = tmp_path_factory.mktemp("yn") / book.filename
    path.write_bytes(render(book))
    return plan, book.sheets[1], path


# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------

def a1_pos(ref: str) -> tuple[int, int]:
    letters = "".join(ch for ch in ref if ch.isalpha())
    col = 0
    for ch in letters:
        col = col * 26 + ord(ch) - 64
    return int(ref[len(letters):]) - 1, col - 1


def covered(cell: Cell) -> list[tuple[int, int]]:
    """Every (row, col) of a cell, all of its merged range included."""
    last_row, last_col = cell.merge_to or (cell.row, cell.col)
    return [(r, c) for r in range(cell.row, last_row + 1) for c in range(cell.col, last_col + 1)]


def input_of(sheet: SheetLayout, key: str) -> Cell:
    return sheet.inputs[key]


def write(doc, sheet: SheetLayout, values: dict[str, object]) -> None:
    for key, value in values.items():
        doc.set_value(sheet.name, sheet.inputs[key].ref, value)


def python_value(unit: str, value: object) -> object:
    """A workbook value as the scoring engine takes it (as the reader gives it)."""
    if value is None or value == "":
        return None
    if answers.is_not_available(value):
        return answers.NOT_AVAILABLE
    if unit == "yes_no":
        return answers.parse_yes_no(value)
    return value


def live_scores(plan: Plan, sector: Sector, sheet: SheetLayout, values: dict[str, object]):
    """What the live formulas of a sector sheet compute, by the Python engine.

    The sector sheet has inputs only for the Responsabile's indicators: those from the Nucleo or an
    external source are left out of the live calculation (treated as informative), so an objective
    whose only counted indicators come from another source is not evaluable there.
    """
    per_ind: dict[str, dict[str, object]] = {}
    for key, value in values.items():
        ind_id, name = key.split("|", 1)
        if name == "analisi" or "|" in name:
            continue
        per_ind.setdefault(ind_id, {})[name] = python_value(sheet.inputs[key].unit, value)
    ind_scores = {}
    for ind in sector.indicators:
        if ind.source != "responsabile":
            ind_scores[ind.id] = scoring.IndicatorScore(ind.id, scoring.INFORMATIVE, None, "altra fonte")
        else:
            ind_scores[ind.id] = scoring.score_indicator(ind, per_ind.get(ind.id, {}), plan.scoring)
    objectives = tuple(scoring.score_objective(o, ind_scores, plan.scoring) for o in sector.objectives)
    return ind_scores, objectives, scoring.sector_score_value(objectives)


def summary_rows(sheet: SheetLayout) -> tuple[int, int, int]:
    """(first objective row, total row, band row) of the objectives summary of a sector sheet."""
    header = next(c for c in sheet.cells if c.col == A and c.value == "N." and c.style == "header")
    total = next(c for c in sheet.formulas if c.style == "live_total")
    band = next(c for c in sheet.formulas if c.style == "live_text")
    return header.row + 1, total.row, band.row


def compare_sheet(doc, plan: Plan, sector: Sector, sheet: SheetLayout, values: dict[str, object],
                  label: str) -> list[str]:
    """Differences between the live cells (recalculated by LibreOffice) and the Python engine."""
    ind_scores, objectives, total = live_scores(plan, sector, sheet, values)
    by_pos = {(c.row, c.col): c for c in sheet.cells}
    errors: list[str] = []

    def number(ref: str, expected: float, what: str) -> None:
        got = doc.get_value(sheet.name, ref)
        if not isinstance(got, float) or abs(got - expected) > TOL:
            errors.append(f"[{label}] {sheet.name}!{ref} ({what}): LibreOffice {got!r}, Python {expected!r}")

    def text(ref: str, expected: str, what: str) -> None:
        got = doc.get_value(sheet.name, ref)
        if (got or "") != expected:
            errors.append(f"[{label}] {sheet.name}!{ref} ({what}): LibreOffice {got!r}, expected {expected!r}")

    waiting: set[str] = set()  # indicators with an empty input: their live cells stay blank
    for ind in sector.indicators:
        if ind.source != "responsabile":
            continue
        row = next(c.row for k, c in sheet.inputs.items() if k.startswith(f"{ind.id}|") and c.unit != "text")
        live = by_pos.get((row, G))
        s = ind_scores[ind.id]
        names = [k.split("|", 1)[1] for k, c in sheet.inputs.items() if k.startswith(f"{ind.id}|") and c.unit != "text"]
        if s.status != scoring.INFORMATIVE and any(python_value("", values.get(f"{ind.id}|{n}")) is None
                                                   for n in names):
            waiting.add(ind.id)
            if live is not None and live.kind == "formula":
                text(live.ref, "", f"indicator {ind.id} waiting for its value")
            continue
        if s.reason == scoring.NOT_AVAILABLE_REASON:
            text(live.ref, "n.d.", f"indicator {ind.id} not available")
            continue
        if s.status == scoring.INFORMATIVE:
            if live is not None and live.kind == "formula":
                errors.append(f"{sheet.name}!{a1(row, G)}: informative {ind.id} has a live formula")
            continue
        if live is None or live.kind != "formula":
            errors.append(f"{sheet.name}!{a1(row, G)}: scored indicator {ind.id} has no live formula")
            continue
        number(live.ref, s.achievement, f"indicator {ind.id}, {s.status}")
    first, total_row, band_row = summary_rows(sheet)
    complete = True
    reported = evaluable = 0.0
    # the summary shows each objective's applied weight (re-proportioned over the objectives evaluable in this
    # sheet) and its points with it: the points add up to the total
    applied_total = sum(o.weight for o in objectives if o.evaluable and not o.gate)
    points_sum = 0.0
    for i, (o, obj) in enumerate(zip(sector.objectives, objectives, strict=True)):
        ach_cell, pts_cell = by_pos[(first + i, F)], by_pos[(first + i, G)]
        if obj.evaluable != (ach_cell.kind == "formula"):
            errors.append(f"{sheet.name}!{ach_cell.ref}: objective {obj.objective_id} evaluable={obj.evaluable} "
                          f"in Python but the cell is a {ach_cell.kind}")
            continue
        if not obj.evaluable:
            continue
        evaluable += obj.weight
        if any(i.id in waiting for i in o.indicators):
            complete = False
            text(ach_cell.ref, "", f"objective {obj.objective_id} waiting")
            text(pts_cell.ref, "", f"objective {obj.objective_id} points waiting")
            continue
        reported += obj.weight
        # every figure of the summary is the published one (ROUND at the plan's precision, as publish_round)
        prec = plan.scoring.precision
        number(ach_cell.ref, publish_round(obj.achievement * 100, prec) / 100,
               f"objective {obj.objective_id} achievement")
        number(pts_cell.ref, publish_round(obj.points * 100 / applied_total, prec), f"objective {obj.objective_id} points")
        number(by_pos[(first + i, E)].ref, publish_round(obj.weight * 100 / applied_total, prec) / 100,
               f"objective {obj.objective_id} applied weight")
        points_sum += publish_round(obj.points * 100 / applied_total, prec)
    if not complete:  # the total says how much of the weight is reported; no band yet
        text(a1(total_row, F), f"da compilare (peso rendicontato: {round(reported * 100 / evaluable):g}%)",
             "total waiting")
        text(a1(band_row, F), "", "band waiting")
        return errors
    number(a1(total_row, F), publish_round(total, plan.scoring.precision), f"sector {sector.code} total")
    if not any(o.gate for o in objectives):  # the shown points add up to the shown total, to their rounding
        got = doc.get_value(sheet.name, a1(total_row, F))
        half = 0.5 * 10 ** -plan.scoring.precision * len(objectives)
        if not isinstance(got, float) or abs(got - points_sum) > half + 1e-9:
            errors.append(f"[{label}] sector {sector.code}: total {got!r}, points add up to {points_sum!r}")
    band = plan.scoring.band(total)
    want = f"{band.code} - {band.label}"
    got = doc.get_value(sheet.name, a1(band_row, F))
    if got != want:
        errors.append(f"[{label}] {sheet.name}!{a1(band_row, F)} (band of {total!r}): LibreOffice {got!r}, "
                      f"Python {want!r}")
    return errors


def edge_values(plan: Plan, sector: Sector, sheet: SheetLayout, shift: int = 0) -> dict[str, object]:
    """Hand-picked edge values, cycling per rule kind over the sector's indicators, from option ``shift``."""
    seen: collections.Counter[str] = collections.Counter()

    def pick(kind: str, options: list) -> object:
        seen[kind] += 1
        return options[(shift + seen[kind] - 1) % len(options)]

    out: dict[str, object] = {}
    for ind in sector.indicators:
        if ind.source != "responsabile":
            continue
        r, key = ind.rule, f"{ind.id}|"
        if r.kind == "at_least":
            t = r.target or 0.0
            above = (sheet.inputs[key + "value"].validation.maximum if r.unit == "percent" else 1.5 * t) or 1.0
            out[key + "value"] = pick("at_least", [t, 0.0, t / 2, above])
        elif r.kind == "at_most":
            t = r.target or 0.0
            opts = [t, t + 1, -1.0] + ([r.worst, (t + r.worst) / 2, t + 0.35 * (r.worst - t)] if r.worst else [])
            out[key + "value"] = pick("at_most", opts)
        elif r.kind == "range":
            top = sheet.inputs[key + "value"].validation.maximum
            out[key + "value"] = pick("range", [r.low, r.high, (r.low or 0) / 2, min(top, (r.high or 0) * 1.1 or 1.0)])
        elif r.kind == "deadline":
            out[key + "date"] = r.deadline + timedelta(days=pick("deadline", [31, 0, 30, 1, 61, -5]))
        elif r.kind == "yes_no":
            out[key + "value"] = pick("yes_no", ["Sì", "No"])
        elif r.kind == "fraction":
            num, den = pick("fraction", [(5000.0, 0.0), (0.0, 0.0), (100.0, 100.0), (150.0, 100.0)])
            out[key + "numerator"], out[key + "denominator"] = num, den
        elif r.kind == "increase":
            base, cur = pick("increase", [(0.0, 5.0), (0.0, 0.0), (10.0, 10 * (1 + (r.increase or 0)))])
            out[key + "baseline"], out[key + "current"] = base, cur
    return {k: v for k, v in out.items() if k in sheet.inputs}


def invalid_inputs(doc, sheet: SheetLayout) -> list[str]:
    """The input cells LibreOffice circles as invalid, named (empty when none)."""
    if doc.invalid_cells(sheet.name) == 0:
        return []
    return [f"{sheet.name}!{c.ref} ({k})" for k, c in sheet.inputs.items() if doc.is_invalid(sheet.name, c.ref)]


def blank_some(sheet: SheetLayout, values: dict[str, object]) -> dict[str, object]:
    """Every third value input left empty (not reported: scores 0 in both engines)."""
    keys = [k for k, c in sheet.inputs.items() if c.unit != "text"]
    return {**values, **{k: None for k in keys[::3]}}


def scenarios(plan: Plan, sector: Sector, sheet: SheetLayout) -> dict[str, dict[str, object]]:
    out = {f"seed {seed}": sample_values(sheet, seed, plan.year) for seed in (1, 2, 3)}
    for shift in range(6):
        out[f"edges {shift}"] = {**sample_values(sheet, 10 + shift, plan.year),
                                 **edge_values(plan, sector, sheet, shift)}
    out["blanks"] = blank_some(sheet, sample_values(sheet, 5, plan.year))
    out["all met"] = {**sample_values(sheet, 6, plan.year), **met_values(sector, sheet)}
    return out


def met_values(sector: Sector, sheet: SheetLayout) -> dict[str, object]:
    """Every target exactly met: the sector scores 100, band A."""
    out: dict[str, object] = {}
    for ind in sector.indicators:
        r, key = ind.rule, f"{ind.id}|"
        if r.kind in ("at_least", "at_most"):
            out[key + "value"] = r.target
        elif r.kind == "range":
            out[key + "value"] = r.high
        elif r.kind == "deadline":
            out[key + "date"] = r.deadline
        elif r.kind == "yes_no":
            out[key + "value"] = "Sì"
        elif r.kind == "fraction":
            out[key + "numerator"], out[key + "denominator"] = 1000.0 * (r.target or 0), 1000.0
        elif r.kind == "increase":
            out[key + "baseline"], out[key + "current"] = 10.0, 10 * (1 + (r.increase or 0))
    return {k: v for k, v in out.items() if k in sheet.inputs}


# --------------------------------------------------------------------------------------
# 1. protection and validation of every generated workbook
# --------------------------------------------------------------------------------------

def check_validation(doc, book: str, sheet: SheetLayout, cell: Cell, ref: str) -> list[str]:
    where = f"{book}: {sheet.name}!{ref} ({cell.key}, {cell.unit})"
    v, want = doc.validation(sheet.name, ref), cell.validation
    errors = []
    vtype, op = UNIT_VALIDATION[cell.unit]
    if v["type"] != vtype or (op and v["operator"] != op):
        errors.append(f"{where}: validation {v['type']}/{v['operator']}, expected {vtype}/{op}")
    if v["error_style"] != "STOP" or not v["show_error"] or not v["show_input"]:
        errors.append(f"{where}: error style {v['error_style']}, show_error {v['show_error']}, "
                      f"show_input {v['show_input']}")
    for what in ("input_message", "error_message", "input_title", "error_title"):
        text = v[what]
        if not text.strip() or text != getattr(want, what)[:255]:
            errors.append(f"{where}: {what} {text!r}, expected {getattr(want, what)!r}")
    for what in ("input_message", "error_message"):
        if not ITALIAN.search(v[what]):
            errors.append(f"{where}: {what} {v[what]!r} does not read as Italian")
    if vtype == "CUSTOM":
        formula = v["formula1"].replace(";", ",")
        lo, hi = ((f"DATE({d.year},{d.month},{d.day})" for d in (want.minimum, want.maximum)) if cell.unit == "date"
                  else (f"{x:g}" if abs(x) < 1e9 else str(int(x)) for x in (want.minimum, want.maximum)))
        if ('"non disponibile"' not in formula or f"{ref}>={lo}" not in formula.replace("$", "")
                or f"{ref}<={hi}" not in formula.replace("$", "")) and (cell.row, cell.col) == a1_pos(ref):
            errors.append(f"{where}: custom rule {v['formula1']!r}, expected {lo}..{hi} or non disponibile")
    if vtype == "DECIMAL" and (float(v["formula1"]), float(v["formula2"])) != (want.minimum, want.maximum):
        errors.append(f"{where}: bounds {v['formula1']}..{v['formula2']}, expected {want.minimum}..{want.maximum}")
    if vtype == "DATE":
        serials = tuple(float((d - date(1899, 12, 30)).days) for d in (want.minimum, want.maximum))
        if (float(v["formula1"]), float(v["formula2"])) != serials:
            errors.append(f"{where}: dates {v['formula1']}..{v['formula2']}, expected {want.minimum}..{want.maximum}")
    if vtype == "LIST" and [s.strip('"') for s in v["formula1"].split(";")] != list(want.choices):
        errors.append(f"{where}: list {v['formula1']!r}, expected {want.choices}")
    if vtype == "TEXT_LEN" and float(v["formula1"]) != want.maximum:
        errors.append(f"{where}: length limit {v['formula1']}, expected {want.maximum}")
    return errors


@pytest.mark.parametrize("book_name", BOOK_NAMES)
def test_every_cell_is_locked_or_a_validated_input(libreoffice, plan, bundled_dir, book_name):
    """Every sheet protected; inputs (whole merged range) unlocked and validated; every other cell locked.

    Every cell of the used range is checked, one UNO call each (about 2 ms a cell)."""
    book = next(b for b in plan_workbooks(plan) if b.filename == book_name)
    errors: list[str] = []
    with libreoffice.open(bundled_dir / book_name) as doc:
        assert doc.sheet_names() == [s.name for s in book.sheets], book_name
        for sheet in book.sheets:
            if not doc.is_protected(sheet.name):
                errors.append(f"{book_name}: sheet {sheet.name!r} is not protected")
            unlocked = {}
            for cell in sheet.inputs.values():
                for rc in covered(cell):
                    unlocked[rc] = cell
            used_row, used_col = doc.used_range(sheet.name)
            last_row = max(used_row, sheet.last_row)
            last_col = max(used_col, len(sheet.col_widths) - 1, *(c for _, c in unlocked))
            for r in range(last_row + 1):
                for c in range(last_col + 1):
                    ref = a1(r, c)
                    locked = doc.cell_locked(sheet.name, ref)
                    cell = unlocked.get((r, c))
                    if cell is not None and locked:
                        errors.append(f"{book_name}: {sheet.name}!{ref} is input {cell.key} but locked")
                    elif cell is None and not locked:
                        errors.append(f"{book_name}: {sheet.name}!{ref} is not an input but unlocked")
            for (r, c), cell in unlocked.items():
                errors += check_validation(doc, book_name, sheet, cell, a1(r, c))
            if sheet.kind == "sector":
                assert sheet.inputs, f"{sheet.name}: no inputs"
    assert not errors, f"{len(errors)} problem(s):\n" + "\n".join(errors[:40])


def test_every_kind_of_input_is_present(plan):
    """The checks above see each unit the bundled plan needs (yes_no comes from the small plan)."""
    units = {c.unit for b in plan_workbooks(plan) for s in b.sheets for c in s.inputs.values()}
    assert units == {"percent", "number", "amount", "date", "text"}
    yn = yn_plan()
    assert "yes_no" in {c.unit for c in sector_workbook(yn, yn.sectors[0]).sheets[1].inputs.values()}


def test_yes_no_input_is_a_validated_list(libreoffice, yn_book):
    _, sheet, path = yn_book
    errors = []
    with libreoffice.open(path) as doc:
        for cell in sheet.inputs.values():
            if doc.cell_locked(sheet.name, cell.ref):
                errors.append(f"{sheet.name}!{cell.ref} ({cell.key}) is locked")
            errors += check_validation(doc, path.name, sheet, cell, cell.ref)
    assert not errors, "\n".join(errors)


# --------------------------------------------------------------------------------------
# 2. a user typing through the dispatcher
# --------------------------------------------------------------------------------------

def test_typing_into_locked_cells_is_refused(libreoffice, plan, bundled_dir):
    sheet = sector_workbook(plan, plan.sector("SF")).sheets[1]
    row = input_of(sheet, "SF-1.1|value").row
    first, total_row, band_row = summary_rows(sheet)
    nucleo_row = next(c.row for c in sheet.cells if c.value == "Valore fornito da altra fonte")
    targets = {
        "title": "A1",
        "indicator description": a1(row, 1),
        "target": a1(row, 2),
        "achievement formula": a1(row, G),
        "objective achievement": a1(first, F),
        "objective points": a1(first, G),
        "sector total": a1(total_row, F),
        "band": a1(band_row, F),
        "weight": a1(first, 4),
        "Nucleo's value": a1(nucleo_row, 4),
        "part of a merged title": "C1",
    }
    # one refusal per loaded document: a second "protected cell" message box in the same document
    # aborts headless LibreOffice 7.4 (Dialog::ImplStartExecute); loading is cheap (~0.1 s)
    for what, ref in targets.items():
        with libreoffice.open(bundled_dir / SF_BOOK) as doc:
            before = doc.get_formula(SF, ref)
            assert not doc.type_into(SF, ref, "99"), f"{SF}!{ref} ({what}) accepted typing"
            assert doc.get_formula(SF, ref) == before, f"{SF}!{ref} ({what}) changed"
            ok = input_of(sheet, "SF-1.1|value").ref
            assert doc.type_into(SF, ok, "0.5"), f"{SF}!{ok}: input refused after a refusal on {ref}"


def test_typing_into_input_cells_is_accepted(libreoffice, plan, bundled_dir, yn_book):
    sheet = sector_workbook(plan, plan.sector("SF")).sheets[1]
    cases = [  # key, typed, expected value
        ("SF-1.1|value", "0.95", 0.95),
        ("SF-1.2|date", "2025-11-15", float((date(2025, 11, 15) - date(1899, 12, 30)).days)),
        ("SF-6.1|numerator", "150000.5", 150000.5),
        ("SF-6.1|denominator", "200000", 200000.0),
        ("SF-4.1|value", "-3", -3.0),
        ("SF-1.1|analisi", "Due procedimenti oltre i termini.", "Due procedimenti oltre i termini."),
        ("SF-1|step1|tempi", "Novembre 2025", "Novembre 2025"),
        ("SF-1|step1|risultato", "Monitoraggio pubblicato", "Monitoraggio pubblicato"),
        ("SF-7.1|value", "1.05", 1.05),  # not a share: 105% can be typed
        ("SF-3.1|value", "Non disponibile", "Non disponibile"),
    ]
    with libreoffice.open(bundled_dir / SF_BOOK) as doc:
        for key, typed, want in cases:
            ref = input_of(sheet, key).ref
            assert doc.type_into(SF, ref, typed, validate=True), f"{SF}!{ref} ({key}) refused {typed!r}"
            got = doc.get_value(SF, ref)
            assert got == pytest.approx(want) if isinstance(want, float) else got == want, f"{SF}!{ref}: {got!r}"
        doc.recalc()
        live = a1(input_of(sheet, "SF-1.1|value").row, G)
        assert doc.get_value(SF, live) == pytest.approx(0.95, abs=TOL), f"{SF}!{live} did not follow the input"
        live = a1(input_of(sheet, "SF-6.1|numerator").row, G)
        assert doc.get_value(SF, live) == pytest.approx(150000.5 / 200000, abs=TOL), f"{SF}!{live}"
        # the Stop alert (emulated by the harness) refuses invalid typing and keeps the value
        ref = input_of(sheet, "SF-1.1|value").ref
        for bad in ("circa 80", "1.5", "non disp."):
            assert not doc.type_into(SF, ref, bad, validate=True), f"{SF}!{ref} accepted {bad!r}"
            assert doc.get_value(SF, ref) == pytest.approx(0.95), f"{SF}!{ref} lost its value after {bad!r}"
    _, yn_sheet, path = yn_book
    ref = next(c.ref for c in yn_sheet.inputs.values() if c.unit == "yes_no")
    with libreoffice.open(path) as doc:
        assert doc.type_into(yn_sheet.name, ref, "Sì", validate=True), f"{yn_sheet.name}!{ref} refused 'Sì'"
        assert doc.get_value(yn_sheet.name, ref) == "Sì"
        assert doc.type_into(yn_sheet.name, ref, "non disponibile", validate=True), "'non disponibile' refused"
        assert not doc.type_into(yn_sheet.name, ref, "Forse", validate=True), f"{yn_sheet.name}!{ref} took 'Forse'"


# --------------------------------------------------------------------------------------
# 3. LibreOffice judges validity (Mark Invalid Data)
# --------------------------------------------------------------------------------------

def test_libreoffice_marks_exactly_the_invalid_values(libreoffice, plan, bundled_dir):
    sheet = sector_workbook(plan, plan.sector("SF")).sheets[1]
    valid = {
        **sample_values(sheet, 7, plan.year),
        "SF-1.1|value": 1.0,                # on the upper bound
        "SF-3.1|value": 0.0,                # on the lower bound
        "SF-1.2|date": date(2025, 1, 1),    # dates in the plan year
        "SF-6.1|numerator": 0.0,            # amounts >= 0
        "SF-6.1|denominator": 0.0,
        "SF-4.1|value": -3.0,               # a plain number may be negative
        "SF-1.1|analisi": "x" * 2000,       # at the length limit
        "SF-7.1|value": 1.05,               # not a share: above 100%
        "SF-9.1|value": "non disponibile",  # not available
    }
    bad = [  # one at a time: the count of circled cells goes up by exactly one each time
        ("SF-1.1|value", "circa 80"),
        ("SF-4.2|value", 1.5),              # a share above 100%
        ("SF-3.1|value", 10.5),             # above the generous limit
        ("SF-1.2|date", date(2031, 1, 1)),
        ("SF-6.1|numerator", -10.0),
        ("SF-8.1|value", -0.01),
        ("SF-9.1|value", "non disp."),
        ("SF-5.1|analisi", "x" * 2001),
    ]
    with libreoffice.open(bundled_dir / SF_BOOK) as doc:
        write(doc, sheet, valid)
        assert doc.invalid_cells(SF) == 0, "valid values were marked invalid"
        write(doc, sheet, {"SF-1.2|date": date(2025, 12, 31), "SF-7.1|value": 0.5, "SF-9.1|value": 0.5})
        assert doc.invalid_cells(SF) == 0, "valid values were marked invalid"
        for n, (key, value) in enumerate(bad, 1):
            ref = sheet.inputs[key].ref
            doc.set_value(SF, ref, value)
            assert doc.invalid_cells(SF) == n, f"{SF}!{ref} ({key}) = {value!r}: not marked invalid alone"
            assert doc.is_invalid(SF, ref), f"{SF}!{ref} ({key}) = {value!r} not circled"


def test_libreoffice_marks_an_answer_other_than_si_no(libreoffice, yn_book):
    _, sheet, path = yn_book
    ref = next(c.ref for c in sheet.inputs.values() if c.unit == "yes_no")
    with libreoffice.open(path) as doc:
        for answer in ("Sì", "No"):
            doc.set_value(sheet.name, ref, answer)
            assert doc.invalid_cells(sheet.name) == 0, f"{sheet.name}!{ref} = {answer!r} marked invalid"
        doc.set_value(sheet.name, ref, "Forse")
        assert doc.invalid_cells(sheet.name) == 1, f"{sheet.name}!{ref} = 'Forse' not marked invalid"
        assert doc.is_invalid(sheet.name, ref)


# --------------------------------------------------------------------------------------
# 4. live formulas recalculated by LibreOffice == the Python engine
# --------------------------------------------------------------------------------------

def test_live_scores_equal_the_python_engine(libreoffice, plan, bundled_dir):
    book = all_sectors_workbook(plan)
    errors: list[str] = []
    with libreoffice.open(bundled_dir / ALL_BOOK) as doc:
        plans = {s.name: scenarios(plan, plan.sector(s.sector_code), s) for s in book.sheets if s.kind == "sector"}
        for label in next(iter(plans.values())):
            for sheet in book.sheets:
                if sheet.kind == "sector":
                    values = plans[sheet.name][label]
                    assert set(values) == set(sheet.inputs), f"{sheet.name}: not every input filled"
                    write(doc, sheet, values)
            doc.recalc()
            for sheet in book.sheets:
                if sheet.kind == "sector":
                    assert not invalid_inputs(doc, sheet), f"[{label}] marked invalid: {invalid_inputs(doc, sheet)}"
                    errors += compare_sheet(doc, plan, plan.sector(sheet.sector_code), sheet,
                                            plans[sheet.name][label], label)
    assert not errors, f"{len(errors)} difference(s):\n" + "\n".join(errors[:40])


@pytest.mark.parametrize("policy", sorted(YN_SCORING))
def test_live_scores_equal_the_python_engine_on_other_rules(libreoffice, tmp_path, policy):
    plan = yn_plan(YN_SCORING[policy])
    book = sector_workbook(plan, plan.sectors[0])
    sheet, sector = book.sheets[1], plan.sectors[0]
    path = tmp_path / book.filename
    path.write_bytes(render(book))
    errors: list[str] = []
    with libreoffice.open(path) as doc:
        for label, values in scenarios(plan, sector, sheet).items():
            write(doc, sheet, values)
            doc.recalc()
            assert not invalid_inputs(doc, sheet), f"[{label}] marked invalid: {invalid_inputs(doc, sheet)}"
            errors += compare_sheet(doc, plan, sector, sheet, values, label)
    assert not errors, f"{len(errors)} difference(s):\n" + "\n".join(errors[:40])


NOISE_PLAN = """\
comune: Prova
year: 2025
scoring: {threshold: "THR", precision: PREC}
sectors:
  - code: TH
    name: Soglie
    short_name: TH - Soglie
    responsabile: {name: Mario Rossi}
    objectives:
      - number: 1
        title: MEDIA PONDERATA
        weight: 60
        indicators:
          - {description: "% pratiche evase", target: "100%", weight: 3}
          - {description: "% pratiche digitali", target: "100%", weight: 1}
      - number: 2
        title: AUMENTO
        weight: 40
        indicators:
          - {description: Pattuglie, target: "il 60% in più rispetto al 2024"}
"""


@pytest.mark.parametrize(("thr", "prec", "values", "expected"), [
    # (3 x 0.6 + 1 x 0.2) / 4 = 0.49999999999999994 in floating point: "50,00%", not below 50%
    ("50%", 2, {"TH-1.1|value": 0.6, "TH-1.2|value": 0.2, "TH-2.1|baseline": 3, "TH-2.1|current": 4.8}, (0.5, 1.0)),
    # 49.995% published with 2 decimals is "50,00%"; 49.99% is below
    ("50%", 2, {"TH-1.1|value": 0.6666, "TH-1.2|value": 0.0, "TH-2.1|baseline": 3, "TH-2.1|current": 2.4},
     (0.49995, 0.5)),
    ("50%", 2, {"TH-1.1|value": 0.6665, "TH-1.2|value": 0.0, "TH-2.1|baseline": 3, "TH-2.1|current": 2.4},
     (0.0, 0.5)),
    # +60% over 3 is exactly 4.8 (4.8 / 4.800000000000001 in floating point): 100% under an all-or-nothing threshold
    ("100%", 2, {"TH-1.1|value": 1.0, "TH-1.2|value": 1.0, "TH-2.1|baseline": 3, "TH-2.1|current": 4.8}, (1.0, 1.0)),
    ("100%", 0, {"TH-1.1|value": 0.996, "TH-1.2|value": 1.0, "TH-2.1|baseline": 3, "TH-2.1|current": 4.7},
     (0.997, 0.0)),
    # a total of 94.995 on paper (94.99499999999999 in floating point): published "95,00", band A in both
    ("0%", 2, {"TH-1.1|value": 0.94995, "TH-1.2|value": 0.94995, "TH-2.1|baseline": 1, "TH-2.1|current": 1.51992},
     (0.94995, 0.94995)),
    ("0%", 2, {"TH-1.1|value": 0.94994, "TH-1.2|value": 0.94994, "TH-2.1|baseline": 1, "TH-2.1|current": 1.519904},
     (0.94994, 0.94994)),
])
def test_threshold_on_the_published_figure_live_and_in_python(libreoffice, tmp_path, thr, prec, values, expected):
    """The live preview and the engine agree where float noise meets a threshold."""
    plan, findings = parse_plan(NOISE_PLAN.replace("THR", thr).replace("PREC", str(prec)), "soglie.yaml")
    assert plan is not None, [str(f) for f in findings]
    sector = plan.sectors[0]
    book = sector_workbook(plan, sector)
    sheet = book.sheets[1]
    path = tmp_path / book.filename
    path.write_bytes(render(book))
    values = {**{k: None for k in sheet.inputs if not k.endswith("|analisi") and "|" in k}, **values}
    values = {k: v for k, v in values.items() if k in sheet.inputs}
    _, objectives, total = live_scores(plan, sector, sheet, values)
    assert [o.achievement for o in objectives] == pytest.approx(list(expected), abs=1e-9)
    if thr == "0%":
        assert plan.scoring.band(total).code == ("A" if expected[0] > 0.94994 else "B"), total
    with libreoffice.open(path) as doc:
        write(doc, sheet, values)
        doc.recalc()
        errors = compare_sheet(doc, plan, sector, sheet, values, f"{thr}/{prec}")
    assert not errors, "\n".join(errors)


def test_an_objective_measured_by_the_nucleo_only_is_not_evaluable_live(plan):
    """The Python side mirrors the sheet: SF-2 (Nucleo only) is left out, the total is rescaled."""
    sector = plan.sector("SF")
    sheet = sector_workbook(plan, sector).sheets[1]
    values = {k: (1.0 if c.unit == "percent" else None) for k, c in sheet.inputs.items()}
    _, objectives, total = live_scores(plan, sector, sheet, values)
    assert not next(o for o in objectives if o.objective_id == "SF-2").evaluable
    evaluable = sum(o.weight for o in objectives if o.evaluable)
    assert evaluable == sector.weight_total - 10
    assert 0 <= total <= 100


# --------------------------------------------------------------------------------------
# 5. print setup and look
# --------------------------------------------------------------------------------------

def print_problems(data: bytes, book_name: str, sheets: list[SheetLayout]) -> list[str]:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    errors = []
    for s in sheets:
        ws = wb[s.name]
        where = f"{book_name}: {s.name}"
        ps = ws.page_setup
        if ps.orientation != ("landscape" if s.landscape else "portrait"):
            errors.append(f"{where}: orientation {ps.orientation}")
        if str(ps.paperSize) != "9":
            errors.append(f"{where}: paper {ps.paperSize}, expected A4 (9)")
        # a fixed scale with manual breaks per card: "fit to page" would make Excel ignore the breaks
        if ws.sheet_properties.pageSetUpPr and ws.sheet_properties.pageSetUpPr.fitToPage:
            errors.append(f"{where}: fit to page (Excel then ignores the manual page breaks)")
        if int(ps.scale or 100) != s.print_scale:
            errors.append(f"{where}: print scale {ps.scale}, expected {s.print_scale}")
        breaks = sorted(b.id for b in ws.row_breaks.brk if b.man is not False)
        if breaks != s.page_breaks():
            errors.append(f"{where}: page breaks {breaks}, expected {s.page_breaks()}")
        if s.repeat_rows:
            want = f"${s.repeat_rows[0] + 1}:${s.repeat_rows[1] + 1}"
            if (ws.print_title_rows or "").replace("$", "") != want.replace("$", ""):
                errors.append(f"{where}: print titles {ws.print_title_rows!r}, expected {want}")
        if s.header:
            left, right = ws.oddHeader.left.text or "", ws.oddHeader.right.text or ""
            if "PIAO" not in left or not right.strip():
                errors.append(f"{where}: header {left!r} / {right!r}")
        if s.footer and "&P" not in (ws.oddFooter.right.text or "") + (ws.oddFooter.center.text or ""):
            errors.append(f"{where}: footer without page number: {ws.oddFooter.right.text!r}")
        if s.freeze and ws.freeze_panes != a1(*s.freeze):
            errors.append(f"{where}: frozen at {ws.freeze_panes}, expected {a1(*s.freeze)}")
        if s.kind == "sector" and ws.sheet_view.showGridLines is not False:
            errors.append(f"{where}: gridlines shown")
        if not ws.protection.sheet:
            errors.append(f"{where}: not protected")
    return errors


def test_print_setup_of_every_workbook(plan, bundled_dir):
    errors = []
    for book in plan_workbooks(plan):
        errors += print_problems((bundled_dir / book.filename).read_bytes(), book.filename, book.sheets)
    assert not errors, "\n".join(errors)


def test_print_setup_survives_saving_in_libreoffice(libreoffice, plan, bundled_dir, tmp_path, monkeypatch):
    """Opened as a user opens it (a visible view: a hidden load drops frozen panes and gridlines on save)."""
    book = all_sectors_workbook(plan)
    monkeypatch.setenv("PIAO_LO_HIDDEN", "0")
    with LibreOffice() as lo, lo.open(bundled_dir / ALL_BOOK) as doc:
        saved = doc.save_as(tmp_path / ALL_BOOK, "xlsx")
    errors = print_problems(saved.read_bytes(), f"{ALL_BOOK} saved by LibreOffice", book.sheets)
    wb = openpyxl.load_workbook(saved)
    for s in book.sheets:
        widths = [wb[s.name].column_dimensions[a1(0, c)[:-1]].width for c in range(len(s.col_widths))]
        if not all(w and w > 5 for w in widths):
            errors.append(f"{ALL_BOOK} saved by LibreOffice: {s.name}: column widths {widths}")
    assert not errors, "\n".join(errors)
