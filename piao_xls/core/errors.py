"""Structured findings with stable codes.

Every user-facing problem is a :class:`Finding` with a code from :data:`CODES`, a severity,
a message that says what to do, and where it is: plan file and line, or workbook sheet and cell.
Plan findings are for the finance office (English); workbook findings reach the Responsabili
and the Nucleo di Valutazione, so their messages are Italian.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

ERROR = "error"
WARNING = "warning"

#: Every code piao-xls can emit, with a one-line description (documented in README).
CODES: dict[str, str] = {
    # plan file
    "PLAN-YAML": "the plan file is not valid YAML",
    "PLAN-SCHEMA": "a required field is missing or has the wrong type",
    "PLAN-UNKNOWN-KEY": "a key the plan format does not know (often a typo)",
    "PLAN-WEIGHTS": "objective weights of a sector do not sum to 100",
    "PLAN-DUPLICATE-ID": "two sectors, objectives or indicators share an id",
    "PLAN-TARGET": "a target text cannot be interpreted as a rule",
    "PLAN-RULE": "an explicit rule is incomplete or inconsistent",
    "PLAN-SHEET-NAME": "a sector short name is not a legal Excel sheet name",
    "PLAN-SCORING": "the scoring policy is invalid",
    "PLAN-NO-TARGET": "an indicator has no target: it is informative, not scored",
    "PLAN-UNSCORED-OBJECTIVE": "an objective has no scored indicator: its weight is left out of the score",
    "PLAN-YEAR": "a date in a card refers to a year before the plan year",
    "PLAN-STAFF-TOTAL": "the printed staff total differs from the sum of the rows",
    "PLAN-REFERENCE": "a row of a plan workbook points to a sector or objective that does not exist",
    # returned workbooks
    "WB-OPEN": "the file cannot be opened as a workbook",
    "WB-UNSAFE": "the file was refused before reading: too big, zip bomb, macros, XML entities, inconsistent zip",
    "WB-IDENTITY": "the workbook does not belong to this plan, year or layout version",
    "WB-TAMPERED": "a locked cell, row or sheet differs from what the plan lays out",
    "WB-VALUE": "an input value is not valid for its indicator",
    "WB-FORMULA": "a formula was typed into an input cell",
    "WB-MISSING": "a scored indicator has no value (non rendicontato)",
    "WB-ANALYSIS": "achievement below 100%, or a value 'non disponibile', without an 'Analisi scostamenti'",
    "WB-NOT-AVAILABLE": "a value declared 'non disponibile' (with its reason): scored 0 and reported as such",
    "WB-DIV-ZERO": "a denominator is zero",
    "WB-CONFLICT": "two files give different values for the same sector",
    "WB-NOT-RECEIVED": "no submission for a sector (non pervenuto)",
    "WB-SKIPPED": "a file in the input folders is not a workbook",
}


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str
    message: str
    file: str | None = None
    line: int | None = None
    sheet: str | None = None
    cell: str | None = None

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"unknown finding code {self.code!r}")
        if self.severity not in (ERROR, WARNING):
            raise ValueError(f"unknown severity {self.severity!r}")

    @property
    def where(self) -> str:
        """'plan.yaml:12' or "'SF - Finanziario'!F87" or the file name."""
        if self.sheet is not None:
            ref = f"'{self.sheet}'!{self.cell}" if self.cell else f"'{self.sheet}'"
            return f"{self.file}: {ref}" if self.file else ref
        if self.file is not None:
            return f"{self.file}:{self.line}" if self.line else self.file
        return ""

    def __str__(self) -> str:
        where = self.where
        return f"{where}: {self.severity} {self.code}: {self.message}" if where else (
            f"{self.severity} {self.code}: {self.message}"
        )

    def to_dict(self) -> dict:
        return asdict(self)


class PlanError(Exception):
    """Raised when a plan has errors; carries every finding (errors and warnings)."""

    def __init__(self, findings: list[Finding]):
        self.findings = list(findings)
        errors = [f for f in self.findings if f.severity == ERROR]
        head = "\n".join(str(f) for f in errors[:20])
        more = f"\n... and {len(errors) - 20} more" if len(errors) > 20 else ""
        super().__init__(f"the plan has {len(errors)} error(s):\n{head}{more}")
