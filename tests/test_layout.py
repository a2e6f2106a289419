"""The layout of a sheet: what the writer renders is what the reader checks."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rule_strategies import BY_KIND

from piao_xls.forms.layout import sector_sheet, source_sheet
from piao_xls.forms.samples import synthetic_plan_yaml
from piao_xls.plan.planfile import parse_plan


def test_expectations_hold_every_label_formula_and_style(plan):
    """What the reader checks in a returned sheet (reader._expected) is the layout the writer renders: every
    label with its value, every formula with its text, the style of every cell but the inputs, and the
    positions that may hold a value (labels, inputs, formulas; nothing a merge covers)."""
    from piao_xls.returns.reader import _expected, _input_positions

    text = synthetic_plan_yaml(3, 7, 3)
    synthetic, _ = parse_plan(text, "synthetic")
    layouts = [sector_sheet(p, sector) for p in (plan, synthetic) for sector in p.sectors]
    layouts += [source_sheet(plan, source) for source in ("nucleo", "esterno")]
    for layout in layouts:
        exp = _expected(layout)
        labels = [c for c in layout.cells if c.kind == "label" and c.value not in (None, "")]
        assert exp.labels == [(c.row, c.col, c.value) for c in labels]
        assert exp.label_at == [(c.row, c.col) for c in labels] and exp.label_want == [c.value for c in labels]
        assert exp.formulas == {(c.row, c.col): c.formula.removeprefix("=") for c in layout.formulas}
        inputs = _input_positions(layout)
        assert exp.looked == {(c.row, c.col): c.style for c in layout.cells if (c.row, c.col) not in inputs}
        assert exp.allowed == {(c.row, c.col) for c in [*labels, *layout.formulas, *layout.inputs.values()]}
        assert exp.last_row == layout.last_row


def test_the_legend_matches_the_cells(plan):
    """Grey only where nothing is asked in this sheet: a single value spans E:F (no grey cell beside it); the
    analysis has its own full-width row; the live cells start blank."""
    from piao_xls.forms.layout import B, E, F, H, instructions_sheet, sector_sheet

    legend = " ".join(str(c.value) for c in instructions_sheet(plan, "sector").cells)
    assert "Grigio: nessun dato da inserire" in legend and "valore fornito da altra fonte" in legend
    for sector in plan.sectors:
        sheet = sector_sheet(plan, sector)
        by_pos = {(c.row, c.col): c for c in sheet.cells}
        for key, cell in sheet.inputs.items():
            ind_id, _, name = key.partition("|")
            if name == "analisi":
                assert (cell.col, cell.merge_to[1]) == (B, H), key
                assert by_pos[(cell.row, 0)].value == "Analisi scostamenti rispetto al target"
            elif cell.col == E and not any(k.startswith(f"{ind_id}|") and c.col == F for k, c in sheet.inputs.items()):
                assert cell.merge_to and cell.merge_to[1] == F, key
                assert (cell.row, F) not in by_pos, f"{key}: a cell beside the input"
        greys = [c for c in sheet.cells if c.style == "external"]
        assert all(c.value in ("—", "informativo") or str(c.value).startswith(("a cura", "da cert")) for c in greys)
        from piao_xls.forms.layout import WAITING_TOTAL

        shown = {c.value for c in sheet.formulas}  # blank previews, and the total's "da compilare" text
        assert shown <= {"", WAITING_TOTAL}, shown


def test_the_nucleo_and_external_workbooks_speak_to_their_readers(plan):
    """Their own Istruzioni and labels, compact text rows, and no word about fields they do not have."""
    from piao_xls.forms.layout import A, source_workbook

    for source, value, text in (("nucleo", "Giudizio del Nucleo", "Motivazione"),
                                ("esterno", "Valore certificato", "Fonte del dato")):
        book = source_workbook(plan, source)
        istruzioni = " ".join(str(c.value) for c in book.sheets[0].cells)
        sheet = book.sheets[1]
        everything = istruzioni + " ".join(str(c.value) for c in sheet.cells) + " ".join(
            c.validation.input_message for c in sheet.inputs.values() if c.validation)
        assert value in istruzioni and text in istruzioni, source
        for absent in ("Tempi di realizzazione", "Risultato conseguito", "punti", "fascia", "Blu", "Analisi",
                       "scheda obiettivo", "Grigio", "Responsabile del settore"):
            assert absent.lower() not in everything.lower(), (source, absent)
        by_pos = {(c.row, c.col): c for c in sheet.cells}
        heights = sheet.row_heights
        texts = [c for k, c in sheet.inputs.items() if k.endswith("|analisi")]
        assert texts
        for cell in texts:
            assert by_pos[(cell.row, A)].value == text
            assert heights[cell.row] <= 4 * 13 + 4, (source, cell.key, heights[cell.row])
        assert any(c.value == value for c in sheet.cells if c.style == "header")
        nd = [c.validation.input_message for c in sheet.inputs.values() if c.unit not in ("text", None)]
        assert nd and all(("nella Motivazione" if source == "nucleo" else "nella riga Fonte del dato") in m
                          for m in nd), nd[:2]


def test_the_summary_shows_applied_weights_and_says_why(plan):
    """SF: objective 2 is measured by the Nucleo, so the other weights (90%) are brought to 100, in words; the
    applied weights add up to 100%. A sector where every objective is measured here says nothing."""
    from piao_xls.forms.layout import D, E, sector_sheet

    sheet = sector_sheet(plan, plan.sector("SF"))
    header = next(c.row for c in sheet.cells if c.value == "Peso applicato")
    assert {c.value for c in sheet.cells if c.row == header} >= {"Peso nel piano", "Peso applicato", "Punti"}
    rows = [c for c in sheet.cells if c.row > header and c.col == E and isinstance(c.value, float)
            and c.style == "weight"]
    # each applied weight as published (2 decimals of a percentage): they add up to 100% within their rounding
    assert abs(sum(c.value for c in rows) - 1) <= len(rows) * 0.00005 + 1e-12
    planned = {c.row: c.value for c in sheet.cells if c.row > header and c.col == D and c.style == "weight"}
    for c in rows:
        assert c.value == plan.scoring.published(planned[c.row] * 100 / 0.9) / 100
    words = " ".join(str(c.value) for c in sheet.cells if c.style == "plain")
    assert "Pesi riproporzionati: l'obiettivo 2 (peso 10%) è escluso" in words
    assert "90% in totale, sono riportati a 100" in words
    for code in ("SA", "ST", "AV"):
        sector = plan.sector(code)
        measured_here = all(any(i.source == "responsabile" and i.scored for i in o.indicators)
                            for o in sector.objectives)
        text = " ".join(str(c.value) for c in sector_sheet(plan, sector).cells if c.style == "plain")
        assert ("Pesi riproporzionati" in text) != (measured_here and sector.weight_total == 100), code


@pytest.mark.parametrize("kind", sorted(BY_KIND))
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_every_rule_kind_says_what_it_asks_and_its_rule_in_italian(kind, data):
    """Column «Dato richiesto» names the value with its unit, the input message states the rule in full, within
    Excel's 255 characters; a count shows its unit beside the number (the cell's number format)."""
    from piao_xls.core.rules import kind_of
    from piao_xls.core.targets import inputs_for
    from piao_xls.forms.layout import INPUT_MESSAGE_MAX, _indicator_inputs
    from piao_xls.forms.styles import STYLES
    from piao_xls.forms.writer import _Renderer

    rule = data.draw(BY_KIND[kind])
    k = kind_of(kind)
    asked, fields = _indicator_inputs(rule, 2025)
    if not k.scored:
        return
    requirement = k.requirement_it(rule)
    assert requirement and requirement == requirement.strip() and "None" not in requirement
    specs = inputs_for(rule, 2025)
    for spec, (_, unit, style, v) in zip(specs, fields, strict=True):
        assert k.asked_it(rule, spec) in asked
        if spec.name == "value" and len(specs) == 1:
            want = {"percent": "Percentuale (%)", "amount": "Importo in euro (€)", "date": "Data (gg/mm/aaaa)",
                    "yes_no": "Sì o No", "number": f"Numero di {rule.measure}" if rule.measure else "Numero"}
            assert asked == want[unit] or kind in ("giudizio", "yes_no", "deadline"), (asked, unit)
        assert len(v.input_message) <= INPUT_MESSAGE_MAX
        assert f"Regola del target: {requirement}." in v.input_message, v.input_message
        if unit == "number" and rule.measure:
            fmt = _Renderer.__new__(_Renderer)
            fmt.formats, fmt.wb = {}, SimpleNamespace(add_format=lambda props: props)
            assert fmt.fmt(style)["num_format"].endswith(f'"{rule.measure}"')
        else:
            assert style in STYLES


def test_a_target_of_at_most_0_days_asks_for_the_number_of_days():
    from piao_xls.core.model import Rule
    from piao_xls.forms.layout import _indicator_inputs

    asked, fields = _indicator_inputs(Rule("at_most", unit="number", target=0.0, measure="giorni"), 2025)
    assert asked == "Numero di giorni"
    assert "il valore deve essere minore o uguale a 0 giorni; altrimenti conta 0" in fields[0][3].input_message
    assert fields[0][2] == "input_number|giorni"


def test_a_card_fits_a_page_with_shorter_analysis_rows_or_goes_on_under_its_heading(plan):
    """Each «Analisi scostamenti» row is sized for 2,000 characters unless its card would then be taller than a page:
    the card's rows then get the most lines that fit (at least MIN_ANALYSIS_LINES). A card taller than a page even
    with the shortest rows keeps full rows and goes on at an indicator under its heading with «(segue)», each
    continuation fitting a page (what LibreOffice prints: tests/test_lo_legible.py)."""
    from scenario import long_text_plan

    from piao_xls.forms.layout import (
        LINE_HEIGHT,
        MIN_ANALYSIS_LINES,
        ROW_HEIGHT,
        TEXT_LIMITS,
        _lines,
        page_capacity,
    )

    def analysis_height(lines):
        return lines * LINE_HEIGHT + 4

    seen = {"full": 0, "shorter": 0, "continued": 0}
    for p in (plan, long_text_plan(plan)):
        for sector in p.sectors:
            sheet = sector_sheet(p, sector)
            heights = sheet.row_heights
            capacity = page_capacity(sheet, heights)
            full = _lines("x" * TEXT_LIMITS["analisi"], sum(sheet.col_widths[1:8]))
            starts = [i for i, g in enumerate(sheet.groups) if g[0][0] in sheet.fresh]
            for i, j in zip(starts, [*starts[1:], len(sheet.groups)], strict=True):
                groups = sheet.groups[i:j]
                first, last = groups[0][0][0], groups[-1][-1][1]
                rows = range(first, last + 1)
                analyses = [c.row for c in sheet.cells if (c.key or "").endswith("|analisi") and c.row in rows]
                segue = [c.row for c in sheet.cells if c.row in rows and c.style == "card"
                         and str(c.value).endswith(" (segue)")]
                total = sum(heights.get(r, ROW_HEIGHT) for r in rows)
                if segue:
                    seen["continued"] += 1
                    assert len(groups) == len(segue) + 1 and [g[0][0] for g in groups[1:]] == segue
                    assert not any(r in sheet.reserve for r in analyses)
                    shortest = total - sum(heights[r] + heights.get(r + 1, ROW_HEIGHT) for r in segue) - sum(
                        heights[r] - analysis_height(MIN_ANALYSIS_LINES) for r in analyses)
                    assert shortest > capacity, (sector.code, first)
                    for g in groups[1:]:
                        assert sum(heights.get(r, ROW_HEIGHT) for r in range(g[0][0], g[-1][1] + 1)) <= capacity
                    continue
                assert len(groups) == 1
                short = [r for r in analyses if r in sheet.reserve]
                if short:
                    seen["shorter"] += 1
                    assert total <= capacity, (sector.code, first)
                    lines = {sheet.reserve[r] for r in short}
                    assert len(lines) == 1 and MIN_ANALYSIS_LINES <= lines.pop() < full
                    assert short == analyses and all(heights[r] == analysis_height(sheet.reserve[r]) for r in short)
                    # one line more would not fit
                    assert total + len(short) * LINE_HEIGHT > capacity, (sector.code, first)
                else:
                    seen["full"] += 1
                    assert all(heights[r] >= analysis_height(full) for r in analyses)
                    if total > capacity:  # only when a part of it (a plan text) is by itself taller than a page
                        assert any(sum(heights.get(r, ROW_HEIGHT) for r in range(a, b + 1)) > capacity
                                   for a, b in groups[0]), (sector.code, first)
    assert all(seen.values()), seen
