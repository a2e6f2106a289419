"""A small plan typed into the plan workbook template, and the same plan as YAML.

SAMPLE maps sheet -> cell -> value as a person enters it: text, numbers, "90%" and ISO dates
(the LibreOffice test profile is en-US, so ISO dates are read as dates). Filling the template
with SAMPLE must import as EXPECTED_YAML (same fingerprint).
"""

from __future__ import annotations

SAMPLE: dict[str, dict[str, object]] = {
    "Ente": {"B2": "Esempio", "B3": 2026, "B4": "PIAO 2026 - Performance", "B5": "Città Metropolitana di Milano"},
    "Settori": {
        "A2": "SF", "B2": "Finanziario", "C2": "SF - Finanziario", "D2": "Rossi Maria", "E2": "Rag.",
        "F2": "maria.rossi@example.it",
        "A3": "ST", "B3": "Tecnico", "C3": "ST - Tecnico", "D3": "Bianchi Luca", "E3": "Arch.",
    },
    "Uffici": {"A2": "SF", "B2": "Ufficio Ragioneria", "A3": "ST", "B3": "Ufficio Lavori Pubblici"},
    "Personale": {
        "A2": "SF", "B2": "Istruttore Amministrativo", "C2": "C", "D2": 2,
        "A3": "ST", "B3": "Istruttore Tecnico", "C3": "D", "D3": 1,
        "F2": "SF", "G2": 2,
    },
    "Attività": {"A2": "SF", "B2": "Gestione IVA;", "A3": "ST", "B3": "Manutenzione patrimonio comunale;"},
    "Obiettivi": {
        "A2": "SF", "B2": 1, "C2": "TRASPARENZA", "D2": 60, "E2": "Cittadini", "H2": "Costantemente nell'anno",
        "A3": "SF", "B3": 2, "C3": "RECUPERO EVASIONE", "D3": 40, "I3": "Gestione delle entrate tributarie",
        "A4": "ST", "B4": 1, "C4": "MANUTENZIONI", "D4": 100,
    },
    "Modalità": {"A2": "SF", "B2": 1, "C2": "Aggiornamento del sito", "D2": "Novembre"},
    "Indicatori": {
        "A2": "SF", "B2": 1, "C2": "Qualità", "D2": "% Procedimenti conclusi nei tempi", "E2": "100%",
        "A3": "SF", "B3": 1, "C3": "Tempestività", "D3": "Rispetto del cronoprogramma", "E3": "Novembre",
        "A4": "SF", "B4": 2, "C4": "Quantità", "D4": "Importo somme accertate / importo somme stanziate",
        "E4": "Accertamento del 100% delle somme stanziate nel Bilancio 2026",
        "A5": "ST", "B5": 1, "C5": "Tempestività", "D5": "Chiusura dei cantieri", "E5": "31/12/2026 31/12/2024",
        "F5": "scadenza", "L5": "2026-12-31",
        "A6": "ST", "B6": 1, "C6": "Qualità", "D6": "Sopralluoghi eseguiti", "E6": "dal 90% al 100% dei sopralluoghi",
        "F6": "intervallo", "G6": "percentuale", "J6": "90%", "K6": "100%", "P6": 2,
    },
}

EXPECTED_YAML = """\
comune: Esempio
year: 2026
title: PIAO 2026 - Performance
ente_sovraordinato: Città Metropolitana di Milano
sectors:
  - code: SF
    name: Finanziario
    short_name: SF - Finanziario
    responsabile: {name: Rossi Maria, title: Rag., email: maria.rossi@example.it}
    offices: [Ufficio Ragioneria]
    staff: [{qualifica: Istruttore Amministrativo, categoria: C, unita: 2}]
    staff_total: 2
    activities: ["Gestione IVA;"]
    objectives:
      - number: 1
        title: TRASPARENZA
        weight: 60
        stakeholder: Cittadini
        tempi: Costantemente nell'anno
        steps: [{text: Aggiornamento del sito, tempi: Novembre}]
        indicators:
          - {profilo: Qualità, description: "% Procedimenti conclusi nei tempi", target: "100%"}
          - {profilo: Tempestività, description: Rispetto del cronoprogramma, target: Novembre}
      - number: 2
        title: RECUPERO EVASIONE
        weight: 40
        programma: Gestione delle entrate tributarie
        indicators:
          - profilo: Quantità
            description: Importo somme accertate / importo somme stanziate
            target: Accertamento del 100% delle somme stanziate nel Bilancio 2026
  - code: ST
    name: Tecnico
    short_name: ST - Tecnico
    responsabile: {name: Bianchi Luca, title: Arch.}
    offices: [Ufficio Lavori Pubblici]
    staff: [{qualifica: Istruttore Tecnico, categoria: D, unita: 1}]
    activities: ["Manutenzione patrimonio comunale;"]
    objectives:
      - number: 1
        title: MANUTENZIONI
        weight: 100
        indicators:
          - profilo: Tempestività
            description: Chiusura dei cantieri
            target: 31/12/2026 31/12/2024
            rule: {kind: deadline, deadline: 2026-12-31}
          - profilo: Qualità
            description: Sopralluoghi eseguiti
            target: dal 90% al 100% dei sopralluoghi
            rule: {kind: range, unit: percent, low: "90%", high: "100%"}
            weight: 2
"""
