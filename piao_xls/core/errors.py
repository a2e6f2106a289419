"""Structured findings with stable codes.

Every user-facing problem is a :class:`Finding` with a code from :data:`CODES`, a severity,
a message that says what to do, and where it is: plan file and line, or workbook sheet and cell.
Every message a person reads is Italian: plan findings (for whoever transcribes the PIAO) and workbook
findings (for the Responsabili and the Nucleo di Valutazione).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

ERROR = "error"
WARNING = "warning"
#: severities in Italian, for what people read (JSON keeps the English tokens above)
SEVERITY_IT = {ERROR: "errore", WARNING: "avviso"}

@dataclass(frozen=True)
class ErrorCode:
    """One code of the registry: ``title`` is Italian (feedback notes, the summary), ``description`` English."""

    code: str
    title: str
    description: str

    def __str__(self) -> str:
        return self.description


#: Every code piao-xls can emit: its Italian title (what people read next to the code) and an English
#: description for developers. docs/errors.md is generated from it (:func:`codes_table`).
CODES: dict[str, ErrorCode] = {c.code: c for c in (
    ErrorCode("PLAN-YAML", "Piano non leggibile",
              "the plan file is not valid YAML"),
    ErrorCode("PLAN-SCHEMA", "Dato del piano mancante o di tipo errato",
              "a required field is missing or has the wrong type"),
    ErrorCode("PLAN-UNKNOWN-KEY", "Chiave sconosciuta",
              "a key the plan format does not know (often a typo)"),
    ErrorCode("PLAN-WEIGHTS", "Pesi degli obiettivi",
              "objective weights of a sector do not sum to 100"),
    ErrorCode("PLAN-DUPLICATE-ID", "Codice ripetuto",
              "two sectors, objectives or indicators share an id"),
    ErrorCode("PLAN-TARGET", "Target non interpretabile",
              "a target text cannot be interpreted as a rule"),
    ErrorCode("PLAN-RULE", "Regola incompleta o incoerente",
              "an explicit rule is incomplete or inconsistent"),
    ErrorCode("PLAN-SHEET-NAME", "Nome del foglio non valido",
              "a sector short name is not a legal Excel sheet name"),
    ErrorCode("PLAN-SCORING", "Regole di punteggio non valide",
              "the scoring policy is invalid"),
    ErrorCode("PLAN-NO-TARGET", "Indicatore senza target",
              "an indicator has no target: it is informative, not scored"),
    ErrorCode("PLAN-QUALITATIVE", "Target qualitativo",
              "a qualitative target: scored as a motivated judgement (giudizio) by the plan's source"),
    ErrorCode("PLAN-UNSCORED-OBJECTIVE", "Obiettivo senza indicatori valutabili",
              "an objective has no scored indicator: its weight is left out of the score"),
    ErrorCode("PLAN-YEAR", "Anno da verificare",
              "a date in a card refers to a year before the plan year"),
    ErrorCode("PLAN-STAFF-TOTAL", "Totale del personale",
              "the printed staff total differs from the sum of the rows"),
    ErrorCode("PLAN-REFERENCE", "Riferimento inesistente",
              "a row of a plan workbook points to a sector or objective that does not exist"),
    ErrorCode("PLAN-NO-INDICATOR", "Obiettivo senza indicatori",
              "an objective has no indicator: it is not measurable (named, never dropped silently)"),
    ErrorCode("PLAN-NOT-EVALUABLE", "Settore non valutabile",
              "a sector has nothing measurable: it will be 'non valutabile' (no score, no band)"),
    ErrorCode("PLAN-NUMBER", "Numero non finito",
              "a number of the plan is not finite (NaN, infinity)"),
    ErrorCode("PLAN-ID", "Codice non ammesso",
              "a sector code, objective or indicator id or plan id is not a safe identifier"),
    ErrorCode("PLAN-LIMIT", "Limite superato",
              "a text longer than an Excel cell holds, or YAML aliases that expand too much"),
    ErrorCode("PLAN-TARGET-FORMULA", "Target scritto come formula",
              "a target cell of the plan workbook holds a formula (\"=90%\"): read as what its author sees, said "
              "so; refused (PLAN-TARGET) when that cannot be known"),
    ErrorCode("PLAN-DELIVERABLE", "Target di una sola parola",
              "a one-word target naming a deliverable (\"Determina\", \"Regolamento\"): read as yes/no, to be "
              "confirmed by the author"),
    # the plan-quality report (plan check --qualita, docs/plan-quality.md): warnings unless the plan's
    # quality.errors setting lists them
    ErrorCode("QUAL-NO-INDICATOR", "Obiettivo senza indicatori",
              "quality report: an objective has no indicator, so it is not measurable"),
    ErrorCode("QUAL-QUALITATIVE-ONLY", "Obiettivo con soli indicatori qualitativi",
              "quality report: every indicator of an objective is a qualitative judgement (giudizio)"),
    ErrorCode("QUAL-NO-TARGET", "Indicatore senza target",
              "quality report: an indicator has no target (informative)"),
    ErrorCode("QUAL-NO-SOURCE", "Indicatore senza fonte del dato",
              "quality report: an indicator does not say where its datum comes from (data_source)"),
    ErrorCode("QUAL-NO-UNIT", "Indicatore senza unità di misura",
              "quality report: a numeric target with no unit or measure (50 what?)"),
    ErrorCode("QUAL-NOT-BETTER", "Target non migliore del valore di partenza",
              "quality report: the target is no better than the value of the year before (previous)"),
    ErrorCode("QUAL-MAINTENANCE", "Target di mantenimento",
              "quality report: the target asks to maintain the level reached, not to improve it"),
    ErrorCode("QUAL-ROUTINE", "Obiettivo che descrive l'attività ordinaria",
              "quality report: an objective worded as routine duties, or repeating the sector's attività "
              "consolidata"),
    ErrorCode("QUAL-FLAT-WEIGHTS", "Pesi che non distinguono gli obiettivi",
              "quality report: every objective of a sector has the same weight (from quality.flat_weights_from)"),
    ErrorCode("QUAL-OBJECTIVES-COUNT", "Numero di obiettivi del settore",
              "quality report: a sector has fewer or more objectives than quality.min/max_objectives"),
    ErrorCode("QUAL-DEADLINE-YEAR", "Scadenza fuori dall'anno del piano",
              "quality report: a deadline falls outside the plan's year"),
    ErrorCode("QUAL-DEADLINE-ADOPTION", "Scadenza precedente l'adozione del piano",
              "quality report: a deadline falls before the plan's adoption (quality.adopted)"),
    ErrorCode("QUAL-NO-DUP", "Nessun collegamento con il bilancio (DUP)",
              "quality report: no objective names its DUP missione/programma (flagged once per plan)"),
    ErrorCode("WB-OPEN", "File non apribile",
              "the file cannot be opened as a workbook"),
    ErrorCode("WB-UNSAFE", "File rifiutato per sicurezza",
              "the file was refused before reading: too big, zip bomb, macros, XML entities, inconsistent zip"),
    ErrorCode("WB-IDENTITY", "File di un altro piano o modulo",
              "the workbook does not belong to this plan, year or layout version"),
    ErrorCode("WB-TAMPERED", "Modulo alterato",
              "a locked cell, row or sheet differs from what the plan lays out"),
    ErrorCode("WB-VALUE", "Valore non valido",
              "an input value is not valid for its indicator"),
    ErrorCode("WB-FORMULA", "Formula in una cella da compilare",
              "a formula was typed into an input cell"),
    ErrorCode("WB-MISSING", "Valore mancante",
              "a scored indicator has no value (non rendicontato)"),
    ErrorCode("WB-ANALYSIS", "Analisi degli scostamenti mancante",
              "achievement below 100%, or a value 'non disponibile', without an 'Analisi scostamenti'"),
    ErrorCode("WB-NOT-AVAILABLE", "Valore non disponibile",
              "a value declared 'non disponibile' (with its reason): scored 0 and reported as such"),
    ErrorCode("WB-DIV-ZERO", "Denominatore pari a zero",
              "a denominator is zero"),
    ErrorCode("WB-CONFLICT", "File in conflitto",
              "two files give different values for the same sector"),
    ErrorCode("WB-NOT-RECEIVED", "Modulo non pervenuto",
              "no submission for a sector (non pervenuto)"),
    ErrorCode("WB-SKIPPED", "File ignorato",
              "a file in the input folders is not a workbook"),
    ErrorCode("DEC-INVALID", "Decisione non applicata",
              "a decision of the Nucleo is incomplete, names an unknown objective or indicator, or corrects "
              "a value that was not the one reported: not applied"),
    # plan versions and revisions (docs/revisions.md)
    ErrorCode("REV-PLAN", "Revisione di un altro piano",
              "a revision names another plan id, year or comune than the plan in force: not recorded"),
    ErrorCode("REV-DATE", "Data della revisione non valida",
              "a revision dated before the plan's adoption or before the version it revises: not recorded"),
    ErrorCode("REV-NO-CHANGE", "Revisione senza modifiche",
              "a revision identical to the version in force: not recorded"),
    ErrorCode("REV-REMOVED-REPORTED", "Obiettivo già rendicontato tolto",
              "a revision removes an objective whose sector has already returned its form: not recorded"),
    ErrorCode("REV-NO-ADOPTION", "Adozione del piano non registrata",
              "a revision before the plan's adoption (act and date) is recorded in the workspace"),
    ErrorCode("REV-OLD-VERSION", "Modulo di una versione precedente del piano",
              "a returned form was made on a superseded version of the plan: the values of unchanged indicators "
              "carry over, the others are asked for again (an error when any is)"),
    ErrorCode("REV-LATE", "Obiettivo assegnato o modificato in ritardo",
              "the plan was adopted, or an objective added or changed by a revision, after the settings' cut-off "
              "or after a deadline it measures: flagged to the Nucleo"),
    ErrorCode("HIST-FILE", "Risultati di un anno precedente non utilizzabili",
              "a results file of an earlier year (storico/ or --storico) is unreadable, not results of this version "
              "of piao-xls, of another comune, not of an earlier year, or a second file for one year: left out, the "
              "other years are shown"),
    ErrorCode("MAIL-SENDER", "Mittente non previsto",
              "a returned file was sent by someone who is not the sector's Responsabile nor a delegate"),
    ErrorCode("MAIL-FROM", "Mittente non determinabile",
              "the From: header is missing, repeated, defective, encoded-only or ambiguous (a display name carrying "
              "another address): the message has no sender, its files are set aside"),
    ErrorCode("MAIL-PEC", "Busta PEC non certificata",
              "a message that looks like a PEC envelope (daticert.xml, postacert.eml) whose structure or S/MIME "
              "signature does not verify: read as an ordinary message from its From: address"),
    ErrorCode("MAIL-LIMIT", "Messaggio oltre i limiti",
              "a message over a limit (size, parts, nesting, attachments, forwards) is not opened; recorded"),
    ErrorCode("MAIL-UNREADABLE", "Messaggio non leggibile",
              "a message that could not be read or parsed; recorded, the other messages are read"),
)}


def quote_sheet(name: str) -> str:
    """A sheet name as Excel writes it in a reference: quoted, with any apostrophe doubled."""
    return "'" + name.replace("'", "''") + "'"


@dataclass(frozen=True)
class Location:
    """Where a finding is: a plan file and line, or a workbook (file) with sheet and cell."""

    file: str | None = None
    line: int | None = None
    sheet: str | None = None
    cell: str | None = None

    @property
    def ref(self) -> str:
        """The Excel reference: "'SF - Finanziario'!F87", "'O''Brien'" (sheet only), or ""."""
        if self.sheet is None:
            return ""
        return f"{quote_sheet(self.sheet)}!{self.cell}" if self.cell else quote_sheet(self.sheet)

    def __str__(self) -> str:
        """'plan.yaml:12', "book.xlsx: 'Sheet'!A1", "'Sheet'!A1" or the file name."""
        if self.sheet is not None:
            return f"{self.file}: {self.ref}" if self.file else self.ref
        if self.file is not None:
            return f"{self.file}:{self.line}" if self.line else self.file
        return ""

    def italian(self) -> str:
        """The place in words, for notes to people: 'foglio «SF - Finanziario», cella F87'."""
        if self.sheet is None:
            return f"riga {self.line}" if self.line else ""
        return f"foglio «{self.sheet}», cella {self.cell}" if self.cell else f"foglio «{self.sheet}»"


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str
    message: str
    file: str | None = None
    line: int | None = None
    sheet: str | None = None
    cell: str | None = None
    sector: str | None = None  # the sector(s) a finding of a consolidation concerns ("SF", "SA,SF")

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"unknown finding code {self.code!r}")
        if self.severity not in (ERROR, WARNING):
            raise ValueError(f"unknown severity {self.severity!r}")

    @property
    def location(self) -> Location:
        return Location(self.file, self.line, self.sheet, self.cell)

    @property
    def where(self) -> str:
        """'plan.yaml:12' or "book.xlsx: 'SF - Finanziario'!F87" or the file name (see :class:`Location`)."""
        return str(self.location)

    @property
    def title(self) -> str:
        """The code's Italian title (e.g. «Valore non valido»)."""
        return CODES[self.code].title

    @property
    def severity_it(self) -> str:
        """The severity as the command line and the notes print it: «errore» or «avviso»."""
        return SEVERITY_IT[self.severity]

    def __str__(self) -> str:
        where = self.where
        return f"{where}: {self.severity_it} {self.code}: {self.message}" if where else (
            f"{self.severity_it} {self.code}: {self.message}"
        )

    def to_dict(self, **extra: object) -> dict[str, object]:
        """The one serialisation of a finding (JSON, CSV, summary rows): its fields, the Excel
        reference ``ref`` and the place in words ``where`` ("" when not known), plus ``extra``."""
        d = asdict(self)
        if d["sector"] is None:  # known only in a consolidation
            del d["sector"]
        loc = self.location
        d["ref"] = loc.ref
        d["where"] = loc.italian()
        d.update(extra)
        return d


def codes_table() -> str:
    """The Markdown table of every code, for docs/errors.md (tests/test_docs.py keeps the file equal to it)."""
    rows = ["# Error codes", "",
            "Generated from `piao_xls/core/errors.py`; regenerate with",
            "`python3 -c 'from piao_xls.core.errors import codes_table; print(codes_table(), end=\"\")' > docs/errors.md`.",
            "", "| code | for | title (Italian, as people read it) | meaning |", "|---|---|---|---|"]
    for code, entry in CODES.items():
        prefix = code.split("-")[0]
        scope = {"PLAN": "plan", "WB": "returned workbook", "DEC": "the Nucleo's decisions",
                 "MAIL": "mail", "REV": "plan versions"}.get(prefix, prefix.lower())
        rows.append(f"| `{code}` | {scope} | {entry.title} | {entry.description} |")
    return "\n".join(rows) + "\n"


class PlanError(Exception):
    """Raised when a plan has errors; carries every finding (errors and warnings)."""

    def __init__(self, findings: list[Finding]):
        self.findings = list(findings)
        errors = [f for f in self.findings if f.severity == ERROR]
        head = "\n".join(str(f) for f in errors[:20])
        more = f"\n... and {len(errors) - 20} more" if len(errors) > 20 else ""
        super().__init__(f"the plan has {len(errors)} error(s):\n{head}{more}")
