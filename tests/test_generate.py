"""The generated workbooks, inspected with openpyxl (the LibreOffice tests are in test_lo_*.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from golden import GOLDEN, bundled_structures, diff, plan_identity, structure
from openpyxl import load_workbook

from piao_xls.cli import cli
from piao_xls.forms.layout import plan_workbooks, sector_workbook
from piao_xls.forms.writer import render
from piao_xls.plan.load import load_plan
from piao_xls.plan.planfile import parse_plan
from piao_xls.sheetio.cells import a1

EXPECTED_FILES = {
    "PIAO-2025-Truccazzano.xlsx", "PIAO-2025-SA-Amministrazione.xlsx", "PIAO-2025-SF-Finanziario.xlsx",
    "PIAO-2025-ST-Tecnico.xlsx", "PIAO-2025-AV-Polizia-Locale.xlsx", "PIAO-2025-Nucleo.xlsx",
    "PIAO-2025-Esterno.xlsx",
}


def test_generate_writes_every_workbook(bundled_dir):
    assert {p.name for p in bundled_dir.iterdir()} == EXPECTED_FILES


def test_golden_structures_match():
    """Regenerate with `python3 tests/golden.py --regen` after an intended change."""
    problems = [f"_plan{d}" for d in diff(json.loads((GOLDEN / "_plan.json").read_text()), plan_identity())]
    for name, actual in bundled_structures().items():
        expected = json.loads((GOLDEN / f"{name}.json").read_text())
        problems += [f"{name}{d}" for d in diff(expected, json.loads(json.dumps(actual)))]
    assert not problems, "\n".join(problems[:40])


@pytest.mark.parametrize("book", plan_workbooks(load_plan()), ids=lambda b: b.filename)
def test_only_inputs_unlocked_and_all_validated(book):
    st = structure(render(book))
    assert st["structure_locked"]
    for sheet in book.sheets:
        s = st["sheet"][sheet.name]
        assert s["protected"], sheet.name
        expected_unlocked = set()
        for c in sheet.inputs.values():
            r2, c2 = c.merge_to or (c.row, c.col)
            expected_unlocked |= {a1(r, k) for r in range(c.row, r2 + 1) for k in range(c.col, c2 + 1)}
        assert set(s["unlocked"]) == expected_unlocked, sheet.name
        validated = {}
        for v in s["validations"]:
            for ref in v["sqref"].split():
                validated[ref.split(":")[0]] = v
        for c in sheet.inputs.values():
            v = validated.get(c.ref)
            assert v is not None, f"{sheet.name}!{c.ref} has no validation"
            assert v["errorStyle"] in (None, "stop") and v["prompt"] and v["error"], c.ref  # None = default "stop"


def test_input_kinds_match_rules(plan):
    book = sector_workbook(plan, plan.sector("SF"))
    st = structure(render(book))["sheet"]["SF - Finanziario"]
    by_ref = {v["sqref"].split(":")[0]: v for v in st["validations"]}  # a single value spans E:F
    inputs = book.sheets[1].inputs
    # numbers, dates and percentages: a custom rule, the range of the unit or "non disponibile"
    frac_num = inputs["SF-6.1|numerator"]
    assert by_ref[frac_num.ref]["type"] == "custom"
    assert by_ref[frac_num.ref]["formula1"] == (f'OR(LOWER(TRIM({frac_num.ref}))="non disponibile",'
                                                f"AND(ISNUMBER({frac_num.ref}),{frac_num.ref}>=0,"
                                                f"{frac_num.ref}<=1000000000000))")
    dl = inputs["SF-1.2|date"]
    assert by_ref[dl.ref]["type"] == "custom" and "DATE(2024,1,1)" in by_ref[dl.ref]["formula1"]
    pct = inputs["SF-1.1|value"]  # a share ("% Procedimenti conclusi"): at most 100%
    assert by_ref[pct.ref]["formula1"].endswith(f"{pct.ref}>=0,{pct.ref}<=1))")
    assert pct.validation.maximum == 1.0
    other = inputs["SF-7.1|value"]  # "rispetto dei tempi": not a share, 105% can be typed
    assert other.validation.maximum == 10.0 and f"{other.ref}<=10))" in by_ref[other.ref]["formula1"]
    # the Nucleo indicator has no input in the sector sheet
    assert not any(k.startswith("SF-2.1|") and not k.endswith("analisi") for k in inputs)


def test_output_is_deterministic(plan, monkeypatch):
    book = plan_workbooks(plan)[0]
    assert render(book) == render(book)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    a = render(book)
    assert a == render(book) and a != render(book, password="x")


def test_output_is_identical_across_fresh_interpreters(tmp_path):
    # two runs of the command in two fresh processes (different hash seeds, different pids):
    # nothing may depend on set/dict order of strings, object ids or the clock
    import hashlib
    import os
    import subprocess
    import sys

    digests = []
    for run, seed in (("a", "1"), ("b", "4242")):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        env.pop("SOURCE_DATE_EPOCH", None)
        subprocess.run([sys.executable, "-c", "from piao_xls.cli import main; main()", "generate", "-o",
                        str(tmp_path / run)], check=True, capture_output=True, env=env, timeout=300)
        files = sorted((tmp_path / run / "2025").iterdir())
        digests.append({f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in files})
    assert len(digests[0]) == 7 and digests[0] == digests[1]


def test_plan_text_is_never_a_formula(tmp_path):
    text = """
comune: "=HYPERLINK(\\"http://x\\",\\"y\\")"
year: 2025
sectors:
  - code: SA
    name: "=1+1"
    short_name: SA
    responsabile: {name: "@SUM(A1)"}
    objectives:
      - {number: 1, title: "=cmd|' /C calc'!A0", weight: 100,
         indicators: [{profilo: Q, description: "+1", target: "100%"}]}
"""
    plan, findings = parse_plan(text, "p.yaml")
    assert plan is not None, findings
    path = tmp_path / "x.xlsx"
    path.write_bytes(render(sector_workbook(plan, plan.sectors[0])))
    ws = load_workbook(path)["SA"]
    texts = [c for row in ws.iter_rows() for c in row if isinstance(c.value, str) and c.value[:1] in "=+@"]
    plan_texts = {c.value for c in texts if c.data_type == "s"}
    assert {"=cmd|' /C calc'!A0", "+1"} <= plan_texts
    formulas = [c.value for c in texts if c.data_type == "f"]
    assert all("HYPERLINK" not in f and "cmd|" not in f for f in formulas)


def test_generate_refuses_to_overwrite_filled_files(tmp_path, plan):
    from piao_xls.forms.samples import sample_values

    runner = CliRunner()
    r = runner.invoke(cli, ["generate", "-o", str(tmp_path)])
    assert r.exit_code == 0, r.output
    assert r.output.count("scritto ") == 7
    again = runner.invoke(cli, ["generate", "-o", str(tmp_path)])  # untouched files: fine to overwrite
    assert again.exit_code == 0, again.output
    book = sector_workbook(plan, plan.sector("ST"))
    target = tmp_path / "2025" / book.filename
    target.write_bytes(render(book, prefill=sample_values(book.sheets[1], seed=3)))
    before = target.read_bytes()
    refused = runner.invoke(cli, ["generate", "-o", str(tmp_path)])
    assert refused.exit_code == 2 and "valori compilati" in refused.output and book.filename in refused.output
    assert target.read_bytes() == before
    forced = runner.invoke(cli, ["generate", "-o", str(tmp_path), "--force"])
    assert forced.exit_code == 0 and target.read_bytes() != before


def test_generate_jobs_gives_same_files(tmp_path, plan):
    from piao_xls.forms.generate import generate

    a = generate(plan, tmp_path / "a", jobs=1)
    b = generate(plan, tmp_path / "b", jobs=2)
    assert len(a) == len(b) == 7
    for x, y in zip(a, b, strict=False):
        assert Path(x.path).read_bytes() == Path(y.path).read_bytes()
