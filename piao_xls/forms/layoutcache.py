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

Next to each layout, its *reading view* (:func:`cached_sector_view`, ``.view-cache``): what reading a returned
form needs of the sheet, its input cells and what the reader derives from the full layout once (the labels,
formulas and looks it expects where), a tenth of the layout's objects. Reading 200 forms of a 200 x 40 x 3 plan
loads the views in 0.19 s where loading the layouts and deriving that again took 0.70 s. A view has the same key
as its layout, is verified the same way (and must hold input cells of that sector only, and fields the reader
accepts), and is built from the layout when missing or refused.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import pickle
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..core import __version__
from ..core.gcpause import paused_gc
from ..core.model import Plan, Sector
from ..plan.cache import cache_dir, clear_entries, code_digest, prune_entries, read_entry, write_entry
from .layout import Cell, SheetLayout, Validation, sector_sheet

MAGIC = b"piao-xls layout cache 1\n"
SUFFIX = ".layout-cache"
VIEW_MAGIC = b"piao-xls reading view cache 1\n"
VIEW_SUFFIX = ".view-cache"
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


def _unpickled(folder: Path, path: Path, key: str, magic: bytes, accept: Callable[[Any], bool]) -> Any:
    """The object of the verified entry ``path`` (built by :class:`_LayoutUnpickler`) when ``accept`` takes it,
    else None: a missing, damaged or refused entry of any kind is a miss, never an error."""
    found = read_entry(folder, path, key, magic)
    if found is None:
        return None
    try:
        with paused_gc():  # tens of thousands of objects
            obj = _LayoutUnpickler(io.BytesIO(found[1])).load()
        return obj if accept(obj) else None
    except Exception:
        return None


def _store(folder: Path, path: Path, key: str, obj: object, magic: bytes = MAGIC) -> None:
    with contextlib.suppress(Exception):  # any failure is silent: the cache is optional
        with paused_gc():
            body = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
        write_entry(folder, path, key, body, magic, durable=False)
        _prune(folder)


def _sector_layout(obj: Any, code: str, inputs_only: bool = False) -> bool:
    """``obj`` is a sheet layout of sector ``code`` made of layout cells (only input cells: a reading view's)."""
    return (type(obj) is SheetLayout and obj.kind == "sector" and obj.sector_code == code
            and type(obj.cells) is list and set(map(type, obj.cells)) <= {Cell}
            and (all(c.kind == "input" for c in obj.cells) if inputs_only else bool(obj.cells)))


def _load(folder: Path, path: Path, key: str, code: str) -> SheetLayout | None:
    return _unpickled(folder, path, key, MAGIC, lambda obj: _sector_layout(obj, code))


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


def cached_sector_view(plan: Plan, sector: Sector, derive: Callable[[SheetLayout], tuple],
                       valid: Callable[[tuple], bool]) -> tuple[SheetLayout, tuple]:
    """What reading a returned form of ``sector`` needs of its sheet: the layout reduced to its inputs (a sheet
    layout of the same name, kind and sector whose ``cells`` are the input cells only) and ``derive(layout)`` of
    the full layout, a tuple of plain values (numbers, strings, tuples, lists, dicts, sets). Loaded from the
    cache when a verified entry is there (and ``valid`` accepts the tuple), else computed from the full layout
    (:func:`cached_sector_sheet`) and kept. ``derive`` must be a pure function of the layout, defined in the
    tool's own source: the entry's key holds the digest of that source, not the function."""
    folder = layout_dir()
    if folder is None:
        return _view(plan, sector, derive)
    key = layout_key(plan, sector)
    path = folder / f"{key[:40]}{VIEW_SUFFIX}"
    view = _load_view(folder, path, key, sector.code, valid)
    if view is not None:
        return view
    view = _view(plan, sector, derive)
    _store(folder, path, key, view, VIEW_MAGIC)
    return view


def _load_view(folder: Path, path: Path, key: str, code: str,
               valid: Callable[[tuple], bool]) -> tuple[SheetLayout, tuple] | None:
    return _unpickled(folder, path, key, VIEW_MAGIC, lambda obj: (
        type(obj) is tuple and len(obj) == 2 and _sector_layout(obj[0], code, inputs_only=True)
        and type(obj[1]) is tuple and valid(obj[1])))


def _view(plan: Plan, sector: Sector, derive: Callable[[SheetLayout], tuple]) -> tuple[SheetLayout, tuple]:
    full = cached_sector_sheet(plan, sector)
    inputs = SheetLayout(full.name, full.kind, full.sector_code, cells=list(full.inputs.values()))
    return inputs, derive(full)


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


_PRUNED: set[Path] = set()  # folders pruned by this process: once per command, not once per entry


def _prune(folder: Path) -> None:
    """Once per command and folder, after its first write: the temporary files a killed writer left (older than
    a minute), and the entries beyond the last :data:`MAX_ENTRIES` written of each kind."""
    if folder in _PRUNED:
        return
    _PRUNED.add(folder)
    for suffix in (SUFFIX, VIEW_SUFFIX):
        for tmp in folder.glob(f".*{suffix}.*.tmp"):
            with contextlib.suppress(OSError):
                if time.time() - tmp.stat().st_mtime > 60:
                    tmp.unlink()
        prune_entries(folder, suffix, MAX_ENTRIES)


def clear() -> int:
    """Delete every entry of the layout cache (the layouts and their reading views); returns how many."""
    return clear_entries(layout_dir(), SUFFIX) + clear_entries(layout_dir(), VIEW_SUFFIX)
