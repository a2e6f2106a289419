"""Load a plan from any of its forms: a YAML plan file or a plan workbook (.xlsx, .ods)."""

from __future__ import annotations

from pathlib import Path

from ..core.errors import ERROR, Finding, PlanError
from ..core.model import Plan
from ..sheetio.filekind import plan_advice, sniff_file
from ..sheetio.oserrors import os_reason
from . import cache
from .planfile import bundled_plan_path, parse_plan


def check_plan(path: str | Path, read: list | None = None) -> tuple[Plan | None, list[Finding]]:
    """Read and validate a plan file: YAML, or a plan workbook (.xlsx, .ods; see planbook.py).
    ``read`` receives (indicator, place) for every target read, even when the plan has errors."""
    path = Path(path)
    try:
        kind = sniff_file(path)
    except OSError as e:
        return None, [Finding("PLAN-YAML", ERROR, f"impossibile leggere il file del piano: {os_reason(e)}",
                              file=str(path))]
    if kind not in ("text", "xlsx", "ods"):  # a PDF, a Word file, an .xls...: say what it is, and what to do
        return None, [Finding("PLAN-YAML", ERROR, plan_advice(kind), file=str(path))]
    if kind in ("xlsx", "ods") or path.suffix.lower() in (".xlsx", ".xlsm", ".ods"):
        from .planbook import check_book  # imported when needed: a YAML plan's commands start faster

        return check_book(path, read=read)
    try:
        data = path.read_bytes()
        # what read_text does: UTF-8, universal newlines
        text = data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    except (OSError, UnicodeDecodeError) as e:
        return None, [Finding("PLAN-YAML", ERROR, f"impossibile leggere il file del piano: {os_reason(e)}",
                              file=str(path))]
    if read is not None:  # the caller wants every target as it is read: parse
        return parse_plan(text, str(path), read=read)
    cached = cache.load(data, str(path))  # verified (see plan/cache.py); None when absent or not valid
    if cached is not None:
        return cached
    plan, findings = parse_plan(text, str(path))
    if plan is not None:
        cache.store(data, str(path), plan, findings)
    return plan, findings


def load_plan(path: str | Path | None = None) -> Plan:
    """Read a plan file (default: the bundled plan); raise :class:`PlanError` on errors."""
    plan, findings = check_plan(path or bundled_plan_path())
    if plan is None:
        raise PlanError(findings)
    return plan
