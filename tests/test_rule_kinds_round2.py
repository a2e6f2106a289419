"""The rule kinds of the grammar's second round (maintain, rate, duration), end to end: plan text -> generate ->
fill (openpyxl, as a person would) -> read -> score; and their live formulas in real LibreOffice. Expected
achievements are worked out by hand from docs/targets.md."""

from __future__ import annotations

import pytest
from test_rule_kinds_end_to_end import fill, live_formulas_agree

from piao_xls.forms.generate import generate
from piao_xls.forms.layout import sector_workbook
from piao_xls.plan.planfile import parse_plan
from piao_xls.results.consolidate import consolidate
from piao_xls.returns.reader import read_workbook

PLAN = """\
plan_id: kinds2-2025
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
          - {description: Livello di servizio, target: "mantenere il livello di servizio del 2024"}
          - description: Pratiche evase
            target: "mantenimento del valore di riferimento 150 pratiche del 2024 con tolleranza di 5"
          - {description: Sopralluoghi, target: "1 sopralluogo ogni 50 pratiche"}
          - {description: Realizzazione dell'opera, target: "entro 18 mesi dall'avvio"}
          - {description: Conclusione del progetto, target: "entro due anni"}
"""

FILLED = {
    "SA-1.1|baseline": 100, "SA-1.1|current": 90,      # maintain 100: 90 / 100                         -> 0.9
    "SA-1.2|current": 147,                             # maintain 150 within 5: 147 >= 145              -> 1
    "SA-1.3|numerator": 3, "SA-1.3|denominator": 200,  # 1 every 50: (3 / 200) / (1 / 50) = 0.015 / 0.02 -> 0.75
    "SA-1.4|value": 24,                                # at most 18 months: 18 / 24                      -> 0.75
    "SA-1.5|value": 1.5,                               # at most 2 years: 1.5                            -> 1
}
ANALYSES = {f"SA-1.{n}|analisi": "Scostamento dovuto a cause esterne." for n in (1, 3, 4)}
EXPECTED = {"SA-1.1": 0.9, "SA-1.2": 1.0, "SA-1.3": 0.75, "SA-1.4": 0.75, "SA-1.5": 1.0}


@pytest.fixture(scope="module")
def plan():
    plan, findings = parse_plan(PLAN, "kinds2.yaml")
    assert plan is not None, [str(f) for f in findings]
    return plan


def test_the_plan_reads_each_phrase_as_its_kind(plan):
    assert [i.rule.kind for i in plan.indicators] == ["maintain", "maintain", "rate", "duration", "duration"]


def test_generate_fill_read_score(plan, tmp_path):
    generate(plan, tmp_path)
    folder = tmp_path / str(plan.year)
    book = sector_workbook(plan, plan.sectors[0])
    inputs = book.sheets[1].inputs
    assert {"SA-1.1|baseline", "SA-1.1|current", "SA-1.2|current", "SA-1.3|numerator", "SA-1.3|denominator",
            "SA-1.4|value", "SA-1.5|value"} <= set(inputs)
    assert "SA-1.2|baseline" not in inputs  # the plan states it
    fill(folder / book.filename, book, {**FILLED, **ANALYSES})
    res = read_workbook(folder / book.filename, plan)
    assert res.status == "accepted", [str(f) for f in res.findings]
    c = consolidate([folder], plan)
    got = {i["indicator"]: i["achievement"] for i in c.indicators if i["sector"] == "SA"}
    assert got == pytest.approx(EXPECTED, abs=1e-12)
    sector = next(s for s in c.sectors if s["code"] == "SA")
    assert sector["score"] == pytest.approx(88.0, abs=1e-9)


def test_the_inputs_say_what_to_type(plan):
    sheet = sector_workbook(plan, plan.sectors[0]).sheets[1]
    asked = {c.value for c in sheet.cells if c.kind == "label" and isinstance(c.value, str)}
    text = "\n".join(asked)  # two inputs share one label: "E: ...\nF: ..."
    for label in ("Valore 2024 (riferimento)", "Valore 2025 (pratiche)", "Numero effettuato (sopralluogo)",
                  "Quantità di riferimento (pratiche)", "Numero di mesi", "Numero di anni"):
        assert label in text, label


EDGES = [
    {"SA-1.1|baseline": 100.0, "SA-1.1|current": 100.0, "SA-1.2|current": 145.0, "SA-1.3|numerator": 1.0,
     "SA-1.3|denominator": 50.0, "SA-1.4|value": 18.0, "SA-1.5|value": 2.0},
    {"SA-1.1|baseline": 0.0, "SA-1.1|current": 0.0, "SA-1.2|current": 144.9, "SA-1.3|numerator": 5.0,
     "SA-1.3|denominator": 0.0, "SA-1.4|value": 18.5, "SA-1.5|value": 0.0},
    {"SA-1.1|baseline": 80.0, "SA-1.1|current": 20.0, "SA-1.2|current": 0.0, "SA-1.3|numerator": 0.0,
     "SA-1.3|denominator": 10.0, "SA-1.4|value": 36.0, "SA-1.5|value": 7.0},
    {key: None for key in ("SA-1.1|current", "SA-1.3|denominator", "SA-1.4|value")},
]


@pytest.mark.libreoffice
def test_live_formulas_of_the_new_kinds_equal_the_python_engine(libreoffice, tmp_path, plan):
    live_formulas_agree(libreoffice, tmp_path, plan, EDGES)
