"""Drive a REAL headless LibreOffice from the tests, the way a user would.

Architecture
------------
The test process (any Python) talks JSON lines to ONE long-lived *driver* process per
:class:`LibreOffice` instance.  The driver is this very file executed as a script with an
interpreter that can ``import uno`` (``/usr/bin/python3`` on Debian/Ubuntu with
``python3-uno``).  The driver starts ``soffice --headless`` with its own throw-away profile
(forced to the en-US locale, so the decimal separator for typed input is ``.``), connects
over a private UNO pipe and executes the requests.

Clean-up is layered so no ``soffice`` is left behind:

* :meth:`LibreOffice.close` (context-manager exit) asks the driver to terminate soffice,
  then kills the driver's and soffice's process groups;
* an ``atexit`` hook closes every instance still alive;
* if the test process dies hard, the driver sees EOF on stdin and kills soffice itself.

Environment knobs: PIAO_SOFFICE (soffice path), PIAO_UNO_PYTHON (interpreter with uno),
PIAO_LO_HIDDEN=0 (load documents non-hidden; both work headless).

Gotcha (Debian "-nogui" packages): they ship no modules/scalc/ui/*.ui files, so soffice aborts
when Calc builds its formula bar.  The profile therefore hides the formula bar (see
``_REGISTRY_NODES``); do not remove that entry.

Public API::

    lo_available() -> (bool, reason)
    require_libreoffice()            # pytest skip, or pytest.fail when CI == "true"
    with LibreOffice() as lo:
        with lo.open("book.xlsx") as doc:
            doc.type_into("Sheet", "B2", "0.5")
"""

from __future__ import annotations

import atexit
import contextlib
import datetime as _dt
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

__all__ = [
    "Doc",
    "LibreOffice",
    "LibreOfficeError",
    "find_soffice",
    "find_uno_python",
    "lo_available",
    "require_libreoffice",
]

_THIS_FILE = Path(__file__).resolve()
_EPOCH = _dt.date(1899, 12, 30)
START_TIMEOUT = 60.0  # seconds to wait for soffice to accept UNO connections
CALL_TIMEOUT = 120.0  # seconds for a single request before everything is killed


class LibreOfficeError(RuntimeError):
    """Raised when the driver reports an error or dies."""


# --------------------------------------------------------------------------------------
# discovery
# --------------------------------------------------------------------------------------

def find_soffice() -> str | None:
    """Path of the soffice launcher (env PIAO_SOFFICE overrides)."""
    env = os.environ.get("PIAO_SOFFICE")
    if env:
        return env if (os.path.isfile(env) and os.access(env, os.X_OK)) else None
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    for cand in ("/usr/lib/libreoffice/program/soffice", "/opt/libreoffice/program/soffice",
                 "/Applications/LibreOffice.app/Contents/MacOS/soffice"):
        if os.path.isfile(cand) and os.access(cand, os.X_OK):
            return cand
    return None


_uno_python_cache: tuple[str | None, str] | None = None


def _clean_env() -> dict[str, str]:
    env = dict(os.environ)
    for var in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONSAFEPATH"):
        env.pop(var, None)
    return env


def _can_import_uno(python: str) -> tuple[bool, str]:
    try:
        proc = subprocess.run([python, "-c", "import uno, unohelper"], capture_output=True, text=True,
                              timeout=30, env=_clean_env())
    except (OSError, subprocess.SubprocessError) as exc:
        return False, f"{python}: {exc}"
    if proc.returncode == 0:
        return True, ""
    return False, f"{python}: {(proc.stderr.strip().splitlines() or ['import uno failed'])[-1]}"


def find_uno_python() -> tuple[str | None, str]:
    """(interpreter able to ``import uno``, reason-if-none).  Env PIAO_UNO_PYTHON overrides."""
    global _uno_python_cache
    if _uno_python_cache is not None:
        return _uno_python_cache
    candidates = []
    if os.environ.get("PIAO_UNO_PYTHON"):
        candidates.append(os.environ["PIAO_UNO_PYTHON"])
    else:
        candidates += ["/usr/bin/python3", "/usr/lib/libreoffice/program/python",
                       "/opt/libreoffice/program/python", sys.executable]
    reasons = []
    for cand in candidates:
        if not (os.path.isfile(cand) and os.access(cand, os.X_OK)):
            reasons.append(f"{cand}: not found")
            continue
        ok, why = _can_import_uno(cand)
        if ok:
            _uno_python_cache = (cand, "")
            return _uno_python_cache
        reasons.append(why)
    _uno_python_cache = (None, "no interpreter can 'import uno' (install python3-uno): " + "; ".join(reasons))
    return _uno_python_cache


def lo_available() -> tuple[bool, str]:
    """(True, "") when soffice is installed and some interpreter can import uno."""
    if find_soffice() is None:
        return False, "LibreOffice 'soffice' not found on PATH (apt-get install libreoffice-calc)"
    python, why = find_uno_python()
    if python is None:
        return False, why
    return True, ""


def require_libreoffice() -> None:
    """Skip the calling test when LibreOffice is missing -- but FAIL when CI == "true"."""
    import pytest

    ok, reason = lo_available()
    if ok:
        return
    msg = f"LibreOffice not usable: {reason}"
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail(msg + " (CI=true: LibreOffice tests are mandatory)", pytrace=False)
    pytest.skip(msg)


def require_program(program: str, debian_package: str) -> None:
    """Skip the calling test when ``program`` is not on PATH -- but FAIL when CI == "true"."""
    import pytest

    if shutil.which(program):
        return
    msg = f"{program} is not installed (Debian package {debian_package})"
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail(msg + " (CI=true: tests with real clients are mandatory)", pytrace=False)
    pytest.skip(msg)


# --------------------------------------------------------------------------------------
# client side (runs in the test process)
# --------------------------------------------------------------------------------------

_LIVE: set[LibreOffice] = set()
_LIVE_LOCK = threading.Lock()


def _close_all_at_exit() -> None:
    for lo in list(_LIVE):
        with contextlib.suppress(Exception):
            lo.close()


atexit.register(_close_all_at_exit)


def _killpg(pid: int | None, sig: int = signal.SIGKILL) -> None:
    if not pid:
        return
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


class LibreOffice:
    """One headless soffice (+ its driver) for a test session.  Use as a context manager."""

    def __init__(self, locale: str = "en-US", start_timeout: float = START_TIMEOUT,
                 call_timeout: float = CALL_TIMEOUT) -> None:
        self.locale = locale
        self.start_timeout = start_timeout
        self.call_timeout = call_timeout
        self._proc: subprocess.Popen | None = None
        self._soffice_pid: int | None = None
        self._buf = b""
        self._next_id = 0
        self._lock = threading.Lock()
        self._workdir: str | None = None
        self._log_path: str | None = None
        self.version: str | None = None

    # -- lifecycle ---------------------------------------------------------------------
    def start(self) -> LibreOffice:
        if self._proc is not None:
            return self
        soffice = find_soffice()
        python, why = find_uno_python()
        if soffice is None or python is None:
            raise LibreOfficeError(lo_available()[1] or why)
        self._workdir = tempfile.mkdtemp(prefix="piao-lo-")
        self._log_path = os.path.join(self._workdir, "driver.log")
        cfg = {"soffice": soffice, "workdir": self._workdir, "locale": self.locale,
               "start_timeout": self.start_timeout}
        with open(self._log_path, "wb") as log:
            self._proc = subprocess.Popen(
                [python, "-u", str(_THIS_FILE), "--driver", json.dumps(cfg)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                env=_clean_env(), start_new_session=True, close_fds=True,
            )
        with _LIVE_LOCK:
            _LIVE.add(self)
        try:
            hello = self._read_message(self.start_timeout + 30)
            if not hello.get("ok"):
                raise LibreOfficeError(f"LibreOffice failed to start: {hello.get('error')}\n{self._log_tail()}")
            self._soffice_pid = hello["result"]["soffice_pid"]
            self.version = hello["result"].get("version")
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        proc, self._proc = self._proc, None
        with _LIVE_LOCK:
            _LIVE.discard(self)
        if proc is not None:
            try:
                if proc.poll() is None and proc.stdin:
                    proc.stdin.write(b'{"id": 0, "op": "shutdown", "args": []}\n')
                    proc.stdin.flush()
                    proc.stdin.close()
                    proc.wait(timeout=15)
            except Exception:
                pass
            _killpg(proc.pid)
            with contextlib.suppress(Exception):
                proc.wait(timeout=5)
            for stream in (proc.stdout, proc.stdin):
                try:
                    if stream:
                        stream.close()
                except Exception:
                    pass
        if self._soffice_pid:
            _killpg(self._soffice_pid)
            self._soffice_pid = None
        if self._workdir:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    def __enter__(self) -> LibreOffice:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    # -- protocol ----------------------------------------------------------------------
    def _log_tail(self, n: int = 3000) -> str:
        try:
            with open(self._log_path or "", "rb") as fh:
                return fh.read()[-n:].decode("utf-8", "replace")
        except OSError:
            return ""

    def _read_message(self, timeout: float) -> dict:
        assert self._proc is not None and self._proc.stdout is not None
        fd = self._proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buf:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.close()
                raise LibreOfficeError(f"LibreOffice driver timed out after {timeout:.0f}s")
            ready, _, _ = select.select([fd], [], [], min(remaining, 1.0))
            if not ready:
                continue
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                tail = self._log_tail()
                self.close()
                raise LibreOfficeError(f"LibreOffice driver exited unexpectedly\n{tail}")
            self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        return json.loads(line)

    def call(self, op: str, *args: Any, timeout: float | None = None) -> Any:
        with self._lock:
            if self._proc is None:
                raise LibreOfficeError("LibreOffice is not running (use it as a context manager)")
            self._next_id += 1
            msg_id = self._next_id
            data = json.dumps({"id": msg_id, "op": op, "args": list(args)}).encode() + b"\n"
            try:
                assert self._proc.stdin is not None
                self._proc.stdin.write(data)
                self._proc.stdin.flush()
            except (BrokenPipeError, OSError) as exc:
                tail = self._log_tail()
                self.close()
                raise LibreOfficeError(f"LibreOffice driver is gone: {exc}\n{tail}") from exc
            reply = self._read_message(timeout or self.call_timeout)
        if reply.get("id") != msg_id:
            raise LibreOfficeError(f"protocol out of sync: {reply!r}")
        if not reply.get("ok"):
            raise LibreOfficeError(f"{op}{args!r}: {reply.get('error')}")
        return reply.get("result")

    # -- documents ---------------------------------------------------------------------
    def open(self, path: str | os.PathLike) -> Doc:
        """Load a workbook hidden.  A private copy is loaded, so the input file is never touched
        (no lock file either) unless :meth:`Doc.save` is called."""
        src = Path(path).resolve()
        if not src.is_file():
            raise FileNotFoundError(src)
        handle = self.call("open", str(src))
        return Doc(self, handle, src)


def _to_wire(value: Any) -> Any:
    if isinstance(value, _dt.datetime):
        delta = value - _dt.datetime(1899, 12, 30)
        return delta.days + delta.seconds / 86400.0 + delta.microseconds / 86400e6
    if isinstance(value, _dt.date):
        return float((value - _EPOCH).days)
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int):
        return float(value)
    if value is None:
        return ""
    return value


class Doc:
    """A loaded spreadsheet.  Sheets are addressed by name, cells by A1 strings."""

    def __init__(self, lo: LibreOffice, handle: int, path: Path) -> None:
        self._lo = lo
        self._h = handle
        self.path = path
        self._closed = False

    def _call(self, op: str, *args: Any) -> Any:
        if self._closed:
            raise LibreOfficeError("document already closed")
        return self._lo.call(op, self._h, *args)

    def __enter__(self) -> Doc:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._lo.alive:
            with contextlib.suppress(LibreOfficeError):
                self._lo.call("close", self._h)

    # -- inspection --------------------------------------------------------------------
    def sheet_names(self) -> list[str]:
        return self._call("sheet_names")

    def is_protected(self, sheet: str) -> bool:
        return self._call("is_protected", sheet)

    def cell_locked(self, sheet: str, cell: str) -> bool:
        """CellProtection.IsLocked of the cell."""
        return self._call("cell_locked", sheet, cell)

    def cell_hidden(self, sheet: str, cell: str) -> bool:
        """CellProtection.IsFormulaHidden of the cell."""
        return self._call("cell_hidden", sheet, cell)

    def validation(self, sheet: str, cell: str) -> dict:
        """Data validation of a cell: keys type, operator, formula1, formula2, show_input,
        input_title, input_message, show_error, error_style, error_title, error_message,
        ignore_blank, show_list (types/operators are the UNO enum names, e.g. "DECIMAL", "BETWEEN")."""
        return self._call("validation", sheet, cell)

    def used_range(self, sheet: str) -> tuple[int, int]:
        """(last_row_index0, last_col_index0) of the used area."""
        return tuple(self._call("used_range", sheet))  # type: ignore[return-value]

    def get_value(self, sheet: str, cell: str) -> float | str | None:
        """Value after recalculation: float for numbers (dates are serials), str for text, None
        for an empty cell.  Error cells return the error text as LibreOffice displays it:
        "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#N/A", "#NUM!", "#NULL!" for the Excel-compatible
        errors and "Err:5xx" (e.g. "Err:502") for LibreOffice-specific ones."""
        return self._call("get_value", sheet, cell)

    def get_string(self, sheet: str, cell: str) -> str:
        """The formatted text shown in the cell."""
        return self._call("get_string", sheet, cell)

    def get_formula(self, sheet: str, cell: str) -> str:
        """Cell formula in English function names ("=B2*2"); constants come back as their text."""
        return self._call("get_formula", sheet, cell)

    def is_error(self, sheet: str, cell: str) -> bool:
        return self._call("error_code", sheet, cell) != 0

    def invalid_cells(self, sheet: str) -> int:
        """Tools > Detective > Mark Invalid Data on ``sheet`` (after .uno:ClearArrows); number of
        circles it drew.  The circles stay on the sheet's DrawPage until the next call."""
        return self._call("invalid_cells", sheet)

    def is_invalid(self, sheet: str, cell: str) -> bool:
        """Whether Mark Invalid Data circles ``cell`` (marks are cleared afterwards)."""
        return self._call("is_invalid", sheet, cell)

    # -- user actions ------------------------------------------------------------------
    def type_into(self, sheet: str, cell: str, text: str, validate: bool = False) -> bool:
        """Type ``text`` into ``cell`` as a user: dispatcher .uno:GoToCell then .uno:EnterString.

        Honours sheet protection (a locked cell of a protected sheet refuses -> False).  True
        when the entry was accepted (content changed, or already equal to ``text`` in an
        editable cell).

        NOTE: .uno:EnterString does NOT run data-validation checks (in the GUI they live in the
        input line's Enter handler), so by default an invalid value IS accepted.  With
        ``validate=True`` the "Stop" error alert is emulated: if after the entry the cell is
        circled by Mark Invalid Data and its validation shows a STOP alert, the entry is undone
        and False is returned (Warning/Information alerts accept, as clicking OK would).
        ``validate=True`` also clears detective marks on the sheet."""
        return self._call("type_into", sheet, cell, str(text), bool(validate))

    def set_value(self, sheet: str, cell: str, value: Any) -> None:
        """Cell API write (bypasses protection and validation).  float/int -> value,
        "=..." -> formula, other str -> string, date/datetime -> serial (1899-12-30 epoch),
        None -> cleared."""
        self._call("set_value", sheet, cell, _to_wire(value))

    def is_modified(self) -> bool:
        """Whether LibreOffice holds the document as changed (it would ask to save it on closing)."""
        return bool(self._call("is_modified"))

    def recalc(self) -> None:
        self._call("recalc")

    def set_null_date(self, day: _dt.date) -> None:
        """The document's date system (Tools > Options > Calc > Calculate > Date): 1899-12-30 (the default),
        1904-01-01 (saved as date1904 in .xlsx). Dates already typed keep what they show."""
        self._call("set_null_date", day.year, day.month, day.day)

    def unprotect(self, sheet: str, password: str = "") -> None:
        self._call("unprotect", sheet, password)

    def protect(self, sheet: str, password: str = "") -> None:
        self._call("protect", sheet, password)

    def insert_rows(self, sheet: str, row_index0: int, count: int = 1) -> None:
        """sheet.getRows().insertByIndex.  Raises LibreOfficeError ("PermissionError: ... is
        protected") on a protected sheet, as LibreOffice refuses it."""
        self._call("insert_rows", sheet, int(row_index0), int(count))

    def delete_rows(self, sheet: str, row_index0: int, count: int = 1) -> None:
        self._call("delete_rows", sheet, int(row_index0), int(count))

    def rename_sheet(self, old: str, new: str) -> None:
        self._call("rename_sheet", old, new)

    def remove_sheet(self, name: str) -> None:
        self._call("remove_sheet", name)

    def save_as(self, path: str | os.PathLike, fmt: str | None = None) -> Path:
        """Write a NEW file ("xlsx" -> Calc MS Excel 2007 XML, "ods" -> calc8); the format
        defaults to the extension.  Refuses to overwrite the opened input file."""
        dst = Path(path).resolve()
        fmt = (fmt or dst.suffix.lstrip(".")).lower()
        if dst == self.path:
            raise LibreOfficeError("save_as() would overwrite the input file; use save()")
        dst.parent.mkdir(parents=True, exist_ok=True)
        self._call("save_as", str(dst), fmt)
        return dst

    def save(self) -> None:
        """Overwrite the ORIGINAL input file with the current document."""
        self._call("save_as", str(self.path), self.path.suffix.lstrip(".").lower())


# --------------------------------------------------------------------------------------
# driver side (runs under an interpreter with `uno`, e.g. /usr/bin/python3)
# --------------------------------------------------------------------------------------

_FILTERS = {"xlsx": "Calc MS Excel 2007 XML", "ods": "calc8", "xls": "MS Excel 97", "csv": "Text - txt - csv (StarCalc)",
            "pdf": "calc_pdf_Export"}

# (config path, property, value) written into the throw-away profile before soffice starts
_REGISTRY_PROPS = [
    ("/org.openoffice.Setup/L10N", "ooLocale", "en-US"),  # UI language
    ("/org.openoffice.Setup/L10N", "ooSetupSystemLocale", "{locale}"),  # number/date input parsing
    ("/org.openoffice.Setup/L10N", "DecimalSeparatorAsLocale", "true"),
    ("/org.openoffice.Office.Linguistic/General", "DefaultLocale", "{locale}"),
    ("/org.openoffice.Office.Common/Misc", "UseLocking", "false"),
    ("/org.openoffice.Office.Common/Misc", "FirstRun", "false"),
    ("/org.openoffice.Office.Common/Misc", "ShowTipOfTheDay", "false"),
    ("/org.openoffice.Office.Common/Save/Document", "WarnAlienFormat", "false"),
    ("/org.openoffice.Office.Common/Security/Scripting", "MacroSecurityLevel", "3"),
    ("/org.openoffice.Office.Recovery/AutoSave", "Enabled", "false"),
    ("/org.openoffice.Office.Recovery/RecoveryInfo", "Enabled", "false"),
    ("/org.openoffice.Office.Calc/Formula/Syntax", "Grammar", "0"),
    ("/org.openoffice.Office.Calc/Formula/Syntax", "EnglishFunctionName", "true"),
]
# Hide Calc's formula bar (child window FID_INPUTLINE_STATUS = SID_SC_START + 100 = 26100).  The
# Debian/Ubuntu "-nogui" packages ship no modules/scalc/ui/*.ui files, so building the formula
# bar (posbox.ui) throws and soffice aborts as soon as a view is shown or a dispatch touches it.
_REGISTRY_NODES = [
    ("/org.openoffice.Office.Views/Windows", "26100", "Visible", "false"),
]


def _registry_xml(locale: str) -> str:
    items = [
        f'<item oor:path="{path}"><prop oor:name="{name}" oor:op="fuse"><value>{value.format(locale=locale)}</value>'
        "</prop></item>"
        for path, name, value in _REGISTRY_PROPS
    ]
    items += [
        f'<item oor:path="{path}"><node oor:name="{node}" oor:op="replace"><prop oor:name="{name}" oor:op="fuse">'
        f"<value>{value}</value></prop></node></item>"
        for path, node, name, value in _REGISTRY_NODES
    ]
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n' + "\n".join(items) + "\n</oor:items>\n"
    )


class _Driver:  # pragma: no cover - runs in the uno interpreter
    def __init__(self, cfg: dict) -> None:
        self.cfg = cfg
        self.docs: dict[int, Any] = {}
        self.controllers: dict[int, Any] = {}
        self.frames: dict[int, Any] = {}
        self.sheet_cache: dict[int, dict[str, Any]] = {}
        self.active: dict[int, str] = {}
        self.copies: dict[int, str] = {}
        self.next_handle = 0
        self.soffice: subprocess.Popen | None = None

    # -- startup / shutdown ------------------------------------------------------------
    def start(self) -> dict:
        import uno

        workdir = self.cfg["workdir"]
        profile = os.path.join(workdir, "profile")
        os.makedirs(os.path.join(profile, "user"), exist_ok=True)
        loc = self.cfg.get("locale") or "en-US"
        with open(os.path.join(profile, "user", "registrymodifications.xcu"), "w", encoding="utf-8") as fh:
            fh.write(_registry_xml(loc))
        self.copy_dir = os.path.join(workdir, "docs")
        os.makedirs(self.copy_dir, exist_ok=True)
        pipe_name = f"piao_lo_{os.getpid()}_{int(time.time() * 1000)}"
        env = dict(os.environ)
        env.update({"SAL_USE_VCLPLUGIN": "svp", "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"})
        env.pop("DISPLAY", None)
        env.pop("WAYLAND_DISPLAY", None)
        cmd = [self.cfg["soffice"], "--headless", "--invisible", "--nologo", "--norestore", "--nodefault",
               "--nolockcheck", "--nofirststartwizard",
               "-env:UserInstallation=" + uno.systemPathToFileUrl(profile),
               f"--accept=pipe,name={pipe_name};urp;StarOffice.ComponentContext"]
        self.soffice_log = open(os.path.join(workdir, "soffice.log"), "wb")  # noqa: SIM115
        self.soffice = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self.soffice_log,
                                        stderr=self.soffice_log, env=env, start_new_session=True)
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
        deadline = time.monotonic() + float(self.cfg.get("start_timeout", START_TIMEOUT))
        last_err: Exception | None = None
        while True:
            try:
                self.ctx = resolver.resolve(f"uno:pipe,name={pipe_name};urp;StarOffice.ComponentContext")
                smgr = self.ctx.ServiceManager
                self.desktop = smgr.createInstanceWithContext("com.sun.star.frame.Desktop", self.ctx)
                self.dispatcher = smgr.createInstanceWithContext("com.sun.star.frame.DispatchHelper", self.ctx)
                break
            except Exception as exc:
                last_err = exc
            if self.soffice.poll() is not None and self.soffice.returncode != 0:
                raise RuntimeError(f"soffice exited with code {self.soffice.returncode}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"soffice did not accept connections within the timeout: {last_err}")
            time.sleep(0.2)
        version = None
        try:
            prov = smgr.createInstanceWithContext("com.sun.star.configuration.ConfigurationProvider", self.ctx)
            acc = prov.createInstanceWithArguments(
                "com.sun.star.configuration.ConfigurationAccess",
                (self._pv("nodepath", "/org.openoffice.Setup/Product"),))
            version = acc.getByName("ooSetupVersionAboutBox")
        except Exception:
            pass
        return {"soffice_pid": self.soffice.pid, "version": version}

    def log_tail(self, n: int = 2000) -> str:
        try:
            with open(os.path.join(self.cfg["workdir"], "soffice.log"), "rb") as fh:
                return fh.read()[-n:].decode("utf-8", "replace")
        except OSError:
            return ""

    def shutdown(self) -> None:
        for h in list(self.docs):
            with contextlib.suppress(Exception):
                self.op_close(h)
        with contextlib.suppress(Exception):
            self.desktop.terminate()
        if self.soffice is not None:
            with contextlib.suppress(Exception):
                self.soffice.wait(timeout=10)
            _killpg(self.soffice.pid)
            with contextlib.suppress(Exception):
                self.soffice.wait(timeout=5)

    # -- helpers -----------------------------------------------------------------------
    @staticmethod
    def _pv(name: str, value: Any) -> Any:
        from com.sun.star.beans import PropertyValue

        pv = PropertyValue()
        pv.Name = name
        pv.Value = value
        return pv

    def _doc(self, h: int) -> Any:
        try:
            return self.docs[h]
        except KeyError:
            raise KeyError(f"unknown document handle {h}") from None

    def _controller(self, h: int) -> Any:
        ctrl = self.controllers.get(h)
        if ctrl is None:
            ctrl = self.controllers[h] = self._doc(h).getCurrentController()
            self.frames[h] = ctrl.getFrame()
        return ctrl

    def _sheet(self, h: int, name: str) -> Any:
        cache = self.sheet_cache.setdefault(h, {})
        sh = cache.get(name)
        if sh is None:
            sheets = self._doc(h).getSheets()
            if not sheets.hasByName(name):
                raise KeyError(f"no sheet named {name!r}; sheets: {list(sheets.getElementNames())}")
            sh = cache[name] = sheets.getByName(name)
        return sh

    def _forget_sheets(self, h: int) -> None:
        self.sheet_cache.pop(h, None)
        self.active.pop(h, None)

    def _cell(self, h: int, sheet: str, addr: str) -> Any:
        return self._sheet(h, sheet).getCellRangeByName(addr)

    def _dispatch(self, h: int, cmd: str, **props: Any) -> Any:
        self._controller(h)
        args = tuple(self._pv(k, v) for k, v in props.items())
        return self.dispatcher.executeDispatch(self.frames[h], cmd, "", 0, args)

    def _activate(self, h: int, sheet: str) -> Any:
        sh = self._sheet(h, sheet)
        if self.active.get(h) != sheet:
            self._controller(h).setActiveSheet(sh)
            self.active[h] = sheet
        return sh

    @staticmethod
    def _snapshot(cell: Any) -> tuple:
        return (cell.getFormula(), cell.getString(), cell.getValue(), cell.getType().value)

    # -- operations --------------------------------------------------------------------
    def op_open(self, path: str) -> int:
        import uno

        self.next_handle += 1
        h = self.next_handle
        src = Path(path)
        copy = os.path.join(self.copy_dir, f"{h}", src.name)
        os.makedirs(os.path.dirname(copy), exist_ok=True)
        shutil.copyfile(src, copy)
        hidden = os.environ.get("PIAO_LO_HIDDEN", "1") != "0"  # both work headless; hidden is the default
        props = (self._pv("Hidden", hidden), self._pv("MacroExecutionMode", 0),
                 self._pv("UpdateDocMode", 0), self._pv("Silent", True))
        doc = self.desktop.loadComponentFromURL(uno.systemPathToFileUrl(copy), "_blank", 0, props)
        if doc is None or not hasattr(doc, "getSheets"):
            raise RuntimeError(f"could not load {path} as a spreadsheet")
        self.docs[h] = doc
        self.copies[h] = copy
        return h

    def op_close(self, h: int) -> None:
        doc = self.docs.pop(h, None)
        copy = self.copies.pop(h, None)
        self.controllers.pop(h, None)
        self.frames.pop(h, None)
        self._forget_sheets(h)
        if doc is not None:
            with contextlib.suppress(Exception):
                doc.setModified(False)
            try:
                doc.close(True)
            except Exception:
                doc.dispose()
        if copy:
            shutil.rmtree(os.path.dirname(copy), ignore_errors=True)

    def op_sheet_names(self, h: int) -> list:
        return list(self._doc(h).getSheets().getElementNames())

    def op_is_protected(self, h: int, sheet: str) -> bool:
        return bool(self._sheet(h, sheet).isProtected())

    def op_cell_locked(self, h: int, sheet: str, addr: str) -> bool:
        return bool(self._cell(h, sheet, addr).CellProtection.IsLocked)

    def op_cell_hidden(self, h: int, sheet: str, addr: str) -> bool:
        return bool(self._cell(h, sheet, addr).CellProtection.IsFormulaHidden)

    def op_validation(self, h: int, sheet: str, addr: str) -> dict:
        v = self._cell(h, sheet, addr).Validation
        return {
            "type": v.Type.value,
            "operator": v.getOperator().value,
            "formula1": v.getFormula1(),
            "formula2": v.getFormula2(),
            "show_input": bool(v.ShowInputMessage),
            "input_title": v.InputTitle,
            "input_message": v.InputMessage,
            "show_error": bool(v.ShowErrorMessage),
            "error_style": v.ErrorAlertStyle.value,
            "error_title": v.ErrorTitle,
            "error_message": v.ErrorMessage,
            "ignore_blank": bool(v.IgnoreBlankCells),
            "show_list": int(v.ShowList),
        }

    def op_used_range(self, h: int, sheet: str) -> list:
        cur = self._sheet(h, sheet).createCursor()
        cur.gotoEndOfUsedArea(False)
        a = cur.getRangeAddress()
        return [a.EndRow, a.EndColumn]

    def op_get_value(self, h: int, sheet: str, addr: str) -> Any:
        cell = self._cell(h, sheet, addr)
        kind = cell.getType().value  # EMPTY / VALUE / TEXT / FORMULA
        if kind == "EMPTY":
            return None
        if kind == "VALUE":
            return cell.getValue()
        if kind == "TEXT":
            return cell.getString()
        if cell.getError() != 0:
            return cell.getString()
        res = cell.FormulaResultType2  # com.sun.star.sheet.FormulaResult: VALUE=1 STRING=2 ERROR=4
        if res == 2:
            return cell.getString()
        if res == 4:
            return cell.getString()
        return cell.getValue()

    def op_get_string(self, h: int, sheet: str, addr: str) -> str:
        return self._cell(h, sheet, addr).getString()

    def op_get_formula(self, h: int, sheet: str, addr: str) -> str:
        return self._cell(h, sheet, addr).getFormula()

    def op_error_code(self, h: int, sheet: str, addr: str) -> int:
        return int(self._cell(h, sheet, addr).getError())

    def op_set_value(self, h: int, sheet: str, addr: str, value: Any) -> None:
        cell = self._cell(h, sheet, addr)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            cell.setValue(float(value))
        elif isinstance(value, str) and value.startswith("=") and len(value) > 1:
            cell.setFormula(value)
        elif value == "" or value is None:
            cell.setString("")
        else:
            cell.setString(str(value))

    def op_is_modified(self, h: int) -> bool:
        return bool(self._doc(h).isModified())

    def op_recalc(self, h: int) -> None:
        self._doc(h).calculateAll()

    def op_set_null_date(self, h: int, year: int, month: int, day: int) -> None:
        import uno

        d = uno.createUnoStruct("com.sun.star.util.Date")
        d.Year, d.Month, d.Day = year, month, day
        self._doc(h).NullDate = d

    def op_type_into(self, h: int, sheet: str, addr: str, text: str, validate: bool = False) -> bool:
        self._activate(h, sheet)
        cell = self._cell(h, sheet, addr)
        before = self._snapshot(cell)
        self._dispatch(h, ".uno:GoToCell", ToPoint=addr)
        self._dispatch(h, ".uno:EnterString", StringName=text)
        after = self._snapshot(cell)
        if after == before:
            # refused (protection) -- or the cell already held exactly this text
            return text in (after[0], after[1]) and not self._refuses_input(h, sheet, cell)
        if validate and self._stop_invalid(h, sheet, cell):
            # emulate the "Stop" error alert: the entry is rejected and the old content restored
            self._dispatch(h, ".uno:Undo")
            if self._snapshot(cell) != before:
                self._restore(cell, before)
            return False
        return True

    def _refuses_input(self, h: int, sheet: str, cell: Any) -> bool:
        return bool(self._sheet(h, sheet).isProtected() and cell.CellProtection.IsLocked)

    @staticmethod
    def _restore(cell: Any, snap: tuple) -> None:
        formula, string, value, kind = snap
        if kind == "EMPTY":
            cell.setString("")
        elif kind == "VALUE":
            cell.setValue(value)
        elif kind == "TEXT":
            cell.setString(string)
        else:
            cell.setFormula(formula)

    def _stop_invalid(self, h: int, sheet: str, cell: Any) -> bool:
        """True when ``cell`` violates a validation whose error alert is a shown "Stop"."""
        v = cell.Validation
        if v.Type.value == "ANY" or not v.ShowErrorMessage or v.ErrorAlertStyle.value != "STOP":
            return False
        return self._cell_marked_invalid(h, sheet, cell)

    def _circles(self, h: int, sheet: str) -> list:
        """Run Mark Invalid Data; return the (x, y, w, h) of the circles it drew, then clear them."""
        page = self._activate(h, sheet).getDrawPage()
        self._dispatch(h, ".uno:ClearArrows")
        before = page.getCount()
        self._dispatch(h, ".uno:ShowInvalid")
        rects = []
        for i in range(before, page.getCount()):
            shape = page.getByIndex(i)
            pos, size = shape.Position, shape.Size
            rects.append((pos.X, pos.Y, size.Width, size.Height))
        return rects

    def _cell_marked_invalid(self, h: int, sheet: str, cell: Any) -> bool:
        area = self._sheet(h, sheet).createCursorByRange(cell)
        area.collapseToMergedArea()  # a merged input is circled as a whole
        pos, size = area.Position, area.Size
        try:
            for x, y, w, hh in self._circles(h, sheet):
                cx, cy = x + w / 2, y + hh / 2
                if pos.X <= cx <= pos.X + size.Width and pos.Y <= cy <= pos.Y + size.Height:
                    return True
            return False
        finally:
            self._dispatch(h, ".uno:ClearArrows")

    def op_invalid_cells(self, h: int, sheet: str) -> int:
        return len(self._circles(h, sheet))

    def op_is_invalid(self, h: int, sheet: str, addr: str) -> bool:
        return self._cell_marked_invalid(h, sheet, self._cell(h, sheet, addr))

    def op_unprotect(self, h: int, sheet: str, password: str) -> None:
        self._sheet(h, sheet).unprotect(password)

    def op_protect(self, h: int, sheet: str, password: str) -> None:
        self._sheet(h, sheet).protect(password)

    def _rows_op(self, h: int, sheet: str, what: str, row: int, count: int) -> None:
        sh = self._sheet(h, sheet)
        try:
            getattr(sh.getRows(), what)(row, count)
        except Exception as exc:
            if sh.isProtected():
                raise PermissionError(f"sheet {sheet!r} is protected: LibreOffice refused {what} ({exc})") from None
            raise

    def op_insert_rows(self, h: int, sheet: str, row: int, count: int) -> None:
        self._rows_op(h, sheet, "insertByIndex", row, count)

    def op_delete_rows(self, h: int, sheet: str, row: int, count: int) -> None:
        self._rows_op(h, sheet, "removeByIndex", row, count)

    def op_rename_sheet(self, h: int, old: str, new: str) -> None:
        self._sheet(h, old).setName(new)
        self._forget_sheets(h)

    def op_remove_sheet(self, h: int, name: str) -> None:
        self._sheet(h, name)
        self._forget_sheets(h)
        self._doc(h).getSheets().removeByName(name)

    def op_save_as(self, h: int, path: str, fmt: str) -> None:
        import uno

        if fmt not in _FILTERS:
            raise ValueError(f"unknown format {fmt!r}; known: {sorted(_FILTERS)}")
        props = (self._pv("FilterName", _FILTERS[fmt]), self._pv("Overwrite", True))
        self._doc(h).storeToURL(uno.systemPathToFileUrl(path), props)

    def op_ping(self) -> str:
        return "pong"


def _driver_main(cfg_json: str) -> int:  # pragma: no cover - runs in the uno interpreter
    # Keep the protocol channel private: anything printed by UNO goes to stderr.
    proto = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    def send(obj: dict) -> None:
        proto.write(json.dumps(obj) + "\n")
        proto.flush()

    drv = _Driver(json.loads(cfg_json))

    def on_signal(signum: int, _frame: Any) -> None:
        drv.shutdown()
        shutil.rmtree(drv.cfg["workdir"], ignore_errors=True)
        os._exit(1)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        send({"id": 0, "ok": True, "result": drv.start()})
    except Exception as exc:
        send({"id": 0, "ok": False, "error": f"{type(exc).__name__}: {exc}"})
        drv.shutdown()
        return 1
    try:
        for line in sys.stdin:
            if not line.strip():
                continue
            req = json.loads(line)
            op = req.get("op")
            if op == "shutdown":
                break
            try:
                fn = getattr(drv, "op_" + op)
                send({"id": req.get("id"), "ok": True, "result": fn(*req.get("args", []))})
            except Exception as exc:
                err = f"{type(exc).__name__}: {exc}"
                if drv.soffice is not None and drv.soffice.poll() is not None:
                    err += f"\nsoffice died (exit code {drv.soffice.returncode}); its log ends with:\n{drv.log_tail()}"
                send({"id": req.get("id"), "ok": False, "error": err})
    finally:
        drv.shutdown()
        shutil.rmtree(drv.cfg["workdir"], ignore_errors=True)  # the client may be gone already
    return 0


if __name__ == "__main__":  # pragma: no cover
    if len(sys.argv) >= 3 and sys.argv[1] == "--driver":
        sys.exit(_driver_main(sys.argv[2]))
    print(lo_available())
