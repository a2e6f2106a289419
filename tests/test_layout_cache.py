"""The layout cache (piao_xls/forms/layoutcache.py): a sector's sheet layout kept next to the plan cache, verified
before use.

A kept layout is the built one, cell for cell; a damaged, crafted, foreign or stale entry is never used (the
layout is built again and the entry rewritten); a returned form reads the same with the cache cold, warm or off.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import pickle
from pathlib import Path

import pytest

from piao_xls.forms import layoutcache
from piao_xls.forms.layout import sector_sheet, sector_workbook
from piao_xls.forms.samples import sample_values, synthetic_plan_yaml
from piao_xls.forms.writer import render
from piao_xls.plan import cache
from piao_xls.plan.planfile import parse_plan
from piao_xls.returns import reader


@pytest.fixture
def plan():
    plan, _ = parse_plan(synthetic_plan_yaml(3, 4, 3), "piano.yaml")
    return plan


def _entries(folder: Path) -> list[Path]:
    return sorted((folder / "layouts").glob(f"*{layoutcache.SUFFIX}"))


def _views(folder: Path) -> list[Path]:
    return sorted((folder / "layouts").glob(f"*{layoutcache.VIEW_SUFFIX}"))


def _cells(layout) -> list[tuple]:
    return [dataclasses.astuple(c) for c in layout.cells]


def _same(a, b) -> None:
    assert _cells(a) == _cells(b)
    assert (a.name, a.kind, a.sector_code, a.col_widths, a.freeze, a.header, a.footer, a.last_row) == (
        b.name, b.kind, b.sector_code, b.col_widths, b.freeze, b.header, b.footer, b.last_row)
    assert (a.groups, a.fresh, a.reserve, a.known) == (b.groups, b.fresh, b.reserve, b.known)
    assert a.row_heights == b.row_heights and a.page_breaks() == b.page_breaks()
    assert a.inputs.keys() == b.inputs.keys() and a.label_values == b.label_values


def _no_build(monkeypatch) -> None:
    def fail(*a, **k):
        raise AssertionError("built although the cache holds a valid entry")

    monkeypatch.setattr(layoutcache, "sector_sheet", fail)


def test_a_kept_layout_is_the_built_one_and_is_not_built_again(cache_dir, plan, monkeypatch):
    built = [layoutcache.cached_sector_sheet(plan, s) for s in plan.sectors]
    assert len(_entries(cache_dir)) == len(plan.sectors)
    for entry in _entries(cache_dir):
        assert entry.stat().st_mode & 0o777 == 0o600
    _no_build(monkeypatch)
    for sector, first in zip(plan.sectors, built, strict=True):
        kept = layoutcache.cached_sector_sheet(plan, sector)
        assert kept is not first
        _same(kept, first)
        _same(kept, sector_sheet(plan, sector))


def test_another_plan_or_sector_has_another_key(plan):
    other, _ = parse_plan(synthetic_plan_yaml(3, 4, 3).replace("Fase unica", "Fase sola", 1), "piano.yaml")
    keys = {layoutcache.layout_key(p, s) for p in (plan, other) for s in p.sectors}
    assert len(keys) == 2 * len(plan.sectors)
    later = dataclasses.replace(plan, contact="ufficio@comune.example")  # outside the fingerprint
    assert later.fingerprint == plan.fingerprint
    assert layoutcache.layout_key(later, plan.sectors[0]) != layoutcache.layout_key(plan, plan.sectors[0])


def _rewrite(entry: Path, body: bytes, magic: bytes = layoutcache.MAGIC) -> None:
    blob = entry.read_bytes()
    end = blob.index(b"\n", len(magic))
    header = json.loads(blob[len(magic):end])
    header["sha256"] = hashlib.sha256(body).hexdigest()  # consistent: only the checks after unpickling refuse it
    entry.write_bytes(magic + json.dumps(header).encode() + b"\n" + body)


class _Boom:
    def __reduce__(self):
        return (os.system, ("touch PWNED",))


@pytest.mark.parametrize("damage", ["truncated", "flipped", "crafted", "other sector", "not a layout"])
def test_a_damaged_or_foreign_entry_is_ignored_and_rebuilt(cache_dir, plan, tmp_path, monkeypatch, damage):
    sector = plan.sectors[0]
    good = layoutcache.cached_sector_sheet(plan, sector)
    path = next(p for p in _entries(cache_dir) if p.name.startswith(layoutcache.layout_key(plan, sector)[:40]))
    blob = path.read_bytes()
    if damage == "truncated":
        path.write_bytes(blob[:-100])
    elif damage == "flipped":
        path.write_bytes(blob[:-50] + bytes([blob[-50] ^ 1]) + blob[-49:])
    elif damage == "crafted":
        _rewrite(path, pickle.dumps(_Boom()))
    elif damage == "other sector":
        _rewrite(path, pickle.dumps(sector_sheet(plan, plan.sectors[1])))
    else:
        _rewrite(path, pickle.dumps({"cells": []}))
    monkeypatch.chdir(tmp_path)
    folder = layoutcache.layout_dir()
    assert layoutcache._load(folder, path, layoutcache.layout_key(plan, sector), sector.code) is None
    _same(layoutcache.cached_sector_sheet(plan, sector), good)
    assert not (tmp_path / "PWNED").exists()
    assert layoutcache._load(folder, path, layoutcache.layout_key(plan, sector), sector.code) is not None  # rewritten


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX permissions")
def test_an_entry_others_can_write_to_is_not_read(cache_dir, plan):
    sector = plan.sectors[0]
    layoutcache.cached_sector_sheet(plan, sector)
    [path] = _entries(cache_dir)
    key, folder = layoutcache.layout_key(plan, sector), layoutcache.layout_dir()
    path.chmod(0o666)
    assert layoutcache._load(folder, path, key, sector.code) is None
    path.chmod(0o600)
    assert layoutcache._load(folder, path, key, sector.code) is not None


def test_a_returned_form_reads_the_same_with_the_cache_cold_warm_or_off(cache_dir, plan, tmp_path, monkeypatch):
    sector = plan.sectors[1]
    book = sector_workbook(plan, sector)
    path = tmp_path / book.filename
    values = sample_values(book.sheets[1], seed=3, year=plan.year)
    path.write_bytes(render(book, prefill=values))

    def read():
        reader._LAYOUTS.clear()  # the in-process layouts: each read finds its layout in the cache, or builds it
        res = reader.read_workbook(path, plan)
        sub = res.sectors[sector.code]
        return res.status, res.findings, dict(sub.raw), sub.values, sub.texts

    cold = read()
    assert _entries(cache_dir)
    warm = read()
    monkeypatch.setenv(cache.CACHE_ENV, "off")
    off = read()
    assert cold == warm == off
    assert cold[0] == "accepted" and len(cold[2]) > 10
    monkeypatch.setenv(cache.CACHE_ENV, str(cache_dir))
    assert len(_views(cache_dir)) == 1
    assert layoutcache.clear() == 2  # the layout and its reading view
    assert not _entries(cache_dir) and not _views(cache_dir)


def test_generate_keeps_the_layouts_the_returns_are_read_on(cache_dir, plan, tmp_path, monkeypatch):
    from piao_xls.forms.generate import generate

    made = generate(plan, tmp_path / "out", jobs=1)
    assert len(_entries(cache_dir)) == len(plan.sectors)
    entries = {p: p.stat().st_mtime_ns for p in _entries(cache_dir)}
    generate(plan, tmp_path / "again", jobs=1)  # kept entries are not written again
    assert {p: p.stat().st_mtime_ns for p in _entries(cache_dir)} == entries
    form = next(Path(g.path) for g in made if g.kind == "sector")
    reader._LAYOUTS.clear()
    _no_build(monkeypatch)  # the first read of a return finds its layout: nothing is built
    res = reader.read_workbook(form, plan)
    assert res.findings and all(f.code == "WB-MISSING" for f in res.findings)  # a blank form: read, nothing filled


def _view(plan, sector):
    return layoutcache.cached_sector_view(plan, sector, reader._expected_fields, reader._expected_fields_ok)


def test_a_reading_view_holds_the_inputs_and_what_the_reader_expects_of_the_full_layout(cache_dir, plan,
                                                                                        monkeypatch):
    for sector in plan.sectors:
        full = sector_sheet(plan, sector)
        for view, derived in (_view(plan, sector), _view(plan, sector)):  # built, then loaded
            assert (view.name, view.kind, view.sector_code) == (full.name, full.kind, full.sector_code)
            assert _cells(view) == [dataclasses.astuple(c) for c in full.inputs.values()]
            assert derived == reader._expected_fields(full)
    assert len(_views(cache_dir)) == len(plan.sectors)
    # a warm read of a return neither builds nor loads a full layout
    sector = plan.sectors[1]
    book = sector_workbook(plan, sector)
    form = cache_dir.parent / book.filename
    form.write_bytes(render(book, prefill=sample_values(book.sheets[1], seed=5, year=plan.year)))
    cold = reader.read_workbook(form, plan)
    reader._LAYOUTS.clear()

    def fail(*a, **k):
        raise AssertionError("the full layout was needed")

    monkeypatch.setattr(layoutcache, "cached_sector_sheet", fail)
    warm = reader.read_workbook(form, plan)
    assert warm.status == cold.status == "accepted"
    assert dict(warm.sectors[sector.code].raw) == dict(cold.sectors[sector.code].raw)


@pytest.mark.parametrize("damage", ["flipped", "crafted", "other sector", "a label among the inputs",
                                    "fields of another shape", "not a view"])
def test_a_damaged_or_foreign_reading_view_is_ignored_and_rebuilt(cache_dir, plan, tmp_path, monkeypatch, damage):
    sector, other = plan.sectors[0], plan.sectors[1]
    good = _view(plan, sector)
    [path] = _views(cache_dir)
    blob = path.read_bytes()
    layout, derived = good
    if damage == "flipped":
        path.write_bytes(blob[:-50] + bytes([blob[-50] ^ 1]) + blob[-49:])
    elif damage == "crafted":
        _rewrite(path, pickle.dumps(_Boom()), layoutcache.VIEW_MAGIC)
    elif damage == "other sector":
        _rewrite(path, pickle.dumps(_view(plan, other)), layoutcache.VIEW_MAGIC)
    elif damage == "a label among the inputs":
        label = next(c for c in sector_sheet(plan, sector).cells if c.kind == "label")
        bad = dataclasses.replace(layout, cells=[*layout.cells, label])
        _rewrite(path, pickle.dumps((bad, derived)), layoutcache.VIEW_MAGIC)
    elif damage == "fields of another shape":
        _rewrite(path, pickle.dumps((layout, (*derived[:4], list(derived[4].items()), *derived[5:]))),
                 layoutcache.VIEW_MAGIC)
    else:
        _rewrite(path, pickle.dumps({"cells": []}), layoutcache.VIEW_MAGIC)
    monkeypatch.chdir(tmp_path)
    key, folder = layoutcache.layout_key(plan, sector), layoutcache.layout_dir()
    ok = reader._expected_fields_ok
    assert layoutcache._load_view(folder, path, key, sector.code, ok) is None
    again = _view(plan, sector)
    assert _cells(again[0]) == _cells(layout) and again[1] == derived
    assert not (tmp_path / "PWNED").exists()
    assert layoutcache._load_view(folder, path, key, sector.code, ok) is not None  # rewritten
