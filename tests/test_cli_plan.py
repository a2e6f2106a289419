"""`piao-xls plan check` through click's CliRunner."""

from __future__ import annotations

import json

from click.testing import CliRunner

from piao_xls.cli import cli

BROKEN = """\
comune: Truccazzano
year: 2025
sectors:
  - code: SA
    name: Amministrazione
    responsabile: {name: Pietro Pastore}
    objectives:
      - number: 1
        title: Trasparenza
        weight: 90
        indicators:
          - {description: "Rispetto dei tempi", target: "100%"}
"""


def run(*args: str):
    return CliRunner().invoke(cli, ["plan", "check", *args])


def test_plan_check_bundled_plan():
    r = run()
    assert r.exit_code == 0, r.output
    assert "4 settori" in r.output
    assert "0 errori" in r.output
    for code in ("SA", "SF", "ST", "AV"):
        assert f"  {code}  " in r.output


def test_plan_check_json_structure():
    r = run("--json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert {"errors", "warnings", "sectors"} <= set(data)
    assert data["errors"] == []
    assert [s["code"] for s in data["sectors"]] == ["SA", "SF", "ST", "AV"]
    for s in data["sectors"]:
        assert {"code", "name", "objectives", "weight_total", "indicators"} <= set(s)
        assert s["weight_total"] == 100
        assert sum(s["indicators"].values()) >= s["objectives"]  # at least one indicator per objective
    assert [s["objectives"] for s in data["sectors"]] == [11, 9, 9, 9]
    assert data["sectors"][1]["indicators"]["fraction"] == 1  # SF-6
    assert data["sectors"][3]["indicators"]["increase"] == 1  # AV-6
    assert data["warnings"], "the bundled plan has known warnings (e.g. AV-5 has no target)"
    for f in data["warnings"]:
        assert set(f) == {"code", "severity", "message", "file", "line", "sheet", "cell", "ref", "where"}
        assert f["severity"] == "warning" and isinstance(f["line"], int)


def test_plan_check_broken_file(tmp_path):
    p = tmp_path / "plan.yaml"
    p.write_text(BROKEN, encoding="utf-8")
    weights_line = BROKEN.splitlines().index("    objectives:") + 1
    r = run(str(p))
    assert r.exit_code == 1
    assert f"plan.yaml:{weights_line}: errore PLAN-WEIGHTS" in r.output
    assert "1 errore," in r.output


def test_plan_check_broken_file_json(tmp_path):
    p = tmp_path / "plan.yaml"
    p.write_text(BROKEN.replace("weight: 90", "wieght: 100"), encoding="utf-8")
    r = run(str(p), "--json")
    assert r.exit_code == 1
    data = json.loads(r.output)
    assert data["sectors"] == []
    by_code = {f["code"]: f for f in data["errors"]}
    # the typo, then its consequences: no 'weight', so the weights sum to 0
    assert set(by_code) == {"PLAN-UNKNOWN-KEY", "PLAN-SCHEMA", "PLAN-WEIGHTS"}
    f = by_code["PLAN-UNKNOWN-KEY"]
    assert f["line"] == 10 and f["file"] == str(p) and f["severity"] == "error"
    assert "forse intendeva 'weight'" in f["message"]


def test_plan_check_missing_file(tmp_path):
    r = run(str(tmp_path / "missing.yaml"))
    assert r.exit_code == 1
    assert "PLAN-YAML" in r.output


def test_plan_check_verbose_shows_interpretations():
    r = run("--verbose")
    assert r.exit_code == 0
    # every reading in plain Italian, with what the grammar noticed
    assert ("SF-6.1: 'Accertamento del 100% delle somme stanziate nel Bilancio 2025' -> rapporto "
            "numeratore/denominatore almeno 100%\n") in r.output
    assert "SA-1.2: 'Novembre' -> entro il 30/11/2025\n" in r.output
    assert "-> +60% rispetto al 2024 [lo 0 stampato è il segnaposto del valore di riferimento]" in r.output
    assert "AV-9.2: '31/12/2025 31/12/2023' -> entro il 31/12/2025 [regola esplicita]" in r.output  # rule stated
    assert "SF-2.1: '100%' -> almeno 100% [fonte: il Nucleo di Valutazione]" in r.output
    assert "SA-1.2" not in run().output  # not without --verbose
