"""The plan cache (piao_xls/plan/cache.py): a parse kept in the user's cache folder, verified before use.

A stale, damaged or crafted entry is never used (it is parsed again and rewritten); deleting the cache
changes nothing; the outputs of a consolidation are the same bytes with and without it.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
from pathlib import Path

import pytest
from summary_case import build_inbox

from piao_xls.core.model import canonical_json
from piao_xls.forms.samples import synthetic_plan_yaml
from piao_xls.plan import cache
from piao_xls.plan import load as loadmod
from piao_xls.plan.load import check_plan
from piao_xls.plan.planfile import bundled_plan_path


@pytest.fixture
def plan_file(tmp_path) -> Path:
    path = tmp_path / "piano.yaml"
    text = synthetic_plan_yaml(3, 4, 3)
    # a warning finding, kept with the plan: the step's date is before the plan's year
    text = text.replace("steps: [{text: Fase unica, tempi: Dicembre}]", "steps: [{text: Fase unica, tempi: mar-24}]", 1)
    path.write_text(text, encoding="utf-8")
    return path


def _entries(folder: Path) -> list[Path]:
    return sorted(folder.glob(f"*{cache.SUFFIX}"))


def _no_parse(monkeypatch) -> None:
    def fail(*a, **k):
        raise AssertionError("parsed although the cache holds a valid entry")

    monkeypatch.setattr(loadmod, "parse_plan", fail)


def _same(a, b) -> None:
    (p1, f1), (p2, f2) = a, b
    assert p1 == p2 and canonical_json(p1) == canonical_json(p2)
    assert p1.fingerprint == p2.fingerprint and p1.source == p2.source
    assert p1.return_deadline == p2.return_deadline and p1.contact == p2.contact
    assert f1 == f2


def test_a_second_read_comes_from_the_cache_and_equals_the_parse(cache_dir, plan_file, monkeypatch):
    first = check_plan(plan_file)
    assert first[0] is not None and any(f.code == "PLAN-YEAR" for f in first[1])
    assert len(_entries(cache_dir)) == 1
    _no_parse(monkeypatch)
    second = check_plan(plan_file)
    _same(first, second)
    assert second[0].fingerprint == hashlib.sha256(canonical_json(second[0]).encode()).hexdigest()


def test_the_bundled_plan_round_trips_through_the_cache(cache_dir, monkeypatch):
    first = check_plan(bundled_plan_path())
    _no_parse(monkeypatch)
    _same(first, check_plan(bundled_plan_path()))


def test_a_changed_plan_file_is_parsed_again(cache_dir, plan_file):
    p1, _ = check_plan(plan_file)
    plan_file.write_text(plan_file.read_text(encoding="utf-8").replace("Settore 1", "Settore Uno"), encoding="utf-8")
    p2, _ = check_plan(plan_file)
    assert p2.sectors[0].name == "Settore Uno" and p1.fingerprint != p2.fingerprint
    assert len(_entries(cache_dir)) == 2


def test_the_same_plan_at_another_path_names_that_path(cache_dir, plan_file, tmp_path):
    check_plan(plan_file)
    other = tmp_path / "altro" / "piano.yaml"
    other.parent.mkdir()
    shutil.copy(plan_file, other)
    plan, findings = check_plan(other)
    assert plan.source == str(other) and all(f.file == str(other) for f in findings)


def test_a_new_version_of_the_code_does_not_use_old_entries(cache_dir, plan_file, monkeypatch):
    check_plan(plan_file)
    monkeypatch.setattr(cache, "code_digest", lambda: "another version of the parser")
    assert cache.load(plan_file.read_bytes(), str(plan_file)) is None
    check_plan(plan_file)
    assert len(_entries(cache_dir)) == 2


@pytest.mark.parametrize("damage", ["flip a body byte", "truncate", "garbage", "empty", "flip a header byte",
                                    "another entry's content"])
def test_a_damaged_entry_is_ignored_and_rebuilt(cache_dir, plan_file, tmp_path, damage, monkeypatch):
    good = check_plan(plan_file)
    [entry] = _entries(cache_dir)
    blob = entry.read_bytes()
    if damage == "flip a body byte":
        bad = blob[:-100] + bytes([blob[-100] ^ 0x01]) + blob[-99:]
    elif damage == "truncate":
        bad = blob[: len(blob) // 2]
    elif damage == "garbage":
        bad = os.urandom(len(blob))
    elif damage == "empty":
        bad = b""
    elif damage == "flip a header byte":
        i = blob.index(b'"sha256": "') + 12
        bad = blob[:i] + (b"0" if blob[i:i + 1] != b"0" else b"1") + blob[i + 1:]
    else:  # a valid entry of another plan, renamed to this plan's entry
        other = tmp_path / "altro.yaml"
        other.write_text(synthetic_plan_yaml(2, 2, 1), encoding="utf-8")
        check_plan(other)
        [bad_path] = [p for p in _entries(cache_dir) if p != entry]
        bad = bad_path.read_bytes()
    entry.write_bytes(bad)
    assert cache.load(plan_file.read_bytes(), str(plan_file)) is None
    _same(good, check_plan(plan_file))  # parsed again...
    assert entry.read_bytes() == blob  # ...and the entry rewritten
    _no_parse(monkeypatch)
    _same(good, check_plan(plan_file))


class _Boom:
    def __reduce__(self):
        return (os.system, ("touch PWNED",))


def test_a_crafted_entry_with_a_valid_hash_cannot_run_code_and_is_rebuilt(cache_dir, plan_file, tmp_path,
                                                                           monkeypatch):
    good = check_plan(plan_file)
    [entry] = _entries(cache_dir)
    blob = entry.read_bytes()
    end = blob.index(b"\n", len(cache.MAGIC))
    header = json.loads(blob[len(cache.MAGIC):end])
    body = pickle.dumps((_Boom(), []))
    header["sha256"] = hashlib.sha256(body).hexdigest()  # consistent: only the unpickler can refuse it
    entry.write_bytes(cache.MAGIC + json.dumps(header).encode() + b"\n" + body)
    monkeypatch.chdir(tmp_path)
    assert cache.load(plan_file.read_bytes(), str(plan_file)) is None
    assert not (tmp_path / "PWNED").exists()
    _same(good, check_plan(plan_file))


def test_a_consistent_entry_of_the_wrong_type_is_refused(cache_dir, plan_file):
    check_plan(plan_file)
    [entry] = _entries(cache_dir)
    blob = entry.read_bytes()
    end = blob.index(b"\n", len(cache.MAGIC))
    header = json.loads(blob[len(cache.MAGIC):end])
    for payload in [("not a plan", []), [1, 2], {"plan": None}]:
        body = pickle.dumps(payload)
        header["sha256"] = hashlib.sha256(body).hexdigest()
        entry.write_bytes(cache.MAGIC + json.dumps(header).encode() + b"\n" + body)
        assert cache.load(plan_file.read_bytes(), str(plan_file)) is None


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX permissions")
def test_an_entry_others_can_write_to_is_not_read(cache_dir, plan_file):
    check_plan(plan_file)
    [entry] = _entries(cache_dir)
    entry.chmod(0o666)
    assert cache.load(plan_file.read_bytes(), str(plan_file)) is None
    entry.chmod(0o644)
    assert cache.load(plan_file.read_bytes(), str(plan_file)) is not None
    cache_dir.chmod(0o777)
    assert cache.load(plan_file.read_bytes(), str(plan_file)) is None
    cache_dir.chmod(0o700)


def test_the_cache_can_be_turned_off_and_deleted_at_any_time(tmp_path, plan_file, monkeypatch):
    monkeypatch.setenv(cache.CACHE_ENV, "off")
    assert cache.cache_dir() is None
    off = check_plan(plan_file)
    folder = tmp_path / "cache"
    monkeypatch.setenv(cache.CACHE_ENV, str(folder))
    cold = check_plan(plan_file)
    warm = check_plan(plan_file)
    assert cache.clear() == 1 and not _entries(folder)
    again = check_plan(plan_file)
    shutil.rmtree(folder)
    gone = check_plan(plan_file)
    for other in (cold, warm, again, gone):
        _same(off, other)


def test_a_plan_with_errors_is_not_cached(cache_dir, tmp_path):
    bad = tmp_path / "rotto.yaml"
    bad.write_text("comune: Prova\nyear: 2025\nsectors: []\n", encoding="utf-8")
    plan, findings = check_plan(bad)
    assert plan is None and findings
    assert not _entries(cache_dir) if cache_dir.exists() else True
    assert check_plan(bad) == (plan, findings)


def test_at_most_max_entries_are_kept(cache_dir, tmp_path, monkeypatch):
    monkeypatch.setattr(cache, "MAX_ENTRIES", 3)
    for i in range(5):
        p = tmp_path / f"p{i}.yaml"
        p.write_text(synthetic_plan_yaml(1, 1, 1).replace("Settore 1", f"Settore {i}"), encoding="utf-8")
        check_plan(p)
    assert len(_entries(cache_dir)) == 3


def test_consolidate_writes_the_same_bytes_without_a_cache_with_a_new_one_and_with_a_warm_one(plan, tmp_path,
                                                                                              monkeypatch):
    from click.testing import CliRunner

    from piao_xls.cli import cli

    inbox = build_inbox(plan, tmp_path / "inbox")
    plan_path = tmp_path / "piano.yaml"
    shutil.copy(bundled_plan_path(), plan_path)
    outputs = []
    for mode in ("off", "new", "warm", "deleted"):
        folder = tmp_path / "cache"
        if mode == "deleted":
            shutil.rmtree(folder)
        monkeypatch.setenv(cache.CACHE_ENV, "off" if mode == "off" else str(folder))
        out = tmp_path / mode
        r = CliRunner().invoke(cli, ["consolidate", str(inbox), "--plan", str(plan_path), "-o", str(out / "s.xlsx"),
                                     "--json-file", str(out / "r.json"), "--csv", str(out / "csv"), "--jobs", "1"])
        assert r.exit_code in (0, 1), r.output
        assert (mode == "off") == (not folder.exists() or not _entries(folder))
        outputs.append({p.relative_to(out): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()})
    assert len(outputs[0]) >= 4
    assert all(o == outputs[0] for o in outputs[1:])


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX permissions")
def test_a_group_writable_umask_still_gives_private_entries(cache_dir, plan_file, monkeypatch):
    old = os.umask(0o002)  # a common umask (user private groups): files 0664 by default
    try:
        first = check_plan(plan_file)
    finally:
        os.umask(old)
    [entry] = _entries(cache_dir)
    assert entry.stat().st_mode & 0o077 == 0
    _no_parse(monkeypatch)
    _same(first, check_plan(plan_file))
