"""`generate`: write the workbooks for a plan (the all-sector one, one per sector, one per source)."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from .gcpause import paused_gc
from .layout import WorkbookLayout, plan_workbooks
from .model import Plan


class RefuseOverwrite(Exception):
    """An output file exists and holds (or may hold) values filled in by a person."""


@dataclass(frozen=True)
class Generated:
    path: str
    kind: str
    sectors: tuple[str, ...]
    source: str
    size: int


def _holds_values(path: Path, plan: Plan) -> str | None:
    """Why an existing file must not be overwritten, or None when it is safe to."""
    from .reader import read_workbook

    res = read_workbook(path, plan)
    filled = sum(s.filled for s in res.sectors.values())
    if filled:
        return f"{path} already holds {filled} filled-in value(s)"
    if any(f.code in ("WB-IDENTITY", "WB-TAMPERED") and f.severity == "error" for f in res.findings):
        return f"{path} exists and cannot be checked against this plan (it may hold filled-in values)"
    return None


def _render(args: tuple[WorkbookLayout, str]) -> bytes:
    from .writer import render

    book, password = args
    return render(book, password)


def generate(plan: Plan, out_dir: str | Path = "output", password: str = "", force: bool = False,
             jobs: int = 1) -> list[Generated]:
    """Write every workbook into ``out_dir/<year>/``; refuse to overwrite filled files unless ``force``."""
    with paused_gc():  # see piao_xls.gcpause
        return _generate(plan, Path(out_dir) / str(plan.year), password, force, jobs)


def _generate(plan: Plan, target: Path, password: str, force: bool, jobs: int) -> list[Generated]:
    from .atomic import write_bytes_atomic

    books = plan_workbooks(plan)
    if not force:
        problems = [why for b in books if (target / b.filename).exists()
                    and (why := _holds_values(target / b.filename, plan))]
        if problems:
            raise RefuseOverwrite("; ".join(problems) + ". Move the file(s) away or use --force.")
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
