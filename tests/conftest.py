"""Shared fixtures. tests/ is put on sys.path so that tests can import helpers (libreoffice, golden)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture(scope="session", autouse=True)
def _plan_cache(tmp_path_factory):
    """The plan cache of the suite (and of the commands it runs) lives in a temporary folder, never the user's."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PIAO_XLS_CACHE_DIR", str(tmp_path_factory.mktemp("plan-cache")))
        yield


@pytest.fixture
def cache_dir(tmp_path, monkeypatch) -> Path:
    """An empty cache folder of the test's own (plan and layout caches), named by the environment variable."""
    from piao_xls.plan import cache

    folder = tmp_path / "cache"
    monkeypatch.setenv(cache.CACHE_ENV, str(folder))
    return folder


@pytest.fixture(scope="session")
def plan():
    from piao_xls.plan.load import load_plan

    return load_plan()


@pytest.fixture(scope="session")
def bundled_dir(tmp_path_factory, plan):
    """The workbooks `generate` writes for the bundled plan (generated once per session)."""
    from piao_xls.forms.generate import generate

    out = tmp_path_factory.mktemp("generated")
    generate(plan, out)
    return out / str(plan.year)


@pytest.fixture(scope="session")
def libreoffice():
    """One headless LibreOffice for the session (skipped locally when missing, fails under CI=true)."""
    from libreoffice import LibreOffice, require_libreoffice

    require_libreoffice()
    with LibreOffice() as lo:
        yield lo


# --- under CI=true, no test may skip: a skipped real-client test would hide a missing install step ---
_SKIPPED: list[tuple[str, str]] = []


def pytest_runtest_logreport(report):
    if report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        _SKIPPED.append((report.nodeid, reason))


def pytest_sessionfinish(session, exitstatus):
    if os.environ.get("CI", "").strip().lower() == "true" and _SKIPPED and exitstatus == 0:
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if os.environ.get("CI", "").strip().lower() == "true" and _SKIPPED:
        terminalreporter.section("skipped under CI=true (each one fails the run)")
        for nodeid, reason in _SKIPPED:
            terminalreporter.line(f"{nodeid}: {reason}")


@pytest.fixture
def tamper_paths_agree(monkeypatch):
    """Every tampering check of the test runs twice: through the whole-sheet comparisons that clear an
    untouched sheet at once, and cell by cell. The findings must be the same (checked after the test:
    the reader turns any exception into a finding)."""
    from tamper_agree import install

    disagreements = install(monkeypatch.setattr)
    yield
    assert not disagreements, disagreements[:3]
