"""Plan files (piao_xls.plan.planfile): every finding code with its file and line, rules, sources, ids,
fingerprints, and the bundled Truccazzano 2025 plan checked against the seed document."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from piao_xls.core.errors import CODES, PlanError
from piao_xls.core.model import Rule
from piao_xls.plan.load import check_plan, load_plan
from piao_xls.plan.planfile import KEYS, parse_plan, validate_data

FILE = "plan.yaml"

# A small valid plan. Tests derive broken variants with str.replace and compute expected lines
# with line_of() from the text itself.
BASE = """\
plan_id: test-2025
comune: Truccazzano
year: 2025
sectors:
  - code: SA
    name: Amministrazione
    short_name: SA - Amministrazione
    responsabile:
      name: Pietro Pastore
      title: Dott.
    staff:
      - {qualifica: Istruttore Amministrativo, categoria: C, unita: 1}
      - {qualifica: Collaboratore Amministrativo, categoria: B, unita: 1}
    staff_total: 2
    objectives:
      - number: 1
        title: Trasparenza
        weight: 60
        steps:
          - text: Aggiornamento del sito
            tempi: Novembre
        indicators:
          - profilo: Qualità
            description: "Asseverazione da parte del Nucleo di Valutazione - giudizio da 0 a 100%"
            target: "100%"
          - description: "Rispetto dei tempi del cronoprogramma"
            target: "Novembre"
      - number: 2
        title: Pagamenti
        weight: 40
        indicators:
          - description: "Indicatore di ritardo medio annuale dei pagamenti"
            target: "<=0"
"""


def line_of(text: str, snippet: str, occurrence: int = 1) -> int:
    """1-based number of the line holding the ``occurrence``-th ``snippet``."""
    hits = [n for n, line in enumerate(text.splitlines(), start=1) if snippet in line]
    assert len(hits) >= occurrence, f"{snippet!r} occurs {len(hits)} time(s)"
    return hits[occurrence - 1]


def sub(old: str, new: str, text: str = BASE) -> str:
    assert text.count(old) == 1, f"{old!r} is not unique"
    return text.replace(old, new)


def parse(text: str):
    return parse_plan(text, FILE)


def only(findings, code: str):
    hits = [f for f in findings if f.code == code]
    assert len(hits) == 1, [str(f) for f in findings]
    return hits[0]


def codes(findings) -> list[str]:
    return sorted(f.code for f in findings)


def test_base_plan_is_clean():
    plan, findings = parse(BASE)
    assert findings == []
    assert plan is not None
    assert (plan.plan_id, plan.comune, plan.year) == ("test-2025", "Truccazzano", 2025)
    s = plan.sectors[0]
    assert (s.code, s.short_name, s.responsabile.display) == ("SA", "SA - Amministrazione", "Dott. Pietro Pastore")
    assert s.weight_total == 60 + 40
    assert [o.id for o in s.objectives] == ["SA-1", "SA-2"]
    assert [i.id for i in s.indicators] == ["SA-1.1", "SA-1.2", "SA-2.1"]
    assert [i.rule.kind for i in s.indicators] == ["at_least", "deadline", "at_most"]
    assert s.indicators[0].line == line_of(BASE, "profilo: Qualità")


def test_defaults_for_optional_plan_keys():
    plan, _ = parse(sub("plan_id: test-2025\n", ""))
    assert plan.plan_id == "truccazzano-2025"  # slug of comune-year
    assert plan.title == "PIAO 2025 - Performance"
    assert plan.scoring.aggregation == "weighted_mean"
    assert plan.scoring.late_penalty_per_month == 1.0
    assert plan.scoring.threshold is None


# --- PLAN-YAML ------------------------------------------------------------------------------------


def test_yaml_syntax_error_names_its_line():
    text = sub("title: Pagamenti", "title: Pagamenti: ritardi")
    plan, findings = parse(text)
    assert plan is None
    f = only(findings, "PLAN-YAML")
    assert (f.severity, f.file, f.line) == ("error", FILE, line_of(text, "Pagamenti: ritardi"))
    assert "sintassi" in f.message


def test_yaml_unclosed_bracket():
    text = sub("title: Pagamenti", "title: [Pagamenti")
    plan, findings = parse(text)
    assert plan is None
    f = only(findings, "PLAN-YAML")
    # the flow sequence is still open when the parser meets the next key
    assert f.line >= line_of(text, "[Pagamenti")


def test_duplicate_key_is_a_yaml_error_at_the_second_key():
    text = sub("        weight: 40\n", "        weight: 40\n        weight: 50\n")
    plan, findings = parse(text)
    assert plan is None
    f = only(findings, "PLAN-YAML")
    assert f.line == line_of(text, "weight: 50")
    assert "'weight'" in f.message and "due volte" in f.message


def test_unreadable_file(tmp_path):
    plan, findings = check_plan(tmp_path / "nope.yaml")
    assert plan is None
    assert codes(findings) == ["PLAN-YAML"]
    assert findings[0].file.endswith("nope.yaml")


def test_not_a_mapping():
    plan, findings = parse("- just\n- a list\n")
    assert plan is None
    assert only(findings, "PLAN-SCHEMA").line == 1


# --- PLAN-SCHEMA ----------------------------------------------------------------------------------


def test_missing_weight_names_the_objective():
    text = sub("        weight: 40\n", "")
    plan, findings = parse(text)
    assert plan is None
    f = only(findings, "PLAN-SCHEMA")
    assert f.line == line_of(text, "- number: 2")
    assert "SA-2" in f.message and "'weight'" in f.message


def test_missing_comune():
    text = sub("comune: Truccazzano\n", "")
    plan, findings = parse(text)
    assert plan is None
    f = only(findings, "PLAN-SCHEMA")
    assert f.line == 1  # the top-level mapping
    assert "'comune'" in f.message


def test_weight_of_wrong_type():
    text = sub("weight: 40", "weight: quaranta")
    plan, findings = parse(text)
    assert plan is None
    f = next(f for f in findings if f.code == "PLAN-SCHEMA")
    assert f.line == line_of(text, "weight: quaranta")
    assert "numero" in f.message and "quaranta" in f.message


def test_responsabile_must_be_a_mapping():
    text = sub("    responsabile:\n      name: Pietro Pastore\n      title: Dott.\n", "    responsabile: Pietro Pastore\n")
    plan, findings = parse(text)
    assert plan is None
    f = only(findings, "PLAN-SCHEMA")
    assert f.line == line_of(text, "responsabile: Pietro Pastore")
    assert "tabella" in f.message


def test_objectives_must_be_a_list():
    text = sub("    staff_total: 2\n", "    staff_total: 2\n    offices: Ufficio Tributi\n")
    plan, findings = parse(text)
    assert plan is None
    f = only(findings, "PLAN-SCHEMA")
    assert f.line == line_of(text, "offices: Ufficio Tributi")
    assert "elenco" in f.message


def test_implausible_year():
    text = sub("year: 2025", "year: 20255")
    _, findings = parse(text)
    f = next(f for f in findings if f.code == "PLAN-SCHEMA")
    assert f.line == line_of(text, "year: 20255")


def test_indicator_weight_must_be_positive():
    text = sub('target: "<=0"', 'target: "<=0"\n            weight: 0')
    _, findings = parse(text)
    assert only(findings, "PLAN-SCHEMA").line == line_of(text, "weight: 0")


# --- PLAN-UNKNOWN-KEY -----------------------------------------------------------------------------


def test_typo_suggests_the_right_key():
    text = sub("weight: 40", "wieght: 40")
    plan, findings = parse(text)
    assert plan is None
    f = only(findings, "PLAN-UNKNOWN-KEY")
    assert (f.severity, f.line) == ("error", line_of(text, "wieght: 40"))
    assert "'wieght'" in f.message and "forse intendeva 'weight'" in f.message
    assert "PLAN-SCHEMA" in codes(findings)  # and the weight is then missing


def test_unknown_key_without_close_match_lists_allowed_keys():
    text = sub("title: Dott.", "title: Dott.\n      colour: blue")
    _, findings = parse(text)
    f = only(findings, "PLAN-UNKNOWN-KEY")
    assert f.line == line_of(text, "colour: blue")
    assert "chiavi ammesse: email, name, title" in f.message


# --- PLAN-WEIGHTS ---------------------------------------------------------------------------------


def test_weights_not_summing_to_100():
    text = sub("weight: 40", "weight: 30")
    plan, findings = parse(text)
    assert plan is None
    f = only(findings, "PLAN-WEIGHTS")
    assert f.line == line_of(text, "    objectives:")
    assert "90" in f.message  # 60 + 30
    assert "SA" in f.message


# --- PLAN-DUPLICATE-ID ----------------------------------------------------------------------------


def test_two_objectives_with_the_same_number():
    text = sub("number: 2", "number: 1")
    plan, findings = parse(text)
    assert plan is None
    dups = [f for f in findings if f.code == "PLAN-DUPLICATE-ID"]
    obj = [f for f in dups if "l'obiettivo 'SA-1'" in f.message]
    assert len(obj) == 1
    assert obj[0].line == line_of(text, "- number: 1", occurrence=2)
    assert f"la prima a riga {line_of(text, '- number: 1')}" in obj[0].message
    # the indicator ids derived from the objective clash too: SA-1.1 appears twice
    assert any("l'indicatore 'SA-1.1'" in f.message for f in dups)


def test_two_sectors_with_the_same_code():
    second = """\
  - code: sa
    name: Altro
    short_name: Altro
    responsabile: {name: Mario Rossi}
    objectives:
      - {number: 9, title: X, weight: 100, indicators: [{description: d, target: "100%"}]}
"""
    text = BASE + second
    plan, findings = parse(text)
    assert plan is None
    f = only(findings, "PLAN-DUPLICATE-ID")  # codes compare case-insensitively; ids SA-9 vs SA-1/2 differ
    assert f.line == line_of(text, "- code: sa")
    assert "il codice di settore 'sa'" in f.message


def test_explicit_indicator_ids_must_be_unique():
    text = sub('target: "<=0"', 'target: "<=0"\n            id: SA-1.1')
    _, findings = parse(text)
    f = only(findings, "PLAN-DUPLICATE-ID")
    assert f.line == line_of(text, "Indicatore di ritardo")


# --- PLAN-TARGET ----------------------------------------------------------------------------------


def test_uninterpretable_target_names_its_line():
    text = sub('target: "<=0"', 'target: "entro le tempistiche previste circa 30"')
    plan, findings = parse(text)
    assert plan is None
    f = only(findings, "PLAN-TARGET")
    assert f.line == line_of(text, "entro le tempistiche")
    assert "SA-2.1" in f.message and "rule:" in f.message


def test_impossible_date_is_a_target_error_not_a_crash():
    text = sub('target: "Novembre"', 'target: "31/02/2025"')
    _, findings = parse(text)
    assert only(findings, "PLAN-TARGET").line == line_of(text, "31/02/2025")


# --- explicit rules and PLAN-RULE -----------------------------------------------------------------


def with_rule(rule_yaml: str, target: str = '"<=0"') -> str:
    return sub('target: "<=0"', f"target: {target}\n            rule: {rule_yaml}")


def rule_of(text: str) -> Rule:
    plan, findings = parse(text)
    assert plan is not None, [str(f) for f in findings]
    return plan.indicators[-1].rule


def test_explicit_at_most_with_worst():
    r = rule_of(with_rule("{kind: at_most, unit: number, target: 0, worst: 30}"))
    assert r == Rule("at_most", unit="number", target=0.0, worst=30.0)


@pytest.mark.parametrize(
    ("rule_yaml", "expected"),
    [
        ('{kind: at_least, unit: percent, target: "90%"}', Rule("at_least", unit="percent", target=0.9)),
        ("{kind: at_least, unit: percent, target: 0.9}", Rule("at_least", unit="percent", target=0.9)),
        ('{kind: at_least, unit: amount, target: 15000}', Rule("at_least", unit="amount", target=15000.0)),
        ('{kind: range, unit: percent, low: "90%", high: "100%"}', Rule("range", unit="percent", low=0.9, high=1.0)),
        ("{kind: deadline, deadline: 2025-12-31}", Rule("deadline", unit="date", deadline=date(2025, 12, 31))),
        ('{kind: deadline, deadline: "30/06/2025"}', Rule("deadline", unit="date", deadline=date(2025, 6, 30))),
        ('{kind: deadline, deadline: "2025-06-30"}', Rule("deadline", unit="date", deadline=date(2025, 6, 30))),
        ("{kind: deadline, deadline: Novembre}", Rule("deadline", unit="date", deadline=date(2025, 11, 30))),
        ("{kind: yes_no}", Rule("yes_no", unit="yes_no")),
        ('{kind: fraction, target: "100%"}', Rule("fraction", unit="percent", target=1.0)),
        ('{kind: increase, increase: "60%", baseline_year: 2024}',
         Rule("increase", unit="number", increase=0.6, baseline_year=2024)),
        ("{kind: increase, increase: 0.6, baseline_year: 2024}",
         Rule("increase", unit="number", increase=0.6, baseline_year=2024)),
        ("{kind: informative}", Rule("informative", unit="number")),
    ],
)
def test_explicit_rules(rule_yaml, expected):
    assert rule_of(with_rule(rule_yaml)) == expected


def test_explicit_rule_wins_over_the_target_text():
    text = with_rule("{kind: deadline, deadline: 2025-12-31}", target='"31/12/2025 31/12/2023"')
    plan, findings = parse(text)
    assert findings == []  # the ambiguous text is not interpreted at all
    ind = plan.indicators[-1]
    assert ind.target_text == "31/12/2025 31/12/2023"  # kept as printed
    assert ind.rule.deadline == date(2025, 12, 31)


def test_explicit_informative_rule_gives_no_no_target_warning():
    _, findings = parse(with_rule("{kind: informative}", target='""'))
    assert "PLAN-NO-TARGET" not in codes(findings)


def test_range_rule_low_above_high():
    text = with_rule('{kind: range, unit: percent, low: "100%", high: "90%"}')
    plan, findings = parse(text)
    assert plan is None
    f = only(findings, "PLAN-RULE")
    assert f.line == line_of(text, "kind: range")
    assert "il minimo 100% dell'intervallo è sopra il massimo 90%" in f.message


def test_unknown_rule_kind_names_the_kind_line():
    text = sub('target: "<=0"', 'target: "<=0"\n            rule:\n              kind: between')
    plan, findings = parse(text)
    assert plan is None
    f = only(findings, "PLAN-RULE")
    assert f.line == line_of(text, "kind: between")
    assert "'between'" in f.message and "at_least" in f.message and "non esiste" in f.message


@pytest.mark.parametrize(
    ("rule_yaml", "fragment"),
    [
        ("{kind: at_least, unit: percent}", "richiede un valore nella chiave 'target'"),
        ("{kind: range, low: 1}", "richiede un valore nella chiave 'high'"),
        ("{kind: increase, baseline_year: 2024}", "richiede la variazione (increase)"),
        ("{kind: deadline}", "richiede una data valida nella chiave 'deadline'"),
        ('{kind: deadline, deadline: "31/02/2025"}', "richiede una data valida nella chiave 'deadline'"),
        ("{kind: at_most, target: 30, worst: 10}", "nella chiave 'worst' deve essere sopra il valore nella chiave 'target'"),
        ("{kind: at_least, unit: litres, target: 1}", "unità di misura 'litres' non esiste"),
    ],
)
def test_incomplete_or_inconsistent_rules(rule_yaml, fragment):
    text = with_rule(rule_yaml)
    plan, findings = parse(text)
    assert plan is None
    f = only(findings, "PLAN-RULE")
    assert fragment in f.message
    assert f.line == line_of(text, "rule: {")


def test_unknown_key_in_rule():
    text = with_rule("{kind: at_most, target: 0, wrost: 30}")
    f = only(parse(text)[1], "PLAN-UNKNOWN-KEY")
    assert "forse intendeva 'worst'" in f.message


# --- PLAN-SHEET-NAME ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("short", "fragment"),
    [
        ("SA: Amministrazione", "caratteri non ammessi :"),
        ("SA/Amm", "caratteri non ammessi /"),
        ("A" * 32, "lungo 32 caratteri"),
        ("Istruzioni", "non è ammesso"),
    ],
)
def test_bad_sheet_names(short, fragment):
    text = sub("short_name: SA - Amministrazione", f'short_name: "{short}"')
    plan, findings = parse(text)
    assert plan is None
    f = only(findings, "PLAN-SHEET-NAME")
    assert f.line == line_of(text, "short_name:")
    assert fragment in f.message


def test_31_characters_is_fine():
    plan, findings = parse(sub("short_name: SA - Amministrazione", f"short_name: {'A' * 31}"))
    assert findings == [] and plan.sectors[0].short_name == "A" * 31


def test_short_name_defaults_to_code():
    plan, _ = parse(sub("    short_name: SA - Amministrazione\n", ""))
    assert plan.sectors[0].short_name == "SA"


# --- PLAN-SCORING ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scoring", "key"),
    [
        ("scoring: {aggregation: median}", "aggregation"),
        ("scoring:\n  threshold: 80", "threshold"),  # must be 0..1 or a percentage
        ("scoring:\n  late_penalty_per_month: 2", "late_penalty_per_month"),
        ("scoring:\n  bands:\n    - {min: 50, code: OK}", "bands"),  # no band with min 0
    ],
)
def test_bad_scoring_policy(scoring, key):
    text = sub("year: 2025\n", f"year: 2025\n{scoring}\n")
    plan, findings = parse(text)
    assert plan is None
    f = only(findings, "PLAN-SCORING")
    assert f.line == line_of(text, f"{key}:")
    assert key in f.message


def test_scoring_section_values():
    text = sub("year: 2025\n", 'year: 2025\nscoring:\n  late_penalty_per_month: 0.25\n  aggregation: min\n'
                               '  threshold: "50%"\n')
    plan, findings = parse(text)
    assert findings == []
    p = plan.scoring
    assert (p.late_penalty_per_month, p.aggregation, p.threshold) == (0.25, "min", 0.5)


# --- warnings: the plan is still returned ----------------------------------------------------------


def test_no_target_and_unscored_objective_warnings():
    text = sub('target: "<=0"', 'target: ""')
    plan, findings = parse(text)
    assert plan is not None
    assert codes(findings) == ["PLAN-NO-TARGET", "PLAN-UNSCORED-OBJECTIVE"]
    assert all(f.severity == "warning" for f in findings)
    assert only(findings, "PLAN-NO-TARGET").line == line_of(text, "Indicatore di ritardo")
    unscored = only(findings, "PLAN-UNSCORED-OBJECTIVE")
    assert unscored.line == line_of(text, "- number: 2")
    assert "SA-2" in unscored.message and "40%" in unscored.message
    assert not plan.objectives[1].evaluable


def test_year_warning_for_step_tempi_before_plan_year():
    text = sub("tempi: Novembre", "tempi: mar-24")
    plan, findings = parse(text)
    assert plan is not None
    f = only(findings, "PLAN-YEAR")
    assert (f.severity, f.line) == ("warning", line_of(text, "tempi: mar-24"))
    assert "2024" in f.message


def test_year_warning_for_a_far_deadline():
    text = sub('target: "Novembre"', 'target: "31/12/2023"')
    plan, findings = parse(text)
    assert plan is not None
    f = only(findings, "PLAN-YEAR")
    assert f.line == line_of(text, "31/12/2023")


def test_next_year_deadline_is_not_far():
    # 2026 - 2025 = 1: a deadline early in the following year is normal (e.g. the final report)
    _, findings = parse(sub('target: "Novembre"', 'target: "28/02/2026"'))
    assert findings == []


def test_staff_total_warning():
    text = sub("staff_total: 2", "staff_total: 3")
    plan, findings = parse(text)
    assert plan is not None
    f = only(findings, "PLAN-STAFF-TOTAL")
    assert (f.severity, f.line) == ("warning", line_of(text, "staff_total: 3"))
    assert "3" in f.message and "(2)" in f.message  # printed 3, rows 1 + 1


def test_every_plan_code_is_exercised_here():
    plan_codes = {c for c in CODES if c.startswith("PLAN-")}
    here = Path(__file__)
    src = here.read_text(encoding="utf-8") + (here.parent / "test_planbook.py").read_text(encoding="utf-8")
    assert {c for c in plan_codes if f'"{c}"' not in src} == set()


def test_validate_data_names_sheet_and_cell():
    """Plan data that did not come from YAML (a plan workbook): findings name the sheet and cell of a path."""
    data = {"comune": "Truccazzano", "year": 2025, "sectors": [{
        "code": "SA", "name": "Amministrazione", "responsabile": {"name": "Pietro Pastore"},
        "objectives": [{"number": 1, "title": "Trasparenza", "weight": 90,
                        "indicators": [{"description": "Rispetto dei tempi", "target": "boh"}]}]}]}
    where = {
        (): ("Ente", "A1"),
        ("sectors", 0): ("Settori", "A2"),
        ("sectors", 0, "objectives"): ("Obiettivi", "N2"),
        ("sectors", 0, "objectives", 0): ("Obiettivi", "B2"),
        ("sectors", 0, "objectives", 0, "stakeholder"): ("Obiettivi", "E2"),
        ("sectors", 0, "objectives", 0, "indicators", 0, "target"): ("Indicatori", "E2"),
        ("sectors", 0, "objectives", 0, "indicators", 0, "weight"): ("Indicatori", "P2"),
    }
    plan, findings = validate_data(data, "piano.xlsx", where)
    assert plan is None
    got = {f.code: (f.file, f.sheet, f.cell, f.line) for f in findings}
    assert got == {"PLAN-WEIGHTS": ("piano.xlsx", "Obiettivi", "N2", None),
                   "PLAN-TARGET": ("piano.xlsx", "Indicatori", "E2", None)}
    # a missing required value is reported at its (empty) cell; a path without a place at its ancestor's
    del data["sectors"][0]["objectives"][0]["title"]
    where[("sectors", 0, "objectives", 0, "title")] = ("Obiettivi", "C2")
    data["sectors"][0]["objectives"][0]["indicators"][0]["target"] = "100%"
    data["sectors"][0]["objectives"][0]["weight"] = 100
    data["sectors"][0]["responsabile"]["mail"] = "x"
    _, findings = validate_data(data, "piano.xlsx", where)
    assert {f.code: (f.sheet, f.cell) for f in findings} == {"PLAN-SCHEMA": ("Obiettivi", "C2"),
                                                             "PLAN-UNKNOWN-KEY": ("Settori", "A2")}


# --- sources and ids ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("description", "source"),
    [
        ("Asseverazione da parte del Nucleo di Valutazione - giudizio da 0 a 100%", "nucleo"),
        ("Asseverazione da parte del Nucleo Valutativo PNRR - AGID del Ministero", "esterno"),
        ("Certificazione dell'Organo di revisione", "esterno"),
        ("Rispetto dei tempi", "responsabile"),
    ],
)
def test_source_derivation(description, source):
    plan, _ = parse(sub("Indicatore di ritardo medio annuale dei pagamenti", description))
    assert plan.indicators[-1].source == source


def test_explicit_source_overrides_and_is_checked():
    plan, _ = parse(sub('target: "<=0"', 'target: "<=0"\n            source: nucleo'))
    assert plan.indicators[-1].source == "nucleo"
    text = sub('target: "<=0"', 'target: "<=0"\n            source: sindaco')
    _, findings = parse(text)
    assert only(findings, "PLAN-SCHEMA").line == line_of(text, "source: sindaco")


def test_explicit_ids():
    text = sub("      - number: 2\n", "      - number: 2\n        id: PAG\n")
    text = sub('target: "<=0"', 'target: "<=0"\n            id: ITP', text)
    plan, findings = parse(text)
    assert findings == []
    assert plan.objectives[1].id == "PAG"
    assert plan.indicators[-1].id == "ITP"


def test_objective_number_defaults_to_position():
    plan, _ = parse(sub("      - number: 2\n        title: Pagamenti\n", "      - title: Pagamenti\n"))
    assert plan.objectives[1].id == "SA-2"  # second in the list


# --- fingerprint ----------------------------------------------------------------------------------

REFORMATTED = """\
# the same plan, written differently
comune: "Truccazzano"     # quoted
plan_id: test-2025
sectors:


  - objectives:
      - {number: 1, title: Trasparenza, weight: 60,
         steps: [{tempi: Novembre, text: "Aggiornamento   del sito"}],
         indicators: [
           {target: 100%, profilo: Qualità,
            description: "Asseverazione da parte del Nucleo di Valutazione - giudizio da 0 a 100%"},
           {description: Rispetto dei tempi del cronoprogramma, target: Novembre}]}
      - number: 2
        weight: 40.0
        title: >-
          Pagamenti
        indicators:
          - {description: "Indicatore di ritardo medio annuale dei pagamenti", target: "<=0"}
    code: SA
    name: Amministrazione
    short_name: SA - Amministrazione
    staff_total: 2
    staff:
      - qualifica: Istruttore Amministrativo
        categoria: C
        unita: 1
      - {qualifica: Collaboratore Amministrativo, categoria: B, unita: 1.0}
    responsabile: {title: Dott., name: Pietro Pastore}
year: 2025
"""


def test_fingerprint_is_stable_across_reformatting():
    a, fa = parse(BASE)
    b, fb = parse(REFORMATTED)
    assert fa == [] and fb == []
    assert a.indicators[0].line != b.indicators[0].line  # lines moved...
    assert a.fingerprint == b.fingerprint  # ...the content did not
    assert len(a.fingerprint) == 64 and int(a.fingerprint, 16) >= 0


def test_canonical_json_is_the_json_of_the_canonical_form():
    """The fingerprint hashes text written directly (shared rules once): it must be what json.dumps writes."""
    import json
    import math

    from piao_xls.core.model import canonical, canonical_json

    def dumped(obj):
        return json.dumps(canonical(obj), sort_keys=True, ensure_ascii=False, separators=(",", ":"))

    odd = Rule("at_most", unit="number", target=0.1 + 0.2, worst=-0.0, low=math.inf, high=-math.inf,
               baseline=1e16, tolerance=float("nan"), measure='è "virgolette" \\ \n\u2028\x01')
    for obj in (load_plan(), parse(BASE)[0], odd, Rule("deadline", unit="date", deadline=date(2025, 12, 31)),
                (1, 2.0, "a", None, True, date(2025, 1, 2)), []):
        assert canonical_json(obj) == dumped(obj)


def test_fingerprint_changes_with_a_weight():
    a, _ = parse(BASE)
    b, fb = parse(sub("weight: 40", "weight: 50", sub("weight: 60", "weight: 50")))
    assert fb == []
    assert a.fingerprint != b.fingerprint


def test_fingerprint_changes_with_a_target():
    a, _ = parse(BASE)
    b, _ = parse(sub('target: "100%"', 'target: "90%"'))
    assert a.fingerprint != b.fingerprint


def test_keys_table_covers_the_documented_levels():
    assert set(KEYS) == {"plan", "scoring", "band", "sector", "responsabile", "staff", "objective", "step",
                         "indicator", "rule", "quality"}


# --- the bundled plan, checked against the seed (shared/seeds/000_d0613cf516306f9e.txt) -------------


@pytest.fixture(scope="module")
def bundled():
    return load_plan()


def test_bundled_plan_has_no_errors():
    plan, findings = check_plan(load_plan().source)
    assert plan is not None
    assert [f for f in findings if f.severity == "error"] == []


def test_bundled_sectors_objectives_weights(bundled):
    # seed body order: SA (line 61), SF (312), ST (496), AV (693)
    assert [s.code for s in bundled.sectors] == ["SA", "SF", "ST", "AV"]
    # "Obiettivo n/XX" cards: SA 1..11, SF 1..9, ST 1..9, AV 1..9
    assert [len(s.objectives) for s in bundled.sectors] == [11, 9, 9, 9]
    for s in bundled.sectors:
        assert s.weight_total == pytest.approx(100)
        assert [o.number for o in s.objectives] == list(range(1, len(s.objectives) + 1))
    assert (bundled.comune, bundled.year) == ("Truccazzano", 2025)


def test_bundled_weight_tables(bundled):
    # "Peso in % (a)" tables of the seed
    w = {s.code: [o.weight for o in s.objectives] for s in bundled.sectors}
    assert w["SA"] == [10, 10, 10, 10, 10, 10, 5, 10, 10, 10, 5]
    assert w["SF"] == [10, 10, 10, 10, 10, 20, 10, 10, 10]
    assert w["ST"] == [10, 10, 10, 10, 10, 20, 10, 10, 10]
    assert w["AV"] == [10, 10, 10, 10, 10, 15, 15, 10, 10]


def test_bundled_responsabili_and_staff(bundled):
    # "Responsabile: ..." lines and "Totale" rows of DOTAZIONE ORGANICA SETTORE
    resp = {s.code: (s.responsabile.title, s.responsabile.name) for s in bundled.sectors}
    assert resp == {
        "SA": ("Dott.", "Pietro Pastore"),
        "SF": ("Rag.", "Cerea Viviana Margherita"),
        "ST": ("Arch.", "Paolo Corti"),
        "AV": ("", "Ornaghi Federico"),
    }
    for s, total in zip(bundled.sectors, [7, 4, 5, 5], strict=True):
        assert s.staff_total == total
        assert s.computed_staff_total == total  # every row is 1 unit
        assert len(s.staff) == total


def test_bundled_sf6_is_a_20_percent_fraction(bundled):
    o = bundled.sector("SF").objectives[5]
    assert (o.id, o.weight) == ("SF-6", 20)
    assert o.title.startswith("RECUPERO EVASIONE")
    (ind,) = o.indicators
    assert ind.rule == Rule("fraction", unit="percent", target=1.0)
    assert ind.description.startswith("Importo somme accertate")


def test_bundled_av6_is_an_increase_over_2024(bundled):
    o = bundled.sector("AV").objectives[5]
    assert (o.id, o.weight, o.title) == ("AV-6", 15, "CONTROLLO PREVENTIVO DEL TERRITORIO")
    (ind,) = o.indicators
    assert (ind.rule.kind, ind.rule.baseline_year) == ("increase", 2024)
    assert ind.rule.increase == pytest.approx(0.6)


def test_bundled_sources(bundled):
    # the seed has 5 "Asseverazione da parte del Nucleo di Valutazione" rows (lines 142, 250, 378,
    # 570, 782: SA-2, SA-8, SF-2, ST-2, AV-2) and 2 by the "Nucleo Valutativo PNRR - AGID" (236, 290)
    nucleo = [i.id for i in bundled.indicators if i.source == "nucleo"]
    esterno = [i.id for i in bundled.indicators if i.source == "esterno"]
    assert nucleo == ["SA-2.1", "SA-8.1", "SF-2.1", "ST-2.1", "AV-2.1"]
    assert esterno == ["SA-7.1", "SA-10.1"]


def test_bundled_informative_and_unscored(bundled):
    # AV-5 prints no target (its only indicator), AV-8 and AV-9 each have one target-less row
    informative = [i.id for i in bundled.indicators if i.rule.kind == "informative"]
    assert informative == ["AV-5.1", "AV-8.1", "AV-9.1"]
    assert [o.id for o in bundled.objectives if not o.evaluable] == ["AV-5"]


def test_bundled_av9_two_printed_dates(bundled):
    ind = bundled.sector("AV").objectives[8].indicators[1]
    assert ind.target_text == "31/12/2025 31/12/2023"
    assert ind.rule.deadline == date(2025, 12, 31)


def test_load_plan_raises_plan_error(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text(sub("weight: 40", "weight: 30"), encoding="utf-8")
    with pytest.raises(PlanError) as e:
        load_plan(p)
    assert [f.code for f in e.value.findings] == ["PLAN-WEIGHTS"]
    assert "1 error" in str(e.value)


def test_bundled_plan_is_found_in_an_installed_package(tmp_path, monkeypatch):
    """pip install . (not editable) puts the plan under <prefix>/share/piao-xls/templates (pyproject data-files)."""
    import sys

    from piao_xls.plan import planfile

    shared = tmp_path / "prefix" / "share" / "piao-xls" / "templates" / planfile.BUNDLED_PLAN_NAME
    shared.parent.mkdir(parents=True)
    shared.write_text("plan_id: x\n", encoding="utf-8")
    monkeypatch.setattr(planfile, "__file__", str(tmp_path / "site-packages" / "piao_xls" / "planfile.py"))
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "prefix"))
    assert planfile.bundled_plan_path() == shared
    shared.unlink()
    assert planfile.bundled_plan_path() == Path("templates") / planfile.BUNDLED_PLAN_NAME  # the cwd's, last


# --- plans not shaped like Truccazzano's (issue 12) -------------------------------------------------


def test_weights_as_fractions_are_percentages():
    plan, findings = parse(sub("weight: 60", "weight: 0.6").replace("weight: 40", "weight: 0,4"))
    assert findings == [] and [o.weight for o in plan.objectives] == [60, 40]
    assert plan.fingerprint == parse(BASE)[0].fingerprint  # the same plan as 60 / 40


def test_weights_as_coefficients_are_normalised_to_100():
    text = sub("year: 2025\n", "year: 2025\nscoring: {weights: coefficients}\n")
    text = text.replace("weight: 60", "weight: 1.2").replace("weight: 40", 'weight: "1,4"')
    plan, findings = parse(text)
    assert findings == [], [str(f) for f in findings]
    assert [o.coefficient for o in plan.objectives] == [1.2, 1.4]
    assert [o.weight for o in plan.objectives] == pytest.approx([1.2 / 2.6 * 100, 1.4 / 2.6 * 100])
    assert plan.sectors[0].weight_total == pytest.approx(100)
    assert plan.scoring.weights == "coefficients"


def test_coefficients_without_saying_so_are_read_as_coefficients_with_a_warning():
    text = sub("weight: 60", "weight: 1.0").replace("weight: 40", "weight: 1.2")
    plan, findings = parse(text)
    f = only(findings, "PLAN-WEIGHTS")
    assert (f.severity, f.line) == ("warning", line_of(text, "    objectives:"))
    assert "sommano 2,2" in f.message and "SA-1: 1 = 45,45%" in f.message and "SA-2: 1,2 = 54,55%" in f.message
    assert "'weights: coefficients'" in f.message
    assert [o.coefficient for o in plan.objectives] == [1.0, 1.2]
    assert plan.sectors[0].weight_total == pytest.approx(100)
    said = parse(sub("year: 2025\n", "year: 2025\nscoring: {weights: coefficients}\n").replace(
        "weight: 60", "weight: 1.0").replace("weight: 40", "weight: 1.2"))
    assert said[1] == [] and [o.weight for o in said[0].objectives] == [o.weight for o in plan.objectives]


def test_weights_that_are_neither_percentages_nor_coefficients_explain_why_the_total_is_not_100():
    f = only(parse(sub("weight: 60", "weight: 8").replace("weight: 40", "weight: 7"))[1], "PLAN-WEIGHTS")
    assert f.severity == "error"
    assert "sommano 15 invece di 100" in f.message and "SA-1: 8" in f.message and "mancano 85" in f.message
    assert "coefficienti" in f.message and "'weights: coefficients'" in f.message


def test_fractions_that_do_not_add_up_say_so():
    f = only(parse(sub("weight: 60", "weight: 0.5").replace("weight: 40", "weight: 0.4"))[1], "PLAN-WEIGHTS")
    assert "frazioni" in f.message and "0,9" in f.message


GATE = """\
      - number: 3
        title: Obiettivo di accesso - anticorruzione
        weight: X
        indicators:
          - description: Relazione anticorruzione approvata
            rule: {kind: yes_no}
"""


def test_gate_objective_weighs_nothing_and_caps_the_sector():
    text = sub("year: 2025\n", "year: 2025\nscoring: {gate_cap: 60}\n") + GATE
    plan, findings = parse(text)
    assert findings == [], [str(f) for f in findings]
    gate = plan.objectives[2]
    assert (gate.gate, gate.weight) == (True, 0)
    assert plan.sectors[0].weight_total == 100 and plan.scoring.gate_cap == 60
    # "obiettivo di accesso" as printed weight, and gate: true, are the same gate
    same = parse(text.replace("weight: X", "weight: obiettivo di accesso"))[0]
    assert same.fingerprint == plan.fingerprint
    assert parse(text.replace("weight: X", "gate: true"))[0].fingerprint == plan.fingerprint
    # no weight, and a title that says so, as some PIAO print it
    untitled = text.replace("        weight: X\n", "")
    assert untitled != text and parse(untitled)[0].fingerprint == plan.fingerprint
    # a plan without gates keeps its fingerprint: gate and coefficient count only when set
    assert "gate" not in str(parse(BASE)[0].canonical())


def test_gate_objective_with_a_weight_and_a_bad_cap():
    text = sub("year: 2025\n", "year: 2025\nscoring: {gate_cap: 120}\n") + GATE.replace("weight: X",
                                                                                    "gate: true\n        weight: 10")
    _, findings = parse(text)
    assert only(findings, "PLAN-WEIGHTS").line == line_of(text, "weight: 10")
    assert "accesso" in only(findings, "PLAN-WEIGHTS").message
    assert only(findings, "PLAN-SCORING").line == line_of(text, "gate_cap: 120")


def test_objective_without_indicators_is_named():
    text = sub('          - description: "Indicatore di ritardo medio annuale dei pagamenti"\n'
               '            target: "<=0"\n', "").replace("        weight: 40\n        indicators:\n",
                                                        "        weight: 40\n")
    plan, findings = parse(text)
    assert plan is not None
    f = only(findings, "PLAN-NO-INDICATOR")
    assert (f.severity, f.line) == ("warning", line_of(text, "- number: 2"))
    assert "SA-2" in f.message and "Pagamenti" in f.message
    assert not plan.objectives[1].evaluable


def test_sector_with_nothing_measurable_is_non_valutabile():
    text = sub('target: "100%"', 'target: ""').replace('target: "Novembre"', 'target: ""').replace(
        'target: "<=0"', 'target: ""')
    plan, findings = parse(text)
    assert plan is not None and not plan.sectors[0].evaluable
    f = only(findings, "PLAN-NOT-EVALUABLE")
    assert (f.severity, f.line) == ("warning", line_of(text, "- code: SA"))
    assert "non valutabile" in f.message


def test_sector_without_objectives_is_non_valutabile_not_an_error():
    text = BASE + "  - code: SG\n    name: Segreteria\n    responsabile: {name: Mario Rossi}\n"
    plan, findings = parse(text)
    assert plan is not None and not plan.sector("SG").evaluable
    f = only(findings, "PLAN-NOT-EVALUABLE")
    assert f.line == line_of(text, "- code: SG") and "SG non ha obiettivi" in f.message


def test_later_year_targets_are_kept_and_belong_to_their_year():
    from piao_xls.core.years import target_year

    plan, findings = parse(sub('target: "Novembre"', 'target: "31/12/2027"'))
    assert findings == [] and plan.indicators[1].rule.deadline == date(2027, 12, 31)
    assert target_year(plan.indicators[1], plan.year) == 2027
    assert target_year(plan.indicators[0], plan.year) == 2025
    text = sub('target: "Novembre"', 'target: "31/12/2029"')  # beyond the three years of a PIAO
    assert only(parse(text)[1], "PLAN-YEAR").line == line_of(text, "31/12/2029")


# --- plan-side safety (issue 11 section 3): an error with its line, never a traceback -----------------


@pytest.mark.parametrize("value", [".nan", ".NaN", ".inf", "-.inf", '"nan"', '"inf"', '"1e999"', "1" + "0" * 400])
def test_non_finite_numbers(value):
    text = sub("weight: 40", f"weight: {value}")
    plan, findings = parse(text)
    assert plan is None
    f = only(findings, "PLAN-NUMBER")
    assert f.line == line_of(text, f"weight: {value}")


def test_non_finite_number_in_a_rule():
    text = with_rule("{kind: at_least, unit: number, target: .inf}")
    assert only(parse(text)[1], "PLAN-NUMBER").line == line_of(text, "rule: {")


@pytest.mark.parametrize("bad", ["../../etc", "SA/x", "SA\\\\x", "S,A", "S|A", "SA..B", "SA:1", ".SA", "A" * 65])
def test_unsafe_codes_and_ids(bad):
    for old, new in (("code: SA", f'code: "{bad}"'), ("number: 2\n", f'number: 2\n        id: "{bad}"\n')):
        text = sub(old, new)
        plan, findings = parse(text)
        assert plan is None
        f = next(f for f in findings if f.code == "PLAN-ID")
        assert f.line == line_of(text, new.strip().splitlines()[-1].strip())


def test_safe_ids_are_accepted():
    plan, findings = parse(sub("code: SA", "code: AREA_1").replace("number: 2\n", "number: 2\n        id: A-2.b\n"))
    assert plan is not None and plan.sectors[0].code == "AREA_1", [str(f) for f in findings]


def test_text_longer_than_an_excel_cell():
    text = sub("title: Pagamenti", "title: " + "x" * 32_768)
    plan, findings = parse(text)
    assert plan is None
    f = only(findings, "PLAN-LIMIT")
    assert f.line == line_of(text, "title: xxx") and "32.767" in f.message
    assert "lungo 32.768 caratteri" in f.message  # every figure of a message in Italian: "." between thousands


def test_yaml_alias_bomb_is_refused_before_it_expands():
    lol = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, "
        f"*a{i - 1}, *a{i - 1}]\n" for i in range(1, 10))
    plan, findings = parse(lol + BASE.replace("plan_id: test-2025\n", ""))
    assert plan is None
    f = only(findings, "PLAN-LIMIT")
    assert f.line is not None and "alias" in f.message


def test_recursive_alias_and_odd_keys_are_yaml_errors():
    for text in ("a: &a [1, *a]\n" + BASE, BASE + "? [1, 2]\n: x\n", "[" * 5000 + "]" * 5000):
        plan, findings = parse(text)
        assert plan is None and codes(findings) in (["PLAN-YAML"], ["PLAN-SCHEMA"]), [str(f) for f in findings]


def test_a_few_aliases_are_fine():
    text = BASE.replace('target: "100%"', 'target: &t "100%"').replace('target: "<=0"', 'target: *t')
    plan, findings = parse(text)
    assert plan is not None and plan.indicators[-1].target_text == "100%", [str(f) for f in findings]


@pytest.mark.parametrize(("old", "new", "code"), [
    ("plan_id: test-2025", "plan_id: !!python/object/apply:os.system ['true']", "PLAN-YAML"),
    ("year: 2025", "year: 1e400", "PLAN-NUMBER"),
    ("number: 2\n", "number: 1e300\n", "PLAN-SCHEMA"),
    ("number: 2\n", "number: 2.5\n", "PLAN-SCHEMA"),
    ("number: 2\n", "number: 2\n        gate: [1]\n", "PLAN-SCHEMA"),
    ("categoria: C, unita: 1}", "categoria: C, unita: .nan}", "PLAN-NUMBER"),
    ("staff_total: 2", "staff_total: -.inf", "PLAN-NUMBER"),
    ("year: 2025\n", "year: 2025\nscoring: {gate_cap: .nan}\n", "PLAN-NUMBER"),
    ("code: SA", "code: [SA]", "PLAN-SCHEMA"),
])
def test_hostile_values_are_one_error_with_its_line(old, new, code):
    text = sub(old, new)
    plan, findings = parse(text)
    assert plan is None
    errors = [f for f in findings if f.severity == "error"]
    assert [f.code for f in errors] == [code], [str(f) for f in findings]
    assert errors[0].line == line_of(text, new.strip().splitlines()[-1].strip())
# --- the rule registry and the target grammar in the plan -----------------------------------------


def test_qualitative_target_is_a_judgement_of_the_nucleo_with_a_warning():
    text = sub('target: "<=0"', 'target: "Rispetto degli adempimenti"')
    plan, findings = parse(text)
    assert plan is not None
    f = only(findings, "PLAN-QUALITATIVE")
    assert (f.severity, f.line) == ("warning", line_of(text, "Rispetto degli adempimenti"))
    assert "SA-2.1" in f.message and "il Nucleo di Valutazione" in f.message
    ind = plan.indicators[-1]
    assert (ind.rule, ind.source) == (Rule("giudizio", unit="percent"), "nucleo")


@pytest.mark.parametrize("word", ["Determina", "Regolamento", "Approvazione", "Deliberazione", "Relazione"])
def test_a_one_word_deliverable_is_a_yes_no_with_a_warning(word):
    text = sub('target: "<=0"', f'target: "{word}"')
    plan, findings = parse(text)
    assert plan is not None, [str(f) for f in findings]
    f = only(findings, "PLAN-DELIVERABLE")
    assert (f.severity, f.line) == ("warning", line_of(text, word))
    assert f"«{word}»" in f.message and "Sì/No" in f.message and "entro il 30/06/" in f.message
    assert plan.indicators[-1].rule == Rule("yes_no", unit="yes_no")


def test_a_one_word_target_that_names_no_deliverable_is_refused():
    plan, findings = parse(sub('target: "<=0"', 'target: "Annuale"'))
    assert plan is None and "«annuale»" in only(findings, "PLAN-TARGET").message


def test_qualitative_target_with_a_stated_source():
    text = sub('target: "<=0"', 'target: "Rispetto degli adempimenti"\n            source: esterno')
    plan, findings = parse(text)
    assert plan.indicators[-1].source == "esterno"
    assert "una fonte esterna" in only(findings, "PLAN-QUALITATIVE").message


def test_an_explicit_giudizio_rule_is_not_warned_about():
    text = sub('target: "<=0"', 'target: "Rispetto degli adempimenti"\n            rule: {kind: giudizio}')
    plan, findings = parse(text)
    assert plan.indicators[-1].rule == Rule("giudizio", unit="percent")
    assert "PLAN-QUALITATIVE" not in codes(findings)


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("{kind: more_than, target: 5}", Rule("more_than", target=5.0)),
        ("{kind: less_than, unit: percent, target: 3%}", Rule("less_than", unit="percent", target=0.03)),
        ("{kind: equal, target: 100, tolerance: 5}", Rule("equal", target=100.0, tolerance=5.0)),
        ("{kind: decrease, decrease: 10%, baseline_year: 2024}", Rule("decrease", decrease=0.1, baseline_year=2024)),
        ("{kind: decrease, baseline: 60, target: 20, measure: giorni}",
         Rule("decrease", baseline=60.0, target=20.0, measure="giorni")),
        ("{kind: increase, increase: 5%, baseline: 1000, unit: amount}",
         Rule("increase", unit="amount", increase=0.05, baseline=1000.0)),
    ],
)
def test_explicit_rules_of_the_new_kinds(rule, expected):
    plan, findings = parse(sub('target: "<=0"', f'target: "<=0"\n            rule: {rule}'))
    assert plan is not None, [str(f) for f in findings]
    assert plan.indicators[-1].rule == expected


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("{kind: decrease, decrease: 150%}", "tra 0% e 100%"),
        ("{kind: decrease, target: 20}", "valore di partenza"),
        ("{kind: increase}", "richiede"),
        ("{kind: equal, target: 5, tolerance: -1}", "non può essere negativa"),
        ("{kind: deadline, deadline: 2025-12-31, unit: percent}", "«percent»"),
        ("{kind: at_least, target: .nan}", "numero finito"),
        ("{kind: at_least, target: .inf}", "numero finito"),
        ("{kind: at_least, target: 'inf'}", "numero finito"),
    ],
)
def test_explicit_rule_problems_name_the_line(rule, message):
    text = sub('target: "<=0"', f'target: "<=0"\n            rule: {rule}')
    plan, findings = parse(text)
    assert plan is None
    f = next(f for f in findings if f.code in ("PLAN-NUMBER", "PLAN-RULE", "PLAN-SCHEMA"))
    assert message in f.message
    assert f.line == line_of(text, "rule: {")


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf", "'nan'"])
def test_weights_must_be_finite(value):
    plan, findings = parse(sub("weight: 40", f"weight: {value}"))
    assert plan is None
    assert any(f.code == "PLAN-NUMBER" and "numero finito" in f.message for f in findings)


@pytest.mark.parametrize("value", ["2025-02-30", "2025-13-01", "2025-12-31 25:00:00", "2025-04-31T10:00:00Z"])
def test_an_impossible_date_is_a_finding_on_its_line_in_italian(value):
    """YAML reads 2025-02-30 as a date that does not exist: a PLAN-YAML error on its line, in Italian."""
    from piao_xls.plan.planfile import parse_plan

    text = f"comune: Prova\nyear: 2025\nreturn_deadline: {value}\n"
    plan, findings = parse_plan(text, "piano.yaml")
    assert plan is None
    (f,) = [f for f in findings if f.severity == "error"]
    assert f.code == "PLAN-YAML" and f.line == 3 and value in f.message and "inesistente" in f.message
    assert "out of range" not in f.message and "must be" not in f.message


# --- the kinds of the second round, as explicit rules ------------------------------------------------------

@pytest.mark.parametrize(("rule", "expected"), [
    ("{kind: rate, target: 1, every: 50, measure: sopralluogo, per: pratiche}",
     Rule("rate", target=1.0, every=50.0, measure="sopralluogo", per="pratiche")),
    ('{kind: maintain, unit: percent, baseline: "90%", tolerance: "2%"}',
     Rule("maintain", unit="percent", baseline=0.9, tolerance=0.02)),
    ("{kind: maintain, baseline_year: 2024}", Rule("maintain", baseline_year=2024)),
    ("{kind: duration, target: 18, measure: mesi}", Rule("duration", target=18.0, measure="mesi")),
])
def test_explicit_rules_of_the_second_round_kinds(rule, expected):
    plan, findings = parse(sub('target: "<=0"', f'target: "come stampato"\n            rule: {rule}'))
    assert plan is not None, [str(f) for f in findings]
    assert plan.indicators[-1].rule == expected


@pytest.mark.parametrize(("rule", "fragment"), [
    ("{kind: rate, target: 1}", "'every'"),
    ("{kind: rate, target: 1, every: 0}", "maggiore di 0"),
    ("{kind: duration, target: 3, measure: settimane}", "mesi o anni"),
    ("{kind: maintain, tolerance: -1}", "negativa"),
])
def test_explicit_rules_of_the_second_round_kinds_are_checked(rule, fragment):
    plan, findings = parse(sub('target: "<=0"', f'target: "come stampato"\n            rule: {rule}'))
    assert plan is None
    assert fragment in only(findings, "PLAN-RULE").message
