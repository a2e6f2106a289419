"""A cache of the sheet layouts of a plan's sectors, next to the plan cache (``<plan cache>/layouts``).

Reading a returned form checks it against the full layout of its sector's sheet; for a plan of 200 sectors x
40 objectives, building those layouts is a sixth of ``consolidate``, and every run built them again. A layout
built once is kept, one entry per sector, and loaded (about three times faster than building it) by the next
command that needs it. The folder can be deleted at any time; the plan cache's setting turns it off too
(``PIAO_XLS_CACHE_DIR=off``). Entries are written atomically (a temporary file, then a rename) but not synced to
disk: an entry cut short by a crash fails its check and is written again.

An entry is verified as the plan cache's are (:mod:`piao_xls.plan.cache`), never trusted blindly:

* its key is made of everything the layout is built from: the plan's fingerprint (its whole content), the
  plan's fields the fingerprint leaves out, the sector's code, the tool's version, a digest of the tool's own
  source files and the Python version;
* its header repeats the key and holds the SHA-256 of its body; an entry or folder others can write to is
  not read;
* the body is unpickled by an unpickler that builds only the plan's classes (``piao_xls.core``), the layout's
  own (``Cell``, ``SheetLayout``, ``Validation``) and dates, never any other callable;
* the object must be a sheet layout of that sector whose cells are all layout cells.

A missing or refused entry is built as before and written again.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import pickle
import sys
import time
from pathlib import Path

from ..core import __version__
from ..core.gcpause import paused_gc
from ..core.model import Plan, Sector
from ..plan.cache import cache_dir, clear_entries, code_digest, prune_entries, read_entry, write_entry
from .layout import Cell, SheetLayout, Validation, sector_sheet

MAGIC = b"piao-xls layout cache 1\n"
SUFFIX = ".layout-cache"
MAX_ENTRIES = 4096  # the sectors of a few large plans; the least recently written go first (pruned once
# per command: one command may add a plan's sectors on top)
_CLASSES = {"Cell": Cell, "SheetLayout": SheetLayout, "Validation": Validation}


def layout_dir() -> Path | None:
    """The folder of the layout cache, or None when the cache is off."""
    folder = cache_dir()
    return None if folder is None else folder / "layouts"


def layout_key(plan: Plan, sector: Sector) -> str:
    """The key of a sector's layout: the plan's content and the fields its fingerprint leaves out, the tool."""
    outside = repr((plan.return_deadline, plan.contact, plan.quality))
    parts = [MAGIC.decode().strip(), __version__, code_digest(), sys.version, str(pickle.HIGHEST_PROTOCOL),
             plan.fingerprint, outside, sector.code]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


class _LayoutUnpickler(pickle.Unpickler):
    """Builds the layout's classes, the classes of ``piao_xls.core`` and dates only."""

    DATES = frozenset({"date", "datetime", "time", "timedelta", "timezone"})

    def find_class(self, module: str, name: str):
        if module == "datetime" and name in self.DATES:
            return super().find_class(module, name)
        if module == "piao_xls.forms.layout" and name in _CLASSES:
            return _CLASSES[name]
        if (module == "piao_xls.core" or module.startswith("piao_xls.core.")) and not name.startswith("_"):
            obj = super().find_class(module, name)
            if isinstance(obj, type):
                return obj
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a layout cache")


def _load(folder: Path, path: Path, key: str, code: str) -> SheetLayout | None:
    found = read_entry(folder, path, key, MAGIC)
    if found is None:
        return None
    try:
        with paused_gc():  # tens of thousands of cells
            layout = _LayoutUnpickler(io.BytesIO(found[1])).load()
        if (type(layout) is not SheetLayout or layout.kind != "sector" or layout.sector_code != code
                or type(layout.cells) is not list or not layout.cells or not set(map(type, layout.cells)) <= {Cell}):
            return None
    except Exception:  # a damaged entry of any kind is a miss, never an error
        return None
    return layout


def cached_sector_sheet(plan: Plan, sector: Sector) -> SheetLayout:
    """:func:`piao_xls.forms.layout.sector_sheet`, loaded from the cache when a verified entry is there, else built
    (and kept: any failure to write is silent, the cache is optional)."""
    folder = layout_dir()
    if folder is None:
        return sector_sheet(plan, sector)
    key = layout_key(plan, sector)
    path = folder / f"{key[:40]}{SUFFIX}"
    layout = _load(folder, path, key, sector.code)
    if layout is not None:
        return layout
    layout = sector_sheet(plan, sector)
    _store(folder, path, key, layout)
    return layout


def keep_sector_sheet(plan: Plan, sector: Sector, layout: SheetLayout) -> None:
    """Keep ``layout``, just built by :func:`~piao_xls.forms.layout.sector_sheet` for ``sector`` (``generate``
    does, so that reading the returns finds it), unless an entry is already there (a bad one is replaced when
    it is read)."""
    folder = layout_dir()
    if folder is None:
        return
    key = layout_key(plan, sector)
    path = folder / f"{key[:40]}{SUFFIX}"
    if not path.exists():
        _store(folder, path, key, layout)


def _store(folder: Path, path: Path, key: str, layout: SheetLayout) -> None:
    with contextlib.suppress(Exception):  # any failure is silent: the cache is optional
        with paused_gc():
            body = pickle.dumps(layout, protocol=pickle.HIGHEST_PROTOCOL)
        write_entry(folder, path, key, body, MAGIC, durable=False)
        if folder not in _PRUNED:
            _PRUNED.add(folder)
            _prune(folder)


_PRUNED: set[Path] = set()  # folders pruned by this process: once per command, not once per entry


def _prune(folder: Path) -> None:
    for tmp in folder.glob(f".*{SUFFIX}.*.tmp"):  # left by a writer that was killed: older than a minute
        with contextlib.suppress(OSError):
            if time.time() - tmp.stat().st_mtime > 60:
                tmp.unlink()
    prune_entries(folder, SUFFIX, MAX_ENTRIES)


def clear() -> int:
    """Delete every entry of the layout cache; returns how many."""
    return clear_entries(layout_dir(), SUFFIX)
