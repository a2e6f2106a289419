"""`generate`: write the workbooks for a plan (the all-sector one, one per sector, one per source)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ..core.gcpause import paused_gc
from ..core.model import Plan
from ..core.rounds import RoundReturn
from .layout import WorkbookLayout, plan_workbooks
from .layoutcache import keep_sector_sheet


class RefuseOverwrite(Exception):
    """An output file exists and holds (or may hold) values filled in by a person."""


@dataclass(frozen=True)
class Generated:
    path: str
    kind: str
    sectors: tuple[str, ...]
    source: str
    size: int


def _render(args: tuple[WorkbookLayout, str]) -> bytes:
    from .writer import render

    book, password = args
    return render(book, password)


def generate(plan: Plan, out_dir: str | Path = "output", password: str = "", jobs: int = 1,
             keep: Callable[[Path], str | None] | None = None, version: str = "") -> list[Generated]:
    """Write every workbook into ``out_dir/<year>/``.

    ``keep(path)`` is asked about each file that already exists and returns why it must not be
    overwritten (or None): the caller decides, e.g. with
    :func:`piao_xls.returns.reader.why_keep` (a file that already holds filled-in values). ``version``: the plan
    version and its act, written in each form's Istruzioni sheet and properties (docs/revisions.md).
    """
    with paused_gc():  # see piao_xls.core.gcpause
        return _generate(plan, Path(out_dir) / str(plan.year), password, jobs, keep, version)


def _generate(plan: Plan, target: Path, password: str, jobs: int,
              keep: Callable[[Path], str | None] | None, version: str = "") -> list[Generated]:
    from ..sheetio.atomic import write_bytes_atomic

    books = plan_workbooks(plan, version)
    sectors = {s.code: s for s in plan.sectors}
    for sheet in (s for b in books if b.kind == "sector" for s in b.sheets if s.kind == "sector"):
        keep_sector_sheet(plan, sectors[sheet.sector_code or ""], sheet)  # built once: the returns are read on it
    if keep is not None:
        problems = [why for b in books if (target / b.filename).exists() and (why := keep(target / b.filename))]
        if problems:
            raise RefuseOverwrite("; ".join(problems) + ". Spostare i file altrove o usare --force.")
    args = [(b, password) for b in books]
    if jobs > 1 and len(books) > 1:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            blobs = list(pool.map(_render, args))
    else:
        blobs = [_render(a) for a in args]
    out = []
    for book, data in zip(books, blobs, strict=False):
        path = target / book.filename
        write_bytes_atomic(path, data)
        out.append(Generated(str(path), book.kind, book.sector_codes, book.source, len(data)))
    return out


def round_prefill(plan: Plan, returns: Iterable[RoundReturn]) -> dict[str, dict[str, object]]:
    """The inputs of a round's forms prefilled from the previous round's returns (sector code, or ``source:<name>``
    for a source's form -> input key -> value as a person would type it)."""
    from ..core.answers import NOT_YET
    from ..core.rounds import CAUSE_IT, REVISION_IT, STATE_IT, RoundState
    from .layout import round_key

    out: dict[str, dict[str, object]] = {}
    for r in returns:
        mine = out.setdefault(r.sector if r.source == "responsabile" else f"source:{r.source}", {})
        for ind_id, values in r.values.items():
            for name, v in values.items():
                if ind_id in r.not_yet:
                    v = NOT_YET
                mine[f"{ind_id}|{name}"] = ("Sì" if v else "No") if isinstance(v, bool) else v
        mine.update(r.texts)
        for obj_id, rep in r.reports.items():
            got: dict[str, object] = {
                "stato": STATE_IT[rep.state] if rep.state != RoundState.NOT_REPORTED else None,
                "avanzamento": rep.progress, "causa": CAUSE_IT[rep.cause] if rep.cause else None,
                "azione": rep.action, "evidenze": rep.evidence}
            if rep.revision is not None:
                got.update(revisione=REVISION_IT[rep.revision.kind], nuovo=rep.revision.value,
                           motivo=rep.revision.reason)
            mine.update({round_key(obj_id, k): v for k, v in got.items() if v not in (None, "")})
    return out


def _render_prefilled(args: tuple[WorkbookLayout, str, dict[str, object] | None]) -> bytes:
    from .writer import render

    book, password, prefill = args
    return render(book, password, prefill or None)


def generate_round(plan: Plan, as_of: date, target: str | Path, password: str = "",
                   previous: Iterable[RoundReturn] = (),
                   keep: Callable[[Path], str | None] | None = None) -> list[Generated]:
    """Write the forms of the monitoring round at ``as_of`` into ``target`` (the round's folder), prefilled from
    the ``previous`` round's returns."""
    from ..sheetio.atomic import write_bytes_atomic
    from .layout import round_workbooks

    target = Path(target)
    books = round_workbooks(plan, as_of)
    if keep is not None:
        problems = [why for b in books if (target / b.filename).exists() and (why := keep(target / b.filename))]
        if problems:
            raise RefuseOverwrite("; ".join(problems) + ". Spostare i file altrove o usare --force.")
    fill = round_prefill(plan, previous)
    out = []
    with paused_gc():
        for book in books:
            key = book.sector_codes[0] if book.kind == "sector" else f"source:{book.source}"
            data = _render_prefilled((book, password, fill.get(key)))
            path = target / book.filename
            write_bytes_atomic(path, data)
            out.append(Generated(str(path), book.kind, book.sector_codes, book.source, len(data)))
    return out
