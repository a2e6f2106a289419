"""Many returned files at once: the files a list of paths names, read in one or more processes."""

from __future__ import annotations

import gc
import os
import stat
from collections.abc import Sequence
from pathlib import Path

from ..core.errors import ERROR, Finding
from ..core.model import Plan
from ..core.revisions import PlanVersion
from .reader import REJECTED, WORKBOOK_SUFFIXES, WorkbookResult, read_workbook
from .versions import read_on_versions, settle


class RefusedPath(type(Path())):  # type: ignore[misc]  # the concrete Path class of this system
    """An inbox entry that is not read: not a regular file, or a link leading outside the folder given.

    :func:`read_all` gives it a result with one ``WB-OPEN`` finding (``refusal``) without opening it.
    """

    refusal = ""


def _refused(path: Path, why: str) -> RefusedPath:
    out = RefusedPath(path)
    out.refusal = why
    return out


def _classify(f: Path, books: list, others: list) -> None:
    if f.name.startswith(("~$", ".~lock")) or f.name.startswith("."):
        others.append(f)
    elif f.suffix.lower() in WORKBOOK_SUFFIXES:
        books.append(f)
    else:
        others.append(f)


def _entry(f: Path, root: Path) -> tuple[Path | None, str]:
    """(the path to read, '') for a regular file inside ``root``, (None, why) otherwise. Never opens ``f``."""
    try:
        st = f.lstat()
    except OSError as e:
        return None, f"voce della cartella non leggibile ({e.strerror or e})"
    if stat.S_ISLNK(st.st_mode):
        try:
            target = f.resolve(strict=True)
        except (OSError, RuntimeError):
            return None, "collegamento non valido (destinazione inesistente o collegamento circolare): non letto"
        if not target.is_relative_to(root):
            return None, "collegamento a un file fuori dalla cartella indicata: non seguito, file non letto"
        try:
            st = target.stat()
        except OSError as e:
            return None, f"collegamento non leggibile ({e.strerror or e})"
        if stat.S_ISDIR(st.st_mode):
            return None, ""  # a folder inside the one given: walked there
        f = target
    if not stat.S_ISREG(st.st_mode):
        return None, ("non è un file regolare (pipe, dispositivo o socket): non letto; salvare nella cartella "
                      "il file ricevuto")
    return f, ""


def expand_paths(paths: list[str | Path]) -> tuple[list[Path], list[Path]]:
    """Files and folders (recursed) -> (workbook files, other files), both sorted, no duplicates.

    A folder is walked without following links to folders; a link to a file is followed only when it
    leads inside the folder given. Entries that are not regular files (FIFO, device, socket), dangling
    or looping links and links leading outside are returned among the workbooks as :class:`RefusedPath`:
    they are never opened, and each gets a finding (they appear in the summary's Fonti).
    """
    books: list[Path] = []
    others: list[Path] = []
    seen: set[object] = set()
    for p in paths:
        p = Path(p)
        if not p.is_dir():
            key = p.resolve()
            if key not in seen:
                seen.add(key)
                _classify(p, books, others)
            continue
        root = p.resolve()
        entries = []
        group_books: list[Path] = []
        group_others: list[Path] = []
        for folder, dirs, files in os.walk(p, followlinks=False):
            dirs.sort()
            for name in dirs:
                d = Path(folder) / name
                if d.is_symlink():
                    entries.append(d)
            entries.extend(Path(folder) / name for name in files)
        for f in sorted(entries, key=lambda e: (e.is_symlink(), e)):  # a file before the links to it
            real, why = _entry(f, root)
            if real is None:
                if why:
                    key = f.absolute()
                    if key not in seen:
                        seen.add(key)
                        group_books.append(_refused(f, why))
                continue
            key = real.resolve()
            if key in seen:
                continue
            seen.add(key)
            _classify(f, group_books, group_others)
        books.extend(sorted(group_books))
        others.extend(sorted(group_others))
    return books, others


_WORKER: dict = {}


def _init_worker(plan: Plan, limits, keep_raw: bool, versions: tuple = ()) -> None:
    # sent once per worker, so its layout cache is reused
    _WORKER["plan"], _WORKER["limits"], _WORKER["keep_raw"] = plan, limits, keep_raw
    _WORKER["versions"] = versions
    gc.disable()  # a worker lives for one batch: see piao_xls.core.gcpause


def _read_one(path: Path, plan: Plan, limits, keep_raw: bool, versions: tuple = ()) -> WorkbookResult:
    res = read_on_versions(path, plan, versions, limits) if versions else read_workbook(path, plan, limits)
    return res if keep_raw else res.release()


def _read_in_worker(path: Path) -> WorkbookResult:
    return _read_one(path, _WORKER["plan"], _WORKER["limits"], _WORKER["keep_raw"], _WORKER["versions"])


def read_all(files: list[Path], plan: Plan, jobs: int = 1, limits=None, progress=None,
             keep_raw: bool = False, versions: Sequence[PlanVersion] = ()) -> list[WorkbookResult]:
    """Read ``files`` (in ``jobs`` processes), in order. ``progress(done, total)`` is called after each file.

    Unless ``keep_raw``, each result is released (:meth:`WorkbookResult.release`) as soon as it is
    read: memory holds the values, texts and findings of every file, not their raw cells. ``versions``: the
    plan's recorded versions; a form of a superseded one is read on it and carried over (returns/versions.py).
    """
    versions = tuple(versions)
    refused = [f for f in files if isinstance(f, RefusedPath)]
    if refused:  # never opened: a result with one finding each, in their place in the order
        readable = [f for f in files if not isinstance(f, RefusedPath)]
        done = iter(read_all(readable, plan, jobs, limits, None, keep_raw, versions))
        results: list[WorkbookResult] = []
        for f in files:
            results.append(_refusal(f) if isinstance(f, RefusedPath) else next(done))
            if progress:
                progress(len(results), len(files))
        return results
    total = len(files)
    out: list[WorkbookResult] = []
    if jobs > 1 and total >= max(8, 2 * jobs):  # below that a pool costs more than it saves
        from concurrent.futures import ProcessPoolExecutor  # imported when used: --jobs 1 starts faster

        with ProcessPoolExecutor(max_workers=min(jobs, total), initializer=_init_worker,
                                 initargs=(plan, limits, keep_raw, versions)) as pool:
            for res in pool.map(_read_in_worker, files, chunksize=max(1, min(16, total // (jobs * 8)))):
                out.append(res)
                if progress:
                    progress(len(out), total)
        return settle(out) if versions else out
    for f in files:
        out.append(_read_one(f, plan, limits, keep_raw, versions))
        if progress:
            progress(len(out), total)
    return settle(out) if versions else out


def _refusal(path: RefusedPath) -> WorkbookResult:
    res = WorkbookResult(str(path), status=REJECTED)
    res.findings.append(Finding("WB-OPEN", ERROR, path.refusal, file=str(path)))
    return res
