"""A monitoring round in the workspace: where its forms, returns and report go, and reading its returns.

A round is named by its date. Its forms go into ``moduli/<year>/monitoraggio-<date>/``, its returns are the
workbooks in ``ricevuti/monitoraggio-<date>/`` (and any file or folder given), its report into ``risultati/``.
Which round a returned file belongs to is decided by the file's own document properties, never by its folder
or name: a form of another round, or a year-end form, is refused (``WB-IDENTITY``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ..core.model import Plan
from ..core.rounds import Round, RoundEvaluation, RoundReturn, evaluate_round, parse_key
from ..returns.batch import expand_paths
from ..returns.monitoring import read_round_workbook, round_returns
from ..returns.reader import WorkbookResult
from .settings import Settings
from .year import OUTPUT

ROUND_PREFIX = "monitoraggio-"


def round_of(plan: Plan, as_of: date) -> Round:
    return Round(as_of, plan.plan_id, plan.year)


def forms_folder(settings: Settings | None, plan: Plan, as_of: date, out_dir: str | Path | None = None) -> Path:
    """Where a round's forms go: ``<moduli or out_dir or output>/<year>/monitoraggio-<date>/``."""
    base = Path(out_dir) if out_dir else settings.folder("moduli") if settings is not None else OUTPUT
    return base / str(plan.year) / round_of(plan, as_of).folder


def returns_folder(settings: Settings | None, as_of: date) -> Path | None:
    """Where the clerk puts a round's returns in a workspace: ``ricevuti/monitoraggio-<date>/`` (None outside)."""
    return settings.folder("ricevuti") / f"{ROUND_PREFIX}{as_of.isoformat()}" if settings is not None else None


def report_file(settings: Settings | None, plan: Plan, as_of: date, suffix: str = ".xlsx") -> Path:
    folder = settings.folder("risultati") if settings is not None else OUTPUT / f"{plan.year}-risultati"
    return folder / f"PIAO-{plan.year}-Monitoraggio-{as_of:%d-%m-%Y}{suffix}"


def known_rounds(settings: Settings | None, plan: Plan) -> list[date]:
    """The rounds of the year whose forms or returns are in the workspace, in order."""
    if settings is None:
        return []
    found: set[date] = set()
    for base in (settings.folder("moduli") / str(plan.year), settings.folder("ricevuti")):
        if base.is_dir():
            for child in base.iterdir():
                if child.is_dir() and child.name.startswith(ROUND_PREFIX):
                    d = parse_key(child.name[len(ROUND_PREFIX):])
                    if d is not None and d.year == plan.year:
                        found.add(d)
    return sorted(found)


@dataclass
class RoundRead:
    """The returns of one round: every file read (with its findings) and the returns they give."""

    round: Round
    results: list[WorkbookResult]
    returns: list[RoundReturn]
    skipped: list[str]


def read_round(plan: Plan, as_of: date, paths: Sequence[str | Path]) -> RoundRead:
    """Read the returned forms of a round (files or folders, read recursively); a file of another round, or of the
    year end, is a rejected result naming its round, never one of this round's returns."""
    files, skipped = _files(paths)
    results = [read_round_workbook(f, plan, as_of) for f in files]
    returns = [r for res in results if res.sectors for r in round_returns(res, plan)]
    return RoundRead(round_of(plan, as_of), results, returns, skipped)


def _files(paths: Sequence[str | Path]) -> tuple[list[Path], list[str]]:
    """The workbooks among ``paths`` (folders read with their sub-folders) and what else was there."""
    books, others = expand_paths([Path(p) for p in paths if Path(p).exists()])
    return books, [str(p) for p in paths if not Path(p).exists()] + [str(o) for o in others]


def round_paths(settings: Settings | None, as_of: date, given: Iterable[str]) -> list[str]:
    """The files to read for a round: those given, else the round's folder of returns in the workspace."""
    given = list(given)
    if given:
        return given
    folder = returns_folder(settings, as_of)
    return [str(folder)] if folder is not None and folder.is_dir() else []


def evaluate_rounds(settings: Settings | None, plan: Plan, as_of: date, paths: Sequence[str],
                    previous_paths: Sequence[str] = ()) -> tuple[RoundEvaluation, RoundRead, RoundRead | None]:
    """The round at ``as_of`` evaluated on its returns, with the change since the previous round (the latest round
    before it in the workspace, or the files given as ``previous_paths``)."""
    prev_eval: RoundEvaluation | None = None
    prev_read: RoundRead | None = None
    earlier = [d for d in known_rounds(settings, plan) if d < as_of]
    if previous_paths or earlier:
        prev_date = earlier[-1] if earlier else None
        if previous_paths and prev_date is None:
            prev_date = _round_in(previous_paths, plan)
        if prev_date is not None:
            prev_read = read_round(plan, prev_date, round_paths(settings, prev_date, previous_paths))
            prev_eval = evaluate_round(plan, prev_read.round, prev_read.returns)
    read = read_round(plan, as_of, paths)
    return evaluate_round(plan, read.round, read.returns, prev_eval), read, prev_read


def previous_returns(settings: Settings | None, plan: Plan, as_of: date) -> tuple[date | None, list[RoundReturn]]:
    """The returns of the latest round before ``as_of`` in the workspace (to prefill the new round's forms)."""
    earlier = [d for d in known_rounds(settings, plan) if d < as_of]
    if not earlier:
        return None, []
    paths = round_paths(settings, earlier[-1], ())
    if not paths:
        return earlier[-1], []
    read = read_round(plan, earlier[-1], paths)
    from ..core.rounds import choose_returns

    return earlier[-1], list(choose_returns(read.returns).values())


def _round_in(paths: Sequence[str | Path], plan: Plan) -> date | None:
    """The round of the first readable monitoring form among ``paths`` (its document properties)."""
    from ..forms.layout import ROUND_PROPERTY
    from ..returns.reader import read_properties

    files, _ = _files(paths)
    for f in files:
        try:
            props, _saved = read_properties(f)
        except Exception:  # an unreadable file says nothing about its round
            continue
        d = parse_key(props.get(ROUND_PROPERTY, ""))
        if d is not None and d.year == plan.year:
            return d
    return None
