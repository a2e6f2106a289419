"""The workbook layout: every cell of every sheet, computed from the plan (pure, no I/O).

One description drives both adapters: :mod:`piao_xls.forms.writer` renders it with xlsxwriter, and
:mod:`piao_xls.returns.reader` finds the inputs and checks the locked cells with it. No cell
coordinate is written anywhere else.

Sheet kinds:
- a sector sheet: heading, objectives summary with live totals, staff, activities, then one
  card per objective laid out as in the PIAO;
- a source sheet (Nucleo di Valutazione, external certifications): the indicators of that source,
  grouped by sector;
- the "Istruzioni" sheet.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property, lru_cache

from ..core import __version__, formulas
from ..core.model import Indicator, Objective, Plan, Sector
from ..core.targets import InputSpec, explain_it, inputs_for

LAYOUT_VERSION = "1"
INSTRUCTIONS_SHEET = "Istruzioni"
SOURCE_SHEETS = {"nucleo": "Nucleo di Valutazione", "esterno": "Certificazioni esterne"}
SOURCE_LABELS = {"nucleo": "a cura del Nucleo di Valutazione", "esterno": "da certificazione esterna"}
SOURCE_FILE_TAGS = {"nucleo": "Nucleo", "esterno": "Esterno"}

# Columns A..H
COLS = 8
COL_WIDTHS = (20.0, 34.0, 30.0, 34.0, 15.0, 15.0, 14.0, 36.0)
A, B, C, D, E, F, G, H = range(8)

TEXT_LIMITS = {"analisi": 2000, "tempi": 255, "risultato": 2000}


def a1(row: int, col: int, absolute: bool = False) -> str:
    """0-based (row, col) -> 'B7'."""
    letters = ""
    c = col + 1
    while c:
        c, rem = divmod(c - 1, 26)
        letters = chr(65 + rem) + letters
    return f"${letters}${row + 1}" if absolute else f"{letters}{row + 1}"


@dataclass(frozen=True)
class Validation:
    """Data validation of an input cell (messages in Italian)."""

    kind: str  # decimal | date | list | length
    minimum: float | date | None = None
    maximum: float | date | None = None
    choices: tuple[str, ...] = ()
    input_title: str = ""
    input_message: str = ""
    error_title: str = ""
    error_message: str = ""


@dataclass(slots=True)
class Cell:  # not frozen: frozen __init__ costs ~2x, and a layout builds tens of thousands of cells
    row: int
    col: int
    value: object = None  # label text/number, or None; for formulas the value shown before recalculation
    style: str = "text"
    kind: str = "label"  # label | input | formula
    formula: str | None = None
    merge_to: tuple[int, int] | None = None  # (last_row, last_col), inclusive
    key: str | None = None  # inputs: "<indicator id>|<input name>", "<indicator id>|analisi", "<objective id>|step<n>|tempi"
    unit: str | None = None  # inputs: percent | number | amount | date | yes_no | text
    validation: Validation | None = None

    @property
    def ref(self) -> str:
        return a1(self.row, self.col)


@dataclass
class SheetLayout:
    name: str
    kind: str  # sector | source | instructions
    sector_code: str | None = None
    source: str | None = None
    cells: list[Cell] = field(default_factory=list)
    col_widths: tuple[float, ...] = COL_WIDTHS
    repeat_rows: tuple[int, int] | None = None
    freeze: tuple[int, int] | None = None
    header: str = ""
    footer: str = ""
    _heights: dict[int, float] | None = field(default=None, repr=False, compare=False)
    # A reader view (built with for_reader=True) holds only its input cells; the fixed values the
    # reader checks are kept as (row, col, value) and the last row is recorded as it is built.
    expected: list[tuple[int, int, object]] | None = field(default=None, repr=False, compare=False)
    _last_row: int | None = field(default=None, repr=False, compare=False)

    @property
    def row_heights(self) -> dict[int, float]:
        """Row heights that show all wrapped text (computed on first use: the reader never needs them)."""
        if self._heights is None:
            self._heights = _fit_heights(self)
        return self._heights

    # The views below are cached on first use, once the builder has finished the sheet.
    @cached_property
    def inputs(self) -> dict[str, Cell]:
        return {c.key: c for c in self.cells if c.kind == "input"}

    @cached_property
    def labels(self) -> list[Cell]:
        return [c for c in self.cells if c.kind == "label" and c.value not in (None, "")]

    @cached_property
    def label_values(self) -> list[tuple[int, int, object]]:
        """(row, col, value) of every label: what a returned sheet must still show."""
        if self.expected is not None:
            return self.expected
        return [(c.row, c.col, c.value) for c in self.labels]

    @property
    def formulas(self) -> list[Cell]:
        return [c for c in self.cells if c.kind == "formula"]

    @property
    def last_row(self) -> int:
        if self._last_row is not None:
            return self._last_row
        return max((c.merge_to[0] if c.merge_to else c.row) for c in self.cells) if self.cells else 0


@dataclass
class WorkbookLayout:
    kind: str  # all | sector | source
    filename: str
    sheets: list[SheetLayout]
    properties: dict[str, str]
    sector_codes: tuple[str, ...] = ()
    source: str = "responsabile"

    def sheet(self, name: str) -> SheetLayout:
        for s in self.sheets:
            if s.name == name:
                return s
        raise KeyError(name)


# --- the sheet builder ------------------------------------------------------------------

class _Sheet:
    """Builds a complete sheet: every cell, with its style, merge, validation and live formula."""

    def __init__(self, layout: SheetLayout):
        self.s = layout
        self.row = 0

    def put(self, row: int, col: int, value=None, style: str = "text", last_col: int | None = None,
            last_row: int | None = None, **kw) -> Cell:
        merge = None
        if (last_col is not None and last_col != col) or (last_row is not None and last_row != row):
            merge = (last_row if last_row is not None else row, last_col if last_col is not None else col)
        cell = Cell(row, col, value, style, merge_to=merge, **kw)
        self.s.cells.append(cell)
        return cell

    def formula(self, row: int, col: int, style: str, make, value=0.0, last_col: int | None = None) -> Cell:
        """A live formula cell; ``make()`` returns the formula text (called only when it is rendered)."""
        return self.put(row, col, value, style, last_col=last_col, kind="formula", formula=make())

    def labels(self, row: int, items) -> None:
        """Label cells of one row, left to right: ``(col, value, style)`` or ``(col, value, style, last_col)``
        (the cells :meth:`put` would make, without its keyword handling: most cells of a sheet are labels)."""
        append = self.s.cells.append
        for item in items:
            if len(item) == 3:
                append(Cell(row, item[0], item[1], item[2]))
            else:
                col, value, style, last_col = item
                append(Cell(row, col, value, style, "label", None,
                            None if last_col is None or last_col == col else (row, last_col)))


class _NoCell:
    ref = ""  # what a reader view returns for a formula cell: its text is never computed


_NO_CELL = _NoCell()


class _ReaderSheet(_Sheet):
    """Builds the reader's view of the same sheet, from the same calls: input cells, and the
    (row, col, value) of every label. No formula text, no label cells: about half the cost of the
    full layout, and the reader builds one view per sector of every file it reads.
    ``SheetLayout.last_row`` is kept as the cells are placed (merges included)."""

    def __init__(self, layout: SheetLayout):
        super().__init__(layout)
        layout.expected = self.expected = []
        layout._last_row = 0

    def put(self, row: int, col: int, value=None, style: str = "text", last_col: int | None = None,
            last_row: int | None = None, kind: str = "label", **kw) -> Cell | None:
        end = row if last_row is None else last_row
        if end > self.s._last_row:
            self.s._last_row = end
        if kind != "label":
            return _Sheet.put(self, row, col, value, style, last_col, last_row, kind=kind, **kw)
        if value is not None and value != "":
            self.expected.append((row, col, value))
        return None

    def formula(self, row: int, col: int, style: str, make, value=0.0, last_col: int | None = None) -> _NoCell:
        if row > self.s._last_row:
            self.s._last_row = row
        return _NO_CELL

    def labels(self, row: int, items) -> None:
        self.expected.extend([(row, item[0], item[1]) for item in items if item[1] is not None and item[1] != ""])
        if row > self.s._last_row:
            self.s._last_row = row


def _lines(text: str, width: float) -> int:
    """Rough number of wrapped lines of ``text`` in a cell ``width`` characters wide."""
    if not text:
        return 1
    per_line = max(1, int(width * 1.15))
    return sum(max(1, math.ceil(len(part) / per_line)) for part in str(text).split("\n"))


LINE_HEIGHT = 13.0


def _fit_heights(sheet: SheetLayout) -> dict[int, float]:
    """Row heights so that wrapped and merged text is fully visible (Excel does not auto-fit them)."""
    need: dict[int, float] = {}
    tall: list[Cell] = []
    for c in sheet.cells:
        if c.kind == "formula" or c.value is None:
            continue
        last_row, last_col = c.merge_to or (c.row, c.col)
        width = sum(sheet.col_widths[c.col:last_col + 1])
        size = 1.25 if c.style in ("title", "card", "card_pct", "section") else 1.0
        h = _lines(str(c.value), width / size) * LINE_HEIGHT * size + 4
        if last_row == c.row:
            need[c.row] = max(need.get(c.row, 15.0), h)
        else:
            tall.append(c)
    for c in tall:
        rows = range(c.row, c.merge_to[0] + 1)
        width = sum(sheet.col_widths[c.col:c.merge_to[1] + 1])
        h = _lines(str(c.value), width) * LINE_HEIGHT + 4
        have = sum(need.get(r, 15.0) for r in rows)
        if have < h:
            need[rows[-1]] = need.get(rows[-1], 15.0) + (h - have)
    for c in sheet.cells:  # input cells: room to type a short answer
        if c.kind == "input" and c.unit == "text":
            need[c.row] = max(need.get(c.row, 15.0), 30.0)
    return {r: round(h, 1) for r, h in sorted(need.items())}


@lru_cache(maxsize=4096)
def _validation(spec_unit: str, label: str, target_txt: str, year: int, spec: InputSpec | None = None,
                limit: int = 255) -> Validation:
    what = f"Target: {target_txt}." if target_txt else ""
    if spec_unit == "percent":
        hi = spec.max if spec and spec.max is not None else 1.0
        return Validation("decimal", 0.0, hi, input_title=label[:32],
                          input_message=f"Inserire una percentuale tra 0% e {hi * 100:g}% (es. 95%). {what}"[:255],
                          error_title="Valore non valido",
                          error_message=f"Inserire una percentuale tra 0% e {hi * 100:g}%, ad esempio 95%.")
    if spec_unit == "amount":
        return Validation("decimal", 0.0, 1e12, input_title=label[:32],
                          input_message=f"Inserire un importo in euro, maggiore o uguale a 0. {what}"[:255],
                          error_title="Importo non valido",
                          error_message="Inserire un importo in euro (numero maggiore o uguale a 0), senza testo.")
    if spec_unit == "number":
        lo = spec.min if spec and spec.min is not None else -1e12
        return Validation("decimal", lo, 1e12, input_title=label[:32],
                          input_message=f"Inserire un numero{' maggiore o uguale a 0' if lo == 0 else ''}. {what}"[:255],
                          error_title="Numero non valido",
                          error_message="Inserire solo un numero (senza testo né unità di misura).")
    if spec_unit == "date":
        lo, hi = date(year - 1, 1, 1), date(year + 1, 12, 31)
        return Validation("date", lo, hi, input_title=label[:32],
                          input_message=f"Inserire la data nel formato gg/mm/aaaa, tra il {lo:%d/%m/%Y} e il "
                                        f"{hi:%d/%m/%Y}. {what}"[:255],
                          error_title="Data non valida",
                          error_message=f"Inserire una data valida (gg/mm/aaaa) tra il {lo:%d/%m/%Y} e il "
                                        f"{hi:%d/%m/%Y}.")
    if spec_unit == "yes_no":
        return Validation("list", choices=("Sì", "No"), input_title=label[:32],
                          input_message=f"Scegliere Sì o No dall'elenco. {what}"[:255],
                          error_title="Valore non valido", error_message="Scegliere Sì oppure No dall'elenco.")
    return Validation("length", 0, limit, input_title=label[:32],
                      input_message=f"Testo libero, al massimo {limit} caratteri."[:255],
                      error_title="Testo troppo lungo",
                      error_message=f"Il testo può contenere al massimo {limit} caratteri.")


def _indicator_rows(sh: _Sheet, plan: Plan, ind: Indicator, editable: bool, first_col_text: str | None = None
                    ) -> str | None:
    """One indicator row. Returns the A1 ref of its live achievement cell (None when informative)."""
    r = sh.row
    first = first_col_text if first_col_text is not None else ind.profilo
    if not editable:
        source = SOURCE_LABELS.get(ind.source, ind.source)
        sh.labels(r, ((A, first, "text"), (B, ind.description, "text"), (C, ind.target_text or "—", "text_center"),
                      (D, "Valore fornito da altra fonte", "text"), (E, source, "external", F), (G, "—", "external"),
                      (H, source, "external")))
        sh.row += 1
        return None
    asked, fields = _indicator_inputs(ind.rule, plan.year)
    sh.labels(r, ((A, first, "text"), (B, ind.description, "text"), (C, ind.target_text or "—", "text_center"),
                  (D, asked, "text")))
    cells = [sh.put(r, col, None, style, kind="input", key=f"{ind.id}|{name}", unit=unit, validation=validation)
             for col, (name, unit, style, validation) in zip((E, F), fields, strict=False)]
    if len(fields) == 1:
        sh.put(r, F, None, "external")
    if ind.rule.kind == "informative":  # formulas.indicator_formula has none
        sh.put(r, G, "informativo", "external")
        ach = None
    else:
        ach = sh.formula(r, G, "live_pct", lambda: formulas.indicator_formula(
            ind.rule, [c.ref for c in cells], plan.scoring)).ref
    sh.put(r, H, None, "input_text", kind="input", key=f"{ind.id}|analisi", unit="text",
           validation=_validation("text", "Analisi scostamenti", "", plan.year, None, TEXT_LIMITS["analisi"]))
    sh.row += 1
    return ach


@lru_cache(maxsize=4096)
def _indicator_inputs(rule, year: int) -> tuple[str, tuple[tuple[str, str, str, Validation], ...]]:
    """What an indicator row asks for (column D) and its input cells: (name, unit, style, validation).

    Memoized per rule: a plan repeats a handful of targets ("100%", "Entro il 31/12") many times.
    """
    specs = inputs_for(rule, year)
    target_txt = explain_it(rule)
    asked = specs[0].label if len(specs) == 1 else "\n".join(f"{c}: {s.label}" for c, s in zip("EF", specs,
                                                                                                  strict=False))
    return asked, tuple((s.name, s.unit, f"input_{s.unit}", _validation(s.unit, s.label, target_txt, year, s))
                        for s in specs)


INDICATOR_HEADER = ("Profilo di performance", "Indicatore di risultato", "Target", "Dato richiesto",
                    "Valore consuntivo", None, "Grado di raggiungimento", "Analisi scostamenti rispetto al target")


_INDICATOR_HEADER_ITEMS = tuple((col, text, "header", F) if col == E else (col, text, "header")
                                 for col, text in enumerate(INDICATOR_HEADER) if col not in (A, F))
CARD_HEADER = ("Stakeholder finale", "Impatto atteso", "Risultato atteso", "Modalità di attuazione", "Tempi",
               "Tempi di realizzazione", "Risultato conseguito")
_CARD_HEADER_ITEMS = tuple((col, text, "header", H) if col == G else (col, text, "header")
                           for col, text in enumerate(CARD_HEADER))


def _indicator_header(sh: _Sheet, first: str = "Profilo di performance") -> None:
    sh.labels(sh.row, ((A, first, "header"), *_INDICATOR_HEADER_ITEMS))
    sh.row += 1


def _card(sh: _Sheet, plan: Plan, sector: Sector, obj: Objective, n_code: str) -> list[tuple[str, float]]:
    """An objective card. Returns (live achievement cell, weight) for each counted indicator."""
    sh.labels(sh.row, ((A, f"Obiettivo {obj.number}/{n_code}", "card"), (B, obj.title, "card", F),
                       (G, "Peso", "card"), (H, obj.weight / 100, "card_pct")))
    sh.labels(sh.row + 1, _CARD_HEADER_ITEMS)
    sh.row += 2
    steps = obj.steps or ()
    n = max(1, len(steps))
    first, last = sh.row, sh.row + n - 1
    for col, text in ((A, obj.stakeholder), (B, obj.impatto), (C, obj.risultato)):
        sh.put(first, col, text, "text", last_row=last)
    for i in range(n):
        r = first + i
        step = steps[i] if i < len(steps) else None
        tempi = step.tempi if step else ""
        if i == 0 and obj.tempi:
            tempi = f"{tempi}\n{obj.tempi}".strip()
        sh.labels(r, ((D, step.text if step else "", "text"), (E, tempi, "text_center")))
        sh.put(r, F, None, "input_text", kind="input", key=f"{obj.id}|step{i + 1}|tempi", unit="text",
               validation=_validation("text", "Tempi di realizzazione", "", plan.year, None, TEXT_LIMITS["tempi"]))
        sh.put(r, G, None, "input_text", kind="input", key=f"{obj.id}|step{i + 1}|risultato", unit="text",
               last_col=H, validation=_validation("text", "Risultato conseguito", "", plan.year, None,
                                                  TEXT_LIMITS["risultato"]))
    sh.row = last + 1
    _indicator_header(sh)
    parts = []
    for ind in obj.indicators:
        editable = ind.source == "responsabile"
        ach = _indicator_rows(sh, plan, ind, editable)
        if ach is not None:
            parts.append((ach, ind.weight))
    r = sh.row
    sh.labels(r, _CARD_FOOTER_ITEMS)
    sh.labels(r + 1, ((A, obj.programma, "text", C), (D, obj.obiettivo_operativo, "text", H)))
    sh.row = r + 3
    return parts


_CARD_FOOTER_ITEMS = ((A, "Programma di bilancio", "header", C), (D, "Obiettivo operativo", "header", H))


def _heading(sh: _Sheet, plan: Plan, line2: str, line3: str) -> None:
    ente = f" ({plan.ente_sovraordinato})" if plan.ente_sovraordinato else ""
    sh.put(0, A, f"Comune di {plan.comune}{ente} — PIAO {plan.year}", "title", last_col=H)
    sh.put(1, A, line2, "subtitle", last_col=H)
    sh.put(2, A, line3, "subtitle", last_col=H)
    sh.row = 4


def sector_sheet(plan: Plan, sector: Sector, for_reader: bool = False) -> SheetLayout:
    """A sector's sheet; ``for_reader`` builds the reader's view (see :class:`_ReaderSheet`)."""
    layout = SheetLayout(sector.short_name, "sector", sector_code=sector.code)
    sh = _ReaderSheet(layout) if for_reader else _Sheet(layout)
    _heading(sh, plan, f"Settore {sector.name} ({sector.code})",
             f"Responsabile: {sector.responsabile.display}")

    # objectives summary: rows reserved now, live formulas filled once the cards are placed
    sh.put(sh.row, A, "Riepilogo obiettivi e grado di raggiungimento (calcolo provvisorio)", "section", last_col=H)
    sh.row += 1
    hr = sh.row
    for col, text, last in ((A, "N.", None), (B, "Obiettivo", D), (E, "Peso", None),
                            (F, "Grado di raggiungimento", None), (G, "Punti", None), (H, "Note", None)):
        sh.put(hr, col, text, "header", last_col=last)
    summary_first = hr + 1
    sh.row = summary_first + len(sector.objectives)
    total_row = sh.row
    sh.row += 1
    band_row = sh.row
    sh.row += 2

    # dotazione organica
    sh.put(sh.row, A, "Dotazione organica", "section", last_col=H)
    sh.row += 1
    sh.put(sh.row, A, "Qualifica", "header", last_col=C)
    sh.put(sh.row, D, "Cat.", "header")
    sh.put(sh.row, E, "Unità", "header")
    sh.row += 1
    for s in sector.staff:
        sh.put(sh.row, A, s.qualifica, "text", last_col=C)
        sh.put(sh.row, D, s.categoria, "text_center")
        sh.put(sh.row, E, s.unita, "count")
        sh.row += 1
    sh.put(sh.row, A, "Totale", "total_label", last_col=D)
    sh.put(sh.row, E, sector.staff_total if sector.staff_total is not None else sector.computed_staff_total, "count")
    sh.row += 2
    if sector.offices:
        sh.put(sh.row, A, "Uffici", "section", last_col=H)
        sh.row += 1
        for office in sector.offices:
            sh.put(sh.row, A, office, "text", last_col=H)
            sh.row += 1
        sh.row += 1
    sh.put(sh.row, A, "Attività consolidata", "section", last_col=H)
    sh.row += 1
    for i, act in enumerate(sector.activities, 1):
        sh.put(sh.row, A, i, "count")
        sh.put(sh.row, B, act, "text", last_col=H)
        sh.row += 1
    sh.row += 1
    sh.put(sh.row, A, "Obiettivi gestionali di settore — schede obiettivo", "section", last_col=H)
    sh.row += 2

    point_cells, evaluable_weight = [], 0.0
    for i, obj in enumerate(sector.objectives):
        parts = _card(sh, plan, sector, obj, sector.code)
        r = summary_first + i
        sh.labels(r, ((A, obj.number, "count"), (B, obj.title, "text", D), (E, obj.weight / 100, "weight")))
        if parts:
            ach = sh.formula(r, F, "live_pct", lambda parts=parts: formulas.objective_formula(parts, plan.scoring))
            pts = sh.formula(r, G, "live_points", lambda obj=obj, ach=ach: formulas.points_formula(obj.weight, ach.ref))
            point_cells.append(pts.ref)
            evaluable_weight += obj.weight
            sh.put(r, H, None, "text")
        else:
            reason = ("a cura del Nucleo di Valutazione / fonte esterna" if obj.indicators and any(
                i.scored for i in obj.indicators) else "nessun indicatore misurabile")
            sh.put(r, F, "—", "external")
            sh.put(r, G, "—", "external")
            sh.put(r, H, f"Escluso dal calcolo provvisorio: {reason}", "text")
    sh.put(total_row, A, "Totale (punti su 100)", "total_label", last_col=D)
    sh.put(total_row, E, sector.weight_total / 100, "total_weight")
    total = sh.formula(total_row, F, "live_total", lambda: formulas.sector_formula(point_cells, evaluable_weight))
    sh.put(total_row, G, None, "text")
    sh.put(total_row, H, "Punteggio provvisorio del settore (escluse le voci a cura del Nucleo)", "text")
    sh.put(band_row, A, "Fascia di valutazione", "total_label", last_col=E)
    zero_band = plan.scoring.band(0.0)
    sh.formula(band_row, F, "live_text", lambda: formulas.band_formula(total.ref, plan.scoring.bands),
               value=f"{zero_band.code} - {zero_band.label}", last_col=G)
    sh.put(band_row, H, None, "text")

    layout.repeat_rows = (0, 2)
    layout.freeze = (3, 0)
    layout.header = f"&L&9Comune di {plan.comune} — PIAO {plan.year}&R&9{sector.name}"
    layout.footer = f"&L&9{sector.code} — {sector.responsabile.display}&RPagina &P di &N"
    return layout


def source_sheet(plan: Plan, source: str, for_reader: bool = False) -> SheetLayout:
    name = SOURCE_SHEETS[source]
    layout = SheetLayout(name, "source", source=source)
    sh = _ReaderSheet(layout) if for_reader else _Sheet(layout)
    _heading(sh, plan, f"Indicatori {SOURCE_LABELS[source]}", "Valori da inserire per ciascun settore")
    for sector in plan.sectors:
        inds = [(o, i) for o in sector.objectives for i in o.indicators if i.source == source]
        if not inds:
            continue
        sh.put(sh.row, A, f"Settore {sector.name} ({sector.code}) — Responsabile: {sector.responsabile.display}",
               "section", last_col=H)
        sh.row += 1
        _indicator_header(sh, first="Obiettivo")
        for obj, ind in inds:
            _indicator_rows(sh, plan, ind, True, first_col_text=f"{obj.id} — {obj.title}")
        sh.row += 1
    layout.repeat_rows = (0, 2)
    layout.freeze = (3, 0)
    layout.header = f"&L&9Comune di {plan.comune} — PIAO {plan.year}&R&9{name}"
    layout.footer = "&RPagina &P di &N"
    return layout


def instructions_sheet(plan: Plan, kind: str, source: str = "responsabile") -> SheetLayout:
    layout = SheetLayout(INSTRUCTIONS_SHEET, "instructions", col_widths=(110.0,))
    sh = _Sheet(layout)
    who = ("il Nucleo di Valutazione" if source == "nucleo" else "l'ufficio che detiene la certificazione"
           if source == "esterno" else "il Responsabile di settore")
    lines = [
        ("title", f"Comune di {plan.comune} — PIAO {plan.year}: rendicontazione degli obiettivi di performance"),
        ("subtitle", "Istruzioni per la compilazione"),
        ("plain", f"Questo file è compilato da {who}. " + (
            "Il foglio elenca, per ciascun settore, gli indicatori il cui valore è fornito da questa fonte, "
            "con il relativo target." if kind == "source" else
            "Ogni foglio di settore riporta le schede obiettivo come nel PIAO: stakeholder, impatto e risultato "
            "attesi, modalità di attuazione, tempi, indicatori e target.")),
        ("subtitle", "Cosa compilare"),
        ("plain", "Si possono modificare SOLO le celle gialle. Tutte le altre celle sono protette."),
        ("plain", "• Valore consuntivo: il valore raggiunto per ciascun indicatore. Il messaggio che compare "
                  "selezionando la cella indica cosa inserire e il target (percentuale, numero, importo in euro, "
                  "data gg/mm/aaaa oppure Sì/No)."),
        ("plain", "• Analisi scostamenti rispetto al target: obbligatoria quando il grado di raggiungimento "
                  "è inferiore al 100%."),
        ("plain", "• Tempi di realizzazione e Risultato conseguito: per ciascuna fase della modalità di attuazione."),
        ("subtitle", "Legenda dei colori"),
        ("plain", "Giallo: cella da compilare. Verde: calcolo automatico del grado di raggiungimento "
                  "(provvisorio). Grigio: valore fornito da altra fonte (Nucleo di Valutazione o certificazione "
                  "esterna). Azzurro: intestazioni."),
        ("subtitle", "Come vengono controllati i valori"),
        ("plain", "Ogni cella gialla accetta solo valori del tipo previsto. Al rientro il file viene verificato "
                  "di nuovo: valori incollati non validi, celle vuote, formule o modifiche alle parti protette "
                  "vengono segnalati e il file può essere respinto. Il grado di raggiungimento mostrato nel file "
                  "è indicativo: fa fede il calcolo dell'ufficio."),
        ("plain", "Non rinominare, spostare o eliminare i fogli; non inserire o eliminare righe o colonne."),
        ("subtitle", "Restituzione"),
        ("plain", f"Salvare il file (formato .xlsx o .ods) e restituirlo per posta elettronica al Servizio "
                  f"Finanziario entro il termine comunicato per la rendicontazione del PIAO {plan.year}."),
    ]
    for style, text in lines:
        sh.put(sh.row, A, text, style)
        sh.row += 1
    return layout


def _properties(plan: Plan, kind: str, codes: tuple[str, ...], source: str) -> dict[str, str]:
    return {
        "piao_plan_id": plan.plan_id,
        "piao_year": str(plan.year),
        "piao_fingerprint": plan.fingerprint,
        "piao_kind": kind,
        # Excel caps a custom property at 255 characters; a many-sector workbook lists "*" (all of its kind).
        "piao_sectors": ",".join(codes) if len(",".join(codes)) <= 255 or kind == "sector" else "*",
        "piao_source": source,
        "piao_layout_version": LAYOUT_VERSION,
        "piao_generator": f"piao-xls {__version__}",
    }


def _file_part(text: str) -> str:
    keep = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in text.replace(" - ", "-"))
    while "--" in keep:
        keep = keep.replace("--", "-")
    return keep.strip("-")


def all_sectors_workbook(plan: Plan) -> WorkbookLayout:
    codes = tuple(s.code for s in plan.sectors)
    sheets = [instructions_sheet(plan, "all")] + [sector_sheet(plan, s) for s in plan.sectors]
    return WorkbookLayout("all", f"PIAO-{plan.year}-{_file_part(plan.comune)}.xlsx", sheets,
                          _properties(plan, "all", codes, "responsabile"), codes)


def sector_workbook(plan: Plan, sector: Sector) -> WorkbookLayout:
    short = sector.short_name
    if short.startswith(f"{sector.code} - "):
        short = short[len(sector.code) + 3:]
    name = f"PIAO-{plan.year}-{sector.code}-{_file_part(short)}.xlsx"
    return WorkbookLayout("sector", name, [instructions_sheet(plan, "sector"), sector_sheet(plan, sector)],
                          _properties(plan, "sector", (sector.code,), "responsabile"), (sector.code,))


def source_workbook(plan: Plan, source: str) -> WorkbookLayout:
    codes = tuple(s.code for s in plan.sectors if any(i.source == source for i in s.indicators))
    name = f"PIAO-{plan.year}-{SOURCE_FILE_TAGS[source]}.xlsx"
    return WorkbookLayout("source", name, [instructions_sheet(plan, "source", source), source_sheet(plan, source)],
                          _properties(plan, "source", codes, source), codes, source)


def plan_workbooks(plan: Plan) -> list[WorkbookLayout]:
    """Every workbook `generate` writes: all sectors, one per sector, one per external source."""
    books = [all_sectors_workbook(plan)] + [sector_workbook(plan, s) for s in plan.sectors]
    for source in ("nucleo", "esterno"):
        if any(i.source == source for i in plan.indicators):
            books.append(source_workbook(plan, source))
    return books
