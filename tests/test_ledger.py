"""The ledger's schema 4: typed queries, the round of every row, and the evaluations ``consolida`` publishes."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from piao_xls.cli import cli
from piao_xls.core.evaluation import Evaluation
from piao_xls.forms.layout import sector_workbook
from piao_xls.forms.samples import sample_values
from piao_xls.forms.writer import render
from piao_xls.results.consolidate import consolidate
from piao_xls.workspace.ledger import MIGRATIONS, SCHEMA_VERSION, YEAR_END, Ledger

IDENTITY = {"comune": "Prova", "anno": "2025"}


def _v3_ledger(path: Path) -> None:
    """A ledger as schema 3 wrote it, with one row in each table that schema 4 gives a round."""
    db = sqlite3.connect(path)
    for v in (1, 2, 3):
        for statement in MIGRATIONS[v]:
            db.executescript(statement) if ";" in statement else db.execute(statement)
    db.execute("PRAGMA user_version = 3")
    db.execute("INSERT INTO files (at, sha256, role, path, size, sector) VALUES ('t', 'a', 'ricevuto', 'x', 1, 'SF')")
    db.execute("INSERT INTO messages (at, day, direction, kind, sector, message_id) "
               "VALUES ('t', '2025-01-02', 'out', 'invio', 'SF', '<m@x>')")
    db.execute("INSERT INTO checks (at, file_sha256, path, name, sector, status) "
               "VALUES ('t', 'a', 'x', 'x', 'SF', 'accepted')")
    db.commit()
    db.close()


def test_a_schema_3_ledger_is_migrated_its_rows_are_the_year_end_s(tmp_path):
    path = tmp_path / "registro.sqlite"
    _v3_ledger(path)
    with Ledger(path, identity=IDENTITY) as led:
        assert led.version == SCHEMA_VERSION == 5
        assert [f["round"] for f in led.files()] == [YEAR_END]
        assert [m["message_id"] for m in led.messages("out", "invio")] == ["<m@x>"]
        assert [(c["status"], c["signatures"]) for c in led.checks()] == [("accepted", "{}")]
        assert led.evaluations() == []
    with Ledger(path) as led:  # opening again migrates nothing twice
        assert led.version == 5 and len(led.files()) == 1


def test_rows_of_a_round_are_never_the_year_end_s(tmp_path):
    with Ledger(tmp_path / "l.sqlite", create=True, identity=IDENTITY) as led:
        led.add_message("out", "invio", day="2025-06-30", sector="SF", message_id="<r@x>", round="2025-06-30")
        led.add_message("out", "invio", day="2026-01-02", sector="SF", message_id="<y@x>")
        led.add_file("b" * 64, "ricevuto", tmp_path / "m.xlsx", 10, "SF", round="2025-06-30")
        led.add_check("b" * 64, "m.xlsx", "m.xlsx", "SF", "accepted", [], round="2025-06-30")
        assert [m["message_id"] for m in led.messages("out", "invio")] == ["<y@x>"]
        assert [m["message_id"] for m in led.messages("out", "invio", round="2025-06-30")] == ["<r@x>"]
        assert [m["message_id"] for m in led.messages("out", round=None)] == ["<r@x>", "<y@x>"]
        assert led.files("ricevuto") == [] and led.checks() == []
        assert [f["name"] for f in led.files(("ricevuto", "scartato"), round="2025-06-30")] == [""]
        assert led.has_file("b" * 64, "ricevuto") is not None  # a file's identity is its bytes, in any round
        # a message already collected is recognised whatever its round
        got = led.add_message("in", "ricezione", day="2025-07-01", message_id="<in@x>", raw_sha256="c" * 64,
                              round="2025-06-30")
        assert [m["id"] for m in led.received_before("c" * 64, "")] == [got]
        assert [m["id"] for m in led.received_before("d" * 64, "<in@x>")] == [got]
        assert led.received_before("d" * 64, "") == []  # no Message-ID never matches an empty one
        led.add_evaluation("f" * 64, "e" * 64, round="2025-06-30", as_of="2025-06-30")
        assert [e["as_of"] for e in led.evaluations("2025-06-30")] == ["2025-06-30"] and led.evaluations("") == []
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        sqlite3.connect(tmp_path / "l.sqlite").execute("DELETE FROM evaluations")


def test_a_ledger_newer_than_the_program_is_refused(tmp_path):
    from piao_xls.workspace.ledger import LedgerError

    path = tmp_path / "l.sqlite"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(LedgerError, match="versione più recente"):
        Ledger(path)


def _evaluation(plan, folder: Path) -> Evaluation:
    c = consolidate([folder], plan)
    assert c.evaluation is not None
    return c.evaluation


def test_consolida_records_the_evaluation_it_published(tmp_path, plan):
    ws = tmp_path / "ws"
    r = CliRunner().invoke(cli, ["init", str(ws), "--scadenza", "2026-01-31"])
    assert r.exit_code == 0, r.output
    book = sector_workbook(plan, plan.sector("SF"))
    (ws / "ricevuti" / book.filename).write_bytes(render(book, prefill=sample_values(book.sheets[1], seed=3)))
    r = CliRunner().invoke(cli, ["-C", str(ws), "consolida", "--json-file", str(tmp_path / "r.json")])
    assert r.exit_code == 1, r.output  # the other sectors are missing
    with Ledger(ws / "registro.sqlite") as led:
        (row,) = led.evaluations()
    ev = _evaluation(plan, ws / "ricevuti")
    assert row["round"] == YEAR_END and row["as_of"] == "" and row["plan_fingerprint"] == plan.fingerprint
    assert row["digest"] == ev.digest() and len(row["digest"]) == 64
    assert row["summary"].endswith("PIAO-2025-Riepilogo.xlsx")
    figures = json.loads(row["figures"])
    data = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    # the ledger's figures are the JSON's: the same status and published score for every sector
    assert {s["code"]: [s["status"], s["score"] if s["score"] is None else round(s["score"], 2)]
            for s in data["sectors"]} == {k: [v[0], v[1]] for k, v in figures.items()}
    assert figures["SF"][0].startswith("scored") and figures["SF"][1] is not None
    assert {v[0] for k, v in figures.items() if k != "SF"} == {"not_received"}


def test_the_digest_follows_the_published_figures_only(tmp_path, plan):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    book = sector_workbook(plan, plan.sector("SF"))
    (tmp_path / "a" / book.filename).write_bytes(render(book, prefill=sample_values(book.sheets[1], seed=3)))
    (tmp_path / "b" / book.filename).write_bytes(render(book, prefill=sample_values(book.sheets[1], seed=4)))
    a, a_again, b = _evaluation(plan, tmp_path / "a"), _evaluation(plan, tmp_path / "a"), _evaluation(plan,
                                                                                                       tmp_path / "b")
    assert a.digest() == a_again.digest()
    assert (a.figures() != b.figures()) == (a.digest() != b.digest())
    assert a.figures() != b.figures()  # two different fillings publish different figures
