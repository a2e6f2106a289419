"""Many returned files at once: the files a list of paths names, read in one or more processes."""

from __future__ import annotations

import gc
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from ..core.model import Plan
from .reader import WORKBOOK_SUFFIXES, WorkbookResult, read_workbook


def expand_paths(paths: list[str | Path]) -> tuple[list[Path], list[Path]]:
    """Files and folders (recursed) -> (workbook files, other files), both sorted, no duplicates."""
    books, others, seen = [], [], set()
    for p in paths:
        p = Path(p)
        items = sorted(x for x in p.rglob("*") if x.is_file()) if p.is_dir() else [p]
        for f in items:
            key = f.resolve()
            if key in seen:
                continue
            seen.add(key)
            if f.name.startswith(("~$", ".~lock")) or f.name.startswith("."):
                others.append(f)
            elif f.suffix.lower() in WORKBOOK_SUFFIXES:
                books.append(f)
            else:
                others.append(f)
    return books, others


_WORKER: dict = {}


def _init_worker(plan: Plan, limits, keep_raw: bool) -> None:
    # sent once per worker, so its layout cache is reused
    _WORKER["plan"], _WORKER["limits"], _WORKER["keep_raw"] = plan, limits, keep_raw
    gc.disable()  # a worker lives for one batch: see piao_xls.core.gcpause


def _read_one(path: Path, plan: Plan, limits, keep_raw: bool) -> WorkbookResult:
    res = read_workbook(path, plan, limits)
    return res if keep_raw else res.release()


def _read_in_worker(path: Path) -> WorkbookResult:
    return _read_one(path, _WORKER["plan"], _WORKER["limits"], _WORKER["keep_raw"])


def read_all(files: list[Path], plan: Plan, jobs: int = 1, limits=None, progress=None,
             keep_raw: bool = False) -> list[WorkbookResult]:
    """Read ``files`` (in ``jobs`` processes), in order. ``progress(done, total)`` is called after each file.

    Unless ``keep_raw``, each result is released (:meth:`WorkbookResult.release`) as soon as it is
    read: memory holds the values, texts and findings of every file, not their raw cells.
    """
    total = len(files)
    out: list[WorkbookResult] = []
    if jobs > 1 and total >= max(8, 2 * jobs):  # below that a pool costs more than it saves
        with ProcessPoolExecutor(max_workers=min(jobs, total), initializer=_init_worker,
                                 initargs=(plan, limits, keep_raw)) as pool:
            for res in pool.map(_read_in_worker, files, chunksize=max(1, min(16, total // (jobs * 8)))):
                out.append(res)
                if progress:
                    progress(len(out), total)
        return out
    for f in files:
        out.append(_read_one(f, plan, limits, keep_raw))
        if progress:
            progress(len(out), total)
    return out
