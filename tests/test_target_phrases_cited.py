"""Targets and indicators quoted from published plans, each with its source, and what the grammar makes of them.

``tests/fixtures/target_phrases_cited.csv`` holds one row per phrase: the phrase exactly as published (a line of a
table, or the target cell; rst markup of the repository copy removed: emphasis, links, escapes), the expected
reading (the non-default fields of the Rule as JSON, dates as ISO strings, or ``{"refused": fragment}``: the
grammar must refuse it naming the fragment), the document, where it was read (a URL, or a file of a public
repository at a fixed commit), and the year the target is for (blank where the page does not say). The plan year
of the reading is 2025 throughout.

What was found, honestly: the public material that could be consulted while writing this table holds few
indicator tables of comuni. Of the 242 rows, 222 come from one national plan with many indicator tables (AgID,
Piano Triennale per l'informatica nella PA 2020-2022 and 2024-2026, read in its public repository: the «Target
20xx» lines of both editions, each distinct phrase once, leaving out the few that go on in a nested list); 20 from
other published plans: two comuni's Piani della performance (Perosa Argentina 2016-2018, and one not named on the
page), a Nucleo di Valutazione's 2020 summary of an ente locale's PEG objectives, the 2024 final monitoring of the
Comune di Lamezia Terme (as transcribed in a public repository), the Portale della performance and a ministry's
Piano degli indicatori. Only 13 rows come from comuni (or their Nucleo): that is the gap this table leaves. The
169 phrases of ``TABLE_2`` in test_target_grammar.py remain written for the test in the style of the schede
obiettivo; ``ATTESTED`` below links 12 of them to the published phrase of the same class that this table cites
(the class is the same, not the phrase).

Every reading was checked by hand when the row was added: a refused phrase is refused for a reason a careful
reader would share (two conditions, a baseline the text does not give, words that are not a target), and no
phrase is read with a meaning it does not have.
"""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pytest
from test_target_grammar import TABLE_2

from piao_xls.core.model import Rule
from piao_xls.core.targets import TargetError, read_target

CSV = Path(__file__).parent / "fixtures" / "target_phrases_cited.csv"
ROWS = list(csv.DictReader(CSV.open(encoding="utf-8", newline="")))
REPOSITORY = "https://github.com/italia/pianotriennale-ict-doc/blob/"


def _expected(spec: dict) -> Rule:
    fields = {k: (date.fromisoformat(v) if k == "deadline" else v) for k, v in spec.items()}
    return Rule(**fields)


@pytest.mark.parametrize("row", ROWS, ids=[f"{i}:{r['phrase'][:40]}" for i, r in enumerate(ROWS)])
def test_a_published_phrase_is_read_as_expected(row):
    spec = json.loads(row["expected"])
    if "refused" in spec:
        with pytest.raises(TargetError) as e:
            read_target(row["phrase"], "", 2025)
        assert spec["refused"].lower() in str(e.value).lower()
        assert str(e.value).startswith("target «")
    else:
        assert read_target(row["phrase"], "", 2025).rule == _expected(spec)


def test_every_row_names_its_document_and_where_it_was_read():
    assert len(ROWS) == 242
    assert len({r["phrase"] for r in ROWS}) == len(ROWS)
    for r in ROWS:
        assert r["phrase"].strip() == r["phrase"] and r["phrase"]
        assert r["document"].strip()
        assert r["source"].startswith("https://")
        assert r["target_year"] == "" or 2015 <= int(r["target_year"]) <= 2026
        if r["source"].startswith(REPOSITORY):  # a file of the repository at a fixed commit
            commit, path = r["source"][len(REPOSITORY):].split("/", 1)
            assert len(commit) == 40 and path.endswith(".rst")


def test_the_table_is_mostly_read_and_every_kind_of_answer_is_there():
    specs = [json.loads(r["expected"]) for r in ROWS]
    kinds = {s.get("kind", "refused") for s in specs}
    assert {"at_least", "equal", "deadline", "increase", "yes_no", "giudizio", "informative", "refused"} <= kinds
    read = sum("refused" not in s for s in specs)
    assert read == 119 and len(specs) - read == 123
    # from comuni (or a comune's Nucleo) in particular
    comuni = [r for r in ROWS if "comune" in r["document"].lower() or "nucleo" in r["document"].lower()]
    assert len(comuni) == 13


# TABLE_2 phrase (written for the test) -> the published phrase of the same class cited in the CSV
ATTESTED = {
    "Pubblicazione del bando (entro il 30/09/2025)": "Pubblicazione sito (entro il 31/12/2024)",
    "Adozione del piano (entro il 31/01/2025)": "Migrazione contenuti (entro il 31/10/2024)",
    "non oltre il 30.06.2025": "entro il 30.09.2016",
    "nei giorni 3-5 ottobre": "per i giorni 14- 16 giugno 2016",
    "Determina": "Determina",
    "almeno il 75% delle segnalazioni ricevute nel 2025": "Almeno il 30% dei dati documentati nel portale per ciascuna PA",
    "almeno tre incontri": "Almeno due iniziative coordinate di implementazione del piano operativo.",
    "uguale o superiore all'80%": "maggiore o uguale a 90,00%",
    "incremento degli utenti serviti da 300 a 350":
        "Aumento del 15% del numero dei dataset documentati per ogni amministrazione rispetto al 2024",
    "almeno dieci controlli e almeno cinque verbali":
        "Il 50% delle Regioni e il 10% dei Comuni aderenti espongono i propri servizi su IO.",
    "copertura del 70% delle utenze servite": "Distribuzione degli IoC al 30% delle PA",
    "ore di formazione per dipendente: almeno 8":
        "Baseline: almeno 80 PA utilizzano i modelli standard di sviluppo web disponibili.",
}


@pytest.mark.parametrize(("written", "published"), list(ATTESTED.items()))
def test_a_class_of_table_2_is_attested_by_a_published_phrase(written, published):
    """Both phrases are in their tables and get the same kind of answer (the same rule kind, or both refused)."""
    by_phrase = {r["phrase"]: json.loads(r["expected"]) for r in ROWS}
    assert published in by_phrase
    assert written in {row[0] for row in TABLE_2}

    def answer(text: str) -> str:
        try:
            return read_target(text, "", 2025).rule.kind
        except TargetError as e:
            return "refused: two conditions" if "due condizioni" in str(e) else "refused"
    assert answer(written) == answer(published)
    assert by_phrase[published].get("kind", "refused") == answer(published).split(":")[0]
