"""The rule kinds the target grammar added, end to end: plan text -> generate -> fill (openpyxl, as a person
would) -> read -> score. Expected achievements are worked out by hand from docs/scoring.md."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook

from piao_xls.forms.generate import generate
from piao_xls.forms.layout import sector_workbook, source_workbook
from piao_xls.plan.planfile import parse_plan
from piao_xls.results.consolidate import consolidate
from piao_xls.returns.reader import read_workbook

PLAN = """\
plan_id: kinds-2025
comune: Esempio
year: 2025
sectors:
  - code: SA
    name: Amministrazione
    short_name: SA - Amministrazione
    responsabile: {name: Pietro Pastore}
    objectives:
      - number: 1
        title: Servizi
        weight: 100
        indicators:
          - {description: Accessi al portale, target: "superiore a 5"}
          - {description: Reclami ricevuti, target: "meno di 3 reclami"}
          - {description: Pratiche istruite, target: "pari a 100 ± 5"}
          - {description: Costo del servizio, target: "riduzione del 10% rispetto al 2024"}
          - {description: Tempo medio di rilascio, target: "da 60 a 20 giorni"}
          - {description: Iscritti ai corsi, target: "incremento da 10 a 20"}
          - {description: Adempimenti di legge, target: "Rispetto degli adempimenti"}
          - {description: Tempo di risposta, target: "entro 30 giorni dalla richiesta"}
"""

# input key -> value typed by the Responsabile, with the achievement worked out by hand
FILLED = {
    "SA-1.1|value": 6,            # more_than 5: 6 > 5                              -> 1
    "SA-1.2|value": 3,            # less_than 3: 3 is not < 3                        -> 0
    "SA-1.3|value": 96,           # equal 100 ± 5: |96 - 100| = 4 <= 5                -> 1
    "SA-1.4|baseline": 200,       # decrease 10% from 200: goal 180; current 190
    "SA-1.4|current": 190,        #   (200 - 190) / (200 - 180)                       -> 0.5
    "SA-1.5|current": 40,         # decrease from 60 (plan) to 20: (60 - 40) / (60 - 20) -> 0.5
    "SA-1.6|current": 15,         # increase from 10 (plan) to 20: 15 / 20           -> 0.75
    "SA-1.8|value": 25,           # at most 30 days: 25                              -> 1
}
ANALYSES = {f"SA-1.{n}|analisi": "Scostamento dovuto a cause esterne." for n in (2, 4, 5, 6)}
NUCLEO = {"SA-1.7|value": 0.8, "SA-1.7|analisi": "Adempimenti rispettati salvo due ritardi."}  # giudizio -> 0.8
EXPECTED = {"SA-1.1": 1.0, "SA-1.2": 0.0, "SA-1.3": 1.0, "SA-1.4": 0.5, "SA-1.5": 0.5, "SA-1.6": 0.75,
            "SA-1.7": 0.8, "SA-1.8": 1.0}


@pytest.fixture(scope="module")
def plan():
    plan, findings = parse_plan(PLAN, "kinds.yaml")
    assert plan is not None, [str(f) for f in findings]
    return plan


def fill(path: Path, book, values: dict) -> Path:
    """Type values into a generated workbook with openpyxl, as a person would."""
    wb = load_workbook(path)
    sheet = book.sheets[1]
    ws = wb[sheet.name]
    for key, value in values.items():
        ws[sheet.inputs[key].ref] = value
    wb.save(path)
    return path


@pytest.fixture
def generated(tmp_path, plan):
    generate(plan, tmp_path)
    return tmp_path / str(plan.year)


def test_the_plan_reads_each_phrase_as_its_kind(plan):
    kinds = [i.rule.kind for i in plan.indicators]
    assert kinds == ["more_than", "less_than", "equal", "decrease", "decrease", "increase", "giudizio", "at_most"]
    assert plan.indicators[6].source == "nucleo"  # a judgement is the Nucleo's by default


def test_generate_fill_read_score(plan, generated):
    sector_book, nucleo_book = sector_workbook(plan, plan.sectors[0]), source_workbook(plan, "nucleo")
    # the plan states the baseline of SA-1.5 and SA-1.6: the Responsabile fills only the current value
    assert "SA-1.5|baseline" not in sector_book.sheets[1].inputs
    assert {"SA-1.4|baseline", "SA-1.4|current"} <= set(sector_book.sheets[1].inputs)
    assert "SA-1.7|value" in nucleo_book.sheets[1].inputs and "SA-1.7|value" not in sector_book.sheets[1].inputs
    fill(generated / sector_book.filename, sector_book, {**FILLED, **ANALYSES})
    fill(generated / nucleo_book.filename, nucleo_book, NUCLEO)
    for name in (sector_book.filename, nucleo_book.filename):
        res = read_workbook(generated / name, plan)
        assert res.status == "accepted", [str(f) for f in res.findings]
    c = consolidate([generated], plan)
    got = {i["indicator"]: i["achievement"] for i in c.indicators if i["sector"] == "SA"}
    assert got == pytest.approx(EXPECTED, abs=1e-12)
    sector = next(s for s in c.sectors if s["code"] == "SA")
    assert sector["score"] == pytest.approx(sum(EXPECTED.values()) / 8 * 100, abs=1e-9)  # 69.375


def test_a_judgement_needs_its_motivation_even_at_100_percent(plan, generated):
    nucleo_book = source_workbook(plan, "nucleo")
    path = fill(generated / nucleo_book.filename, nucleo_book, {"SA-1.7|value": 1.0})
    res = read_workbook(path, plan)
    (f,) = [f for f in res.findings if f.code == "WB-ANALYSIS"]
    assert "motivato" in f.message and f.cell == nucleo_book.sheets[1].inputs["SA-1.7|analisi"].ref
    assert f.file == str(path) and f.sheet == nucleo_book.sheets[1].name  # README: file, sheet and cell


def test_the_inputs_say_what_to_type(plan):
    sheet = sector_workbook(plan, plan.sectors[0]).sheets[1]
    asked = {c.value for c in sheet.cells if c.kind == "label" and isinstance(c.value, str)}
    assert "Valore 2025 (giorni)" in asked  # SA-1.5: the current value, in the plan's unit
    assert any("Valore 2024 (riferimento)" in a for a in asked)  # SA-1.4: the baseline year


# --- the live formulas of the new kinds in real LibreOffice ------------------------------------------------

LO_PLAN = PLAN + """\
          - {description: Qualità del servizio, target: "Rispetto degli adempimenti", source: responsabile}
          - {description: Copertura, target: "soglia minima 80%"}
          - {description: Utenti serviti, target: "+10% rispetto al valore di riferimento 150"}
"""
# the values where each rule changes its verdict, typed in turn
EDGES = [
    {"SA-1.1|value": 5.0, "SA-1.2|value": 2.0, "SA-1.3|value": 105.0, "SA-1.4|baseline": 200.0,
     "SA-1.4|current": 180.0, "SA-1.5|current": 20.0, "SA-1.6|current": 20.0, "SA-1.8|value": 30.0,
     "SA-1.9|value": 1.0, "SA-1.10|value": 0.8, "SA-1.11|current": 165.0},
    {"SA-1.1|value": 5.000001, "SA-1.2|value": 3.0, "SA-1.3|value": 94.9, "SA-1.4|baseline": 0.0,
     "SA-1.4|current": 0.0, "SA-1.5|current": 61.0, "SA-1.6|current": 0.0, "SA-1.8|value": 31.0,
     "SA-1.9|value": 0.0, "SA-1.10|value": 0.7999, "SA-1.11|current": 0.0},
    {"SA-1.4|baseline": 100.0, "SA-1.4|current": 95.0, "SA-1.5|current": 59.0, "SA-1.6|current": 25.0,
     "SA-1.9|value": 0.55, "SA-1.11|current": 300.0},
    {key: None for key in ("SA-1.1|value", "SA-1.4|current", "SA-1.5|current", "SA-1.9|value")},
]


@pytest.mark.libreoffice
def test_live_formulas_of_the_new_kinds_equal_the_python_engine(libreoffice, tmp_path):
    plan, findings = parse_plan(LO_PLAN, "kinds.yaml")
    assert plan is not None, [str(f) for f in findings]
    live_formulas_agree(libreoffice, tmp_path, plan, EDGES)


def live_formulas_agree(libreoffice, tmp_path, plan, edges) -> None:
    """The first sector's form filled in real LibreOffice with seeded samples and ``edges``: no input marked
    invalid, and every live formula equal to the Python engine's score."""
    from test_lo_generate import compare_sheet, invalid_inputs, write

    from piao_xls.forms.samples import sample_values
    from piao_xls.forms.writer import render

    sector = plan.sectors[0]
    book = sector_workbook(plan, sector)
    sheet = book.sheets[1]
    path = tmp_path / book.filename
    path.write_bytes(render(book))
    scenarios = {f"seed {seed}": sample_values(sheet, seed, plan.year) for seed in (1, 2, 3)}
    base = sample_values(sheet, 9, plan.year)
    scenarios |= {f"edges {n}": {**base, **e} for n, e in enumerate(edges)}
    errors: list[str] = []
    with libreoffice.open(path) as doc:
        for label, values in scenarios.items():
            write(doc, sheet, values)
            doc.recalc()
            assert not invalid_inputs(doc, sheet), f"[{label}] marked invalid: {invalid_inputs(doc, sheet)}"
            errors += compare_sheet(doc, plan, sector, sheet, values, label)
    assert not errors, f"{len(errors)} difference(s):\n" + "\n".join(errors[:40])
