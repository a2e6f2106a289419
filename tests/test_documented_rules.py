"""Rules stated in docs/scoring.md and docs/security.md, checked at their edges. Every expected value below is
read from those pages (quoted next to each test), not computed with the code under test.
"""

from __future__ import annotations

from datetime import date

import pytest
import yaml

from piao_xls.core.evaluation import Outcome, Provenance, SectorStatus, Submission, evaluate
from piao_xls.forms.layout import Cell, Validation, sector_workbook
from piao_xls.plan.planfile import parse_plan
from piao_xls.returns.reader import validate_value

GATE_PLAN = {
    "comune": "Prova", "year": 2025,
    "sectors": [{
        "code": "GA", "name": "Prova", "short_name": "GA - Prova", "responsabile": {"name": "Mario Rossi"},
        "objectives": [
            {"number": 1, "title": "PRIMO", "weight": 30,
             "indicators": [{"description": "Pratiche evase", "target": "100%"}]},
            {"number": 2, "title": "SECONDO", "weight": 70,
             "indicators": [{"description": "Pratiche evase", "target": "100%"}]},
            {"number": 3, "title": "ACCESSO", "weight": "X",
             "indicators": [{"description": "Adempimento", "target": "Sì"}]},
        ]}],
}


@pytest.fixture(scope="module")
def gate_plan():
    plan, findings = parse_plan(yaml.safe_dump(GATE_PLAN, allow_unicode=True), "gate.yaml")
    assert plan is not None, findings
    return plan


def _values(first: float, second: float, gate: bool | None) -> dict:
    return {"GA-1.1": {"value": first}, "GA-2.1": {"value": second}, "GA-3.1": {"value": gate}}


def test_a_gate_objective_weighs_nothing(gate_plan):
    """scoring.md: "A gate objective ... weighs 0 and does not enter the sum above"; its applied weight is none,
    the others keep theirs (30 and 70 already sum to 100)."""
    ga = evaluate(gate_plan, [Submission("GA", values=_values(0.5, 1.0, True))]).sector("GA")
    applied = {o.objective_id: o.weight_applied for o in ga.objectives}
    assert applied == {"GA-1": 30, "GA-2": 70, "GA-3": None}
    assert [o.gate for o in ga.objectives] == [False, False, True]  # the plan's weight "X"
    gate = ga.objectives[2]
    assert gate.points == 0 and gate.achievement == 1
    assert ga.score == pytest.approx(30 * 0.5 + 70)  # 85: the met gate adds nothing
    assert ga.note is None


@pytest.mark.parametrize("gate", [False, None], ids=["not-met", "not-reported"])
def test_a_gate_not_met_caps_the_score_at_zero_by_default(gate_plan, gate):
    """scoring.md: "An unreported gate scores 0 and is not met ... With the default the sector scores 0. The
    summary's Note column names the gate and gives the score the sector would have had.\""""
    from piao_xls.results.consolidate import render

    ev = evaluate(gate_plan, [Submission("GA", values=_values(0.5, 1.0, gate))])
    ga = ev.sector("GA")
    assert ga.score == 0 and ga.note is not None and ga.note.code == "gate_failed"
    assert ga.note["gates"] == ("GA-3",) and ga.note["uncapped"] == pytest.approx(85)
    (row,) = render(ev).sectors  # the Note column: the gate, and 85 (30 x 0,5 + 70) without the cap
    assert "GA-3" in row["note"] and "85" in row["note"]


def test_counts_of_objectives(gate_plan):
    """scoring.md, Counts of objectives: reached from the plan's `reached` (default 100%), not reached below
    `not_reached_below` (default 50%), partly reached in between, on the published achievement; not reported
    when none of its indicators has a value."""
    ga = evaluate(gate_plan, [Submission("GA", values=_values(0.0, 0.99995, True))]).sector("GA")
    outcomes = [o.outcome for o in ga.objectives]
    # 0.99995 is published as 100,00%: reached (the band and the counts go with the printed figure)
    assert outcomes == [Outcome.NOT_REACHED, Outcome.REACHED, Outcome.REACHED]
    ga = evaluate(gate_plan, [Submission("GA", values={"GA-1.1": {"value": None}, "GA-2.1": {"value": 0.4},
                                                       "GA-3.1": {"value": True}})]).sector("GA")
    # 40% is below the default 50%: not reached (an objective at 8,87% is never "partly reached")
    assert [o.outcome for o in ga.objectives] == [Outcome.NOT_REPORTED, Outcome.NOT_REACHED, Outcome.REACHED]
    assert (ga.count(Outcome.REACHED), ga.count(Outcome.PARTLY), ga.count(Outcome.NOT_REACHED),
            ga.count(Outcome.NOT_REPORTED)) == (1, 0, 1, 1)
    # the boundaries, on the published figure: 49,995% is published 50,00% (partly), 49,994% is 49,99%
    for value, outcome in ((0.49995, Outcome.PARTLY), (0.49994, Outcome.NOT_REACHED), (0.6, Outcome.PARTLY)):
        ga = evaluate(gate_plan, [Submission("GA", values=_values(value, 1.0, True))]).sector("GA")
        assert ga.objectives[0].outcome is outcome, value
    # the plan's own thresholds
    import dataclasses

    own = dataclasses.replace(gate_plan, scoring=dataclasses.replace(gate_plan.scoring, reached=0.95,
                                                                     not_reached_below=0.3))
    ga = evaluate(own, [Submission("GA", values=_values(0.35, 0.95, True))]).sector("GA")
    assert [o.outcome for o in ga.objectives][:2] == [Outcome.PARTLY, Outcome.REACHED]


def test_the_counts_every_output_shows(gate_plan):
    """scoring.md, Counts of objectives, as the summary, the JSON and the CSV show them (the sector's row): a plan
    of four objectives with 0%, 60%, 100% and one not reported is 1 reached (and the met gate: 2), 1 partly,
    1 not reached, 1 not reported; the row's keys say which count is which."""
    from piao_xls.results.consolidate import render
    from piao_xls.results.export import to_json_dict

    four = {**GATE_PLAN, "sectors": [{**GATE_PLAN["sectors"][0], "objectives": [
        {"number": 1, "title": "PRIMO", "weight": 25, "indicators": [{"description": "Pratiche", "target": "100%"}]},
        {"number": 2, "title": "SECONDO", "weight": 25, "indicators": [{"description": "Pratiche", "target": "100%"}]},
        {"number": 3, "title": "TERZO", "weight": 25, "indicators": [{"description": "Pratiche", "target": "100%"}]},
        {"number": 4, "title": "QUARTO", "weight": 25, "indicators": [{"description": "Pratiche", "target": "100%"}]},
        {"number": 5, "title": "ACCESSO", "weight": "X", "indicators": [{"description": "Adempimento", "target": "Sì"}]},
    ]}]}
    plan, findings = parse_plan(yaml.safe_dump(four, allow_unicode=True), "four.yaml")
    assert plan is not None, findings
    values = {"GA-1.1": {"value": 0.0}, "GA-2.1": {"value": 0.6}, "GA-3.1": {"value": 1.0}, "GA-4.1": {"value": None},
              "GA-5.1": {"value": True}}
    (row,) = to_json_dict(render(evaluate(plan, [Submission("GA", values=values)])))["sectors"]
    assert {k: row[k] for k in ("objectives_reached", "objectives_partly", "objectives_not_reached",
                                "objectives_not_reported")} == {"objectives_reached": 2, "objectives_partly": 1,
                                                                 "objectives_not_reached": 1,
                                                                 "objectives_not_reported": 1}


def test_a_sector_left_with_its_gate_only_has_no_score(gate_plan):
    """scoring.md, Sectors with nothing measurable: "A sector none of whose objectives (gates aside) has a scored
    indicator has no score and no band"; here the Nucleo neutralises both weighted objectives and the gate, met,
    is all that is left: no score, no band, and each decision says no objective is left to weigh."""
    from piao_xls.core.decisions import NEUTRALISE, Decision
    from piao_xls.results.consolidate import render

    decisions = [Decision(NEUTRALISE, "GA", f"GA-{n}", reason="norma sopravvenuta", by="Nucleo", date="2026-03-10")
                 for n in (1, 2)]
    ev = evaluate(gate_plan, [Submission("GA", values=_values(0.5, 1.0, True))], decisions)
    ga = ev.sector("GA")
    assert ga.status is SectorStatus.NOT_EVALUABLE and ga.score is None and ga.published is None and ga.band == ""
    assert [o.effect.params["weights"].code for o in ev.decisions] == ["no_evaluable_objective"] * 2
    rows = render(ev).decisions
    assert [r["effect"] for r in rows] == ["obiettivo GA-1 escluso dal calcolo; nessun obiettivo valutabile: settore non "
                                          "valutabile (nessun punteggio, nessuna fascia)",
                                          "obiettivo GA-2 escluso dal calcolo; nessun obiettivo valutabile: settore non "
                                          "valutabile (nessun punteggio, nessuna fascia)"]


def test_a_tie_under_prefer_newest_is_a_conflict(gate_plan):
    """security.md: "When a date is not valid, or two files share the newest date, the sector is reported as a
    conflict and not scored.\""""
    from piao_xls.core.evaluation import Choice

    same = "2026-01-10T09:00:00"
    subs = [Submission("GA", values=_values(0.5, 1.0, True), provenance=Provenance("a.xlsx", sent=same)),
            Submission("GA", values=_values(0.9, 1.0, True), provenance=Provenance("b.xlsx", sent=same)),
            Submission("GA", values=_values(0.7, 1.0, True), provenance=Provenance("c.xlsx", sent="2026-01-01"))]
    ga = evaluate(gate_plan, subs, choice=Choice.NEWEST).sector("GA")
    assert ga.status is SectorStatus.CONFLICT and ga.score is None and not ga.used


def test_a_missing_source_never_leaves_a_sector_scored_cleanly(plan):
    """scoring.md: a sector whose Nucleo values did not arrive is scored with those indicators "non rendicontato"
    (0); it is not "valutato" as if complete."""
    sf = evaluate(plan, [Submission("SF", values={"SF-1.1": {"value": 1.0}})]).sector("SF")
    assert sf.status is SectorStatus.SCORED_WITH_ISSUES
    nucleo = Submission("SF", "nucleo", {"SF-2.1": {"value": 1.0}})
    assert evaluate(plan, [Submission("SF", values={"SF-1.1": {"value": 1.0}}), nucleo]).sector("SF").status \
        is SectorStatus.SCORED


def _input(plan, key: str) -> Cell:
    sheet = sector_workbook(plan, plan.sector(key.split("-")[0])).sheets[1]
    return sheet.inputs[key]


@pytest.mark.parametrize(("raw", "ok"), [
    (0.0, True), (0, True), (1e12, True), (-0.01, False), (1e12 * 1.000001, False),
])
def test_amounts_within_zero_and_a_thousand_billion(plan, raw, ok):
    """security.md: "amounts within 0–1,000,000,000,000 €" (a 0 € amount is a valid amount)."""
    cell = _input(plan, "SF-6.1|numerator")
    assert cell.unit == "amount"
    _, err, _ = validate_value(raw, cell, plan.year)
    assert (err is None) is ok, err


@pytest.mark.parametrize(("day", "ok"), [
    (date(2024, 1, 1), True), (date(2023, 12, 31), False), (date(2026, 12, 31), True), (date(2027, 1, 1), False),
])
def test_dates_within_the_year_before_and_the_year_after(plan, day, ok):
    """security.md: "dates within 1 January of the year before the plan to 31 December of the year after"."""
    cell = Cell(0, 4, kind="input", key="X|date", unit="date")
    _, err, _ = validate_value(day, cell, plan.year)
    assert (err is None) is ok, err
    # the window a form states for a deadline in the plan's year is the same
    form = _input(plan, "SF-1.2|date")
    assert isinstance(form.validation, Validation)
    assert (validate_value(day, form, plan.year)[1] is None) is ok


@pytest.mark.parametrize(("raw", "warned"), [("15/11/2025", True), (" 1.2.2025 ", True), ("31-12-2026", True),
                                           (date(2025, 11, 15), False), (45976.0, False)])
def test_a_date_typed_as_text_gives_a_warning(plan, raw, warned):
    """docs/inputs.md, date: a text d/m/yyyy is accepted, "the day; a text date also gives a warning"; a date or a
    serial number gives none."""
    cell = Cell(0, 4, kind="input", key="X|date", unit="date")
    value, err, warning = validate_value(raw, cell, plan.year)
    assert isinstance(value, date) and err is None
    assert bool(warning) is warned


@pytest.mark.parametrize("raw", [2, 2.0, -1, "forse"])
def test_yes_no_answers_only_from_the_list(plan, raw):
    """security.md: "Sì/No answers from the list" — a number is not an answer, not even one a spreadsheet could
    read as TRUE."""
    cell = Cell(0, 4, kind="input", key="X|value", unit="yes_no")
    value, err, _ = validate_value(raw, cell, plan.year)
    assert value is None and err is not None


@pytest.mark.parametrize(("raw", "kept"), [("in linea", "in linea"), ("a rischio", "a rischio"),
                                         ("critico", "critico"), ("forse", None), (1.0, None)])
def test_a_monitoring_list_takes_only_its_entries(plan, raw, kept):
    """docs/monitoring.md: an objective's «Stato» accepts *in linea*, *a rischio*, *critico* (list): an entry of
    the list is kept as it is, anything else is refused."""
    cell = Cell(0, 4, kind="input", key="X|stato", unit="choice",
                validation=Validation("list", choices=("in linea", "a rischio", "critico")))
    value, err, _ = validate_value(raw, cell, plan.year)
    assert value == kept and (err is None) is (kept is not None), err
    if err is not None:  # the refusal says what may be chosen
        assert all(entry in err for entry in ("in linea", "a rischio", "critico")), err


@pytest.mark.parametrize(("maximum", "limit"), [(None, 2000), (255, 255)], ids=["no-validation", "timing"])
def test_a_texts_length_limit(plan, maximum, limit):
    """docs/inputs.md: a text is accepted "up to the cell's length limit (2,000 characters for an analysis or a
    result, 255 for timing; the limit stated in the validation when there is one)"."""
    validation = None if maximum is None else Validation("length", 0, maximum)
    cell = Cell(0, 4, kind="input", key="X|analisi", unit="text", validation=validation)
    assert validate_value("a" * limit, cell, plan.year)[:2] == ("a" * limit, None)
    value, err, _ = validate_value("a" * (limit + 1), cell, plan.year)
    assert value is None and err is not None and str(limit) in err


@pytest.mark.parametrize("raw", ["non ancora misurabile", "non misurabile", "n.m."])
def test_not_yet_measurable_only_in_a_monitoring_form(plan, raw):
    """docs/monitoring.md: a monitoring form's value accepts «non ancora misurabile» (also «non misurabile»,
    «n.m.»); docs/inputs.md lists no such answer for a year-end form's value: refused there."""
    from piao_xls.core.answers import NOT_YET

    monitoring = Cell(0, 4, kind="input", key="X|value", unit="percent",
                      validation=Validation("decimal", 0.0, 1.0, not_available=True, not_yet=True))
    assert validate_value(raw, monitoring, plan.year)[:2] == (NOT_YET, None)
    year_end = Cell(0, 4, kind="input", key="X|value", unit="percent",
                    validation=Validation("decimal", 0.0, 1.0, not_available=True))
    value, err, _ = validate_value(raw, year_end, plan.year)
    assert value is None and err is not None


def test_the_oracle_of_the_mutation_suite_gives_the_hand_computed_score(plan):
    """tests/oracle.py (the rules as docs/scoring.md states them) on the hand-computed scenario of SF."""
    import oracle
    from scenario import NUCLEO_VALUES, SF_EXPECTED_BAND, SF_EXPECTED_SCORE, SF_VALUES

    values: dict = {}
    for key, v in {**SF_VALUES, **NUCLEO_VALUES}.items():
        ind, _, name = key.partition("|")
        if name != "analisi":
            values.setdefault(ind, {})[name] = v
    score = oracle.sector_score(plan.sector("SF"), values, plan.scoring)
    assert score == pytest.approx(SF_EXPECTED_SCORE, abs=1e-9)
    assert oracle.band(score, plan.scoring) == SF_EXPECTED_BAND
    ev = evaluate(plan, [Submission("SF", values={k: v for k, v in values.items() if k != "SF-2.1"}),
                         Submission("SF", "nucleo", {"SF-2.1": values["SF-2.1"]})]).sector("SF")
    assert ev.score == pytest.approx(score, abs=1e-9) and ev.band == SF_EXPECTED_BAND


MIXED_PLAN = {
    "comune": "Prova", "year": 2025,
    "sectors": [
        {"code": "MX", "name": "Misto", "short_name": "MX - Misto", "responsabile": {"name": "Mario Rossi"},
         "objectives": [{"number": 1, "title": "MISTO", "weight": 100, "indicators": [
             {"description": "Pratiche evase", "target": "100%"},
             {"description": "Importo incassato", "target": ""}]}]},
        {"code": "NV", "name": "Solo informativi", "short_name": "NV - Informativi",
         "responsabile": {"name": "Anna Bianchi"},
         "objectives": [{"number": 1, "title": "INFORMATIVO", "weight": 100, "indicators": [
             {"description": "Importo incassato", "target": ""}]}]},
    ],
}


@pytest.fixture(scope="module")
def mixed_plan():
    plan, findings = parse_plan(yaml.safe_dump(MIXED_PLAN, allow_unicode=True), "mixed.yaml")
    assert plan is not None, findings
    return plan


def test_an_objective_whose_scored_indicators_are_missing_is_not_reported(mixed_plan):
    """scoring.md, "Missing values": a missing value scores 0 and is "non rendicontato"; an informative
    indicator "does not take part in its objective's score" — so a value given for it does not make the
    objective reported."""
    subs = [Submission("MX", values={"MX-1.1": {"value": None}, "MX-1.2": {"value": 1000.0}}),
            Submission("NV", values={"NV-1.1": {"value": 5.0}})]
    ev = evaluate(mixed_plan, subs)
    assert ev.sector("MX").objectives[0].outcome is Outcome.NOT_REPORTED
    # "A sector none of whose objectives has a scored indicator has no score and no band" ... "non valutabile"
    nv = ev.sector("NV")
    assert nv.status is SectorStatus.NOT_EVALUABLE and nv.score is None and nv.band == ""
    assert nv.note is not None and nv.note.code == "sector_not_evaluable"
    # "This exclusion is never silent: the consolidation lists it as a decision of the plan", for a sector with
    # nothing measurable as for one objective
    from piao_xls.results.consolidate import render

    rows = [(r["origin"], r["kind"], r["objective"]) for r in render(ev).decisions if r["sector"] == "NV"]
    assert rows == [("piano", "neutralise", "NV-1")]


def test_a_file_with_errors_leaves_its_sector_scored_with_issues(mixed_plan):
    """A sector is "valutato" only from accepted submissions; from a file with errors it is scored "con anomalie"."""
    good = Submission("MX", values={"MX-1.1": {"value": 1.0}})
    assert evaluate(mixed_plan, [good]).sector("MX").status is SectorStatus.SCORED
    bad = Submission("MX", values={"MX-1.1": {"value": 1.0}}, has_errors=True)
    assert evaluate(mixed_plan, [bad]).sector("MX").status is SectorStatus.SCORED_WITH_ISSUES


def test_each_value_counts_only_from_its_own_source(plan):
    """scoring.md: the Nucleo's indicators take the Nucleo's values; a value typed for them elsewhere does not
    count (SF-2.1 is certified by the Nucleo)."""
    own = Submission("SF", values={"SF-1.1": {"value": 1.0}, "SF-2.1": {"value": 1.0}})
    nucleo = Submission("SF", "nucleo", {"SF-2.1": {"value": 0.5}})
    sf = evaluate(plan, [own, nucleo]).sector("SF")
    assert next(i for o in sf.objectives for i in o.indicators if i.indicator_id == "SF-2.1").reported == {"value": 0.5}
    alone = evaluate(plan, [own]).sector("SF")
    sf2 = next(o for o in alone.objectives if o.objective_id == "SF-2")
    assert sf2.indicators[0].status == "missing" and sf2.outcome is Outcome.NOT_REPORTED
    # nor does a value of the Responsabile's indicator in the Nucleo's return: it is no value of the Nucleo for the
    # sector, so the sector whose Responsabile sent nothing stays non pervenuto (scoring.md, "A Responsabile's
    # workbook that has not arrived")
    stray = Submission("SF", "nucleo", {"SF-1.1": {"value": 1.0}, "SF-2.1": {"value": None}})
    assert evaluate(plan, [stray]).sector("SF").status is SectorStatus.NOT_RECEIVED
    assert evaluate(plan, [nucleo]).sector("SF").status is SectorStatus.SCORED_WITH_ISSUES


def test_an_indicator_not_applicable_in_a_neutralised_objective_changes_no_weight(plan):
    """scoring.md, decisions: a neutralised objective is already left out; declaring one of its indicators
    non applicabile does not leave it out a second time."""
    from piao_xls.core.decisions import NEUTRALISE, NOT_APPLICABLE, Decision

    decisions = [Decision(NEUTRALISE, "SF", "SF-6", reason="r", by="Nucleo", date="2026-03-10"),
                 Decision(NOT_APPLICABLE, "SF", "SF-6", "SF-6.1", reason="r", by="Nucleo", date="2026-03-10")]
    ev = evaluate(plan, [Submission("SF", values={"SF-1.1": {"value": 1.0}})], decisions)
    (na,) = [o for o in ev.decisions if o.decision.kind == NOT_APPLICABLE]
    assert na.applied and na.effect.code == "indicator_left_out" and na.effect["objective_left_out"] is False


def test_arrived_exactly_at_the_date_counts(plan):
    from datetime import datetime

    sub = Submission("SF", values={"SF-1.1": {"value": 1.0}},
                     provenance=Provenance("a", received="2026-01-01T09:00:00"))
    assert evaluate(plan, [sub], as_of=datetime(2026, 1, 1, 9, 0)).sector("SF").used
    assert not evaluate(plan, [sub], as_of=datetime(2026, 1, 1, 8, 59)).sector("SF").used
