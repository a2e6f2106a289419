"""Every path a returned file takes: permissions of written files, inbox entries that are not files,
feedback note names, control characters on the console."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from piao_xls.sheetio.atomic import write_bytes_atomic

ROOT = Path(__file__).resolve().parents[1]


def _run(args, cwd, umask: int | None = None, **kw):
    return subprocess.run([sys.executable, "-m", "piao_xls.cli", *args], cwd=cwd, capture_output=True, text=True,
                          preexec_fn=(lambda: os.umask(umask)) if umask is not None else None, **kw)


@pytest.mark.parametrize("mask", [0o022, 0o027, 0o002])
def test_written_files_honour_the_umask(tmp_path, mask):
    old = os.umask(mask)
    try:
        write_bytes_atomic(tmp_path / "a.txt", b"x")
    finally:
        os.umask(old)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o666 & ~mask


def test_generate_honours_the_umask(tmp_path):
    r = _run(["generate", "-o", str(tmp_path / "out")], ROOT, umask=0o022)
    assert r.returncode == 0, r.stderr
    files = [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
    assert files
    assert {p.stat().st_mode & 0o777 for p in files} == {0o644}
