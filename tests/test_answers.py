"""What a person may type besides a plain value: yes/no spellings (one list for the live formula and the reader),
"non disponibile" with its mandatory note, and percentages up to the limit of their indicator."""

from __future__ import annotations

from pathlib import Path

import pytest
from scenario import SF_ANALYSES, SF_VALUES, YN_PLAN

from piao_xls.core import answers, scoring
from piao_xls.core.limits import GENEROUS_LIMIT, SHARE_LIMIT, indicator_percent_limit, is_share
from piao_xls.core.model import ScoringPolicy
from piao_xls.forms.layout import sector_workbook
from piao_xls.forms.writer import render
from piao_xls.plan.planfile import parse_plan
from piao_xls.results.consolidate import NOT_AVAILABLE_STATUS, consolidate
from piao_xls.returns.reader import ACCEPTED_WITH_WARNINGS, REJECTED, read_workbook


def write(tmp_path: Path, book, values) -> Path:
    path = tmp_path / book.filename
    path.write_bytes(render(book, prefill=values))
    return path


@pytest.mark.parametrize("typed, expected", [
    ("Sì", True), ("si", True), ("SI", True), ("Si", True), (" sì ", True), ("SÌ", True), ("vero", True),
    (True, True), ("No", False), ("NO", False), ("falso", False), (False, False), ("forse", None), ("s", None),
])
def test_one_list_of_yes_no_spellings(typed, expected):
    assert answers.parse_yes_no(typed) is expected


def test_yes_no_spellings_are_read_and_scored_alike(tmp_path):
    plan, _ = parse_plan(YN_PLAN, "yn.yaml")
    book = sector_workbook(plan, plan.sectors[0])
    for typed, score in (("SI", 1.0), ("si", 1.0), ("No", 0.0)):
        values = {"YN-1.1|value": typed, "YN-1.1|analisi": "motivo" if not score else ""}
        res = read_workbook(write(tmp_path, book, values), plan)
        sub = res.sectors["YN"]
        assert sub.values["YN-1.1"]["value"] is bool(score), typed
        s = scoring.score_sector(plan.sectors[0], sub.values, ScoringPolicy())
        assert s.score == 100 * score


def test_percent_limit_comes_from_the_indicator(plan):
    by_id = {i.id: i for i in plan.indicators}
    assert indicator_percent_limit(by_id["SF-1.1"]) == SHARE_LIMIT  # % Procedimenti conclusi
    assert indicator_percent_limit(by_id["SF-4.2"]) == SHARE_LIMIT  # fatture liquidate / totale fatture
    assert indicator_percent_limit(by_id["SF-7.1"]) == GENEROUS_LIMIT  # "rispetto dei tempi"
    assert is_share("Percentuale di pratiche evase") and is_share("giudizio da 0 a 100")
    assert not is_share("% utenti soddisfatti rispetto al previsto") and not is_share("Incremento % degli accessi")


def test_the_same_percent_limit_in_validation_reader_and_scoring(tmp_path, plan):
    book = sector_workbook(plan, plan.sector("SF"))
    inputs = book.sheets[1].inputs
    assert inputs["SF-1.1|value"].validation.maximum == 1.0
    assert inputs["SF-7.1|value"].validation.maximum == GENEROUS_LIMIT
    res = read_workbook(write(tmp_path, book, {**SF_VALUES, **SF_ANALYSES, "SF-7.1|value": 1.05,
                                               "SF-1.1|value": 1.05}), plan)
    bad = [f for f in res.findings if f.code == "WB-VALUE"]
    assert [f.cell for f in bad] == [inputs["SF-1.1|value"].ref] and "0% - 100%" in bad[0].message
    sub = res.sectors["SF"]
    assert sub.values["SF-7.1"]["value"] == 1.05  # 105%: accepted, scores 1 (docs/scoring.md)
    ind = next(i for i in plan.indicators if i.id == "SF-7.1")
    assert scoring.score_indicator(ind, {"value": 1.05}, plan.scoring).achievement == 1.0
    share = next(i for i in plan.indicators if i.id == "SF-1.1")
    over = scoring.score_indicator(share, {"value": 1.05}, plan.scoring)
    assert over.status == scoring.INVALID and "100%" in over.reason


def test_not_available_needs_a_note_and_is_reported_as_such(tmp_path, plan):
    book = sector_workbook(plan, plan.sector("SF"))
    inputs = book.sheets[1].inputs
    base = {**SF_VALUES, **SF_ANALYSES}
    no_note = {**base, "SF-3.1|value": "non disponibile"}
    res = read_workbook(write(tmp_path, book, no_note), plan)
    assert res.status == REJECTED
    (f,) = [f for f in res.findings if f.code == "WB-ANALYSIS"]
    assert f.cell == inputs["SF-3.1|analisi"].ref and "non disponibile" in f.message

    noted = {**base, "SF-3.1|value": "N.D.", "SF-3.1|analisi": "Dato ISTAT non ancora pubblicato."}
    path = write(tmp_path, book, noted)
    res = read_workbook(path, plan)
    assert res.status == ACCEPTED_WITH_WARNINGS, [str(f) for f in res.findings]
    (w,) = [f for f in res.findings if f.code == "WB-NOT-AVAILABLE"]
    assert w.cell == inputs["SF-3.1|value"].ref and "ISTAT" in w.message
    assert res.sectors["SF"].values["SF-3.1"]["value"] == answers.NOT_AVAILABLE

    summary = consolidate([path], plan)
    row = next(r for r in summary.indicators if r["indicator"] == "SF-3.1")
    assert row["status"] == NOT_AVAILABLE_STATUS and row["actual"] == "non disponibile"
    assert row["achievement"] == 0.0 and "ISTAT" in row["analysis"]


def test_not_available_is_not_accepted_in_a_text_or_as_a_typo(tmp_path, plan):
    assert answers.is_not_available(" Non  Disponibile ") and answers.is_not_available("n.d.")
    assert not answers.is_not_available("non disponibile ancora") and not answers.is_not_available(0)
    book = sector_workbook(plan, plan.sector("SF"))
    res = read_workbook(write(tmp_path, book, {**SF_VALUES, **SF_ANALYSES, "SF-3.1|value": "non disp."}), plan)
    assert any(f.code == "WB-VALUE" and f.cell == book.sheets[1].inputs["SF-3.1|value"].ref for f in res.findings)


@pytest.mark.parametrize("source, indicator, row, in_row", [
    ("nucleo", "SF-2.1", "la «Motivazione»", "nella «Motivazione»"),
    ("esterno", "SA-7.1", "la «Fonte del dato»", "nella «Fonte del dato»"),
])
def test_the_reader_names_the_text_row_as_the_source_form_labels_it(tmp_path, plan, source, indicator, row, in_row):
    """The Nucleo's and an external source's forms label the row under an indicator «Motivazione» and «Fonte del
    dato»: the reader's messages about that row say so, never «Analisi scostamenti»."""
    from piao_xls.forms.layout import source_workbook

    book = source_workbook(plan, source)
    inputs = book.sheets[1].inputs
    values = {k: 1.0 for k in inputs if k.endswith("|value")}
    res = read_workbook(write(tmp_path, book, {**values, f"{indicator}|value": 0.8}), plan)
    (f,) = [f for f in res.findings if f.code == "WB-ANALYSIS"]
    assert f.cell == inputs[f"{indicator}|analisi"].ref
    assert f"compilare {row}" in f.message and "Analisi" not in f.message, f.message
    res = read_workbook(write(tmp_path, book, {**values, f"{indicator}|value": "non disponibile"}), plan)
    (f,) = [f for f in res.findings if f.code == "WB-ANALYSIS"]
    assert f"spiegare il motivo {in_row}" in f.message and "Analisi" not in f.message, f.message


def test_the_reader_names_the_analysis_row_of_a_sector_form(tmp_path, plan):
    book = sector_workbook(plan, plan.sector("SF"))
    res = read_workbook(write(tmp_path, book, {**SF_VALUES, "SF-3.1|value": 0.5}), plan)
    messages = [f.message for f in res.findings if f.code == "WB-ANALYSIS" and "SF-3.1" in f.message]
    assert messages and "compilare l'«Analisi scostamenti rispetto al target»" in messages[0], messages
