"""A cache of parsed plan files, so that a large plan is parsed once, not by every command.

Parsing and validating a plan of 200 sectors x 40 objectives takes about a second; every command that
reads the plan (``consolidate``, ``check``, ``generate``...) did it again. A successful parse is kept in
the user's cache folder (``$XDG_CACHE_HOME/piao-xls/plans``, else ``~/.cache/piao-xls/plans``; the
environment variable ``PIAO_XLS_CACHE_DIR`` names another folder, or ``off`` turns the cache off).

The cache is never trusted blindly:

* an entry is found by a key made of the plan file's bytes (SHA-256), the path as given, the tool's
  version, a digest of the tool's own source files and the Python version: any change of the plan or
  of the code that parses it makes a new key;
* the entry's header repeats its key and holds the SHA-256 of its body: a truncated, corrupt or renamed
  entry is ignored (and rewritten);
* the body is unpickled by an unpickler that builds only the plan's own classes (``piao_xls.core``) and
  dates, never any other callable: a crafted entry cannot run code;
* the unpickled object must be a plan (and its findings) from the same path, and carry the fingerprint
  the header names (the fingerprint is kept with the plan: computing it again would cost a quarter of
  what the cache saves, and the body's SHA-256 already covers every byte it was computed from);
* an entry not owned by the current user, or a cache folder others can write to, is not read.

Entries are written atomically (a temporary file, then a rename); the folder can be deleted at any
time. At most :data:`MAX_ENTRIES` entries are kept (the least recently written go first).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import json
import os
import pickle
import stat
import sys
import tempfile
from pathlib import Path

from ..core import __version__
from ..core.errors import Finding
from ..core.gcpause import paused_gc
from ..core.model import Plan
from ..sheetio.atomic import write_bytes_atomic

CACHE_ENV = "PIAO_XLS_CACHE_DIR"
OFF = {"off", "0", "no", "false", "none"}
MAGIC = b"piao-xls plan cache 1\n"
MAX_ENTRIES = 16
SUFFIX = ".plan-cache"


def cache_dir() -> Path | None:
    """The folder of the plan cache, or None when the cache is off."""
    env = os.environ.get(CACHE_ENV)
    if env is not None:
        return None if env.strip().lower() in OFF or not env.strip() else Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or (
        os.environ.get("LOCALAPPDATA") if sys.platform == "win32" else None) or str(Path.home() / ".cache")
    return Path(base) / "piao-xls" / "plans"


@functools.lru_cache(maxsize=1)
def code_digest() -> str:
    """SHA-256 of the tool's own source files (their names and bytes): a changed parser makes new keys even
    without a new version number."""
    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256(__version__.encode())
    for p in sorted(root.rglob("*.py")):
        h.update(str(p.relative_to(root)).encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def cache_key(data: bytes, file: str) -> str:
    """The key of a plan file's parse: its bytes, the path as given (plans and findings name it), the tool."""
    parts = [MAGIC.decode().strip(), __version__, code_digest(), sys.version, str(pickle.HIGHEST_PROTOCOL), file,
             hashlib.sha256(data).hexdigest()]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def _entry(folder: Path, key: str) -> Path:
    return folder / f"{key[:40]}{SUFFIX}"


class _PlanUnpickler(pickle.Unpickler):
    """Builds the classes of ``piao_xls.core`` and dates only: no other global can be named by an entry."""

    DATES = frozenset({"date", "datetime", "time", "timedelta", "timezone"})

    def find_class(self, module: str, name: str):
        if module == "datetime" and name in self.DATES:
            return super().find_class(module, name)
        if (module == "piao_xls.core" or module.startswith("piao_xls.core.")) and not name.startswith("_"):
            obj = super().find_class(module, name)
            if isinstance(obj, type):
                return obj
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a plan cache")


def _private(path: Path) -> bool:
    """The path belongs to this user and nobody else can write to it (POSIX; elsewhere: the user's profile)."""
    if not hasattr(os, "getuid"):
        return True
    st = path.stat()
    return st.st_uid == os.getuid() and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def load(data: bytes, file: str) -> tuple[Plan, list[Finding]] | None:
    """The cached parse of the plan file ``file`` whose bytes are ``data``, or None (no entry, or an entry
    that does not pass every check: it will be rewritten)."""
    folder = cache_dir()
    if folder is None:
        return None
    key = cache_key(data, file)
    found = read_entry(folder, _entry(folder, key), key)
    if found is None:
        return None
    header, body = found
    try:
        with paused_gc():  # a large plan is hundreds of thousands of objects
            plan, findings = _PlanUnpickler(io.BytesIO(body)).load()
        if (type(plan) is not Plan or type(findings) is not list
                or not all(type(f) is Finding for f in findings) or plan.source != file
                or plan.__dict__.get("fingerprint") != header.get("fingerprint")):
            return None
    except Exception:  # a damaged entry of any kind is a miss, never an error
        return None
    return plan, findings


def store(data: bytes, file: str, plan: Plan, findings: list[Finding]) -> None:
    """Keep the parse of a plan file; any failure (read-only folder, full disk) is silent: a cache is optional."""
    folder = cache_dir()
    if folder is None:
        return
    with contextlib.suppress(Exception):
        fingerprint = plan.fingerprint  # kept in the instance (cached_property): pickled with it
        with paused_gc():
            body = pickle.dumps((plan, list(findings)), protocol=pickle.HIGHEST_PROTOCOL)
        key = cache_key(data, file)
        write_entry(folder, _entry(folder, key), key, body, fingerprint=fingerprint)
        _prune(folder)


def read_entry(folder: Path, path: Path, key: str, magic: bytes = MAGIC) -> tuple[dict, memoryview] | None:
    """The header and body of the cache entry ``path`` in ``folder``, or None: no entry, an entry or folder that
    others could have written, another key, or a body whose SHA-256 is not the one its header records."""
    try:
        if not (_private(folder) and _private(path)):
            return None
        blob = path.read_bytes()
        if not blob.startswith(magic):
            return None
        end = blob.index(b"\n", len(magic))
        header = json.loads(blob[len(magic):end])
        body = memoryview(blob)[end + 1:]
        if type(header) is not dict or header.get("key") != key or header.get("sha256") != hashlib.sha256(
                body).hexdigest():
            return None
    except Exception:  # a damaged entry of any kind is a miss, never an error
        return None
    return header, body


def write_entry(folder: Path, path: Path, key: str, body: bytes, magic: bytes = MAGIC, durable: bool = True,
                **header: str) -> None:
    """Write the cache entry ``path`` (atomically, readable by its owner only) with its key and the SHA-256 of
    ``body`` in its header; nothing is written in a folder others can write to. Raises OSError.

    ``durable=False``: not synced to disk (an entry cut short by a crash fails its SHA-256 check and is written
    again): for the many small entries one command writes."""
    text = json.dumps({"key": key, "sha256": hashlib.sha256(body).hexdigest(), **header})
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not _private(folder):
        return
    data = magic + text.encode() + b"\n" + body
    if durable:
        write_bytes_atomic(path, data)
        os.chmod(path, 0o600)  # readable by its owner only, whatever the umask (an entry others can write is not read)
        return
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)  # 0600
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _prune(folder: Path) -> None:
    prune_entries(folder, SUFFIX, MAX_ENTRIES)


def prune_entries(folder: Path, suffix: str, keep: int) -> None:
    """Keep the ``keep`` entries (files ending in ``suffix``) of ``folder`` written last; delete the others."""
    entries = list(folder.glob(f"*{suffix}"))
    if len(entries) <= keep:
        return
    entries.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    for old in entries[keep:]:
        with contextlib.suppress(OSError):
            old.unlink()


def clear_entries(folder: Path | None, suffix: str) -> int:
    """Delete every entry (file ending in ``suffix``) of a cache folder; returns how many."""
    n = 0
    if folder is not None and folder.is_dir():
        for p in folder.glob(f"*{suffix}"):
            with contextlib.suppress(OSError):
                p.unlink()
                n += 1
    return n


def clear() -> int:
    """Delete every entry of the plan cache; returns how many."""
    return clear_entries(cache_dir(), SUFFIX)
