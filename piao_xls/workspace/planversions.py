"""The plan's recorded versions, read from the ledger (``versions``) and ``piano/versioni/`` (see versions.py).

Kept apart from :mod:`piao_xls.workspace.versions` so that checking a received file (year.py) can read a form of
an earlier version on it without importing the module that records revisions.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ..core.errors import ERROR, Finding
from ..core.model import Plan
from ..core.revisions import Act, PlanVersion
from ..plan.load import check_plan
from .ledger import Ledger

FOLDER = Path("piano") / "versioni"


class VersionError(Exception):
    """A version cannot be recorded or read: ``findings`` say why, in Italian (nothing was written)."""

    def __init__(self, findings: list[Finding]):
        self.findings = list(findings)
        super().__init__("\n".join(f.message for f in self.findings))


@dataclass(frozen=True)
class Recorded:
    """A version as the ledger records it (the plan not loaded)."""

    number: int
    path: Path
    fingerprint: str
    sha256: str
    act: Act


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def recorded(ledger: Ledger) -> list[Recorded]:
    """The versions the ledger records, in order (a number recorded twice: the first row counts)."""
    out: dict[int, Recorded] = {}
    for r in ledger.versions():
        if r["number"] in out:
            continue
        out[r["number"]] = Recorded(r["number"], ledger.path.resolve().parent / r["path"], r["fingerprint"], r["sha256"],
                                    Act(r["act"], date.fromisoformat(r["act_date"]), r["reason"]))
    return [out[n] for n in sorted(out)]


def _load(rec: Recorded) -> PlanVersion:
    where = str(rec.path)
    if not rec.path.is_file():
        raise VersionError([Finding("REV-PLAN", ERROR, f"manca il file della versione {rec.number} del piano "
                                    f"({rec.path}): ripristinarlo dalla copia di sicurezza dell'area di lavoro",
                                    file=where)])
    if sha256_of(rec.path) != rec.sha256:
        raise VersionError([Finding("REV-PLAN", ERROR, f"il file della versione {rec.number} del piano ({rec.path}) "
                                    "è stato modificato dopo la registrazione: ripristinarlo dalla copia di "
                                    "sicurezza; una modifica del piano si registra con «piao-xls piano revisione»",
                                    file=where)])
    key = (str(rec.path), rec.sha256)
    if key not in _LOADED:
        plan, findings = check_plan(rec.path)
        if plan is None:
            raise VersionError([f for f in findings if f.severity == ERROR])
        _LOADED[key] = plan
    return PlanVersion(rec.number, _LOADED[key], rec.act)


_LOADED: dict[tuple[str, str], Plan] = {}  # (file, SHA-256) -> plan: a recorded version is read once per process


def versions(ledger: Ledger) -> list[PlanVersion]:
    """Every recorded version with its plan, in order ([] when the adoption is not recorded)."""
    return [_load(r) for r in recorded(ledger)]


def in_force(ledger: Ledger, plan: Plan) -> PlanVersion | None:
    """The recorded version ``plan`` is (None when it is none of them)."""
    return next((v for v in reversed(versions(ledger)) if v.fingerprint == plan.fingerprint), None)


def earlier(ledger: Ledger, plan: Plan) -> list[PlanVersion]:
    """The recorded versions other than ``plan`` (the one in force), oldest first: a return made on one of
    them is read on it and carried over (returns/versions.py). [] without recorded versions."""
    return [v for v in versions(ledger) if v.fingerprint != plan.fingerprint]


def usable_versions(ledger: Ledger) -> list[PlanVersion]:
    """:func:`versions`, or [] when a version's file is missing or changed: checking a received file then reads it
    on the plan in force only (``piano versioni`` and ``consolida`` say what is wrong with the versions)."""
    try:
        return versions(ledger)
    except VersionError:
        return []
