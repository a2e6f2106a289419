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


# --- inbox entries that are not regular files ---------------------------------------------------

@pytest.fixture
def sf_data(plan):
    from scenario import SF_ANALYSES, SF_VALUES

    from piao_xls.forms.layout import sector_workbook
    from piao_xls.forms.writer import render

    return render(sector_workbook(plan, plan.sector("SF")), prefill={**SF_VALUES, **SF_ANALYSES})


def _sources(c) -> dict[str, dict]:
    return {Path(s["path"]).name: s for s in c.sources}


def test_inbox_entries_that_are_not_regular_files(plan, tmp_path, sf_data):
    import socket

    from piao_xls.results.consolidate import consolidate

    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "PIAO-2025-SF-Finanziario.xlsx"
    secret.write_bytes(sf_data)
    inbox = tmp_path / "inbox"
    (inbox / "sub").mkdir(parents=True)
    os.mkfifo(inbox / "pipe.xlsx")
    (inbox / "dangling.xlsx").symlink_to(tmp_path / "nowhere.xlsx")
    (inbox / "loop.xlsx").symlink_to(inbox / "loop.xlsx")
    (inbox / "out.xlsx").symlink_to(secret)
    (inbox / "outdir").symlink_to(outside, target_is_directory=True)
    (inbox / "null.ods").symlink_to("/dev/null")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(inbox / "sock.xlsx"))
    good = inbox / "sub" / "PIAO-2025-SF-Finanziario.xlsx"
    good.write_bytes(sf_data)
    (inbox / "same.xlsx").symlink_to(good)  # a link inside the folder: the same file, read once
    try:
        c = consolidate([inbox], plan)
    finally:
        sock.close()
    rows = _sources(c)
    for name, words in [("pipe.xlsx", "non è un file regolare"), ("sock.xlsx", "non è un file regolare"),
                        ("dangling.xlsx", "collegamento non valido"), ("loop.xlsx", "collegamento non valido"),
                        ("out.xlsx", "fuori dalla cartella"), ("outdir", "fuori dalla cartella"),
                        ("null.ods", "fuori dalla cartella")]:
        assert rows[name]["status"] == "rejected", name
        assert any(f["code"] == "WB-OPEN" and Path(f["file"]).name == name and words in f["message"]
                   for f in c.findings), (name, [f["message"] for f in c.findings if Path(f["file"]).name == name])
    assert rows["PIAO-2025-SF-Finanziario.xlsx"]["status"] == "accepted"
    assert "same.xlsx" not in rows
    assert [r.path for r in c.results].count(str(good)) == 1
    assert not any(str(outside) in r.path for r in c.results)


def test_feedback_notes_one_per_file_even_when_names_collide(plan, tmp_path, sf_data):
    files = []
    for rel in ("a/X.xlsx", "b/X.xlsx", "b/X.ods", "c/x.xlsx", "d/" + "L" * 250 + ".xlsx", "e/" + "L" * 250 + ".xlsx",
                "f/bad\x01name.xlsx"):
        p = tmp_path / "in" / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(sf_data if rel.endswith("xlsx") else b"not a workbook")
        files.append(str(p))
    out = tmp_path / "notes"
    r = _run(["check", *files, "--feedback", str(out)], ROOT)
    assert "Traceback" not in r.stderr, r.stderr
    notes = sorted(p.name for p in out.iterdir())
    assert len(notes) == len(files), notes
    assert len({n.casefold() for n in notes}) == len(notes)
    assert all(len(n.encode()) <= 255 and "\x01" not in n for n in notes)


def test_console_output_carries_no_control_characters(plan, tmp_path, sf_data):
    import zipmut

    from piao_xls.forms.layout import sector_workbook

    ref = sector_workbook(plan, plan.sector("SF")).sheets[1].inputs["SF-3.1|value"].ref
    p = zipmut.parts(sf_data)
    p["xl/worksheets/sheet2.xml"] = zipmut.set_cell(p["xl/worksheets/sheet2.xml"], ref,
                                                    zipmut.inline_string(ref, "\x1b[2J\x1b]0;pwned\x07 circa\u202e"))
    name = tmp_path / "\x1b[31mPIAO\r\n.xlsx"
    name.write_bytes(zipmut.rezip(p))
    r = _run(["check", str(name)], ROOT)
    assert r.returncode == 1
    for ch in ("\x1b", "\x07", "\r", "\u202e"):
        assert ch not in r.stdout and ch not in r.stderr, repr(r.stdout)
    assert "\\x1b" in r.stdout


def test_a1_references_match_openpyxl():
    """One A1 conversion for the whole package, checked against openpyxl's own."""
    from openpyxl.utils import get_column_letter

    from piao_xls.sheetio.cells import a1, col_name

    for col in (0, 1, 25, 26, 27, 51, 52, 701, 702, 703, 16383):
        assert col_name(col) == get_column_letter(col + 1)
        assert a1(6, col) == f"{get_column_letter(col + 1)}7"
        assert a1(6, col, absolute=True) == f"${get_column_letter(col + 1)}$7"
    with pytest.raises(ValueError):
        col_name(-1)
