"""One set of figures: every figure a reader sees, read back from every output (summary workbook with openpyxl and
with LibreOffice, JSON, both CSVs, the Relazione's .docx, the sector forms' live totals recalculated by
LibreOffice), for several campaigns, must be the evaluation's published figure (tests/figures_check.py).
A figure planted in one output with another rounding or another weight must be caught.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from figures_check import (
    Read,
    compare,
    compare_docx,
    expected,
    form_truth,
    provisional,
    read_csv,
    read_docx,
    read_form_libreoffice,
    read_json,
    read_summary,
    read_summary_libreoffice,
    sums,
)
from summary_case import build_inbox

from piao_xls.core.decisions import CORRECT, NEUTRALISE, NOT_APPLICABLE, Decision
from piao_xls.core.evaluation import ObjectiveState, Outcome
from piao_xls.forms.layout import sector_workbook
from piao_xls.forms.writer import render
from piao_xls.plan.planfile import parse_plan
from piao_xls.results.consolidate import consolidate
from piao_xls.results.export import write_csv, write_csv_excel, write_json
from piao_xls.results.relazione import results_of, write_relazione
from piao_xls.results.summary import write_summary

# a plan of the shapes that re-proportion weights: coefficient weights, a gate, an objective the plan excludes
# (no measurable target), a sector with nothing measurable, a threshold, three decimals
SHAPES_PLAN = """\
comune: Prova
year: 2025
scoring: {weights: coefficients, gate_cap: 60, precision: 3, reached: "95%", not_reached_below: "40%"}
sectors:
  - code: CO
    name: Coefficienti
    responsabile: {name: Anna Bianchi}
    objectives:
      - {number: 1, title: Riscossione delle entrate, weight: 1.0, indicators: [
          {description: Entrate riscosse, target: ">= 90%", rule: {kind: at_least, unit: percent, target: 0.9}}]}
      - {number: 2, title: Pagamenti ai fornitori, weight: 1.2, indicators: [
          {description: Fatture pagate nei termini, target: ">= 95%",
           rule: {kind: at_least, unit: percent, target: 0.95}},
          {description: Solleciti evasi, target: ">= 80%", rule: {kind: at_least, unit: percent, target: 0.8}}]}
      - {number: 3, title: Trasparenza, weight: 1.4, indicators: [
          {description: Pubblicazioni, target: ">= 100%", rule: {kind: at_least, unit: percent, target: 1}}]}
      - {number: 4, title: Relazione descrittiva, weight: 0.7, indicators: [
          {description: Attività svolte, rule: {kind: informative}}]}
      - {number: 5, title: Adempimenti obbligatori, weight: X, indicators: [
          {description: Bilancio approvato, target: "Sì", rule: {kind: yes_no}}]}
  - code: NV
    name: Non valutabile
    responsabile: {name: Carlo Verdi}
    objectives:
      - {number: 1, title: Attività di supporto, weight: 100, indicators: [
          {description: Attività, rule: {kind: informative}}]}
"""

BUNDLED_DECISIONS = [
    Decision(CORRECT, "SF", "SF-1", "SF-1.1", "value", 0.9, 0.95, "errore di trascrizione", "Nucleo di Valutazione",
             "2026-03-10"),
    Decision(NEUTRALISE, "SF", "SF-3", reason="norma sopravvenuta", by="Nucleo di Valutazione", date="2026-03-10"),
    Decision(NOT_APPLICABLE, "ST", "ST-5", "ST-5.1", reason="servizio soppresso", by="Nucleo di Valutazione",
             date="2026-03-11"),
]
NOT_AVAILABLE_REASON = "Il dato dell'ISTAT non è ancora pubblicato."


def _outputs(c, plan, out: Path) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = {"summary": out / "riepilogo.xlsx", "json": out / "risultati.json", "csv": out / "csv",
             "csv_excel": out / "csv-excel", "docx": out / "relazione.docx"}
    write_summary(c, paths["summary"])
    write_json(c, paths["json"])
    write_csv(c, paths["csv"])
    write_csv_excel(c, paths["csv_excel"])
    write_relazione(results_of(c), plan, paths["docx"], pdf=False)
    return paths


def _bundled(plan, root: Path, with_decisions: bool) -> dict:
    inbox = build_inbox(plan, root / "inbox")
    if with_decisions:  # ST-3.1 «non disponibile», with the Responsabile's reason
        st = plan.sector("ST")
        book = sector_workbook(plan, st)
        from piao_xls.forms.samples import sample_values

        values = sample_values(book.sheets[1], seed=2, year=plan.year)
        values.update({"ST-3.1|value": "non disponibile", "ST-3.1|analisi": NOT_AVAILABLE_REASON})
        (inbox / book.filename).write_bytes(render(book, prefill=values))
    c = consolidate([inbox], plan, decisions=BUNDLED_DECISIONS if with_decisions else None)
    return {"plan": plan, "c": c, "inbox": inbox, "paths": _outputs(c, plan, root / "out")}


def _shapes(root: Path, gate_met: bool) -> dict:
    plan, findings = parse_plan(SHAPES_PLAN, "prova.yaml")
    assert plan is not None, findings
    inbox = root / "inbox"
    inbox.mkdir(parents=True)
    values = {"CO-1.1|value": 0.8, "CO-2.1|value": 0.9, "CO-2.2|value": 0.3, "CO-3.1|value": 1.0,
              "CO-4.1|value": "Svolte le attività previste.", "CO-5.1|value": "Sì" if gate_met else "No"}
    values.update({f"{k.split('|')[0]}|analisi": "Scostamento dovuto a carenza di personale." for k in values})
    for sector in plan.sectors:
        book = sector_workbook(plan, sector)
        own = {k: v for k, v in values.items() if k.startswith(f"{sector.code}-")}
        if sector.code == "NV":
            own = {"NV-1.1|value": "Supporto agli uffici."}
        (inbox / book.filename).write_bytes(render(book, prefill=own))
    c = consolidate([inbox], plan)
    return {"plan": plan, "c": c, "inbox": inbox, "paths": _outputs(c, plan, root / "out")}


@pytest.fixture(scope="module", params=["bundled", "bundled-decisions", "shapes-gate-met", "shapes-gate-failed"])
def campaign(request, plan, tmp_path_factory):
    root = tmp_path_factory.mktemp(request.param)
    if request.param.startswith("bundled"):
        return _bundled(plan, root, request.param.endswith("decisions"))
    return _shapes(root, request.param == "shapes-gate-met")


def _check_files(campaign) -> list[str]:
    ev, plan, paths = campaign["c"].evaluation, campaign["plan"], campaign["paths"]
    truth = expected(ev)
    prec = plan.scoring.precision
    problems = sums(ev)
    for read in (read_summary(paths["summary"], prec), read_json(paths["json"]), read_csv(paths["csv"], False),
                 read_csv(paths["csv_excel"], True)):
        problems += compare(truth, read)
    problems += compare_docx(truth, read_docx(paths["docx"], plan), plan)
    return problems


def test_every_output_shows_the_evaluations_figures(campaign):
    assert _check_files(campaign) == []


def test_the_campaigns_cover_every_state(campaign):
    """The campaigns are what the checker is trusted on: each shape of the issue is in one of them."""
    ev = campaign["c"].evaluation
    states = {o.state for s in ev.sectors for o in s.objectives}
    if "CO" in [s.code for s in ev.sectors]:
        assert {ObjectiveState.EXCLUDED, ObjectiveState.GATE, ObjectiveState.SCORED} <= states
        nv = ev.sector("NV")  # nothing measurable: no score, no band, in every output
        assert not campaign["plan"].sector("NV").evaluable and nv.published is None and nv.band == ""
        co = ev.sector("CO")
        applied = {o.objective_id: o.published_weight_applied for o in co.objectives}
        assert applied == {"CO-1": 27.778, "CO-2": 33.333, "CO-3": 38.889, "CO-4": 0.0, "CO-5": None}
        # the plan's thresholds: CO-2 at 66,4% is partly reached (40% to 95%), CO-1 at 88,889% too
        assert {o.objective_id: o.outcome for o in co.objectives}["CO-2"] is Outcome.PARTLY
    elif ev.decisions and any(d.decision.origin == "nucleo" for d in ev.decisions):
        assert {ObjectiveState.NEUTRALISED, ObjectiveState.NOT_APPLICABLE, ObjectiveState.NOT_AVAILABLE,
                ObjectiveState.NOT_REPORTED, ObjectiveState.EXCLUDED} <= states
        assert any(i.corrected for s in ev.sectors for o in s.objectives for i in o.indicators)


@pytest.mark.parametrize("plant", ["summary-rounding", "summary-plan-weight", "json-rounding", "csv-weight",
                                   "csv-excel-points", "docx-rounding", "docx-plan-weight"])
def test_a_planted_figure_is_caught(campaign, plant, tmp_path):
    """One output, changed as the bugs of the issue changed it (a figure rounded otherwise, points from the plan
    weight instead of the applied one), must make the checker fail, naming that output."""
    if not campaign["plan"].sector(campaign["plan"].sectors[0].code).objectives:
        pytest.skip("no objective")
    c, plan = campaign["c"], campaign["plan"]
    ev = c.evaluation
    # an objective whose published figures change when rounded down or computed from the plan weight
    target = next(o for s in ev.sectors for o in s.objectives
                  if o.state is ObjectiveState.SCORED and not o.gate and o.achievement
                  and abs(o.weight_applied - o.weight) > 0.01 and 0 < o.achievement < 1)
    prec = plan.scoring.precision
    rows = [dict(r) for r in c.objectives]
    row = next(r for r in rows if r["objective"] == target.objective_id)
    down = 10 ** -prec
    if plant.endswith("rounding"):  # truncated, not rounded half away from zero: 21,15% for 21,1549…%
        row["published_achievement"] = round(target.published_achievement - down, prec)
    else:  # points from the plan weight: 72,30 where the score is 80,33
        row["published_points"] = plan.scoring.published(target.weight * target.achievement)
        row["published_weight_applied"] = target.weight
    planted = dataclasses.replace(c, objectives=rows)
    paths = dict(campaign["paths"])
    out = tmp_path / "planted"
    if plant.startswith("summary"):
        paths["summary"] = out / "riepilogo.xlsx"
        out.mkdir()
        write_summary(planted, paths["summary"])
    elif plant.startswith("json"):
        paths["json"] = out / "r.json"
        out.mkdir()
        write_json(planted, paths["json"])
    elif plant == "csv-weight":
        paths["csv"] = out / "csv"
        write_csv(planted, paths["csv"])
    elif plant == "csv-excel-points":
        paths["csv_excel"] = out / "csv-excel"
        write_csv_excel(planted, paths["csv_excel"])
    else:
        data = results_of(c)
        for o in data["objectives"]:
            if o["objective"] == target.objective_id:
                if plant.endswith("rounding"):  # the text the Relazione prints goes: it words the planted value
                    o["achievement"] = (target.published_achievement - down) / 100
                    o.pop("achievement_it", None)
                else:
                    o["weight_applied"] = target.weight
                    o.pop("weight_applied_it", None)
        paths["docx"] = out / "relazione.docx"
        out.mkdir()
        write_relazione(data, plan, paths["docx"], pdf=False)
    problems = _check_files({**campaign, "paths": paths})
    assert problems, plant
    assert all(target.objective_id in p for p in problems), problems
    name = {"summary": "summary", "json": "JSON", "csv-weight": "CSV open data", "csv-excel-points": "CSV Excel",
            "docx": "Relazione"}
    assert all(p.startswith(name[next(k for k in name if plant.startswith(k))]) for p in problems), problems


def test_the_json_says_which_thresholds_count(campaign):
    data = json.loads(campaign["paths"]["json"].read_text(encoding="utf-8"))
    policy = campaign["plan"].scoring
    assert data["scoring"]["outcome_thresholds"] == {"reached": policy.reached,
                                                    "not_reached_below": policy.not_reached_below}


# --- LibreOffice: the summary as shown, and the forms' live totals ---------------------------------------------

@pytest.mark.libreoffice
def test_libreoffice_shows_the_same_figures(campaign, libreoffice):
    ev, paths = campaign["c"].evaluation, campaign["paths"]
    truth = expected(ev)
    assert compare(truth, read_summary_libreoffice(libreoffice, paths["summary"],
                                                   campaign["plan"].scoring.precision)) == []


@pytest.mark.libreoffice
def test_the_forms_live_totals_show_the_same_figures(campaign, libreoffice):
    """Each returned form, recalculated by LibreOffice, shows the figures of the same evaluation of its values
    (provisional: the objectives another source reports are left out, as the form says)."""
    c, plan = campaign["c"], campaign["plan"]
    problems: list[str] = []
    checked = 0
    for res in c.results:
        if res.source != "responsabile" or len(res.sector_codes) != 1:
            continue
        (code,) = res.sector_codes
        sub = next(u for u in c.evaluation.sector(code).used if u.provenance.file == res.path) \
            if any(u.provenance.file == res.path for u in c.evaluation.sector(code).used) else None
        if sub is None or not plan.sector(code).evaluable:
            continue
        ev = provisional(plan, code, sub)
        truth = form_truth(ev, code)
        problems += compare(truth, read_form_libreoffice(libreoffice, Path(res.path), plan, code))
        checked += 1
    assert checked >= 1
    assert problems == []


@pytest.mark.libreoffice
def test_a_planted_form_weight_is_caught(campaign, libreoffice, tmp_path):
    """A form whose applied weight shows the plan weight (as the issue found it) fails the check."""
    from figures_check import form_cells
    from openpyxl import load_workbook

    c, plan = campaign["c"], campaign["plan"]
    res = next(r for r in c.results if r.source == "responsabile" and len(r.sector_codes) == 1
               and plan.sector(r.sector_codes[0]).evaluable)
    (code,) = res.sector_codes
    sheet, cells = form_cells(plan, code)
    obj = next(o for o in plan.sector(code).objectives if not o.gate and o.evaluable)
    wb = load_workbook(res.path)
    ref = cells[("objective", obj.id, "weight_applied")]
    wb[sheet][ref].value = obj.weight / 100 + 0.0123
    planted = tmp_path / "planted.xlsx"
    wb.save(planted)
    sub = next(u for u in c.evaluation.sector(code).used if u.sector == code)
    truth = form_truth(provisional(plan, code, sub), code)
    read = read_form_libreoffice(libreoffice, planted, plan, code)
    problems = compare(truth, read)
    assert any(obj.id in p and "weight_applied" in p for p in problems), problems
    assert isinstance(read, Read)


@pytest.mark.parametrize(("scoring", "ok"), [
    ('{reached: "95%", not_reached_below: "40%"}', True),
    ('{reached: 1, not_reached_below: 0.5}', True),
    ('{not_reached_below: "120%"}', False),  # above the default "reached" (100%)
    ('{reached: "80%", not_reached_below: "90%"}', False),
    ('{reached: 0}', False),
])
def test_the_thresholds_of_the_counts_are_checked_in_the_plan(scoring, ok):
    plan, findings = parse_plan(SHAPES_PLAN.replace(
        "scoring: {weights: coefficients, gate_cap: 60, precision: 3, reached: \"95%\", not_reached_below: \"40%\"}",
        f"scoring: {scoring[:-1]}, weights: coefficients}}"), "prova.yaml")
    codes = [f.code for f in findings if f.severity == "error"]
    assert (plan is not None and not codes) == ok, findings
    if not ok:
        bad = next(f for f in findings if f.code == "PLAN-SCORING")
        assert codes == ["PLAN-SCORING"] and bad.line == 3, findings  # the scoring line of the plan


@pytest.mark.libreoffice
def test_a_summary_shown_with_other_decimals_is_caught(campaign, libreoffice, tmp_path):
    """The same stored figure shown with one decimal less (a number format that ignores the plan's precision)."""
    from figures_check import summary_cells
    from openpyxl import load_workbook

    paths, plan = campaign["paths"], campaign["plan"]
    key = next(k for k, v in expected(campaign["c"].evaluation).items() if k[2] == "score" and v is not None)
    sheet, ref, _ = summary_cells(paths["summary"])[key]
    wb = load_workbook(paths["summary"])
    wb[sheet][ref].number_format = "[$-410]0" + ("." + "0" * (plan.scoring.precision - 1)
                                                 if plan.scoring.precision > 1 else "")
    planted = tmp_path / "planted.xlsx"
    wb.save(planted)
    read = read_summary_libreoffice(libreoffice, planted, plan.scoring.precision)
    assert any(ref in p and "decimals" in p for p in read.problems), read.problems
