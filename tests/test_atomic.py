"""Atomic writes: the target is replaced whole; temporary files of killed writers are cleaned up."""

from __future__ import annotations

import subprocess
import sys

from piao_xls.sheetio.atomic import write_bytes_atomic


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_stale_temporaries_of_dead_writers_are_removed(tmp_path):
    target = tmp_path / "riepilogo.xlsx"
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        dead = tmp_path / f".riepilogo.xlsx.{_dead_pid()}.k2j3.tmp"
        running = tmp_path / f".riepilogo.xlsx.{live.pid}.a8d1.tmp"
        other = tmp_path / f".altro.xlsx.{_dead_pid()}.zz11.tmp"  # another target's: not ours to remove
        for p in (dead, running, other):
            p.write_bytes(b"partial")
        write_bytes_atomic(target, b"whole")
        assert target.read_bytes() == b"whole"
        assert not dead.exists()
        assert running.exists() and other.exists()
    finally:
        live.kill()
        live.wait()


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    import os

    target = tmp_path / "out.json"
    write_bytes_atomic(target, b"old")

    def boom(fd):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", boom)
    try:
        write_bytes_atomic(target, b"new")
    except OSError:
        pass
    else:
        raise AssertionError("the write should have failed")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]
