"""Shared fixtures. tests/ is put on sys.path so that tests can import helpers (libreoffice, golden)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))


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
