"""A hand-computed scenario on the bundled plan's Finanziario sector (SF), shared by tests.

Expected scores are worked out by hand below, from docs/scoring.md, not from the code.
"""

from __future__ import annotations

from datetime import date

# Input key -> value, as a Responsabile would fill the SF sheet.
SF_VALUES = {
    "SF-1.1|value": 0.90,          # at_least 100%            -> 0.90
    "SF-1.2|date": date(2025, 11, 15),  # deadline 30/11/2025  -> 1 (on time)
    "SF-3.1|value": 1.0,           # at_least 100%            -> 1
    "SF-4.1|value": -3.0,          # at_most 0 (days)         -> 1
    "SF-4.2|value": 0.95,          # at_least 100%            -> 0.95
    "SF-5.1|value": 0.85,          # range 90%..100%, below   -> 0.85 / 0.90
    "SF-6.1|numerator": 150000.0,  # fraction 150000/200000 = 0.75, at_least 100% -> 0.75
    "SF-6.1|denominator": 200000.0,
    "SF-7.1|value": 1.0,
    "SF-8.1|value": 1.0,
    "SF-9.1|value": 1.0,
}
SF_ANALYSES = {  # required wherever an indicator scores below 100%
    "SF-1.1|analisi": "Due procedimenti conclusi oltre i termini per carenza di personale.",
    "SF-4.2|analisi": "Alcune fatture pervenute incomplete.",
    "SF-5.1|analisi": "Un dipendente in congedo per parte dell'anno.",
    "SF-6.1|analisi": "=HYPERLINK(\"http://example.invalid\",\"accertamenti in corso\")",  # text, never a formula
}
NUCLEO_VALUES = {"SF-2.1|value": 0.80, "SF-2.1|analisi": "Aggiornamenti non sempre tempestivi."}

# Objective points (weight x achievement), by hand:
#   SF-1: 10 x (0.90 + 1) / 2     =  9.5
#   SF-2: 10 x 0.80 (Nucleo)      =  8.0
#   SF-3: 10 x 1                  = 10.0
#   SF-4: 10 x (1 + 0.95) / 2     =  9.75
#   SF-5: 10 x 0.85 / 0.90        =  9.444444444...
#   SF-6: 20 x 0.75               = 15.0
#   SF-7, SF-8, SF-9: 10 each     = 30.0
SF_EXPECTED_POINTS = {"SF-1": 9.5, "SF-2": 8.0, "SF-3": 10.0, "SF-4": 9.75, "SF-5": 85 / 90 * 10, "SF-6": 15.0,
                      "SF-7": 10.0, "SF-8": 10.0, "SF-9": 10.0}
SF_EXPECTED_SCORE = 9.5 + 8 + 10 + 9.75 + 85 / 90 * 10 + 15 + 30  # = 91.69444..., band B (>= 90, < 95)
SF_EXPECTED_BAND = "B"
# Without the Nucleo's value SF-2.1 is "non rendicontato" and scores 0: 91.69444 - 8 = 83.69444, band C.
SF_EXPECTED_SCORE_WITHOUT_NUCLEO = SF_EXPECTED_SCORE - 8.0

# A plan of one yes/no indicator (the spellings of yes and no, and how they print)
YN_PLAN = """\
comune: Prova
year: 2025
sectors:
  - code: YN
    name: Prova
    short_name: YN - Prova
    responsabile: {name: Mario Rossi}
    objectives:
      - number: 1
        title: ADEMPIMENTO
        weight: 100
        indicators:
          - description: Adempimento realizzato
            target: "Sì"
            rule: {kind: yes_no}
"""


LONG_TEXT = ("Predisposizione  degli atti, verifica delle posizioni\n- controllo delle banche dati (https://dati."
             "comune.it/archivio?anno=2025&tipo=ici) e  bonifica;\n\n") * 40


def long_text_plan(plan):
    """The bundled plan with the first SF objective, an activity and an office made of texts longer than Excel's
    tallest row (cut over rows by the layout)."""
    from dataclasses import replace

    sector = plan.sector("SF")
    objectives = list(sector.objectives)
    first = objectives[0]
    objectives[0] = replace(first, stakeholder=LONG_TEXT + " fine", impatto="Impatto " + LONG_TEXT,
                            steps=(replace(first.steps[0], text=LONG_TEXT.strip() + "."), *first.steps[1:]))
    sector = replace(sector, objectives=tuple(objectives), activities=(*sector.activities, "Attività " + LONG_TEXT),
                     offices=(*sector.offices, "Ufficio " + LONG_TEXT))
    return replace(plan, sectors=tuple(sector if s.code == "SF" else s for s in plan.sectors))
