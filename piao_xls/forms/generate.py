"""`generate`: write the workbooks for a plan (the all-sector one, one per sector, one per source)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ..core.gcpause import paused_gc
from ..core.model import Plan
from .layout import WorkbookLayout, plan_workbooks


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
