"""The reader's view of a sheet is the full layout, minus what only the writer renders.

`sector_sheet(..., for_reader=True)` runs the same builder code through a lighter sheet builder
(no formula text, no label cells). These tests hold the two to the same cells, so the reader
finds every input and checks every label exactly where the writer put them.
"""

from __future__ import annotations

import pytest

from piao_xls.forms.layout import sector_sheet, source_sheet
from piao_xls.forms.samples import synthetic_plan_yaml
from piao_xls.plan.planfile import parse_plan


def _same(full, view) -> None:
    assert view.name == full.name and view.kind == full.kind and view.sector_code == full.sector_code
    assert view.label_values == [(c.row, c.col, c.value) for c in full.labels]
    assert list(view.inputs) == list(full.inputs)
    for key, cell in full.inputs.items():
        assert view.inputs[key] == cell  # position, merge, unit, validation: field by field
    assert view.last_row == full.last_row
    assert view.formulas == []  # no formula text is computed for the reader
    assert all(c.kind == "input" for c in view.cells)


def test_reader_view_matches_full_layout_bundled(plan):
    for sector in plan.sectors:
        _same(sector_sheet(plan, sector), sector_sheet(plan, sector, for_reader=True))
    for source in ("nucleo", "esterno"):
        _same(source_sheet(plan, source), source_sheet(plan, source, for_reader=True))


@pytest.mark.parametrize("policy", ["", "scoring: {aggregation: min, threshold: 0.5}"])
def test_reader_view_matches_full_layout_synthetic(policy):
    text = synthetic_plan_yaml(3, 7, 3) + ("\n" + policy if policy else "")
    plan, findings = parse_plan(text, "synthetic")
    assert plan is not None, findings
    for sector in plan.sectors:
        full, view = sector_sheet(plan, sector), sector_sheet(plan, sector, for_reader=True)
        _same(full, view)
        assert len(full.formulas) > 0 and len(view.label_values) > 100


def test_full_layout_is_unchanged_by_the_reader_view(plan):
    """Building a view first must not leak into the full layout (the builders share no state)."""
    sector = plan.sectors[1]
    before = sector_sheet(plan, sector)
    sector_sheet(plan, sector, for_reader=True)
    after = sector_sheet(plan, sector)
    assert before.cells == after.cells and before.row_heights == after.row_heights


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
        assert all(c.value == "" for c in sheet.formulas), "a live cell shows a value before recalculation"
