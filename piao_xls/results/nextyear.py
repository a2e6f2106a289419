"""Next year's plan from this year's results: the validated values of an evaluation (or of the JSON written by
``consolidate --json-file``) become next year's baselines (:mod:`piao_xls.core.nextyear`), and the draft is written
as a plan workbook, like any plan (it imports back as the same plan)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ..core.evaluation import Evaluation, IndicatorStatus
from ..core.model import Plan
from ..core.nextyear import Draft, draft_next_year
from ..plan.planbook import check_book, export_bytes
from ..sheetio.atomic import write_bytes_atomic
from .export import ResultsError, from_json


class NextYearError(Exception):
    """The draft cannot be made (Italian message)."""


def validated_values(ev: Evaluation) -> dict[str, Mapping[str, object]]:
    """Indicator id -> the values scored (after the Nucleo's corrections), for the indicators scored."""
    out: dict[str, Mapping[str, object]] = {}
    for sr in ev.sectors:
        for orr in sr.objectives:
            for ir in orr.indicators:
                if ir.status is IndicatorStatus.SCORED and ir.scored is not None:
                    out[ir.indicator_id] = ir.scored
    return out


def values_from_json(path: str | Path, plan: Plan) -> dict[str, Mapping[str, object]]:
    """The same, from the JSON of ``consolidate --json-file`` (checked to be of ``plan``)."""
    path = Path(path)
    try:
        data = from_json(path.read_text(encoding="utf-8"), plan)
    except (OSError, UnicodeDecodeError) as e:
        raise NextYearError(f"{path}: file dei risultati illeggibile ({e})") from e
    except ResultsError as e:
        raise NextYearError(f"{path}: {e}") from e
    return {r["indicator"]: r.get("actual_values") or {} for r in data.get("indicators", [])
            if r.get("status") == IndicatorStatus.SCORED.value}


def write_draft(plan: Plan, values: Mapping[str, Mapping[str, object]], path: str | Path) -> Draft:
    """Draft next year's plan and write it as a plan workbook at ``path``; the workbook must import back as the
    draft (same fingerprint), else nothing is left behind."""
    draft = draft_next_year(plan, values)
    path = Path(path)
    write_bytes_atomic(path, export_bytes(draft.plan))
    again, findings = check_book(path)
    if again is None or again.fingerprint != draft.plan.fingerprint:
        path.unlink(missing_ok=True)
        errors = "; ".join(f.message for f in findings if f.severity == "error")[:400]
        raise NextYearError(f"la bozza del piano {draft.plan.year} non si rilegge come scritta ({errors or 'impronta'})"
                            ": segnalare il problema")
    return draft
