"""Load a plan from any of its forms: a YAML plan file or a plan workbook (.xlsx, .ods)."""

from __future__ import annotations

from pathlib import Path

from ..core.errors import ERROR, Finding, PlanError
from ..core.model import Plan
from .planbook import check_book
from .planfile import bundled_plan_path, parse_plan


def check_plan(path: str | Path) -> tuple[Plan | None, list[Finding]]:
    """Read and validate a plan file: YAML, or a plan workbook (.xlsx, .ods; see planbook.py)."""
    path = Path(path)
    if path.suffix.lower() in (".xlsx", ".xlsm", ".ods"):
        return check_book(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        return None, [Finding("PLAN-YAML", ERROR, f"impossibile leggere il file del piano: {e}", file=str(path))]
    return parse_plan(text, str(path))


def load_plan(path: str | Path | None = None) -> Plan:
    """Read a plan file (default: the bundled plan); raise :class:`PlanError` on errors."""
    plan, findings = check_plan(path or bundled_plan_path())
    if plan is None:
        raise PlanError(findings)
    return plan
