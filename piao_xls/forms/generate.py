"""`generate`: write the workbooks for a plan (the all-sector one, one per sector, one per source)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ..core.gcpause import paused_gc
from ..core.model import Plan
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
             keep: Callable[[Path], str | None] | None = None) -> list[Generated]:
    """Write every workbook into ``out_dir/<year>/``.

    ``keep(path)`` is asked about each file that already exists and returns why it must not be
    overwritten (or None): the caller decides, e.g. with
    :func:`piao_xls.returns.reader.why_keep` (a file that already holds filled-in values).
    """
    with paused_gc():  # see piao_xls.core.gcpause
        return _generate(plan, Path(out_dir) / str(plan.year), password, jobs, keep)


def _generate(plan: Plan, target: Path, password: str, jobs: int,
              keep: Callable[[Path], str | None] | None) -> list[Generated]:
    from ..sheetio.atomic import write_bytes_atomic

    books = plan_workbooks(plan)
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
