"""Target texts -> rules (piao_xls.core.targets): every phrase of the bundled plan, every rule kind."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from piao_xls.core.model import Rule
from piao_xls.core.targets import TargetError, explain_it, inputs_for, interpret, parse_date

# --- the phrases printed in the seed (every distinct `target:` of the bundled plan) --------------


def test_hundred_percent_is_at_least_one():
    r = interpret("100%", "% Procedimenti conclusi nel rispetto dei tempi di legge/ regolamento", 2025)
    # a ratio in the description ("legge/ regolamento") without "importo"/"somme" is NOT a fraction
    assert (r.kind, r.unit) == ("at_least", "percent")
    assert r.target == pytest.approx(100 / 100)


def test_hundred_percent_with_invoice_ratio_description_stays_at_least():
    # SA-4.2 etc.: the description is a ratio of counts, the person types the percentage
    r = interpret("100%", "% Fatture commerciali liquidate dal Settore entro 15 gg./ Totale fatture ricevute", 2025)
    assert r.kind == "at_least"
    assert r.target == pytest.approx(1.0)


def test_less_or_equal_zero_is_at_most_zero():
    r = interpret("<=0", "Indicatore di ritardo medio annuale dei pagamenti", 2025)
    assert (r.kind, r.unit, r.target, r.worst) == ("at_most", "number", 0.0, None)


def test_range_with_unicode_signs():
    r = interpret("90% ≤ x ≤ 100%", "% di dipendenti del Settore che hanno completato la formazione", 2025)
    assert (r.kind, r.unit) == ("range", "percent")
    assert r.low == pytest.approx(90 / 100)
    assert r.high == pytest.approx(100 / 100)


def test_range_with_ascii_signs_and_numbers():
    r = interpret("10 <= x <= 20")
    assert (r.kind, r.unit, r.low, r.high) == ("range", "number", 10.0, 20.0)


def test_range_low_above_high_is_an_error():
    with pytest.raises(TargetError, match="limite inferiore"):
        interpret("100% ≤ x ≤ 90%")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Novembre", date(2025, 11, 30)),  # November has 30 days
        ("Dicembre", date(2025, 12, 31)),
        ("Entro il 31/12/2025", date(2025, 12, 31)),
        ("entro il 31/12/2025", date(2025, 12, 31)),
        ("entro dicembre 2025", date(2025, 12, 31)),
        ("entro il 30/6/2025", date(2025, 6, 30)),
        ("31.12.2025", date(2025, 12, 31)),
        ("31-dic-25", date(2025, 12, 31)),
    ],
)
def test_deadline_phrases(text, expected):
    r = interpret(text, "Rispetto dei tempi del cronoprogramma", 2025)
    assert (r.kind, r.unit) == ("deadline", "date")
    assert r.deadline == expected


def test_bare_month_takes_the_plan_year():
    assert interpret("Novembre", year=2026).deadline == date(2026, 11, 30)
    # an explicit year wins over the plan year
    assert interpret("entro dicembre 2025", year=2026).deadline == date(2025, 12, 31)


def test_accertamento_with_ratio_description_is_a_fraction():
    r = interpret(
        "Accertamento del 100% delle somme stanziate nel Bilancio 2025",
        "Importo somme accertate da recupero evasione/ importo somme stanziate da recupero evasione",
        2025,
    )
    assert (r.kind, r.unit) == ("fraction", "percent")
    assert r.target == pytest.approx(100 / 100)


def test_accertamento_without_ratio_description_is_not_understood():
    # the fraction reading depends on the description naming numerator/denominator
    with pytest.raises(TargetError):
        interpret("Accertamento del 100% delle somme stanziate nel Bilancio 2025", "Somme accertate", 2025)


def test_av6_increase_over_2024():
    text = ("0 (Riportare i dati del 2024, come termine di raffronto. Il target 2025 dovrebbe essere "
            "il 60% in più rispetto al 2024)")
    r = interpret(text, "aumento 60% servizi visibilità pattuglie sul territorio", 2025)
    assert r.kind == "increase"
    assert r.increase == pytest.approx(60 / 100)
    assert r.baseline_year == 2024


def test_plus_sign_increase():
    r = interpret("+25% rispetto al 2023")
    assert (r.kind, r.baseline_year) == ("increase", 2023)
    assert r.increase == pytest.approx(0.25)


def test_percent_rispetto_without_increase_word_is_not_an_increase():
    with pytest.raises(TargetError):
        interpret("60% rispetto al 2024")


@pytest.mark.parametrize(
    ("description", "unit"),
    [
        ("Somme impegnate/liquidate per la realizzazione degli interventi;", "amount"),
        ("% di dipendenti formati", "percent"),
        ("Numero di controlli", "number"),
    ],
)
def test_empty_target_is_informative(description, unit):
    r = interpret("", description, 2025)
    assert r.kind == "informative"
    assert r.unit == unit
    assert not r.scored


def test_whitespace_only_target_is_informative():
    assert interpret("   \n ", "x").kind == "informative"


# --- the other rule kinds and operators ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "unit", "target"),
    [
        (">= 80%", "at_least", "percent", 80 / 100),
        ("≥ 80%", "at_least", "percent", 80 / 100),
        ("> 5", "more_than", "number", 5.0),  # strictly more: not "at least" (issue 12)
        ("50", "at_least", "number", 50.0),
        ("< 30 giorni", "less_than", "number", 30.0),  # strictly less
        ("<= 30 giorni", "at_most", "number", 30.0),
        ("=< 2,5", "at_most", "number", 2.5),
        ("≤ 10%", "at_most", "percent", 10 / 100),
        ("1000 €", "at_least", "amount", 1000.0),
        ("<= 500 euro", "at_most", "amount", 500.0),
    ],
)
def test_comparisons(text, kind, unit, target):
    r = interpret(text)
    assert (r.kind, r.unit) == (kind, unit)
    assert r.target == pytest.approx(target)


@pytest.mark.parametrize("text", ["Sì", "si", "SI/NO", "Realizzato", "raggiunto"])
def test_yes_no(text):
    r = interpret(text)
    assert (r.kind, r.unit) == ("yes_no", "yes_no")


@pytest.mark.parametrize(
    "text",
    ["boh", "31/02/2025", "entro il 31/02/2025", "Novembre e Dicembre", "100% circa"],
)
def test_uninterpretable_raises_target_error(text):
    with pytest.raises(TargetError) as e:
        interpret(text, "Rispetto dei tempi", 2025)
    # the message quotes the text; the plan loader tells the author where to state the rule
    assert text in str(e.value)


def test_an_uninterpretable_target_says_where_to_state_the_rule_in_yaml_and_in_a_workbook():
    from piao_xls.plan.planfile import parse_plan

    text = (Path(__file__).resolve().parents[1] / "templates" / "truccazzano-2025.yaml").read_text(encoding="utf-8")
    _, findings = parse_plan(text.replace('target: "Novembre"', 'target: "circa 30 pratiche"', 1), "p.yaml")
    f = next(f for f in findings if f.code == "PLAN-TARGET")
    assert "«circa 30 pratiche»" in f.message and "rule: {kind:" in f.message


@pytest.mark.parametrize("text", ["entro le tempistiche previste dalla normativa", "Costantemente nell'anno"])
def test_qualitative_targets_are_a_judgement_not_an_error(text):
    assert interpret(text, "Rispetto dei tempi", 2025) == Rule("giudizio", unit="percent")


def test_target_error_is_a_value_error():
    assert issubclass(TargetError, ValueError)


# --- parse_date ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "year", "expected"),
    [
        ("31.12.2025", 2025, date(2025, 12, 31)),
        ("31/12/2025", 2025, date(2025, 12, 31)),
        ("30/6/2025", 2025, date(2025, 6, 30)),
        ("31-12-25", 2025, date(2025, 12, 31)),  # two-digit year -> 20yy
        ("31-dic-25", 2025, date(2025, 12, 31)),
        ("15 marzo 2026", 2025, date(2026, 3, 15)),
        ("2025-12-31", 2025, date(2025, 12, 31)),  # ISO, e.g. a quoted YAML date
        ("Novembre", 2025, date(2025, 11, 30)),
        ("aprile", 2025, date(2025, 4, 30)),
        ("gennaio", 2025, date(2025, 1, 31)),
        ("Febbraio", 2025, date(2025, 2, 28)),
        ("Febbraio", 2024, date(2024, 2, 29)),  # 2024 is a leap year: 2024 % 4 == 0
        ("febbraio", 2100, date(2100, 2, 28)),  # 2100 % 100 == 0 and % 400 != 0: not a leap year
        ("entro dicembre 2025", 2030, date(2025, 12, 31)),
        ("Rendiconto entro il 30.04.2025", 2025, date(2025, 4, 30)),
    ],
)
def test_parse_date(text, year, expected):
    assert parse_date(text, year) == expected


@pytest.mark.parametrize("text", ["", "Annuale", "Continuo / Annuale", "31/02/2025", "32.01.2025", "mar-25"])
def test_parse_date_none(text):
    assert parse_date(text, 2025) is None


# --- inputs_for: what the person fills in ---------------------------------------------------------


def _names_units(rule: Rule, year: int = 2025):
    return [(i.name, i.unit) for i in inputs_for(rule, year)]


def test_inputs_at_least_percent():
    (spec,) = inputs_for(interpret("100%"), 2025)
    assert (spec.name, spec.unit, spec.min, spec.max) == ("value", "percent", 0.0, 1.0)
    assert "%" in spec.label


def test_inputs_percent_max_follows_a_target_above_100():
    (spec,) = inputs_for(Rule("at_least", unit="percent", target=1.2), 2025)
    assert spec.max == pytest.approx(1.2)


def test_inputs_range_percent():
    (spec,) = inputs_for(interpret("90% ≤ x ≤ 100%"), 2025)
    assert (spec.name, spec.unit, spec.min, spec.max) == ("value", "percent", 0.0, 1.0)


def test_inputs_at_most_number_is_unbounded():
    # the payment-delay indicator can be negative (paid early)
    (spec,) = inputs_for(interpret("<=0"), 2025)
    assert (spec.name, spec.unit, spec.min, spec.max) == ("value", "number", None, None)


def test_inputs_amount():
    (spec,) = inputs_for(interpret("1000 €"), 2025)
    assert (spec.name, spec.unit, spec.min) == ("value", "amount", 0.0)
    assert "€" in spec.label


def test_inputs_deadline():
    assert _names_units(interpret("Novembre")) == [("date", "date")]


def test_inputs_yes_no():
    assert _names_units(interpret("Sì")) == [("value", "yes_no")]


def test_inputs_fraction():
    rule = interpret("Accertamento del 100% delle somme stanziate nel Bilancio 2025",
                     "Importo somme accertate/ importo somme stanziate")
    specs = inputs_for(rule, 2025)
    assert [(i.name, i.unit, i.min) for i in specs] == [("numerator", "amount", 0.0), ("denominator", "amount", 0.0)]
    assert "Numeratore" in specs[0].label and "Denominatore" in specs[1].label


def test_inputs_increase_names_the_years():
    specs = inputs_for(Rule("increase", increase=0.6, baseline_year=2024), 2025)
    assert [(i.name, i.unit) for i in specs] == [("baseline", "number"), ("current", "number")]
    assert "2024" in specs[0].label and "2025" in specs[1].label


def test_inputs_increase_without_baseline_year_uses_previous_year():
    specs = inputs_for(Rule("increase", increase=0.1), 2025)
    assert "2024" in specs[0].label  # 2025 - 1


def test_inputs_informative_still_has_a_value_cell():
    # informative indicators are reported, only not scored
    assert _names_units(interpret("", "Somme impegnate/liquidate")) == [("value", "amount")]


# --- explain_it: Italian text ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (Rule("at_least", unit="percent", target=1.0), "almeno 100%"),
        (Rule("at_least", unit="percent", target=0.955), "almeno 95,5%"),  # Italian decimal comma
        (Rule("at_most", unit="number", target=0.0), "al massimo 0"),
        (Rule("range", unit="percent", low=0.9, high=1.0), "tra 90% e 100%"),
        (Rule("deadline", unit="date", deadline=date(2025, 11, 30)), "entro il 30/11/2025"),
        (Rule("yes_no", unit="yes_no"), "Sì"),
        (Rule("fraction", unit="percent", target=1.0), "rapporto numeratore/denominatore almeno 100%"),
        (Rule("increase", increase=0.6, baseline_year=2024), "+60% rispetto al 2024"),
        (Rule("informative"), "indicatore informativo, non valutato"),
    ],
)
def test_explain_it(rule, expected):
    assert explain_it(rule) == expected


def test_memoised_reading_still_follows_the_description():
    """The grammar is memoised per text; the targets whose reading depends on the description are not shared."""
    assert interpret("Indicatore informativo", "% di pratiche", 2025).unit == "percent"
    assert interpret("Indicatore informativo", "numero di pratiche", 2025).unit == "number"
    text = "Accertamento del 100% delle somme stanziate"
    assert interpret(text, "Importo accertato / importo stanziato", 2025).kind == "fraction"
    with pytest.raises(TargetError):
        interpret(text, "Indicatore 1", 2025)
    assert interpret(text, "Importo accertato / importo stanziato", 2025).kind == "fraction"
    # the same text in another year is read again (a month is the last day of the plan year)
    assert interpret("Novembre", "", 2025).deadline == date(2025, 11, 30)
    assert interpret("Novembre", "", 2026).deadline == date(2026, 11, 30)
