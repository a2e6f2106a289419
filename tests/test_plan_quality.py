"""The plan-quality report for the Nucleo (``plan check --qualita``, piao_xls/plan/quality.py).

Two plans written for these tests (tests/fixtures/quality-good.yaml: no flag; quality-poor.yaml: every flag)
and the bundled plan; docs/plan-quality.md quotes the poor plan's flags, and each of its rows is checked here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from piao_xls.cli import cli
from piao_xls.core.errors import CODES
from piao_xls.plan.load import load_plan
from piao_xls.plan.planfile import parse_plan
from piao_xls.plan.quality import CHECKS, check_quality, quality_text, quality_workbook

FIXTURES = Path(__file__).parent / "fixtures"
GOOD, POOR = FIXTURES / "quality-good.yaml", FIXTURES / "quality-poor.yaml"
DOC = (Path(__file__).parent.parent / "docs" / "plan-quality.md").read_text(encoding="utf-8")


def load(path: Path, text: str | None = None):
    plan, findings = parse_plan(text if text is not None else path.read_text(encoding="utf-8"), str(path))
    assert plan is not None, [str(f) for f in findings]
    return plan


def flags_of(plan) -> dict[str, list]:
    out: dict[str, list] = {}
    for f in check_quality(plan):
        out.setdefault(f.code, []).append(f)
    return out


def test_every_check_has_a_registered_code_and_a_reference():
    assert {c for c in CODES if c.startswith("QUAL-")} == set(CHECKS)
    assert all(c.reference and c.label for c in CHECKS.values())


def test_the_good_plan_has_no_flag():
    assert check_quality(load(GOOD)) == []


def test_the_poor_plan_has_every_flag():
    assert set(flags_of(load(POOR))) == set(CHECKS)


# --- each check, on the poor plan: where, why ----------------------------------------------------------------

def _one(code: str, what: str):
    found = [f for f in flags_of(load(POOR)).get(code, []) if what in f.message]
    assert len(found) == 1, (code, what, [f.message for f in flags_of(load(POOR)).get(code, [])])
    return found[0]


@pytest.mark.parametrize(("code", "what", "fragments"), [
    ("QUAL-NO-INDICATOR", "obiettivo SF-1 ", ("non ha indicatori",)),
    ("QUAL-QUALITATIVE-ONLY", "obiettivo SA-2 ", ("solo indicatori qualitativi",)),
    ("QUAL-NO-TARGET", "indicatore SA-3.2 ", ("non ha un target",)),
    ("QUAL-NO-SOURCE", "indicatore SA-4.1 ", ("fonte del dato",)),
    ("QUAL-NO-UNIT", "indicatore SA-1.1:", ("«1.500»", "senza unità di misura")),
    ("QUAL-NOT-BETTER", "indicatore SA-1.1:", ("1.500", "(1.800)")),
    ("QUAL-NOT-BETTER", "indicatore SA-5.1:", ("10", "non è sotto", "(8)")),
    ("QUAL-MAINTENANCE", "indicatore SA-3.1:", ("mantenere il livello",)),
    ("QUAL-ROUTINE", "obiettivo SA-1 ", ("attività consolidata", "Gestione del protocollo e dell'archivio")),
    ("QUAL-ROUTINE", "obiettivo SA-2 ", ("«garantire il regolare svolgimento»",)),
    ("QUAL-FLAT-WEIGHTS", "settore SA:", ("tutti i 5 obiettivi", "(20)")),
    ("QUAL-OBJECTIVES-COUNT", "settore SA:", ("5 obiettivi", "massimo di 4")),
    ("QUAL-OBJECTIVES-COUNT", "settore SF:", ("1 obiettivo,", "minimo di 2")),
    ("QUAL-DEADLINE-YEAR", "indicatore SA-4.2:", ("31/03/2026", "(2025)")),
    ("QUAL-DEADLINE-ADOPTION", "indicatore SA-4.1:", ("28/02/2025", "15/03/2025")),
    ("QUAL-NO-DUP", "nessuno dei 6 obiettivi", ("DUP",)),
])
def test_each_check_names_the_element_and_the_reason(code, what, fragments):
    f = _one(code, what)
    for fragment in fragments:
        assert fragment in f.message
    assert f.file == str(POOR)
    if code != "QUAL-NO-DUP":  # a flag of the whole plan has no line
        assert f.line and POOR.read_text().splitlines()[f.line - 1].strip()


def test_severity_is_a_warning_unless_the_plan_makes_it_an_error():
    flags = check_quality(load(POOR))
    assert {f.code for f in flags if f.severity == "error"} == {"QUAL-NO-INDICATOR"}  # quality.errors
    text = POOR.read_text().replace("errors: [QUAL-NO-INDICATOR]", "errors: [QUAL-NO-DUP, qual-flat-weights]")
    flags = check_quality(load(POOR, text))
    assert {f.code for f in flags if f.severity == "error"} == {"QUAL-NO-DUP", "QUAL-FLAT-WEIGHTS"}


def test_an_unknown_code_in_quality_errors_is_a_plan_error():
    text = POOR.read_text().replace("errors: [QUAL-NO-INDICATOR]", "errors: [QUAL-NO-INDICATORE]")
    plan, findings = parse_plan(text, "poor.yaml")
    assert plan is None
    assert any(f.code == "PLAN-SCHEMA" and "QUAL-NO-INDICATORE" in f.message for f in findings)


def test_default_thresholds_apply_without_a_quality_section():
    text = re.sub(r"quality:\n(?:  .*\n)+", "", POOR.read_text())
    flags = flags_of(load(POOR, text))
    assert "QUAL-DEADLINE-ADOPTION" not in flags  # no adoption date
    counts = [f.message for f in flags["QUAL-OBJECTIVES-COUNT"]]
    assert counts == ["settore SF: 1 obiettivo, meno del minimo di 2 indicato nelle soglie del piano"]  # 5 <= 8
    assert all(f.severity == "warning" for fs in flags.values() for f in fs)


def test_flat_weights_count_from_the_threshold():
    text = POOR.read_text().replace("max_objectives: 4", "max_objectives: 4\n  flat_weights_from: 6")
    assert "QUAL-FLAT-WEIGHTS" not in flags_of(load(POOR, text))


def test_no_source_and_no_dup_are_flagged_once_when_no_element_has_one():
    flags = flags_of(load_plan())
    assert len(flags["QUAL-NO-DUP"]) == 1 and len(flags["QUAL-NO-SOURCE"]) == 1
    assert "nessuno dei 47 indicatori misurabili" in flags["QUAL-NO-SOURCE"][0].message
    # one objective with its DUP code: the plan is linked to the budget, no flag
    text = GOOD.read_text()
    assert "QUAL-NO-DUP" not in flags_of(load(GOOD, re.sub(r'\n +dup: "0[13].0[34]"', "", text)))
    assert "QUAL-NO-DUP" in flags_of(load(GOOD, re.sub(r'\n +dup: "[\d.]+"', "", text)))


def test_the_dup_code_is_kept_by_the_plan_and_shown_in_the_summary():
    plan = load(GOOD)
    assert [o.dup for o in plan.objectives] == ["01.04", "01.03", "01.03", "08.01", "08.01"]
    from piao_xls.plan.report import plan_summary, plan_summary_text

    assert plan_summary(plan, [])["sectors"][0]["dup"] == {"SF-1": "01.04", "SF-2": "01.03", "SF-3": "01.03"}
    assert "SF-1 (40%) RECUPERO DELL'EVASIONE IMU [DUP 01.04]" in plan_summary_text(plan, [], "p.yaml", verbose=True)


def test_the_plan_workbook_carries_dup_data_source_and_previous(tmp_path):
    from piao_xls.plan.planbook import check_book, export_bytes

    plan = load(GOOD)
    path = tmp_path / "good.xlsx"
    path.write_bytes(export_bytes(plan))
    again, findings = check_book(path)
    assert again is not None, [str(f) for f in findings]
    assert again.fingerprint == plan.fingerprint
    assert [i.data_source for i in again.indicators] == [i.data_source for i in plan.indicators]
    assert again.indicators[2].previous == 0.65  # a percentage, as in the YAML
    assert check_quality(again) == []


def test_adding_the_new_optional_fields_keeps_the_bundled_plan_fingerprint():
    from piao_xls.core.model import canonical

    plan = load_plan()
    text = json.dumps(canonical(plan))
    assert '"dup"' not in text and '"data_source"' not in text and '"previous"' not in text
    golden = json.loads((Path(__file__).parent / "golden" / "_plan.json").read_text())
    assert plan.fingerprint == golden["fingerprint"]


# --- the text and the workbook ----------------------------------------------------------------------------

def test_text_groups_flags_by_sector_and_lists_each_reference_once():
    plan = load(POOR)
    flags = check_quality(plan)
    text = quality_text(plan, flags)
    assert text.splitlines()[1] == "6 obiettivi, 7 indicatori: 20 segnalazioni (1 errore, 19 avvisi)"
    assert "Settore SA - Amministrazione" in text and "Intero piano" in text
    refs = text.split("Riferimenti:")[1]
    for code in {f.code for f in flags}:
        assert refs.count(f"  {code} (") == 1
    assert quality_text(load(GOOD), []).endswith("ogni target chiede un miglioramento.")


def test_the_workbook_lists_every_flag_as_text(tmp_path):
    plan = load(POOR)
    flags = check_quality(plan)
    path = tmp_path / "q.xlsx"
    path.write_bytes(quality_workbook(plan, flags))
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Qualità del piano", "Riepilogo"]
    ws = wb["Qualità del piano"]
    assert ws["A1"].value == "Qualità del piano della performance - Comune di Esempio, anno 2025"
    assert [c.value for c in ws[4]] == ["Settore", "Obiettivo", "Indicatore", "Gravità", "Codice", "Controllo",
                                        "Motivo", "Riferimento"]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=5)]
    assert len(rows) == len(flags)
    assert all(isinstance(v, str) for r in rows for v in r if v is not None)
    assert [r[4] for r in rows] == [f.code for f in flags]
    assert rows[-1][:5] == ["SF", "SF-1", None, "errore", "QUAL-NO-INDICATOR"]
    summary = {r[0].value: r[2].value for r in wb["Riepilogo"].iter_rows(min_row=4, max_row=3 + len(CHECKS))}
    assert summary["QUAL-NO-SOURCE"] == 4 and summary["QUAL-NO-INDICATOR"] == 1


# --- the command ----------------------------------------------------------------------------------------------

def run(*args):
    return CliRunner().invoke(cli, ["plan", "check", *args])


@pytest.mark.parametrize(("plan_file", "code", "flags"), [(None, 0, 14), (GOOD, 0, 0), (POOR, 1, 20)])
def test_plan_check_qualita_prints_and_writes_the_report(tmp_path, plan_file, code, flags):
    out = tmp_path / "rapporto.xlsx"
    args = ([str(plan_file)] if plan_file else []) + ["--qualita", "--rapporto", str(out)]
    r = run(*args)
    assert r.exit_code == code, r.output
    assert f"{flags} segnalazion" in r.output and f"scritto in {out}" in r.output
    ws = openpyxl.load_workbook(out)["Qualità del piano"]
    assert ws.max_row == 4 + max(flags, 1)


def test_plan_check_qualita_json(tmp_path):
    out = tmp_path / "r.xlsx"
    r = run(str(POOR), "--qualita", "--rapporto", str(out), "--json")
    data = json.loads(r.output)
    q = data["quality"]
    assert q["report"] == str(out) and len(q["flags"]) == 20 and q["counts"]["QUAL-NO-SOURCE"] == 4
    first = q["flags"][0]
    assert first["code"] == "QUAL-NO-DUP" and first["reference"].startswith("D.Lgs. 150/2009")


def test_rapporto_without_qualita_is_a_usage_error(tmp_path):
    assert run(str(GOOD), "--rapporto", str(tmp_path / "r.xlsx")).exit_code == 2


def test_default_report_name_in_the_current_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert run(str(GOOD), "--qualita").exit_code == 0
    assert (tmp_path / "qualita-esempio-buono-2025.xlsx").is_file()


def test_a_plan_with_errors_gets_no_quality_report(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD.read_text().replace("weight: 40", "weight: 45"))
    r = run(str(bad), "--qualita", "--rapporto", str(tmp_path / "r.xlsx"))
    assert r.exit_code == 1 and "richiede un piano senza errori" in r.output
    assert not (tmp_path / "r.xlsx").exists()


# --- docs/plan-quality.md: each row is a flag of the poor plan, word for word -----------------------------------

def _doc_rows():
    for line in DOC.splitlines():
        m = re.fullmatch(r"\| `(QUAL-[A-Z-]+)` \| ([^|]+) \| (.+) \|", line)
        if m:
            yield m.group(1), m.group(2).strip(), m.group(3).strip()


def test_docs_list_every_check():
    assert {c for c, _, _ in _doc_rows()} == set(CHECKS)


@pytest.mark.parametrize(("code", "label", "message"), list(_doc_rows()))
def test_docs_row_is_what_the_poor_plan_gets(code, label, message):
    assert label == CHECKS[code].label
    assert message in [f.message for f in check_quality(load(POOR)) if f.code == code]


# --- rendered by LibreOffice: the printed report -----------------------------------------------------------------

@pytest.mark.libreoffice
def test_the_report_prints_on_a4_landscape_pages_whole(libreoffice, tmp_path):
    from test_lo_print import pdf_pages, to_pdf

    plan = load(POOR)
    flags = check_quality(plan)
    path = tmp_path / "q.xlsx"
    path.write_bytes(quality_workbook(plan, flags))
    pages = pdf_pages(to_pdf(libreoffice, path, tmp_path / "q.pdf"))
    text = " ".join(" ".join(pages).split())
    assert "Qualità del piano della performance - Comune di Esempio, anno 2025" in text
    words = text.split()
    for f in flags:  # every reason printed whole, no cell cut: its words in order (cells wrap over lines that
        at = 0       # the PDF's text interleaves with the neighbouring cells)
        for w in f.message.split():
            at = words.index(w, at) + 1  # ValueError: a word is missing
    assert len(pages) <= 3
    assert "Riepilogo per controllo" in text
