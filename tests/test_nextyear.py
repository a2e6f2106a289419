"""Next year's plan from this year's (docs/revisions.md): stable identifiers, this year's validated values as
next year's baselines, every target listed for review, old-year dates flagged; the draft is a plan workbook that
imports back (and survives LibreOffice)."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from scenario import SF_ANALYSES, SF_VALUES

from piao_xls import load_plan
from piao_xls.cli import cli
from piao_xls.core.nextyear import ReviewKind, baseline_of, draft_next_year
from piao_xls.forms.layout import sector_workbook
from piao_xls.forms.writer import render
from piao_xls.plan.planbook import check_book


def sf_form(plan) -> bytes:
    """The SF form filled with the hand-computed scenario's values (tests/scenario.py)."""
    return render(sector_workbook(plan, plan.sector("SF")), prefill={**SF_VALUES, **SF_ANALYSES})


@pytest.fixture
def ws(tmp_path, plan):
    ws = tmp_path / "PIAO-2025"
    runner = CliRunner()
    assert runner.invoke(cli, ["crea", str(ws), "--scadenza", "31/01/2026"]).exit_code == 0
    (tmp_path / "allegati").mkdir()
    (tmp_path / "allegati" / "PIAO-2025-SF-Finanziario.xlsx").write_bytes(sf_form(plan))
    r = runner.invoke(cli, ["-C", str(ws), "raccogli", str(tmp_path / "allegati")])
    assert "accettato" in r.output, r.output
    return ws


EXPECTED_BASELINES = {"SF-1.1": 0.90, "SF-3.1": 1.0, "SF-4.1": -3.0, "SF-4.2": 0.95, "SF-5.1": 0.85,
                      "SF-6.1": 0.75, "SF-7.1": 1.0, "SF-8.1": 1.0, "SF-9.1": 1.0}


def test_baseline_of_inputs():
    assert baseline_of({"value": 0.9}) == 0.9
    assert baseline_of({"numerator": 150000.0, "denominator": 200000.0}) == 0.75
    assert baseline_of({"numerator": 1.0, "denominator": 0.0}) is None
    # a ratio that a plan workbook would not give back as itself (found on a revised plan's SF-6.1)
    ratio = baseline_of({"numerator": 31934.29, "denominator": 135934.29})
    assert ratio == pytest.approx(31934.29 / 135934.29, rel=1e-11) and float(f"{ratio:.16G}") == ratio
    assert baseline_of({"value": True}) is None and baseline_of({"date": "2025-11-15"}) is None
    assert baseline_of({"value": float("nan")}) is None and baseline_of({}) is None


def test_the_draft_from_the_workspace(ws, tmp_path, plan):
    out = tmp_path / "piano-2026.xlsx"
    r = CliRunner().invoke(cli, ["-C", str(ws), "piano", "anno-successivo", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert f"scritto {out}: bozza del piano 2026 (4 settori" in r.output
    assert f"Valori di partenza dal 2025: {len(EXPECTED_BASELINES)} indicatori" in r.output
    assert ("indicatore SF-6.1: il target «Accertamento del 100% delle somme stanziate nel Bilancio 2025» nomina il "
            "2025: da riscrivere per il 2026") in r.output
    assert "indicatore SF-1.2: il target «Novembre» scade il 30/11/2025: da riscrivere per il 2026" in r.output
    assert "indicatore SF-3.1: target del 2025 «100%» ripreso: da confermare o cambiare" in r.output
    assert "indicatore SA-1.1: nessun valore validato nel 2025" in r.output  # SA did not return its form
    # the workbook: this year's values in «Valore dell'anno precedente», the year moved on
    wb = openpyxl.load_workbook(out)
    ente = {row[0].value: row[1].value for row in wb["Ente"].iter_rows(min_row=2)}
    assert ente["Anno"] == 2026 and ente["Identificativo del piano"] == "truccazzano-2026"
    assert "2026" in ente["Titolo"] and "2025" not in ente["Titolo"]
    # imported like any plan workbook: same identifiers, baselines marked as the year before's values
    new, findings = check_book(out)
    assert new is not None, [str(f) for f in findings]
    assert [i.id for i in new.indicators] == [i.id for i in plan.indicators]
    assert [o.id for o in new.objectives] == [o.id for o in plan.objectives]
    got = {i.id: i.previous for i in new.indicators if i.previous is not None}
    assert got == pytest.approx(EXPECTED_BASELINES)
    # nothing carried over as a target silently: every target is in the review, once
    targets = {i.id for i in plan.indicators if i.target_text.strip()}
    reviewed = [line for line in r.output.splitlines() if line.strip().startswith("indicatore ") and (
        "da riscrivere" in line or "da confermare" in line)]
    ids = [line.split()[1].rstrip(":") for line in reviewed]
    assert sorted(ids) == sorted(targets)
    # the draft keeps the targets as printed: the author changes them in the workbook
    assert {i.id: i.target_text for i in new.indicators} == {i.id: i.target_text for i in plan.indicators}


def test_the_draft_from_the_results_json_outside_a_workspace(ws, tmp_path, plan):
    results = tmp_path / "risultati.json"
    runner = CliRunner()
    runner.invoke(cli, ["-C", str(ws), "consolida", "--json-file", str(results)])
    inside = tmp_path / "a.xlsx"
    assert runner.invoke(cli, ["-C", str(ws), "piano", "anno-successivo", "-o", str(inside)]).exit_code == 0
    outside = tmp_path / "b.xlsx"
    r = runner.invoke(cli, ["-C", str(tmp_path), "piano", "anno-successivo", "--plan", str(ws / "piano" /
                            "truccazzano-2025.yaml"), "--risultati", str(results), "-o", str(outside), "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["year"] == 2026 and data["plan_id"] == "truccazzano-2026"
    assert check_book(outside)[0].fingerprint == check_book(inside)[0].fingerprint == data["fingerprint"]
    kinds = {(x["id"], x["kind"]) for x in data["reviews"]}
    assert ("SF-6.1", "baseline") in kinds and ("SF-6.1", "target_old_year") in kinds
    # not a file to overwrite without --force; outside a workspace the results are needed
    r = runner.invoke(cli, ["-C", str(tmp_path), "piano", "anno-successivo", "--plan", str(ws / "piano" /
                            "truccazzano-2025.yaml"), "--risultati", str(results), "-o", str(outside)])
    assert r.exit_code == 2 and "esiste già" in r.output
    r = runner.invoke(cli, ["-C", str(tmp_path), "piano", "anno-successivo", "-o", str(tmp_path / "c.xlsx")])
    assert r.exit_code == 2 and "--risultati" in r.output


def test_draft_without_values_has_no_baselines(plan):
    draft = draft_next_year(plan, {})
    assert all(i.previous is None for i in draft.plan.indicators)
    assert not draft.of(ReviewKind.BASELINE)
    assert draft.plan.year == 2026 and draft.plan.fingerprint != plan.fingerprint


@pytest.mark.libreoffice
def test_the_draft_is_completed_in_libreoffice_and_imports(ws, tmp_path, libreoffice):
    """The author opens the draft in LibreOffice, rewrites the target that names 2025, saves (.xlsx and .ods):
    the plan imports with the new target and keeps the baselines."""
    out = tmp_path / "piano-2026.xlsx"
    assert CliRunner().invoke(cli, ["-C", str(ws), "piano", "anno-successivo", "-o", str(out)]).exit_code == 0
    sheet = openpyxl.load_workbook(out)["Indicatori"]
    head = [c.value for c in sheet[1]]
    row = next(r[0].row for r in sheet.iter_rows(min_row=2) if r[0].value == "SF" and r[1].value == 6)
    cell = f"{openpyxl.utils.get_column_letter(head.index('Target (come stampato)') + 1)}{row}"
    new_target = "Accertamento del 100% delle somme stanziate nel Bilancio 2026"
    saved: dict[str, Path] = {}
    with libreoffice.open(out) as doc:
        assert doc.type_into("Indicatori", cell, new_target)
        for fmt in ("xlsx", "ods"):
            saved[fmt] = doc.save_as(tmp_path / "lo" / f"piano-2026.{fmt}", fmt)
    for fmt, path in saved.items():
        p, findings = check_book(path)
        assert p is not None, (fmt, [str(f) for f in findings])
        i = next(x for x in p.indicators if x.id == "SF-6.1")
        assert i.target_text == new_target and i.previous == pytest.approx(0.75), fmt
        assert p.year == 2026
    assert load_plan().year == 2025  # the bundled plan is untouched
